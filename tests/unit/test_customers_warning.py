"""Early warning (issue 7 item 6) on a small fixture: downgrade share per quarter (portfolio at the quarter's start,
downgrades counted for the holder just before), average QA score, the weakest section and its trend; per team."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from console.customers.warning import early_warning, quarters
from console.permissions import PermissionDenied
from tests.unit.factories_customers import TODAY, assign, call, customer, evaluate, make_world, on, tier_change

Q3 = dt.date(2026, 7, 1)
Q4 = dt.date(2026, 10, 1)


def test_quarters_are_the_previous_and_the_current_to_date():
    q = quarters(TODAY)
    assert [(x.start, x.end, x.period) for x in q] == [
        (Q3, Q4, "2026-Q3"),
        (Q4, TODAY + dt.timedelta(days=1), "2026-Q4"),
    ]
    assert q[1].label == "2026-Q4 (to date)"
    assert quarters(dt.date(2026, 1, 3))[0].start == dt.date(2025, 10, 1)


def _fixture(s: Session):
    w = make_world(s)
    junior = [customer(s, 2, mgr=w.junior) for _ in range(4)]
    senior = [customer(s, 3, mgr=w.senior) for _ in range(2)]
    tier_change(s, junior[0], 1, on(dt.date(2026, 8, 15)))  # Q3, junior held it
    assign(s, junior[1], w.senior, on(dt.date(2026, 9, 1)))  # moved to senior before Q4
    tier_change(s, junior[1], 1, on(dt.date(2026, 10, 1), hour=2))  # Q4, the senior held it
    tier_change(s, junior[2], 1, on(dt.date(2026, 10, 1), hour=2))  # Q4, junior
    tier_change(s, junior[3], 1, on(dt.date(2026, 6, 30)))  # before the window: not counted
    tier_change(s, senior[0], 4, on(dt.date(2026, 10, 5)), kind="upgrade")  # upgrades are not downgrades
    # QA: the junior's scores fall, problem handling most; the senior is scored in Q4 only
    full = {"problem_handling": 0.6}
    evaluate(s, call(s, w.junior, junior[0], on(dt.date(2026, 7, 10))), w.lead, total=90.0, section_share=full)
    evaluate(s, call(s, w.junior, junior[1], on(dt.date(2026, 8, 10))), w.lead, total=80.0, section_share=full)
    weak = {"problem_handling": 0.4}
    evaluate(s, call(s, w.junior, junior[2], on(dt.date(2026, 10, 20))), w.lead, total=70.0, section_share=weak)
    evaluate(s, call(s, w.junior, junior[2], on(dt.date(2026, 10, 21))), w.lead, total=None, passed=None)  # not scored
    evaluate(s, call(s, w.junior, junior[2], on(dt.date(2026, 10, 22))), w.lead, total=10.0, void=True)  # overturned
    evaluate(s, call(s, w.senior, senior[0], on(dt.date(2026, 11, 2))), w.lead, total=95.0, section_share={})
    evaluate(s, call(s, w.ob_agent, senior[1], on(dt.date(2026, 11, 3))), w.ob_lead, total=88.0, section_share={})
    s.commit()
    return w


def test_per_manager_figures(engine):
    with Session(engine) as s:
        w = _fixture(s)
        ew = early_warning(session=s, actor=w.actor(w.sup), today=TODAY)
        rows = {r["id"]: r for r in ew.managers.to_dict("records")}
        j, sen, ent = rows[w.junior.id], rows[w.senior.id], rows[w.enterprise.id]
        assert (j["portfolio_0"], j["downgraded_0"], j["share_0"]) == (4, 1, 0.25)
        assert (j["portfolio_1"], j["downgraded_1"]) == (3, 1)
        assert j["share_1"] == pytest.approx(1 / 3)
        assert (sen["portfolio_0"], sen["downgraded_0"], sen["portfolio_1"], sen["downgraded_1"]) == (2, 0, 3, 1)
        assert (j["evaluations_0"], j["score_0"], j["evaluations_1"], j["score_1"]) == (2, 85.0, 1, 70.0)
        assert j["score_change"] == -15.0
        assert j["weakest_code"] == "problem_handling"
        assert j["weakest_0"] == pytest.approx(17 / 25) and j["weakest_1"] == pytest.approx(8 / 25)
        assert j["weakest_trend"] == pytest.approx(-9 / 25)
        assert pd_isna(sen["score_0"]) and sen["score_1"] == 95.0 and pd_isna(sen["score_change"])
        assert ent["portfolio_0"] == 0 and pd_isna(ent["share_0"])
        assert list(ew.managers["id"])[0] == w.junior.id  # the highest later-quarter share first
        chart = ew.chart[ew.chart["level"] == "manager"].set_index("id")
        assert chart.loc[w.junior.id, "score_change"] == -15.0
        assert chart.loc[w.junior.id, "share_last"] == pytest.approx(1 / 3)


def test_per_team_figures(engine):
    with Session(engine) as s:
        w = _fixture(s)
        ew = early_warning(session=s, actor=w.actor(w.sup), today=TODAY)
        teams = {r["id"]: r for r in ew.teams.to_dict("records")}
        m, o = teams[w.maint.id], teams[w.ob.id]
        assert (m["portfolio_0"], m["downgraded_0"], m["portfolio_1"], m["downgraded_1"]) == (6, 1, 6, 2)
        assert (m["evaluations_0"], m["score_0"]) == (2, 85.0)
        assert (m["evaluations_1"], m["score_1"]) == (2, pytest.approx((70.0 + 95.0) / 2))
        assert m["people"] == 5  # the lead, the agent and the three client managers
        assert o["portfolio_1"] == 0 and pd_isna(o["share_1"]) and o["score_1"] == 88.0


def test_only_supervisors_see_the_early_warning(engine):
    with Session(engine) as s:
        w = make_world(s)
        s.commit()
        for staff in (w.lead, w.junior, w.agent):
            with pytest.raises(PermissionDenied):
                early_warning(session=s, actor=w.actor(staff), today=TODAY)
        empty = early_warning(session=s, actor=w.actor(w.sup), today=TODAY)
        assert set(empty.managers["id"]) == {w.junior.id, w.senior.id, w.enterprise.id}
        assert empty.managers["score_change"].isna().all()


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
