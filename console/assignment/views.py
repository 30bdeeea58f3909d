"""Reads for the Assignment page: workload, VIP list, history, batches, SLAs, Home tiles.

Aggregates in SQL, pages long lists; a client manager sees only their own portfolio (enforced here).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from console.assignment.rules import (
    BATCH_LABELS,
    LEVELS,
    REASON_LABELS,
    STATUS_LABELS,
    Ladder,
    Manager,
    level_allows,
)
from console.assignment.services import live_cover_rows, load_ladder, load_managers, portfolio_counts
from console.assignment.sla import (
    SLA_KINDS,
    customer_state_stmt,
    due_from_ref,
    items_stmt,
    manager_summary_stmt,
    unassigned_binding_stmt,
)
from console.audit import query
from console.home import Tile
from console.i18n import t
from console.masking import looks_like_full_phone, mask_phone, normalise_phone
from console.permissions import Actor, PermissionDenied
from models import Assignment, AssignmentBatch, Customer, Staff, Team, User

EXPORT_LIMIT = 100_000
SORTS = ("utilisation", "load", "vips", "code", "name")


@dataclass
class Page:
    total: int
    rows: pd.DataFrame


def own_manager(actor: Actor) -> int | None:
    """A client manager's own staff id (their scope); None for supervisors (everything)."""
    if actor.role != "client_manager":
        return None
    if actor.staff_id is None:
        raise PermissionDenied(t("Your login is not linked to a client manager."))
    return actor.staff_id


# ------------------------------------------------------------------------------------------------ workload


WORKLOAD_COLUMNS = [
    "manager_id",
    "code",
    "name",
    "level",
    "team",
    "region",
    "status",
    "status_detail",
    *[f"tier_{r}" for r in range(1, 6)],
    "vips",
    "load",
    "capacity",
    "utilisation",
    "flags",
    "flagged",
]


@dataclass
class WorkloadView:
    total: int
    rows: pd.DataFrame  # the page shown
    chart: pd.DataFrame  # every manager that matches the filters
    flagged: int
    over_cap: int
    ladder: Ladder | None = None
    teams: list[tuple[int, str]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)


def _flags(m: Manager, counts: dict[int, int], ladder: Ladder, uncovered: int, today: dt.date) -> list[str]:
    flags: list[str] = []
    if m.load > m.capacity:
        flags.append(t("Over capacity by {units} units", units=m.load - m.capacity))
    for rank, n in sorted(counts.items()):
        if n and not level_allows(m.level, rank, ladder):
            flags.append(
                t(
                    "Holds {count} {tier} that a {level} manager may not hold",
                    count=n,
                    tier=ladder.name(rank),
                    level=t(m.level or "none"),
                )
            )
    if m.status == "on_leave" and uncovered:
        flags.append(t("On leave with {count} VIPs not covered", count=uncovered))
    if m.status == "exiting" and sum(counts.values()):
        flags.append(
            t("Leaving on {date} with {count} VIPs still assigned", date=m.exit_date, count=sum(counts.values()))
        )
    if m.status == "inactive" and sum(counts.values()):
        flags.append(t("Inactive but holds {count} VIPs", count=sum(counts.values())))
    return flags


