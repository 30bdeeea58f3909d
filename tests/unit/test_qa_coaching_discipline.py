"""Coaching notes (follow-ups, acknowledgement) and floor discipline (points copied, monthly totals)."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from console.permissions import PermissionDenied
from console.qa.coaching import acknowledge_note, add_note, complete_follow_up, list_notes, overdue_count
from console.qa.common import QAError
from console.qa.discipline import list_events, list_rules, monthly_totals, record_violation
from console.qa.evaluations import submit_evaluation
from models import CoachingNote, DisciplineEvent, DisciplineRule
from tests.unit.factories_qa import add_call, add_customer, full_answers, local, make_world

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = make_world(s)
        s.commit()
        yield s, w


def test_coaching_note_with_evaluation_focus_items_and_follow_up(world):
    s, w = world
    cust = add_customer(s, "郑女士", 2)
    call = add_call(s, w.agent, cust, local(TODAY - dt.timedelta(days=3)))
    eid = submit_evaluation(
        session=s, actor=w.actor(w.lead), call_id=call.id, answers=full_answers(s, miss=1), violations={}
    )
    focus = [next(iter(full_answers(s)))]
    nid = add_note(
        session=s,
        actor=w.actor(w.lead),
        staff_id=w.agent.id,
        text="Say the company name first.",
        evaluation_id=eid,
        focus_item_ids=focus,
        follow_up_on=TODAY + dt.timedelta(days=2),
        today=TODAY,
    )
    rows, total = list_notes(session=s, actor=w.actor(w.agent), today=TODAY)
    assert total == 1 and rows.loc[0, "focus"].startswith("Greets") and not rows.loc[0, "overdue"]
    # overdue two days after the follow-up date, for the lead
    later = TODAY + dt.timedelta(days=3)
    assert overdue_count(session=s, actor=w.actor(w.lead), today=later) == 1
    rows, total = list_notes(session=s, actor=w.actor(w.lead), overdue_only=True, today=later)
    assert total == 1 and rows.loc[0, "overdue"]
    assert overdue_count(session=s, actor=w.actor(w.ob_lead), today=later) == 0
    with pytest.raises(PermissionDenied):
        acknowledge_note(session=s, actor=w.actor(w.agent2), note_id=nid)
    acknowledge_note(session=s, actor=w.actor(w.agent), note_id=nid)
    assert s.get(CoachingNote, nid).acknowledged_at is not None
    complete_follow_up(session=s, actor=w.actor(w.lead), note_id=nid)
    assert overdue_count(session=s, actor=w.actor(w.lead), today=later) == 0


def test_coaching_scope_and_validation(world):
    s, w = world
    with pytest.raises(PermissionDenied, match="not in your team"):
        add_note(session=s, actor=w.actor(w.lead), staff_id=w.ob_agent.id, text="x", today=TODAY)
    with pytest.raises(QAError, match="past"):
        add_note(
            session=s,
            actor=w.actor(w.lead),
            staff_id=w.agent.id,
            text="x",
            follow_up_on=TODAY - dt.timedelta(days=1),
            today=TODAY,
        )
    with pytest.raises(QAError, match="Write what was discussed"):
        add_note(session=s, actor=w.actor(w.lead), staff_id=w.agent.id, text="  ", today=TODAY)
    with pytest.raises(PermissionDenied):
        add_note(session=s, actor=w.actor(w.agent), staff_id=w.agent2.id, text="x", today=TODAY)
    assert s.exec(select(CoachingNote)).all() == []


def rule(s, code):
    return s.exec(select(DisciplineRule).where(DisciplineRule.code == code)).one()


def test_discipline_points_are_copied_and_summed_per_calendar_month(world):
    s, w = world
    d01, d07 = rule(s, "D01"), rule(s, "D07")
    assert d01.points == 1 and d07.points == 0
    now = local(TODAY, 12)
    lead = w.actor(w.lead)
    record_violation(
        session=s,
        actor=lead,
        staff_id=w.agent.id,
        rule_id=d01.id,
        day=dt.date(2026, 10, 31),
        time=dt.time(23, 30),
        now=now,
    )
    record_violation(
        session=s,
        actor=lead,
        staff_id=w.agent.id,
        rule_id=d01.id,
        day=dt.date(2026, 11, 1),
        time=dt.time(0, 30),
        now=now,
    )
    record_violation(session=s, actor=lead, staff_id=w.agent.id, rule_id=d07.id, day=dt.date(2026, 11, 2), now=now)
    record_violation(session=s, actor=lead, staff_id=w.cm.id, rule_id=d01.id, day=dt.date(2026, 11, 3), now=now)
    # an admin raises D07 afterwards: recorded events keep the points they were recorded with
    d07.points = 3
    s.add(d07)
    s.commit()
    record_violation(session=s, actor=lead, staff_id=w.agent.id, rule_id=d07.id, day=dt.date(2026, 11, 4), now=now)
    oct_totals = monthly_totals(session=s, actor=w.actor(w.sup), month=dt.date(2026, 10, 1)).set_index("person")
    assert oct_totals.loc[w.agent.name, "points"] == 1 and oct_totals.loc[w.agent.name, "violations"] == 1
    nov = monthly_totals(session=s, actor=lead, month=dt.date(2026, 11, 15)).set_index("person")
    assert nov.loc[w.agent.name, "points"] == 1 + 0 + 3 and nov.loc[w.agent.name, "violations"] == 3
    assert nov.loc[w.cm.name, "points"] == 1
    events, total = list_events(session=s, actor=w.actor(w.agent), month=dt.date(2026, 11, 1))
    assert total == 3 and set(events["person"]) == {w.agent.name}
    assert [e.points for e in s.exec(select(DisciplineEvent).order_by(DisciplineEvent.id)).all()] == [1, 1, 0, 1, 3]


def test_discipline_scope_and_validation(world):
    s, w = world
    d01 = rule(s, "D01")
    now = local(TODAY, 12)
    with pytest.raises(PermissionDenied):
        record_violation(session=s, actor=w.actor(w.lead), staff_id=w.ob_agent.id, rule_id=d01.id, day=TODAY, now=now)
    with pytest.raises(PermissionDenied):
        record_violation(session=s, actor=w.actor(w.agent), staff_id=w.agent2.id, rule_id=d01.id, day=TODAY, now=now)
    with pytest.raises(QAError, match="future"):
        record_violation(
            session=s,
            actor=w.actor(w.lead),
            staff_id=w.agent.id,
            rule_id=d01.id,
            day=TODAY + dt.timedelta(days=1),
            now=now,
        )
    assert len(list_rules(session=s, actor=w.actor(w.lead))) == 28
