"""The weekly review queue: reproducible per team and ISO week, weighted by tier at call time and downgrades."""

import datetime as dt
import random

import pytest
from sqlmodel import Session

from console.permissions import PermissionDenied
from console.qa.common import QAError
from console.qa.queue import Candidate, draw_sample, review_queue, sample_key, week_bounds
from tests.unit.factories_qa import add_call, add_customer, local, make_world, tier_event

WEEK = "2026-W45"  # Monday 2 Nov .. Sunday 8 Nov 2026
MONDAY = dt.date(2026, 11, 2)


def test_week_bounds():
    assert week_bounds(WEEK) == (MONDAY, dt.date(2026, 11, 8))
    with pytest.raises(QAError):
        week_bounds("2026-45")


def pool(n_callers=3, per=12):
    rng = random.Random(5)
    out = []
    cid = 0
    for caller in range(1, n_callers + 1):
        for _ in range(per):
            cid += 1
            out.append(Candidate(cid, caller, rng.choice([0, 1, 2, 3, 4]), rng.random() < 0.2))
    return out


def test_same_team_and_week_give_the_same_sample_whatever_the_row_order():
    cands = pool()
    first = draw_sample(cands, "MT01", WEEK)
    shuffled = list(cands)
    random.Random(1).shuffle(shuffled)
    assert [c.call_id for c in draw_sample(shuffled, "MT01", WEEK)] == [c.call_id for c in first]


def test_another_week_or_team_gives_another_sample():
    cands = pool()
    base = {c.call_id for c in draw_sample(cands, "MT01", WEEK)}
    assert {c.call_id for c in draw_sample(cands, "MT01", "2026-W46")} != base
    assert {c.call_id for c in draw_sample(cands, "MT02", WEEK)} != base


def test_four_calls_per_caller_by_default():
    sample = draw_sample(pool(n_callers=3, per=12) + [Candidate(999, 9, 1, False)], "MT01", WEEK)
    per_caller = {}
    for c in sample:
        per_caller[c.caller_id] = per_caller.get(c.caller_id, 0) + 1
    assert per_caller == {1: 4, 2: 4, 3: 4, 9: 1}


def test_weights():
    assert Candidate(1, 1, 4, False).weight == 5
    assert Candidate(1, 1, 3, False).weight == 3
    assert Candidate(1, 1, 2, False).weight == 2
    assert Candidate(1, 1, 1, False).weight == 1
    assert Candidate(1, 1, 0, False).weight == 1
    assert Candidate(1, 1, 2, True).weight == 4  # downgraded in the last 90 days: x2


def test_a_weight_5_call_beats_a_weight_1_call_five_times_in_six():
    wins = sum(
        sample_key("MT01", f"2026-W{w:02d}", cid, 5) > sample_key("MT01", f"2026-W{w:02d}", cid + 1, 1)
        for w in range(1, 53)
        for cid in range(0, 400, 2)
    )
    share = wins / (52 * 200)
    assert 0.82 < share < 0.85  # 5/6 = 0.833


def test_diamond_calls_are_sampled_more_often_than_silver_ones():
    # one caller, 10 Diamond and 10 Silver calls, one call per week: Diamond should win about 5/6 of the weeks
    cands = [Candidate(i, 1, 4 if i <= 10 else 1, False) for i in range(1, 21)]
    diamond = sum(
        draw_sample(cands, "MT01", f"{y}-W{w:02d}", 1)[0].tier_rank == 4 for y in (2025, 2026) for w in range(1, 53)
    )
    assert diamond / 104 > 0.7


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = make_world(s)
        yield s, w


def test_queue_uses_tier_at_call_time_and_recent_downgrades(world):
    s, w = world
    before = local(MONDAY - dt.timedelta(days=30))
    gold_then_diamond = add_customer(s, "钱先生", 2)
    tier_event(s, gold_then_diamond, 4, local(MONDAY, 12), "upgrade")  # Diamond only from Monday noon
    downgraded = add_customer(s, "孙女士", 3)
    tier_event(s, downgraded, 2, before, "downgrade")  # Platinum -> Gold a month earlier
    old_down = add_customer(s, "周先生", 3)
    tier_event(s, old_down, 2, local(MONDAY - dt.timedelta(days=120)), "downgrade")
    c1 = add_call(s, w.agent, gold_then_diamond, local(MONDAY, 10))  # Gold at the time
    c2 = add_call(s, w.agent, gold_then_diamond, local(MONDAY, 15))  # Diamond
    c3 = add_call(s, w.agent, downgraded, local(MONDAY, 16))
    c4 = add_call(s, w.agent, old_down, local(MONDAY, 17))
    add_call(s, w.agent, downgraded, local(MONDAY, 18), outcome="no_answer")  # not connected: never sampled
    add_call(s, w.agent, downgraded, local(MONDAY + dt.timedelta(days=7), 9))  # next week
    add_call(s, w.ob_agent, downgraded, local(MONDAY, 9), stream="ob")  # other team
    s.commit()
    view = review_queue(session=s, actor=w.actor(w.lead), team_id=w.maint.id, week=WEEK)
    rows = view.rows.set_index("call_id")
    assert view.candidates == 4 and len(rows) == 4
    assert rows.loc[c1.id, "tier"] == "Gold" and rows.loc[c1.id, "weight"] == 2
    assert rows.loc[c2.id, "tier"] == "Diamond" and rows.loc[c2.id, "weight"] == 5
    assert rows.loc[c3.id, "downgraded"] and rows.loc[c3.id, "weight"] == 4
    assert not rows.loc[c4.id, "downgraded"] and rows.loc[c4.id, "weight"] == 2
    again = review_queue(session=s, actor=w.actor(w.sup), team_id=w.maint.id, week=WEEK)
    assert list(again.rows["call_id"]) == list(view.rows["call_id"])


def test_a_call_at_23_30_local_on_sunday_belongs_to_that_week(world):
    s, w = world
    cust = add_customer(s, "吴先生", 1)
    late = add_call(s, w.agent, cust, local(dt.date(2026, 11, 8), 23, 30))  # 15:30 UTC Sunday
    early = add_call(s, w.agent, cust, local(dt.date(2026, 11, 9), 0, 30))  # Monday of W46 (still Sunday UTC)
    s.commit()
    ids = set(review_queue(session=s, actor=w.actor(w.lead), team_id=w.maint.id, week=WEEK).rows["call_id"])
    assert late.id in ids and early.id not in ids


def test_a_lead_sees_only_own_team_queue(world):
    s, w = world
    with pytest.raises(PermissionDenied):
        review_queue(session=s, actor=w.actor(w.lead), team_id=w.ob.id, week=WEEK)
    with pytest.raises(PermissionDenied):
        review_queue(session=s, actor=w.actor(w.agent), team_id=w.maint.id, week=WEEK)
    review_queue(session=s, actor=w.actor(w.sup), team_id=w.ob.id, week=WEEK)


def test_training_data_never_enters_the_queue(world):
    s, w = world
    pseud = add_customer(s, "训练客户", 4, training=True)
    add_call(s, w.agent, pseud, local(MONDAY, 10))
    s.commit()
    assert review_queue(session=s, actor=w.actor(w.lead), team_id=w.maint.id, week=WEEK).candidates == 0
