"""Home figures per role: VIPs by tier, unassigned VIPs, upcoming visits, the demo data's age."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from dataclasses import dataclass, field

from sqlalchemy import and_, or_
from sqlmodel import Session, func, select

from console.audit import query
from console.meta import demo_age_days, demo_marker
from console.permissions import Actor
from console.tiers_ref import current_ladder
from console.timeutil import local_midnight_utc
from models import Customer, Staff, Visit


@dataclass(frozen=True)
class TierCount:
    rank: int
    code: str
    name_en: str
    name_zh: str
    color: str
    count: int


@dataclass
class UpcomingVisit:
    visit_id: int
    guest: str
    level: int
    arrival_at: dt.datetime
    host: str | None
    location: str
    status: str


@dataclass
class HomeFigures:
    scope: str  # "department" | "portfolio"
    tiers: list[TierCount] = field(default_factory=list)
    vip_total: int = 0
    unassigned_vips: int = 0
    upcoming_visits: list[UpcomingVisit] = field(default_factory=list)
    demo_age_days: int | None = None
    demo_as_of: str | None = None


@dataclass(frozen=True)
class Tile:
    """A headline number a later domain adds to Home. label is English (translated when drawn)."""

    label: str
    value: str
    page: str | None = None  # page key it links to (shown only if the role may open it)
    help: str | None = None
    alert: bool = False


# Domain modules that may define home_tiles(*, session, actor, today) -> list[Tile].
TILE_PROVIDERS = ("console.assignment", "console.tiers", "console.qa", "console.reception", "console.customers")


@query("home.figures")
def extra_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    tiles: list[Tile] = []
    for name in TILE_PROVIDERS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        provider = getattr(importlib.import_module(name), "home_tiles", None)
        if provider is not None:
            tiles.extend(provider(session=session, actor=actor, today=today))
    return tiles


@query("home.figures")
def home_figures(*, session: Session, actor: Actor, today: dt.date) -> HomeFigures:
    portfolio = actor.role == "client_manager"
    figures = HomeFigures(scope="portfolio" if portfolio else "department")
    stmt = select(Customer.tier_rank, func.count()).where(Customer.is_training == False)  # noqa: E712
    if portfolio:
        stmt = stmt.where(Customer.manager_id == actor.staff_id)
    counts = dict(session.exec(stmt.group_by(Customer.tier_rank)).all())
    for tier in current_ladder(session, today):
        figures.tiers.append(
            TierCount(tier.rank, tier.code, tier.name_en, tier.name_zh, tier.color, int(counts.get(tier.rank, 0)))
        )
    figures.vip_total = sum(tc.count for tc in figures.tiers if tc.rank > 0)
    if not portfolio:
        figures.unassigned_vips = session.exec(
            select(func.count()).select_from(Customer).where(Customer.tier_rank > 0, Customer.manager_id.is_(None))  # type: ignore[union-attr]
        ).one()
    start = local_midnight_utc(today)
    end = local_midnight_utc(today + dt.timedelta(days=8))
    vstmt = (
        select(Visit, Customer.name, Staff.name)
        .join(Customer, Customer.id == Visit.customer_id, isouter=True)
        .join(Staff, Staff.id == Visit.host_id, isouter=True)
        .where(
            Visit.status.in_(("planned", "in_progress")),  # type: ignore[attr-defined]
            or_(and_(Visit.arrival_at >= start, Visit.arrival_at < end), Visit.status == "in_progress"),
        )
        .order_by(Visit.arrival_at)
    )
    if portfolio:
        vstmt = vstmt.where(or_(Visit.host_id == actor.staff_id, Customer.manager_id == actor.staff_id))
    for visit, customer_name, host_name in session.exec(vstmt.limit(50)).all():
        figures.upcoming_visits.append(
            UpcomingVisit(
                visit_id=visit.id,  # type: ignore[arg-type]
                guest=customer_name or visit.guest_name or "",
                level=visit.level,
                arrival_at=visit.arrival_at,
                host=host_name,
                location=visit.location,
                status=visit.status,
            )
        )
    figures.demo_age_days = demo_age_days(session, today)
    marker = demo_marker(session)
    figures.demo_as_of = str(marker["as_of"]) if marker else None
    return figures
