"""Evaluation lifecycle: draft -> submitted -> acknowledged | disputed -> resolved, and who may do each step."""

import datetime as dt
import json

import pytest
from sqlmodel import Session, select

from console.jobs import enqueue, work_once
from console.permissions import PermissionDenied
from console.qa.common import QAError, dispute_deadline, dispute_last_day
from console.qa.evaluations import (
    acknowledge,
    acknowledgements_due,
    auto_acknowledge_due,
    dispute,
    get_evaluation,
    list_disputes,
    list_evaluations,
    resolve_dispute,
    save_draft,
    scoring_form,
    submit_evaluation,
)
from console.qa.explain import AnswerIn
from console.qa.kpis import KpiQuery, person_kpis
from models import AuditLog, Dispute, Evaluation, EvaluationAnswer, EvaluationRevision, Job
from tests.unit.factories_qa import add_call, add_customer, full_answers, local, make_world, violation_id

DAY = dt.date(2026, 11, 2)  # a Monday


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = make_world(s)
        cust = add_customer(s, "刘女士", 3)
        w.customers["plat"] = cust
        w.call = add_call(s, w.agent, cust, local(DAY, 10))  # type: ignore[attr-defined]
        w.ob_call = add_call(s, w.ob_agent, cust, local(DAY, 11), stream="ob")  # type: ignore[attr-defined]
        s.commit()
        yield s, w


def submitted(s, w, *, at=None, miss=0, by=None, call=None):
    call = call or w.call
    eid = submit_evaluation(
        session=s,
        actor=w.actor(by or w.lead),
        call_id=call.id,
        answers=full_answers(s, call.stream, miss=miss),
        violations={},
        now=at or local(DAY, 18),
    )
    s.commit()
    return eid


def test_draft_then_submit_keeps_one_evaluation_and_audits(world):
    s, w = world
    answers = full_answers(s)
    first = next(iter(answers))
    eid = save_draft(
        session=s, actor=w.actor(w.lead), call_id=w.call.id, answers={first: answers[first]}, violations={}
    )
    form = scoring_form(session=s, actor=w.actor(w.lead), call_id=w.call.id)
    assert form.evaluation_id == eid and set(form.answers) == {first} and form.blocked is None
    assert submitted(s, w) == eid
    ev = s.get(Evaluation, eid)
    assert ev.status == "submitted" and ev.total == 100.0 and ev.passed and ev.evaluatee_id == w.agent.id
    actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert actions == ["qa.score", "qa.score"]


def test_submit_with_unanswered_items_is_refused_and_nothing_changes(world):
    s, w = world
    answers = full_answers(s)
    answers.pop(next(iter(answers)))
    with pytest.raises(QAError, match="Answer every item before submitting"):
        submit_evaluation(session=s, actor=w.actor(w.lead), call_id=w.call.id, answers=answers, violations={})
    s.rollback()
    assert s.exec(select(Evaluation)).all() == []


def test_points_above_the_maximum_are_refused(world):
    s, w = world
    answers = full_answers(s)
    item = next(iter(answers))
    answers[item] = AnswerIn(points=99)
    with pytest.raises(QAError, match="points must be between 0 and"):
        save_draft(session=s, actor=w.actor(w.lead), call_id=w.call.id, answers=answers, violations={})


def test_na_where_not_allowed_is_refused(world):
    s, w = world
    answers = full_answers(s)
    item = next(iter(answers))  # greets with company and own name: N/A not allowed
    answers[item] = AnswerIn(na=True)
    with pytest.raises(QAError, match="does not allow N/A"):
        submit_evaluation(session=s, actor=w.actor(w.lead), call_id=w.call.id, answers=answers, violations={})


def test_a_lead_scores_only_own_team_and_not_own_calls(world):
    s, w = world
    with pytest.raises(PermissionDenied, match="own team"):
        submit_evaluation(
            session=s, actor=w.actor(w.lead), call_id=w.ob_call.id, answers=full_answers(s, "ob"), violations={}
        )
    # the OB lead may, a supervisor may
    assert submitted(s, w, call=w.ob_call, by=w.ob_lead)
    with pytest.raises(PermissionDenied):
        submit_evaluation(session=s, actor=w.actor(w.agent), call_id=w.call.id, answers=full_answers(s), violations={})


