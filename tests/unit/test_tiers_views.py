"""Distribution now and over time, drill-down, near threshold / at risk, ladder edits, colours, Home tiles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, func, select

from console.assignment.exports import to_csv_bytes
from console.meta import get_meta
from console.permissions import Actor, PermissionDenied
from console.tiers.colors import tier_color_scale
from console.tiers.common import TierError
from console.tiers.distribution import (
    CACHE_KEY,
    department_history,
    distribution_now,
    movement_matrix,
    net_flow,
    reconstructed_counts,
    tier_history,
    ups_and_downs,
)
from console.tiers.drill import Drill, customer_history, drill_customers, drill_export
from console.tiers.engine import evaluate, set_override
from console.tiers.home import home_tiles
from console.tiers.ladder import coerce_rows, ladder_table, preview_ladder, save_ladder, validate_ladder
from console.tiers.risk import at_risk, near_threshold, risk_counts
from console.timeutil import local_midnight_utc, local_to_utc
from models import AuditLog, Call, Customer, TierChange, TierLevel
from tests.unit import factories_tiers as f

SUP = Actor(user_id=None, username="sup", role="supervisor")


def at(day: dt.date) -> dt.datetime:
    return local_to_utc(day, dt.time(10, 0))


def run(engine, day: dt.date, review: bool = False):
    return evaluate(engine, as_of=day, review=review, today=day, now=at(day))


# ------------------------------------------------------------------------------------------- now


def test_distribution_now_counts_shares_and_breakdowns(engine):
    with Session(engine) as s:
        t1 = f.team(s, "T1")
        m1 = f.manager(s, "M1", team_id=t1.id, capacity=10)
        m2 = f.manager(s, "M2", level="junior")
        f.customer(s, "A", tier=1, manager_id=m1.id, region="深圳")
        f.customer(s, "B", tier=2, manager_id=m1.id)
        f.customer(s, "C", tier=2, manager_id=m2.id)
        f.customer(s, "D", tier=0)
        training = f.customer(s, "T", tier=3)
        training.is_training = True
        s.add(training)
        s.commit()
        now = distribution_now(session=s, actor=SUP, today=dt.date(2026, 11, 25))
        mine = distribution_now(
            session=s,
            actor=Actor(user_id=None, username="m", role="client_manager", staff_id=m1.id),
            today=dt.date(2026, 11, 25),
        )
    assert now.total == 4  # training data never counts
    assert list(now.tiers["count"]) == [1, 1, 2, 0, 0, 0]
    assert list(now.tiers["name"]) == ["Member", "Silver", "Gold", "Platinum", "Diamond", "Supreme"]
    assert now.tiers["share"].sum() == pytest.approx(1.0)
    region = {(r.region, r["rank"]): r["count"] for _, r in now.by_region.iterrows()}
    assert region == {("深圳", 1): 1, ("广州", 2): 2, ("广州", 0): 1}
    team = {(r.team, r["rank"]): r["count"] for _, r in now.by_team.iterrows()}
    assert team == {("Team T1", 1): 1, ("Team T1", 2): 1, ("", 2): 1, ("", 0): 1}
    m1_row = now.by_manager[now.by_manager["code"] == "M1"].iloc[0]
    assert (m1_row.vips, m1_row.load, m1_row.capacity, m1_row.utilisation) == (2, 3, 10, pytest.approx(0.3))
    assert mine.total == 2 and mine.scope == "portfolio"


# ------------------------------------------------------------------------------------------- over time


def _history_scenario(engine):
    """Customers created in January 2026 whose purchases move them through spring; returns the March snapshot."""
    with Session(engine) as s:
        created = at(dt.date(2026, 1, 5))
        a = f.customer(s, "A", created=created)
        b = f.customer(s, "B", created=created)
        f.customer(s, "C", tier=3, created=created)
        f.customer(s, "D", created=created)
        f.buy(s, a.id, dt.date(2026, 2, 10), 12_000)  # Gold in February
        f.buy(s, b.id, dt.date(2026, 3, 10), 6_000)  # Silver in March
        f.buy(s, b.id, dt.date(2026, 4, 20), 20_000)  # Platinum in April
        s.commit()
    run(engine, dt.date(2026, 2, 15))
    run(engine, dt.date(2026, 3, 31))
    with Session(engine) as s:
        snapshot = [0] * 6
        for rank, n in s.exec(select(Customer.tier_rank, func.count()).group_by(Customer.tier_rank)).all():
            snapshot[rank] = n
    run(engine, dt.date(2026, 4, 25))
    run(engine, dt.date(2026, 5, 2), review=True)  # C (Platinum, nothing bought) steps down to Gold
    return snapshot


def test_a_past_month_reconstructed_from_events_equals_the_snapshot_taken_then(engine):
    snapshot = _history_scenario(engine)
    with Session(engine) as s:
        history = tier_history(
            session=s,
            actor=SUP,
            start_month=dt.date(2026, 1, 1),
            end_month=dt.date(2026, 6, 1),
            today=dt.date(2026, 6, 10),
        )
        march = history.mix[history.mix["month"] == "2026-03"].sort_values("rank")["count"].tolist()
        assert march == snapshot == [1, 1, 1, 1, 0, 0]
        assert reconstructed_counts(s, local_midnight_utc(dt.date(2026, 4, 1))) == snapshot
        may = history.mix[history.mix["month"] == "2026-05"].sort_values("rank")["count"].tolist()
        assert may == [1, 0, 2, 1, 0, 0]
        assert history.partial_month == "2026-06"
        june = history.mix[history.mix["month"] == "2026-06"]["count"].sum()
        assert june == 4


def test_movement_matrix_net_flow_and_ups_and_downs(engine):
    _history_scenario(engine)
    with Session(engine) as s:
        history = tier_history(
            session=s,
            actor=SUP,
            start_month=dt.date(2026, 2, 1),
            end_month=dt.date(2026, 5, 1),
            today=dt.date(2026, 6, 10),
        )
    matrix = {(r.from_rank, r.to_rank): r["count"] for _, r in movement_matrix(history.moves).iterrows()}
    assert matrix == {(0, 2): 1, (0, 1): 1, (1, 3): 1, (3, 2): 1}
    flow = net_flow(history.moves).set_index("rank")
    assert flow.loc[0, "net"] == -2 and flow.loc[2, "net"] == 2 and flow.loc[3, "net"] == 0
    per_month = ups_and_downs(history.moves, history.months).set_index("month")
    assert per_month.loc["2026-02"].tolist() == [1, 0]
    assert per_month.loc["2026-05"].tolist() == [0, 1]


def test_the_department_cache_survives_new_events_and_rebuilds_for_backdated_ones(engine):
    _history_scenario(engine)
    today = dt.date(2026, 6, 10)
    with Session(engine) as s:
        first = department_history(s, today=today)
        s.commit()
        cached = get_meta(s, CACHE_KEY)
        assert cached["through"] == "2026-05" and cached["mix"]["2026-03"] == [1, 1, 1, 1, 0, 0]
        cid = s.exec(select(Customer.id).where(Customer.code == "D")).one()
        # An event this month leaves the completed months alone.
        s.add(TierChange(customer_id=cid, from_rank=0, to_rank=1, kind="upgrade", at=at(dt.date(2026, 6, 9))))
        s.commit()
        assert department_history(s, today=today).mix == first.mix
        s.commit()
        # A back-dated event (say, a repair) rebuilds the cache.
        s.add(TierChange(customer_id=cid, from_rank=1, to_rank=0, kind="downgrade", at=at(dt.date(2026, 3, 2))))
        s.commit()
        rebuilt = department_history(s, today=today)
        assert rebuilt.mix["2026-03"] == [1, 1, 1, 1, 0, 0]  # D: Member -> (Silver in June) -> ... March still Member
        assert rebuilt.moves["2026-03"] != first.moves["2026-03"]


def test_a_client_manager_sees_the_history_of_their_portfolio_only(engine):
    with Session(engine) as s:
        m = f.manager(s, "M1")
        mine = f.customer(s, "MINE", manager_id=m.id, tier=1, created=at(dt.date(2026, 1, 5)))
        f.customer(s, "OTHER", tier=1, created=at(dt.date(2026, 1, 5)))
        s.commit()
        actor = Actor(user_id=None, username="m", role="client_manager", staff_id=m.id)
        history = tier_history(
            session=s,
            actor=actor,
            start_month=dt.date(2026, 1, 1),
            end_month=dt.date(2026, 3, 1),
            today=dt.date(2026, 6, 1),
        )
        assert history.mix.groupby("month")["count"].sum().tolist() == [1, 1, 1]
        assert mine.id


# ------------------------------------------------------------------------------------------- drill-down


def test_drill_downs_list_the_customers_behind_the_numbers(engine):
    _history_scenario(engine)
    today = dt.date(2026, 6, 10)
    with Session(engine) as s:
        tier = drill_customers(session=s, actor=SUP, drill=Drill(kind="tier", rank=2), today=today)
        assert tier.total == 2 and sorted(tier.rows["code"]) == ["A", "C"]
        row = tier.rows.set_index("code").loc["C"]
        assert "Platinum→Gold (Downgrade)" in row.history and row.tier == "Gold"
        cell = drill_customers(
            session=s,
            actor=SUP,
            drill=Drill(kind="cell", from_rank=1, to_rank=3, start="2026-04", end="2026-04"),
            today=today,
        )
        assert list(cell.rows["code"]) == ["B"]
        month = drill_customers(session=s, actor=SUP, drill=Drill(kind="month", rank=1, month="2026-03"), today=today)
        assert list(month.rows["code"]) == ["B"]
        member_march = drill_customers(
            session=s, actor=SUP, drill=Drill(kind="month", rank=0, month="2026-03"), today=today
        )
        assert list(member_march.rows["code"]) == ["D"]
        frame, cut = drill_export(session=s, actor=SUP, drill=Drill(kind="tier", rank=2), today=today)
        assert not cut and list(frame.columns) == ["code", "name", "region", "tier", "manager", "tier_since", "history"]
        assert to_csv_bytes(frame).startswith(b"\xef\xbb\xbf")
        cid = s.exec(select(Customer.id).where(Customer.code == "C")).one()
        events = customer_history(session=s, actor=SUP, customer_id=cid, today=today)
        assert list(events["kind"]) == ["Downgrade", "First record"]


def test_lists_follow_the_scope_of_the_role(engine):
    with Session(engine) as s:
        team = f.team(s, "T1")
        m = f.manager(s, "M1", team_id=team.id)
        agent = f.manager(s, "AG1", team_id=team.id)
        agent.role = "agent"
        s.add(agent)
        other = f.manager(s, "M2")
        own = f.customer(s, "OWN", tier=1, manager_id=m.id)
        called = f.customer(s, "CALLED", tier=1, manager_id=other.id)
        f.customer(s, "FAR", tier=1, manager_id=other.id)
        s.add(
            Call(
                reference="CALL1",
                customer_id=called.id,
                caller_id=agent.id,
                stream="maintenance",
                call_type="care",
                started_at=at(dt.date(2026, 11, 1)),
                outcome="no_answer",
            )
        )
        s.commit()
        drill = Drill(kind="tier", rank=1)
        cm = Actor(user_id=None, username="m", role="client_manager", staff_id=m.id)
        lead = Actor(user_id=None, username="l", role="team_lead", team_id=team.id)
        today = dt.date(2026, 11, 25)
        assert list(drill_customers(session=s, actor=cm, drill=drill, today=today).rows["code"]) == ["OWN"]
        assert sorted(drill_customers(session=s, actor=lead, drill=drill, today=today).rows["code"]) == [
            "CALLED",
            "OWN",
        ]
        assert drill_customers(session=s, actor=SUP, drill=drill, today=today).total == 3
        with pytest.raises(PermissionDenied):
            customer_history(session=s, actor=cm, customer_id=called.id, today=today)
        with pytest.raises(PermissionDenied):
            drill_customers(session=s, actor=Actor(user_id=None, username="a", role="agent"), drill=drill, today=today)
        assert own.id


# ------------------------------------------------------------------------------------------- near / at risk


def test_near_threshold_is_within_ten_percent_of_the_next_tier(engine):
    today = dt.date(2026, 11, 25)
    with Session(engine) as s:
        m = f.manager(s, "M1")
        near = f.customer(s, "NEAR", tier=1, manager_id=m.id)
        f.buy(s, near.id, today - dt.timedelta(days=5), 9_000)  # exactly 90 % of Gold's ¥10,000
        short = f.customer(s, "SHORT", tier=1, manager_id=m.id)
        f.buy(s, short.id, today - dt.timedelta(days=5), 8_999.99)
        count = f.customer(s, "COUNT", tier=1, manager_id=m.id)
        f.buy(s, count.id, today - dt.timedelta(days=5), 10, n=9)  # 9 of Gold's 10 purchases
        member = f.customer(s, "MEMBER", tier=0)
        f.buy(s, member.id, today - dt.timedelta(days=5), 4_600)
        s.commit()
        page = near_threshold(session=s, actor=SUP, today=today)
        assert sorted(page.rows["code"]) == ["COUNT", "MEMBER", "NEAR"]
        row = page.rows.set_index("code").loc["NEAR"]
        assert (row.next_rank, row.spend, row.spend_gap, row.purchases_gap) == (2, "¥9,000", "¥1,000", 9)
        mine = near_threshold(session=s, actor=SUP, today=today, manager=m.id)
        assert sorted(mine.rows["code"]) == ["COUNT", "NEAR"]
        gold = s.exec(select(TierLevel).where(TierLevel.rank == 2)).one()
        gold.require_both = True  # both measures must be within 10 % now
        s.add(gold)
        s.commit()
        assert near_threshold(session=s, actor=SUP, today=today).total == 1  # only the Member near Silver


def test_at_risk_counts_only_purchases_still_in_the_window_at_the_next_review(engine):
    today = dt.date(2026, 11, 25)  # next review 2027-01-01: its window starts 2026-01-02
    with Session(engine) as s:
        m = f.manager(s, "M1")
        risky = f.customer(s, "RISKY", tier=2, manager_id=m.id)
        f.buy(s, risky.id, dt.date(2026, 1, 1), 12_000)  # in today's window, out of the review's window
        f.buy(s, risky.id, dt.date(2026, 6, 1), 3_000)
        safe = f.customer(s, "SAFE", tier=2, manager_id=m.id)
        f.buy(s, safe.id, dt.date(2026, 1, 2), 12_000)  # the first day of the review's window
        pinned = f.customer(s, "PINNED", tier=1, manager_id=m.id)
        lapsing = f.customer(s, "LAPSING", tier=1, manager_id=m.id)
        sup = f.actor_of(f.user(s, "sup", "supervisor"))
        set_override(
            session=s, actor=sup, customer_id=pinned.id, rank=3, reason="Key", until=dt.date(2027, 3, 1), today=today
        )
        set_override(
            session=s, actor=sup, customer_id=lapsing.id, rank=3, reason="Key", until=dt.date(2026, 12, 20), today=today
        )
        supreme = f.customer(s, "SUPREME", tier=5, supreme=True)
        s.commit()
        page = at_risk(session=s, actor=SUP, today=today)
        assert page.review_date == dt.date(2027, 1, 1)
        rows = page.rows.set_index("code")
        assert sorted(rows.index) == ["LAPSING", "RISKY"]
        assert (rows.loc["RISKY", "falls_to"], rows.loc["RISKY", "spend_gap"]) == (1, "¥7,000")
        assert rows.loc["LAPSING", "falls_to"] == 0  # a lapsing pin goes straight to the qualified tier
        counts = risk_counts(session=s, actor=SUP, today=today)
        assert (counts.at_risk, counts.near) == (2, 0)
        assert supreme.id


# ------------------------------------------------------------------------------------------- ladder


def _admin() -> Actor:
    return Actor(user_id=None, username="admin", role="admin")


def test_ladder_validation_refuses_overlaps_and_bad_values(engine):
    today = dt.date(2026, 11, 25)
    with Session(engine) as s:
        rows = ladder_table(session=s, actor=_admin(), day=today)
    assert validate_ladder(rows, effective_from=today, today=today) == []
    rows[2].min_spend_yuan = 5_000  # Gold no longer above Silver
    rows[3].ratio = 0
    rows[4].color = "blue"
    errors = validate_ladder(rows, effective_from=today - dt.timedelta(days=1), today=today)
    assert any("today (2026-11-25) or later" in e for e in errors)
    assert "Spend thresholds must rise strictly with rank: Gold (¥5,000) is not above Silver (¥5,000)." in errors
    assert "Platinum: VIPs per manager must be a positive whole number." in errors
    assert "Diamond: the colour must look like #1a2b3c." in errors
    with Session(engine) as s:
        with pytest.raises(TierError, match="rise strictly"):
            save_ladder(session=s, actor=_admin(), rows=rows, effective_from=today, today=today)
        s.rollback()
        assert s.exec(select(func.count()).select_from(TierLevel)).one() == 6


def test_coerce_rows_reports_what_is_not_a_whole_number():
    from console.tiers.ladder import LadderRow

    base = [LadderRow(1, "silver", "Silver", "银卡", 5000, 5, False, 1000, 1, 90, "#8e9aaf")]
    rows, errors = coerce_rows([{"rank": 1, "min_spend_yuan": "abc", "min_purchases": 6.0, "units": 1.5}], base)
    assert rows[0].min_purchases == 6 and rows[0].min_spend_yuan == 5000
    assert errors == ["Silver: Spend ≥ (¥) must be a whole number.", "Silver: Units must be a whole number."]


def test_a_ladder_edit_is_effective_dated_and_previewed(engine):
    today = dt.date(2026, 11, 25)
    with Session(engine) as s:
        a = f.customer(s, "A", tier=1)
        f.buy(s, a.id, today - dt.timedelta(days=3), 8_000)  # Silver now; Gold if Gold starts at ¥8,000
        b = f.customer(s, "B", tier=1)
        f.buy(s, b.id, today - dt.timedelta(days=3), 5_500)  # Silver now; Member if Silver starts at ¥6,000
        s.commit()
        a_id = a.id
        rows = ladder_table(session=s, actor=_admin(), day=today)
        rows[1].min_spend_yuan, rows[1].min_purchases = 6_000, 6
        rows[2].min_spend_yuan = 8_000
        preview = preview_ladder(session=s, actor=_admin(), rows=rows, today=today)
        assert (preview.upgrades_now, preview.at_risk_now, preview.changed) == (1, 1, 2)
        assert (preview.upgrades_current, preview.at_risk_current) == (0, 0)
        later = today + dt.timedelta(days=10)
        save_ladder(session=s, actor=_admin(), rows=rows, effective_from=later, today=today)
        s.commit()
        assert (
            s.exec(select(AuditLog).where(AuditLog.action == "tiers.ladder_edit")).one().entity_id == later.isoformat()
        )
        assert ladder_table(session=s, actor=_admin(), day=today)[2].min_spend_yuan == 10_000
        assert ladder_table(session=s, actor=_admin(), day=later)[2].min_spend_yuan == 8_000
        with pytest.raises(PermissionDenied):
            save_ladder(session=s, actor=SUP, rows=rows, effective_from=later, today=today)
    run(engine, today)
    with Session(engine) as s:
        assert f.tier(s, a_id) == 1  # the new ladder is not in force yet
    run(engine, later)
    with Session(engine) as s:
        assert f.tier(s, a_id) == 2


# ------------------------------------------------------------------------------------------- colours, Home


def test_one_colour_scale_in_rank_order(engine):
    with Session(engine) as s:
        scale = tier_color_scale(s, dt.date(2026, 11, 25)).to_dict()
    assert scale["domain"] == ["Member", "Silver", "Gold", "Platinum", "Diamond", "Supreme"]
    assert scale["range"][2] == "#d4a017"


def test_home_tiles_per_role(engine):
    today = dt.date(2026, 11, 25)
    with Session(engine) as s:
        m = f.manager(s, "M1")
        c = f.customer(s, "RISKY", tier=2, manager_id=m.id)
        f.buy(s, c.id, dt.date(2025, 12, 30), 12_000)
        s.commit()
        agent = home_tiles(session=s, actor=Actor(user_id=None, username="a", role="agent"), today=today)
        cm = home_tiles(
            session=s, actor=Actor(user_id=None, username="m", role="client_manager", staff_id=m.id), today=today
        )
        sup_before = home_tiles(session=s, actor=SUP, today=today)
    assert agent == []
    assert [(t.label, t.value) for t in cm] == [("At risk at the next review", "1")]
    assert ("Tier evaluation", "never") in [(t.label, t.value) for t in sup_before]
    evaluate(engine, as_of=today, today=today)
    with Session(engine) as s:
        labels = {t.label: t for t in home_tiles(session=s, actor=SUP, today=today)}
    assert labels["Tier evaluation"].value.endswith("minutes ago") and not labels["Tier evaluation"].alert
    assert labels["Flags from the last evaluation"].value == "0"
