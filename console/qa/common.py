"""Shared pieces of the QA domain: errors with translatable messages, scoping, the dispute window,
tier at call time, pseudonyms for trainees, and a scorecard version loaded for the score math."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, true
from sqlmodel import Session, select

from console.i18n import pick, t
from console.permissions import Actor, PermissionDenied
from console.scoring import ItemSpec, SectionSpec, ViolationSpec
from console.tiers_ref import current_ladder
from console.timeutil import local_date, local_midnight_utc, today_local
from models import (
    Customer,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    ScorecardViolation,
    Staff,
    Team,
    TierChange,
)

DISPUTE_DAYS = 7
STREAMS = ("maintenance", "ob")
# Review-queue tier weights (SPEC §4). Supreme is not listed there; it weighs like Diamond.
TIER_WEIGHTS: dict[int, int] = {0: 1, 1: 1, 2: 2, 3: 3, 4: 5, 5: 5}
DOWNGRADE_FACTOR = 2
DOWNGRADE_DAYS = 90


class QAError(ValueError):
    """A refused request. str() is the message in the current language (so pages can show it as is)."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return t(self.template, **self.params)


class QAPermissionDenied(PermissionDenied):
    """A scope refusal (not your team, not your evaluation), translated like QAError."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return t(self.template, **self.params)


# ---------------------------------------------------------------- who may see whom


def require_staff(actor: Actor) -> int:
    if actor.staff_id is None:
        raise QAError("Your login is not linked to a staff member, so it cannot do this.")
    return actor.staff_id


def staff_scope(actor: Actor, staff_col: Any) -> ColumnElement[bool]:
    """SQL condition: the staff id in staff_col is someone the actor may see QA data of."""
    if actor.is_supervisor:
        return true()
    if actor.role == "team_lead":
        if actor.team_id is None:
            return false()
        return staff_col.in_(select(Staff.id).where(Staff.team_id == actor.team_id))
    if actor.role in ("agent", "client_manager") and actor.staff_id is not None:
        return staff_col == actor.staff_id
    return false()


def may_see_staff(session: Session, actor: Actor, staff_id: int) -> bool:
    if actor.is_supervisor:
        return True
    if actor.role == "team_lead":
        staff = session.get(Staff, staff_id)
        return staff is not None and actor.team_id is not None and staff.team_id == actor.team_id
    if actor.role in ("agent", "client_manager"):
        return actor.staff_id == staff_id
    return False


def may_manage_staff(session: Session, actor: Actor, staff_id: int) -> bool:
    """Score, coach, record discipline: a team lead for their own team, a supervisor for anyone."""
    if actor.is_supervisor:
        return True
    if actor.role == "team_lead":
        return may_see_staff(session, actor, staff_id)
    return False


def require_manage(session: Session, actor: Actor, staff_id: int) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise QAError("No such staff member.")
    if not may_manage_staff(session, actor, staff_id):
        raise QAPermissionDenied("{name} is not in your team.", name=staff.name)
    return staff


def teams_for(session: Session, actor: Actor, stream: str | None = None) -> list[Team]:
    """The teams the actor may pick: a lead their own, a supervisor any (optionally of one stream)."""
    stmt = select(Team).order_by(Team.stream, Team.code)
    if stream:
        stmt = stmt.where(Team.stream == stream)
    if not actor.is_supervisor:
        if actor.team_id is None:
            return []
        stmt = stmt.where(Team.id == actor.team_id)
    return list(session.exec(stmt).all())


# ---------------------------------------------------------------- the dispute window


def dispute_last_day(submitted_at: dt.datetime) -> dt.date:
    """The last Asia/Shanghai calendar day on which the evaluated person may dispute."""
    return local_date(submitted_at) + dt.timedelta(days=DISPUTE_DAYS)


def dispute_deadline(submitted_at: dt.datetime) -> dt.datetime:
    """The UTC instant the window closes: local midnight after the last day."""
    return local_midnight_utc(dispute_last_day(submitted_at) + dt.timedelta(days=1))


def window_cutoff(now: dt.datetime) -> dt.datetime:
    """Evaluations submitted before this instant have a closed window at `now`."""
    return local_midnight_utc(local_date(now) - dt.timedelta(days=DISPUTE_DAYS))


# ---------------------------------------------------------------- tiers at call time


def tier_at(customer_col: Any, at_col: Any) -> Any:
    """SQL scalar: the customer's tier rank at an instant, from TierChange events (Member if none yet)."""
    latest = (
        select(TierChange.to_rank)
        .where(TierChange.customer_id == customer_col, TierChange.at <= at_col)
        .order_by(TierChange.at.desc(), TierChange.id.desc())  # type: ignore[attr-defined]
        .limit(1)
        .correlate_except(TierChange)
        .scalar_subquery()
    )
    return func.coalesce(latest, 0)


