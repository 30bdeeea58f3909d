"""Visits and runs on SQLite and PostgreSQL: planning, due times, reschedule, cancel, readiness, sign-off,
permissions and scoping, evidence, alerts for a returning customer."""

import datetime as dt
import json

import pytest
from sqlmodel import Session, func, select

from console.checklists import compute_due
from console.i18n import set_language
from console.permissions import PermissionDenied
from console.reception import (
    ReceptionError,
    ScopeDenied,
    SignOffBlocked,
    Staffing,
    add_evidence,
    cancel_visit,
    complete_followup,
    evidence_file,
    get_run,
    item_evidence,
    mark_item,
    plan_visit,
    reopen_run,
    reschedule_visit,
    sign_off,
    submit_run,
    visit_detail,
    work_items,
)
from models import AuditLog, FollowUp, Run, RunItem, TemplateItem, Visit
from tests.unit.factories_reception import NOW, items, make_world, plan, template_id

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def english():
    set_language("en")


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def world(s):
    return make_world(s)


def _by_seq(s, run_id, code, seq):
    return next(i for i in items(s, run_id) if i.template_code == code and i.seq == seq)


def _finish_required(s, world, run_id, *, skip=()):
    """Mark every required open item done (adding evidence where needed) as the supervisor."""
    for it in items(s, run_id):
        if it.required and it.state == "open" and (it.template_code, it.seq) not in skip:
            if it.evidence_required:
                add_evidence(session=s, actor=world.supervisor, item_id=it.id, note="checked", now=NOW)
            mark_item(session=s, actor=world.supervisor, item_id=it.id, state="done", now=NOW)
    s.commit()


# ---------------------------------------------------------------- planning


def test_plan_copies_the_level_items_with_due_times(s, world):
    result = plan(s, world, level=1, templates=("T1", "T4"))
    visit = s.get(Visit, result.visit_id)
    rows = items(s, result.run_id)
    t1 = [r for r in rows if r.template_code == "T1"]
    assert sorted(r.seq for r in t1) == [n for n in range(1, 27) if n != 24]  # #24 is level 3 only
    assert len([r for r in rows if r.template_code == "T4"]) == 19
    for r in rows:
        assert r.state == "open"
        assert r.due_at == compute_due(r.timing, r.anchor, r.offset_minutes, visit.arrival_at, visit.departure_at)
    run = s.get(Run, result.run_id)
    assert run.status == "scheduled" and run.templates == "T1@1,T4@1"
    assert visit.status == "planned" and (visit.on_duty, visit.shift_groups, visit.post_count) == (15, 3, 5)
    assert visit.dietary == "No pork"  # preferences come from the customer's profile when not given
    row = s.exec(select(AuditLog).where(AuditLog.action == "reception.visit.plan")).one()
    assert json.loads(row.counts) == {"items": len(rows)}


def test_level_three_gets_the_cordon_item_and_not_the_reinforcements(s, world):
    result = plan(s, world, level=3)
    seqs = {r.seq for r in items(s, result.run_id)}
    assert 24 in seqs and not seqs & {12, 13, 22, 23, 26}
    visit = s.get(Visit, result.visit_id)
    assert visit.on_duty is None and visit.post_count == 0


def _count(s, model):
    return s.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"departure_at": NOW + dt.timedelta(days=1)}, "Departure must be after arrival"),
        ({"arrival_at": NOW - dt.timedelta(hours=6, minutes=1)}, "at most 6 hours in the past"),
        ({"customer_id": None, "guest_name": "  "}, "Choose a customer or enter a guest's name"),
        ({"staffing": Staffing(10, 14, 3, 4, 5)}, "3 × 5 = 15, not 14"),
        ({"location": ""}, "Location is required"),
        ({"party_size": 0}, "party size"),
        ({"host_id": None}, "Choose a host"),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_written(s, world, change, message):
    before = (_count(s, Visit), _count(s, Run), _count(s, RunItem), _count(s, AuditLog))
    args = dict(
        level=1,
        arrival_at=NOW + dt.timedelta(days=2),
        departure_at=NOW + dt.timedelta(days=3),
        location="Lotus Building",
        host_id=world.host.staff_id,
        customer_id=world.customer_id,
        template_ids=[template_id(s, "T1")],
        now=NOW,
    )
    args.update(change)
    with pytest.raises(ReceptionError, match=message):
        plan_visit(session=s, actor=world.supervisor, **args)
    s.rollback()
    assert (_count(s, Visit), _count(s, Run), _count(s, RunItem), _count(s, AuditLog)) == before


