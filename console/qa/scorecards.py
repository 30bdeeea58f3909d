"""The scorecard editor (admin): versions draft -> active -> retired. Activation locks a version and retires
the one it replaces; changing an active version means making a draft copy, editing it, activating it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.permissions import Actor
from console.qa.common import QAError, VersionSpec, load_version
from console.timeutil import utcnow
from models import (
    Evaluation,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    ScorecardViolation,
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class SectionIn:
    code: str
    name_en: str
    name_zh: str
    weight: float


@dataclass(frozen=True)
class ItemIn:
    section: str
    code: str
    text_en: str
    text_zh: str
    kind: str
    max_points: int
    na_allowed: bool = False
    guidance_en: str | None = None
    guidance_zh: str | None = None


@dataclass(frozen=True)
class ViolationIn:
    code: str
    text_en: str
    text_zh: str
    rule: str
    section: str | None = None


@query("qa.scorecards.read")
def list_versions(*, session: Session, actor: Actor) -> pd.DataFrame:
    sections = (
        select(func.count(ScorecardSection.id))
        .where(ScorecardSection.version_id == ScorecardVersion.id)
        .correlate(ScorecardVersion)
        .scalar_subquery()
    )
    items = (
        select(func.count(ScorecardItem.id))
        .join(ScorecardSection, ScorecardSection.id == ScorecardItem.section_id)
        .where(ScorecardSection.version_id == ScorecardVersion.id)
        .correlate(ScorecardVersion)
        .scalar_subquery()
    )
    violations = (
        select(func.count(ScorecardViolation.id))
        .where(ScorecardViolation.version_id == ScorecardVersion.id)
        .correlate(ScorecardVersion)
        .scalar_subquery()
    )
    used = (
        select(func.count(Evaluation.id))
        .where(Evaluation.version_id == ScorecardVersion.id)
        .correlate(ScorecardVersion)
        .scalar_subquery()
    )
    rows = []
    for v, card, n_sec, n_items, n_vio, n_used in session.exec(
        select(ScorecardVersion, Scorecard, sections, items, violations, used)
        .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
        .order_by(Scorecard.stream, Scorecard.code, col(ScorecardVersion.version).desc())
    ).all():
        rows.append(
            {
                "version_id": v.id,
                "scorecard": card.code,
                "stream": card.stream,
                "name_en": card.name_en,
                "name_zh": card.name_zh,
                "version": v.version,
                "status": v.status,
                "pass_mark": v.pass_mark,
                "sections": int(n_sec or 0),
                "items": int(n_items or 0),
                "violations": int(n_vio or 0),
                "evaluations": int(n_used or 0),
                "activated_at": v.activated_at,
                "retired_at": v.retired_at,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "version_id",
            "scorecard",
            "stream",
            "name_en",
            "name_zh",
            "version",
            "status",
            "pass_mark",
            "sections",
            "items",
            "violations",
            "evaluations",
            "activated_at",
            "retired_at",
        ],
    )


@query("qa.scorecards.read")
def version_spec(*, session: Session, actor: Actor, version_id: int) -> VersionSpec:
    return load_version(session, version_id)


def _draft(session: Session, version_id: int) -> ScorecardVersion:
    version = session.get(ScorecardVersion, version_id)
    if version is None:
        raise QAError("No such scorecard version.")
    if version.status != "draft":
        raise QAError(
            "Version {version} is {status} and locked: create a draft to change it.",
            version=version.version,
            status=version.status,
        )
    return version


@command("qa.scorecards.edit")
def create_draft(*, session: Session, actor: Actor, version_id: int) -> int:
    """A new draft version copied from an existing version of the same scorecard."""
    source = session.get(ScorecardVersion, version_id)
    if source is None:
        raise QAError("No such scorecard version.")
    existing = session.exec(
        select(ScorecardVersion).where(
            ScorecardVersion.scorecard_id == source.scorecard_id, ScorecardVersion.status == "draft"
        )
    ).first()
    if existing is not None:
        raise QAError("Draft version {version} exists already: edit or discard it.", version=existing.version)
    top = session.exec(
        select(func.max(ScorecardVersion.version)).where(ScorecardVersion.scorecard_id == source.scorecard_id)
    ).one()
    draft = ScorecardVersion(
        scorecard_id=source.scorecard_id, version=int(top or 0) + 1, status="draft", pass_mark=source.pass_mark
    )
    session.add(draft)
    session.flush()
    spec = load_version(session, version_id)
    _write_content(
        session,
        draft,
        [SectionIn(s.code, s.name_en, s.name_zh, s.weight) for s in spec.sections],
        [
            ItemIn(
                i.section,
                i.code,
                i.text_en,
                i.text_zh,
                i.kind,
                i.max_points,
                i.na_allowed,
                i.guidance_en,
                i.guidance_zh,
            )
            for i in spec.items
        ],
        [ViolationIn(v.code, v.text_en, v.text_zh, v.rule, v.section) for v in spec.violations],
    )
    audit.note(
        entity="scorecard_version", entity_id=draft.id, after={"copied_from": version_id, "version": draft.version}
    )
    return draft.id  # type: ignore[return-value]


def validate_content(
    pass_mark: float, sections: list[SectionIn], items: list[ItemIn], violations: list[ViolationIn]
) -> None:
    if not 0 <= pass_mark <= 100:
        raise QAError("The pass mark must be between 0 and 100.")
    if not sections:
        raise QAError("A scorecard needs at least one section.")
    codes: set[str] = set()
    for s in sections:
        if not _CODE.match(s.code or ""):
            raise QAError(
                "Code “{code}”: use lower-case letters, digits and _ (start with a letter).", code=s.code or ""
            )
        if s.code in codes:
            raise QAError("Section code “{code}” appears twice.", code=s.code)
        codes.add(s.code)
        if not (s.name_en or "").strip() or not (s.name_zh or "").strip():
            raise QAError("Section “{code}” needs an English and a Chinese name.", code=s.code)
        if not s.weight or s.weight <= 0:
            raise QAError("Section “{code}” needs a weight above 0.", code=s.code)
    seen: set[tuple[str, str]] = set()
    for i in items:
        if i.section not in codes:
            raise QAError("Item “{code}” names an unknown section “{section}”.", code=i.code, section=i.section)
        if not _CODE.match(i.code or ""):
            raise QAError(
                "Code “{code}”: use lower-case letters, digits and _ (start with a letter).", code=i.code or ""
            )
        if (i.section, i.code) in seen:
            raise QAError("Item code “{code}” appears twice in a section.", code=i.code)
        seen.add((i.section, i.code))
        if not (i.text_en or "").strip() or not (i.text_zh or "").strip():
            raise QAError("Item “{code}” needs an English and a Chinese text.", code=i.code)
        if i.kind not in ("yes_no", "scale"):
            raise QAError("Item “{code}”: the kind is yes_no or scale.", code=i.code)
        if not 1 <= int(i.max_points) <= 100:
            raise QAError("Item “{code}”: max points must be between 1 and 100.", code=i.code)
    empty = [s.code for s in sections if not any(i.section == s.code for i in items)]
    if empty:
        raise QAError("Every section needs at least one item (empty: {sections}).", sections=", ".join(empty))
    vcodes: set[str] = set()
    for v in violations:
        if not _CODE.match(v.code or ""):
            raise QAError(
                "Code “{code}”: use lower-case letters, digits and _ (start with a letter).", code=v.code or ""
            )
        if v.code in vcodes:
            raise QAError("Violation code “{code}” appears twice.", code=v.code)
        vcodes.add(v.code)
        if not (v.text_en or "").strip() or not (v.text_zh or "").strip():
            raise QAError("Violation “{code}” needs an English and a Chinese text.", code=v.code)
        if v.rule not in ("fail_all", "fail_section"):
            raise QAError("Violation “{code}”: the rule is fail_all or fail_section.", code=v.code)
        if v.rule == "fail_section" and v.section not in codes:
            raise QAError("Violation “{code}” (fail_section) must name a section of this version.", code=v.code)


def _write_content(
    session: Session,
    version: ScorecardVersion,
    sections: list[SectionIn],
    items: list[ItemIn],
    violations: list[ViolationIn],
) -> None:
    ids = list(session.exec(select(ScorecardSection.id).where(ScorecardSection.version_id == version.id)).all())
    session.exec(delete(ScorecardViolation).where(ScorecardViolation.version_id == version.id))  # type: ignore[call-overload]
    if ids:
        session.exec(delete(ScorecardItem).where(col(ScorecardItem.section_id).in_(ids)))  # type: ignore[call-overload]
    session.exec(delete(ScorecardSection).where(ScorecardSection.version_id == version.id))  # type: ignore[call-overload]
    session.flush()
    section_ids: dict[str, int] = {}
    for pos, s in enumerate(sections):
        row = ScorecardSection(
            version_id=version.id,  # type: ignore[arg-type]
            code=s.code,
            name_en=s.name_en.strip(),
            name_zh=s.name_zh.strip(),
            weight=float(s.weight),
            position=pos,
        )
        session.add(row)
        session.flush()
        section_ids[s.code] = row.id  # type: ignore[assignment]
    positions: dict[str, int] = {}
    for i in items:
        positions[i.section] = positions.get(i.section, -1) + 1
        session.add(
            ScorecardItem(
                section_id=section_ids[i.section],
                code=i.code,
                text_en=i.text_en.strip(),
                text_zh=i.text_zh.strip(),
                kind=i.kind,
                max_points=int(i.max_points),
                na_allowed=bool(i.na_allowed),
                guidance_en=(i.guidance_en or "").strip() or None,
                guidance_zh=(i.guidance_zh or "").strip() or None,
                position=positions[i.section],
            )
        )
    for v in violations:
        session.add(
            ScorecardViolation(
                version_id=version.id,  # type: ignore[arg-type]
                code=v.code,
                text_en=v.text_en.strip(),
                text_zh=v.text_zh.strip(),
                rule=v.rule,
                section_id=section_ids.get(v.section) if v.rule == "fail_section" and v.section else None,
            )
        )
    session.flush()


@command("qa.scorecards.edit")
def save_draft_version(
    *,
    session: Session,
    actor: Actor,
    version_id: int,
    pass_mark: float,
    sections: list[SectionIn],
    items: list[ItemIn],
    violations: list[ViolationIn],
) -> None:
    """Replace the content of a draft version. Active and retired versions are locked."""
    version = _draft(session, version_id)
    validate_content(pass_mark, sections, items, violations)
    version.pass_mark = float(pass_mark)
    session.add(version)
    _write_content(session, version, sections, items, violations)
    audit.note(
        entity="scorecard_version",
        entity_id=version_id,
        counts={"sections": len(sections), "items": len(items), "violations": len(violations)},
    )


@command("qa.scorecards.edit")
def activate_version(*, session: Session, actor: Actor, version_id: int, now: dt.datetime | None = None) -> None:
    """Lock the draft and make it the scorecard's active version; the previous active version retires."""
    now = now or utcnow()
    version = _draft(session, version_id)
    spec = load_version(session, version_id)
    validate_content(
        version.pass_mark,
        [SectionIn(s.code, s.name_en, s.name_zh, s.weight) for s in spec.sections],
        [ItemIn(i.section, i.code, i.text_en, i.text_zh, i.kind, i.max_points, i.na_allowed) for i in spec.items],
        [ViolationIn(v.code, v.text_en, v.text_zh, v.rule, v.section) for v in spec.violations],
    )
    retired = []
    for old in session.exec(
        select(ScorecardVersion).where(
            ScorecardVersion.scorecard_id == version.scorecard_id, ScorecardVersion.status == "active"
        )
    ).all():
        old.status = "retired"
        old.retired_at = now
        session.add(old)
        retired.append(old.version)
    session.flush()
    version.status = "active"
    version.activated_at = now
    session.add(version)
    session.flush()
    audit.note(entity="scorecard_version", entity_id=version_id, after={"status": "active", "retired": retired})


@command("qa.scorecards.edit")
def discard_draft(*, session: Session, actor: Actor, version_id: int) -> None:
    version = _draft(session, version_id)
    _write_content(session, version, [], [], [])
    session.delete(version)
    session.flush()
    audit.note(entity="scorecard_version", entity_id=version_id, before={"version": version.version})