def downgraded_between(customer_col: Any, start: dt.datetime, end: dt.datetime) -> Any:
    """SQL condition: the customer had a downgrade event in [start, end)."""
    return (
        select(TierChange.id)
        .where(
            TierChange.customer_id == customer_col,
            TierChange.kind == "downgrade",
            TierChange.at >= start,
            TierChange.at < end,
        )
        .correlate_except(TierChange)
        .exists()
    )


def tier_names(session: Session, on: dt.date | None = None) -> dict[int, str]:
    """Tier rank -> name in the current language."""
    return {tier.rank: pick(tier, "name") for tier in current_ladder(session, on or today_local())}


# ---------------------------------------------------------------- pseudonyms for trainees


def pseudonym(customer_code: str) -> str:
    return "VIP-" + hashlib.sha1(customer_code.encode()).hexdigest()[:6].upper()


def pseudonymise_text(text: str | None, name: str, code: str) -> str | None:
    """Replace the customer's name (and surname with a courtesy title) by the pseudonym."""
    if not text:
        return text
    alias = pseudonym(code)
    out = text.replace(name, alias) if name else text
    if name:
        surname = name[0]
        out = re.sub(re.escape(surname) + r"(先生|女士|小姐|总|经理)", alias, out)
    return out


def customer_label(customer: Customer, *, trainee: bool) -> str:
    return pseudonym(customer.code) if trainee else customer.name


# ---------------------------------------------------------------- a scorecard version for the math


@dataclass(frozen=True)
class ItemInfo:
    item_id: int
    code: str
    section: str
    text_en: str
    text_zh: str
    kind: str
    max_points: int
    na_allowed: bool
    guidance_en: str | None
    guidance_zh: str | None
    position: int


@dataclass(frozen=True)
class SectionInfo:
    section_id: int
    code: str
    name_en: str
    name_zh: str
    weight: float
    position: int


@dataclass(frozen=True)
class ViolationInfo:
    violation_id: int
    code: str
    text_en: str
    text_zh: str
    rule: str
    section: str | None


@dataclass
class VersionSpec:
    version_id: int
    scorecard_id: int
    scorecard_code: str
    stream: str
    name_en: str
    name_zh: str
    version: int
    status: str
    pass_mark: float
    sections: list[SectionInfo] = field(default_factory=list)
    items: list[ItemInfo] = field(default_factory=list)
    violations: list[ViolationInfo] = field(default_factory=list)

    @property
    def section_specs(self) -> list[SectionSpec]:
        return [SectionSpec(s.code, s.weight) for s in self.sections]

    @property
    def item_specs(self) -> list[ItemSpec]:
        return [ItemSpec(i.item_id, i.section, i.max_points, i.kind, i.na_allowed) for i in self.items]

    @property
    def violation_specs(self) -> list[ViolationSpec]:
        return [ViolationSpec(v.violation_id, v.rule, v.section) for v in self.violations]

    def item(self, item_id: int) -> ItemInfo:
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise QAError("Item {item} is not on this scorecard version.", item=item_id)

    def section(self, code: str) -> SectionInfo:
        return next(s for s in self.sections if s.code == code)

    @property
    def label(self) -> str:
        return f"{pick(self, 'name')} v{self.version}"


