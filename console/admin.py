"""Admin reads: users, the audit log (filtered, paged), reference data views."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, func, select

from console.audit import query
from console.i18n import pick
from console.permissions import Actor
from console.tiers_ref import current_ladder
from console.timeutil import local_midnight_utc
from models import (
    AuditLog,
    ChecklistTemplate,
    DisciplineRule,
    GuardPost,
    ReceptionLevel,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    Staff,
    Team,
    TemplateItem,
    User,
)


@query("users.list")
def list_users(*, session: Session, actor: Actor) -> pd.DataFrame:
    rows = session.exec(
        select(User, Staff, Team)
        .join(Staff, Staff.id == User.staff_id, isouter=True)
        .join(Team, Team.id == Staff.team_id, isouter=True)
        .order_by(User.username)
    ).all()
    return pd.DataFrame(
        [
            {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "staff": s.name if s else None,
                "staff_code": s.code if s else None,
                "team": t.name if t else None,
                "department": s.department if s else None,
                "team_id": s.team_id if s else None,
                "active": u.active,
                "must_change_password": u.must_change_password,
                "locked_until": u.locked_until,
                "last_login_at": u.last_login_at,
            }
            for u, s, t in rows
        ],
        columns=[
            "id",
            "username",
            "role",
            "staff",
            "staff_code",
            "team",
            "department",
            "team_id",
            "active",
            "must_change_password",
            "locked_until",
            "last_login_at",
        ],
    )


@query("users.list")
def staff_without_login(*, session: Session, actor: Actor, search: str = "", limit: int = 200) -> list[tuple[int, str]]:
    """Staff members who have no login yet, for linking a new user."""
    stmt = select(Staff.id, Staff.code, Staff.name, Staff.role).where(
        Staff.id.not_in(select(User.staff_id).where(User.staff_id.is_not(None)))  # type: ignore[union-attr]
    )
    if search:
        like = f"%{search.strip()}%"
        stmt = stmt.where((Staff.name.like(like)) | (Staff.code.like(like)))  # type: ignore[attr-defined]
    rows = session.exec(stmt.order_by(Staff.code).limit(limit)).all()
    return [(sid, f"{code} · {name} · {role}") for sid, code, name, role in rows]


@query("users.list")
def team_options(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    return [(tm.id, f"{tm.name} · {tm.stream}") for tm in session.exec(select(Team).order_by(Team.code)).all()]  # type: ignore[misc]


@dataclass
class AuditPage:
    rows: pd.DataFrame
    total: int


@query("audit.read")
def audit_log(
    *,
    session: Session,
    actor: Actor,
    actor_name: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AuditPage:
    conds = []
    if actor_name:
        conds.append(AuditLog.actor == actor_name)
    if action:
        conds.append(AuditLog.action == action)
    if entity:
        conds.append(AuditLog.entity == entity)
    if date_from:
        conds.append(AuditLog.at >= local_midnight_utc(date_from))
    if date_to:
        conds.append(AuditLog.at < local_midnight_utc(date_to + dt.timedelta(days=1)))
    total = session.exec(select(func.count()).select_from(AuditLog).where(*conds)).one()
    rows = session.exec(
        select(AuditLog).where(*conds).order_by(AuditLog.at.desc(), AuditLog.id.desc()).offset(offset).limit(limit)  # type: ignore[attr-defined]
    ).all()
    df = pd.DataFrame(
        [
            {
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "entity": r.entity,
                "entity_id": r.entity_id,
                "batch": r.batch,
                "params": r.params,
                "counts": r.counts,
                "before": r.before,
                "after": r.after,
            }
            for r in rows
        ],
        columns=["at", "actor", "action", "entity", "entity_id", "batch", "params", "counts", "before", "after"],
    )
    return AuditPage(rows=df, total=int(total))


@query("audit.read")
def audit_filter_options(*, session: Session, actor: Actor) -> dict[str, list[str]]:
    def distinct(col) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(v for v in session.exec(select(col).distinct()).all() if v)

    return {
        "actors": distinct(AuditLog.actor),
        "actions": distinct(AuditLog.action),
        "entities": distinct(AuditLog.entity),
    }


@query("reference.read")
def reference_tables(*, session: Session, actor: Actor, today: dt.date) -> dict[str, pd.DataFrame]:
    """Read-only views of the reference data, one DataFrame per kind."""
    tiers = pd.DataFrame(
        [
            {
                "rank": t.rank,
                "name": pick(t, "name"),
                "spend_yuan": None if t.min_spend_fen is None else t.min_spend_fen // 100,
                "purchases": t.min_purchases,
                "both": t.require_both,
                "ratio": t.ratio,
                "units": t.units,
                "contact_days": t.contact_days,
                "effective_from": t.effective_from,
            }
            for t in current_ladder(session, today)
        ]
    )
    cards = []
    for sc, ver in session.exec(
        select(Scorecard, ScorecardVersion)
        .join(ScorecardVersion, ScorecardVersion.scorecard_id == Scorecard.id)
        .order_by(Scorecard.code, ScorecardVersion.version)
    ).all():
        n_sections = session.exec(
            select(func.count()).select_from(ScorecardSection).where(ScorecardSection.version_id == ver.id)
        ).one()
        n_items = session.exec(
            select(func.count())
            .select_from(ScorecardItem)
            .join(ScorecardSection, ScorecardSection.id == ScorecardItem.section_id)
            .where(ScorecardSection.version_id == ver.id)
        ).one()
        cards.append(
            {
                "name": pick(sc, "name"),
                "stream": sc.stream,
                "version": ver.version,
                "status": ver.status,
                "pass_mark": ver.pass_mark,
                "sections": n_sections,
                "items": n_items,
            }
        )
    levels = pd.DataFrame(
        [
            {
                "level": lv.level,
                "name": pick(lv, "name"),
                "applies_to": pick(lv, "applies_to"),
                "reinforcements": lv.reinforcements,
                "on_duty": lv.on_duty,
                "shift_groups": lv.shift_groups,
                "rotation_hours": lv.rotation_hours,
                "posts": lv.post_count,
                "post_list": "; ".join(
                    f"{p.number}. {pick(p, 'location')}"
                    for p in session.exec(
                        select(GuardPost).where(GuardPost.level_id == lv.id).order_by(GuardPost.number)
                    )
                ),
            }
            for lv in session.exec(select(ReceptionLevel).order_by(ReceptionLevel.level)).all()
        ]
    )
    templates = pd.DataFrame(
        [
            {
                "code": tp.code,
                "name": pick(tp, "name"),
                "version": tp.version,
                "status": tp.status,
                "items": session.exec(
                    select(func.count()).select_from(TemplateItem).where(TemplateItem.template_id == tp.id)
                ).one(),
            }
            for tp in session.exec(
                select(ChecklistTemplate).order_by(ChecklistTemplate.code, ChecklistTemplate.version)
            ).all()
        ]
    )
    rules = pd.DataFrame(
        [
            {"code": r.code, "category": r.category, "rule": pick(r, "text"), "points": r.points, "source": r.source}
            for r in session.exec(select(DisciplineRule).order_by(DisciplineRule.code)).all()
        ]
    )
    return {
        "tiers": tiers,
        "scorecards": pd.DataFrame(cards),
        "levels": levels,
        "templates": templates,
        "discipline": rules,
    }
