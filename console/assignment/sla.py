"""SLAs of SPEC §3 (001 L280–284) on Asia/Shanghai dates and the Chinese working-day calendar.

| SLA | Starts | Due | Met by |
| Binding | day 0: the day a customer first becomes a VIP or is upgraded | end of the 3rd working day after day 0 | an assignment to an eligible manager |
| Notice SMS | binding | ≥ 3 working days before the visit call is due | a contact of kind sms by anyone |
| First contact | binding day | binding day + 30 days | a connected maintenance call by the bound manager |
| Regular contact | the last qualifying contact | + the tier's frequency | a connected maintenance call or a visit by the bound manager |

A reassignment restarts the first-contact clock: the binding day is the day of the current assignment.
A due date is met by something done on or before that date; an open item is breached the day after.

The pure functions work on dates; the SQL builders give the same answers for whole portfolios
(aggregated in the database, identical on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, and_, case, false, func, literal, null, or_, select, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Select, Subquery

from console.assignment.rules import LEVEL_MAX_RANK, Ladder
from console.timeutil import add_working_days, local_date, shanghai_date
from models import Contact, Customer, Staff

SLA_KINDS: tuple[str, ...] = ("binding", "sms", "first_contact", "regular_contact")
SLA_LABELS: dict[str, str] = {
    "binding": "Binding",
    "sms": "Notice SMS",
    "first_contact": "First contact",
    "regular_contact": "Regular contact",
}
SLA_STATES: tuple[str, ...] = ("met", "met_late", "missed", "breached", "due_soon", "open", "not_applicable")
STATE_LABELS: dict[str, str] = {
    "met": "Met",
    "met_late": "Met late",
    "missed": "Missed",
    "breached": "Breached",
    "due_soon": "Due within 7 days",
    "open": "Not yet due",
    "not_applicable": "Not applicable",
    "on_track": "On track",
}
BINDING_WORKING_DAYS = 3
FIRST_CONTACT_DAYS = 30
SMS_LEAD_WORKING_DAYS = 3
DUE_SOON_DAYS = 7


# ------------------------------------------------------------------------------------------------ pure rules


def binding_due(day0: dt.date) -> dt.date:
    """End of the 3rd working day after day 0 (day 0 not counted)."""
    return add_working_days(day0, BINDING_WORKING_DAYS)


def first_contact_due(binding_day: dt.date) -> dt.date:
    return binding_day + dt.timedelta(days=FIRST_CONTACT_DAYS)


def sms_due(binding_day: dt.date) -> dt.date:
    """At least 3 working days before the visit call is due."""
    return add_working_days(first_contact_due(binding_day), -SMS_LEAD_WORKING_DAYS)


def regular_contact_due(last_contact: dt.date, contact_days: int) -> dt.date:
    return last_contact + dt.timedelta(days=contact_days)


def classify(due: dt.date | None, met_on: dt.date | None, today: dt.date) -> str:
    """met | met_late | breached | due_soon | open | not_applicable."""
    if due is None:
        return "not_applicable"
    if met_on is not None:
        return "met" if met_on <= due else "met_late"
    if today > due:
        return "breached"
    if (due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "open"


@dataclass(frozen=True)
class SlaItem:
    kind: str
    start: dt.date | None
    due: dt.date | None
    met_on: dt.date | None
    state: str


def customer_slas(
    *,
    today: dt.date,
    contact_days: int | None,
    day0: dt.date | None,
    binding_due_on: dt.date | None,
    binding_day: dt.date | None,
    manager_eligible: bool,
    first_call: dt.date | None,
    first_sms: dt.date | None,
    last_contact: dt.date | None,
) -> list[SlaItem]:
    """The four SLAs of one VIP.

    day0: the day the customer became a VIP or was last upgraded; binding_due_on: the stored due date
    (computed from day 0 when missing); binding_day: the day of the current assignment (None when
    unassigned); first_call / first_sms / last_contact: dates of qualifying contacts since binding_day.
    """
    items: list[SlaItem] = []
    due_b = binding_due_on or (binding_due(day0) if day0 else None)
    bound = binding_day is not None and manager_eligible
    met_b = None
    if bound:
        assert binding_day is not None
        met_b = max(binding_day, day0) if day0 else binding_day
    if due_b is None and bound:
        items.append(SlaItem("binding", day0, None, met_b, "met"))
    else:
        items.append(SlaItem("binding", day0, due_b, met_b, classify(due_b, met_b, today)))
    if binding_day is None:
        for kind in ("sms", "first_contact", "regular_contact"):
            items.append(SlaItem(kind, None, None, None, "not_applicable"))
        return items
    due_s = sms_due(binding_day)
    if first_sms is None and first_call is not None:
        items.append(SlaItem("sms", binding_day, due_s, None, "missed"))
    else:
        items.append(SlaItem("sms", binding_day, due_s, first_sms, classify(due_s, first_sms, today)))
    due_f = first_contact_due(binding_day)
    items.append(SlaItem("first_contact", binding_day, due_f, first_call, classify(due_f, first_call, today)))
    if first_call is None or contact_days is None:
        items.append(SlaItem("regular_contact", None, None, None, "not_applicable"))
    else:
        last = last_contact or first_call
        due_r = regular_contact_due(last, contact_days)
        items.append(SlaItem("regular_contact", last, due_r, None, classify(due_r, None, today)))
    return items


def overall_state(items: list[SlaItem]) -> str:
    """The worst open state of a VIP: breached, due_soon or on_track."""
    states = {item.state for item in items}
    if "breached" in states:
        return "breached"
    if "due_soon" in states:
        return "due_soon"
    return "on_track"


def sms_thresholds(today: dt.date) -> tuple[dt.date, dt.date]:
    """(b1, b2) over binding days b, using that sms_due(b) never decreases as b grows:
    sms_due(b) < today  ⟺  b < b1;   sms_due(b) ≤ today + 7  ⟺  b ≤ b2."""
    b = today - dt.timedelta(days=FIRST_CONTACT_DAYS + 40)
    while sms_due(b) < today:
        b += dt.timedelta(days=1)
    b1 = b
    horizon = today + dt.timedelta(days=DUE_SOON_DAYS)
    b = b1 - dt.timedelta(days=1)
    while sms_due(b + dt.timedelta(days=1)) <= horizon:
        b += dt.timedelta(days=1)
    return b1, b


# ------------------------------------------------------------------------------------------------ SQL


class date_add_days(FunctionElement):  # noqa: N801 - reads like a SQL function
    """SQL: a date plus an integer number of days (a date on both databases)."""

    type = Date()
    inherit_cache = True
    name = "date_add_days"


@compiles(date_add_days, "sqlite")
def _date_add_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, printf('%+d days', {compiler.process(days, **kw)}))"


@compiles(date_add_days, "postgresql")
def _date_add_pg(element, compiler, **kw):  # type: ignore[no-untyped-def]
    day, days = list(element.clauses)
    return f"(CAST({compiler.process(day, **kw)} AS DATE) + CAST({compiler.process(days, **kw)} AS INTEGER))"


def contact_days_expr(rank: ColumnElement[Any], ladder: Ladder) -> ColumnElement[Any]:
    mapping = {r: ladder.contact_days(r) for r in ladder.vip_ranks() if ladder.contact_days(r)}
    if not mapping:
        return null()
    return case(mapping, value=rank, else_=null())


def level_forbids_expr(level: ColumnElement[Any], rank: ColumnElement[Any], ladder: Ladder) -> ColumnElement[Any]:
    """SQL truth of 'this manager level may not hold this tier' (rules.level_allows, negated)."""
    conds: list[ColumnElement[Any]] = [level.is_(None), level.not_in(list(LEVEL_MAX_RANK))]
    for lvl, top in LEVEL_MAX_RANK.items():
        conds.append(and_(level == lvl, rank > top))
    enterprise_only = sorted(r for r, tier in ladder.tiers.items() if tier.enterprise_only)
    if enterprise_only:
        conds.append(and_(rank.in_(enterprise_only), level != "enterprise"))
    return or_(*conds)


def _qualifying_call(ct: Any) -> ColumnElement[bool]:
    return and_(ct.c.kind == "call", ct.c.outcome == "connected", ct.c.stream == "maintenance")


def _sms_sent(ct: Any) -> ColumnElement[bool]:
    """A logged SMS counts unless its delivery is recorded as failed."""
    return and_(ct.c.kind == "sms", or_(ct.c.outcome.is_(None), ct.c.outcome != "failed"))


def assigned_base(
    ladder: Ladder, *, manager_id: int | None = None, customer_ids: Sequence[int] | None = None
) -> Subquery:
    """One row per assigned VIP: binding day, first qualifying call, last qualifying contact, first SMS since.

    One GROUP BY over the VIPs' contacts since their binding (index customer_id, at), so the database
    reads each contact once; the outer queries then only compare dates.
    """
    c = Customer.__table__
    ct = Contact.__table__
    st = Staff.__table__
    bind_at = func.coalesce(c.c.assigned_at, c.c.vip_since, c.c.created_at)
    by_manager = ct.c.staff_id == c.c.manager_id
    first_call = func.min(case((and_(by_manager, _qualifying_call(ct)), ct.c.at)))
    last_contact = func.max(case((and_(by_manager, or_(_qualifying_call(ct), ct.c.kind == "visit")), ct.c.at)))
    first_sms = func.min(case((_sms_sent(ct), ct.c.at)))
    stmt = (
        select(
            c.c.id.label("customer_id"),
            c.c.manager_id.label("manager_id"),
            c.c.tier_rank.label("tier_rank"),
            c.c.binding_due.label("binding_due"),
            level_forbids_expr(st.c.manager_level, c.c.tier_rank, ladder).label("ineligible"),
            shanghai_date(bind_at).label("bind_day"),
            shanghai_date(first_call).label("first_call_day"),
            shanghai_date(last_contact).label("last_day"),
            shanghai_date(first_sms).label("sms_day"),
        )
        .select_from(
            c.join(st, st.c.id == c.c.manager_id).outerjoin(ct, and_(ct.c.customer_id == c.c.id, ct.c.at >= bind_at))
        )
        .where(c.c.tier_rank > 0, c.c.manager_id.is_not(None), c.c.is_training == false())
        .group_by(c.c.id, st.c.id)
    )
    if manager_id is not None:
        stmt = stmt.where(c.c.manager_id == manager_id)
    if customer_ids is not None:
        stmt = stmt.where(c.c.id.in_(list(customer_ids)))
    # A CTE: the item lists read it four times, and both databases then compute it once.
    return stmt.cte("sla_base")  # type: ignore[return-value]


@dataclass(frozen=True)
class _Exprs:
    first_due: ColumnElement[Any]
    regular_due: ColumnElement[Any]
    first_open: ColumnElement[bool]
    sms_open: ColumnElement[bool]
    binding_open: ColumnElement[bool]


def _exprs(b: Subquery, ladder: Ladder) -> _Exprs:
    return _Exprs(
        first_due=date_add_days(b.c.bind_day, literal(FIRST_CONTACT_DAYS)),
        regular_due=date_add_days(b.c.last_day, contact_days_expr(b.c.tier_rank, ladder)),
        first_open=b.c.first_call_day.is_(None),
        sms_open=and_(b.c.first_call_day.is_(None), b.c.sms_day.is_(None)),
        binding_open=and_(b.c.ineligible == true(), b.c.binding_due.is_not(None)),
    )


def _flag(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((cond, 1), else_=0))


def manager_summary_stmt(ladder: Ladder, today: dt.date, *, manager_id: int | None = None) -> Select[Any]:
    """Per manager: breached and due-within-7-days counts per SLA (assigned VIPs)."""
    b = assigned_base(ladder, manager_id=manager_id)
    e = _exprs(b, ladder)
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    s1, s2 = sms_thresholds(today)
    regular_open = b.c.first_call_day.is_not(None)
    return select(
        b.c.manager_id,
        func.count().label("vips"),
        _flag(and_(e.binding_open, b.c.binding_due < today)).label("binding_breached"),
        _flag(and_(e.binding_open, b.c.binding_due >= today, b.c.binding_due <= soon)).label("binding_soon"),
        _flag(and_(e.sms_open, b.c.bind_day < s1)).label("sms_breached"),
        _flag(and_(e.sms_open, b.c.bind_day >= s1, b.c.bind_day <= s2)).label("sms_soon"),
        _flag(and_(e.first_open, e.first_due < today)).label("first_breached"),
        _flag(and_(e.first_open, e.first_due >= today, e.first_due <= soon)).label("first_soon"),
        _flag(and_(regular_open, e.regular_due < today)).label("regular_breached"),
        _flag(and_(regular_open, e.regular_due >= today, e.regular_due <= soon)).label("regular_soon"),
    ).group_by(b.c.manager_id)


def unassigned_binding_stmt(today: dt.date) -> Select[Any]:
    """Unassigned VIPs: binding breached and due within 7 days (their day 0 set binding_due)."""
    c = Customer.__table__
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    base = c.c.tier_rank > 0
    return select(
        func.count().label("vips"),
        _flag(c.c.binding_due < today).label("binding_breached"),
        _flag(and_(c.c.binding_due >= today, c.c.binding_due <= soon)).label("binding_soon"),
        func.min(c.c.waiting_since).label("oldest_waiting"),
    ).where(base, c.c.manager_id.is_(None), c.c.is_training == false())


def customer_state_stmt(
    ladder: Ladder,
    today: dt.date,
    *,
    manager_id: int | None = None,
    customer_ids: Sequence[int] | None = None,
) -> Select[Any]:
    """(customer_id, state, next_due) for every VIP: breached | due_soon | on_track.

    next_due is the earliest open due date among first/regular contact and binding (the SMS due date
    is derived from the binding day in Python where it is shown).
    """
    b = assigned_base(ladder, manager_id=manager_id, customer_ids=customer_ids)
    e = _exprs(b, ladder)
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    s1, s2 = sms_thresholds(today)
    contact_due = case((e.first_open, e.first_due), else_=e.regular_due)
    breached = or_(
        and_(e.binding_open, b.c.binding_due < today),
        and_(e.sms_open, b.c.bind_day < s1),
        contact_due < today,
    )
    due_soon = or_(
        and_(e.binding_open, b.c.binding_due <= soon),
        and_(e.sms_open, b.c.bind_day <= s2),
        contact_due <= soon,
    )
    assigned = select(
        b.c.customer_id,
        case((breached, "breached"), (due_soon, "due_soon"), else_="on_track").label("state"),
        contact_due.label("next_due"),
    )
    if manager_id is not None:
        return assigned
    c = Customer.__table__
    unassigned = select(
        c.c.id.label("customer_id"),
        case(
            (c.c.binding_due < today, "breached"),
            (c.c.binding_due <= soon, "due_soon"),
            else_="on_track",
        ).label("state"),
        c.c.binding_due.label("next_due"),
    ).where(c.c.tier_rank > 0, c.c.manager_id.is_(None), c.c.is_training == false())
    if customer_ids is not None:
        unassigned = unassigned.where(c.c.id.in_(list(customer_ids)))
    return union_all(assigned, unassigned)  # type: ignore[return-value]


def items_stmt(ladder: Ladder, today: dt.date, *, manager_id: int | None = None, which: str = "breached") -> Any:
    """Open SLA items (customer_id, manager_id, kind, due or the SMS's binding day) that are breached or
    due within 7 days, as one UNION ALL (kind 'sms' rows carry the binding day in `ref_day`)."""
    b = assigned_base(ladder, manager_id=manager_id)
    e = _exprs(b, ladder)
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    s1, s2 = sms_thresholds(today)
    regular_open = b.c.first_call_day.is_not(None)

    def window(due: ColumnElement[Any]) -> ColumnElement[bool]:
        return due < today if which == "breached" else and_(due >= today, due <= soon)

    sms_window = b.c.bind_day < s1 if which == "breached" else and_(b.c.bind_day >= s1, b.c.bind_day <= s2)
    parts = [
        select(
            b.c.customer_id, b.c.manager_id, literal("binding").label("kind"), b.c.binding_due.label("ref_day")
        ).where(e.binding_open, window(b.c.binding_due)),
        select(b.c.customer_id, b.c.manager_id, literal("sms").label("kind"), b.c.bind_day.label("ref_day")).where(
            e.sms_open, sms_window
        ),
        select(
            b.c.customer_id, b.c.manager_id, literal("first_contact").label("kind"), e.first_due.label("ref_day")
        ).where(e.first_open, window(e.first_due)),
        select(
            b.c.customer_id, b.c.manager_id, literal("regular_contact").label("kind"), e.regular_due.label("ref_day")
        ).where(regular_open, window(e.regular_due)),
    ]
    if manager_id is None:
        c = Customer.__table__
        parts.append(
            select(
                c.c.id.label("customer_id"),
                c.c.manager_id,
                literal("binding").label("kind"),
                c.c.binding_due.label("ref_day"),
            ).where(c.c.tier_rank > 0, c.c.manager_id.is_(None), c.c.is_training == false(), window(c.c.binding_due))
        )
    return union_all(*parts).subquery("sla_items")


def due_from_ref(kind: str, ref_day: dt.date | None) -> dt.date | None:
    """The due date of an item row of items_stmt (SMS rows carry the binding day)."""
    if ref_day is None:
        return None
    if isinstance(ref_day, str):
        ref_day = dt.date.fromisoformat(ref_day)
    return sms_due(ref_day) if kind == "sms" else ref_day


def as_local_date(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else local_date(value)
