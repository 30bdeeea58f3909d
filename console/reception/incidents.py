"""Incidents during a visit (000 L57/L71/L85): the post reports -> the Security Department activates the
emergency plan -> the GM office is notified; each step timed, in this order, then the resolution."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from console import audit
from console.audit import command, query
from console.permissions import Actor
from console.reception.common import ReceptionError, ScopeDenied, Who, clean_text, load_visit, now_or, who
from console.timeutil import to_utc
from models import Incident, User, Visit

CLOCK_SKEW = dt.timedelta(minutes=5)
STEPS = ("reported", "plan_activated", "gm_notified", "resolved")


@dataclass
class IncidentRow:
    incident_id: int
    visit_id: int
    post: str
    description: str
    reported_at: dt.datetime
    plan_activated_at: dt.datetime | None
    gm_notified_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: str | None
    recorded_by: str | None

    @property
    def step(self) -> str:
        if self.resolved_at:
            return "resolved"
        if self.gm_notified_at:
            return "gm_notified"
        if self.plan_activated_at:
            return "plan_activated"
        return "reported"

    @property
    def next_step(self) -> str | None:
        index = STEPS.index(self.step)
        return STEPS[index + 1] if index + 1 < len(STEPS) else None


def _check_time(at: dt.datetime, now: dt.datetime, after: dt.datetime | None, label: str) -> dt.datetime:
    if at.tzinfo is None:
        raise ReceptionError("Times need a time zone.")
    at = to_utc(at)
    if at > now + CLOCK_SKEW:
        raise ReceptionError("{step} cannot be in the future.", step=label)
    if after is not None and at < after:
        raise ReceptionError("{step} cannot be earlier than the previous step.", step=label)
    return at


def _may_act(w: Who, visit: Visit) -> None:
    if w.supervisor or w.reception:
        return
    if w.staff_id is not None and visit.host_id == w.staff_id:
        return
    raise ScopeDenied("Only the visit's host, reception staff or a supervisor may record incidents.")


def _load(session: Session, w: Who, incident_id: int) -> tuple[Incident, Visit]:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise ReceptionError("That incident does not exist.")
    visit = load_visit(session, w, incident.visit_id)
    _may_act(w, visit)
    return incident, visit


@command("reception.incident.report")
def report_incident(
    *,
    session: Session,
    actor: Actor,
    visit_id: int,
    post: str,
    description: str,
    reported_at: dt.datetime,
    now: dt.datetime | None = None,
) -> int:
    """Step 1: a post reports an incident."""
    current = now_or(now)
    w = who(session, actor)
    visit = load_visit(session, w, visit_id)
    _may_act(w, visit)
    if visit.status == "cancelled":
        raise ReceptionError("This visit is cancelled.")
    where = clean_text(post, limit=120, label="Reporting post", required=True)
    what = clean_text(description, limit=2000, label="Description", required=True)
    at = _check_time(reported_at, current, None, "Reported")
    incident = Incident(
        visit_id=visit.id,  # type: ignore[arg-type]
        reported_by_post=where or "",
        description=what or "",
        reported_at=at,
        recorded_by=actor.user_id,
    )
    session.add(incident)
    session.flush()
    audit.note(entity="incident", entity_id=incident.id, after={"step": "reported", "at": at})
    return incident.id  # type: ignore[return-value]


@command("reception.incident.escalate")
def escalate_incident(
    *, session: Session, actor: Actor, incident_id: int, step: str, at: dt.datetime, now: dt.datetime | None = None
) -> None:
    """Step 2 (plan_activated) or 3 (gm_notified), strictly in order and never before the previous step."""
    current = now_or(now)
    w = who(session, actor)
    incident, _ = _load(session, w, incident_id)
    if incident.resolved_at is not None:
        raise ReceptionError("This incident is resolved.")
    if step == "plan_activated":
        if incident.plan_activated_at is not None:
            raise ReceptionError("The emergency plan is already recorded as activated.")
        incident.plan_activated_at = _check_time(at, current, incident.reported_at, "Emergency plan activated")
    elif step == "gm_notified":
        if incident.plan_activated_at is None:
            raise ReceptionError("Activate the emergency plan before notifying the GM office.")
        if incident.gm_notified_at is not None:
            raise ReceptionError("The GM office is already recorded as notified.")
        incident.gm_notified_at = _check_time(at, current, incident.plan_activated_at, "GM office notified")
    else:
        raise ReceptionError("Unknown incident step.")
    session.add(incident)
    audit.note(entity="incident", entity_id=incident.id, after={"step": step, "at": at})


@command("reception.incident.resolve")
def resolve_incident(
    *,
    session: Session,
    actor: Actor,
    incident_id: int,
    resolution: str,
    at: dt.datetime,
    now: dt.datetime | None = None,
) -> None:
    """The resolution, once the whole escalation chain is recorded."""
    current = now_or(now)
    w = who(session, actor)
    incident, _ = _load(session, w, incident_id)
    if incident.resolved_at is not None:
        raise ReceptionError("This incident is resolved.")
    if incident.gm_notified_at is None:
        raise ReceptionError("Record the escalation (emergency plan, GM office) before the resolution.")
    text = clean_text(resolution, limit=2000, label="Resolution", required=True)
    incident.resolved_at = _check_time(at, current, incident.gm_notified_at, "Resolved")
    incident.resolution = text
    session.add(incident)
    audit.note(entity="incident", entity_id=incident.id, after={"step": "resolved", "at": at})


@query("reception.read")
def visit_incidents(*, session: Session, actor: Actor, visit_id: int) -> list[IncidentRow]:
    w = who(session, actor)
    load_visit(session, w, visit_id)
    rows = session.exec(
        select(Incident, User.username)
        .join(User, User.id == Incident.recorded_by, isouter=True)
        .where(Incident.visit_id == visit_id)
        .order_by(col(Incident.reported_at).desc())
    ).all()
    return [
        IncidentRow(
            incident_id=inc.id,  # type: ignore[arg-type]
            visit_id=inc.visit_id,
            post=inc.reported_by_post,
            description=inc.description,
            reported_at=inc.reported_at,
            plan_activated_at=inc.plan_activated_at,
            gm_notified_at=inc.gm_notified_at,
            resolved_at=inc.resolved_at,
            resolution=inc.resolution,
            recorded_by=username,
        )
        for inc, username in rows
    ]
