"""The pure assignment rules: eligibility, units and load, the auto-assign key, planning, spread."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.assignment.rules import (
    Ladder,
    Manager,
    Move,
    Plan,
    Vip,
    assign_key,
    auto_assign_order,
    capacity_problems,
    choose_manager,
    leave_overlaps,
    level_allows,
    load_of,
    manager_status,
    plan_placements,
    plan_rebalance,
    refusal,
    spread,
    utilisation,
)
from console.masking import looks_like_full_phone, mask_id, mask_phone, normalise_phone

LADDER = Ladder.default()
T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def mgr(mid, code, level="senior", capacity=100, load=0, region="广州", status="active"):
    return Manager(
        id=mid, code=code, name=code, level=level, capacity=capacity, load=load, region=region, status=status
    )


# ------------------------------------------------------------------------------------------------ eligibility


@pytest.mark.parametrize(
    ("level", "allowed"),
    [
        ("junior", [1, 2]),
        ("senior", [1, 2, 3, 4]),
        ("enterprise", [1, 2, 3, 4, 5]),
        (None, []),
        ("intern", []),
    ],
)
def test_level_allows_per_spec(level, allowed):
    assert [r for r in range(0, 6) if level_allows(level, r, LADDER)] == allowed


def test_members_are_never_assigned():
    assert not level_allows("enterprise", 0, LADDER)


def test_supreme_is_enterprise_only_by_the_ladder_flag():
    # An admin could raise the senior level's reach, but the ladder's enterprise_only flag still wins.
    assert LADDER.tier(5).enterprise_only
    assert not level_allows("senior", 5, LADDER)
    assert level_allows("enterprise", 5, LADDER)


def test_units_and_load_from_the_ladder():
    assert [LADDER.units(r) for r in range(6)] == [0, 1, 2, 3, 5, 10]
    assert load_of([1, 1, 2, 4, 5], LADDER) == 1 + 1 + 2 + 5 + 10
    assert utilisation(500, 1000) == 0.5
    assert utilisation(0, 0) == 0.0
    assert utilisation(3, 0) == float("inf")


def test_refusal_reasons():
    m = mgr(1, "A", level="junior", capacity=10, load=9)
    assert refusal(m, 3, 3, LADDER) == "level"
    assert refusal(m, 1, 1, LADDER) is None  # exactly at the cap is allowed
    assert refusal(m, 2, 2, LADDER) == "capacity"
    assert refusal(mgr(2, "B", status="on_leave"), 1, 1, LADDER) == "on_leave"
    assert refusal(mgr(3, "C", status="exiting"), 1, 1, LADDER) == "exiting"
    assert refusal(mgr(4, "D", status="inactive"), 1, 1, LADDER) == "inactive"


def test_manager_status_on_a_date():
    d = dt.date(2026, 11, 10)
    base = dict(active=True, leave_start=None, leave_end=None, exit_date=None, today=d)
    assert manager_status(**base) == "active"
    assert manager_status(**{**base, "active": False}) == "inactive"
    assert manager_status(**{**base, "leave_start": d, "leave_end": d}) == "on_leave"
    assert (
        manager_status(**{**base, "leave_start": d - dt.timedelta(days=5), "leave_end": d - dt.timedelta(days=1)})
        == "active"
    )
    assert (
        manager_status(**{**base, "leave_start": d + dt.timedelta(days=1), "leave_end": d + dt.timedelta(days=3)})
        == "active"
    )
    assert manager_status(**{**base, "exit_date": d + dt.timedelta(days=3)}) == "exiting"
    assert manager_status(**{**base, "exit_date": d}) == "inactive"


def test_leave_overlap():
    a, b = dt.date(2026, 11, 10), dt.date(2026, 11, 20)
    assert leave_overlaps(dt.date(2026, 11, 15), dt.date(2026, 11, 25), a, b)
    assert leave_overlaps(dt.date(2026, 11, 1), dt.date(2026, 11, 10), a, b)
    assert not leave_overlaps(dt.date(2026, 11, 1), dt.date(2026, 11, 9), a, b)
    assert not leave_overlaps(None, None, a, b)


# ------------------------------------------------------------------------------------------------ the key


def test_key_same_region_first_even_if_busier():
    near = mgr(1, "Z9", load=80, region="深圳")
    far = mgr(2, "A1", load=0, region="广州")
    vip = Vip(1, "V1", 1, region="深圳")
    assert choose_manager(vip, [far, near], LADDER).code == "Z9"


def test_key_lowest_utilisation_after_the_move_across_capacities():
    # 50/100 now, but after a Diamond (5 units): 55/100 = .55 vs 100/200 -> 105/200 = .525
    a = mgr(1, "A", capacity=100, load=50)
    b = mgr(2, "B", capacity=200, load=100)
    vip = Vip(1, "V1", 4)
    assert assign_key(b, "广州", 5) < assign_key(a, "广州", 5)
    assert choose_manager(vip, [a, b], LADDER).code == "B"


def test_key_tie_break_by_manager_code():
    a = mgr(1, "CM002", load=10)
    b = mgr(2, "CM001", load=10)
    assert choose_manager(Vip(1, "V1", 1), [a, b], LADDER).code == "CM001"


def test_key_skips_ineligible_and_full_managers():
    full = mgr(1, "A", load=100)
    junior = mgr(2, "B", level="junior")
    away = mgr(3, "C", status="on_leave")
    ok = mgr(4, "D", load=99, region="深圳")
    assert choose_manager(Vip(1, "V1", 3), [full, junior, away, ok], LADDER) is None  # 99 + 3 > 100
    assert choose_manager(Vip(1, "V1", 1), [full, junior, away, ok], LADDER).code == "B"


def test_order_highest_tier_first_then_longest_waiting():
    vips = [
        Vip(1, "A", 1, waiting_since=T0),
        Vip(2, "B", 4, waiting_since=T0 + dt.timedelta(days=1)),
        Vip(3, "C", 4, waiting_since=T0),
        Vip(4, "D", 4, waiting_since=None),
        Vip(5, "E", 2, waiting_since=T0 - dt.timedelta(days=3)),
    ]
    assert [v.code for v in sorted(vips, key=auto_assign_order)] == ["C", "B", "D", "E", "A"]


# ------------------------------------------------------------------------------------------------ auto-assign plans


def test_plan_places_by_order_and_key_and_reports_the_rest():
    managers = {
        1: mgr(1, "J1", level="junior", capacity=4, region="广州"),
        2: mgr(2, "S1", level="senior", capacity=6, region="深圳"),
    }
    vips = [
        Vip(10, "P1", 3, region="广州", waiting_since=T0),  # platinum: only S1
        Vip(11, "G1", 2, region="广州", waiting_since=T0),  # gold: J1 (same region)
        Vip(12, "S5", 5, region="广州", waiting_since=T0),  # supreme: nobody is enterprise
        Vip(13, "G2", 2, region="深圳", waiting_since=T0),  # gold: S1 (same region) has 3 left -> 5/6
        Vip(14, "G3", 2, region="深圳", waiting_since=T0 + dt.timedelta(hours=1)),  # S1 full (5+2>6) -> J1
        Vip(15, "G4", 2, region="深圳", waiting_since=T0 + dt.timedelta(hours=2)),  # nobody has room
    ]
    moves, unplaced = plan_placements(vips, managers, LADDER, reason="new_vip")
    assert [(m.code, m.to_id) for m in moves] == [("P1", 2), ("G1", 1), ("G2", 2), ("G3", 1)]
    assert {(u.code, u.reason) for u in unplaced} == {("S5", "level"), ("G4", "capacity")}
    assert all(m.reason == "new_vip" and m.from_id is None for m in moves)


def test_plan_with_no_available_manager():
    managers = {1: mgr(1, "A", status="on_leave")}
    moves, unplaced = plan_placements([Vip(1, "V", 1)], managers, LADDER, reason="new_vip")
    assert moves == [] and unplaced[0].reason == "no_manager"


def test_exit_plan_moves_unplaceable_vips_to_unassigned():
    managers = {1: mgr(1, "OUT", load=12, status="exiting"), 2: mgr(2, "IN", capacity=5)}
    vips = [Vip(10, "D1", 4, manager_id=1), Vip(11, "D2", 4, manager_id=1), Vip(12, "G1", 2, manager_id=1)]
    moves, unplaced = plan_placements(vips, managers, LADDER, reason="manager_exit", exclude={1}, unplaced_to_none=True)
    assert [(m.code, m.to_id) for m in moves] == [("D1", 2), ("D2", None), ("G1", None)]
    assert [u.code for u in unplaced] == ["D2", "G1"]


managers_strategy = st.lists(
    st.tuples(
        st.sampled_from(["junior", "senior", "enterprise"]),
        st.integers(0, 40),  # capacity
        st.integers(0, 45),  # load (may start over the cap)
        st.sampled_from(["A", "B", "C", None]),
        st.sampled_from(["active", "active", "active", "on_leave", "exiting"]),
    ),
    min_size=1,
    max_size=8,
)
vips_strategy = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from(["A", "B", "C", None]), st.integers(0, 20)), max_size=40
)


def _build(ms, vs):
    managers = {
        i + 1: mgr(i + 1, f"M{(i * 7) % 10}{i}", level=lv, capacity=cap, load=load, region=rg, status=stt)
        for i, (lv, cap, load, rg, stt) in enumerate(ms)
    }
    vips = [
        Vip(100 + i, f"V{i:03d}", rank, region=rg, waiting_since=T0 + dt.timedelta(hours=h))
        for i, (rank, rg, h) in enumerate(vs)
    ]
    return managers, vips


@settings(max_examples=300, deadline=None)
@given(managers_strategy, vips_strategy)
def test_fast_plan_equals_the_reference_rule_and_never_exceeds_a_cap(ms, vs):
    managers, vips = _build(ms, vs)
    moves, unplaced = plan_placements(vips, managers, LADDER, reason="new_vip")
    # Reference: choose_manager VIP by VIP in auto-assign order.
    loads = {m.id: m.load for m in managers.values()}
    expected = []
    for v in sorted(vips, key=auto_assign_order):
        m = choose_manager(v, managers.values(), LADDER, loads=loads)
        if m is not None:
            loads[m.id] += LADDER.units(v.rank)
            expected.append((v.id, m.id))
    assert [(mv.customer_id, mv.to_id) for mv in moves] == expected
    assert len(moves) + len(unplaced) == len(vips)
    # No target is left over its cap, and only eligible managers receive VIPs.
    assert (
        capacity_problems(
            moves, {m.id: m.load for m in managers.values()}, {m.id: m.capacity for m in managers.values()}
        )
        == []
    )
    for mv in moves:
        target = managers[mv.to_id]
        assert target.available and level_allows(target.level, mv.rank, LADDER)


# ------------------------------------------------------------------------------------------------ rebalance


def _portfolios(vips):
    def get(mid):
        return [v for v in vips if v.manager_id == mid]

    return get


def test_rebalance_moves_lowest_tier_most_recent_first_until_at_cap():
    managers = {1: mgr(1, "OVER", capacity=10, load=14), 2: mgr(2, "ROOM", capacity=100, load=0)}
    vips = [
        Vip(1, "D", 4, manager_id=1, assigned_at=T0),  # 5
        Vip(2, "G-old", 2, manager_id=1, assigned_at=T0),  # 2
        Vip(3, "G-new", 2, manager_id=1, assigned_at=T0 + dt.timedelta(days=5)),  # 2
        Vip(4, "S-old", 1, manager_id=1, assigned_at=T0),  # 1
        Vip(5, "S-new", 1, manager_id=1, assigned_at=T0 + dt.timedelta(days=9)),  # 1
        Vip(6, "P", 3, manager_id=1, assigned_at=T0),  # 3
    ]
    result = plan_rebalance(managers, _portfolios(vips), LADDER)
    # 14 -> 13 (S-new) -> 12 (S-old) -> 10 (G-new): at the cap, stop.
    assert [m.code for m in result.moves] == ["S-new", "S-old", "G-new"]
    assert result.loads[1] == 10 and result.stuck == {}
    assert all(m.reason == "rebalance" for m in result.moves)


def test_rebalance_reports_a_manager_it_cannot_bring_under_the_cap():
    managers = {1: mgr(1, "OVER", capacity=10, load=15), 2: mgr(2, "SMALL", capacity=2, load=0)}
    vips = [Vip(i, f"S{i}", 1, manager_id=1, assigned_at=T0) for i in range(1, 16)]
    result = plan_rebalance(managers, _portfolios(vips), LADDER)
    assert len(result.moves) == 2 and result.stuck == {1: "no_room"}


def test_even_out_lowers_the_spread_and_respects_the_move_budget():
    managers = {1: mgr(1, "BUSY", load=80), 2: mgr(2, "IDLE", load=10), 3: mgr(3, "MID", load=50)}
    vips = [Vip(i, f"S{i:02d}", 1, manager_id=1, assigned_at=T0 + dt.timedelta(minutes=i)) for i in range(80)]
    before = spread({m.id: m.load for m in managers.values()}, managers)
    result = plan_rebalance(managers, _portfolios(vips), LADDER, even_out=True)
    after = spread(result.loads, managers)
    assert before == pytest.approx(0.7)
    assert after < 0.05
    assert sum(result.loads.values()) == 140  # nothing lost
    limited = plan_rebalance(managers, _portfolios(vips), LADDER, even_out=True, max_moves=5)
    assert len(limited.moves) == 5
    # Most recently assigned first.
    assert [m.code for m in limited.moves] == ["S79", "S78", "S77", "S76", "S75"]


@settings(max_examples=150, deadline=None)
@given(managers_strategy, st.lists(st.tuples(st.integers(1, 5), st.integers(0, 7)), max_size=40), st.booleans())
def test_rebalance_never_leaves_a_target_over_its_cap(ms, holdings, even_out):
    managers, _ = _build(ms, [])
    ids = list(managers)
    vips = [
        Vip(1000 + i, f"H{i:03d}", rank, manager_id=ids[owner % len(ids)], assigned_at=T0 + dt.timedelta(hours=i))
        for i, (rank, owner) in enumerate(holdings)
    ]
    for m in managers.values():
        m.load = load_of([v.rank for v in vips if v.manager_id == m.id], LADDER)
    before = {m.id: m.load for m in managers.values()}
    result = plan_rebalance(managers, _portfolios(vips), LADDER, even_out=even_out, max_moves=60)
    assert capacity_problems(result.moves, before, {m.id: m.capacity for m in managers.values()}) == []
    assert len({m.customer_id for m in result.moves}) == len(result.moves)  # each VIP moves at most once
    for mv in result.moves:
        assert managers[mv.to_id].available and level_allows(managers[mv.to_id].level, mv.rank, LADDER)
    # Sources only shed load; no over-cap source gets worse.
    for mid, m in managers.items():
        if before[mid] > m.capacity:
            assert result.loads[mid] <= before[mid]


# ------------------------------------------------------------------------------------------------ plans and checks


def test_capacity_check_counts_the_whole_batch():
    moves = [Move(1, "A", 1, 1, 1, 2, 0, "rebalance"), Move(2, "B", 1, 1, 2, 1, 0, "rebalance")]
    # A swap at the cap is fine; a one-way move to a full manager is not.
    assert capacity_problems(moves, {1: 5, 2: 5}, {1: 5, 2: 5}) == []
    assert capacity_problems(moves[:1], {1: 5, 2: 5}, {1: 5, 2: 5})[0].manager_id == 2


def test_plan_round_trips_through_job_parameters():
    plan = Plan(
        kind="leave_cover",
        moves=[Move(1, "A", 2, 2, 5, 6, 3, "cover")],
        subject_id=5,
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 9),
        previewed_at=T0,
    )
    again = Plan.from_params(plan.to_params())
    assert again.moves == plan.moves and (again.subject_id, again.start, again.end) == (5, plan.start, plan.end)
    assert "1 moves" in str(plan) and len(str(plan)) < 120


def test_per_manager_preview_rows():
    managers = {1: mgr(1, "A", capacity=10, load=12), 2: mgr(2, "B", capacity=10, load=1)}
    plan = Plan(kind="rebalance", managers=managers, loads_before={1: 12, 2: 1})
    plan.moves = [Move(1, "X", 2, 2, 1, 2, 0, "rebalance")]
    rows = {r["code"]: r for r in plan.per_manager()}
    assert (rows["A"]["load_before"], rows["A"]["load_after"], rows["A"]["vips_out"]) == (12, 10, 1)
    assert (rows["B"]["load_before"], rows["B"]["load_after"], rows["B"]["vips_in"]) == (1, 3, 1)
    assert plan.spread_before() == pytest.approx(1.1) and plan.spread_after() == pytest.approx(0.7)


# ------------------------------------------------------------------------------------------------ masking


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone(None) == ""
    assert mask_id("440101199001011234") == "4401**********1234"
    assert normalise_phone("+86-138-1234-5678") == "13812345678"
    assert looks_like_full_phone("138 1234 5678")
    assert not looks_like_full_phone("1381234")
    assert not looks_like_full_phone("C0001381234567")
