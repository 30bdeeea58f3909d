"""Checklist templates (admin): versioned like scorecards, draft -> active -> retired.

A version is locked when it is activated; changing it means a new draft (a copy of the newest version);
activating the draft retires the version that was active. Runs keep the items they were copied with.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.permissions import Actor
from console.reception.common import ReceptionError, now_or
from models import ChecklistTemplate, Department, Run, RunItem, TemplateItem
from models.reception import ANCHORS, TIMINGS

ITEM_FIELDS = (
    "seq",
    "phase",
    "phase_en",
    "phase_zh",
    "text_en",
    "text_zh",
    "department",
    "timing",
    "anchor",
    "offset_minutes",
    "levels",
    "required",
    "critical",
    "evidence_required",
)
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_-]{0,15}$")
MAX_OFFSET = 60 * 24 * 60  # 60 days either side


@dataclass
class TemplateRow:
    template_id: int
    code: str
    version: int
    status: str
    name_en: str
    name_zh: str
    owner_department: str | None
    items: int
    runs: int
    activated_at: dt.datetime | None


@query("reception.template.read")
def list_templates(*, session: Session, actor: Actor) -> list[TemplateRow]:
    counts = dict(session.exec(select(TemplateItem.template_id, func.count()).group_by(TemplateItem.template_id)).all())
    out = []
    for tpl in session.exec(
        select(ChecklistTemplate).order_by(ChecklistTemplate.code, col(ChecklistTemplate.version).desc())
    ):
        runs = session.exec(
            select(func.count(func.distinct(RunItem.run_id))).where(
                col(RunItem.template_item_id).in_(select(TemplateItem.id).where(TemplateItem.template_id == tpl.id))
            )
        ).one()
        out.append(
            TemplateRow(
                template_id=tpl.id,  # type: ignore[arg-type]
                code=tpl.code,
                version=tpl.version,
                status=tpl.status,
                name_en=tpl.name_en,
                name_zh=tpl.name_zh,
                owner_department=tpl.owner_department,
                items=int(counts.get(tpl.id, 0)),
                runs=int(runs),
                activated_at=tpl.activated_at,
            )
        )
    return out


@query("reception.template.read")
def template_items(*, session: Session, actor: Actor, template_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(TemplateItem).where(TemplateItem.template_id == template_id).order_by(TemplateItem.seq)
    ).all()
    return [{name: getattr(row, name) for name in ITEM_FIELDS} for row in rows]


def _template(session: Session, template_id: int) -> ChecklistTemplate:
    tpl = session.get(ChecklistTemplate, template_id)
    if tpl is None:
        raise ReceptionError("That template does not exist.")
    return tpl


def _locked(tpl: ChecklistTemplate) -> None:
    if tpl.status != "draft":
        raise ReceptionError(
            "{code} version {version} is {status} and locked: create a new draft to change it.",
            code=tpl.code,
            version=tpl.version,
            status=tpl.status,
        )


def _open_draft(session: Session, code: str) -> ChecklistTemplate | None:
    return session.exec(
        select(ChecklistTemplate).where(ChecklistTemplate.code == code, ChecklistTemplate.status == "draft")
    ).first()


@command("reception.template.edit")
def new_draft(*, session: Session, actor: Actor, template_id: int) -> int:
    """A new draft version of a template, a copy of the given version's header and items."""
    source = _template(session, template_id)
    existing = _open_draft(session, source.code)
    if existing is not None:
        raise ReceptionError(
            "{code} already has a draft (version {version}): edit or delete it first.",
            code=source.code,
            version=existing.version,
        )
    newest = session.exec(
        select(func.max(ChecklistTemplate.version)).where(ChecklistTemplate.code == source.code)
    ).one()
    draft = ChecklistTemplate(
        code=source.code,
        version=int(newest or 0) + 1,
        status="draft",
        name_en=source.name_en,
        name_zh=source.name_zh,
        owner_department=source.owner_department,
        source=source.source,
    )
    session.add(draft)
    session.flush()
    for item in session.exec(select(TemplateItem).where(TemplateItem.template_id == source.id)).all():
        data = item.model_dump(exclude={"id", "template_id"})
        session.add(TemplateItem(template_id=draft.id, **data))  # type: ignore[arg-type]
    session.flush()
    audit.note(entity="template", entity_id=draft.id, after={"code": draft.code, "version": draft.version})
    return draft.id  # type: ignore[return-value]


@command("reception.template.edit")
def create_template(
    *, session: Session, actor: Actor, code: str, name_en: str, name_zh: str, owner_department: str | None
) -> int:
    """A brand-new template code, as an empty draft version 1."""
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise ReceptionError("A template code is a capital letter followed by up to 15 letters, digits, - or _.")
    if session.exec(select(ChecklistTemplate.id).where(ChecklistTemplate.code == code)).first() is not None:
        raise ReceptionError("Template {code} already exists.", code=code)
    if not (name_en or "").strip() or not (name_zh or "").strip():
        raise ReceptionError("A template needs an English and a Chinese name.")
    _check_department(session, owner_department, allow_none=True)
    tpl = ChecklistTemplate(
        code=code,
        version=1,
        status="draft",
        name_en=name_en.strip()[:120],
        name_zh=name_zh.strip()[:120],
        owner_department=owner_department,
    )
    session.add(tpl)
    session.flush()
    audit.note(entity="template", entity_id=tpl.id, after={"code": code, "version": 1})
    return tpl.id  # type: ignore[return-value]


