"""Pure assignment rules (SPEC §3): levels and eligibility, units / load / utilisation, the auto-assign
key and order, planning of auto-assign, rebalance and evening-out, the capacity check of a batch.

No database and no streamlit here: the services load plain values, call these, and write the result.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.i18n import t
from console.masking import mask_phone  # noqa: F401 - re-exported for pages (138****5678)
from models.assignment import ASSIGNMENT_REASONS, BATCH_KINDS

# Manager levels (SPEC §3): junior holds up to Gold, senior up to Diamond, enterprise any tier and
# alone holds Supreme (the ladder's enterprise_only flag).
LEVELS: tuple[str, ...] = ("junior", "senior", "enterprise")
LEVEL_MAX_RANK: dict[str, int] = {"junior": 2, "senior": 4, "enterprise": 5}

REASONS: tuple[str, ...] = ASSIGNMENT_REASONS
# Reasons a supervisor may pick for a manual reassignment or give in an import file.
MANUAL_REASONS: tuple[str, ...] = (
    "customer_request",
    "performance",
    "new_vip",
    "rebalance",
    "tier_change",
    "manager_leave",
    "manager_exit",
)
IMPORT_REASONS: tuple[str, ...] = (*MANUAL_REASONS, "import")
REASON_LABELS: dict[str, str] = {
    "new_vip": "New VIP",
    "rebalance": "Rebalance",
    "manager_leave": "Manager on leave",
    "manager_exit": "Manager exit",
    "cover": "Leave cover",
    "cover_end": "Cover ended",
    "customer_request": "Customer request",
    "performance": "Performance",
    "tier_change": "Tier change",
    "import": "Import",
    "undo": "Undo",
    "auto_assign": "Auto-assign",
    "seed": "Initial data",
}
BATCH_LABELS: dict[str, str] = {
    "auto_assign": "Auto-assign",
    "rebalance": "Rebalance",
    "leave_cover": "Leave cover",
    "exit": "Manager exit",
    "import": "Import",
    "bulk": "Manual reassignment",
    "undo": "Undo",
    "seed": "Initial data",
}
assert set(BATCH_LABELS) == set(BATCH_KINDS)
STATUSES: tuple[str, ...] = ("active", "on_leave", "exiting", "inactive")
STATUS_LABELS: dict[str, str] = {
    "active": "Active",
    "on_leave": "On leave",
    "exiting": "Exiting",
    "inactive": "Inactive",
}


class Refused(ValueError):  # noqa: N818 - the message is what the user reads
    """An assignment action refused with the reason; nothing was changed."""


class Stale(Refused):
    """A change refused because a VIP changed since it was loaded or previewed."""


# ------------------------------------------------------------------------------------------------ tiers


@dataclass(frozen=True)
class Tier:
    rank: int
    code: str
    name_en: str
    name_zh: str
    units: int
    contact_days: int | None = None
    enterprise_only: bool = False
    color: str = "#999999"


class Ladder:
    """The tier ladder in force: units, contact frequency and the enterprise-only flag per rank."""

    def __init__(self, tiers: Iterable[Tier]) -> None:
        self.tiers: dict[int, Tier] = {tier.rank: tier for tier in tiers}

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> Ladder:
        """From TierLevel rows (or anything with the same attributes)."""
        return cls(
            Tier(
                rank=row.rank,
                code=row.code,
                name_en=row.name_en,
                name_zh=row.name_zh,
                units=int(row.units),
                contact_days=row.contact_days,
                enterprise_only=bool(row.enterprise_only),
                color=row.color,
            )
            for row in rows
        )

    @classmethod
    def default(cls) -> Ladder:
        """SPEC §2's default ladder (for tests and tools without a database)."""
        rows = [
            (0, "member", "Member", "会员", 0, None, False),
            (1, "silver", "Silver", "银卡", 1, 90, False),
            (2, "gold", "Gold", "金卡", 2, 60, False),
            (3, "platinum", "Platinum", "铂金卡", 3, 45, False),
            (4, "diamond", "Diamond", "钻石卡", 5, 30, False),
            (5, "supreme", "Supreme", "至尊卡", 10, 30, True),
        ]
        return cls(Tier(r, c, en, zh, u, d, e) for r, c, en, zh, u, d, e in rows)

    def units(self, rank: int) -> int:
        tier = self.tiers.get(rank)
        return tier.units if tier else 0

    def tier(self, rank: int) -> Tier | None:
        return self.tiers.get(rank)

    def name(self, rank: int) -> str:
        tier = self.tiers.get(rank)
        if tier is None:
            return str(rank)
        from console.i18n import pick

        return pick(tier, "name")

    def contact_days(self, rank: int) -> int | None:
        tier = self.tiers.get(rank)
        return tier.contact_days if tier else None

    def vip_ranks(self) -> list[int]:
        return sorted(r for r in self.tiers if r > 0)


