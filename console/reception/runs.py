"""Runs (SPEC §5): a visit's checklist, copied from one or more active templates, worked item by item.

- Items are copied into RunItem (template edits never change a run); T1 keeps only the visit level's items.
  Due times come from console.checklists.compute_due.
- Item states: open, done, na (reason required), failed (creates a follow-up: owner, due, open -> done).
  Who and when are recorded. A failed item stays failed; it counts as ready once its follow-up is done.
- Evidence: a note, or an image/PDF up to 10 MB (type checked from the content), stored in the database.
- Readiness = (required items done or N/A, or failed with the follow-up done) / required items.
- Run states: scheduled -> in_progress (first item worked) -> submitted -> signed_off. Sign-off (supervisor) is
  refused while a required item is open or a critical item has an open follow-up; the blockers are listed.
  A signed-off run is read-only; an admin may reopen it with a reason.
- A returning customer's new run starts with alerts: items failed or N/A on their last visit, and preferences.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.checklists import compute_due
from console.i18n import department_label, role_label, t
from console.permissions import Actor
from console.reception.common import (
    CURRENT_RUN_STATUSES,
    EDITABLE_RUN_STATUSES,
    ReceptionError,
    ScopeDenied,
    Who,
    can_see_visit,
    can_work_item,
    clean_text,
    now_or,
    visible_item_clause,
    who,
)
from console.timeutil import to_utc
from models import ChecklistTemplate, Customer, Evidence, FollowUp, Run, RunItem, Staff, TemplateItem, User, Visit
from models.reception import EVIDENCE_LIMIT_BYTES

STATES = ("open", "done", "na", "failed")
EVIDENCE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
NOTE_LIMIT = 2000


class SignOffBlocked(ReceptionError):
    """Sign-off (or submission) refused; .blockers lists what blocks it."""

    def __init__(self, message: str, blockers: list[Blocker], **kwargs: Any) -> None:
        super().__init__(message, count=len(blockers), **kwargs)
        self.blockers = blockers


# ---------------------------------------------------------------- pure helpers


def relative_due(due: dt.datetime | None, now: dt.datetime) -> str:
    """A due time relative to now, for people: "in 2 h", "overdue 30 min", "due now", "" when there is none.

    Minutes under an hour, whole hours under two days, whole days beyond (always rounded down).
    """
    if due is None:
        return ""
    seconds = (to_utc(due) - to_utc(now)).total_seconds()
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return t("due now")
    if minutes < 60:
        amount = t("{n} min", n=minutes)
    elif minutes < 48 * 60:
        amount = t("{n} h", n=minutes // 60)
    else:
        amount = t("{n} d", n=minutes // (24 * 60))
    return t("in {amount}", amount=amount) if seconds > 0 else t("overdue {amount}", amount=amount)


def sniff_mime(data: bytes) -> str | None:
    """The evidence type from the file's first bytes (never from its name): PNG, JPEG, GIF, WebP or PDF."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.lstrip(b"\r\n\t \xef\xbb\xbf")[:5] == b"%PDF-":
        return "application/pdf"
    return None


def check_upload(filename: str | None, data: bytes) -> tuple[str, str]:
    """Validate an evidence file; returns (safe file name, MIME type) or raises ReceptionError."""
    if not data:
        raise ReceptionError("The file is empty.")
    if len(data) > EVIDENCE_LIMIT_BYTES:
        raise ReceptionError(
            "The file is {size} MB; evidence files may be at most 10 MB.", size=f"{len(data) / 1024 / 1024:.1f}"
        )
    mime = sniff_mime(data)
    if mime is None:
        raise ReceptionError("Evidence must be an image (PNG, JPEG, GIF, WebP) or a PDF.")
    name = os.path.basename((filename or "").replace("\\", "/")).strip() or "evidence"
    return name[-200:], mime


def applies_to_level(levels: str | None, level: int) -> bool:
    return str(level) in {x.strip() for x in (levels or "1,2,3").split(",")}


# ---------------------------------------------------------------- SQL building blocks


def _open_followup() -> ColumnElement[bool]:
    fu = aliased(FollowUp)  # aliased: the outer query may join FollowUp itself
    return exists(select(fu.id).where(fu.run_item_id == RunItem.id, fu.status == "open"))


def _done_followup() -> ColumnElement[bool]:
    fu = aliased(FollowUp)
    return exists(select(fu.id).where(fu.run_item_id == RunItem.id, fu.status == "done"))


def ready_clause() -> ColumnElement[bool]:
    """A run item counts as ready: done or N/A, or failed with its follow-up done (and none open)."""
    return or_(
        col(RunItem.state).in_(("done", "na")),
        and_(RunItem.state == "failed", _done_followup(), ~_open_followup()),
    )