def _check_department(session: Session, code: str | None, *, allow_none: bool = False) -> None:
    if code is None and allow_none:
        return
    if session.exec(select(Department.id).where(Department.code == code)).first() is None:
        raise ReceptionError("Unknown department: {department}.", department=str(code))


def _blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip())
    )


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y")
    return bool(value) if not _blank(value) else False


def normalise_item(session: Session, raw: dict[str, Any], row: int) -> dict[str, Any]:
    """Validate one template item from the editor; row is 1-based, for the message."""

    def fail(message: str, **kw: Any) -> ReceptionError:
        return ReceptionError("Row {row}: " + message, row=row, **kw)

    item: dict[str, Any] = {}
    try:
        item["seq"] = int(raw.get("seq"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise fail("the order number must be a whole number.") from None
    for name, limit in (("phase", 8), ("phase_en", 120), ("phase_zh", 120), ("text_en", 500), ("text_zh", 500)):
        value = raw.get(name)
        if _blank(value):
            raise fail("{field} is required.", field=name)
        text = str(value).strip()
        if len(text) > limit:
            raise fail("{field} is longer than {limit} characters.", field=name, limit=limit)
        item[name] = text
    department = raw.get("department")
    _check_department(session, None if _blank(department) else str(department))
    item["department"] = str(department)
    timing = str(raw.get("timing") or "").strip()
    if timing not in TIMINGS:
        raise fail("timing must be one of offset, per_shift, during_stay, optional.")
    item["timing"] = timing
    if timing == "offset":
        anchor = str(raw.get("anchor") or "").strip()
        if anchor not in ANCHORS:
            raise fail("an offset item needs the anchor arrival or departure.")
        try:
            offset = int(raw.get("offset_minutes"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise fail("an offset item needs its offset in minutes.") from None
        if abs(offset) > MAX_OFFSET:
            raise fail("the offset must be within 60 days of the anchor.")
        item["anchor"], item["offset_minutes"] = anchor, offset
    else:
        item["anchor"], item["offset_minutes"] = None, None
    levels_raw = raw.get("levels")
    levels = sorted({x.strip() for x in str("1,2,3" if _blank(levels_raw) else levels_raw).split(",") if x.strip()})
    if not levels or any(x not in ("1", "2", "3") for x in levels):
        raise fail("levels are a comma-separated list of 1, 2 and 3.")
    item["levels"] = ",".join(levels)
    for flag in ("required", "critical", "evidence_required"):
        item[flag] = _as_bool(raw.get(flag))
    return item


@command("reception.template.edit")
def save_draft(
    *,
    session: Session,
    actor: Actor,
    template_id: int,
    items: Sequence[dict[str, Any]],
    name_en: str | None = None,
    name_zh: str | None = None,
) -> int:
    """Replace a draft's items (and optionally its names). Active and retired versions are locked."""
    tpl = _template(session, template_id)
    _locked(tpl)
    clean = [normalise_item(session, dict(raw), n) for n, raw in enumerate(items, start=1)]
    seqs = [c["seq"] for c in clean]
    if len(set(seqs)) != len(seqs):
        raise ReceptionError("Each item needs its own order number.")
    if name_en is not None and name_en.strip():
        tpl.name_en = name_en.strip()[:120]
    if name_zh is not None and name_zh.strip():
        tpl.name_zh = name_zh.strip()[:120]
    session.add(tpl)
    old = session.exec(select(TemplateItem).where(TemplateItem.template_id == tpl.id)).all()
    for row in old:
        session.delete(row)
    session.flush()
    for data in clean:
        session.add(TemplateItem(template_id=tpl.id, **data))  # type: ignore[arg-type]
    session.flush()
    audit.note(entity="template", entity_id=tpl.id, counts={"items_before": len(old), "items_after": len(clean)})
    return len(clean)


@command("reception.template.edit")
def delete_draft(*, session: Session, actor: Actor, template_id: int) -> None:
    tpl = _template(session, template_id)
    _locked(tpl)
    for row in session.exec(select(TemplateItem).where(TemplateItem.template_id == tpl.id)).all():
        session.delete(row)
    session.flush()
    session.delete(tpl)
    audit.note(entity="template", entity_id=template_id, before={"code": tpl.code, "version": tpl.version})


@command("reception.template.activate")
def activate_template(*, session: Session, actor: Actor, template_id: int, now: dt.datetime | None = None) -> None:
    """Activate a draft: it is locked from now on, and the version that was active is retired."""
    tpl = _template(session, template_id)
    _locked(tpl)
    n = session.exec(select(func.count()).select_from(TemplateItem).where(TemplateItem.template_id == tpl.id)).one()
    if not n:
        raise ReceptionError("A template needs at least one item before it can be activated.")
    retired = []
    for old in session.exec(
        select(ChecklistTemplate).where(ChecklistTemplate.code == tpl.code, ChecklistTemplate.status == "active")
    ).all():
        old.status = "retired"
        session.add(old)
        retired.append(old.version)
    session.flush()
    tpl.status, tpl.activated_at = "active", now_or(now)
    session.add(tpl)
    session.flush()
    audit.note(
        entity="template",
        entity_id=tpl.id,
        before={"retired_versions": retired},
        after={"code": tpl.code, "version": tpl.version, "status": "active"},
    )


def runs_using(session: Session, template_id: int) -> int:
    """How many runs were created from this template version."""
    return int(
        session.exec(
            select(func.count(func.distinct(RunItem.run_id)))
            .join(Run, Run.id == RunItem.run_id)
            .where(
                col(RunItem.template_item_id).in_(
                    select(TemplateItem.id).where(TemplateItem.template_id == template_id)
                )
            )
        ).one()
    )