def level_allows(level: str | None, rank: int, ladder: Ladder | None = None) -> bool:
    """May a manager of this level hold a VIP of this tier? Members (rank 0) are never assigned."""
    if rank <= 0 or level not in LEVEL_MAX_RANK:
        return False
    if ladder is not None:
        tier = ladder.tier(rank)
        if tier is not None and tier.enterprise_only and level != "enterprise":
            return False
    return rank <= LEVEL_MAX_RANK[level]


def highest_rank_allowed(level: str | None, ladder: Ladder) -> int:
    return max((r for r in ladder.vip_ranks() if level_allows(level, r, ladder)), default=0)


# ------------------------------------------------------------------------------------------------ managers


def manager_status(
    *,
    active: bool,
    leave_start: dt.date | None,
    leave_end: dt.date | None,
    exit_date: dt.date | None,
    today: dt.date,
) -> str:
    """active | on_leave | exiting | inactive on a date."""
    if not active or (exit_date is not None and exit_date <= today):
        return "inactive"
    if exit_date is not None:
        return "exiting"
    if leave_start is not None and leave_start <= today and (leave_end is None or today <= leave_end):
        return "on_leave"
    return "active"


def leave_overlaps(leave_start: dt.date | None, leave_end: dt.date | None, start: dt.date, end: dt.date) -> bool:
    """Does a recorded leave overlap the period [start, end]?"""
    if leave_start is None:
        return False
    return leave_start <= end and (leave_end is None or leave_end >= start)


@dataclass
class Manager:
    """A client manager as the rules see them: level, region, capacity, current load, status."""

    id: int
    code: str
    name: str = ""
    level: str | None = None
    region: str | None = None
    capacity: int = 1000
    load: int = 0
    status: str = "active"
    team_id: int | None = None
    leave_start: dt.date | None = None
    leave_end: dt.date | None = None
    exit_date: dt.date | None = None

    @property
    def available(self) -> bool:
        """May receive VIPs: active, not on leave, not exiting."""
        return self.status == "active"

    def utilisation(self, extra_units: int = 0) -> float:
        return utilisation(self.load + extra_units, self.capacity)


def utilisation(load: int, capacity: int) -> float:
    if capacity <= 0:
        return 0.0 if load <= 0 else math.inf
    return load / capacity


def load_of(ranks: Iterable[int], ladder: Ladder) -> int:
    """Load = Σ units of a portfolio."""
    return sum(ladder.units(r) for r in ranks)


def refusal(manager: Manager, rank: int, units: int, ladder: Ladder, *, load: int | None = None) -> str | None:
    """Why a manager may not take a VIP of this tier now: inactive | on_leave | exiting | level | capacity."""
    if manager.status != "active":
        return manager.status
    if not level_allows(manager.level, rank, ladder):
        return "level"
    current = manager.load if load is None else load
    if current + units > manager.capacity:
        return "capacity"
    return None


def describe_refusal(code: str, manager: Manager, rank: int, ladder: Ladder, *, units: int = 0) -> str:
    """The user-facing sentence for a refusal code (translated)."""
    if code == "level":
        top = highest_rank_allowed(manager.level, ladder)
        return t(
            "{level} managers hold up to {tier}; this VIP is {vip_tier}.",
            level=t(manager.level or "none"),
            tier=ladder.name(top) if top else "-",
            vip_tier=ladder.name(rank),
        )
    if code == "capacity":
        return t(
            "No room: load {load} + {units} units would exceed the capacity of {capacity}.",
            load=manager.load,
            units=units,
            capacity=manager.capacity,
        )
    if code == "on_leave":
        return t("On leave until {end}.", end=manager.leave_end or "?")
    if code == "exiting":
        return t("Leaving on {date}.", date=manager.exit_date or "?")
    if code == "inactive":
        return t("Not active.")
    return code


