"""Visits (SPEC §5): plan, reschedule, cancel, and read one visit.

A visit is for a customer or a named guest (officials need not be customers). Arrival may be at most six hours
in the past when planned; departure is after arrival. Rescheduling recomputes the due times of open items only.
Cancelling closes the visit and every run of it that is not signed off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.checklists import compute_due
from console.i18n import pick
from console.permissions import Actor
from console.reception.common import (
    ACTIVE_VISIT_STATUSES,
    EDITABLE_RUN_STATUSES,
    ReceptionError,
    clean_text,
    load_visit,
    now_or,
    who,
)
from console.reception.levels import LevelInfo, Staffing, level_info, validate_staffing
from console.tiers_ref import current_ladder
from console.timeutil import local_date, to_utc
from models import Customer, Incident, Run, RunItem, Staff, Visit

PAST_ARRIVAL_LIMIT = dt.timedelta(hours=6)
MAX_PARTY = 500


@dataclass
class RunSummary:
    run_id: int
    templates: str
    status: str
    required: int
    ready: int
    readiness: float | None


@dataclass
class VisitDetail:
    visit_id: int
    guest: str
    customer_id: int | None
    customer_code: str | None
    tier: str | None
    level: int
    level_info: LevelInfo
    arrival_at: dt.datetime
    departure_at: dt.datetime
    location: str
    host_id: int | None
    host: str | None
    party_size: int
    purpose: str | None
    dietary: str | None
    hometown: str | None
    notes: str | None
    staffing: Staffing
    status: str
    runs: list[RunSummary] = field(default_factory=list)
    open_incidents: int = 0


@dataclass(frozen=True)
class PlanResult:
    visit_id: int
    run_id: int | None


def _check_times(arrival_at: dt.datetime, departure_at: dt.datetime, now: dt.datetime, *, check_past: bool) -> None:
    if arrival_at.tzinfo is None or departure_at.tzinfo is None:
        raise ReceptionError("Arrival and departure need a time zone.")
    if departure_at <= arrival_at:
        raise ReceptionError("Departure must be after arrival.")
    if check_past and arrival_at < now - PAST_ARRIVAL_LIMIT:
        raise ReceptionError("Arrival may be at most 6 hours in the past.")


def _check_host(session: Session, host_id: int | None) -> None:
    if host_id is None:
        raise ReceptionError("Choose a host.")
    host = session.get(Staff, host_id)
    if host is None or not host.active or host.is_training:
        raise ReceptionError("The host must be an active staff member.")


def recompute_open_items(session: Session, visit: Visit) -> int:
    """Recompute the due time of every open item of the visit's current runs. Returns how many changed."""
    items = session.exec(
        select(RunItem)
        .join(Run, Run.id == RunItem.run_id)
        .where(Run.visit_id == visit.id, RunItem.state == "open", col(Run.status).in_(EDITABLE_RUN_STATUSES))
    ).all()
    changed = 0
    for item in items:
        due = compute_due(item.timing, item.anchor, item.offset_minutes, visit.arrival_at, visit.departure_at)
        if due != item.due_at:
            item.due_at = due
            session.add(item)
            changed += 1
    return changed