def load_version(session: Session, version_id: int) -> VersionSpec:
    row = session.exec(
        select(ScorecardVersion, Scorecard)
        .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
        .where(ScorecardVersion.id == version_id)
    ).first()
    if row is None:
        raise QAError("No such scorecard version.")
    version, card = row
    spec = VersionSpec(
        version_id=version.id,  # type: ignore[arg-type]
        scorecard_id=card.id,  # type: ignore[arg-type]
        scorecard_code=card.code,
        stream=card.stream,
        name_en=card.name_en,
        name_zh=card.name_zh,
        version=version.version,
        status=version.status,
        pass_mark=version.pass_mark,
    )
    sections = session.exec(
        select(ScorecardSection)
        .where(ScorecardSection.version_id == version_id)
        .order_by(ScorecardSection.position, ScorecardSection.id)
    ).all()
    code_of = {s.id: s.code for s in sections}
    spec.sections = [SectionInfo(s.id, s.code, s.name_en, s.name_zh, s.weight, s.position) for s in sections]  # type: ignore[arg-type]
    if code_of:
        items = session.exec(
            select(ScorecardItem)
            .where(ScorecardItem.section_id.in_(list(code_of)))  # type: ignore[attr-defined]
            .order_by(ScorecardItem.section_id, ScorecardItem.position, ScorecardItem.id)
        ).all()
        order = {s.id: s.position for s in sections}
        items = sorted(items, key=lambda i: (order[i.section_id], i.position, i.id))
        spec.items = [
            ItemInfo(
                i.id,  # type: ignore[arg-type]
                i.code,
                code_of[i.section_id],
                i.text_en,
                i.text_zh,
                i.kind,
                i.max_points,
                i.na_allowed,
                i.guidance_en,
                i.guidance_zh,
                i.position,
            )
            for i in items
        ]
    violations = session.exec(
        select(ScorecardViolation).where(ScorecardViolation.version_id == version_id).order_by(ScorecardViolation.id)
    ).all()
    spec.violations = [
        ViolationInfo(v.id, v.code, v.text_en, v.text_zh, v.rule, code_of.get(v.section_id) if v.section_id else None)  # type: ignore[arg-type]
        for v in violations
    ]
    return spec


def active_version_id(session: Session, stream: str) -> int | None:
    """The active scorecard version for a stream (the first scorecard of the stream with one)."""
    return session.exec(
        select(ScorecardVersion.id)
        .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
        .where(Scorecard.stream == stream, ScorecardVersion.status == "active")
        .order_by(Scorecard.id, ScorecardVersion.version.desc())  # type: ignore[attr-defined]
    ).first()


def call_window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds [from, to) of the Asia/Shanghai calendar days start..end inclusive."""
    return local_midnight_utc(start), local_midnight_utc(end + dt.timedelta(days=1))


def and_all(*conds: Any) -> Any:
    return and_(*[c for c in conds if c is not None])


def or_any(*conds: Any) -> Any:
    return or_(*conds)


# ---------------------------------------------------------------- readable labels for codes

CODE_LABELS: dict[str, str] = {
    "maintenance": "Maintenance",
    "ob": "OB",
    "onboarding_visit": "Onboarding visit",
    "rights_notification": "Rights notification",
    "care": "Care",
    "retention": "Retention",
    "winback": "Win-back",
    "complaint_followup": "Complaint follow-up",
    "upsell": "Upsell",
    "campaign": "Campaign",
    "renewal": "Renewal",
    "connected": "Connected",
    "no_answer": "No answer",
    "busy": "Busy",
    "refused": "Refused",
    "wrong_number": "Wrong number",
    "callback_requested": "Callback requested",
    "success": "Success",
    "declined": "Declined",
    "escalated": "Escalated",
    "pending": "Pending",
    "draft": "Draft",
    "submitted": "Submitted",
    "acknowledged": "Acknowledged",
    "disputed": "Disputed",
    "resolved": "Resolved",
    "open": "Unresolved",
    "upheld": "Upheld",
    "adjusted": "Adjusted",
    "overturned": "Overturned",
    "active": "Active",
    "retired": "Retired",
    "calibration": "Calibration",
    "training": "Training",
    "regular": "Regular",
    "expert_key": "Expert key",
    "fail_all": "fail_all",
    "fail_section": "fail_section",
    "yes_no": "yes/no",
    "scale": "scale",
}


def label(code: str | None) -> str:
    """A code (stream, call type, outcome, status...) in words, in the current language."""
    if code is None:
        return ""
    return t(CODE_LABELS.get(code, code))