def test_a_scored_call_cannot_be_scored_again(world):
    s, w = world
    submitted(s, w)
    with pytest.raises(QAError, match="already scored"):
        submitted(s, w, by=w.sup)


def test_fatal_violation_is_stored(world):
    s, w = world
    vid = violation_id(s, "maintenance", "abusive_language")
    eid = submit_evaluation(
        session=s,
        actor=w.actor(w.lead),
        call_id=w.call.id,
        answers=full_answers(s),
        violations={vid: "01:20"},
    )
    ev = s.get(Evaluation, eid)
    assert ev.total == 0.0 and ev.passed is False and ev.fatal


# ---------------------------------------------------------------- the dispute window


def test_window_is_seven_calendar_days_in_shanghai():
    # submitted 23:30 local on 2 Nov (15:30 UTC): the last day is 9 Nov, closing at local midnight
    at = local(DAY, 23, 30)
    assert dispute_last_day(at) == dt.date(2026, 11, 9)
    assert dispute_deadline(at) == dt.datetime(2026, 11, 9, 16, 0, tzinfo=dt.UTC)


def test_only_the_evaluated_person_acknowledges(world):
    s, w = world
    eid = submitted(s, w)
    with pytest.raises(PermissionDenied, match="Only the evaluated person"):
        acknowledge(session=s, actor=w.actor(w.agent2), evaluation_id=eid, now=local(DAY + dt.timedelta(days=1)))
    acknowledge(session=s, actor=w.actor(w.agent), evaluation_id=eid, now=local(DAY + dt.timedelta(days=1)))
    ev = s.get(Evaluation, eid)
    assert ev.status == "acknowledged" and not ev.auto_acknowledged
    with pytest.raises(QAError, match="already acknowledged"):
        acknowledge(session=s, actor=w.actor(w.agent), evaluation_id=eid, now=local(DAY + dt.timedelta(days=2)))


def test_dispute_on_the_last_day_is_accepted(world):
    s, w = world
    eid = submitted(s, w, miss=2)
    items = list(full_answers(s))[:2]
    did = dispute(
        session=s,
        actor=w.actor(w.agent),
        evaluation_id=eid,
        item_ids=items,
        reason="The greeting was there at 00:05.",
        now=local(DAY + dt.timedelta(days=7), 23, 59),
    )
    row = s.get(Dispute, did)
    assert row.status == "open" and json.loads(row.item_ids) == sorted(items)
    assert s.get(Evaluation, eid).status == "disputed"


def test_dispute_after_the_window_is_refused_and_auto_acknowledged(world):
    s, w = world
    eid = submitted(s, w)
    late = local(DAY + dt.timedelta(days=8), 0, 1)
    with pytest.raises(QAError, match="dispute window closed on 2026-11-09"):
        dispute(session=s, actor=w.actor(w.agent), evaluation_id=eid, item_ids=[1], reason="late", now=late)
    ev = s.get(Evaluation, eid)
    assert s.exec(select(Dispute)).all() == []
    # the lazy sweep ran on that read: acknowledged automatically at the window's close
    assert ev.status == "acknowledged" and ev.auto_acknowledged
    assert ev.acknowledged_at == dispute_deadline(ev.submitted_at)


def test_dispute_by_someone_else_is_refused(world):
    s, w = world
    eid = submitted(s, w)
    with pytest.raises(PermissionDenied):
        dispute(session=s, actor=w.actor(w.cm), evaluation_id=eid, item_ids=[1], reason="x", now=local(DAY, 19))
    with pytest.raises(PermissionDenied):  # a lead has no dispute right at all
        dispute(session=s, actor=w.actor(w.lead), evaluation_id=eid, item_ids=[1], reason="x", now=local(DAY, 19))


def test_dispute_needs_items_and_a_reason(world):
    s, w = world
    eid = submitted(s, w)
    with pytest.raises(QAError, match="at least one item"):
        dispute(session=s, actor=w.actor(w.agent), evaluation_id=eid, item_ids=[], reason="x", now=local(DAY, 19))
    with pytest.raises(QAError, match="reason"):
        dispute(session=s, actor=w.actor(w.agent), evaluation_id=eid, item_ids=[1], reason=" ", now=local(DAY, 19))