@query("assignment.read")
def workload(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    team_id: int | None = None,
    region: str | None = None,
    level: str | None = None,
    tier: int | None = None,
    status: str | None = None,
    flagged_only: bool = False,
    sort: str = "utilisation",
    descending: bool = True,
    offset: int = 0,
    limit: int | None = 50,
) -> WorkloadView:
    """Every client manager: level, team, region, status, VIPs by tier, load, capacity, utilisation, flags."""
    own = own_manager(actor)
    ladder = load_ladder(session, today)
    counts = portfolio_counts(session)
    managers = load_managers(session, ladder, today, counts=counts)
    teams = dict(session.execute(select(Team.__table__.c.id, Team.__table__.c.name)).all())
    covers = live_cover_rows(session)
    covered_by: dict[int, set[str]] = defaultdict(set)
    covering: dict[int, set[str]] = defaultdict(set)
    for _aid, _cid, home, cover, *_ in covers:
        if home in managers and cover in managers:
            covered_by[home].add(managers[cover].code)
            covering[cover].add(managers[home].code)
    rows: list[dict[str, Any]] = []
    for m in managers.values():
        if own is not None and m.id != own:
            continue
        mc = counts.get(m.id, {})
        vips = sum(mc.values())
        detail = ""
        if m.status == "on_leave":
            detail = t("On leave {start} – {end}", start=m.leave_start, end=m.leave_end or "?")
            if covered_by.get(m.id):
                detail += " · " + t("covered by {codes}", codes=", ".join(sorted(covered_by[m.id])))
        elif m.status == "exiting":
            detail = t("Leaving on {date}", date=m.exit_date)
        elif m.leave_start and m.leave_start > today:
            detail = t("Leave planned {start} – {end}", start=m.leave_start, end=m.leave_end or "?")
        if covering.get(m.id):
            detail = (detail + " · " if detail else "") + t(
                "covering for {codes}", codes=", ".join(sorted(covering[m.id]))
            )
        flags = _flags(m, mc, ladder, vips, today)
        rows.append(
            {
                "manager_id": m.id,
                "code": m.code,
                "name": m.name,
                "level": m.level or "",
                "team": teams.get(m.team_id, "") if m.team_id else "",
                "team_id": m.team_id,
                "region": m.region or "",
                "status": m.status,
                "status_detail": detail,
                **{f"tier_{r}": mc.get(r, 0) for r in range(1, 6)},
                "vips": vips,
                "load": m.load,
                "capacity": m.capacity,
                "utilisation": m.utilisation() if m.capacity else 0.0,
                "flags": "; ".join(flags),
                "flagged": bool(flags),
            }
        )
    frame = pd.DataFrame(rows, columns=[*WORKLOAD_COLUMNS, "team_id"])
    all_teams = sorted({(int(r["team_id"]), r["team"]) for r in rows if r["team_id"]}, key=lambda x: x[1])
    all_regions = sorted({r["region"] for r in rows if r["region"]})
    if team_id is not None:
        frame = frame[frame["team_id"] == team_id]
    if region:
        frame = frame[frame["region"] == region]
    if level:
        frame = frame[frame["level"] == level]
    if tier is not None:
        frame = frame[frame["level"].map(lambda lv: level_allows(lv or None, tier, ladder))]
    if status:
        frame = frame[frame["status"] == status]
    if flagged_only:
        frame = frame[frame["flagged"]]
    key = sort if sort in SORTS else "utilisation"
    frame = frame.sort_values([key, "code"], ascending=[not descending, True], kind="stable")
    total = len(frame)
    chart = frame[["code", "name", "utilisation", "load", "capacity", "status", "flagged", "level"]].copy()
    shown = frame if limit is None else frame.iloc[offset : offset + limit]
    page = shown.drop(columns=["team_id"]).reset_index(drop=True)
    return WorkloadView(
        total=total,
        rows=page,
        chart=chart.reset_index(drop=True),
        flagged=int(frame["flagged"].sum()) if total else 0,
        over_cap=int((frame["load"] > frame["capacity"]).sum()) if total else 0,
        ladder=ladder,
        teams=all_teams,
        regions=all_regions,
    )


@query("assignment.read")
def workload_options(*, session: Session, actor: Actor) -> tuple[list[tuple[int, str]], list[str]]:
    """Filter options: the teams and regions that client managers belong to."""
    st = Staff.__table__
    tm = Team.__table__
    base = (st.c.role == "client_manager", st.c.is_training == false())
    teams = session.execute(
        select(tm.c.id, tm.c.name).where(tm.c.id.in_(select(st.c.team_id).where(*base))).order_by(tm.c.name)
    ).all()
    regions = session.execute(
        select(st.c.region).where(*base, st.c.region.is_not(None)).distinct().order_by(st.c.region)
    ).scalars()
    return [(int(i), str(n)) for i, n in teams], [str(r) for r in regions]


@query("assignment.read")
def manager_choices(*, session: Session, actor: Actor, today: dt.date) -> list[tuple[int, str]]:
    """(id, 'CODE · name (level)') of every client manager, for filters and forms."""
    own = own_manager(actor)
    ladder = load_ladder(session, today)
    out = []
    for m in load_managers(session, ladder, today).values():
        if own is not None and m.id != own:
            continue
        suffix = "" if m.status == "active" else f" — {t(STATUS_LABELS[m.status])}"
        out.append((m.id, f"{m.code} · {m.name} ({t(m.level or 'none')}){suffix}"))
    return out


@query("assignment.read")
def tier_ladder(*, session: Session, actor: Actor, today: dt.date) -> Ladder:
    """The ladder in force (tier names, units) for drawing."""
    return load_ladder(session, today)


