"""Coaching notes: per person, linked to an evaluation and focus items, with a follow-up date and the
coached person's acknowledgement. Overdue follow-ups are listed for the lead."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.i18n import pick
from console.permissions import Actor
from console.qa.common import QAError, QAPermissionDenied, load_version, require_manage, require_staff, staff_scope
from console.timeutil import local_date, utcnow
from models import CoachingNote, Evaluation, Staff


def _focus(raw: str | None) -> list[int]:
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return []
    return [int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]


@command("qa.coaching.write")
def add_note(
    *,
    session: Session,
    actor: Actor,
    staff_id: int,
    text: str,
    evaluation_id: int | None = None,
    focus_item_ids: list[int] | None = None,
    follow_up_on: dt.date | None = None,
    today: dt.date | None = None,
) -> int:
    author = require_staff(actor)
    person = require_manage(session, actor, staff_id)
    if staff_id == author:
        raise QAError("You cannot write a coaching note for yourself.")
    text = (text or "").strip()
    if not text:
        raise QAError("Write what was discussed.")
    if len(text) > 5000:
        raise QAError("A coaching note may have at most 5000 characters.")
    today = today or local_date(utcnow())
    if follow_up_on is not None and follow_up_on < today:
        raise QAError("The follow-up date cannot be in the past.")
    focus = sorted(set(focus_item_ids or []))
    if evaluation_id is not None:
        ev = session.get(Evaluation, evaluation_id)
        if ev is None or ev.kind != "regular" or ev.evaluatee_id != staff_id or ev.status == "draft":
            raise QAError("The linked evaluation must be one of {name}'s evaluations.", name=person.name)
        spec = load_version(session, ev.version_id)
        for iid in focus:
            spec.item(iid)
    note = CoachingNote(
        staff_id=staff_id,
        author_id=author,
        text=text,
        evaluation_id=evaluation_id,
        focus_item_ids=json.dumps(focus),
        follow_up_on=follow_up_on,
    )
    session.add(note)
    session.flush()
    audit.note(entity="coaching_note", entity_id=note.id, after={"staff_id": staff_id, "follow_up_on": follow_up_on})
    return note.id  # type: ignore[return-value]


@command("qa.coaching.acknowledge")
def acknowledge_note(*, session: Session, actor: Actor, note_id: int, now: dt.datetime | None = None) -> None:
    staff_id = require_staff(actor)
    note = session.get(CoachingNote, note_id)
    if note is None:
        raise QAError("No such coaching note.")
    if note.staff_id != staff_id:
        raise QAPermissionDenied("Only the coached person acknowledges a coaching note.")
    if note.acknowledged_at is not None:
        raise QAError("You have already acknowledged this note.")
    note.acknowledged_at = now or utcnow()
    session.add(note)
    session.flush()
    audit.note(entity="coaching_note", entity_id=note_id)


@command("qa.coaching.write")
def complete_follow_up(*, session: Session, actor: Actor, note_id: int) -> None:
    note = session.get(CoachingNote, note_id)
    if note is None:
        raise QAError("No such coaching note.")
    require_manage(session, actor, note.staff_id)
    if note.follow_up_on is None:
        raise QAError("This note has no follow-up.")
    if note.follow_up_done:
        raise QAError("The follow-up is already done.")
    note.follow_up_done = True
    session.add(note)
    session.flush()
    audit.note(entity="coaching_note", entity_id=note_id, after={"follow_up_done": True})


def _rows(session: Session, stmt: Any, today: dt.date) -> pd.DataFrame:
    rows = []
    specs: dict[int, Any] = {}
    for note, person, author, version_id in session.exec(stmt).all():
        focus = _focus(note.focus_item_ids)
        texts: list[str] = []
        if focus and version_id is not None:
            if version_id not in specs:
                specs[version_id] = load_version(session, version_id)
            spec = specs[version_id]
            texts = [pick(i, "text") for i in spec.items if i.item_id in focus]
        rows.append(
            {
                "id": note.id,
                "at": note.at,
                "person": person,
                "staff_id": note.staff_id,
                "author": author,
                "text": note.text,
                "evaluation_id": note.evaluation_id,
                "focus": "; ".join(texts),
                "follow_up_on": note.follow_up_on,
                "follow_up_done": note.follow_up_done,
                "overdue": bool(note.follow_up_on and not note.follow_up_done and note.follow_up_on < today),
                "acknowledged_at": note.acknowledged_at,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "at",
            "person",
            "staff_id",
            "author",
            "text",
            "evaluation_id",
            "focus",
            "follow_up_on",
            "follow_up_done",
            "overdue",
            "acknowledged_at",
        ],
    )


def _base() -> Any:
    person = aliased(Staff)
    author = aliased(Staff)
    return (
        select(CoachingNote, person.name, author.name, Evaluation.version_id)
        .join(person, person.id == CoachingNote.staff_id)
        .join(author, author.id == CoachingNote.author_id)
        .join(Evaluation, Evaluation.id == CoachingNote.evaluation_id, isouter=True)
    ), person


@query("qa.coaching.read")
def list_notes(
    *,
    session: Session,
    actor: Actor,
    staff_id: int | None = None,
    stream: str | None = None,
    overdue_only: bool = False,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[pd.DataFrame, int]:
    """Notes about the people the actor may see (own notes for agents and client managers)."""
    today = today or local_date(utcnow())
    stmt, person = _base()
    conds: list[Any] = [staff_scope(actor, CoachingNote.staff_id)]
    if staff_id is not None:
        conds.append(CoachingNote.staff_id == staff_id)
    if stream:
        conds.append(person.stream == stream)
    if overdue_only:
        conds += [
            col(CoachingNote.follow_up_on).is_not(None),
            CoachingNote.follow_up_on < today,  # type: ignore[operator]
            CoachingNote.follow_up_done == False,  # noqa: E712
        ]
    total = session.exec(
        select(func.count()).select_from(CoachingNote).join(person, person.id == CoachingNote.staff_id).where(*conds)
    ).one()
    stmt = stmt.where(*conds).order_by(col(CoachingNote.at).desc()).offset(offset).limit(limit)
    return _rows(session, stmt, today), int(total)


@query("qa.coaching.read")
def overdue_count(*, session: Session, actor: Actor, today: dt.date | None = None) -> int:
    today = today or local_date(utcnow())
    return int(
        session.exec(
            select(func.count())
            .select_from(CoachingNote)
            .where(
                staff_scope(actor, CoachingNote.staff_id),
                col(CoachingNote.follow_up_on).is_not(None),
                CoachingNote.follow_up_on < today,  # type: ignore[operator]
                CoachingNote.follow_up_done == False,  # noqa: E712
            )
        ).one()
    )