# ------------------------------------------------------------------------------------------------ VIPs and moves


@dataclass(frozen=True)
class Vip:
    id: int
    code: str
    rank: int
    region: str | None = None
    manager_id: int | None = None
    version: int = 0
    waiting_since: dt.datetime | None = None
    assigned_at: dt.datetime | None = None


@dataclass(frozen=True)
class Move:
    customer_id: int
    code: str
    rank: int
    units: int
    from_id: int | None
    to_id: int | None
    version: int
    reason: str

    def as_list(self) -> list[Any]:
        return [self.customer_id, self.code, self.rank, self.units, self.from_id, self.to_id, self.version, self.reason]

    @classmethod
    def from_list(cls, row: Sequence[Any]) -> Move:
        cid, code, rank, units, from_id, to_id, version, reason = row
        return cls(int(cid), str(code), int(rank), int(units), from_id, to_id, int(version), str(reason))


@dataclass(frozen=True)
class Unplaced:
    """A VIP a plan could not place, and why (level | capacity | no_manager)."""

    customer_id: int
    code: str
    rank: int
    reason: str
    manager_id: int | None = None


_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def auto_assign_order(vip: Vip) -> tuple[int, dt.datetime, str]:
    """Highest tier first, then longest waiting (earliest waiting_since), then code."""
    return (-vip.rank, vip.waiting_since or _FAR_FUTURE, vip.code)


def assign_key(manager: Manager, region: str | None, units: int, *, load: int | None = None) -> tuple[int, float, str]:
    """The auto-assign key: same region first, lowest utilisation after the move, manager code."""
    current = manager.load if load is None else load
    same = 0 if region is not None and manager.region == region else 1
    return (same, utilisation(current + units, manager.capacity), manager.code)


def choose_manager(
    vip: Vip,
    managers: Iterable[Manager],
    ladder: Ladder,
    *,
    loads: Mapping[int, int] | None = None,
    exclude: Iterable[int] = (),
) -> Manager | None:
    """The best eligible manager for one VIP by the key (O(managers); the reference rule)."""
    units = ladder.units(vip.rank)
    skip = set(exclude)
    best: Manager | None = None
    best_key: tuple[int, float, str] | None = None
    for m in managers:
        if m.id in skip:
            continue
        load = m.load if loads is None else loads.get(m.id, m.load)
        if refusal(m, vip.rank, units, ladder, load=load) is not None:
            continue
        key = assign_key(m, vip.region, units, load=load)
        if best_key is None or key < best_key:
            best, best_key = m, key
    return best


def _why_unplaced(rank: int, managers: Iterable[Manager], ladder: Ladder, exclude: set[int]) -> str:
    pool = [m for m in managers if m.available and m.id not in exclude]
    if not pool:
        return "no_manager"
    if not any(level_allows(m.level, rank, ladder) for m in pool):
        return "level"
    return "capacity"


class _TierHeaps:
    """For one tier (fixed units): heaps of (utilisation after the move, code, id, version) per region and
    over all regions, with lazy invalidation (an entry is stale once its manager's version moved on)."""

    def __init__(self, pool: list[Manager], managers: Mapping[int, Manager], loads: dict[int, int], units: int):
        self.managers = managers
        self.loads = loads
        self.units = units
        self.version: dict[int, int] = {m.id: 0 for m in pool}
        self.by_region: dict[str, list[tuple[float, str, int, int]]] = {}
        self.everyone: list[tuple[float, str, int, int]] = []
        for m in pool:
            self.push(m.id)

    def push(self, mid: int) -> None:
        m = self.managers[mid]
        load = self.loads.get(mid, m.load)
        if load + self.units > m.capacity:
            return
        entry = (utilisation(load + self.units, m.capacity), m.code, mid, self.version[mid])
        heapq.heappush(self.everyone, entry)
        if m.region is not None:
            heapq.heappush(self.by_region.setdefault(m.region, []), entry)

    def touched(self, mid: int) -> None:
        """A manager's load changed: its old entries go stale, a fresh one is pushed."""
        if mid in self.version:
            self.version[mid] += 1
            self.push(mid)

    def _top(self, heap: list[tuple[float, str, int, int]] | None) -> int | None:
        while heap:
            _, _, mid, ver = heap[0]
            if ver != self.version[mid] or self.loads.get(mid, 0) + self.units > self.managers[mid].capacity:
                heapq.heappop(heap)
                continue
            return mid
        return None

    def best(self, region: str | None) -> int | None:
        """Same region first; otherwise the lowest utilisation after the move anywhere (then code)."""
        mid = self._top(self.by_region.get(region)) if region is not None else None
        return mid if mid is not None else self._top(self.everyone)