@query("assignment.read")
def leave_managers(*, session: Session, actor: Actor, today: dt.date) -> list[tuple[int, dt.date, dt.date | None]]:
    """Client managers with a current or planned leave: (id, first day, last day)."""
    own = own_manager(actor)
    st = Staff.__table__
    stmt = (
        select(st.c.id, st.c.leave_start, st.c.leave_end)
        .where(
            st.c.role == "client_manager",
            st.c.leave_start.is_not(None),
            or_(st.c.leave_end.is_(None), st.c.leave_end >= today),
        )
        .order_by(st.c.leave_start, st.c.code)
    )
    if own is not None:
        stmt = stmt.where(st.c.id == own)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt).all()]


# ------------------------------------------------------------------------------------------------ VIP list


VIP_COLUMNS = [
    "customer_id",
    "code",
    "name",
    "phone",
    "tier_rank",
    "tier",
    "region",
    "manager_id",
    "manager",
    "assigned_at",
    "waiting_since",
    "binding_due",
    "sla_state",
    "next_due",
    "version",
]


@query("assignment.read")
def vip_list(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    search: str | None = None,
    tier: int | None = None,
    manager_id: int | None = None,
    unassigned: bool = False,
    sla_state: str | None = None,
    offset: int = 0,
    limit: int = 50,
    with_total: bool = True,
) -> Page:
    """VIPs (tier above Member) by code, name or full phone number; phone numbers come back masked."""
    own = own_manager(actor)
    ladder = load_ladder(session, today)
    c = Customer.__table__
    s = Staff.__table__
    stmt = select(
        c.c.id,
        c.c.code,
        c.c.name,
        c.c.phone,
        c.c.tier_rank,
        c.c.region,
        c.c.manager_id,
        s.c.code.label("manager_code"),
        s.c.name.label("manager_name"),
        c.c.assigned_at,
        c.c.waiting_since,
        c.c.binding_due,
        c.c.assignment_version,
    ).select_from(c.outerjoin(s, s.c.id == c.c.manager_id))
    conds = [c.c.tier_rank > 0, c.c.is_training == false()]
    if own is not None:
        conds.append(c.c.manager_id == own)
    elif unassigned:
        conds.append(c.c.manager_id.is_(None))
    elif manager_id is not None:
        conds.append(c.c.manager_id == manager_id)
    if tier is not None:
        conds.append(c.c.tier_rank == tier)
    text = (search or "").strip()
    if text:
        if looks_like_full_phone(text):
            conds.append(c.c.phone == normalise_phone(text))
        else:
            conds.append(
                or_(
                    func.upper(c.c.code).startswith(text.upper(), autoescape=True),
                    c.c.name.contains(text, autoescape=True),
                )
            )
    stmt = stmt.where(and_(*conds))
    states: Any = None
    if sla_state:
        states = customer_state_stmt(ladder, today, manager_id=own).subquery("states")
        stmt = stmt.join(states, states.c.customer_id == c.c.id).where(states.c.state == sla_state)
    total = _count(session, stmt) if with_total else -1
    if limit == 0:
        return Page(total=total, rows=pd.DataFrame())
    if states is not None:
        stmt = stmt.order_by(states.c.next_due, c.c.code)
    elif unassigned:
        stmt = stmt.order_by(c.c.tier_rank.desc(), c.c.waiting_since, c.c.code)
    else:
        stmt = stmt.order_by(c.c.tier_rank.desc(), c.c.code)
    rows = session.execute(stmt.offset(offset).limit(limit)).all()
    ids = [r.id for r in rows]
    state_of: dict[int, tuple[str, Any]] = {}
    if ids:
        for cid, state, next_due in session.execute(customer_state_stmt(ladder, today, customer_ids=ids)).all():
            state_of[cid] = (state, next_due)
    records = []
    for r in rows:
        state, next_due = state_of.get(r.id, ("on_track", None))
        records.append(
            {
                "customer_id": r.id,
                "code": r.code,
                "name": r.name,
                "phone": mask_phone(r.phone),
                "tier_rank": int(r.tier_rank),
                "tier": ladder.name(int(r.tier_rank)),
                "region": r.region or "",
                "manager_id": r.manager_id,
                "manager": f"{r.manager_code} · {r.manager_name}" if r.manager_code else "",
                "assigned_at": r.assigned_at,
                "waiting_since": r.waiting_since if r.manager_id is None else None,
                "binding_due": r.binding_due,
                "sla_state": state,
                "next_due": _as_date(next_due),
                "version": int(r.assignment_version),
            }
        )
    return Page(total=total, rows=pd.DataFrame(records, columns=VIP_COLUMNS))


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


