"""Customers, their tier history, client-manager assignments, and the purchases that justify the tiers.

Every customer gets a *story* (steady VIP, new VIP waiting for a manager, recently upgraded, downgraded at a
review, pinned by an override, Supreme by designation, ...). The story fixes the TierChange events and the
assignment history; the purchases are then generated so that the trailing-12-month window at as-of qualifies
exactly for the current tier (override customers qualify one tier lower; Supreme is a designation).
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Iterator

from console.timeutil import add_working_days
from seed.context import REGIONS, Ctx, StaffRec

EVAL_HOUR = 22  # the nightly tier evaluation, Shanghai time
WINDOW_INNER = 358  # in-window purchases are at most this many days before as-of (margin for window definitions)
WINDOW_OUTER = 372  # out-of-window purchases are at least this many days before as-of
OLD_HORIZON = 450  # the oldest purchases
GO_LIVE_DAYS = 540  # portfolios were imported into the console this many days before as-of
TIER_MIX = ((5, 0.005), (4, 0.035), (3, 0.06), (2, 0.25), (1, 0.50))
LEVEL_MAX_RANK = {"junior": 2, "senior": 4, "enterprise": 5}
DIETARY = ("不吃辣", "清淡少油", "素食", "海鲜过敏", "不喝酒", "喜欢粤菜", "低糖饮食", "少盐")
NOTES = (
    "偏好下午三点后联系",
    "喜欢普洱茶",
    "重要纪念日需提前问候",
    "不喜欢电话推销，请先短信预约",
    "常驻香港，来访需提前一周确认",
    "企业客户负责人，关注商务权益",
    "家庭成员也是会员",
)
OVERRIDE_REASONS = (
    "Key account: tier kept during a temporary dip in spend",
    "Retention decision after complaint resolution",
    "Strategic partner agreed by the department head",
)

CUSTOMER_COLUMNS = (
    "id",
    "code",
    "name",
    "phone",
    "id_number",
    "region",
    "birthday",
    "tier_rank",
    "tier_since",
    "vip_since",
    "override_rank",
    "override_reason",
    "override_until",
    "override_by",
    "supreme",
    "manager_id",
    "assigned_at",
    "binding_due",
    "waiting_since",
    "assignment_version",
    "dietary",
    "hometown",
    "notes",
    "is_training",
    "created_at",
)
TIERCHANGE_COLUMNS = ("id", "customer_id", "from_rank", "to_rank", "kind", "at", "by_user_id", "reason")
TIERREVIEW_COLUMNS = ("id", "period", "ran_at", "by_user_id", "downgrades")
BATCH_COLUMNS = ("id", "kind", "created_at", "by_user_id", "moves", "note", "undone_by_batch_id")
ASSIGNMENT_COLUMNS = (
    "id",
    "customer_id",
    "from_manager_id",
    "to_manager_id",
    "at",
    "by_user_id",
    "reason",
    "batch_id",
    "note",
)
PURCHASE_COLUMNS = ("id", "customer_id", "at", "amount_fen", "reference")

Event = tuple[int | None, int, str, dt.datetime, int | None, str | None]
Move = tuple[
    int | None, int | None, dt.datetime, int | None, str, str | None, str | None
]  # from, to, at, by, reason, batch key, note


class Cust:
    """One customer while the data is planned."""

    __slots__ = (
        "id",
        "code",
        "name",
        "phone",
        "id_number",
        "region",
        "birthday",
        "created",
        "rank",
        "story",
        "hist_rank",
        "events",
        "override",
        "manager",
        "moves",
        "waiting_since",
        "binding_due",
        "dietary",
        "hometown",
        "notes",
        "is_training",
        "profile",
        "cross_day",
        "cross_from",
        "vip_day",
        "up_day",
        "prev_rank",
    )

    def __init__(self, cid: int, rank: int) -> None:
        self.id = cid
        self.code = f"C{cid:07d}"
        self.rank = rank
        self.story = "member" if rank == 0 else "steady"
        self.hist_rank = rank
        self.events: list[Event] = []
        self.override: tuple[int, str, dt.date, int] | None = None
        self.manager: int | None = None
        self.moves: list[Move] = []
        self.waiting_since: dt.datetime | None = None
        self.binding_due: dt.date | None = None
        self.dietary: str | None = None
        self.hometown: str | None = None
        self.notes: str | None = None
        self.is_training = False
        self.profile = "normal"
        self.cross_day: dt.date | None = None
        self.cross_from = 0
        self.vip_day: dt.date | None = None
        self.up_day: dt.date | None = None
        self.prev_rank: int | None = None

    @property
    def tier_since(self) -> dt.datetime | None:
        return self.events[-1][3] if self.events else None

    @property
    def vip_since(self) -> dt.datetime | None:
        if self.rank == 0:
            return None
        for ev in self.events:
            if ev[1] >= 1:
                return ev[3]
        return None

    @property
    def assigned_at(self) -> dt.datetime | None:
        return self.moves[-1][2] if self.moves and self.manager is not None else None


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def year_before(day: dt.date) -> dt.date:
    """The same date a year earlier (29 February -> 28 February): a 12-month window is (year_before(d), d]."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def next_review(as_of: dt.date) -> dt.date:
    q = quarter_start(as_of)
    month = q.month + 3
    return dt.date(q.year + (month > 12), (month - 1) % 12 + 1, 1)