def test_auto_acknowledge_sweep_and_job(world, engine):
    s, w = world
    eid = submitted(s, w)
    assert auto_acknowledge_due(s, local(DAY + dt.timedelta(days=7), 23, 0)) == 0
    s.commit()
    assert s.get(Evaluation, eid).status == "submitted"
    # the job runs the same sweep with the clock of now (long after the window)
    job = enqueue(s, actor=w.actor(w.sup), kind="qa.auto_acknowledge")
    s.commit()
    assert work_once(engine) == job.id
    s.expire_all()
    assert s.get(Job, job.id).status == "done" and json.loads(s.get(Job, job.id).result)["acknowledged"] == 1
    ev = s.get(Evaluation, eid)
    assert ev.status == "acknowledged" and ev.auto_acknowledged


def test_home_summary_counts_what_waits_and_the_nearest_last_day(world):
    s, w = world
    submitted(s, w, at=local(DAY, 18))
    second = add_call(s, w.agent, w.customers["plat"], local(DAY + dt.timedelta(days=2), 9))
    submitted(s, w, call=second, at=local(DAY + dt.timedelta(days=2), 18))
    due = acknowledgements_due(session=s, actor=w.actor(w.agent), now=local(DAY + dt.timedelta(days=3)))
    assert due.count == 2 and due.nearest_last_day == dt.date(2026, 11, 9)
    due = acknowledgements_due(session=s, actor=w.actor(w.agent), now=local(DAY + dt.timedelta(days=8)))
    assert due.count == 1 and due.nearest_last_day == dt.date(2026, 11, 11)


# ---------------------------------------------------------------- resolution


def disputed(s, w, miss=3):
    eid = submitted(s, w, miss=miss)
    items = list(full_answers(s))[:miss]
    did = dispute(
        session=s, actor=w.actor(w.agent), evaluation_id=eid, item_ids=items, reason="see 00:05", now=local(DAY, 20)
    )
    s.commit()
    return eid, did, items


def test_the_scorer_may_not_resolve(world):
    s, w = world
    eid, did, _ = disputed(s, w)
    s.get(Evaluation, eid).evaluator_id = w.sup.id  # scored by the supervisor
    s.commit()
    with pytest.raises(PermissionDenied, match="another supervisor"):
        resolve_dispute(session=s, actor=w.actor(w.sup), dispute_id=did, outcome="upheld", note="ok")
    with pytest.raises(PermissionDenied):  # a lead has no resolve right
        resolve_dispute(session=s, actor=w.actor(w.lead), dispute_id=did, outcome="upheld", note="ok")
    s.rollback()
    assert s.get(Dispute, did).status == "open"


def kpi(s, w):
    q = KpiQuery(DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=30), "maintenance")
    df = person_kpis(session=s, actor=w.actor(w.sup), q=q)
    return df[df["staff_id"] == w.agent.id].iloc[0]


def test_open_dispute_counts_with_the_submitted_score(world):
    s, w = world
    eid, _, _ = disputed(s, w)
    row = kpi(s, w)
    assert row["evaluations"] == 1 and row["disputed"] == 1
    assert row["average"] == pytest.approx(s.get(Evaluation, eid).total)


def test_upheld_keeps_the_score(world):
    s, w = world
    eid, did, _ = disputed(s, w)
    before = s.get(Evaluation, eid).total
    resolve_dispute(session=s, actor=w.actor(w.sup), dispute_id=did, outcome="upheld", note="Score stands.")
    ev = s.get(Evaluation, eid)
    assert ev.status == "resolved" and ev.total == before and not ev.void
    assert s.get(Dispute, did).status == "upheld" and s.get(Dispute, did).resolved_by == w.sup.id
    assert kpi(s, w)["average"] == pytest.approx(before)