@command("reception.visit.plan")
def plan_visit(
    *,
    session: Session,
    actor: Actor,
    level: int,
    arrival_at: dt.datetime,
    departure_at: dt.datetime,
    location: str,
    host_id: int | None,
    customer_id: int | None = None,
    guest_name: str | None = None,
    party_size: int = 1,
    purpose: str | None = None,
    dietary: str | None = None,
    hometown: str | None = None,
    notes: str | None = None,
    staffing: Staffing | None = None,
    template_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> PlanResult:
    """Plan a visit and, when templates are given, create its run with every item's due time."""
    from console.reception.runs import build_run

    current = now_or(now)
    guest = clean_text(guest_name, limit=120, label="Guest name")
    customer: Customer | None = None
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise ReceptionError("That customer does not exist.")
    if customer is None and guest is None:
        raise ReceptionError("Choose a customer or enter a guest's name.")
    if level not in (1, 2, 3):
        raise ReceptionError("The reception level must be 1, 2 or 3.")
    arrival_at, departure_at = to_utc(arrival_at), to_utc(departure_at)
    _check_times(arrival_at, departure_at, current, check_past=True)
    place = clean_text(location, limit=200, label="Location", required=True)
    _check_host(session, host_id)
    if isinstance(party_size, bool) or not isinstance(party_size, int) or not 1 <= party_size <= MAX_PARTY:
        raise ReceptionError("The party size must be between 1 and {limit}.", limit=MAX_PARTY)
    defaults = level_info(session, level).staffing
    checked = validate_staffing(staffing if staffing is not None else defaults)
    visit = Visit(
        customer_id=customer.id if customer else None,
        guest_name=guest,
        level=level,
        arrival_at=arrival_at,
        departure_at=departure_at,
        location=place or "",
        host_id=host_id,
        party_size=party_size,
        purpose=clean_text(purpose, limit=500, label="Purpose"),
        dietary=clean_text(dietary, limit=200, label="Dietary preferences") or (customer.dietary if customer else None),
        hometown=clean_text(hometown, limit=64, label="Hometown") or (customer.hometown if customer else None),
        notes=clean_text(notes, limit=4000, label="Notes") or (customer.notes if customer else None),
        reinforcements=checked.reinforcements,
        on_duty=checked.on_duty,
        shift_groups=checked.shift_groups,
        rotation_hours=checked.rotation_hours,
        post_count=checked.post_count,
        status="planned",
        created_by=actor.user_id,
    )
    session.add(visit)
    session.flush()
    run_id = None
    if template_ids:
        run_id = build_run(session, visit, list(template_ids))
    audit.note(entity="visit", entity_id=visit.id, after={"run_id": run_id, "staffing": checked.as_dict()})
    return PlanResult(visit_id=visit.id, run_id=run_id)  # type: ignore[arg-type]


@command("reception.visit.reschedule")
def reschedule_visit(
    *,
    session: Session,
    actor: Actor,
    visit_id: int,
    arrival_at: dt.datetime,
    departure_at: dt.datetime,
    now: dt.datetime | None = None,
) -> int:
    """Move a visit; the due times of its open items follow. Returns the number of items recomputed."""
    w = who(session, actor)
    visit = load_visit(session, w, visit_id)
    if visit.status not in ACTIVE_VISIT_STATUSES:
        raise ReceptionError("Only a planned or in-progress visit can be rescheduled.")
    arrival_at, departure_at = to_utc(arrival_at), to_utc(departure_at)
    _check_times(arrival_at, departure_at, now_or(now), check_past=arrival_at != visit.arrival_at)
    before = {"arrival_at": visit.arrival_at, "departure_at": visit.departure_at}
    visit.arrival_at, visit.departure_at = arrival_at, departure_at
    session.add(visit)
    changed = recompute_open_items(session, visit)
    audit.note(
        entity="visit",
        entity_id=visit.id,
        before=before,
        after={"arrival_at": arrival_at, "departure_at": departure_at},
        counts={"items_recomputed": changed},
    )
    return changed


@command("reception.visit.cancel")
def cancel_visit(*, session: Session, actor: Actor, visit_id: int, reason: str) -> int:
    """Cancel a visit and close its runs that are not signed off. Returns the number of runs closed."""
    w = who(session, actor)
    visit = load_visit(session, w, visit_id)
    why = clean_text(reason, limit=500, label="Reason", required=True)
    if visit.status not in ACTIVE_VISIT_STATUSES:
        raise ReceptionError("Only a planned or in-progress visit can be cancelled.")
    runs = session.exec(select(Run).where(Run.visit_id == visit.id, col(Run.status).in_(EDITABLE_RUN_STATUSES))).all()
    for run in runs:
        run.status = "cancelled"
        session.add(run)
    before = visit.status
    visit.status = "cancelled"
    session.add(visit)
    audit.note(
        entity="visit", entity_id=visit.id, before={"status": before}, after={"status": "cancelled", "reason": why}
    )
    audit.note(counts={"runs_closed": len(runs)})
    return len(runs)


@query("reception.read")
def visit_detail(*, session: Session, actor: Actor, visit_id: int, today: dt.date | None = None) -> VisitDetail:
    from console.reception.runs import readiness_by_run

    w = who(session, actor)
    visit = load_visit(session, w, visit_id)
    customer = session.get(Customer, visit.customer_id) if visit.customer_id else None
    host = session.get(Staff, visit.host_id) if visit.host_id else None
    tier = None
    if customer is not None:
        ladder = {tl.rank: tl for tl in current_ladder(session, today or local_date(visit.arrival_at))}
        if customer.tier_rank in ladder:
            tier = pick(ladder[customer.tier_rank], "name")
    runs = session.exec(select(Run).where(Run.visit_id == visit.id).order_by(Run.id)).all()
    counts = readiness_by_run(session, [r.id for r in runs if r.id is not None])
    summaries = []
    for run in runs:
        required, ready, _ = counts.get(run.id, (0, 0, 0))  # type: ignore[arg-type]
        summaries.append(
            RunSummary(
                run_id=run.id,  # type: ignore[arg-type]
                templates=run.templates,
                status=run.status,
                required=required,
                ready=ready,
                readiness=(ready / required) if required else None,
            )
        )
    open_incidents = session.exec(
        select(func.count())
        .select_from(Incident)
        .where(Incident.visit_id == visit.id, col(Incident.resolved_at).is_(None))
    ).one()
    return VisitDetail(
        visit_id=visit.id,  # type: ignore[arg-type]
        guest=(customer.name if customer else None) or visit.guest_name or "",
        customer_id=visit.customer_id,
        customer_code=customer.code if customer else None,
        tier=tier,
        level=visit.level,
        level_info=level_info(session, visit.level),
        arrival_at=visit.arrival_at,
        departure_at=visit.departure_at,
        location=visit.location,
        host_id=visit.host_id,
        host=host.name if host else None,
        party_size=visit.party_size,
        purpose=visit.purpose,
        dietary=visit.dietary,
        hometown=visit.hometown,
        notes=visit.notes,
        staffing=Staffing(
            reinforcements=visit.reinforcements,
            on_duty=visit.on_duty,
            shift_groups=visit.shift_groups,
            rotation_hours=visit.rotation_hours,
            post_count=visit.post_count,
        ),
        status=visit.status,
        runs=summaries,
        open_incidents=int(open_incidents),
    )


# ---------------------------------------------------------------- choices for the plan form


@query("reception.visit.plan")
def host_choices(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Active staff who may host a visit: client managers and supervisors."""
    rows = session.exec(
        select(Staff.id, Staff.name, Staff.code, Staff.role)
        .where(
            Staff.active == True,  # noqa: E712
            Staff.is_training == False,  # noqa: E712
            col(Staff.role).in_(("client_manager", "supervisor", "admin")),
        )
        .order_by(Staff.role.desc(), Staff.name)  # type: ignore[attr-defined]
    ).all()
    return [(sid, f"{name} · {code}") for sid, name, code, _ in rows]


@query("reception.visit.plan")
def find_customers(*, session: Session, actor: Actor, text: str, limit: int = 20) -> list[tuple[int, str]]:
    """Customers whose code or name contains the text (at least 2 characters), VIPs first."""
    needle = (text or "").strip()
    if len(needle) < 2:
        return []
    pattern = f"%{needle}%"
    rows = session.exec(
        select(Customer.id, Customer.name, Customer.code)
        .where(
            Customer.is_training == False,  # noqa: E712
            or_(col(Customer.code).ilike(pattern), col(Customer.name).like(pattern)),
        )
        .order_by(Customer.tier_rank.desc(), Customer.code)  # type: ignore[attr-defined]
        .limit(limit)
    ).all()
    return [(cid, f"{name} · {code}") for cid, name, code in rows]