def overdue_clause(now: dt.datetime) -> ColumnElement[bool]:
    """Overdue: open past its due time, or failed with a follow-up open past its due time."""
    fu = aliased(FollowUp)
    late_followup = exists(select(fu.id).where(fu.run_item_id == RunItem.id, fu.status == "open", fu.due_at < now))
    return or_(
        and_(RunItem.state == "open", col(RunItem.due_at).is_not(None), RunItem.due_at < now),
        and_(RunItem.state == "failed", late_followup),
    )


def mine_clause(w: Who) -> ColumnElement[bool]:
    """My items: on visits I host, recorded by me, or with a follow-up I own."""
    parts: list[ColumnElement[bool]] = []
    if w.staff_id is not None:
        parts.append(Visit.host_id == w.staff_id)
        fu = aliased(FollowUp)
        parts.append(exists(select(fu.id).where(fu.run_item_id == RunItem.id, fu.owner_id == w.staff_id)))
    if w.actor.user_id is not None:
        parts.append(RunItem.done_by == w.actor.user_id)
    return or_(*parts) if parts else false()


def readiness_by_run(
    session: Session, run_ids: Sequence[int], now: dt.datetime | None = None
) -> dict[int, tuple[int, int, int]]:
    """For each run: (required items, ready required items, overdue items) in one query."""
    if not run_ids:
        return {}
    current = now_or(now)
    stmt = (
        select(
            RunItem.run_id,
            func.sum(case((RunItem.required == True, 1), else_=0)),  # noqa: E712
            func.sum(case((and_(RunItem.required == True, ready_clause()), 1), else_=0)),  # noqa: E712
            func.sum(case((overdue_clause(current), 1), else_=0)),
        )
        .where(col(RunItem.run_id).in_(list(run_ids)))
        .group_by(RunItem.run_id)
    )
    return {rid: (int(req or 0), int(ready or 0), int(late or 0)) for rid, req, ready, late in session.exec(stmt)}


# ---------------------------------------------------------------- run creation and alerts