# ------------------------------------------------------------------------------------------------ history


HISTORY_COLUMNS = [
    "id",
    "at",
    "vip_code",
    "vip_name",
    "from_manager",
    "to_manager",
    "reason",
    "by",
    "batch_id",
    "batch_kind",
    "note",
]


def _history_stmt(
    actor: Actor,
    *,
    customer_code: str | None,
    manager_id: int | None,
    batch_id: int | None,
    reason: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> Any:
    from console.timeutil import local_midnight_utc

    own = own_manager(actor)
    a = Assignment.__table__
    c = Customer.__table__
    f = aliased(Staff.__table__)
    to = aliased(Staff.__table__)
    u = User.__table__
    b = AssignmentBatch.__table__
    stmt = select(
        a.c.id,
        a.c.at,
        c.c.code.label("vip_code"),
        c.c.name.label("vip_name"),
        f.c.code.label("from_code"),
        f.c.name.label("from_name"),
        to.c.code.label("to_code"),
        to.c.name.label("to_name"),
        a.c.reason,
        u.c.username,
        a.c.batch_id,
        b.c.kind.label("batch_kind"),
        a.c.note,
    ).select_from(
        a.join(c, c.c.id == a.c.customer_id)
        .outerjoin(f, f.c.id == a.c.from_manager_id)
        .outerjoin(to, to.c.id == a.c.to_manager_id)
        .outerjoin(u, u.c.id == a.c.by_user_id)
        .outerjoin(b, b.c.id == a.c.batch_id)
    )
    who = own if own is not None else manager_id
    if who is not None:
        stmt = stmt.where(or_(a.c.from_manager_id == who, a.c.to_manager_id == who))
    if customer_code:
        stmt = stmt.where(func.upper(c.c.code) == customer_code.strip().upper())
    if batch_id is not None:
        stmt = stmt.where(a.c.batch_id == batch_id)
    if reason:
        stmt = stmt.where(a.c.reason == reason)
    if date_from is not None:
        stmt = stmt.where(a.c.at >= local_midnight_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(a.c.at < local_midnight_utc(date_to + dt.timedelta(days=1)))
    return stmt


def _history_frame(rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "at": r.at,
                "vip_code": r.vip_code,
                "vip_name": r.vip_name,
                "from_manager": f"{r.from_code} · {r.from_name}" if r.from_code else "",
                "to_manager": f"{r.to_code} · {r.to_name}" if r.to_code else "",
                "reason": r.reason,
                "by": r.username or t("the system"),
                "batch_id": r.batch_id,
                "batch_kind": r.batch_kind or "",
                "note": r.note or "",
            }
            for r in rows
        ],
        columns=HISTORY_COLUMNS,
    )


@query("assignment.read")
def history(
    *,
    session: Session,
    actor: Actor,
    customer_code: str | None = None,
    manager_id: int | None = None,
    batch_id: int | None = None,
    reason: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    offset: int = 0,
    limit: int = 50,
    with_total: bool = True,
) -> Page:
    """The append-only history, newest first: who, from, to, when, reason, batch."""
    stmt = _history_stmt(
        actor,
        customer_code=customer_code,
        manager_id=manager_id,
        batch_id=batch_id,
        reason=reason,
        date_from=date_from,
        date_to=date_to,
    )
    total = _count(session, stmt) if with_total else -1
    if limit == 0:
        return Page(total=total, rows=pd.DataFrame())
    a = Assignment.__table__
    rows = session.execute(stmt.order_by(a.c.id.desc()).offset(offset).limit(limit)).all()
    return Page(total=total, rows=_history_frame(list(rows)))