def test_arrival_a_few_hours_past_is_allowed_and_a_named_guest_needs_no_customer(s, world):
    result = plan(s, world, customer_id=None, guest_name="Vice Mayor Li", arrival=NOW - dt.timedelta(hours=5))
    assert s.get(Visit, result.visit_id).guest_name == "Vice Mayor Li"


def test_only_supervisors_plan(s, world):
    for actor in (world.host, world.security, world.agent):
        with pytest.raises(PermissionDenied):
            plan_visit(
                session=s,
                actor=actor,
                level=3,
                arrival_at=NOW + dt.timedelta(days=1),
                departure_at=NOW + dt.timedelta(days=2),
                location="x",
                host_id=world.host.staff_id,
                guest_name="x",
            )


# ---------------------------------------------------------------- reschedule and cancel


def test_reschedule_recomputes_open_items_only(s, world):
    result = plan(s, world)
    done = _by_seq(s, result.run_id, "T1", 1)
    mark_item(session=s, actor=world.supervisor, item_id=done.id, state="done", now=NOW)
    s.commit()
    old_due = {r.id: r.due_at for r in items(s, result.run_id)}
    visit = s.get(Visit, result.visit_id)
    arrival, departure = visit.arrival_at + dt.timedelta(hours=5), visit.departure_at + dt.timedelta(hours=9)
    changed = reschedule_visit(
        session=s, actor=world.supervisor, visit_id=visit.id, arrival_at=arrival, departure_at=departure, now=NOW
    )
    s.commit()
    assert changed == len(old_due) - 1
    for r in items(s, result.run_id):
        if r.id == done.id:
            assert r.due_at == old_due[r.id]
        elif r.timing == "offset" and r.anchor == "departure":
            assert r.due_at == old_due[r.id] + dt.timedelta(hours=9)
        else:
            assert r.due_at == old_due[r.id] + dt.timedelta(hours=5)
    row = s.exec(select(AuditLog).where(AuditLog.action == "reception.visit.reschedule")).one()
    assert json.loads(row.counts) == {"items_recomputed": changed}


def test_reschedule_refuses_departure_before_arrival(s, world):
    result = plan(s, world)
    visit = s.get(Visit, result.visit_id)
    with pytest.raises(ReceptionError, match="Departure must be after arrival"):
        reschedule_visit(
            session=s,
            actor=world.supervisor,
            visit_id=visit.id,
            arrival_at=visit.arrival_at,
            departure_at=visit.arrival_at,
            now=NOW,
        )


def test_cancel_closes_the_visit_and_its_runs(s, world):
    result = plan(s, world)
    n = cancel_visit(session=s, actor=world.supervisor, visit_id=result.visit_id, reason="Trip postponed")
    s.commit()
    assert n == 1
    assert s.get(Visit, result.visit_id).status == "cancelled"
    assert s.get(Run, result.run_id).status == "cancelled"
    item = items(s, result.run_id)[0]
    with pytest.raises(ReceptionError, match="cancelled and read-only"):
        mark_item(session=s, actor=world.supervisor, item_id=item.id, state="done", now=NOW)
    with pytest.raises(ReceptionError, match="Only a planned or in-progress visit"):
        cancel_visit(session=s, actor=world.supervisor, visit_id=result.visit_id, reason="again")


# ---------------------------------------------------------------- readiness


