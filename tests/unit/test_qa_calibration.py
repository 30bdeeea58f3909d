"""Calibration sessions and training drills: blind until one's own submission, agreement and deviation,
never in a KPI."""

import datetime as dt

import pytest
from sqlmodel import Session

from console.permissions import PermissionDenied
from console.qa.calibration import (
    Graded,
    agreement_table,
    answers_agree,
    create_session,
    deviation_table,
    item_deviation,
    list_sessions,
    session_detail,
    session_results,
    set_expert_key,
    submit_answers,
)
from console.qa.common import QAError, active_version_id, load_version
from console.qa.explain import AnswerIn
from console.qa.kpis import KpiQuery, person_kpis
from tests.unit.factories_qa import add_call, add_customer, full_answers, local, make_world

DAY = dt.date(2026, 11, 2)
NOW = local(DAY, 9)


def test_agreement_rules():
    assert answers_agree("scale", AnswerIn(7), AnswerIn(8))
    assert answers_agree("scale", AnswerIn(7), AnswerIn(6))
    assert not answers_agree("scale", AnswerIn(7), AnswerIn(5))
    assert not answers_agree("yes_no", AnswerIn(5), AnswerIn(0))
    assert answers_agree("yes_no", AnswerIn(na=True), AnswerIn(na=True))
    assert not answers_agree("scale", AnswerIn(na=True), AnswerIn(0))
    assert item_deviation(10, AnswerIn(7), AnswerIn(4)) == 3
    assert item_deviation(10, AnswerIn(na=True), AnswerIn(4)) == 10
    assert item_deviation(10, AnswerIn(na=True), AnswerIn(na=True)) == 0


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = make_world(s)
        cust = add_customer(s, "钱女士", 2)
        w.call = add_call(s, w.agent, cust, local(DAY - dt.timedelta(days=3)))  # type: ignore[attr-defined]
        drill_agent = w.agent2
        pseud = add_customer(s, "赵先生", 3, training=True)
        w.drill_call = add_call(  # type: ignore[attr-defined]
            s, drill_agent, pseud, local(DAY - dt.timedelta(days=2)), transcript="坐席：赵先生您好，我是会员中心。"
        )
        s.commit()
        yield s, w


def spec_of(s):
    return load_version(s, active_version_id(s, "maintenance"))


def new_session(s, w, kind="calibration", participants=None, call=None):
    sid = create_session(
        session=s,
        actor=w.actor(w.sup),
        kind=kind,
        title="Calibration: care call",
        call_id=(call or w.call).id,
        deadline=NOW + dt.timedelta(days=3),
        participant_ids=participants if participants is not None else [w.lead.id, w.ob_lead.id, w.sup2.id],
        now=NOW,
    )
    s.commit()
    return sid


def test_blind_until_own_submission(world):
    s, w = world
    sid = new_session(s, w)
    key = full_answers(s)
    with pytest.raises(QAError, match="expert key is not set"):
        submit_answers(session=s, actor=w.actor(w.lead), session_id=sid, answers=key, violations={}, now=NOW)
    set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=key, violations={})
    with pytest.raises(QAError, match="Submit your own answers first"):
        session_results(session=s, actor=w.actor(w.lead), session_id=sid)
    detail = session_detail(session=s, actor=w.actor(w.lead), session_id=sid, now=NOW)
    assert detail.may_submit and not detail.may_see_results
    submit_answers(
        session=s, actor=w.actor(w.lead), session_id=sid, answers=full_answers(s, miss=2), violations={}, now=NOW
    )
    res = session_results(session=s, actor=w.actor(w.lead), session_id=sid)
    assert len(res.deviation) == 1 and res.mine is not None
    # the facilitator (a supervisor not taking part) sees the results at any time
    session_results(session=s, actor=w.actor(w.sup), session_id=sid)
    # a lead who is not a participant sees nothing of it
    with pytest.raises(PermissionDenied):
        session_detail(session=s, actor=w.actor(w.agent), session_id=sid)


def test_key_locks_after_a_submission_and_one_submission_each(world):
    s, w = world
    sid = new_session(s, w)
    set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=full_answers(s), violations={})
    submit_answers(session=s, actor=w.actor(w.lead), session_id=sid, answers=full_answers(s), violations={}, now=NOW)
    with pytest.raises(QAError, match="locked"):
        set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=full_answers(s, miss=1), violations={})
    with pytest.raises(QAError, match="already submitted"):
        submit_answers(
            session=s, actor=w.actor(w.lead), session_id=sid, answers=full_answers(s), violations={}, now=NOW
        )


