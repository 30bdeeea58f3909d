"""The six coverage gaps (issue 7 item 5): each rule on a hand-built fixture, both databases; the stored snapshot
equals the live rules; counts, lists, scope and exports."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session, func, select

from console.customers import gaps
from console.customers.gaps import GAP_KINDS, context, customer_gaps, gap_counts, gap_export, gap_list, live_rows
from console.permissions import PermissionDenied
from models import AuditLog, Customer
from models.customers import CustomerGap
from tests.unit.factories_customers import (
    NOW,
    TODAY,
    assign,
    at,
    call,
    contact,
    customer,
    evaluate,
    make_world,
    run_with_items,
    tier_change,
    visit,
)


def live(s: Session, kind: str) -> set[int]:
    return {cid for cid, _ in live_rows(s, kind, context(s, TODAY, NOW))}


# ------------------------------------------------------------------------------------------------ one rule each


def test_manager_on_leave_without_cover(engine):
    with Session(engine) as s:
        w = make_world(s)
        w.senior.leave_start, w.senior.leave_end = TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=5)
        w.junior.leave_start, w.junior.leave_end = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=1)
        w.enterprise.exit_date = TODAY - dt.timedelta(days=3)
        s.add_all([w.senior, w.junior, w.enterprise])
        uncovered = customer(s, 2, mgr=w.senior)
        covered = customer(s, 2, mgr=w.senior)
        assign(s, covered, w.junior, at(2), reason="cover")  # moved to a cover manager: no gap
        back_from_leave = customer(s, 1, mgr=w.junior)
        left_behind = customer(s, 3, mgr=w.enterprise)
        member = customer(s, 0, mgr=w.senior)  # Members are not VIPs
        s.commit()
        found = live(s, "leave_uncovered")
        assert found == {uncovered.id, left_behind.id}
        assert covered.id not in found and back_from_leave.id not in found and member.id not in found
        hits = {h.kind: h for h in customer_gaps(s, context(s, TODAY, NOW), uncovered.id)}
        assert hits["leave_uncovered"].since == TODAY - dt.timedelta(days=2)
        assert "on leave" in hits["leave_uncovered"].detail


def test_manager_level_no_longer_allows_the_tier(engine):
    with Session(engine) as s:
        w = make_world(s)
        junior_platinum = customer(s, 3, mgr=w.junior)
        junior_gold = customer(s, 2, mgr=w.junior)
        senior_supreme = customer(s, 5, mgr=w.senior, supreme=True)
        senior_diamond = customer(s, 4, mgr=w.senior)
        enterprise_supreme = customer(s, 5, mgr=w.enterprise, supreme=True)
        upgraded = customer(s, 2, mgr=w.junior)
        tier_change(s, upgraded, 3, at(5), kind="upgrade")  # an upgrade breaks the level after the fact
        s.commit()
        assert live(s, "level_mismatch") == {junior_platinum.id, senior_supreme.id, upgraded.id}
        hit = next(h for h in customer_gaps(s, context(s, TODAY, NOW), upgraded.id) if h.kind == "level_mismatch")
        assert hit.since == TODAY - dt.timedelta(days=5)
        assert "junior" in hit.detail and "Platinum" in hit.detail
        assert {junior_gold.id, senior_diamond.id, enterprise_supreme.id}.isdisjoint(live(s, "level_mismatch"))


def test_no_maintenance_contact_within_the_frequency(engine):
    """Silver every 90 days, Diamond every 30: a connected maintenance call or a logged visit by anyone counts."""
    with Session(engine) as s:
        w = make_world(s)
        in_time = customer(s, 1, mgr=w.senior)
        call(s, w.agent, in_time, at(90))  # due by today: still in time
        late = customer(s, 1, mgr=w.senior)
        call(s, w.senior, late, at(91))
        unanswered = customer(s, 4, mgr=w.senior)
        call(s, w.senior, unanswered, at(3), outcome="no_answer")
        ob_only = customer(s, 4, mgr=w.senior)
        call(s, w.ob_agent, ob_only, at(3))  # an OB call is not a maintenance contact
        visited = customer(s, 4, mgr=w.senior)
        contact(s, visited, w.senior, "visit", at(10), outcome="completed")
        sms_only = customer(s, 4, mgr=w.senior)
        contact(s, sms_only, w.senior, "sms", at(1), outcome="delivered")
        new_vip = customer(s, 4, vip_days_ago=10)  # unassigned, a VIP for 10 days only
        old_unassigned = customer(s, 2, vip_days_ago=200)
        s.commit()
        found = live(s, "contact_overdue")
        assert found == {late.id, unanswered.id, ob_only.id, sms_only.id, old_unassigned.id}
        ctx = context(s, TODAY, NOW)
        hit = next(h for h in customer_gaps(s, ctx, late.id) if h.kind == "contact_overdue")
        assert hit.since == TODAY  # contact 91 days ago, due by yesterday: a gap since today
        assert "every 90 days" in hit.detail
        never = next(h for h in customer_gaps(s, ctx, old_unassigned.id) if h.kind == "contact_overdue")
        assert never.since == TODAY - dt.timedelta(days=200 - 61)
        assert in_time.id not in found and visited.id not in found and new_vip.id not in found


def test_diamond_or_supreme_without_an_evaluated_call_in_180_days(engine):
    with Session(engine) as s:
        w = make_world(s)
        evaluated = customer(s, 4, mgr=w.senior)
        evaluate(s, call(s, w.senior, evaluated, at(100)), w.lead)
        stale = customer(s, 4, mgr=w.senior, vip_days_ago=600)
        evaluate(s, call(s, w.senior, stale, at(200)), w.lead)
        voided = customer(s, 5, mgr=w.enterprise, supreme=True)
        evaluate(s, call(s, w.enterprise, voided, at(20)), w.lead, void=True)
        drafted = customer(s, 4, mgr=w.senior)
        evaluate(s, call(s, w.senior, drafted, at(20)), w.lead, status="draft")
        calibration_only = customer(s, 4, mgr=w.senior)
        evaluate(s, call(s, w.senior, calibration_only, at(20)), w.lead, kind="calibration")
        gold = customer(s, 2, mgr=w.senior)
        s.commit()
        found = live(s, "no_evaluation")
        assert found == {stale.id, voided.id, drafted.id, calibration_only.id}
        hit = next(h for h in customer_gaps(s, context(s, TODAY, NOW), stale.id) if h.kind == "no_evaluation")
        assert hit.since == TODAY - dt.timedelta(days=200) + dt.timedelta(days=181)
        assert evaluated.id not in found and gold.id not in found


def test_failed_critical_reception_item_not_followed_up_before_the_next_visit(engine):
    with Session(engine) as s:
        w = make_world(s)
        open_fu = customer(s, 3, mgr=w.senior)
        run_with_items(s, visit(s, open_fu, at(20)), failed_critical=1, owner=w.senior, followup="open")
        visit(s, open_fu, at(-5), status="planned")
        no_fu = customer(s, 3, mgr=w.senior)
        run_with_items(s, visit(s, no_fu, at(20)), failed_critical=1, followup=None)
        visit(s, no_fu, at(-2), status="planned")
        done_fu = customer(s, 3, mgr=w.senior)
        run_with_items(s, visit(s, done_fu, at(20)), failed_critical=1, owner=w.senior, followup="done")
        visit(s, done_fu, at(-5), status="planned")
        not_critical = customer(s, 3, mgr=w.senior)
        run_with_items(s, visit(s, not_critical, at(20)), failed_other=2, owner=w.senior, followup="open")
        visit(s, not_critical, at(-5), status="planned")
        no_next = customer(s, 3, mgr=w.senior)
        run_with_items(s, visit(s, no_next, at(20)), failed_critical=1, owner=w.senior, followup="open")
        cancelled_next = customer(s, 3, mgr=w.senior)
        run_with_items(s, visit(s, cancelled_next, at(20)), failed_critical=1, owner=w.senior, followup="open")
        visit(s, cancelled_next, at(-5), status="cancelled")
        s.commit()
        assert live(s, "reception_followup") == {open_fu.id, no_fu.id}
        hit = next(h for h in customer_gaps(s, context(s, TODAY, NOW), open_fu.id) if h.kind == "reception_followup")
        assert "next visit" in hit.detail and str(TODAY + dt.timedelta(days=5)) in hit.detail


def test_downgrade_within_90_days_after_a_failed_evaluation(engine):
    with Session(engine) as s:
        w = make_world(s)
        flagged = customer(s, 3, mgr=w.senior)
        evaluate(s, call(s, w.senior, flagged, at(80)), w.lead, total=60.0, passed=False)
        tier_change(s, flagged, 2, at(50))
        passed = customer(s, 3, mgr=w.senior)
        evaluate(s, call(s, w.senior, passed, at(80)), w.lead, total=95.0, passed=True)
        tier_change(s, passed, 2, at(50))
        too_early = customer(s, 3, mgr=w.senior)
        evaluate(s, call(s, w.senior, too_early, at(150)), w.lead, total=60.0, passed=False)
        tier_change(s, too_early, 2, at(55))
        fail_after = customer(s, 3, mgr=w.senior)
        tier_change(s, fail_after, 2, at(50))
        evaluate(s, call(s, w.senior, fail_after, at(40)), w.lead, total=60.0, passed=False)
        long_ago = customer(s, 3, mgr=w.senior)
        evaluate(s, call(s, w.senior, long_ago, at(230)), w.lead, total=60.0, passed=False)
        tier_change(s, long_ago, 2, at(200))
        overturned = customer(s, 3, mgr=w.senior)
        evaluate(s, call(s, w.senior, overturned, at(80)), w.lead, total=60.0, passed=False, void=True)
        tier_change(s, overturned, 2, at(50))
        s.commit()
        assert live(s, "downgrade_after_fail") == {flagged.id}
        hit = next(h for h in customer_gaps(s, context(s, TODAY, NOW), flagged.id) if h.kind == "downgrade_after_fail")
        assert hit.since == TODAY - dt.timedelta(days=50)
        assert "30 days after a failed evaluation" in hit.detail


def test_training_customers_never_have_gaps(engine):
    with Session(engine) as s:
        w = make_world(s)
        w.senior.leave_start = TODAY
        s.add(w.senior)
        drill = customer(s, 4, mgr=w.senior, training=True, vip_days_ago=500)
        s.commit()
        for kind in GAP_KINDS:
            assert drill.id not in live(s, kind)


# ------------------------------------------------------------------------------------------------ snapshot, lists, scope


def _mixed(s: Session):
    w = make_world(s)
    w.junior.leave_start = TODAY - dt.timedelta(days=1)
    s.add(w.junior)
    mine = [customer(s, 2, mgr=w.junior) for _ in range(3)]  # leave + contact overdue
    others = [customer(s, 3, mgr=w.junior) for _ in range(2)]  # leave + level + contact
    senior_ok = customer(s, 1, mgr=w.senior)
    call(s, w.senior, senior_ok, at(5))
    called = customer(s, 4, mgr=w.senior)  # contact overdue (no call in 30 days) and no evaluation
    call(s, w.agent, called, at(40))
    s.commit()
    return w, mine, others, senior_ok, called


def test_snapshot_equals_the_live_rules_and_counts_match_lists(engine):
    with Session(engine) as s:
        w, mine, others, _ok, called = _mixed(s)
        snap = gaps.refresh_now(s, TODAY, NOW)
        s.commit()
        sup = w.actor(w.sup)
        for kind in GAP_KINDS:
            stored = s.exec(
                select(CustomerGap.customer_id).where(CustomerGap.kind == kind).order_by(CustomerGap.position)
            ).all()
            assert list(stored) == [cid for cid, _ in live_rows(s, kind, context(s, TODAY, NOW))]
            page = gap_list(session=s, actor=sup, kind=kind, today=TODAY, now=NOW, limit=2)
            assert page.total == snap.counts[kind] == len(stored)
            assert list(page.rows["customer_id"]) == list(stored[:2])
        assert snap.counts["leave_uncovered"] == 5 and snap.counts["level_mismatch"] == 2
        # highest tier first within a list
        ranks = list(gap_list(session=s, actor=sup, kind="contact_overdue", today=TODAY, now=NOW).rows["tier_rank"])
        assert ranks == sorted(ranks, reverse=True)
        assert gap_counts(session=s, actor=sup, today=TODAY, now=NOW) == snap.counts


def test_gap_lists_are_scoped(engine):
    with Session(engine) as s:
        w, mine, others, _ok, called = _mixed(s)
        gaps.refresh_now(s, TODAY, NOW)
        s.commit()
        junior = gap_counts(session=s, actor=w.actor(w.junior), today=TODAY, now=NOW)
        assert junior["leave_uncovered"] == 5 and junior["no_evaluation"] == 0
        senior = gap_list(session=s, actor=w.actor(w.senior), kind="contact_overdue", today=TODAY, now=NOW)
        assert list(senior.rows["customer_id"]) == [called.id]
        # The maintenance lead's team called only `called`; the OB lead's team nobody.
        lead = gap_counts(session=s, actor=w.actor(w.lead), today=TODAY, now=NOW)
        assert lead == {**{k: 0 for k in GAP_KINDS}, "contact_overdue": 1, "no_evaluation": 1}
        assert sum(gap_counts(session=s, actor=w.actor(w.ob_lead), today=TODAY, now=NOW).values()) == 0
        with pytest.raises(PermissionDenied):
            gap_counts(session=s, actor=w.actor(w.agent), today=TODAY, now=NOW)


def test_a_list_row_fixed_since_the_computation_says_so(engine):
    with Session(engine) as s:
        w, _mine, _others, _ok, called = _mixed(s)
        gaps.refresh_now(s, TODAY, NOW)
        call(s, w.senior, called, at(1))
        s.commit()
        page = gap_list(session=s, actor=w.actor(w.sup), kind="contact_overdue", today=TODAY, now=NOW)
        row = page.rows[page.rows["customer_id"] == called.id].iloc[0]
        assert row["detail"].startswith("Resolved since the last computation.")


def test_a_stale_snapshot_queues_one_refresh_job(engine):
    from models import Job

    with Session(engine) as s:
        make_world(s)
        gaps.refresh_now(s, TODAY, NOW)
        s.commit()
        gaps.refresh_if_stale(s, TODAY, NOW + dt.timedelta(minutes=5))
        assert s.exec(select(func.count()).select_from(Job)).one() == 0
        gaps.refresh_if_stale(s, TODAY, NOW + dt.timedelta(minutes=20))
        gaps.refresh_if_stale(s, TODAY, NOW + dt.timedelta(minutes=21))
        s.commit()
        jobs = s.exec(select(Job)).all()
        assert [j.kind for j in jobs] == [gaps.JOB_KIND]


def test_the_refresh_job_rebuilds_the_snapshot(engine):
    from console.jobs import enqueue, work_once
    from console.permissions import SYSTEM

    with Session(engine) as s:
        w = make_world(s)
        c = customer(s, 3, mgr=w.junior)
        gaps.refresh_now(s, TODAY, NOW)
        s.commit()
        assert gaps.read_snapshot(s).counts["level_mismatch"] == 1  # type: ignore[union-attr]
        assign(s, c, w.senior, at(0))
        enqueue(s, actor=SYSTEM, kind=gaps.JOB_KIND, params={"today": TODAY.isoformat()})
        s.commit()
    assert work_once(engine) is not None
    with Session(engine) as s:
        assert gaps.read_snapshot(s).counts["level_mismatch"] == 0  # type: ignore[union-attr]
        assert (
            s.exec(select(func.count()).select_from(CustomerGap).where(CustomerGap.kind == "level_mismatch")).one() == 0
        )


def test_exports_are_masked_unless_a_supervisor_exports_with_numbers(engine):
    from console.assignment.exports import to_csv_bytes

    with Session(engine) as s:
        w, mine, *_ = _mixed(s)
        gaps.refresh_now(s, TODAY, NOW)
        s.commit()
        frame, cut = gap_export(session=s, actor=w.actor(w.junior), kind="leave_uncovered", today=TODAY, now=NOW)
        assert not cut and len(frame) == 5
        phones = set(frame["Phone"])
        assert all("****" in p for p in phones)
        data = to_csv_bytes(frame)
        assert data.startswith(b"\xef\xbb\xbf")
        assert mine[0].phone.encode() not in data  # type: ignore[union-attr]
        with pytest.raises(PermissionDenied):
            gaps.gap_export_with_numbers(session=s, actor=w.actor(w.junior), kind="leave_uncovered", today=TODAY)
        before = s.exec(select(func.count()).select_from(AuditLog)).one()
        full, _ = gaps.gap_export_with_numbers(
            session=s, actor=w.actor(w.sup), kind="leave_uncovered", today=TODAY, now=NOW
        )
        assert mine[0].phone in set(full["Phone"]) and "ID number" in full.columns
        s.commit()
        rows = s.exec(select(AuditLog).where(AuditLog.action == "customers.export_numbers")).all()
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == before + 1
        assert rows[0].entity_id == "leave_uncovered" and '"rows": 5' in (rows[0].counts or "")


# ------------------------------------------------------------------------------------------------ property


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cases=st.lists(
        st.tuples(
            st.sampled_from([1, 2, 3, 4]),  # tier
            st.one_of(st.none(), st.integers(min_value=0, max_value=200)),  # days since the last connected call
            st.integers(min_value=0, max_value=300),  # days since becoming a VIP
        ),
        min_size=1,
        max_size=12,
    )
)
def test_contact_gap_matches_a_plain_reading_of_the_rule(sqlite_engine, cases):
    """Gap ⟺ the last connected maintenance contact (or, without one, becoming a VIP) is more than the tier's
    frequency ago."""
    frequency = {1: 90, 2: 60, 3: 45, 4: 30}
    with Session(sqlite_engine) as s:
        for table in ("contact", "call", "assignment", "tierchange", "customer", "user", "staff", "team"):
            s.execute(delete(Customer.metadata.tables[table]))
        w = make_world(s)
        expected = set()
        for tier, last, vip_days in cases:
            c = customer(s, tier, vip_days_ago=vip_days)
            if last is not None:
                call(s, w.senior, c, at(last))
            if vip_days > frequency[tier] and (last is None or last > frequency[tier]):
                expected.add(c.id)
        s.commit()
        assert live(s, "contact_overdue") == expected