@query("assignment.read")
def history_export(
    *,
    session: Session,
    actor: Actor,
    customer_code: str | None = None,
    manager_id: int | None = None,
    batch_id: int | None = None,
    reason: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> pd.DataFrame:
    """The filtered history for a download (newest first, at most EXPORT_LIMIT rows), labels translated."""
    stmt = _history_stmt(
        actor,
        customer_code=customer_code,
        manager_id=manager_id,
        batch_id=batch_id,
        reason=reason,
        date_from=date_from,
        date_to=date_to,
    )
    a = Assignment.__table__
    frame = _history_frame(list(session.execute(stmt.order_by(a.c.id.desc()).limit(EXPORT_LIMIT)).all()))
    frame["reason"] = frame["reason"].map(lambda r: t(REASON_LABELS.get(r, r)))
    frame["batch_kind"] = frame["batch_kind"].map(lambda k: t(BATCH_LABELS[k]) if k in BATCH_LABELS else k)
    return frame


@query("assignment.read")
def batches(
    *,
    session: Session,
    actor: Actor,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 20,
    with_total: bool = True,
) -> Page:
    """Recent batches (newest first); a client manager sees those that touched their portfolio."""
    own = own_manager(actor)
    b = AssignmentBatch.__table__
    a = Assignment.__table__
    u = User.__table__
    stmt = select(
        b.c.id, b.c.kind, b.c.created_at, u.c.username, b.c.moves, b.c.note, b.c.undone_by_batch_id
    ).select_from(b.outerjoin(u, u.c.id == b.c.by_user_id))
    if kind:
        stmt = stmt.where(b.c.kind == kind)
    if own is not None:
        touched = select(a.c.batch_id).where(or_(a.c.from_manager_id == own, a.c.to_manager_id == own))
        stmt = stmt.where(b.c.id.in_(touched))
    total = _count(session, stmt) if with_total else -1
    if limit == 0:
        return Page(total=total, rows=pd.DataFrame())
    rows = session.execute(stmt.order_by(b.c.id.desc()).offset(offset).limit(limit)).all()
    frame = pd.DataFrame(
        [
            {
                "id": r.id,
                "kind": r.kind,
                "created_at": r.created_at,
                "by": r.username or t("the system"),
                "moves": r.moves,
                "note": r.note or "",
                "undone_by": r.undone_by_batch_id,
            }
            for r in rows
        ],
        columns=["id", "kind", "created_at", "by", "moves", "note", "undone_by"],
    )
    return Page(total=total, rows=frame)


# ------------------------------------------------------------------------------------------------ SLAs


SLA_SUMMARY_COLUMNS = [
    "manager_id",
    "manager",
    "vips",
    *[f"{k}_{w}" for k in ("binding", "sms", "first", "regular") for w in ("breached", "soon")],
    "breached",
    "due_soon",
]


@dataclass
class SlaOverview:
    per_manager: pd.DataFrame
    breached: int
    due_soon: int
    unassigned_breached: int
    unassigned_soon: int
    unassigned: int
    oldest_waiting: dt.datetime | None


@query("assignment.read")
def sla_overview(*, session: Session, actor: Actor, today: dt.date) -> SlaOverview:
    """Per manager: SLA items breached and due in the next 7 days; plus the unassigned VIPs' binding."""
    own = own_manager(actor)
    ladder = load_ladder(session, today)
    names = {m.id: f"{m.code} · {m.name}" for m in load_managers(session, ladder, today).values()}
    rows = []
    for r in session.execute(manager_summary_stmt(ladder, today, manager_id=own)).all():
        data = dict(r._mapping)
        rec = {
            "manager_id": data["manager_id"],
            "manager": names.get(data["manager_id"], str(data["manager_id"])),
            "vips": int(data["vips"] or 0),
        }
        for k in ("binding", "sms", "first", "regular"):
            for w in ("breached", "soon"):
                rec[f"{k}_{w}"] = int(data[f"{k}_{w}"] or 0)
        rec["breached"] = sum(rec[f"{k}_breached"] for k in ("binding", "sms", "first", "regular"))
        rec["due_soon"] = sum(rec[f"{k}_soon"] for k in ("binding", "sms", "first", "regular"))
        rows.append(rec)
    frame = pd.DataFrame(rows, columns=SLA_SUMMARY_COLUMNS)
    if not frame.empty:
        frame = frame.sort_values(["breached", "due_soon", "manager"], ascending=[False, False, True]).reset_index(
            drop=True
        )
    un = (0, 0, 0, None)
    if own is None:
        r = session.execute(unassigned_binding_stmt(today)).one()
        un = (int(r.vips or 0), int(r.binding_breached or 0), int(r.binding_soon or 0), r.oldest_waiting)
    return SlaOverview(
        per_manager=frame,
        breached=int(frame["breached"].sum()) + un[1] if not frame.empty else un[1],
        due_soon=int(frame["due_soon"].sum()) + un[2] if not frame.empty else un[2],
        unassigned=un[0],
        unassigned_breached=un[1],
        unassigned_soon=un[2],
        oldest_waiting=un[3],
    )


SLA_ITEM_COLUMNS = ["customer_id", "code", "name", "tier", "manager", "kind", "due", "days"]


@query("assignment.read")
def sla_items(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    which: str = "breached",
    manager_id: int | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 50,
    with_total: bool = True,
) -> Page:
    """Open SLA items breached (which='breached') or due in the next 7 days (which='due_soon'), by due date."""
    if which not in ("breached", "due_soon"):
        raise ValueError("which must be breached or due_soon")
    own = own_manager(actor)
    ladder = load_ladder(session, today)
    items = items_stmt(ladder, today, manager_id=own if own is not None else manager_id, which=which)
    c = Customer.__table__
    s = Staff.__table__
    stmt = select(
        items.c.customer_id,
        items.c.kind,
        items.c.ref_day,
        c.c.code,
        c.c.name,
        c.c.tier_rank,
        s.c.code.label("manager_code"),
    ).select_from(items.join(c, c.c.id == items.c.customer_id).outerjoin(s, s.c.id == items.c.manager_id))
    if kind in SLA_KINDS:
        stmt = stmt.where(items.c.kind == kind)
    if own is None and manager_id is not None:
        stmt = stmt.where(items.c.manager_id == manager_id)
    total = _count(session, stmt) if with_total else -1
    if limit == 0:
        return Page(total=total, rows=pd.DataFrame())
    rows = session.execute(stmt.order_by(items.c.ref_day, c.c.code, items.c.kind).offset(offset).limit(limit)).all()
    records = []
    for r in rows:
        due = due_from_ref(r.kind, _as_date(r.ref_day))
        records.append(
            {
                "customer_id": r.customer_id,
                "code": r.code,
                "name": r.name,
                "tier": ladder.name(int(r.tier_rank)),
                "manager": r.manager_code or t("(unassigned)"),
                "kind": r.kind,
                "due": due,
                "days": (today - due).days if due else None,
            }
        )
    return Page(total=total, rows=pd.DataFrame(records, columns=SLA_ITEM_COLUMNS))


# ------------------------------------------------------------------------------------------------ Home


_TILE_TTL_SECONDS = 60.0
_tile_cache: dict[tuple[str, str, int | None, dt.date], tuple[float, list[Tile]]] = {}


def clear_tile_cache() -> None:
    _tile_cache.clear()


def home_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    """Supervisor/admin: SLA breaches and unassigned VIPs past their binding due date.
    Client manager: contacts due in the next 7 days and breached items of their own portfolio.

    The SLA figures aggregate every assigned VIP's contacts, so Home keeps them for a minute per role
    (an assignment write in this process clears them at once)."""
    import time

    key = (str(session.get_bind().url), actor.role, actor.staff_id, today)
    hit = _tile_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _TILE_TTL_SECONDS:
        return hit[1]
    tiles = _home_tiles(session=session, actor=actor, today=today)
    _tile_cache[key] = (time.monotonic(), tiles)
    return tiles


def _home_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    if actor.role in ("admin", "supervisor"):
        overview = sla_overview(session=session, actor=actor, today=today)
        waiting = ""
        if overview.oldest_waiting is not None:
            from console.timeutil import local_date

            days = (today - local_date(overview.oldest_waiting)).days
            waiting = t("Longest wait: {days} days.", days=days)
        return [
            Tile(
                label="SLA breaches",
                value=f"{overview.breached:,}",
                page="assignment",
                help="Binding, notice SMS, first and regular contact items past their due date.",
                alert=overview.breached > 0,
            ),
            Tile(
                label="Unassigned VIPs past binding due",
                value=f"{overview.unassigned_breached:,}",
                page="assignment",
                help=waiting or "Unassigned VIPs whose binding SLA (3 working days) has passed.",
                alert=overview.unassigned_breached > 0,
            ),
        ]
    if actor.role == "client_manager" and actor.staff_id is not None:
        overview = sla_overview(session=session, actor=actor, today=today)
        frame = overview.per_manager
        due = int(frame[["sms_soon", "first_soon", "regular_soon"]].sum().sum()) if not frame.empty else 0
        return [
            Tile(
                label="My contacts due (7 days)",
                value=f"{due:,}",
                page="assignment",
                help="Notice SMS, first and regular contacts due in the next 7 days.",
            ),
            Tile(
                label="My SLA breaches",
                value=f"{overview.breached:,}",
                page="assignment",
                help="Contacts of your portfolio past their due date.",
                alert=overview.breached > 0,
            ),
        ]
    return []


def level_options() -> list[str]:
    return list(LEVELS)
