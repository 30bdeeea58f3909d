"""The readiness board (SPEC §5): visits of today and the next 7 days, readiness %, overdue items first.

One aggregate query over the window's runs; the visits come with guest, tier, level, arrival, host.
Also the Home tiles of the reception domain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from console.audit import query
from console.home import Tile
from console.i18n import pick
from console.permissions import Actor
from console.reception.common import (
    ACTIVE_VISIT_STATUSES,
    CURRENT_RUN_STATUSES,
    now_or,
    visible_visit_clause,
    who,
)
from console.reception.runs import overdue_clause, ready_clause
from console.tiers_ref import current_ladder
from console.timeutil import local_midnight_utc
from models import Customer, Department, FollowUp, Run, RunItem, Staff, Visit

BOARD_PAGE = 50


@dataclass
class BoardRow:
    visit_id: int
    guest: str
    customer_code: str | None
    tier: str
    tier_rank: int | None
    level: int
    arrival_at: dt.datetime
    departure_at: dt.datetime
    host: str
    location: str
    status: str
    runs: int
    awaiting_signoff: int
    required: int
    ready: int
    readiness: float | None
    overdue: int


@dataclass
class BoardPage:
    total: int  # visits in the window
    with_overdue: int
    arriving_today: int
    awaiting_signoff: int  # runs submitted and waiting for a supervisor
    rows: list[BoardRow]


def _window(today: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    return local_midnight_utc(today), local_midnight_utc(today + dt.timedelta(days=days + 1))


def has_overdue_clause(now: dt.datetime) -> ColumnElement[bool]:
    """SQL condition on Visit: one of its runs has an open item past due or an open follow-up past due.

    Walks the (run_id, state, due_at) index per run, so it costs the same per visit at any scale.
    """
    item, run, fu = aliased(RunItem), aliased(Run), aliased(FollowUp)
    late_item = exists(
        select(item.id)
        .join(run, run.id == item.run_id)
        .where(run.visit_id == Visit.id, run.status != "cancelled", item.state == "open", item.due_at < now)
    )
    item2, run2 = aliased(RunItem), aliased(Run)
    late_followup = exists(
        select(fu.id)
        .join(item2, item2.id == fu.run_item_id)
        .join(run2, run2.id == item2.run_id)
        .where(
            run2.visit_id == Visit.id,
            run2.status != "cancelled",
            item2.state == "failed",
            fu.status == "open",
            fu.due_at < now,
        )
    )
    return or_(late_item, late_followup)


@query("reception.read")
def readiness_board(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    now: dt.datetime | None = None,
    days: int = 7,
    offset: int = 0,
    limit: int = BOARD_PAGE,
) -> BoardPage:
    """Visits overlapping today .. today + days (Asia/Shanghai), not cancelled; those with overdue items first,
    then by arrival; one page of them with readiness and overdue counts.

    The whole window is ordered on a cheap per-visit "anything overdue?" test; readiness is aggregated for the
    page's visits only, so a page costs about the same at any scale.
    """
    current = now_or(now)
    w = who(session, actor)
    start, end = _window(today, days)
    in_window = and_(
        Visit.arrival_at < end,
        Visit.departure_at >= start,
        Visit.status != "cancelled",
        visible_visit_clause(w),
    )
    late = has_overdue_clause(current)
    submitted = select(func.count(Run.id)).where(Run.visit_id == Visit.id, Run.status == "submitted").scalar_subquery()
    ordered = session.exec(
        select(Visit.id, Visit.arrival_at, case((late, 1), else_=0), submitted)
        .where(in_window)
        .order_by(case((late, 0), else_=1), Visit.arrival_at, Visit.id)
    ).all()
    tomorrow = local_midnight_utc(today + dt.timedelta(days=1))
    page_ids = [row[0] for row in ordered[offset : offset + limit]]
    page = BoardPage(
        total=len(ordered),
        with_overdue=sum(row[2] for row in ordered),
        arriving_today=sum(1 for row in ordered if start <= row[1] < tomorrow),
        awaiting_signoff=sum(int(row[3] or 0) for row in ordered),
        rows=[],
    )
    if not page_ids:
        return page
    agg = {
        vid: (runs, submitted, req, ready, late_n)
        for vid, runs, submitted, req, ready, late_n in session.exec(
            select(
                Run.visit_id,
                func.count(func.distinct(Run.id)),
                func.count(func.distinct(case((Run.status == "submitted", Run.id)))),
                func.sum(case((RunItem.required == True, 1), else_=0)),  # noqa: E712
                func.sum(case((and_(RunItem.required == True, ready_clause()), 1), else_=0)),  # noqa: E712
                func.sum(case((overdue_clause(current), 1), else_=0)),
            )
            .join(RunItem, RunItem.run_id == Run.id)
            .where(Run.status != "cancelled", col(Run.visit_id).in_(page_ids))
            .group_by(Run.visit_id)
        ).all()
    }
    details = {
        visit.id: (visit, cname, ccode, rank, host)
        for visit, cname, ccode, rank, host in session.exec(
            select(Visit, Customer.name, Customer.code, Customer.tier_rank, Staff.name)
            .join(Customer, Customer.id == Visit.customer_id, isouter=True)
            .join(Staff, Staff.id == Visit.host_id, isouter=True)
            .where(col(Visit.id).in_(page_ids))
        ).all()
    }
    ladder = {tl.rank: tl for tl in current_ladder(session, today)}
    for vid in page_ids:
        visit, cname, ccode, rank, host = details[vid]
        runs, submitted, required, ready, late_n = agg.get(vid, (0, 0, 0, 0, 0))
        required, ready = int(required or 0), int(ready or 0)
        page.rows.append(
            BoardRow(
                visit_id=vid,
                guest=cname or visit.guest_name or "",
                customer_code=ccode,
                tier=pick(ladder[rank], "name") if rank is not None and rank in ladder else "",
                tier_rank=rank,
                level=visit.level,
                arrival_at=visit.arrival_at,
                departure_at=visit.departure_at,
                host=host or "",
                location=visit.location,
                status=visit.status,
                runs=int(runs),
                awaiting_signoff=int(submitted),
                required=required,
                ready=ready,
                readiness=(ready / required) if required else None,
                overdue=int(late_n or 0),
            )
        )
    return page


# ---------------------------------------------------------------- Home tiles


def _count_items(session: Session, *conds: object) -> int:
    stmt = (
        select(func.count())
        .select_from(RunItem)
        .join(Run, Run.id == RunItem.run_id)
        .join(Visit, Visit.id == Run.visit_id)
        .where(col(Run.status).in_(CURRENT_RUN_STATUSES), col(Visit.status).in_(ACTIVE_VISIT_STATUSES), *conds)  # type: ignore[arg-type]
    )
    return int(session.exec(stmt).one())


def overdue_count(session: Session, departments: list[str], now: dt.datetime) -> int:
    """Overdue items of the departments on current runs: open past due, plus failed with a follow-up past due.

    Both parts walk an index on (department, state, due_at) or (status, due_at)."""
    if not departments:
        return 0
    depts = col(RunItem.department).in_(departments)
    late_open = _count_items(session, depts, RunItem.state == "open", RunItem.due_at < now)
    late_followups = int(
        session.exec(
            select(func.count(func.distinct(RunItem.id)))
            .select_from(FollowUp)
            .join(RunItem, RunItem.id == FollowUp.run_item_id)
            .join(Run, Run.id == RunItem.run_id)
            .join(Visit, Visit.id == Run.visit_id)
            .where(
                FollowUp.status == "open",
                FollowUp.due_at < now,
                RunItem.state == "failed",
                depts,
                col(Run.status).in_(CURRENT_RUN_STATUSES),
                col(Visit.status).in_(ACTIVE_VISIT_STATUSES),
            )
        ).one()
    )
    return late_open + late_followups


def home_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    """Reception: my department's open items due today and overdue. Supervisor: runs awaiting sign-off and
    overdue items. Client manager: readiness of own upcoming visits."""
    now = now_or(None)
    w = who(session, actor)
    if w.reception:
        if not w.department:
            return []
        dept = RunItem.department == w.department
        start, end = local_midnight_utc(today), local_midnight_utc(today + dt.timedelta(days=1))
        due_today = _count_items(session, dept, RunItem.state == "open", RunItem.due_at >= start, RunItem.due_at < end)
        late = overdue_count(session, [w.department], now)
        return [
            Tile("My department's open items due today", f"{due_today:,}", page="reception"),
            Tile("My department's overdue items", f"{late:,}", page="reception", alert=late > 0),
        ]
    if w.supervisor:
        awaiting = int(session.exec(select(func.count()).select_from(Run).where(Run.status == "submitted")).one())
        late = overdue_count(session, list(session.exec(select(Department.code)).all()), now)
        return [
            Tile("Runs awaiting sign-off", f"{awaiting:,}", page="reception"),
            Tile("Overdue reception items", f"{late:,}", page="reception", alert=late > 0),
        ]
    if actor.role == "client_manager":
        rows = readiness_board(session=session, actor=actor, today=today, now=now, limit=1000).rows
        scored = [r.readiness for r in rows if r.readiness is not None]
        value = f"{sum(scored) / len(scored):.0%}" if scored else "—"
        late = sum(r.overdue for r in rows)
        return [
            Tile(
                "My visits' readiness (7 days)",
                value,
                page="reception",
                help="Average readiness of the visits you host or whose customer is yours, today and the next 7 days.",
                alert=late > 0,
            )
        ]
    return []


@dataclass(frozen=True)
class VisitChoice:
    visit_id: int
    guest: str
    level: int
    arrival_at: dt.datetime
    status: str


@query("reception.read")
def visit_choices(*, session: Session, actor: Actor, today: dt.date, limit: int = 500) -> list[VisitChoice]:
    """Visits to open: from today to 30 days ahead, plus the last 30 days' visits whose runs are still current."""
    w = who(session, actor)
    start, end = local_midnight_utc(today), local_midnight_utc(today + dt.timedelta(days=31))
    recent = local_midnight_utc(today - dt.timedelta(days=30))
    current_run = select(Run.id).where(Run.visit_id == Visit.id, col(Run.status).in_(CURRENT_RUN_STATUSES)).exists()
    stmt = (
        select(Visit.id, Visit.guest_name, Customer.name, Visit.level, Visit.arrival_at, Visit.status)
        .join(Customer, Customer.id == Visit.customer_id, isouter=True)
        .where(
            visible_visit_clause(w),
            Visit.status != "cancelled",
            or_(
                and_(Visit.arrival_at < end, Visit.departure_at >= start),
                and_(Visit.departure_at >= recent, Visit.arrival_at < end, current_run),
            ),
        )
        .order_by(Visit.arrival_at, Visit.id)
        .limit(limit)
    )
    return [
        VisitChoice(vid, cname or gname or "", level, arrival, status)
        for vid, gname, cname, level, arrival, status in session.exec(stmt).all()
    ]