def plan_placements(
    vips: Iterable[Vip],
    managers: Mapping[int, Manager],
    ladder: Ladder,
    *,
    reason: str,
    exclude: Iterable[int] = (),
    loads: dict[int, int] | None = None,
    unplaced_to_none: bool = False,
) -> tuple[list[Move], list[Unplaced]]:
    """Place VIPs one by one in auto-assign order, each with the auto-assign key, never over a cap.

    Equivalent to calling choose_manager for each VIP in auto_assign_order, updating the loads as it
    goes, but O(n log m): VIPs of one tier have the same units, so per tier a heap per region (and one
    over all regions) ordered by (utilisation after the move, code) gives the key's minimum.
    `loads` (manager id -> load) is updated in place when given. With unplaced_to_none, a VIP that fits
    nowhere is moved off its manager to unassigned (an exit).
    """
    skip = set(exclude)
    loads = loads if loads is not None else {m.id: m.load for m in managers.values()}
    moves: list[Move] = []
    unplaced: list[Unplaced] = []
    ordered = sorted(vips, key=auto_assign_order)
    for rank, group in itertools.groupby(ordered, key=lambda v: v.rank):
        units = ladder.units(rank)
        pool = [
            m
            for m in managers.values()
            if m.available and m.id not in skip and level_allows(m.level, rank, ladder) and m.capacity > 0
        ]
        heaps = _TierHeaps(pool, managers, loads, units)
        for vip in group:
            mid = heaps.best(vip.region)
            if mid is None:
                why = _why_unplaced(rank, managers.values(), ladder, skip)
                unplaced.append(Unplaced(vip.id, vip.code, vip.rank, why, vip.manager_id))
                if unplaced_to_none and vip.manager_id is not None:
                    moves.append(Move(vip.id, vip.code, vip.rank, units, vip.manager_id, None, vip.version, reason))
                    loads[vip.manager_id] = loads.get(vip.manager_id, 0) - units
                    heaps.touched(vip.manager_id)
                continue
            moves.append(Move(vip.id, vip.code, vip.rank, units, vip.manager_id, mid, vip.version, reason))
            loads[mid] = loads.get(mid, 0) + units
            heaps.touched(mid)
            if vip.manager_id is not None:
                loads[vip.manager_id] = loads.get(vip.manager_id, 0) - units
                heaps.touched(vip.manager_id)
    return moves, unplaced


def spread(loads: Mapping[int, int], managers: Mapping[int, Manager]) -> float:
    """max − min utilisation over the managers who can take VIPs (active, not on leave, not exiting)."""
    values = [utilisation(loads.get(m.id, m.load), m.capacity) for m in managers.values() if m.available]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return 0.0
    return max(values) - min(values)


def rebalance_order(vip: Vip) -> tuple[int, float, str]:
    """Lowest tier first, then most recently assigned first."""
    stamp = vip.assigned_at.timestamp() if vip.assigned_at else 0.0
    return (vip.rank, -stamp, vip.code)


@dataclass
class RebalanceResult:
    moves: list[Move]
    stuck: dict[int, str]  # over-cap manager id -> why it stays over its cap
    loads: dict[int, int]