def review_dates(as_of: dt.date, back_days: int) -> list[dt.date]:
    """Quarter starts in (as_of - back_days, as_of - 1]."""
    out = []
    q = quarter_start(as_of - dt.timedelta(days=1))
    while q > as_of - dt.timedelta(days=back_days):
        out.append(q)
        prev = q - dt.timedelta(days=1)
        q = quarter_start(prev)
    return sorted(out)


def period_name(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


# ---------------------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------------------


def plan_customers(ctx: Ctx) -> list[Cust]:
    rng = ctx.rng("customers")
    scale = ctx.scale
    n_regular = scale.customers - scale.training_customers
    ranks: list[int] = []
    for rank, share in TIER_MIX:
        ranks += [rank] * max(1, round(n_regular * share))
    ranks += [0] * (n_regular - len(ranks))
    rng.shuffle(ranks)
    custs = [Cust(i + 1, r) for i, r in enumerate(ranks)]
    for i in range(scale.training_customers):
        c = Cust(n_regular + i + 1, 0)
        c.story = "training"
        c.is_training = True
        custs.append(c)

    _demographics(ctx, rng, custs)
    _choose_stories(ctx, rng, custs)
    return custs


def _demographics(ctx: Ctx, rng: random.Random, custs: list[Cust]) -> None:
    provinces = [ctx.fake.province() for _ in range(40)]
    for c in custs:
        age = rng.randint(24, 72)
        c.birthday = ctx.as_of - dt.timedelta(days=age * 365 + rng.randrange(365))
        c.created = ctx.local(
            ctx.as_of - dt.timedelta(days=rng.randint(460, 2500)),
            rng.randint(9, 20),
            rng.randrange(60),
            rng.randrange(60),
        )
        c.region = REGIONS[rng.randrange(len(REGIONS))]
        if c.is_training:
            n = c.id
            c.name = f"培训客户{n % 1000:03d}"
            c.phone = f"1380000{n % 10000:04d}"
            c.id_number = None
            c.notes = "培训用假名数据"
            continue
        c.name = ctx.name(rng)
        c.phone = ctx.phone(rng)
        c.id_number = ctx.id_number(rng, c.birthday)
        if c.rank >= 3 or rng.random() < 0.05:
            if rng.random() < 0.6:
                c.dietary = rng.choice(DIETARY)
            if rng.random() < 0.7:
                c.hometown = rng.choice(provinces)
            if rng.random() < 0.3:
                c.notes = rng.choice(NOTES)


def _take(pool: list[Cust], n: int, story: str) -> list[Cust]:
    """Give the first n customers of pool (still steady/member) a story."""
    out: list[Cust] = []
    for c in pool:
        if len(out) >= n:
            break
        if c.story in ("steady", "member"):
            c.story = story
            out.append(c)
    return out


def _choose_stories(ctx: Ctx, rng: random.Random, custs: list[Cust]) -> None:
    scale = ctx.scale
    regular = [c for c in custs if not c.is_training]
    by_rank: dict[int, list[Cust]] = {r: [c for c in regular if c.rank == r] for r in range(6)}
    low_vips = [c for c in regular if c.rank in (1, 2)]
    mid = [c for c in regular if 2 <= c.rank <= 4]
    for c in by_rank[5]:
        c.story = "supreme"
    # the junior's Platinum (upgraded from Gold nine days ago) comes first so nothing else takes it
    jp = _take(by_rank[3], 1, "junior_platinum")[0]
    ctx.roles["junior_platinum_customer"] = jp
    _take(low_vips, scale.unassigned_new_vips, "new_unassigned")
    _take(low_vips[::-1], max(4, round(len(low_vips) * 0.015)), "new_assigned")
    _take(mid[::-1], max(2, round(len(mid) * 0.003)), "override")
    _take(
        [c for c in regular if 1 <= c.rank <= 3][len(low_vips) // 3 :],
        max(1, round(len(mid) * 0.002)),
        "override_expired",
    )
    _take(
        [c for c in regular if 1 <= c.rank <= 3][len(low_vips) // 2 :], max(3, round(len(regular) * 0.03)), "downgraded"
    )
    _take(mid[len(mid) // 2 :], max(3, round(len(mid) * 0.03)), "recent_upgrade")
    _take(by_rank[0][::-1], max(2, round(len(by_rank[0]) * 0.02)), "fallen")
    steady = [c for c in regular if c.story == "steady" and c.rank <= 4]
    for c in steady:
        x = rng.random()
        if x < 0.045:
            c.profile = "at_risk"
        elif x < 0.10 and c.rank <= 3:
            c.profile = "near"
    members = [c for c in regular if c.story == "member"]
    for c in members[: max(2, len(members) // 20)]:
        c.profile = "near"
    for c in regular:
        if c.story in ("downgraded", "override_expired"):
            c.hist_rank = c.rank + 1  # held a higher tier before
        elif c.story == "fallen":
            c.hist_rank = 1


def _eval_time(ctx: Ctx, rng: random.Random, day: dt.date) -> dt.datetime:
    return ctx.local(day, EVAL_HOUR, rng.randrange(30), rng.randrange(60))


def _office_time(ctx: Ctx, rng: random.Random, day: dt.date) -> dt.datetime:
    return ctx.local(day, rng.randint(9, 17), rng.randrange(60), rng.randrange(60))


def _rand_day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    if hi <= lo:
        return lo
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def plan_tier_history(ctx: Ctx, custs: list[Cust]) -> dict[str, int]:
    """TierChange events per customer from its story. Returns downgrades per review period."""
    rng = ctx.rng("tier-history")
    as_of = ctx.as_of
    sup_user = ctx.users["supervisor"]
    reviews = review_dates(as_of, 400)
    downgrades: dict[str, int] = {period_name(d): 0 for d in reviews}
    days = dt.timedelta

    def first_vip_day(c: Cust, latest: dt.date) -> dt.date:
        earliest = ctx.local_day(c.created) + days(30)
        return _rand_day(rng, min(earliest, latest), latest)

    for c in custs:
        c.events = [(None, 0, "initial", c.created, None, "Customer record created")]
        story = c.story
        if story in ("member", "training"):
            continue
        if story in ("new_unassigned", "new_assigned"):
            lo, hi = (
                (as_of - days(12), as_of - days(1))
                if story == "new_unassigned"
                else (as_of - days(45), as_of - days(13))
            )
            day0 = _rand_day(rng, lo, hi)
            c.cross_day, c.cross_from, c.profile = day0, 0, "cross"
            c.vip_day = day0
            at = _eval_time(ctx, rng, day0)
            c.events.append((0, c.rank, "upgrade", at, None, "Qualified on trailing-12-month purchases"))
            if story == "new_unassigned":
                c.waiting_since = at
                c.binding_due = add_working_days(day0, 3)
            continue
        if story == "fallen":
            d = rng.choice(reviews) if reviews else as_of - days(30)
            vip = first_vip_day(c, d - days(120))
            c.vip_day = vip
            c.events.append(
                (0, 1, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
            )
            c.events.append((1, 0, "downgrade", ctx.local(d, 2, 0, c.id % 60), None, "Quarterly review"))
            c.up_day = d  # the review day that unassigned it
            if period_name(d) in downgrades:
                downgrades[period_name(d)] += 1
            continue
        if story == "supreme":
            vip = first_vip_day(c, as_of - days(400))
            c.vip_day = vip
            c.events.append(
                (0, 4, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
            )
            des = _rand_day(rng, vip + days(30), as_of - days(20))
            c.events.append(
                (
                    4,
                    5,
                    "designation",
                    _office_time(ctx, rng, des),
                    sup_user,
                    "Designated Supreme by the department head",
                )
            )
            continue
        if story == "downgraded":
            if not reviews:
                c.story, c.hist_rank = "steady", c.rank
            else:
                d = rng.choice(reviews)
                vip = first_vip_day(c, d - days(150))
                c.vip_day = vip
                up = _rand_day(rng, vip + days(20), d - days(40))
                first = c.rank if rng.random() < 0.5 else c.rank + 1
                c.events.append(
                    (0, first, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
                )
                if first != c.rank + 1:
                    c.events.append(
                        (
                            first,
                            c.rank + 1,
                            "upgrade",
                            _eval_time(ctx, rng, up),
                            None,
                            "Qualified on trailing-12-month purchases",
                        )
                    )
                c.events.append(
                    (
                        c.rank + 1,
                        c.rank,
                        "downgrade",
                        ctx.local(d, 2, 0, c.id % 60),
                        None,
                        "Quarterly review: one step down",
                    )
                )
                downgrades[period_name(d)] += 1
                continue
        if story in ("recent_upgrade", "junior_platinum"):
            up = as_of - days(9) if story == "junior_platinum" else _rand_day(rng, as_of - days(75), as_of - days(2))
            prev = c.prev_rank if c.prev_rank is not None else c.rank - 1
            vip = first_vip_day(c, up - days(45))
            c.vip_day, c.up_day = vip, up
            c.cross_day, c.cross_from, c.profile = up, prev, "cross"
            if prev >= 1:
                c.events.append(
                    (0, prev, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
                )
            c.events.append(
                (prev, c.rank, "upgrade", _eval_time(ctx, rng, up), None, "Qualified on trailing-12-month purchases")
            )
            continue
        if story == "override":
            vip = first_vip_day(c, as_of - days(250))
            c.vip_day = vip
            q = c.rank - 1
            c.events.append(
                (0, q, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
            )
            when = _rand_day(rng, vip + days(20), as_of - days(5))
            reason = rng.choice(OVERRIDE_REASONS)
            until = as_of + days(rng.randint(20, 150))
            c.events.append((q, c.rank, "override", _office_time(ctx, rng, when), sup_user, reason))
            c.override = (c.rank, reason, until, sup_user)
            c.profile = "override"
            continue
        if story == "override_expired":
            vip = first_vip_day(c, as_of - days(300))
            c.vip_day = vip
            c.events.append(
                (0, c.rank, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
            )
            start = _rand_day(rng, vip + days(20), as_of - days(140))
            end = _rand_day(rng, start + days(30), as_of - days(5))
            c.events.append(
                (c.rank, c.rank + 1, "override", _office_time(ctx, rng, start), sup_user, rng.choice(OVERRIDE_REASONS))
            )
            c.events.append(
                (
                    c.rank + 1,
                    c.rank,
                    "override_expired",
                    ctx.local(end, 0, 5, c.id % 60),
                    None,
                    "Override expired: set to the qualified tier",
                )
            )
            continue
        # steady
        vip = first_vip_day(c, as_of - days(40))
        c.vip_day = vip
        first = c.rank if (c.rank == 1 or rng.random() < 0.6 or (as_of - vip).days < 90) else rng.randint(1, c.rank - 1)
        c.events.append(
            (0, first, "upgrade", _eval_time(ctx, rng, vip), None, "Qualified on trailing-12-month purchases")
        )
        if first != c.rank:
            up = _rand_day(rng, vip + days(30), as_of - days(20))
            c.events.append(
                (first, c.rank, "upgrade", _eval_time(ctx, rng, up), None, "Qualified on trailing-12-month purchases")
            )
    # As the tier engine does: becoming a VIP without a manager starts the binding clock (the columns stay
    # after the assignment); an upgrade beyond the holder's level restarts it (the junior's Platinum).
    go_live = as_of - days(GO_LIVE_DAYS)
    for c in custs:
        if c.rank == 0 or c.waiting_since is not None:
            continue
        became = next((ev for ev in c.events if ev[0] == 0 and ev[1] >= 1), None)
        if became is not None and ctx.local_day(became[3]) >= go_live:
            c.waiting_since = became[3]
            c.binding_due = add_working_days(ctx.local_day(became[3]), 3)
        if c.story == "junior_platinum" and c.up_day is not None:
            c.binding_due = add_working_days(c.up_day, 3)
    for c in custs:  # a customer record predates its first tier change
        if len(c.events) > 1 and c.events[1][3] <= c.created + days(days=1):
            c.created = c.events[1][3] - days(days=rng.randint(30, 400), seconds=rng.randrange(86_400))
            c.events[0] = (None, 0, "initial", c.created, None, "Customer record created")
    return downgrades


# ---------------------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------------------


def allowed(level: str | None, rank: int) -> bool:
    return level is not None and rank <= LEVEL_MAX_RANK[level]


def choose_holders(ctx: Ctx, custs: list[Cust]) -> None:
    """Current holders: within capacity and level, except the scenarios (may turn steady VIPs into upgrades)."""
    rng = ctx.rng("assignment")
    units = ctx.ref.units
    managers: list[StaffRec] = ctx.roles["managers"]
    overcap: list[StaffRec] = ctx.roles["overcap"]
    load = {m.id: 0 for m in managers}

    def give(c: Cust, m: StaffRec) -> None:
        c.manager = m.id
        load[m.id] += units(c.rank)

    jp: Cust = ctx.roles["junior_platinum_customer"]
    give(jp, ctx.roles["junior_platinum"])

    # Two managers over capacity because customers they already held were upgraded since.
    steady = [c for c in custs if c.story == "steady" and c.manager is None]
    rng.shuffle(steady)
    for m in overcap:
        cap = m.capacity
        target = cap * rng.uniform(1.03, 1.08)
        ceiling = cap * 0.985
        now = then = 0
        for c in steady:
            if c.manager is not None or c.rank < 2 or not allowed(m.level, c.rank):
                continue
            if now - then >= target - ceiling:
                break
            if then + units(c.rank - 1) > ceiling:
                break
            c.story, c.prev_rank = "recent_upgrade", c.rank - 1
            give(c, m)
            now += units(c.rank)
            then += units(c.rank - 1)
        for c in steady:
            if now >= target:
                break
            if c.manager is not None or not allowed(m.level, c.rank):
                continue
            if then + units(c.rank) > ceiling:
                continue
            give(c, m)
            now += units(c.rank)
            then += units(c.rank)

    # Everyone else: least utilised eligible manager (relative to a per-manager target weight), never over cap.
    heaps: dict[str, list[tuple[float, int]]] = {"junior": [], "senior": [], "enterprise": []}
    by_id = {m.id: m for m in managers}
    for m in managers:
        if m in overcap:
            continue
        heapq.heappush(heaps[m.level or "junior"], (load[m.id] / (m.weight * m.capacity), m.id))
    todo = [c for c in custs if c.manager is None and c.rank >= 1 and c.story not in ("new_unassigned",)]
    todo.sort(key=lambda c: (-c.hist_rank, c.id))
    for c in todo:
        u = units(c.rank)
        best: tuple[float, int] | None = None
        best_level = ""
        for level, heap in heaps.items():
            if not allowed(level, c.hist_rank):
                continue
            while heap:
                mid = heap[0][1]
                m = by_id[mid]
                if load[mid] + u <= m.capacity:
                    break
                heapq.heappop(heap)  # full: never offered again
            if heap and (best is None or heap[0] < best):
                best, best_level = heap[0], level
        if best is None:
            c.story = "new_unassigned" if c.story in ("steady",) else c.story
            continue
        heapq.heappop(heaps[best_level])
        m = by_id[best[1]]
        give(c, m)
        heapq.heappush(heaps[best_level], (load[m.id] / (m.weight * m.capacity), m.id))
        if rng.random() < 0.75 and m.region:
            c.region = m.region

    ctx.data["load"] = load


def plan_assignment_history(ctx: Ctx, custs: list[Cust]) -> None:
    """Append-only Assignment rows and batches leading to each current holder; cover for the leave."""
    rng = ctx.rng("assignment-history")
    load: dict[int, int] = ctx.data["load"]
    as_of = ctx.as_of
    days = dt.timedelta
    sup_user = ctx.users["supervisor"]
    managers: list[StaffRec] = ctx.roles["managers"]
    go_live = as_of - days(GO_LIVE_DAYS)
    rebalances = [as_of - days(130), as_of - days(47)]
    by_level = {lvl: [m for m in managers if m.level == lvl] for lvl in LEVEL_MAX_RANK}
    overcap_ids = {m.id for m in ctx.roles["overcap"]}
    batches: dict[str, tuple[str, dt.datetime, int | None, str | None]] = {}
    batches["import"] = ("import", ctx.local(go_live, 10), sup_user, "Portfolios imported at go-live")
    for i, d in enumerate(rebalances):
        batches[f"rebalance-{i}"] = ("rebalance", ctx.local(d, 10, 30), sup_user, "Quarterly portfolio rebalance")

    def other_manager(c: Cust, current: int | None) -> StaffRec | None:
        pool = [m for lvl, ms in by_level.items() if LEVEL_MAX_RANK[lvl] >= c.hist_rank for m in ms if m.id != current]
        return pool[rng.randrange(len(pool))] if pool else None

    def first_assignment(c: Cust, to: int) -> None:
        vip = c.vip_day or as_of - days(60)
        if vip < go_live:
            c.moves.append((None, to, batches["import"][1], sup_user, "import", "import", None))
            return
        k = rng.choice((0, 1, 1, 2, 2, 3)) if rng.random() > 0.04 else rng.randint(4, 6)
        day = add_working_days(vip, k) if k else vip + days(1)
        if day >= as_of:
            day = as_of - days(1)
        key = f"auto-{day.isoformat()}"
        if key not in batches:
            batches[key] = ("auto_assign", ctx.local(day, 9, 30), sup_user, "Daily auto-assign of new VIPs")
        at = batches[key][1] + days(seconds=c.id % 600)
        c.moves.append((None, to, at, sup_user, "new_vip", key, None))

    for c in custs:
        if c.story == "fallen":
            m = other_manager(c, None)
            assert m is not None  # every level holds Silver
            first_assignment(c, m.id)
            d = c.up_day or as_of - days(30)
            c.moves.append(
                (
                    m.id,
                    None,
                    ctx.local(d, 2, 30, c.id % 60),
                    None,
                    "tier_change",
                    None,
                    "Fell to Member at the quarterly review",
                )
            )
            continue
        if c.manager is None:
            continue
        current = c.manager
        simple = c.story not in ("steady", "downgraded", "override", "override_expired", "supreme")
        if simple or current in overcap_ids or (c.vip_day and c.vip_day > as_of - days(60)):
            first_assignment(c, current)
            continue
        x = rng.random()
        first_at_day = max(c.vip_day or go_live, go_live)
        movable = [i for i, d in enumerate(rebalances) if d > first_at_day + days(10)]
        prev = other_manager(c, current) if x < 0.036 else None
        if prev is None:
            first_assignment(c, current)
        elif x < 0.03 and movable:
            first_assignment(c, prev.id)
            key = f"rebalance-{movable[rng.randrange(len(movable))]}"
            c.moves.append(
                (prev.id, current, batches[key][1] + days(seconds=c.id % 900), sup_user, "rebalance", key, None)
            )
        elif first_at_day < as_of - days(40):
            first_assignment(c, prev.id)
            reason = "customer_request" if rng.random() < 0.7 else "performance"
            when = _rand_day(rng, max(first_at_day + days(10), c.moves[-1][2].date() + days(2)), as_of - days(3))
            note = (
                "Customer asked for a different manager"
                if reason == "customer_request"
                else ("Moved after repeated service complaints")
            )
            c.moves.append((prev.id, current, _office_time(ctx, rng, when), sup_user, reason, None, note))
        else:
            first_assignment(c, current)

    # Cover for the manager on leave: part of the portfolio, to eligible managers with room, never over cap.
    leave: StaffRec = ctx.roles["on_leave"]
    excluded = {leave.id, ctx.roles["exiting"].id} | {m.id for m in ctx.roles["overcap"]}
    portfolio = sorted((c for c in custs if c.manager == leave.id), key=lambda c: (-c.rank, c.id))
    goal = load[leave.id] * 0.25  # the highest tiers, about a quarter of the load: utilisation stays >= 70 %
    moved = 0
    cover_at = ctx.local(leave.leave_start or as_of, 9, 15)
    batches["cover"] = ("leave_cover", cover_at, sup_user, f"Cover while {leave.code} is on leave")
    covered: list[Cust] = []
    for c in portfolio:
        if moved >= goal:
            break
        u = ctx.ref.units(c.rank)
        options = [
            m
            for m in managers
            if m.id not in excluded and allowed(m.level, c.hist_rank) and load[m.id] + u <= m.capacity
        ]
        if not options:
            continue
        roomy = [m for m in options if (load[m.id] + u) / m.capacity <= 0.97] or options
        local = [m for m in roomy if m.region == c.region]
        pool = local or roomy
        target = pool[rng.randrange(len(pool))]
        load[target.id] += u
        load[leave.id] -= u
        moved += u
        c.manager = target.id
        c.moves.append(
            (
                leave.id,
                target.id,
                cover_at + days(seconds=len(covered)),
                sup_user,
                "cover",
                "cover",
                f"Cover until {leave.leave_end}",
            )
        )
        covered.append(c)
    ctx.roles["covered_customers"] = covered

    # batch ids in time order
    ordered = sorted(batches.items(), key=lambda kv: (kv[1][1], kv[0]))
    moves_per_key: dict[str, int] = {}
    for c in custs:
        for mv in c.moves:
            if mv[5] is not None:
                moves_per_key[mv[5]] = moves_per_key.get(mv[5], 0) + 1
    ctx.data["batches"] = [
        (i + 1, key, kind, at, by, moves_per_key.get(key, 0), note)
        for i, (key, (kind, at, by, note)) in enumerate(ordered)
        if moves_per_key.get(key, 0) > 0
    ]
    ctx.data["batch_ids"] = {row[1]: row[0] for row in ctx.data["batches"]}


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def write_customers(ctx: Ctx, custs: list[Cust], downgrades: dict[str, int]) -> None:
    w = ctx.writer
    w.table("customer", CUSTOMER_COLUMNS)
    w.table("tierchange", TIERCHANGE_COLUMNS)
    w.table("tierreview", TIERREVIEW_COLUMNS)
    w.table("assignmentbatch", BATCH_COLUMNS)
    w.table("assignment", ASSIGNMENT_COLUMNS)
    total = len(custs)
    for i, c in enumerate(custs, 1):
        ov = c.override
        w.add(
            "customer",
            (
                c.id,
                c.code,
                c.name,
                c.phone,
                c.id_number,
                c.region,
                ctx.day(c.birthday),
                c.rank,
                ctx.ts(c.tier_since),
                ctx.ts(c.vip_since),
                ov[0] if ov else None,
                ov[1] if ov else None,
                ctx.day(ov[2]) if ov else None,
                ov[3] if ov else None,
                ctx.flag(c.story == "supreme"),
                c.manager,
                ctx.ts(c.assigned_at),
                ctx.day(c.binding_due),
                ctx.ts(c.waiting_since),
                len(c.moves),
                c.dietary,
                c.hometown,
                c.notes,
                ctx.flag(c.is_training),
                ctx.ts(c.created),
            ),
        )
        if i % 20_000 == 0:
            ctx.report("customers", i, total)
    w.flush()
    ctx.report("customers", total, total)

    events = sorted(((ev[3], c.id, j, ev) for c in custs for j, ev in enumerate(c.events)), key=lambda x: x[:3])
    for n, (_, cid, _, ev) in enumerate(events, 1):
        w.add("tierchange", (n, cid, ev[0], ev[1], ev[2], ctx.ts(ev[3]), ev[4], ev[5]))
    reviews = review_dates(ctx.as_of, 400)
    for n, d in enumerate(reviews, 1):
        w.add("tierreview", (n, period_name(d), ctx.ts(ctx.local(d, 2, 0)), None, downgrades.get(period_name(d), 0)))
    for bid, _key, kind, at, by, moves, note in ctx.data["batches"]:
        w.add("assignmentbatch", (bid, kind, ctx.ts(at), by, moves, note, None))
    batch_ids = ctx.data["batch_ids"]
    moves = sorted(((mv[2], c.id, j, mv) for c in custs for j, mv in enumerate(c.moves)), key=lambda x: x[:3])
    for n, (_, cid, _, mv) in enumerate(moves, 1):
        w.add(
            "assignment",
            (n, cid, mv[0], mv[1], ctx.ts(mv[2]), mv[3], mv[4], batch_ids.get(mv[5]) if mv[5] else None, mv[6]),
        )
    w.flush()
    ctx.report("tier history and assignments", len(events) + len(moves), len(events) + len(moves))


# -- purchases ------------------------------------------------------------------------------------------------


def _count_range(ctx: Ctx, rank: int) -> tuple[int, int]:
    tiers = ctx.ref.tiers

    def cnt(r: int) -> int | None:
        return tiers[r].min_purchases if 1 <= r <= 4 else None

    c1 = cnt(1) or 5
    if rank == 0:
        return 0, max(0, c1 - 1)
    here = cnt(rank) or 5 * rank
    nxt = cnt(rank + 1) if rank < 4 else None
    lo_f, hi_f = {1: (0.6, 1.6), 2: (0.5, 1.4), 3: (0.4, 1.1), 4: (0.3, 0.8)}[rank]
    lo = max(1, int(here * lo_f))
    hi = max(lo, int(here * hi_f))
    if nxt is not None:
        hi = min(hi, nxt - 1)
    return lo, max(lo, hi)


def _spend_bounds(ctx: Ctx, rank: int) -> tuple[int, int]:
    tiers = ctx.ref.tiers
    here = tiers[rank].min_spend_fen if 1 <= rank <= 4 else 0
    here = here or 0
    nxt = tiers[rank + 1].min_spend_fen if rank < 4 else None
    if nxt is None:
        nxt = max(here * 3, 1_500_000)
    return here, nxt


def sample_window(ctx: Ctx, rng: random.Random, rank: int, near: bool = False) -> tuple[int, int]:
    """(count, spend in fen) of in-window purchases that qualify for exactly this rank."""
    lo_n, hi_n = _count_range(ctx, rank)
    lo_s, hi_s = _spend_bounds(ctx, rank)
    tier = ctx.ref.tiers[rank]
    for _ in range(200):
        n = rng.randint(lo_n, hi_n)
        if n == 0:
            return 0, 0
        floor = n * 2_000
        if near:
            s = rng.randint(max(floor, int(hi_s * 0.9)), max(floor, hi_s - 1))
        elif rank >= 1 and tier.min_purchases is not None and n >= tier.min_purchases and not tier.require_both:
            s = rng.randint(max(floor, int(lo_s * 0.4)), max(floor, hi_s - 1))
        else:
            s = rng.randint(max(floor, lo_s), max(floor, hi_s - 1))
        if ctx.ref.qualified_rank(n, s) == rank:
            return n, s
    for n in range(0, 200):
        for s in (lo_s, lo_s + 100_00, max(0, hi_s - 100), n * 2_000):
            if ctx.ref.qualified_rank(n, s) == rank:
                return n, s
    raise RuntimeError(f"cannot build purchases that qualify for tier rank {rank} under the current ladder")


def _split(rng: random.Random, total: int, n: int) -> list[int]:
    if n == 0:
        return []
    weights = [rng.random() + 0.15 for _ in range(n)]
    scale = total / sum(weights)
    amounts = [int(w * scale) for w in weights]
    amounts[-1] += total - sum(amounts)
    return amounts


def _cross_plan(ctx: Ctx, rng: random.Random, c: Cust) -> tuple[list[int], int]:
    """Amounts before the crossing day (qualifying for cross_from) and the crossing purchase."""
    ref = ctx.ref
    for _ in range(400):
        n, s = sample_window(ctx, rng, c.rank)
        if n < 1:
            continue
        a = int(s * rng.uniform(0.15, 0.7))
        if ref.qualified_rank(n - 1, s - a) == c.cross_from and ref.qualified_rank(n, s) == c.rank:
            return _split(rng, s - a, n - 1), a
    # constructive fallback: just below the threshold, then one purchase over it
    lo_n, _ = _count_range(ctx, c.cross_from)
    for n_prev in range(lo_n, lo_n + 60):
        for s_prev in range(0, 5_000_000, 50_000):
            if ref.qualified_rank(n_prev, s_prev) != c.cross_from:
                continue
            for a in range(10_000, 10_000_000, 50_000):
                if ref.qualified_rank(n_prev + 1, s_prev + a) == c.rank:
                    return _split(rng, s_prev, n_prev), a
    raise RuntimeError(f"cannot build an upgrade from {c.cross_from} to {c.rank} under the current ladder")


def purchase_rows(ctx: Ctx, custs: list[Cust]) -> Iterator[tuple[int, dt.datetime, int]]:
    """(customer id, time, amount fen) for every purchase, customer by customer."""
    rng = ctx.rng("purchases")
    as_of = ctx.as_of
    days = dt.timedelta
    review = next_review(as_of)
    inner_lo = as_of - days(WINDOW_INNER)
    inner_hi = as_of - days(1)
    # at-risk customers: some purchases inside today's window but outside the one at the next review
    drop_lo, drop_hi = inner_lo, review - days(WINDOW_OUTER - 4)
    keep_lo = review - days(WINDOW_INNER - 4)
    if drop_hi < drop_lo:  # the review is days away: use the exact 12-month windows, without margins
        drop_lo, drop_hi = year_before(as_of) + days(1), year_before(review)
        keep_lo = year_before(review) + days(1)
    old_lo, old_hi = as_of - days(OLD_HORIZON), as_of - days(WINDOW_OUTER)

    def at(day: dt.date) -> dt.datetime:
        return ctx.local(day, rng.randint(10, 21), rng.randrange(60), rng.randrange(60))

    def span(lo: dt.date, hi: dt.date) -> int:
        return max(0, (hi - lo).days)

    for c in custs:
        if c.is_training:
            continue
        out: list[tuple[dt.datetime, int]] = []
        if c.profile == "cross" and c.cross_day is not None:
            prior, a = _cross_plan(ctx, rng, c)
            hi = c.cross_day - days(1)
            for amt in prior:
                out.append((at(inner_lo + days(rng.randint(0, span(inner_lo, hi)))), amt))
            out.append((ctx.local(c.cross_day, rng.randint(10, 20), rng.randrange(60), rng.randrange(60)), a))
        else:
            qual = c.rank
            if c.story == "supreme":
                qual = 4
            elif c.profile == "override":
                qual = c.rank - 1
            n, s = sample_window(ctx, rng, qual, near=c.profile == "near")
            amounts = _split(rng, s, n)
            drop: set[int] = set()
            if c.profile == "at_risk" and drop_hi >= drop_lo and qual >= 1:
                order = sorted(range(n), key=lambda i: (-amounts[i], i))
                kept_n, kept_s = n, s
                for i in order:
                    if ctx.ref.qualified_rank(kept_n, kept_s) < qual:
                        break
                    drop.add(i)
                    kept_n -= 1
                    kept_s -= amounts[i]
            for i, amt in enumerate(amounts):
                if i in drop:
                    day = drop_lo + days(rng.randint(0, span(drop_lo, drop_hi)))
                elif c.profile == "at_risk" and keep_lo <= inner_hi:
                    day = keep_lo + days(rng.randint(0, span(keep_lo, inner_hi)))
                else:
                    day = inner_lo + days(rng.randint(0, span(inner_lo, inner_hi)))
                out.append((at(day), amt))
            if rng.random() < 0.4 and c.story not in ("new_unassigned", "new_assigned"):
                for _ in range(rng.randint(1, 3)):
                    out.append((at(old_lo + days(rng.randint(0, span(old_lo, old_hi)))), rng.randint(5_000, 300_000)))
        out.sort()
        for when, amt in out:
            yield c.id, when, amt


def write_purchases(ctx: Ctx, custs: list[Cust]) -> int:
    w = ctx.writer
    w.table("purchase", PURCHASE_COLUMNS)
    expected = int(len(custs) * ctx.scale.purchases_per_customer_year)
    n = 0
    for cid, when, amt in purchase_rows(ctx, custs):
        n += 1
        w.add("purchase", (n, cid, ctx.ts(when), amt, f"P{n:09d}"))
        if n % 100_000 == 0:
            ctx.report("purchases", n, max(expected, n))
    w.flush()
    ctx.report("purchases", n, n)
    return n