def test_deadline_is_enforced(world):
    s, w = world
    sid = new_session(s, w)
    set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=full_answers(s), violations={})
    with pytest.raises(QAError, match="deadline has passed"):
        submit_answers(
            session=s,
            actor=w.actor(w.ob_lead),
            session_id=sid,
            answers=full_answers(s),
            violations={},
            now=NOW + dt.timedelta(days=4),
        )


def test_non_participant_may_not_submit(world):
    s, w = world
    sid = new_session(s, w, participants=[w.ob_lead.id, w.sup2.id])
    set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=full_answers(s), violations={})
    with pytest.raises(PermissionDenied):
        submit_answers(
            session=s, actor=w.actor(w.lead), session_id=sid, answers=full_answers(s), violations={}, now=NOW
        )


def test_agreement_and_deviation_by_hand(world):
    s, w = world
    spec = spec_of(s)
    items = spec.items
    scale = [i for i in items if i.kind == "scale"][0]  # explain tier rights, 0..10
    yes_no = [i for i in items if i.kind == "yes_no"][0]  # greets, 0/5
    key_answers = {i.item_id: AnswerIn(i.max_points) for i in items}
    key_answers[scale.item_id] = AnswerIn(8)
    g1 = dict(key_answers)
    g1[scale.item_id] = AnswerIn(9)  # within one point: agrees, deviation 1
    g2 = dict(key_answers)
    g2[scale.item_id] = AnswerIn(5)  # disagrees, deviation 3
    g2[yes_no.item_id] = AnswerIn(0)  # disagrees, deviation 5
    key = Graded(0, "key", key_answers, set(), 95.0)
    graders = [Graded(1, "A", g1, set(), 96.0), Graded(2, "B", g2, {99}, 80.5)]
    agree = agreement_table(spec, key, graders).set_index("item")
    from console.i18n import pick

    assert agree.loc[pick(scale, "text"), "agreement"] == 0.5
    assert agree.loc[pick(yes_no, "text"), "agreement"] == 0.5
    assert (agree.drop(index=[pick(scale, "text"), pick(yes_no, "text")])["agreement"].dropna() == 1.0).all()
    dev = deviation_table(spec, key, graders).set_index("grader")
    n = len(items)
    assert dev.loc["A", "item_deviation"] == pytest.approx(1 / n)
    assert dev.loc["B", "item_deviation"] == pytest.approx((3 + 5) / n)
    assert dev.loc["A", "total_deviation"] == pytest.approx(1.0)
    assert dev.loc["B", "total_deviation"] == pytest.approx(14.5)


def test_calibration_never_counts_in_kpis(world):
    s, w = world
    sid = new_session(s, w)
    set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=full_answers(s), violations={})
    submit_answers(
        session=s, actor=w.actor(w.lead), session_id=sid, answers=full_answers(s, miss=5), violations={}, now=NOW
    )
    q = KpiQuery(DAY - dt.timedelta(days=10), DAY, "maintenance")
    row = person_kpis(session=s, actor=w.actor(w.sup), q=q).set_index("staff_id").loc[w.agent.id]
    assert row["evaluations"] == 0 and row["attempts"] == 1


def test_training_drills_for_trainees_on_pseudonymised_calls(world):
    s, w = world
    with pytest.raises(QAError, match="training calls"):
        new_session(s, w, kind="training", participants=[w.trainee.id])
    with pytest.raises(QAError, match="real calls"):
        new_session(s, w, kind="calibration", call=w.drill_call)
    sid = new_session(s, w, kind="training", participants=[w.trainee.id], call=w.drill_call)
    set_expert_key(session=s, actor=w.actor(w.sup), session_id=sid, answers=full_answers(s), violations={})
    trainee = w.actor(w.trainee)
    listed = list_sessions(session=s, actor=trainee)
    assert list(listed["kind"]) == ["training"]
    detail = session_detail(session=s, actor=trainee, session_id=sid, now=NOW)
    assert detail.call.customer.startswith("VIP-") and "赵先生" not in (detail.call.transcript or "")
    assert detail.call.customer != "赵先生"
    with pytest.raises(QAError, match="Submit your own answers first"):
        session_results(session=s, actor=trainee, session_id=sid)
    submit_answers(session=s, actor=trainee, session_id=sid, answers=full_answers(s, miss=1), violations={}, now=NOW)
    res = session_results(session=s, actor=trainee, session_id=sid)
    mine = res.mine
    assert mine is not None and not bool(mine.loc[0, "agrees"]) and mine.loc[0, "deviation"] == 5
    assert bool(mine.loc[1 : len(spec_of(s).items) - 1, "agrees"].all())
    # a trainee never sees calibration sessions
    cal = new_session(s, w)
    with pytest.raises(PermissionDenied):
        session_detail(session=s, actor=trainee, session_id=cal)