def plan_rebalance(
    managers: Mapping[int, Manager],
    portfolio: Callable[[int], Sequence[Vip]],
    ladder: Ladder,
    *,
    even_out: bool = False,
    max_moves: int | None = None,
    target_spread: float = 0.0,
) -> RebalanceResult:
    """Move VIPs off over-cap managers (lowest tier and most recently assigned first) until they are at or
    under their cap; then, if asked, even out the spread. Targets by the auto-assign key, never over a cap.

    `portfolio(manager_id)` returns that manager's movable VIPs. Each VIP moves at most once.
    """
    loads = {m.id: m.load for m in managers.values()}
    moves: list[Move] = []
    moved: set[int] = set()
    stuck: dict[int, str] = {}
    budget = math.inf if max_moves is None else max(0, max_moves)
    cache: dict[int, list[Vip]] = {}

    def vips_of(mid: int) -> list[Vip]:
        if mid not in cache:
            cache[mid] = sorted(portfolio(mid), key=rebalance_order)
        return cache[mid]

    over = sorted(
        (m for m in managers.values() if loads[m.id] > m.capacity),
        key=lambda m: (-utilisation(loads[m.id], m.capacity), m.code),
    )
    for src in over:
        for vip in vips_of(src.id):
            if loads[src.id] <= src.capacity or len(moves) >= budget:
                break
            if vip.id in moved:
                continue
            target = choose_manager(vip, managers.values(), ladder, loads=loads, exclude=(src.id,))
            if target is None:
                continue
            units = ladder.units(vip.rank)
            moves.append(Move(vip.id, vip.code, vip.rank, units, src.id, target.id, vip.version, "rebalance"))
            moved.add(vip.id)
            loads[src.id] -= units
            loads[target.id] += units
        if loads[src.id] > src.capacity:
            stuck[src.id] = "budget" if len(moves) >= budget else "no_room"

    if even_out:
        _even_out(managers, vips_of, ladder, loads, moves, moved, budget, target_spread)
    return RebalanceResult(moves=moves, stuck=stuck, loads=loads)


def _sq(load: int, capacity: int) -> float:
    return utilisation(load, capacity) ** 2


def _even_out(
    managers: Mapping[int, Manager],
    vips_of: Callable[[int], list[Vip]],
    ladder: Ladder,
    loads: dict[int, int],
    moves: list[Move],
    moved: set[int],
    budget: float,
    target_spread: float,
) -> None:
    """Repeatedly move one VIP off the most utilised available manager to the target chosen by the key,
    only when the move lowers Σ utilisation² (so it always ends), until the spread is small enough."""
    pool = [m for m in managers.values() if m.available and m.capacity > 0]
    if len(pool) < 2:
        return
    exhausted: set[int] = set()
    while len(moves) < budget:
        if spread(loads, managers) <= target_spread + 1e-12:
            return
        candidates = [m for m in pool if m.id not in exhausted]
        if not candidates:
            return
        src = max(candidates, key=lambda m: (utilisation(loads[m.id], m.capacity), m.code))
        done = False
        for vip in vips_of(src.id):
            if vip.id in moved:
                continue
            units = ladder.units(vip.rank)
            before_src = _sq(loads[src.id], src.capacity)
            best: tuple[tuple[int, float, str], Manager] | None = None
            for m in pool:
                if m.id == src.id or refusal(m, vip.rank, units, ladder, load=loads[m.id]) is not None:
                    continue
                delta = (
                    _sq(loads[src.id] - units, src.capacity)
                    + _sq(loads[m.id] + units, m.capacity)
                    - before_src
                    - _sq(loads[m.id], m.capacity)
                )
                if delta >= -1e-12:
                    continue
                key = assign_key(m, vip.region, units, load=loads[m.id])
                if best is None or key < best[0]:
                    best = (key, m)
            if best is None:
                continue
            target = best[1]
            moves.append(Move(vip.id, vip.code, vip.rank, units, src.id, target.id, vip.version, "rebalance"))
            moved.add(vip.id)
            loads[src.id] -= units
            loads[target.id] += units
            done = True
            break
        if not done:
            exhausted.add(src.id)


# ------------------------------------------------------------------------------------------------ batch checks


@dataclass(frozen=True)
class CapacityProblem:
    manager_id: int
    load_after: int
    capacity: int