def test_readiness_counts_done_and_na_and_failed_only_after_the_follow_up(s, world):
    result = plan(s, world, level=3, templates=("T3",))
    rows = [r for r in items(s, result.run_id) if r.required]
    required = len(rows)
    view = get_run(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    assert (view.required, view.ready, view.readiness) == (required, 0, 0)
    a, b, c = rows[1], rows[2], rows[4]
    mark_item(session=s, actor=world.supervisor, item_id=a.id, state="done", now=NOW)
    mark_item(session=s, actor=world.supervisor, item_id=b.id, state="na", reason="No kitchen this time", now=NOW)
    mark_item(
        session=s,
        actor=world.supervisor,
        item_id=c.id,
        state="failed",
        followup_owner_id=world.fnb.staff_id,
        followup_due_at=NOW + dt.timedelta(hours=3),
        followup_action="Re-brief the overtime staff",
        now=NOW,
    )
    s.commit()
    view = get_run(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    assert view.ready == 2 and view.readiness == pytest.approx(2 / required)
    assert view.status == "in_progress" and s.get(Visit, result.visit_id).status == "in_progress"
    failed = next(r for r in view.items if r.item_id == c.id)
    assert failed.followup.owner == "Name RC-FNB" and failed.followup.status == "open"
    assert failed.done_by == "Name SV" and failed.done_at == NOW
    complete_followup(session=s, actor=world.fnb, followup_id=failed.followup.followup_id, now=NOW)
    s.commit()
    view = get_run(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    assert view.ready == 3


def test_na_needs_a_reason_and_failed_needs_a_follow_up(s, world):
    result = plan(s, world)
    item = items(s, result.run_id)[0]
    with pytest.raises(ReceptionError, match="Reason for N/A is required"):
        mark_item(session=s, actor=world.supervisor, item_id=item.id, state="na", reason=" ", now=NOW)
    with pytest.raises(ReceptionError, match="follow-up owner"):
        mark_item(session=s, actor=world.supervisor, item_id=item.id, state="failed", now=NOW)
    with pytest.raises(ReceptionError, match="must not be in the past"):
        mark_item(
            session=s,
            actor=world.supervisor,
            item_id=item.id,
            state="failed",
            followup_owner_id=world.security.staff_id,
            followup_due_at=NOW - dt.timedelta(hours=1),
            followup_action="x",
            now=NOW,
        )
    s.rollback()
    assert s.get(RunItem, item.id).state == "open"
    assert _count(s, FollowUp) == 0


def test_done_can_be_undone_but_failed_stays_failed(s, world):
    result = plan(s, world)
    item = items(s, result.run_id)[0]
    mark_item(session=s, actor=world.supervisor, item_id=item.id, state="done", now=NOW)
    mark_item(session=s, actor=world.supervisor, item_id=item.id, state="open", now=NOW)
    assert s.get(RunItem, item.id).done_by is None
    mark_item(
        session=s,
        actor=world.supervisor,
        item_id=item.id,
        state="failed",
        followup_owner_id=world.security.staff_id,
        followup_due_at=NOW + dt.timedelta(hours=1),
        followup_action="Redo",
        now=NOW,
    )
    with pytest.raises(ReceptionError, match="stays failed"):
        mark_item(session=s, actor=world.supervisor, item_id=item.id, state="done", now=NOW)


# ---------------------------------------------------------------- sign-off


def test_sign_off_is_blocked_by_open_required_items_and_critical_open_follow_ups(s, world):
    result = plan(s, world, level=3, templates=("T3",))
    critical = _by_seq(s, result.run_id, "T3", 1)  # critical
    plain = _by_seq(s, result.run_id, "T3", 2)  # not critical
    for it in (critical, plain):
        mark_item(
            session=s,
            actor=world.supervisor,
            item_id=it.id,
            state="failed",
            followup_owner_id=world.fnb.staff_id,
            followup_due_at=NOW + dt.timedelta(hours=2),
            followup_action="Fix it",
            now=NOW,
        )
    open_required = [r for r in items(s, result.run_id) if r.required and r.state == "open"]
    with pytest.raises(SignOffBlocked) as refused:
        sign_off(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    blockers = refused.value.blockers
    assert {b.item_id for b in blockers if b.why == "open"} == {r.id for r in open_required}
    assert [b.item_id for b in blockers if b.why == "followup_open"] == [critical.id]
    assert str(refused.value) == f"Sign-off refused: {len(blockers)} items block it."
    _finish_required(s, world, result.run_id)
    with pytest.raises(SignOffBlocked) as refused:
        sign_off(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    assert [b.item_id for b in refused.value.blockers] == [critical.id]
    fu = s.exec(select(FollowUp).where(FollowUp.run_item_id == critical.id)).one()
    complete_followup(session=s, actor=world.supervisor, followup_id=fu.id, now=NOW)
    sign_off(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    s.commit()
    run = s.get(Run, result.run_id)
    assert run.status == "signed_off" and run.signed_off_by == world.supervisor.user_id
    assert s.get(Visit, result.visit_id).status == "completed"


def test_signed_off_is_read_only_and_an_admin_reopens_with_a_reason(s, world):
    result = plan(s, world, level=3, templates=("T3",))
    _finish_required(s, world, result.run_id)
    submit_run(session=s, actor=world.host, run_id=result.run_id, now=NOW)
    assert s.get(Run, result.run_id).status == "submitted"
    sign_off(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    s.commit()
    optional = next(r for r in items(s, result.run_id) if r.state == "open")
    with pytest.raises(ReceptionError, match="signed off and read-only"):
        mark_item(session=s, actor=world.supervisor, item_id=optional.id, state="done", now=NOW)
    with pytest.raises(ReceptionError, match="signed off and read-only"):
        add_evidence(session=s, actor=world.supervisor, item_id=optional.id, note="late", now=NOW)
    with pytest.raises(PermissionDenied):
        reopen_run(session=s, actor=world.supervisor, run_id=result.run_id, reason="typo")
    with pytest.raises(ReceptionError, match="Reason is required"):
        reopen_run(session=s, actor=world.admin, run_id=result.run_id, reason="")
    reopen_run(session=s, actor=world.admin, run_id=result.run_id, reason="Guest stays one more night")
    s.commit()
    run = s.get(Run, result.run_id)
    assert run.status == "in_progress" and run.reopened_reason == "Guest stays one more night"
    assert s.get(Visit, result.visit_id).status == "in_progress"
    row = s.exec(select(AuditLog).where(AuditLog.action == "reception.run.reopen")).one()
    assert json.loads(row.before)["status"] == "signed_off" and "one more night" in row.after
    mark_item(session=s, actor=world.supervisor, item_id=optional.id, state="done", now=NOW)


def test_sign_off_is_for_supervisors_and_submit_for_the_host(s, world):
    result = plan(s, world, level=3, templates=("T3",))
    _finish_required(s, world, result.run_id)
    for actor in (world.host, world.security):
        with pytest.raises(PermissionDenied):
            sign_off(session=s, actor=actor, run_id=result.run_id, now=NOW)
    with pytest.raises(ScopeDenied):
        submit_run(session=s, actor=world.other_cm, run_id=result.run_id, now=NOW)


# ---------------------------------------------------------------- who may work what, who sees what


def test_who_may_work_an_item(s, world):
    result = plan(s, world, level=1, templates=("T1", "T3"))
    security_item = _by_seq(s, result.run_id, "T1", 9)
    fnb_item = _by_seq(s, result.run_id, "T3", 2)
    mark_item(session=s, actor=world.security, item_id=security_item.id, state="done", now=NOW)
    with pytest.raises(ScopeDenied, match="Food & Beverage|fnb|department"):
        mark_item(session=s, actor=world.security, item_id=fnb_item.id, state="done", now=NOW)
    mark_item(session=s, actor=world.host, item_id=fnb_item.id, state="done", now=NOW)  # the host works any item
    other = _by_seq(s, result.run_id, "T3", 3)
    with pytest.raises(ScopeDenied):  # the portfolio manager of another customer is not the host
        mark_item(session=s, actor=world.other_cm, item_id=other.id, state="done", now=NOW)
    with pytest.raises(PermissionDenied):
        mark_item(session=s, actor=world.agent, item_id=other.id, state="done", now=NOW)
    assert s.get(RunItem, security_item.id).done_by == world.security.user_id


def test_reception_staff_see_only_their_department_items(s, world):
    result = plan(s, world, level=1, templates=("T1", "T3"))
    view = get_run(session=s, actor=world.fnb, run_id=result.run_id, now=NOW)
    assert view.items and {r.department for r in view.items} == {"fnb"}
    assert view.department_only == "fnb"
    assert all(r.can_work for r in view.items)
    full = get_run(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    assert len(full.items) > len(view.items) and full.department_only is None
    work = work_items(session=s, actor=world.fnb, now=NOW)
    timed = [r for r in view.items if r.due_at is not None]
    assert [r.item_id for r in work.rows] == [r.item_id for r in sorted(timed, key=lambda r: (r.due_at, r.item_id))]
    assert not work.has_more and work.followups == []
    assert work_items(session=s, actor=world.fnb, now=NOW, limit=3).has_more
    guest_run = plan(s, world, level=3, templates=("T1",), customer_id=None, guest_name="Mr Zhao")
    with pytest.raises(ScopeDenied):  # T1 level 3 has no F&B items: the visit is not theirs to see
        get_run(session=s, actor=world.fnb, run_id=guest_run.run_id, now=NOW)


def test_client_manager_sees_hosted_visits_and_own_portfolio_visits_only(s, world):
    hosted = plan(s, world, customer_id=world.stranger_customer_id)
    portfolio = plan(s, world, customer_id=world.own_customer_id, host=world.host)
    elsewhere = plan(s, world, customer_id=world.stranger_customer_id, host=world.supervisor)
    get_run(session=s, actor=world.host, run_id=hosted.run_id, now=NOW)
    visit_detail(session=s, actor=world.other_cm, visit_id=portfolio.visit_id)
    with pytest.raises(ScopeDenied):
        visit_detail(session=s, actor=world.other_cm, visit_id=hosted.visit_id)
    with pytest.raises(ScopeDenied):
        get_run(session=s, actor=world.host, run_id=elsewhere.run_id, now=NOW)
    with pytest.raises(PermissionDenied):
        get_run(session=s, actor=world.agent, run_id=hosted.run_id, now=NOW)


def test_overdue_and_mine_filters(s, world):
    result = plan(s, world, level=1, templates=("T1",), arrival=NOW + dt.timedelta(hours=3))
    later = NOW + dt.timedelta(hours=1)
    overdue = work_items(session=s, actor=world.security, now=later, overdue_only=True).rows
    assert overdue and all(r.due_at < later and r.overdue for r in overdue)
    assert work_items(session=s, actor=world.security, now=later, mine=True).rows == []
    first = overdue[0]
    mark_item(
        session=s,
        actor=world.supervisor,
        item_id=first.item_id,
        state="failed",
        followup_owner_id=world.security.staff_id,
        followup_due_at=later,
        followup_action="Bring the radios",
        now=NOW,
    )
    s.commit()
    mine = work_items(session=s, actor=world.security, now=later, mine=True)
    assert mine.rows == [] and [r.item_id for r in mine.followups] == [first.item_id]
    late = work_items(session=s, actor=world.security, now=later + dt.timedelta(minutes=1), overdue_only=True)
    assert first.item_id in [r.item_id for r in late.followups] and late.followups[0].overdue
    view = get_run(session=s, actor=world.host, run_id=result.run_id, now=later, mine=True)
    assert len(view.items) == len(items(s, result.run_id))  # the host's items are all of the run


# ---------------------------------------------------------------- evidence


def test_evidence_required_before_done_and_shown_back(s, world):
    result = plan(s, world, level=1)
    needs = _by_seq(s, result.run_id, "T1", 14)  # security inspection, evidence required
    assert needs.evidence_required
    with pytest.raises(ReceptionError, match="needs evidence"):
        mark_item(session=s, actor=world.security, item_id=needs.id, state="done", now=NOW)
    with pytest.raises(ReceptionError, match="image .* or a PDF"):
        add_evidence(session=s, actor=world.security, item_id=needs.id, filename="x.png", data=b"GIF8nope", now=NOW)
    with pytest.raises(ReceptionError, match="at most 10 MB"):
        add_evidence(
            session=s, actor=world.security, item_id=needs.id, filename="x.png", data=PNG + b"0" * (10 << 20), now=NOW
        )
    eid = add_evidence(session=s, actor=world.security, item_id=needs.id, filename="/tmp/gate.png", data=PNG, now=NOW)
    mark_item(session=s, actor=world.security, item_id=needs.id, state="done", now=NOW)
    s.commit()
    listed = item_evidence(session=s, actor=world.host, item_id=needs.id)
    assert [(e.kind, e.filename, e.mime, e.size_bytes, e.by) for e in listed] == [
        ("file", "gate.png", "image/png", len(PNG), "Name RC-SEC")
    ]
    assert evidence_file(session=s, actor=world.supervisor, evidence_id=eid) == ("gate.png", "image/png", PNG)
    with pytest.raises(ScopeDenied):
        item_evidence(session=s, actor=world.fnb, item_id=needs.id)
    with pytest.raises(ScopeDenied):
        add_evidence(session=s, actor=world.fnb, item_id=needs.id, note="not mine", now=NOW)
    with pytest.raises(ReceptionError, match="either a note or a file"):
        add_evidence(session=s, actor=world.security, item_id=needs.id, note="x", data=PNG, now=NOW)


# ---------------------------------------------------------------- returning customer


def test_a_returning_customer_starts_with_alerts_from_the_last_visit(s, world):
    first = plan(s, world, level=3, templates=("T3",), arrival=NOW + dt.timedelta(hours=2))
    assert s.get(Run, first.run_id).alerts is None
    a = _by_seq(s, first.run_id, "T3", 7)
    b = _by_seq(s, first.run_id, "T3", 8)
    mark_item(session=s, actor=world.fnb, item_id=a.id, state="na", reason="Lunch only", now=NOW)
    mark_item(
        session=s,
        actor=world.fnb,
        item_id=b.id,
        state="failed",
        followup_owner_id=world.fnb.staff_id,
        followup_due_at=NOW + dt.timedelta(hours=1),
        followup_action="Check the air-conditioning before service",
        now=NOW,
    )
    s.commit()
    second = plan(s, world, level=3, templates=("T3", "T4"), arrival=NOW + dt.timedelta(days=20))
    alerts = get_run(session=s, actor=world.supervisor, run_id=second.run_id, now=NOW).alerts
    assert alerts["previous_visit_id"] == first.visit_id
    assert [(i["seq"], i["state"], i["na_reason"], i["followup"]) for i in alerts["items"]] == [
        (7, "na", "Lunch only", None),
        (8, "failed", None, "Check the air-conditioning before service"),
    ]
    assert alerts["preferences"] == {"dietary": "No pork", "hometown": "Wuhan"}
    other = plan(s, world, customer_id=world.own_customer_id, arrival=NOW + dt.timedelta(days=21))
    assert s.get(Run, other.run_id).alerts is None


def test_template_items_are_copied_not_referenced(s, world):
    result = plan(s, world, level=3, templates=("T3",))
    tpl_item = s.exec(
        select(TemplateItem).where(TemplateItem.template_id == template_id(s, "T3"), TemplateItem.seq == 1)
    ).one()
    tpl_item.text_en = "Changed afterwards"
    s.add(tpl_item)
    s.commit()
    assert _by_seq(s, result.run_id, "T3", 1).text_en != "Changed afterwards"
