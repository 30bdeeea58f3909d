"""Assignment services: previews (reads) and commands (writes, one audit row each).

Every write goes through `_apply_moves`: it takes the locks, writes each VIP's new manager guarded by the
version it was loaded or previewed with (assignment_version), checks the resulting state (every target
eligible and at or under its capacity), and only then adds the batch and one append-only Assignment row per
move. Any failed guard or check raises Refused/Stale with the reason, and the command's transaction is rolled
back, so nothing is saved. No code path updates or deletes an Assignment row.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import case, exists, false, func, select, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from console import audit
from console.assignment.rules import (
    MANUAL_REASONS,
    Ladder,
    Manager,
    Move,
    Plan,
    Refused,
    Stale,
    Unplaced,
    Vip,
    capacity_problems,
    describe_refusal,
    leave_overlaps,
    level_allows,
    manager_status,
    plan_placements,
    plan_rebalance,
    refusal,
    utilisation,
)
from console.audit import command, query
from console.i18n import t
from console.permissions import Actor
from console.tiers_ref import current_ladder
from console.timeutil import local_datetime, today_local, utcnow
from models import Assignment, AssignmentBatch, Customer, Staff, User

CHUNK = 900  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
MAX_EXAMPLES = 5


def _chunks(values: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@contextmanager
def _bulk() -> Iterator[None]:
    """No cyclic garbage collection while a batch of tens of thousands of rows is planned or written: the
    collector would otherwise walk every new object repeatedly (about a fifth of a large batch's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _fmt_time(value: dt.datetime | None) -> str:
    return "?" if value is None else local_datetime(value).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------------------------------ loading


def load_ladder(session: Session, today: dt.date) -> Ladder:
    return Ladder.from_rows(current_ladder(session, today))


def portfolio_counts(session: Session, ids: Iterable[int] | None = None) -> dict[int, dict[int, int]]:
    """VIPs per manager and tier: manager id -> {tier rank: count}.

    Read from the (tier_rank, manager_id) index alone, so it stays fast at 200,000 customers. Training
    customers are never assigned to a manager, so they need no filter here.
    """
    c = Customer.__table__
    stmt = (
        select(c.c.manager_id, c.c.tier_rank, func.count())
        .where(c.c.tier_rank > 0, c.c.manager_id.is_not(None))
        .group_by(c.c.manager_id, c.c.tier_rank)
    )
    out: dict[int, dict[int, int]] = {}
    if ids is None:
        rows = list(session.execute(stmt).all())
    else:
        rows = []
        for chunk in _chunks(sorted(set(ids))):
            rows.extend(session.execute(stmt.where(c.c.manager_id.in_(chunk))).all())
    for mid, rank, n in rows:
        out.setdefault(int(mid), {})[int(rank)] = int(n)
    return out


def load_managers(
    session: Session,
    ladder: Ladder,
    today: dt.date,
    *,
    ids: Iterable[int] | None = None,
    counts: dict[int, dict[int, int]] | None = None,
) -> dict[int, Manager]:
    """Client managers with their current load (Σ units of their portfolio) and status on `today`."""
    st = Staff.__table__
    stmt = select(
        st.c.id,
        st.c.code,
        st.c.name,
        st.c.manager_level,
        st.c.region,
        st.c.capacity_units,
        st.c.active,
        st.c.leave_start,
        st.c.leave_end,
        st.c.exit_date,
        st.c.team_id,
    ).where(st.c.role == "client_manager", st.c.is_training == false())
    id_list = None if ids is None else sorted(set(ids))
    rows: list[Any] = []
    if id_list is None:
        rows = list(session.execute(stmt.order_by(st.c.code)).all())
    else:
        for chunk in _chunks(id_list):
            rows.extend(session.execute(stmt.where(st.c.id.in_(chunk))).all())
    if counts is None:
        counts = portfolio_counts(session, id_list)
    managers: dict[int, Manager] = {}
    for row in rows:
        held = counts.get(row.id, {})
        managers[row.id] = Manager(
            id=row.id,
            code=row.code,
            name=row.name,
            level=row.manager_level,
            region=row.region,
            capacity=int(row.capacity_units or 0),
            load=sum(ladder.units(rank) * n for rank, n in held.items()),
            status=manager_status(
                active=bool(row.active),
                leave_start=row.leave_start,
                leave_end=row.leave_end,
                exit_date=row.exit_date,
                today=today,
            ),
            team_id=row.team_id,
            leave_start=row.leave_start,
            leave_end=row.leave_end,
            exit_date=row.exit_date,
        )
    return managers


@dataclass(frozen=True)
class _Row:
    id: int
    code: str
    rank: int
    manager_id: int | None
    version: int
    region: str | None


def current_rows(session: Session, customer_ids: Iterable[int]) -> dict[int, _Row]:
    c = Customer.__table__
    out: dict[int, _Row] = {}
    for chunk in _chunks(sorted(set(customer_ids))):
        for r in session.execute(
            select(c.c.id, c.c.code, c.c.tier_rank, c.c.manager_id, c.c.assignment_version, c.c.region).where(
                c.c.id.in_(chunk)
            )
        ).all():
            out[r[0]] = _Row(r[0], r[1], int(r[2]), r[3], int(r[4]), r[5])
    return out


def _vip_select() -> Any:
    c = Customer.__table__
    return select(
        c.c.id,
        c.c.code,
        c.c.tier_rank,
        c.c.region,
        c.c.manager_id,
        c.c.assignment_version,
        c.c.waiting_since,
        c.c.assigned_at,
    ).where(c.c.tier_rank > 0, c.c.is_training == false())


def _vip(row: Any) -> Vip:
    return Vip(
        id=row[0],
        code=row[1],
        rank=int(row[2]),
        region=row[3],
        manager_id=row[4],
        version=int(row[5]),
        waiting_since=row[6],
        assigned_at=row[7],
    )


def unassigned_vips(
    session: Session, *, limit: int | None = None, tier: int | None = None, region: str | None = None
) -> list[Vip]:
    """Unassigned VIPs in auto-assign order (highest tier, longest waiting)."""
    c = Customer.__table__
    stmt = _vip_select().where(c.c.manager_id.is_(None))
    if tier is not None:
        stmt = stmt.where(c.c.tier_rank == tier)
    if region:
        stmt = stmt.where(c.c.region == region)
    stmt = stmt.order_by(
        c.c.tier_rank.desc(), case((c.c.waiting_since.is_(None), 1), else_=0), c.c.waiting_since, c.c.code
    )
    if limit:
        stmt = stmt.limit(limit)
    return [_vip(r) for r in session.execute(stmt).all()]


def live_cover_rows(
    session: Session, *, to_manager_id: int | None = None, from_manager_ids: Iterable[int] | None = None
) -> list[Any]:
    """Cover assignments still in force: the VIP's latest history row is a cover and it is still there.

    Rows: (assignment id, customer id, home manager id, cover manager id, customer version, tier rank, code).
    Covers come from a leave, so only managers with a leave recorded are searched (through the index on
    the history's from_manager_id), unless the home managers are given.
    """
    a = Assignment.__table__
    b = aliased(Assignment.__table__)
    c = Customer.__table__
    st = Staff.__table__
    later = exists().where(b.c.customer_id == a.c.customer_id, b.c.id > a.c.id)
    stmt = (
        select(
            a.c.id,
            a.c.customer_id,
            a.c.from_manager_id,
            a.c.to_manager_id,
            c.c.assignment_version,
            c.c.tier_rank,
            c.c.code,
        )
        .select_from(a.join(c, c.c.id == a.c.customer_id))
        .where(a.c.reason == "cover", c.c.manager_id == a.c.to_manager_id, ~later)
    )
    if to_manager_id is not None:
        stmt = stmt.where(a.c.to_manager_id == to_manager_id)
    if from_manager_ids is None:
        from_manager_ids = session.execute(select(st.c.id).where(st.c.leave_start.is_not(None))).scalars().all()
    ids = sorted(set(from_manager_ids))
    if not ids:
        return []
    stmt = stmt.where(a.c.from_manager_id.in_(ids))  # a literal list: SQLite uses ix_assignment_from_at
    return list(session.execute(stmt.order_by(c.c.tier_rank.desc(), c.c.code)).all())


def portfolio(session: Session, manager_id: int, *, movable_only: bool = True) -> list[Vip]:
    """A manager's VIPs; with movable_only, without the VIPs they hold as a temporary leave cover."""
    c = Customer.__table__
    vips = [_vip(r) for r in session.execute(_vip_select().where(c.c.manager_id == manager_id)).all()]
    if movable_only:
        covered = {row[1] for row in live_cover_rows(session, to_manager_id=manager_id)}
        vips = [v for v in vips if v.id not in covered]
    return vips


# ------------------------------------------------------------------------------------------------ writing a batch


@dataclass
class Applied:
    batch_id: int | None
    kind: str
    moves: int
    assigned: int = 0
    unassigned: int = 0
    managers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _lock(session: Session, manager_ids: Iterable[int], customer_ids: Sequence[int]) -> None:
    """A no-op write to the managers involved: on SQLite it takes the database's write lock, on PostgreSQL
    row locks (in id order, so two batches cannot deadlock); the VIPs' rows are locked too. Loads and
    versions read after this cannot change until the transaction ends."""
    st = Staff.__table__
    ids = sorted({i for i in manager_ids if i is not None}) or [-1]
    for chunk in _chunks(ids):
        session.execute(update(st).where(st.c.id.in_(chunk)).values(capacity_units=st.c.capacity_units))
    if session.get_bind().dialect.name == "sqlite":
        # A batch touches rows all over the customer table and its indexes: give this connection a page
        # cache big enough to keep them (SQLite's default is 2 MB), which makes large batches several times faster.
        session.execute(text("PRAGMA cache_size = -65536"))
    if session.get_bind().dialect.name == "postgresql":
        c = Customer.__table__
        for chunk in _chunks(sorted(customer_ids)):
            session.execute(select(c.c.id).where(c.c.id.in_(chunk)).order_by(c.c.id).with_for_update()).all()


def who_changed(session: Session, customer_ids: Iterable[int]) -> dict[int, tuple[str, dt.datetime | None]]:
    """For each VIP, who made its latest assignment change and when."""
    a = Assignment.__table__
    u = User.__table__
    out: dict[int, tuple[str, dt.datetime | None]] = {}
    for chunk in _chunks(sorted(set(customer_ids))):
        latest = (
            select(a.c.customer_id, func.max(a.c.id).label("last_id"))
            .where(a.c.customer_id.in_(chunk))
            .group_by(a.c.customer_id)
            .subquery()
        )
        rows = session.execute(
            select(a.c.customer_id, u.c.username, a.c.at).select_from(
                a.join(latest, latest.c.last_id == a.c.id).outerjoin(u, u.c.id == a.c.by_user_id)
            )
        ).all()
        for cid, username, at in rows:
            out[cid] = (username or t("the system"), at)
    return out


def _stale_message(session: Session, stale: Sequence[Move], codes: dict[int, str], *, single: bool) -> str:
    changed = who_changed(session, [mv.customer_id for mv in stale])
    parts = []
    for mv in stale[:MAX_EXAMPLES]:
        who, at = changed.get(mv.customer_id, (t("someone"), None))
        parts.append(
            t(
                "{code} (changed by {who} at {when})",
                code=codes.get(mv.customer_id, mv.code),
                who=who,
                when=_fmt_time(at),
            )
        )
    if single and len(stale) == 1:
        who, at = changed.get(stale[0].customer_id, (t("someone"), None))
        return t(
            "VIP {code} was changed by {who} at {when} after you loaded it. Nothing was saved: reload and try again.",
            code=codes.get(stale[0].customer_id, stale[0].code),
            who=who,
            when=_fmt_time(at),
        )
    more = len(stale) - len(parts)
    text = ", ".join(parts) + (t(" and {count} more", count=more) if more > 0 else "")
    return t(
        "{count} VIPs changed since the preview, so nothing was saved: {examples}. Preview again.",
        count=len(stale),
        examples=text,
    )


def _moved_ranks(session: Session, customer_ids: Sequence[int]) -> dict[int | None, dict[int, int]]:
    """Of the given VIPs: manager id -> {tier rank: count} (one small aggregate per chunk)."""
    c = Customer.__table__
    out: dict[int | None, dict[int, int]] = {}
    for chunk in _chunks(sorted(customer_ids)):
        for mid, rank, n in session.execute(
            select(c.c.manager_id, c.c.tier_rank, func.count())
            .where(c.c.id.in_(chunk))
            .group_by(c.c.manager_id, c.c.tier_rank)
        ).all():
            held = out.setdefault(mid, {})
            held[int(rank)] = held.get(int(rank), 0) + int(n)
    return out


def _raw_time(session: Session, value: dt.datetime) -> Any:
    """A UTC instant as the driver should receive it for a UTCDateTime column (what models.base stores)."""
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    if session.get_bind().dialect.name == "sqlite":
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME text, to the microsecond
    return naive


def _raw_many(session: Session, sql: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """executemany straight through the driver (qmark SQL, rewritten for psycopg); returns the rows affected.

    A batch writes up to tens of thousands of rows: this skips SQLAlchemy's per-row parameter processing,
    which otherwise costs more than the database work itself."""
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    result = conn.exec_driver_sql(sql, list(rows))
    return int(result.rowcount)


def _unwritten(session: Session, moves: Sequence[Move], now: dt.datetime) -> tuple[list[Move], dict[int, str]]:
    """After the guarded updates: the moves that were not written (their VIP changed since it was planned,
    or vanished), recognised by this batch's own timestamp; and the codes of the VIPs that exist."""
    c = Customer.__table__
    state: dict[int, tuple[Any, ...]] = {}
    for chunk in _chunks(sorted(mv.customer_id for mv in moves)):
        for row in session.execute(
            select(c.c.id, c.c.code, c.c.manager_id, c.c.assigned_at, c.c.waiting_since, c.c.assignment_version).where(
                c.c.id.in_(chunk)
            )
        ).all():
            state[row[0]] = tuple(row)

    def written(mv: Move) -> bool:
        row = state.get(mv.customer_id)
        if row is None:
            return False
        _, _, manager, assigned_at, waiting, version = row
        if mv.to_id is not None:
            return manager == mv.to_id and assigned_at == now
        if mv.reason != "undo":
            return manager is None and waiting == now
        return manager is None and assigned_at is None and version == mv.version + 1

    return [mv for mv in moves if not written(mv)], {cid: row[1] for cid, row in state.items()}


def _apply_moves(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    moves: Sequence[Move],
    today: dt.date,
    note: str | None = None,
    single: bool = False,
) -> Applied:
    """Write moves as one batch, or refuse with the reason (see _write_batch)."""
    with _bulk():
        return _write_batch(session, actor, kind=kind, moves=moves, today=today, note=note, single=single)


def _write_batch(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    moves: Sequence[Move],
    today: dt.date,
    note: str | None = None,
    single: bool = False,
) -> Applied:
    """Write moves as one batch, or refuse with the reason.

    Every customer update is guarded by the version the move was planned with; if any guard fails, or a
    target ends up ineligible or over its capacity, Refused/Stale is raised and the caller's transaction
    (which this function has written to) must be rolled back — every caller does: a command that raises is
    never committed. The checks run on the state after the writes, inside the locks, so they are exact.
    """
    if not moves:
        raise Refused(t("Nothing to apply: no VIP would move."))
    ids = [mv.customer_id for mv in moves]
    if len(set(ids)) != len(ids):
        raise Refused(t("A VIP appears more than once in this batch."))
    ladder = load_ladder(session, today)
    involved = {mv.from_id for mv in moves} | {mv.to_id for mv in moves}
    involved.discard(None)
    _lock(session, involved, ids)  # type: ignore[arg-type]

    now = utcnow()
    at = _raw_time(session, now)
    to_assign = [(mv.to_id, at, mv.customer_id, mv.version) for mv in moves if mv.to_id is not None]
    # A VIP that becomes unassigned starts waiting now, except when an undo puts it back in the queue:
    # then it keeps the wait it had before it was assigned.
    to_unassign = [(at, mv.customer_id, mv.version) for mv in moves if mv.to_id is None and mv.reason != "undo"]
    to_requeue = [(mv.customer_id, mv.version) for mv in moves if mv.to_id is None and mv.reason == "undo"]
    bump = "assignment_version = assignment_version + 1 WHERE id = ? AND assignment_version = ?"
    written = _raw_many(session, f"UPDATE customer SET manager_id = ?, assigned_at = ?, {bump}", to_assign)
    written += _raw_many(
        session, f"UPDATE customer SET manager_id = NULL, assigned_at = NULL, waiting_since = ?, {bump}", to_unassign
    )
    written += _raw_many(session, f"UPDATE customer SET manager_id = NULL, assigned_at = NULL, {bump}", to_requeue)
    if written != len(moves):
        # Versions are bumped by every assignment change: a VIP that changed since it was planned kept its
        # new version, so it was not written. Which ones? (Only these rows can differ from the plan.)
        stale, codes = _unwritten(session, moves, now)
        missing = [mv.code for mv in stale if mv.customer_id not in codes]
        if missing:
            raise Refused(t("Unknown VIPs: {codes}.", codes=", ".join(missing[:MAX_EXAMPLES])))
        raise Stale(_stale_message(session, stale, codes, single=single))

    # The state after the writes: every target must be able to hold what it received, and be at or under its cap.
    managers = load_managers(session, ladder, today, ids=involved)  # type: ignore[arg-type]
    received = _moved_ranks(session, ids)
    problems: list[str] = []
    targets = sorted(mid for mid in received if mid is not None)
    for mid in targets:
        m = managers.get(mid)
        if m is None:
            problems.append(t("manager #{id} is not a client manager", id=mid))
            continue
        if m.status != "active":
            problems.append(f"{m.code}: {describe_refusal(m.status, m, 0, ladder)}")
            continue
        bad_ranks = {rank for rank in received[mid] if not level_allows(m.level, rank, ladder)}
        if bad_ranks:
            c = Customer.__table__
            sent = [mv.customer_id for mv in moves if mv.to_id == mid]
            bad = [
                f"{code} ({ladder.name(int(rank))})"
                for code, rank in session.execute(
                    select(c.c.code, c.c.tier_rank)
                    .where(c.c.id.in_(sent[:CHUNK]), c.c.tier_rank.in_(sorted(bad_ranks)))
                    .order_by(c.c.code)
                    .limit(MAX_EXAMPLES)
                ).all()
            ]
            problems.append(
                t(
                    "{manager} ({level}) may not hold {vips}",
                    manager=m.code,
                    level=t(m.level or "none"),
                    vips=", ".join(bad[:MAX_EXAMPLES]),
                )
            )
        if m.load > m.capacity:
            problems.append(
                t("{manager} would be at {load} of {capacity} units", manager=m.code, load=m.load, capacity=m.capacity)
            )
    if problems:
        raise Refused(t("Refused, nothing was saved: {problems}.", problems="; ".join(problems)))

    batch = AssignmentBatch(kind=kind, by_user_id=actor.user_id, moves=len(moves), note=(note or None))
    session.add(batch)
    session.flush()
    clipped = note[:500] if note else None
    _raw_many(
        session,
        "INSERT INTO assignment (customer_id, from_manager_id, to_manager_id, at, by_user_id, reason, batch_id, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(mv.customer_id, mv.from_id, mv.to_id, at, actor.user_id, mv.reason, batch.id, clipped) for mv in moves],
    )
    session.flush()
    session.expire_all()
    from console.assignment.views import clear_tile_cache

    clear_tile_cache()
    applied = Applied(
        batch_id=batch.id,
        kind=kind,
        moves=len(moves),
        assigned=len(to_assign),
        unassigned=len(to_unassign) + len(to_requeue),
        managers=len(targets),
    )
    audit.note(
        entity="assignmentbatch",
        entity_id=batch.id,
        batch=batch.id,
        counts={
            "moves": applied.moves,
            "assigned": applied.assigned,
            "unassigned": applied.unassigned,
            "targets": applied.managers,
        },
    )
    return applied


# ------------------------------------------------------------------------------------------------ reassign


@dataclass
class Candidate:
    manager_id: int
    code: str
    name: str
    level: str | None
    region: str | None
    util_before: float
    util_after: float
    same_region: bool


@dataclass
class ReassignOptions:
    units: int
    eligible: list[Candidate]
    refused: list[tuple[str, str]]  # (manager code, why)


def _clean_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > 500:
        raise Refused(t("The note is too long (at most 500 characters)."))
    return text or None


@query("assignment.reassign")
def reassign_options(*, session: Session, actor: Actor, customer_ids: Sequence[int], today: dt.date) -> ReassignOptions:
    """The managers who may take all the selected VIPs now (by the auto-assign key), and why the others may not."""
    ladder = load_ladder(session, today)
    rows = current_rows(session, customer_ids)
    managers = load_managers(session, ladder, today)
    vip_rows = [rows[cid] for cid in customer_ids if cid in rows]
    regions = {r.region for r in vip_rows}
    region = next(iter(regions)) if len(regions) == 1 else None
    out = ReassignOptions(units=0, eligible=[], refused=[])
    if not vip_rows:
        return out
    top_rank = max(r.rank for r in vip_rows)
    for m in sorted(managers.values(), key=lambda m: m.code):
        # The selected VIPs that already sit with this manager do not move.
        moving = [r for r in vip_rows if r.manager_id != m.id]
        units = sum(ladder.units(r.rank) for r in moving)
        if not moving:
            out.refused.append((m.code, t("Already holds every selected VIP.")))
            continue
        if any(r.rank <= 0 for r in moving):
            out.refused.append((m.code, t("Members are not assigned to managers.")))
            continue
        why = refusal(m, max(r.rank for r in moving), units, ladder)
        if why is not None:
            out.refused.append((m.code, describe_refusal(why, m, max(r.rank for r in moving), ladder, units=units)))
            continue
        out.eligible.append(
            Candidate(
                manager_id=m.id,
                code=m.code,
                name=m.name,
                level=m.level,
                region=m.region,
                util_before=m.utilisation(),
                util_after=utilisation(m.load + units, m.capacity),
                same_region=region is not None and m.region == region,
            )
        )
    out.units = sum(ladder.units(r.rank) for r in vip_rows)
    out.eligible.sort(key=lambda c: (0 if c.same_region else 1, c.util_after, c.code))
    del top_rank
    return out


@command("assignment.reassign")
def reassign(
    *,
    session: Session,
    actor: Actor,
    customer_ids: Sequence[int],
    to_manager_id: int,
    reason: str,
    versions: dict[int, int],
    note: str | None = None,
    today: dt.date | None = None,
) -> Applied:
    """Move the selected VIPs to one manager. `versions` are the assignment versions the user saw."""
    today = today or today_local()
    if not reason:
        raise Refused(t("Choose a reason for the change."))
    if reason not in MANUAL_REASONS:
        raise Refused(t("Unknown reason code: {reason}.", reason=reason))
    if not customer_ids:
        raise Refused(t("Select at least one VIP."))
    note = _clean_note(note)
    ladder = load_ladder(session, today)
    rows = current_rows(session, customer_ids)
    unknown = [str(cid) for cid in customer_ids if cid not in rows]
    if unknown:
        raise Refused(t("Unknown VIPs: {codes}.", codes=", ".join(unknown)))
    moves: list[Move] = []
    for cid in customer_ids:
        row = rows[cid]
        if row.rank <= 0:
            raise Refused(t("{code} is a Member: Members are not assigned to managers.", code=row.code))
        if row.manager_id == to_manager_id:
            raise Refused(t("{code} is already with this manager.", code=row.code))
        seen = versions.get(cid, versions.get(str(cid), row.version))  # type: ignore[call-overload]
        moves.append(
            Move(cid, row.code, row.rank, ladder.units(row.rank), row.manager_id, to_manager_id, int(seen), reason)
        )
    return _apply_moves(session, actor, kind="bulk", moves=moves, today=today, note=note, single=True)


# ------------------------------------------------------------------------------------------------ auto-assign


def _plan(kind: str, managers: dict[int, Manager], **kw: Any) -> Plan:
    return Plan(
        kind=kind,
        managers=managers,
        loads_before={m.id: m.load for m in managers.values()},
        previewed_at=utcnow(),
        **kw,
    )


@query("assignment.auto_assign")
def preview_auto_assign(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    limit: int | None = None,
    tier: int | None = None,
    region: str | None = None,
) -> Plan:
    """Unassigned VIPs, highest tier first then longest waiting, each to the best eligible manager by the key."""
    ladder = load_ladder(session, today)
    managers = load_managers(session, ladder, today)
    with _bulk():
        vips = unassigned_vips(session, limit=limit, tier=tier, region=region)
        moves, unplaced = plan_placements(vips, managers, ladder, reason="new_vip")
    return _plan("auto_assign", managers, moves=moves, unplaced=unplaced)


def _check_plan(plan: Plan, kind: str) -> None:
    if plan.kind != kind:
        raise Refused(t("This preview is not a {kind} preview.", kind=kind))


@command("assignment.auto_assign")
def apply_auto_assign(*, session: Session, actor: Actor, plan: Plan, today: dt.date | None = None) -> Applied:
    _check_plan(plan, "auto_assign")
    today = today or today_local()
    applied = _apply_moves(session, actor, kind="auto_assign", moves=plan.moves, today=today)
    audit.note(counts={"left_unassigned": len(plan.unplaced)})
    return applied


# ------------------------------------------------------------------------------------------------ rebalance


@query("assignment.rebalance")
def preview_rebalance(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    even_out: bool = False,
    max_moves: int | None = 500,
    target_spread: float = 0.0,
) -> Plan:
    """Moves off over-cap managers (lowest tier, most recently assigned first); optionally evens out."""
    if max_moves is not None and max_moves < 1:
        raise Refused(t("The number of moves must be at least 1."))
    ladder = load_ladder(session, today)
    managers = load_managers(session, ladder, today)
    result = plan_rebalance(
        managers,
        lambda mid: portfolio(session, mid),
        ladder,
        even_out=even_out,
        max_moves=max_moves,
        target_spread=target_spread,
    )
    return _plan("rebalance", managers, moves=result.moves, stuck=result.stuck)


@command("assignment.rebalance")
def apply_rebalance(*, session: Session, actor: Actor, plan: Plan, today: dt.date | None = None) -> Applied:
    _check_plan(plan, "rebalance")
    return _apply_moves(session, actor, kind="rebalance", moves=plan.moves, today=today or today_local())


# ------------------------------------------------------------------------------------------------ leave and cover


def _client_manager(session: Session, manager_id: int) -> Staff:
    staff = session.get(Staff, manager_id)
    if staff is None or staff.role != "client_manager":
        raise Refused(t("Choose a client manager."))
    return staff


def _validate_leave(start: dt.date | None, end: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    if start is None or end is None:
        raise Refused(t("Enter the first and the last day of the leave."))
    if end < start:
        raise Refused(t("The leave ends before it starts."))
    if end < today:
        raise Refused(t("The leave is already over: enter a leave that has not ended."))
    if (end - start).days > 366:
        raise Refused(t("A leave can last at most one year."))
    return start, end


@query("assignment.leave")
def preview_leave(
    *, session: Session, actor: Actor, manager_id: int, start: dt.date, end: dt.date, today: dt.date
) -> Plan:
    """Cover for a manager's leave: their VIPs to other managers (not on leave in that period) by the key."""
    start, end = _validate_leave(start, end, today)
    staff = _client_manager(session, manager_id)
    ladder = load_ladder(session, today)
    managers = load_managers(session, ladder, today)
    subject = managers[manager_id]
    if subject.status in ("inactive", "exiting"):
        raise Refused(t("{code} is leaving or inactive: use Exit instead.", code=staff.code))
    if subject.status == "on_leave" or (
        subject.leave_start is not None and subject.leave_end is not None and subject.leave_end >= today
    ):
        raise Refused(
            t(
                "{code} already has a leave recorded ({start} – {end}): end it first.",
                code=staff.code,
                start=subject.leave_start,
                end=subject.leave_end,
            )
        )
    planning = {
        mid: (replace(m, status="on_leave") if leave_overlaps(m.leave_start, m.leave_end, start, end) else m)
        for mid, m in managers.items()
    }
    vips = portfolio(session, manager_id, movable_only=False)
    moves, unplaced = plan_placements(vips, planning, ladder, reason="cover", exclude={manager_id})
    return _plan("leave_cover", managers, moves=moves, unplaced=unplaced, subject_id=manager_id, start=start, end=end)


@command("assignment.leave")
def apply_leave(*, session: Session, actor: Actor, plan: Plan, today: dt.date | None = None) -> Applied:
    """Record the leave and write the cover assignments (reason cover); they revert when the leave ends."""
    _check_plan(plan, "leave_cover")
    today = today or today_local()
    start, end = _validate_leave(plan.start, plan.end, today)
    staff = _client_manager(session, int(plan.subject_id or 0))
    before = {"leave_start": staff.leave_start, "leave_end": staff.leave_end}
    if plan.moves:
        applied = _apply_moves(
            session,
            actor,
            kind="leave_cover",
            moves=plan.moves,
            today=today,
            note=t("Cover for {code} on leave {start} – {end}", code=staff.code, start=start, end=end),
        )
    else:
        applied = Applied(batch_id=None, kind="leave_cover", moves=0)
    staff.leave_start, staff.leave_end = start, end
    session.add(staff)
    session.flush()
    audit.note(
        entity="staff",
        entity_id=staff.id,
        before=before,
        after={"leave_start": start, "leave_end": end},
        counts={"covered": applied.moves, "not_covered": len(plan.unplaced)},
    )
    return applied


@dataclass
class CoverEndPlan:
    moves: list[Move]
    stays: list[tuple[str, str]]  # (VIP code, why it stays with the cover manager)


def plan_cover_end(session: Session, today: dt.date, *, manager_ids: Iterable[int] | None = None) -> CoverEndPlan:
    """Live covers whose manager is back (the leave ended or was cleared) and can take the VIPs again."""
    ladder = load_ladder(session, today)
    rows = live_cover_rows(session, from_manager_ids=manager_ids)
    if not rows:
        return CoverEndPlan([], [])
    homes = load_managers(session, ladder, today, ids={r[2] for r in rows if r[2] is not None})
    loads = {mid: m.load for mid, m in homes.items()}
    moves: list[Move] = []
    stays: list[tuple[str, str]] = []
    for _aid, cid, home_id, cover_id, version, rank, code in rows:
        home = homes.get(home_id) if home_id is not None else None
        if home is None or home.status != "active":
            continue  # still away (on leave, exiting or gone): the cover stays
        units = ladder.units(rank)
        why = refusal(home, rank, units, ladder, load=loads[home.id])
        if why is not None:
            stays.append((code, describe_refusal(why, replace(home, load=loads[home.id]), rank, ladder, units=units)))
            continue
        loads[home.id] += units
        moves.append(Move(cid, code, rank, units, cover_id, home.id, version, "cover_end"))
    return CoverEndPlan(moves, stays)


@command("assignment.end_covers")
def end_covers(
    *, session: Session, actor: Actor, today: dt.date, manager_ids: Sequence[int] | None = None
) -> Applied | None:
    """Return covered VIPs to their managers whose leave has ended (reason cover_end)."""
    plan = plan_cover_end(session, today, manager_ids=manager_ids)
    if not plan.moves:
        audit.note(counts={"returned": 0, "stays": len(plan.stays)})
        return None
    applied = _apply_moves(
        session, actor, kind="leave_cover", moves=plan.moves, today=today, note=t("End of leave cover")
    )
    applied.extra["stays"] = plan.stays
    audit.note(counts={"returned": applied.moves, "stays": len(plan.stays)})
    return applied


def end_due_covers(session: Session, today: dt.date) -> Applied | None:
    """The lazy check on page load (and in the daily evaluation): end covers whose leave is over.

    Reads first and only writes (as the system, audited) when there is something to return. If another
    process returns the same VIPs at the same moment this raises Stale: roll back and carry on.
    """
    from console.permissions import SYSTEM

    if not plan_cover_end(session, today).moves:
        return None
    return end_covers(session=session, actor=SYSTEM, today=today)


def unassign_for_tier_change(
    session: Session, actor: Actor, customer_ids: Sequence[int], *, today: dt.date, note: str | None = None
) -> Applied | None:
    """For the tier evaluation (SPEC §2): customers who fell to Member lose their manager, with a history row
    (reason tier_change) in one batch. Not a command of its own: the evaluation's command audits it."""
    rows = current_rows(session, customer_ids)
    moves = [
        Move(cid, row.code, row.rank, 0, row.manager_id, None, row.version, "tier_change")
        for cid, row in sorted(rows.items())
        if row.manager_id is not None and row.rank == 0
    ]
    if not moves:
        return None
    return _apply_moves(
        session, actor, kind="bulk", moves=moves, today=today, note=note or t("Fell to Member at the tier review")
    )


@command("assignment.end_leave")
def end_leave(*, session: Session, actor: Actor, manager_id: int, today: dt.date) -> Applied | None:
    """A manager is back early (or the leave is cancelled): end the leave today and return the covered VIPs."""
    staff = _client_manager(session, manager_id)
    if staff.leave_start is None or (staff.leave_end is not None and staff.leave_end < today):
        raise Refused(t("{code} has no current or planned leave.", code=staff.code))
    before = {"leave_start": staff.leave_start, "leave_end": staff.leave_end}
    yesterday = today - dt.timedelta(days=1)
    if staff.leave_start <= yesterday:
        staff.leave_end = yesterday
    else:
        staff.leave_start = staff.leave_end = None
    session.add(staff)
    session.flush()
    plan = plan_cover_end(session, today, manager_ids=[manager_id])
    applied = None
    if plan.moves:
        applied = _apply_moves(
            session, actor, kind="leave_cover", moves=plan.moves, today=today, note=t("End of leave cover")
        )
        applied.extra["stays"] = plan.stays
    audit.note(
        entity="staff",
        entity_id=staff.id,
        before=before,
        after={"leave_start": staff.leave_start, "leave_end": staff.leave_end},
        counts={"returned": applied.moves if applied else 0, "stays": len(plan.stays)},
    )
    return applied


# ------------------------------------------------------------------------------------------------ exit


@query("assignment.exit")
def preview_exit(*, session: Session, actor: Actor, manager_id: int, exit_date: dt.date | None, today: dt.date) -> Plan:
    """Move a leaving manager's whole portfolio for good; VIPs that fit nowhere become unassigned."""
    if exit_date is None:
        raise Refused(t("Enter the exit date."))
    staff = _client_manager(session, manager_id)
    if not staff.active:
        raise Refused(t("{code} is already inactive.", code=staff.code))
    ladder = load_ladder(session, today)
    managers = load_managers(session, ladder, today)
    vips = portfolio(session, manager_id, movable_only=False)
    moves, unplaced = plan_placements(
        vips, managers, ladder, reason="manager_exit", exclude={manager_id}, unplaced_to_none=True
    )
    return _plan("exit", managers, moves=moves, unplaced=unplaced, subject_id=manager_id, end=exit_date)


@command("assignment.exit")
def apply_exit(*, session: Session, actor: Actor, plan: Plan, today: dt.date | None = None) -> Applied:
    _check_plan(plan, "exit")
    today = today or today_local()
    if plan.end is None:
        raise Refused(t("Enter the exit date."))
    staff = _client_manager(session, int(plan.subject_id or 0))
    before = {"exit_date": staff.exit_date, "active": staff.active}
    if plan.moves:
        applied = _apply_moves(
            session,
            actor,
            kind="exit",
            moves=plan.moves,
            today=today,
            note=t("{code} leaves on {date}", code=staff.code, date=plan.end),
        )
    else:
        applied = Applied(batch_id=None, kind="exit", moves=0)
    staff.exit_date = plan.end
    if plan.end <= today:
        staff.active = False
    session.add(staff)
    session.flush()
    audit.note(
        entity="staff",
        entity_id=staff.id,
        before=before,
        after={"exit_date": staff.exit_date, "active": staff.active},
        counts={"moved": applied.assigned, "unassigned": applied.unassigned},
    )
    return applied


# ------------------------------------------------------------------------------------------------ undo


@dataclass
class UndoCheck:
    batch_id: int
    kind: str
    moves: int
    ok: bool
    message: str
    moved_since: list[str] = field(default_factory=list)
    no_room: list[str] = field(default_factory=list)


def _undo_moves(session: Session, batch: AssignmentBatch, ladder: Ladder) -> tuple[list[Move], list[str]]:
    a = Assignment.__table__
    b = aliased(Assignment.__table__)
    c = Customer.__table__
    later = exists().where(b.c.customer_id == a.c.customer_id, b.c.id > a.c.id)
    rows = session.execute(
        select(
            a.c.customer_id,
            a.c.from_manager_id,
            a.c.to_manager_id,
            c.c.code,
            c.c.tier_rank,
            c.c.manager_id,
            c.c.assignment_version,
            later.label("moved"),
        )
        .select_from(a.join(c, c.c.id == a.c.customer_id))
        .where(a.c.batch_id == batch.id)
        .order_by(c.c.code)
    ).all()
    moves: list[Move] = []
    moved: list[str] = []
    for cid, from_id, to_id, code, rank, current, version, was_moved in rows:
        if was_moved or current != to_id:
            moved.append(code)
            continue
        moves.append(Move(cid, code, int(rank), ladder.units(int(rank)), to_id, from_id, int(version), "undo"))
    return moves, moved


@query("assignment.undo")
def check_undo(*, session: Session, actor: Actor, batch_id: int, today: dt.date) -> UndoCheck:
    """May this batch be undone now? (None of its VIPs moved since; every manager they return to has room.)"""
    batch = session.get(AssignmentBatch, batch_id)
    if batch is None:
        raise Refused(t("There is no batch {id}.", id=batch_id))
    check = UndoCheck(batch_id=batch_id, kind=batch.kind, moves=batch.moves, ok=False, message="")
    if batch.undone_by_batch_id is not None:
        check.message = t("Batch {id} was already undone by batch {undo}.", id=batch_id, undo=batch.undone_by_batch_id)
        return check
    if batch.kind in ("undo", "seed"):
        check.message = t("This kind of batch cannot be undone; reassign the VIPs instead.")
        return check
    ladder = load_ladder(session, today)
    moves, moved = _undo_moves(session, batch, ladder)
    check.moved_since = moved
    managers = load_managers(session, ladder, today, ids={mv.to_id for mv in moves if mv.to_id is not None})
    caps = capacity_problems(
        moves, {m.id: m.load for m in managers.values()}, {m.id: m.capacity for m in managers.values()}
    )
    for cap in caps:
        m = managers[cap.manager_id]
        check.no_room.append(
            t(
                "{manager} ({free} units free, needs {need})",
                manager=m.code,
                free=max(0, m.capacity - m.load),
                need=cap.load_after - m.load,
            )
        )
    back: dict[int, list[Move]] = {}
    for mv in moves:
        if mv.to_id is not None:
            back.setdefault(mv.to_id, []).append(mv)
    for mid in sorted(back):
        m = managers.get(mid)
        if m is not None and m.status != "active":
            check.no_room.append(f"{m.code}: {describe_refusal(m.status, m, 0, ladder)}")
        elif m is not None:
            bad = [mv for mv in back[mid] if not level_allows(m.level, mv.rank, ladder)]
            if bad:
                check.no_room.append(
                    t(
                        "{manager} ({level}) may not hold {vips}",
                        manager=m.code,
                        level=t(m.level or "none"),
                        vips=", ".join(mv.code for mv in bad[:MAX_EXAMPLES]),
                    )
                )
    if moved:
        shown = ", ".join(moved[:10]) + (t(" and {count} more", count=len(moved) - 10) if len(moved) > 10 else "")
        check.message = t("Cannot undo batch {id}: these VIPs moved since: {codes}.", id=batch_id, codes=shown)
    elif check.no_room:
        check.message = t(
            "Cannot undo batch {id}: these managers have no room or may not take the VIPs back: {managers}.",
            id=batch_id,
            managers="; ".join(check.no_room),
        )
    elif not moves:
        check.message = t("Batch {id} has no moves to undo.", id=batch_id)
    else:
        check.ok = True
        check.message = t(
            "Batch {id} can be undone: {count} VIPs return to their previous manager.", id=batch_id, count=len(moves)
        )
    return check


@command("assignment.undo")
def undo_batch(*, session: Session, actor: Actor, batch_id: int, today: dt.date | None = None) -> Applied:
    """Undo a batch as a new batch (reason undo), or refuse listing the VIPs that moved / managers without room."""
    today = today or today_local()
    check = check_undo(session=session, actor=actor, batch_id=batch_id, today=today)
    if not check.ok:
        raise Refused(check.message)
    batch = session.get(AssignmentBatch, batch_id)
    assert batch is not None
    ladder = load_ladder(session, today)
    moves, _ = _undo_moves(session, batch, ladder)
    applied = _apply_moves(
        session, actor, kind="undo", moves=moves, today=today, note=t("Undo of batch {id}", id=batch_id)
    )
    batch.undone_by_batch_id = applied.batch_id
    session.add(batch)
    session.flush()
    audit.note(entity="assignmentbatch", entity_id=batch_id, after={"undone_by_batch_id": applied.batch_id})
    return applied


# ------------------------------------------------------------------------------------------------ unplaced reasons


def describe_unplaced(item: Unplaced, ladder: Ladder) -> str:
    if item.reason == "level":
        return t("No available manager's level allows {tier}.", tier=ladder.name(item.rank))
    if item.reason == "capacity":
        return t("Every eligible manager is at capacity.")
    return t("No client manager is available.")
