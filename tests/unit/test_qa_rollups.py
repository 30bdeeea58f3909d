"""The KPI rollups always agree with the calls and evaluations they are derived from."""

import datetime as dt
import random

import pytest
from sqlalchemy import case, delete
from sqlmodel import Session, func, select

from console.jobs import enqueue, work_once
from console.qa import rollups
from console.qa.evaluations import dispute, resolve_dispute, submit_evaluation
from console.qa.kpis import KpiQuery, person_kpis, section_averages
from console.timeutil import shanghai_date
from models import Call, Job
from models.qa import QaCallDay, QaEvalFact, QaEvalSection, QaRollupState
from tests.unit.factories_qa import add_call, add_customer, full_answers, local, make_world

DAY = dt.date(2026, 11, 2)
Q = KpiQuery(DAY - dt.timedelta(days=40), DAY + dt.timedelta(days=40))


@pytest.fixture
def world(engine):
    with Session(engine, expire_on_commit=False) as s:
        w = make_world(s)
        w.customers["c"] = add_customer(s, "孔先生", 2)
        s.commit()
    yield engine, w


def attempts(engine, w, person):
    with Session(engine) as s:
        df = person_kpis(session=s, actor=w.actor(w.sup), q=Q).set_index("staff_id")
        s.commit()
        return int(df.loc[person.id, "attempts"]), int(df.loc[person.id, "connected"])


def test_calls_added_after_a_read_are_counted(world):
    engine, w = world
    with Session(engine) as s:
        add_call(s, w.agent, w.customers["c"], local(DAY, 9))
        s.commit()
    assert attempts(engine, w, w.agent) == (1, 1)
    with Session(engine) as s:
        add_call(s, w.agent, w.customers["c"], local(DAY, 10), outcome="busy")
        add_call(s, w.agent, w.customers["c"], local(DAY + dt.timedelta(days=1), 10))
        s.commit()
    assert attempts(engine, w, w.agent) == (3, 2)
    with Session(engine) as s:
        state = s.get(QaRollupState, rollups.STATE_ID)
        assert state.call_count == 3 and state.call_max_id == s.exec(select(func.max(Call.id))).one()


def test_rollup_is_rebuilt_when_calls_disappear(world):
    engine, w = world
    with Session(engine) as s:
        first = add_call(s, w.agent, w.customers["c"], local(DAY, 9))
        add_call(s, w.agent, w.customers["c"], local(DAY, 10))
        s.commit()
        first_id = first.id
    assert attempts(engine, w, w.agent) == (2, 2)
    with Session(engine) as s:
        s.exec(delete(Call).where(Call.id == first_id))
        add_call(s, w.agent, w.customers["c"], local(DAY, 11), outcome="no_answer")  # same count, other calls
        s.commit()
    assert attempts(engine, w, w.agent) == (2, 1)


def test_rollup_equals_a_direct_aggregate(world):
    engine, w = world
    rng = random.Random(11)
    people = [w.agent, w.agent2, w.cm, w.ob_agent]
    with Session(engine) as s:
        for _ in range(300):
            who = rng.choice(people)
            at = local(DAY + dt.timedelta(days=rng.randint(-30, 30)), rng.randint(0, 23), rng.choice([0, 30, 59]))
            outcome = rng.choice(["connected", "connected", "no_answer", "busy"])
            add_call(s, who, w.customers["c"], at, outcome=outcome, result=rng.choice(["success", "declined"]))
            if rng.random() < 0.3:  # refresh part-way, so the rest arrives incrementally
                rollups.refresh_calls(s)
        s.commit()
    with Session(engine) as s:
        rollups.refresh(s)
        s.commit()
        day = shanghai_date(Call.started_at)
        direct = {
            (c, str(d), st): (n, k)
            for c, d, st, n, k in s.exec(
                select(
                    Call.caller_id,
                    day,
                    Call.stream,
                    func.count(),
                    func.sum(case((Call.outcome == "connected", 1), else_=0)),
                ).group_by(Call.caller_id, day, Call.stream)
            ).all()
        }
        rolled = {
            (r.caller_id, str(r.day), r.stream): (r.attempts, r.connected) for r in s.exec(select(QaCallDay)).all()
        }
    assert rolled == direct


def test_adjusted_evaluation_sections_are_recomputed(world):
    engine, w = world
    with Session(engine) as s:
        call = add_call(s, w.agent, w.customers["c"], local(DAY, 9))
        answers = full_answers(s, miss=3)  # the three Opening items at 0
        eid = submit_evaluation(
            session=s, actor=w.actor(w.lead), call_id=call.id, answers=answers, violations={}, now=local(DAY, 12)
        )
        s.commit()
    with Session(engine) as s:
        sec = section_averages(session=s, actor=w.actor(w.sup), q=Q).set_index("code")
        assert sec.loc["opening", "average"] == 0.0
        assert s.exec(select(func.count()).select_from(QaEvalFact)).one() == 1
        items = list(answers)[:3]
        did = dispute(
            session=s, actor=w.actor(w.agent), evaluation_id=eid, item_ids=items, reason="all said", now=local(DAY, 13)
        )
        full = full_answers(s)
        resolve_dispute(
            session=s,
            actor=w.actor(w.sup),
            dispute_id=did,
            outcome="adjusted",
            note="re-listened",
            answers={i: full[i] for i in items},
        )
        # same Session: the adjustment invalidated the rollups, so this read sees the new answers
        sec = section_averages(session=s, actor=w.actor(w.sup), q=Q).set_index("code")
        assert sec.loc["opening", "average"] == 1.0
        s.commit()


def test_refresh_job(world):
    engine, w = world
    with Session(engine) as s:
        add_call(s, w.agent, w.customers["c"], local(DAY, 9))
        job_id = enqueue(s, actor=w.actor(w.sup), kind="qa.refresh_rollups").id
        s.commit()
    assert work_once(engine) == job_id
    with Session(engine) as s:
        assert s.get(Job, job_id).status == "done"
        assert s.exec(select(func.sum(QaCallDay.attempts))).one() == 1
        assert s.exec(select(func.count()).select_from(QaEvalSection)).one() == 0