def _alerts(session: Session, visit: Visit) -> dict[str, Any] | None:
    """Alerts for a returning customer: what failed or was N/A on their last visit, and their preferences."""
    if visit.customer_id is None:
        return None
    customer = session.get(Customer, visit.customer_id)
    last = session.exec(
        select(Visit)
        .where(
            Visit.customer_id == visit.customer_id,
            Visit.id != visit.id,
            Visit.arrival_at < visit.arrival_at,
            Visit.status != "cancelled",
        )
        .order_by(col(Visit.arrival_at).desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    rows = session.exec(
        select(RunItem)
        .join(Run, Run.id == RunItem.run_id)
        .where(Run.visit_id == last.id, col(RunItem.state).in_(("failed", "na")))
        .order_by(RunItem.template_code, RunItem.seq)
    ).all()
    items = []
    for item in rows:
        action = session.exec(
            select(FollowUp.action).where(FollowUp.run_item_id == item.id).order_by(col(FollowUp.id).desc())
        ).first()
        items.append(
            {
                "template": item.template_code,
                "seq": item.seq,
                "text_en": item.text_en,
                "text_zh": item.text_zh,
                "department": item.department,
                "state": item.state,
                "na_reason": item.na_reason,
                "followup": action if item.state == "failed" else None,
            }
        )
    prefs = {
        "dietary": (customer.dietary if customer else None) or last.dietary,
        "hometown": (customer.hometown if customer else None) or last.hometown,
        "notes": (customer.notes if customer else None) or last.notes,
    }
    return {
        "previous_visit_id": last.id,
        "previous_visit_arrival": last.arrival_at.isoformat(),
        "items": items,
        "preferences": {k: v for k, v in prefs.items() if v},
    }


def build_run(session: Session, visit: Visit, template_ids: list[int]) -> int:
    """Create a run for a visit from active templates (no permission check: callers are commands)."""
    if not template_ids:
        raise ReceptionError("Choose at least one template.")
    if len(set(template_ids)) != len(template_ids):
        raise ReceptionError("A template was chosen twice.")
    if visit.status not in ("planned", "in_progress"):
        raise ReceptionError("Runs can be added only to a planned or in-progress visit.")
    templates = []
    for tid in template_ids:
        tpl = session.get(ChecklistTemplate, tid)
        if tpl is None:
            raise ReceptionError("That template does not exist.")
        if tpl.status != "active":
            raise ReceptionError("Template {code} version {version} is not active.", code=tpl.code, version=tpl.version)
        templates.append(tpl)
    codes = [tpl.code for tpl in templates]
    if len(set(codes)) != len(codes):
        raise ReceptionError("A template was chosen twice.")
    label = ",".join(f"{tpl.code}@{tpl.version}" for tpl in templates)
    if len(label) > 64:
        raise ReceptionError("Too many templates for one run.")
    alerts = _alerts(session, visit)
    run = Run(visit_id=visit.id, templates=label, status="scheduled", alerts=json.dumps(alerts) if alerts else None)  # type: ignore[arg-type]
    session.add(run)
    session.flush()
    count = 0
    for tpl in templates:
        items = session.exec(select(TemplateItem).where(TemplateItem.template_id == tpl.id).order_by(TemplateItem.seq))
        for ti in items:
            if not applies_to_level(ti.levels, visit.level):
                continue
            session.add(
                RunItem(
                    run_id=run.id,  # type: ignore[arg-type]
                    template_item_id=ti.id,
                    template_code=tpl.code,
                    seq=ti.seq,
                    phase=ti.phase,
                    phase_en=ti.phase_en,
                    phase_zh=ti.phase_zh,
                    text_en=ti.text_en,
                    text_zh=ti.text_zh,
                    department=ti.department,
                    timing=ti.timing,
                    anchor=ti.anchor,
                    offset_minutes=ti.offset_minutes,
                    due_at=compute_due(ti.timing, ti.anchor, ti.offset_minutes, visit.arrival_at, visit.departure_at),
                    required=ti.required,
                    critical=ti.critical,
                    evidence_required=ti.evidence_required,
                )
            )
            count += 1
    session.flush()
    audit.note(counts={"items": count})
    return run.id  # type: ignore[return-value]


@command("reception.run.create")
def create_run(*, session: Session, actor: Actor, visit_id: int, template_ids: Sequence[int]) -> int:
    """Add a run to an existing visit."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise ReceptionError("That visit does not exist.")
    run_id = build_run(session, visit, list(template_ids))
    audit.note(entity="run", entity_id=run_id)
    return run_id


@query("reception.visit.plan")
def active_templates(*, session: Session, actor: Actor, level: int | None = None) -> list[dict[str, Any]]:
    """Active templates with the number of items a visit of the level gets."""
    out = []
    for tpl in session.exec(
        select(ChecklistTemplate).where(ChecklistTemplate.status == "active").order_by(ChecklistTemplate.code)
    ):
        levels = session.exec(select(TemplateItem.levels).where(TemplateItem.template_id == tpl.id)).all()
        n = sum(1 for lv in levels if level is None or applies_to_level(lv, level))
        out.append(
            {
                "id": tpl.id,
                "code": tpl.code,
                "version": tpl.version,
                "name_en": tpl.name_en,
                "name_zh": tpl.name_zh,
                "items": n,
            }
        )
    return out


# ---------------------------------------------------------------- reading a run


@dataclass
class FollowUpInfo:
    followup_id: int
    owner_id: int
    owner: str
    due_at: dt.datetime
    action: str
    status: str
    done_by: str | None
    done_at: dt.datetime | None


@dataclass
class ItemRow:
    item_id: int
    run_id: int
    visit_id: int
    guest: str
    template_code: str
    seq: int
    phase: str
    phase_en: str
    phase_zh: str
    text_en: str
    text_zh: str
    department: str
    timing: str
    due_at: dt.datetime | None
    required: bool
    critical: bool
    evidence_required: bool
    state: str
    na_reason: str | None
    done_by: str | None
    done_at: dt.datetime | None
    evidence: int
    overdue: bool
    can_work: bool
    followup: FollowUpInfo | None = None


@dataclass(frozen=True)
class Blocker:
    item_id: int
    template_code: str
    seq: int
    text_en: str
    text_zh: str
    department: str
    why: str  # "open" | "followup_open"


@dataclass
class RunView:
    run_id: int
    visit_id: int
    guest: str
    level: int
    arrival_at: dt.datetime
    departure_at: dt.datetime
    host_id: int | None
    host: str | None
    templates: str
    status: str
    visit_status: str
    required: int
    ready: int
    overdue: int
    readiness: float | None
    items: list[ItemRow]
    blockers: list[Blocker]
    alerts: dict[str, Any] | None
    read_only: bool
    signed_off_by: str | None
    signed_off_at: dt.datetime | None
    reopened_reason: str | None
    may_submit: bool
    may_sign_off: bool
    may_reopen: bool
    department_only: str | None = None  # set when a reception user sees only their department's items
    departments: list[str] = field(default_factory=list)


def _user_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(
        select(User.id, User.username, Staff.name)
        .join(Staff, Staff.id == User.staff_id, isouter=True)
        .where(col(User.id).in_(list(user_ids)))
    ).all()
    return {uid: (name or username) for uid, username, name in rows}


def _followups(session: Session, item_ids: list[int]) -> dict[int, FollowUpInfo]:
    if not item_ids:
        return {}
    rows = session.exec(
        select(FollowUp, Staff.name)
        .join(Staff, Staff.id == FollowUp.owner_id)
        .where(col(FollowUp.run_item_id).in_(item_ids))
        .order_by(FollowUp.id)
    ).all()
    names = _user_names(session, {f.done_by for f, _ in rows if f.done_by is not None})
    out: dict[int, FollowUpInfo] = {}
    for fu, owner in rows:  # the newest follow-up of an item wins
        out[fu.run_item_id] = FollowUpInfo(
            followup_id=fu.id,  # type: ignore[arg-type]
            owner_id=fu.owner_id,
            owner=owner,
            due_at=fu.due_at,
            action=fu.action,
            status=fu.status,
            done_by=names.get(fu.done_by) if fu.done_by else None,
            done_at=fu.done_at,
        )
    return out


def _evidence_counts(session: Session, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    rows = session.exec(
        select(Evidence.run_item_id, func.count())
        .where(col(Evidence.run_item_id).in_(item_ids))
        .group_by(Evidence.run_item_id)
    ).all()
    return {rid: int(n) for rid, n in rows}


def _is_overdue(item: RunItem, fu: FollowUpInfo | None, now: dt.datetime) -> bool:
    if item.state == "open":
        return item.due_at is not None and item.due_at < now
    if item.state == "failed" and fu is not None:
        return fu.status == "open" and fu.due_at < now
    return False


def _rows(
    session: Session, w: Who, pairs: Sequence[tuple[RunItem, Visit, str | None]], now: dt.datetime
) -> list[ItemRow]:
    item_ids = [it.id for it, _, _ in pairs if it.id is not None]
    fus = _followups(session, item_ids)
    ev = _evidence_counts(session, item_ids)
    names = _user_names(session, {it.done_by for it, _, _ in pairs if it.done_by is not None})
    rows = []
    for it, visit, customer_name in pairs:
        fu = fus.get(it.id)  # type: ignore[arg-type]
        rows.append(
            ItemRow(
                item_id=it.id,  # type: ignore[arg-type]
                run_id=it.run_id,
                visit_id=visit.id,  # type: ignore[arg-type]
                guest=customer_name or visit.guest_name or "",
                template_code=it.template_code,
                seq=it.seq,
                phase=it.phase,
                phase_en=it.phase_en,
                phase_zh=it.phase_zh,
                text_en=it.text_en,
                text_zh=it.text_zh,
                department=it.department,
                timing=it.timing,
                due_at=it.due_at,
                required=it.required,
                critical=it.critical,
                evidence_required=it.evidence_required,
                state=it.state,
                na_reason=it.na_reason,
                done_by=names.get(it.done_by) if it.done_by else None,
                done_at=it.done_at,
                evidence=ev.get(it.id, 0),  # type: ignore[arg-type]
                overdue=_is_overdue(it, fu, now),
                can_work=can_work_item(w, it, visit),
                followup=fu,
            )
        )
    return rows


def blockers_for(session: Session, run_id: int) -> list[Blocker]:
    """What stops a sign-off: required items still open; critical items with an open follow-up."""
    stmt = (
        select(RunItem)
        .where(
            RunItem.run_id == run_id,
            or_(
                and_(RunItem.required == True, RunItem.state == "open"),  # noqa: E712
                and_(RunItem.critical == True, _open_followup()),  # noqa: E712
            ),
        )
        .order_by(RunItem.template_code, RunItem.seq)
    )
    out = []
    for item in session.exec(stmt).all():
        out.append(
            Blocker(
                item_id=item.id,  # type: ignore[arg-type]
                template_code=item.template_code,
                seq=item.seq,
                text_en=item.text_en,
                text_zh=item.text_zh,
                department=item.department,
                why="open" if item.state == "open" else "followup_open",
            )
        )
    return out


def _load_run(session: Session, w: Who, run_id: int) -> tuple[Run, Visit]:
    run = session.get(Run, run_id)
    if run is None:
        raise ReceptionError("That run does not exist.")
    visit = session.get(Visit, run.visit_id)
    assert visit is not None
    if not can_see_visit(session, w, visit):
        raise ScopeDenied("You may not see this run.")
    return run, visit


def _sort_key(row: ItemRow) -> tuple[Any, ...]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return (row.template_code, row.phase, row.due_at or far, row.seq)


@query("reception.read")
def get_run(
    *,
    session: Session,
    actor: Actor,
    run_id: int,
    now: dt.datetime | None = None,
    mine: bool = False,
    overdue_only: bool = False,
) -> RunView:
    """A run with its items grouped by template and phase and ordered by due time, readiness and blockers."""
    current = now_or(now)
    w = who(session, actor)
    run, visit = _load_run(session, w, run_id)
    customer_name = session.exec(select(Customer.name).where(Customer.id == visit.customer_id)).first()
    host = session.get(Staff, visit.host_id) if visit.host_id else None
    stmt = (
        select(RunItem, Visit)
        .join(Run, Run.id == RunItem.run_id)
        .join(Visit, Visit.id == Run.visit_id)
        .where(RunItem.run_id == run.id, visible_item_clause(w))
    )
    if mine:
        stmt = stmt.where(mine_clause(w))
    if overdue_only:
        stmt = stmt.where(overdue_clause(current))
    pairs = [(it, v, customer_name) for it, v in session.exec(stmt).all()]
    rows = sorted(_rows(session, w, pairs, current), key=_sort_key)
    required, ready, overdue = readiness_by_run(session, [run.id], current).get(run.id, (0, 0, 0))  # type: ignore[list-item]
    signer = _user_names(session, {run.signed_off_by}).get(run.signed_off_by) if run.signed_off_by else None  # type: ignore[arg-type]
    is_host = w.staff_id is not None and visit.host_id == w.staff_id
    editable = run.status in EDITABLE_RUN_STATUSES
    departments = sorted(set(session.exec(select(RunItem.department).where(RunItem.run_id == run.id).distinct()).all()))
    return RunView(
        run_id=run.id,  # type: ignore[arg-type]
        visit_id=visit.id,  # type: ignore[arg-type]
        guest=customer_name or visit.guest_name or "",
        level=visit.level,
        arrival_at=visit.arrival_at,
        departure_at=visit.departure_at,
        host_id=visit.host_id,
        host=host.name if host else None,
        templates=run.templates,
        status=run.status,
        visit_status=visit.status,
        required=required,
        ready=ready,
        overdue=overdue,
        readiness=(ready / required) if required else None,
        items=rows,
        blockers=blockers_for(session, run.id),  # type: ignore[arg-type]
        alerts=json.loads(run.alerts) if run.alerts else None,
        read_only=not editable,
        signed_off_by=signer,
        signed_off_at=run.signed_off_at,
        reopened_reason=run.reopened_reason,
        may_submit=editable and run.status != "submitted" and (w.supervisor or is_host),
        may_sign_off=editable and w.supervisor,
        may_reopen=run.status == "signed_off" and actor.role == "admin",
        department_only=w.department if (w.reception and not is_host) else None,
        departments=departments,
    )


@query("reception.read")
def visit_runs(*, session: Session, actor: Actor, visit_id: int) -> list[tuple[int, str, str]]:
    """(run id, templates, status) of a visit's runs."""
    w = who(session, actor)
    visit = session.get(Visit, visit_id)
    if visit is None or not can_see_visit(session, w, visit):
        return []
    rows = session.exec(select(Run.id, Run.templates, Run.status).where(Run.visit_id == visit_id).order_by(Run.id))
    return [(rid, tpls, status) for rid, tpls, status in rows]


@dataclass
class WorkPage:
    """A page of open items in due order, and the failed items whose follow-up is still open."""

    rows: list[ItemRow]
    has_more: bool  # another page of open items follows
    followups: list[ItemRow]


def _work_scope(w: Who, department: str | None) -> list[ColumnElement[bool]]:
    """Which items a list shows: reception staff their department's, a client manager the visits they host,
    a supervisor everything (or one department)."""
    if w.supervisor:
        return [RunItem.department == department] if department else []
    if w.reception:
        return [RunItem.department == w.department] if w.department else [false()]
    if w.staff_id is None:
        return [false()]
    return [Visit.host_id == w.staff_id]


@query("reception.read")
def work_items(
    *,
    session: Session,
    actor: Actor,
    now: dt.datetime | None = None,
    department: str | None = None,
    mine: bool = False,
    overdue_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> WorkPage:
    """Items to do across current runs, by due time, paged: open items that have a due time (optional items
    live in their run), and separately the failed items whose follow-up is open, by the follow-up's due time.

    The open items are walked in due order along the (department, state, due_at) index and not counted, so a
    page costs the same however many there are.
    """
    current = now_or(now)
    w = who(session, actor)
    common: list[ColumnElement[bool]] = [
        col(Run.status).in_(CURRENT_RUN_STATUSES),
        col(Visit.status).in_(("planned", "in_progress")),
        *_work_scope(w, department),
    ]
    if mine:
        common.append(mine_clause(w))
    conds = [*common, RunItem.state == "open", col(RunItem.due_at).is_not(None)]
    if overdue_only:
        conds.append(RunItem.due_at < current)
    page = session.exec(
        select(RunItem, Visit, Customer.name)
        .join(Run, Run.id == RunItem.run_id)
        .join(Visit, Visit.id == Run.visit_id)
        .join(Customer, Customer.id == Visit.customer_id, isouter=True)
        .where(*conds)
        .order_by(RunItem.due_at, RunItem.id)
        .offset(offset)
        .limit(limit + 1)
    ).all()
    fu_conds = [*common, RunItem.state == "failed", FollowUp.status == "open"]
    if overdue_only:
        fu_conds.append(FollowUp.due_at < current)
    failed = session.exec(
        select(RunItem, Visit, Customer.name)
        .join(FollowUp, FollowUp.run_item_id == RunItem.id)
        .join(Run, Run.id == RunItem.run_id)
        .join(Visit, Visit.id == Run.visit_id)
        .join(Customer, Customer.id == Visit.customer_id, isouter=True)
        .where(*fu_conds)
        .order_by(FollowUp.due_at, RunItem.id)
        .limit(limit)
    ).all()
    seen: set[int] = set()
    unique_failed = []
    for it, v, name in failed:
        if it.id not in seen:
            seen.add(it.id)  # type: ignore[arg-type]
            unique_failed.append((it, v, name))
    return WorkPage(
        rows=_rows(session, w, [(it, v, name) for it, v, name in page[:limit]], current),
        has_more=len(page) > limit,
        followups=_rows(session, w, unique_failed, current),
    )


# ---------------------------------------------------------------- working items


def _load_item_for_work(session: Session, w: Who, item_id: int) -> tuple[RunItem, Run, Visit]:
    item = session.get(RunItem, item_id)
    if item is None:
        raise ReceptionError("That checklist item does not exist.")
    run = session.get(Run, item.run_id)
    visit = session.get(Visit, run.visit_id) if run else None
    assert run is not None and visit is not None
    if not can_work_item(w, item, visit):
        raise ScopeDenied(
            "Only the visit's host, reception staff of the {department} department or a supervisor may work this item.",
            department=department_label(item.department),
        )
    _check_editable(run)
    return item, run, visit


def _check_editable(run: Run) -> None:
    if run.status == "signed_off":
        raise ReceptionError("This run is signed off and read-only.")
    if run.status == "cancelled":
        raise ReceptionError("This run is cancelled and read-only.")


def _touch(session: Session, run: Run, visit: Visit) -> None:
    if run.status == "scheduled":
        run.status = "in_progress"
        session.add(run)
    if visit.status == "planned":
        visit.status = "in_progress"
        session.add(visit)


@command("reception.item.work")
def mark_item(
    *,
    session: Session,
    actor: Actor,
    item_id: int,
    state: str,
    reason: str | None = None,
    followup_owner_id: int | None = None,
    followup_due_at: dt.datetime | None = None,
    followup_action: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Set an item's state: done, na (with a reason), failed (with a follow-up), or back to open (undo)."""
    current = now_or(now)
    w = who(session, actor)
    item, run, visit = _load_item_for_work(session, w, item_id)
    if state not in STATES:
        raise ReceptionError("Unknown item state.")
    if item.state == "failed":
        raise ReceptionError("A failed item stays failed: it counts as ready once its follow-up is done.")
    if state == item.state:
        raise ReceptionError("The item is already in that state.")
    before = {"state": item.state, "na_reason": item.na_reason}
    if state == "done" and item.evidence_required:
        has = session.exec(select(func.count()).select_from(Evidence).where(Evidence.run_item_id == item.id)).one()
        if not has:
            raise ReceptionError("This item needs evidence (a note or a file) before it can be marked done.")
    item.na_reason = None
    if state == "na":
        item.na_reason = clean_text(reason, limit=500, label="Reason for N/A", required=True)
    if state == "failed":
        if followup_owner_id is None:
            raise ReceptionError("A failed item needs a follow-up owner.")
        owner = session.get(Staff, followup_owner_id)
        if owner is None or not owner.active:
            raise ReceptionError("The follow-up owner must be an active staff member.")
        if followup_due_at is None:
            raise ReceptionError("A failed item needs a follow-up due time.")
        due = to_utc(followup_due_at)
        if due < current:
            raise ReceptionError("The follow-up due time must not be in the past.")
        action = clean_text(followup_action, limit=500, label="Follow-up action", required=True)
        session.add(FollowUp(run_item_id=item.id, owner_id=owner.id, due_at=due, action=action or "", status="open"))  # type: ignore[arg-type]
    item.state = state
    if state == "open":
        item.done_by, item.done_at = None, None
        item.due_at = compute_due(item.timing, item.anchor, item.offset_minutes, visit.arrival_at, visit.departure_at)
    else:
        item.done_by, item.done_at = actor.user_id, current
    session.add(item)
    _touch(session, run, visit)
    session.flush()
    audit.note(entity="run_item", entity_id=item.id, before=before, after={"state": state, "na_reason": item.na_reason})


@command("reception.item.evidence")
def add_evidence(
    *,
    session: Session,
    actor: Actor,
    item_id: int,
    note: str | None = None,
    filename: str | None = None,
    data: bytes | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Attach a note or a file (image or PDF, at most 10 MB) to an item. Returns the evidence id."""
    current = now_or(now)
    w = who(session, actor)
    item, run, visit = _load_item_for_work(session, w, item_id)
    if (note is None or not note.strip()) == (data is None):
        raise ReceptionError("Give either a note or a file as evidence.")
    if data is not None:
        name, mime = check_upload(filename, data)
        ev = Evidence(
            run_item_id=item.id,  # type: ignore[arg-type]
            kind="file",
            filename=name,
            mime=mime,
            size_bytes=len(data),
            data=data,
            uploaded_by=actor.user_id,
            at=current,
        )
    else:
        text = clean_text(note, limit=NOTE_LIMIT, label="Note", required=True)
        ev = Evidence(run_item_id=item.id, kind="note", note=text, uploaded_by=actor.user_id, at=current)  # type: ignore[arg-type]
    session.add(ev)
    _touch(session, run, visit)
    session.flush()
    audit.note(
        entity="run_item",
        entity_id=item.id,
        after={"evidence_id": ev.id, "kind": ev.kind, "mime": ev.mime, "size_bytes": ev.size_bytes},
    )
    return ev.id  # type: ignore[return-value]


@dataclass
class EvidenceInfo:
    evidence_id: int
    kind: str
    note: str | None
    filename: str | None
    mime: str | None
    size_bytes: int | None
    by: str | None
    at: dt.datetime


def _check_item_visible(session: Session, w: Who, item_id: int) -> RunItem:
    item = session.get(RunItem, item_id)
    if item is None:
        raise ReceptionError("That checklist item does not exist.")
    visible = session.exec(
        select(RunItem.id)
        .join(Run, Run.id == RunItem.run_id)
        .join(Visit, Visit.id == Run.visit_id)
        .where(RunItem.id == item_id, visible_item_clause(w))
    ).first()
    if visible is None:
        raise ScopeDenied("You may not see this item.")
    return item


@query("reception.read")
def item_evidence(*, session: Session, actor: Actor, item_id: int) -> list[EvidenceInfo]:
    """The evidence of an item, without the file bytes."""
    w = who(session, actor)
    _check_item_visible(session, w, item_id)
    rows = session.exec(
        select(
            Evidence.id,
            Evidence.kind,
            Evidence.note,
            Evidence.filename,
            Evidence.mime,
            Evidence.size_bytes,
            Evidence.uploaded_by,
            Evidence.at,
        )
        .where(Evidence.run_item_id == item_id)
        .order_by(Evidence.id)
    ).all()
    names = _user_names(session, {r[6] for r in rows if r[6] is not None})
    return [
        EvidenceInfo(eid, kind, note, fname, mime, size, names.get(by) if by else None, at)
        for eid, kind, note, fname, mime, size, by, at in rows
    ]


@query("reception.read")
def evidence_file(*, session: Session, actor: Actor, evidence_id: int) -> tuple[str, str, bytes]:
    """(file name, MIME type, bytes) of an evidence file the actor may see."""
    w = who(session, actor)
    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.kind != "file" or ev.data is None:
        raise ReceptionError("That evidence file does not exist.")
    _check_item_visible(session, w, ev.run_item_id)
    return ev.filename or "evidence", ev.mime or "application/octet-stream", bytes(ev.data)


@command("reception.followup.done")
def complete_followup(*, session: Session, actor: Actor, followup_id: int, now: dt.datetime | None = None) -> None:
    """Close a follow-up: its owner, the visit's host, reception staff of the item's department or a supervisor."""
    current = now_or(now)
    w = who(session, actor)
    fu = session.get(FollowUp, followup_id)
    if fu is None:
        raise ReceptionError("That follow-up does not exist.")
    item = session.get(RunItem, fu.run_item_id)
    run = session.get(Run, item.run_id) if item else None
    visit = session.get(Visit, run.visit_id) if run else None
    assert item is not None and run is not None and visit is not None
    if not (can_work_item(w, item, visit) or (w.staff_id is not None and w.staff_id == fu.owner_id)):
        raise ScopeDenied(
            "Only the follow-up's owner, the visit's host, the item's department or a supervisor may close it."
        )
    _check_editable(run)
    if fu.status == "done":
        raise ReceptionError("This follow-up is already done.")
    fu.status, fu.done_by, fu.done_at = "done", actor.user_id, current
    session.add(fu)
    session.flush()
    audit.note(entity="followup", entity_id=fu.id, before={"status": "open"}, after={"status": "done"})


# ---------------------------------------------------------------- submission, sign-off, reopen


@command("reception.run.submit")
def submit_run(*, session: Session, actor: Actor, run_id: int, now: dt.datetime | None = None) -> None:
    """The host (or a supervisor) submits the run for sign-off; refused while something blocks sign-off."""
    w = who(session, actor)
    run, visit = _load_run(session, w, run_id)
    if not (w.supervisor or (w.staff_id is not None and visit.host_id == w.staff_id)):
        raise ScopeDenied("Only the visit's host or a supervisor may submit this run.")
    _check_editable(run)
    if run.status == "submitted":
        raise ReceptionError("This run is already submitted.")
    blockers = blockers_for(session, run.id)  # type: ignore[arg-type]
    if blockers:
        raise SignOffBlocked("Cannot submit: {count} items still block sign-off.", blockers)
    before = run.status
    run.status, run.submitted_at = "submitted", now_or(now)
    session.add(run)
    _touch(session, run, visit)
    audit.note(entity="run", entity_id=run.id, before={"status": before}, after={"status": "submitted"})


@command("reception.run.signoff")
def sign_off(*, session: Session, actor: Actor, run_id: int, now: dt.datetime | None = None) -> None:
    """A supervisor signs the run off: refused, with the blockers listed, while any remain."""
    current = now_or(now)
    w = who(session, actor)
    run, visit = _load_run(session, w, run_id)
    _check_editable(run)
    blockers = blockers_for(session, run.id)  # type: ignore[arg-type]
    if blockers:
        raise SignOffBlocked("Sign-off refused: {count} items block it.", blockers)
    before = run.status
    run.status = "signed_off"
    run.submitted_at = run.submitted_at or current
    run.signed_off_by, run.signed_off_at = actor.user_id, current
    session.add(run)
    session.flush()
    remaining = session.exec(
        select(func.count())
        .select_from(Run)
        .where(Run.visit_id == visit.id, col(Run.status).not_in(("signed_off", "cancelled")))
    ).one()
    if not remaining:
        visit.status = "completed"
        session.add(visit)
    audit.note(entity="run", entity_id=run.id, before={"status": before}, after={"status": "signed_off"})


@command("reception.run.reopen")
def reopen_run(*, session: Session, actor: Actor, run_id: int, reason: str) -> None:
    """An admin reopens a signed-off run with a reason (audited)."""
    w = who(session, actor)
    run, visit = _load_run(session, w, run_id)
    why = clean_text(reason, limit=500, label="Reason", required=True)
    if run.status != "signed_off":
        raise ReceptionError("Only a signed-off run can be reopened.")
    before = {"status": run.status, "signed_off_by": run.signed_off_by, "signed_off_at": run.signed_off_at}
    run.status, run.reopened_reason = "in_progress", why
    run.signed_off_by, run.signed_off_at = None, None
    session.add(run)
    if visit.status == "completed":
        visit.status = "in_progress"
        session.add(visit)
    audit.note(entity="run", entity_id=run.id, before=before, after={"status": "in_progress", "reason": why})


@query("reception.item.work")
def followup_owner_choices(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Active staff who can own a follow-up: reception staff, client managers and supervisors."""
    rows = session.exec(
        select(Staff.id, Staff.name, Staff.role, Staff.department)
        .where(
            Staff.active == True,  # noqa: E712
            Staff.is_training == False,  # noqa: E712
            col(Staff.role).in_(("reception", "client_manager", "supervisor", "admin")),
        )
        .order_by(Staff.role.desc(), Staff.department, Staff.name)  # type: ignore[attr-defined]
    ).all()
    return [(sid, f"{name} · {department_label(dept) if dept else role_label(role)}") for sid, name, role, dept in rows]
