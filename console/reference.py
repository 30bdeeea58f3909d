"""Reference data (tier ladder, scorecards, reception levels and posts, templates, discipline rules).

Loaded from the YAML files in seed/reference/ into any database that has none yet.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models import (
    ChecklistTemplate,
    Department,
    DisciplineRule,
    GuardPost,
    ReceptionLevel,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    ScorecardViolation,
    TemplateItem,
    TierLevel,
)

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "seed" / "reference"
# Reference versions count as active from the ladder's effective date, so seeded history never predates them.
REFERENCE_ACTIVATED_AT = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@cache
def read_reference(name: str) -> Any:
    with open(REFERENCE_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_reference_data(engine: Engine) -> dict[str, int]:
    """Insert each kind of reference data whose table is empty. Returns rows added per kind."""
    added: dict[str, int] = {}
    with Session(engine) as session:
        if not _has(session, TierLevel):
            added["tiers"] = _load_tiers(session)
        if not _has(session, Scorecard):
            added["scorecards"] = _load_scorecards(session)
        if not _has(session, ReceptionLevel):
            added["reception"] = _load_reception(session)
        if not _has(session, ChecklistTemplate):
            added["templates"] = _load_templates(session)
        if not _has(session, DisciplineRule):
            added["discipline"] = _load_discipline(session)
        session.commit()
    return added


def _has(session: Session, model: type) -> bool:
    return bool(session.exec(select(func.count()).select_from(model)).one())


def _load_tiers(session: Session) -> int:
    data = read_reference("tiers")
    effective = data["effective_from"]
    if isinstance(effective, str):
        effective = dt.date.fromisoformat(effective)
    for row in data["tiers"]:
        spend = row.get("min_spend_yuan")
        session.add(
            TierLevel(
                rank=row["rank"],
                code=row["code"],
                name_en=row["name_en"],
                name_zh=row["name_zh"],
                min_spend_fen=None if spend is None else int(spend) * 100,
                min_purchases=row.get("min_purchases"),
                require_both=bool(row.get("require_both")),
                ratio=row.get("ratio"),
                units=row["units"],
                contact_days=row.get("contact_days"),
                designation_only=bool(row.get("designation_only")),
                enterprise_only=bool(row.get("enterprise_only")),
                color=row["color"],
                effective_from=effective,
            )
        )
    return len(data["tiers"])


def _load_scorecards(session: Session) -> int:
    count = 0
    now = REFERENCE_ACTIVATED_AT
    for card in read_reference("scorecards")["scorecards"]:
        sc = Scorecard(code=card["code"], stream=card["stream"], name_en=card["name_en"], name_zh=card["name_zh"])
        session.add(sc)
        session.flush()
        version = ScorecardVersion(
            scorecard_id=sc.id,
            version=card.get("version", 1),
            status="active",
            pass_mark=float(card.get("pass_mark", 80)),
            activated_at=now,
        )
        session.add(version)
        session.flush()
        sections: dict[str, int] = {}
        for pos, sec in enumerate(card["sections"]):
            section = ScorecardSection(
                version_id=version.id,
                code=sec["code"],
                name_en=sec["name_en"],
                name_zh=sec["name_zh"],
                weight=float(sec["weight"]),
                position=pos,
            )
            session.add(section)
            session.flush()
            sections[sec["code"]] = section.id  # type: ignore[assignment]
            for ipos, item in enumerate(sec["items"]):
                session.add(
                    ScorecardItem(
                        section_id=section.id,
                        code=item["code"],
                        text_en=item["text_en"],
                        text_zh=item["text_zh"],
                        kind=item["kind"],
                        max_points=int(item["max_points"]),
                        na_allowed=bool(item.get("na_allowed")),
                        guidance_en=item.get("guidance_en"),
                        guidance_zh=item.get("guidance_zh"),
                        position=ipos,
                    )
                )
        for vio in card.get("violations", []):
            session.add(
                ScorecardViolation(
                    version_id=version.id,
                    code=vio["code"],
                    text_en=vio["text_en"],
                    text_zh=vio["text_zh"],
                    rule=vio["rule"],
                    section_id=sections.get(vio["section"]) if vio.get("section") else None,
                )
            )
        count += 1
    return count


def _load_reception(session: Session) -> int:
    data = read_reference("reception")
    for dep in data["departments"]:
        session.add(Department(code=dep["code"], name_en=dep["name_en"], name_zh=dep["name_zh"]))
    for lvl in data["levels"]:
        level = ReceptionLevel(
            level=lvl["level"],
            name_en=lvl["name_en"],
            name_zh=lvl["name_zh"],
            applies_to_en=lvl["applies_to_en"],
            applies_to_zh=lvl["applies_to_zh"],
            reinforcements=lvl.get("reinforcements"),
            on_duty=lvl.get("on_duty"),
            shift_groups=lvl.get("shift_groups"),
            rotation_hours=lvl.get("rotation_hours"),
            post_count=lvl.get("post_count") or 0,
            cordon_zone=bool(lvl.get("cordon_zone")),
            source=lvl.get("source"),
        )
        session.add(level)
        session.flush()
        for post in lvl.get("posts") or []:
            session.add(
                GuardPost(
                    level_id=level.id,
                    number=post["number"],
                    location_en=post["location_en"],
                    location_zh=post["location_zh"],
                    duty_en=post["duty_en"],
                    duty_zh=post["duty_zh"],
                )
            )
    return len(data["levels"])


def _load_templates(session: Session) -> int:
    now = REFERENCE_ACTIVATED_AT
    data = read_reference("templates")
    for tpl in data["templates"]:
        template = ChecklistTemplate(
            code=tpl["code"],
            version=tpl.get("version", 1),
            status="active",
            name_en=tpl["name_en"],
            name_zh=tpl["name_zh"],
            owner_department=tpl.get("owner_department"),
            source=tpl.get("source"),
            activated_at=now,
        )
        session.add(template)
        session.flush()
        for item in tpl["items"]:
            session.add(
                TemplateItem(
                    template_id=template.id,
                    seq=item["seq"],
                    phase=item["phase"],
                    phase_en=item["phase_en"],
                    phase_zh=item["phase_zh"],
                    text_en=item["text_en"],
                    text_zh=item["text_zh"],
                    department=item["department"],
                    timing=item["timing"],
                    anchor=item.get("anchor"),
                    offset_minutes=item.get("offset_minutes"),
                    levels=",".join(str(x) for x in item.get("levels", [1, 2, 3])),
                    required=bool(item.get("required", True)),
                    critical=bool(item.get("critical", False)),
                    evidence_required=bool(item.get("evidence_required", False)),
                    source=item.get("source"),
                )
            )
    return len(data["templates"])


def _load_discipline(session: Session) -> int:
    rules = read_reference("discipline")["rules"]
    for rule in rules:
        session.add(
            DisciplineRule(
                code=rule["code"],
                category=rule["category"],
                text_en=rule["text_en"],
                text_zh=rule["text_zh"],
                points=int(rule.get("points") or 0),
                source=rule.get("source"),
            )
        )
    return len(rules)
