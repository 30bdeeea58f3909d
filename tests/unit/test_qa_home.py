"""Home tiles of the QA domain, and the Chinese for every refusal message and code label."""

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlmodel import Session

from console.i18n import set_language, t
from console.locale import ZH
from console.qa import home_tiles
from console.qa.common import CODE_LABELS, QAError
from console.qa.evaluations import dispute, submit_evaluation
from console.timeutil import local_date, utcnow
from tests.unit.factories_qa import add_call, add_customer, full_answers, local, make_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = make_world(s)
        s.commit()
        yield s, w


def tiles_by_label(s, actor, today):
    return {tile.label: tile for tile in home_tiles(session=s, actor=actor, today=today)}


def test_tiles_per_role(world):
    s, w = world
    now = utcnow()
    today = local_date(now)
    cust = add_customer(s, "何先生", 3)
    calls = [add_call(s, w.agent, cust, now - dt.timedelta(hours=h)) for h in (30, 5)]
    ids = [
        submit_evaluation(
            session=s,
            actor=w.actor(w.lead),
            call_id=c.id,
            answers=full_answers(s),
            violations={},
            now=now - dt.timedelta(hours=h),
        )
        for c, h in zip(calls, (29, 4), strict=True)
    ]
    # the agent: two evaluations to acknowledge, the nearest last day is 7 days after the older submission
    agent_tiles = tiles_by_label(s, w.actor(w.agent), today)
    tile = agent_tiles["Evaluations to acknowledge"]
    first_day = local_date(now - dt.timedelta(hours=29)) + dt.timedelta(days=7)
    assert tile.value.startswith("2") and first_day.isoformat() in tile.value and tile.alert and tile.page == "call_qa"
    # the lead: this week's queue (its exact count is tested below)
    lead_tiles = tiles_by_label(s, w.actor(w.lead), today)
    assert "This week's review queue" in lead_tiles
    # the supervisor: open disputes
    assert tiles_by_label(s, w.actor(w.sup), today)["Open disputes"].value == "0"
    dispute(session=s, actor=w.actor(w.agent), evaluation_id=ids[0], item_ids=[next(iter(full_answers(s)))], reason="x")
    assert tiles_by_label(s, w.actor(w.sup), today)["Open disputes"].value == "1"
    assert tiles_by_label(s, w.actor(w.agent), today)["Evaluations to acknowledge"].value.startswith("1")
    assert tiles_by_label(s, w.actor(w.trainee), today) == {}


def test_lead_queue_tile_counts_what_is_left(world):
    s, w = world
    monday = dt.date(2026, 11, 2)
    cust = add_customer(s, "秦女士", 4)
    c1 = add_call(s, w.agent, cust, local(monday, 10))
    add_call(s, w.agent2, cust, local(monday, 11))
    submit_evaluation(session=s, actor=w.actor(w.lead), call_id=c1.id, answers=full_answers(s), violations={})
    tile = tiles_by_label(s, w.actor(w.lead), monday + dt.timedelta(days=2))["This week's review queue"]
    assert tile.value == "1 to score of 2"


def test_every_refusal_and_code_label_has_chinese():
    templates = set(CODE_LABELS.values())
    pattern = re.compile(r"""QA(?:Error|PermissionDenied)\(\s*(["'])((?:(?!\1).)+)\1""")
    for path in (ROOT / "console" / "qa").glob("*.py"):
        templates |= {m.group(2) for m in pattern.finditer(path.read_text(encoding="utf-8"))}
    assert len(templates) > 60
    assert sorted(x for x in templates if x not in ZH) == []


def test_refusals_are_shown_in_the_users_language():
    err = QAError(
        "The dispute window closed on {day}; the evaluation was acknowledged automatically.", day="2026-11-09"
    )
    try:
        set_language("zh")
        assert str(err) == "申诉期已于 2026-11-09 结束；此质检已自动确认。"
        assert t(str(err)) == str(err)  # pages translate again: a no-op
    finally:
        set_language("en")
    assert str(err).startswith("The dispute window closed on 2026-11-09")
