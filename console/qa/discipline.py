"""Floor discipline (SPEC §4, 001 L238–264): leads record violations against the seeded rules; the rule's
points are copied onto the event, so a later change of the rule never rewrites history. Monthly totals per
person are summed by Asia/Shanghai calendar month."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.i18n import pick
from console.permissions import Actor
from console.qa.common import QAError, require_manage, require_staff, staff_scope
from console.timeutil import local_midnight_utc, local_to_utc, utcnow
from models import DisciplineEvent, DisciplineRule, Staff, Team


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds of the Asia/Shanghai calendar month containing `month`."""
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return local_midnight_utc(first), local_midnight_utc(nxt)


@query("qa.discipline.read")
def list_rules(*, session: Session, actor: Actor, active_only: bool = True) -> pd.DataFrame:
    stmt = select(DisciplineRule).order_by(DisciplineRule.code)
    if active_only:
        stmt = stmt.where(DisciplineRule.active == True)  # noqa: E712
    rows = [
        {"id": r.id, "code": r.code, "category": r.category, "rule": pick(r, "text"), "points": r.points}
        for r in session.exec(stmt).all()
    ]
    return pd.DataFrame(rows, columns=["id", "code", "category", "rule", "points"])


@command("qa.discipline.record")
def record_violation(
    *,
    session: Session,
    actor: Actor,
    staff_id: int,
    rule_id: int,
    day: dt.date,
    time: dt.time = dt.time(9, 0),
    note: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Record one violation (local date and time) with the rule's current points."""
    recorder = require_staff(actor)
    person = require_manage(session, actor, staff_id)
    if person.role not in ("agent", "client_manager"):
        raise QAError("Floor discipline is recorded for agents and client managers.")
    rule = session.get(DisciplineRule, rule_id)
    if rule is None or not rule.active:
        raise QAError("Choose one of the discipline rules.")
    at = local_to_utc(day, time)
    if at > (now or utcnow()):
        raise QAError("A violation cannot be recorded in the future.")
    note = (note or "").strip() or None
    if note and len(note) > 1000:
        raise QAError("A note may have at most 1000 characters.")
    event = DisciplineEvent(
        rule_id=rule_id, staff_id=staff_id, recorded_by=recorder, at=at, points=rule.points, note=note
    )
    session.add(event)
    session.flush()
    audit.note(
        entity="discipline_event",
        entity_id=event.id,
        after={"staff_id": staff_id, "rule": rule.code, "points": rule.points},
    )
    return event.id  # type: ignore[return-value]


@query("qa.discipline.read")
def monthly_totals(
    *, session: Session, actor: Actor, month: dt.date, stream: str | None = None, team_id: int | None = None
) -> pd.DataFrame:
    """Per person: violations and points in the calendar month (SQL aggregate), most points first."""
    start, end = month_bounds(month)
    stmt = (
        select(
            Staff.id,
            Staff.name,
            Team.name,
            func.count(DisciplineEvent.id),
            func.coalesce(func.sum(DisciplineEvent.points), 0),
        )
        .join(Staff, Staff.id == DisciplineEvent.staff_id)
        .join(Team, Team.id == Staff.team_id, isouter=True)
        .where(
            DisciplineEvent.at >= start,
            DisciplineEvent.at < end,
            staff_scope(actor, DisciplineEvent.staff_id),
        )
        .group_by(Staff.id, Staff.name, Team.name)
    )
    if stream:
        stmt = stmt.where(Staff.stream == stream)
    if team_id is not None:
        stmt = stmt.where(Staff.team_id == team_id)
    rows = [
        {"staff_id": sid, "person": name, "team": team, "violations": int(n), "points": int(p)}
        for sid, name, team, n, p in session.exec(stmt).all()
    ]
    df = pd.DataFrame(rows, columns=["staff_id", "person", "team", "violations", "points"])
    return df.sort_values(["points", "violations", "person"], ascending=[False, False, True]).reset_index(drop=True)


@query("qa.discipline.read")
def list_events(
    *,
    session: Session,
    actor: Actor,
    month: dt.date,
    stream: str | None = None,
    staff_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[pd.DataFrame, int]:
    start, end = month_bounds(month)
    person = aliased(Staff)
    recorder = aliased(Staff)
    conds: list[Any] = [
        DisciplineEvent.at >= start,
        DisciplineEvent.at < end,
        staff_scope(actor, DisciplineEvent.staff_id),
    ]
    if stream:
        conds.append(person.stream == stream)
    if staff_id is not None:
        conds.append(DisciplineEvent.staff_id == staff_id)
    total = session.exec(
        select(func.count())
        .select_from(DisciplineEvent)
        .join(person, person.id == DisciplineEvent.staff_id)
        .where(*conds)
    ).one()
    rows = []
    for ev, name, by, rule in session.exec(
        select(DisciplineEvent, person.name, recorder.name, DisciplineRule)
        .join(person, person.id == DisciplineEvent.staff_id)
        .join(recorder, recorder.id == DisciplineEvent.recorded_by)
        .join(DisciplineRule, DisciplineRule.id == DisciplineEvent.rule_id)
        .where(*conds)
        .order_by(col(DisciplineEvent.at).desc())
        .offset(offset)
        .limit(limit)
    ).all():
        rows.append(
            {
                "id": ev.id,
                "at": ev.at,
                "person": name,
                "rule": f"{rule.code} · {pick(rule, 'text')}",
                "points": ev.points,
                "note": ev.note or "",
                "recorded_by": by,
            }
        )
    return pd.DataFrame(rows, columns=["id", "at", "person", "rule", "points", "note", "recorded_by"]), int(total)