def test_adjusted_recomputes_and_keeps_the_original(world):
    s, w = world
    eid, did, items = disputed(s, w)
    before = s.get(Evaluation, eid).total
    full = full_answers(s)
    resolve_dispute(
        session=s,
        actor=w.actor(w.sup),
        dispute_id=did,
        outcome="adjusted",
        note="Re-listened: the greeting was complete.",
        answers={i: full[i] for i in items},
        now=local(DAY + dt.timedelta(days=1)),
    )
    ev = s.get(Evaluation, eid)
    assert ev.total == 100.0 and ev.revision == 2 and ev.status == "resolved"
    rev = s.exec(select(EvaluationRevision).where(EvaluationRevision.evaluation_id == eid)).one()
    snap = json.loads(rev.snapshot)
    assert rev.revision == 1 and snap["total"] == before and snap["answers"][str(items[0])]["points"] == 0
    assert kpi(s, w)["average"] == pytest.approx(100.0)
    view = get_evaluation(session=s, actor=w.actor(w.agent), evaluation_id=eid, now=local(DAY + dt.timedelta(days=1)))
    assert view.revisions[0].total == before and view.dispute.status == "adjusted"


def test_adjusted_without_a_change_is_refused(world):
    s, w = world
    _, did, _ = disputed(s, w)
    with pytest.raises(QAError, match="nothing changed"):
        resolve_dispute(session=s, actor=w.actor(w.sup), dispute_id=did, outcome="adjusted", note="x", answers={})


def test_overturned_is_void_and_leaves_every_kpi(world):
    s, w = world
    eid, did, _ = disputed(s, w)
    resolve_dispute(session=s, actor=w.actor(w.sup2), dispute_id=did, outcome="overturned", note="Wrong caller.")
    assert s.get(Evaluation, eid).void
    row = kpi(s, w)
    assert row["evaluations"] == 0 and pd_isna(row["average"]) and row["attempts"] == 1
    with pytest.raises(QAError, match="already resolved"):
        resolve_dispute(session=s, actor=w.actor(w.sup2), dispute_id=did, outcome="upheld", note="again")


def pd_isna(value):
    import pandas as pd

    return pd.isna(value)


def test_disputes_list_by_status_and_item(world):
    s, w = world
    _, did, items = disputed(s, w, miss=2)
    open_rows, total = list_disputes(session=s, actor=w.actor(w.sup), status="open")
    assert total == 1 and open_rows.loc[0, "dispute_id"] == did
    by_item, n = list_disputes(session=s, actor=w.actor(w.sup), status=None, item_ids=[items[1]])
    assert n == 1
    none, n = list_disputes(session=s, actor=w.actor(w.sup), status=None, item_ids=[items[1] + 1000])
    assert n == 0
    # the OB lead does not see the maintenance team's disputes
    _, n = list_disputes(session=s, actor=w.actor(w.ob_lead), status=None)
    assert n == 0


# ---------------------------------------------------------------- reading


def test_who_reads_an_evaluation(world):
    s, w = world
    eid = submitted(s, w)
    for person in (w.agent, w.lead, w.sup):
        get_evaluation(session=s, actor=w.actor(person), evaluation_id=eid, now=local(DAY, 19))
    for person in (w.agent2, w.ob_lead, w.cm):
        with pytest.raises(PermissionDenied):
            get_evaluation(session=s, actor=w.actor(person), evaluation_id=eid, now=local(DAY, 19))


def test_drafts_are_private_to_the_scorer(world):
    s, w = world
    eid = save_draft(session=s, actor=w.actor(w.lead), call_id=w.call.id, answers={}, violations={})
    rows, total = list_evaluations(session=s, actor=w.actor(w.agent), mine=True)
    assert total == 0
    with pytest.raises(PermissionDenied):
        get_evaluation(session=s, actor=w.actor(w.agent), evaluation_id=eid)
    form = scoring_form(session=s, actor=w.actor(w.sup), call_id=w.call.id)
    assert "draft" in form.blocked


def test_my_evaluations_show_the_last_day_to_dispute(world):
    s, w = world
    eid = submitted(s, w)
    rows, total = list_evaluations(session=s, actor=w.actor(w.agent), mine=True, now=local(DAY, 19))
    assert total == 1 and rows.loc[0, "id"] == eid
    assert rows.loc[0, "last_day_to_dispute"] == dt.date(2026, 11, 9) and rows.loc[0, "tier"] == "Platinum"
    view = get_evaluation(session=s, actor=w.actor(w.agent), evaluation_id=eid, now=local(DAY, 19))
    assert view.can_acknowledge and view.can_dispute and view.window_open
    assert any(step.startswith("Step 5") for step in view.explanation.steps)
    assert s.exec(select(EvaluationAnswer).where(EvaluationAnswer.evaluation_id == eid)).all()
