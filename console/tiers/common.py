"""What every part of the tier engine shares: the ladder as plain rules, the qualification test (in Python
and as one SQL CASE), the trailing-12-month window, review periods, who sees which customers, money format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, false, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from console.permissions import SUPERVISORS, Actor
from console.tiers_ref import current_ladder
from console.timeutil import local_midnight_utc
from models import Call, Customer, Staff

# SPEC §3: which tiers a manager level may hold (junior up to Gold, senior up to Diamond, enterprise any).
LEVEL_MAX_RANK: dict[str, int] = {"junior": 2, "senior": 4, "enterprise": 5}
SUPREME_RANK = 5


class TierError(ValueError):
    """A refused tier action; the message is shown to the user as it is."""


@dataclass(frozen=True)
class TierRule:
    """One rung of the ladder in force on a date (a plain copy of a TierLevel row)."""

    rank: int
    code: str
    name_en: str
    name_zh: str
    min_spend_fen: int | None
    min_purchases: int | None
    require_both: bool
    ratio: int | None
    units: int
    contact_days: int | None
    designation_only: bool
    enterprise_only: bool
    color: str
    effective_from: dt.date

    @property
    def has_threshold(self) -> bool:
        return (
            not self.designation_only
            and self.rank > 0
            and (self.min_spend_fen is not None or self.min_purchases is not None)
        )


def ladder_on(session: Session, day: dt.date) -> list[TierRule]:
    """The ladder in force on a date, ordered by rank."""
    return [
        TierRule(
            rank=row.rank,
            code=row.code,
            name_en=row.name_en,
            name_zh=row.name_zh,
            min_spend_fen=row.min_spend_fen,
            min_purchases=row.min_purchases,
            require_both=bool(row.require_both),
            ratio=row.ratio,
            units=int(row.units),
            contact_days=row.contact_days,
            designation_only=bool(row.designation_only),
            enterprise_only=bool(row.enterprise_only),
            color=row.color,
            effective_from=row.effective_from,
        )
        for row in current_ladder(session, day)
    ]


def qualifies(rule: TierRule, count: int, spend_fen: int) -> bool:
    """SPEC §2: either condition qualifies, unless the tier requires both (003 L8-11, L25-26)."""
    if not rule.has_threshold:
        return False
    conds = []
    if rule.min_spend_fen is not None:
        conds.append(spend_fen >= rule.min_spend_fen)
    if rule.min_purchases is not None:
        conds.append(count >= rule.min_purchases)
    return all(conds) if rule.require_both else any(conds)


def qualified_rank(ladder: list[TierRule], count: int, spend_fen: int) -> int:
    """The highest threshold tier the window's purchases qualify for (0 = Member)."""
    best = 0
    for rule in ladder:
        if qualifies(rule, count, spend_fen):
            best = max(best, rule.rank)
    return best


def qualified_case(ladder: list[TierRule], count: ColumnElement, spend: ColumnElement) -> ColumnElement:
    """The same rule as qualified_rank, as one SQL CASE over a purchase count and a spend in fen."""
    whens = []
    for rule in sorted((r for r in ladder if r.has_threshold), key=lambda r: -r.rank):
        conds = []
        if rule.min_spend_fen is not None:
            conds.append(spend >= rule.min_spend_fen)
        if rule.min_purchases is not None:
            conds.append(count >= rule.min_purchases)
        whens.append((and_(*conds) if rule.require_both else or_(*conds), rule.rank))
    if not whens:
        return literal(0)
    return case(*whens, else_=0)


def units_by_rank(ladder: list[TierRule]) -> dict[int, int]:
    return {rule.rank: rule.units for rule in ladder}


# ------------------------------------------------------------------------------------------- dates


def year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def window_dates(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last Asia/Shanghai date of the 12 months ending on as_of (both inclusive)."""
    return year_before(as_of) + dt.timedelta(days=1), as_of


def window_bounds(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The same window as UTC instants [lo, hi): usable on the indexed purchase.at column."""
    first, last = window_dates(as_of)
    return local_midnight_utc(first), local_midnight_utc(last + dt.timedelta(days=1))


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_of(day: dt.date) -> str:
    """The review period a date belongs to, e.g. 2026-Q4."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def next_review_date(today: dt.date) -> dt.date:
    """Reviews are due on the first day of each quarter; the next one after today."""
    start = quarter_start(today)
    month = start.month + 3
    return dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_from_key(key: str) -> dt.date:
    return dt.date(int(key[:4]), int(key[5:7]), 1)


# ------------------------------------------------------------------------------------------- scope


def list_scope(actor: Actor) -> ColumnElement | None:
    """Which customers' names an actor may list on the Tiers page (None = all).

    SPEC §1: a client manager sees their own portfolio; a team lead the customers their team calls
    (and those its client managers hold); supervisors and admins everyone.
    """
    if actor.role in SUPERVISORS:
        return None
    if actor.role == "client_manager":
        return Customer.manager_id == actor.staff_id if actor.staff_id is not None else false()
    if actor.role == "team_lead" and actor.team_id is not None:
        members = select(Staff.id).where(Staff.team_id == actor.team_id)
        callees = select(Call.customer_id).where(Call.caller_id.in_(members))  # type: ignore[attr-defined]
        return or_(Customer.manager_id.in_(members), Customer.id.in_(callees))  # type: ignore[union-attr]
    return false()


def aggregate_scope(actor: Actor) -> ColumnElement | None:
    """Which customers an actor's counts cover: a client manager's own portfolio, otherwise the department."""
    if actor.role == "client_manager":
        return Customer.manager_id == actor.staff_id if actor.staff_id is not None else false()
    if actor.role in SUPERVISORS or actor.role == "team_lead":
        return None
    return false()


def not_training() -> ColumnElement:
    return Customer.is_training == False  # noqa: E712


# ------------------------------------------------------------------------------------------- caches


def save_meta_quietly(session: Session, key: str, value: object) -> None:
    """Store a cached value; losing a race with another page saving the same key is fine."""
    from sqlalchemy.exc import IntegrityError

    from console.meta import set_meta

    try:
        with session.begin_nested():
            set_meta(session, key, value)
    except IntegrityError:
        pass


# ------------------------------------------------------------------------------------------- money


def fmt_yuan(fen: int | None, *, decimals: bool | None = None) -> str:
    """Integer fen shown as ¥ with thousands separators (whole yuan without decimals)."""
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    if decimals is False or (decimals is None and fen % 100 == 0):
        return f"{sign}¥{fen // 100:,}"
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"