def loads_after(moves: Iterable[Move], loads: Mapping[int, int]) -> dict[int, int]:
    after = dict(loads)
    for mv in moves:
        if mv.from_id is not None:
            after[mv.from_id] = after.get(mv.from_id, 0) - mv.units
        if mv.to_id is not None:
            after[mv.to_id] = after.get(mv.to_id, 0) + mv.units
    return after


def capacity_problems(
    moves: Sequence[Move], loads: Mapping[int, int], capacities: Mapping[int, int]
) -> list[CapacityProblem]:
    """Targets a batch would leave over their capacity (the final state of the whole batch counts)."""
    after = loads_after(moves, loads)
    targets = sorted({mv.to_id for mv in moves if mv.to_id is not None})
    return [
        CapacityProblem(mid, after[mid], capacities.get(mid, 0))
        for mid in targets
        if after[mid] > capacities.get(mid, 0)
    ]


# ------------------------------------------------------------------------------------------------ plans


@dataclass
class Plan:
    """A previewed set of moves. Applying it writes exactly these moves as one batch, or nothing."""

    kind: str  # batch kind: auto_assign | rebalance | leave_cover | exit | import | bulk
    moves: list[Move] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    loads_before: dict[int, int] = field(default_factory=dict)
    managers: dict[int, Manager] = field(default_factory=dict)
    stuck: dict[int, str] = field(default_factory=dict)
    subject_id: int | None = None  # the manager on leave / exiting
    start: dt.date | None = None
    end: dt.date | None = None
    note: str | None = None
    previewed_at: dt.datetime | None = None

    def loads_after(self) -> dict[int, int]:
        return loads_after(self.moves, self.loads_before)

    def spread_before(self) -> float:
        return spread(self.loads_before, self.managers)

    def spread_after(self) -> float:
        return spread(self.loads_after(), self.managers)

    def per_manager(self) -> list[dict[str, Any]]:
        """Per manager: load before → after against the cap, VIPs in and out (only those touched)."""
        after = self.loads_after()
        moved_in: dict[int, int] = {}
        moved_out: dict[int, int] = {}
        for mv in self.moves:
            if mv.to_id is not None:
                moved_in[mv.to_id] = moved_in.get(mv.to_id, 0) + 1
            if mv.from_id is not None:
                moved_out[mv.from_id] = moved_out.get(mv.from_id, 0) + 1
        rows = []
        for mid in sorted(set(moved_in) | set(moved_out) | set(self.stuck), key=lambda i: self.managers[i].code):
            m = self.managers[mid]
            rows.append(
                {
                    "manager_id": mid,
                    "code": m.code,
                    "name": m.name,
                    "level": m.level,
                    "capacity": m.capacity,
                    "load_before": self.loads_before.get(mid, 0),
                    "load_after": after.get(mid, 0),
                    "util_before": utilisation(self.loads_before.get(mid, 0), m.capacity),
                    "util_after": utilisation(after.get(mid, 0), m.capacity),
                    "vips_in": moved_in.get(mid, 0),
                    "vips_out": moved_out.get(mid, 0),
                    "over_cap_after": after.get(mid, 0) > m.capacity,
                }
            )
        return rows

    def to_params(self) -> dict[str, Any]:
        """What applying needs (JSON-able, for a job's parameters)."""
        return {
            "kind": self.kind,
            "moves": [mv.as_list() for mv in self.moves],
            "subject_id": self.subject_id,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "note": self.note,
            "previewed_at": self.previewed_at.isoformat() if self.previewed_at else None,
        }

    @classmethod
    def from_params(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            kind=str(data["kind"]),
            moves=[Move.from_list(row) for row in data.get("moves", [])],
            subject_id=data.get("subject_id"),
            start=dt.date.fromisoformat(data["start"]) if data.get("start") else None,
            end=dt.date.fromisoformat(data["end"]) if data.get("end") else None,
            note=data.get("note"),
            previewed_at=dt.datetime.fromisoformat(data["previewed_at"]) if data.get("previewed_at") else None,
        )

    def __str__(self) -> str:
        # What the audit row records as the parameter (not the whole move list).
        return f"{self.kind} plan: {len(self.moves)} moves, {len(self.unplaced)} unplaced, subject={self.subject_id}"
