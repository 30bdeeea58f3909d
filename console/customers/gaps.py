"""Coverage gaps (issue 7 item 5): what no single tool sees, computed for every customer with set-based SQL.

| kind | a customer is listed when |
|---|---|
| leave_uncovered | it is assigned to a manager who is on leave today (no cover moved it), or who has left or is inactive |
| level_mismatch | its manager's level no longer allows its tier (junior up to Gold, senior up to Diamond, Supreme enterprise) |
| contact_overdue | a VIP with no connected maintenance call (by anyone) and no logged visit within its tier's contact frequency, counted from the last such contact or, without one, from the day it became a VIP |
| no_evaluation | Diamond or Supreme, and no call to it placed in the last 180 days has a (non-void, submitted) regular evaluation |
| reception_followup | a critical checklist item failed on one of its visits, its follow-up is not done, and a later visit is planned (or under way) |
| downgrade_after_fail | a downgrade in the last 180 days came within 90 days after a failed evaluation of a call to it |

Each kind is one SELECT over all customers (EXISTS / NOT EXISTS on indexed columns, no loop per customer). Its
result is stored in the customergap table (the "snapshot": customer, kind, position in the list, since), rebuilt
whole by a job at most every 15 minutes (sooner on "Recompute now"): reading the six rules over 200,000 customers
takes seconds, so Home, the gap lists and the search filter read the snapshot by index instead, and say when it
was computed. A page of a list then fetches the wording of its own rows and re-checks them live ("resolved since
the last computation"); a profile runs the rules live for its one customer. Days are Asia/Shanghai calendar days.
The scope of SPEC §1 applies to every list and count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, delete, exists, false, func, insert, literal, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlmodel import Session, col
from sqlmodel import select as sqlselect

from console import audit
from console.assignment.rules import Ladder
from console.assignment.services import load_ladder
from console.assignment.sla import contact_days_expr, date_add_days, level_forbids_expr
from console.audit import command, query
from console.customers.common import EXPORT_LIMIT, CustomerError, as_date, customer_link, visible
from console.i18n import pick, t
from console.jobs import JobContext, enqueue, handler
from console.masking import mask_phone
from console.meta import get_meta, set_meta
from console.permissions import SUPERVISORS, SYSTEM, Actor
from console.timeutil import local_date, local_midnight_utc, shanghai_date, today_local, utcnow
from models import (
    Call,
    Contact,
    Customer,
    Evaluation,
    FollowUp,
    Job,
    Run,
    RunItem,
    Staff,
    TierChange,
    Visit,
)
from models.base import UTCDateTime
from models.customers import CustomerGap

GAP_KINDS: tuple[str, ...] = (
    "leave_uncovered",
    "level_mismatch",
    "contact_overdue",
    "no_evaluation",
    "reception_followup",
    "downgrade_after_fail",
)
GAP_LABELS: dict[str, str] = {
    "leave_uncovered": "Manager on leave without cover",
    "level_mismatch": "Manager's level no longer allows the tier",
    "contact_overdue": "No maintenance contact within the tier's frequency",
    "no_evaluation": "Diamond or Supreme without an evaluated call in 180 days",
    "reception_followup": "Failed critical reception item not followed up before the next visit",
    "downgrade_after_fail": "Downgrade within 90 days after a failed evaluation",
}
GAP_HELP: dict[str, str] = {
    "leave_uncovered": "Assigned to a manager who is on leave today and whose VIP was not moved to a cover, "
    "or to a manager who has left or is inactive.",
    "level_mismatch": "Junior managers hold up to Gold, senior up to Diamond; only enterprise managers hold Supreme.",
    "contact_overdue": "No connected maintenance call and no logged visit within the tier's contact frequency, "
    "by anyone.",
    "no_evaluation": "No call to this Diamond or Supreme customer in the last 180 days has been evaluated.",
    "reception_followup": "A critical checklist item failed on a visit, its follow-up is not done, "
    "and the customer's next visit is planned.",
    "downgrade_after_fail": "Downgraded in the last 180 days, within 90 days after a failed evaluation of a call "
    "to this customer.",
}
EVALUATION_DAYS = 180
MSG_LAST_CONTACT = (
    "Last connected maintenance contact on {day}; {tier} needs one every {days} days, so the next was due by {due}."
)
MSG_RECEPTION = (
    "{count} failed critical item(s) without a finished follow-up, e.g. “{item}” on the visit of {visit}; "
    "next visit {next}."
)
DOWNGRADE_LOOKBACK_DAYS = 180
DOWNGRADE_AFTER_FAIL_DAYS = 90
TOP_TIER_CODES = ("diamond", "supreme")
NEXT_VISIT_STATUSES = ("planned", "in_progress")
SNAPSHOT_KEY = "customers.gaps"
SNAPSHOT_TTL = dt.timedelta(minutes=15)
JOB_KIND = "customers.refresh_gaps"
WRITE_CHUNK = 5_000
MAX_PAGE = 200
DETAIL_CHECK_LIMIT = 500

c = Customer.__table__
s = Staff.__table__
ct = Contact.__table__
k = Call.__table__
e = Evaluation.__table__
tc = TierChange.__table__
v = Visit.__table__
r = Run.__table__
ri = RunItem.__table__
fu = FollowUp.__table__
g = CustomerGap.__table__


@dataclass(frozen=True)
class GapContext:
    """Everything a gap rule depends on besides the data: the day, the instant, the ladder in force."""

    today: dt.date
    now: dt.datetime
    ladder: Ladder

    def top_ranks(self) -> list[int]:
        ranks = [rank for rank, tier in self.ladder.tiers.items() if tier.code in TOP_TIER_CODES]
        return sorted(ranks) or [4, 5]

    def day_start(self, days_ago: int) -> dt.datetime:
        """The UTC instant at which the Shanghai day `days_ago` days before today starts."""
        return local_midnight_utc(self.today - dt.timedelta(days=days_ago))


def context(session: Session, today: dt.date, now: dt.datetime | None = None) -> GapContext:
    return GapContext(today=today, now=now or utcnow(), ladder=load_ladder(session, today))


def _instant(value: dt.datetime) -> Any:
    return literal(value, UTCDateTime())


def _later(a: Any, b: Any) -> Any:
    """SQL: the later of two values of the same type (the other one where one is NULL)."""
    return case((a.is_(None), b), (b.is_(None), a), (a > b, a), else_=b)


def _since_date(value: Any) -> dt.date | None:
    """A 'since' value as a Shanghai date (rules give dates or UTC instants)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return local_date(value)
    if isinstance(value, str) and len(value) > 10:
        return local_date(dt.datetime.fromisoformat(value))
    return as_date(value)


# ------------------------------------------------------------------------------------------------ conditions


def _vip() -> list[ColumnElement[bool]]:
    return [c.c.tier_rank > 0, c.c.is_training == false()]


def _manager_away(ctx: GapContext, st: Any = s) -> ColumnElement[bool]:
    """The manager is on leave today, has left, or is inactive."""
    on_leave = and_(
        st.c.leave_start.is_not(None),
        st.c.leave_start <= ctx.today,
        or_(st.c.leave_end.is_(None), st.c.leave_end >= ctx.today),
    )
    gone = or_(st.c.active == false(), and_(st.c.exit_date.is_not(None), st.c.exit_date <= ctx.today))
    return or_(on_leave, gone)


def _level_candidates(ctx: GapContext) -> ColumnElement[bool]:
    """A cheap superset of level violations that the (tier_rank, manager_id) index can find: a tier above the
    lowest level's limit, or a manager without a known level."""
    from console.assignment.rules import LEVEL_MAX_RANK

    limits = [*LEVEL_MAX_RANK.values()]
    limits += [rank - 1 for rank, tier in ctx.ladder.tiers.items() if tier.enterprise_only]
    unknown = s.alias("unknown_level")
    odd = select(unknown.c.id).where(
        or_(unknown.c.manager_level.is_(None), unknown.c.manager_level.not_in(list(LEVEL_MAX_RANK)))
    )
    return or_(c.c.tier_rank > min(limits), c.c.manager_id.in_(odd))


def _qualifying_contact(alias: Any) -> ColumnElement[bool]:
    """A connected maintenance call, or a logged visit (SPEC §3's regular contact, by anyone)."""
    return or_(
        and_(alias.c.kind == "call", alias.c.outcome == "connected", alias.c.stream == "maintenance"),
        alias.c.kind == "visit",
    )


def _contact_cutoff(ctx: GapContext) -> ColumnElement[Any]:
    """Per tier: the instant from which a contact keeps the customer within its frequency."""
    whens = {
        rank: _instant(ctx.day_start(days))
        for rank in ctx.ladder.vip_ranks()
        if (days := ctx.ladder.contact_days(rank))
    }
    return case(whens, value=c.c.tier_rank, else_=None)  # type: ignore[arg-type]


def _evaluated() -> list[ColumnElement[bool]]:
    return [e.c.kind == "regular", e.c.void == false(), e.c.status != "draft"]


def _failed_evaluation() -> list[ColumnElement[bool]]:
    return [*_evaluated(), e.c.total.is_not(None), e.c.passed == false()]


def _unresolved_item() -> ColumnElement[bool]:
    """A failed item whose follow-up is not done: one is open, or none was created."""
    open_fu = exists(select(fu.c.id).where(fu.c.run_item_id == ri.c.id, fu.c.status == "open"))
    any_fu = exists(select(fu.c.id).where(fu.c.run_item_id == ri.c.id))
    return or_(open_fu, not_(any_fu))


def _upcoming(ctx: GapContext, only: Sequence[int] | None = None) -> Any:
    """Per customer (of `only`, if given): the arrival of their next visit (planned or under way, not yet over)."""
    nv = v.alias("next_visit")
    stmt = select(nv.c.customer_id.label("customer_id"), func.min(nv.c.arrival_at).label("next_arrival")).where(
        nv.c.customer_id.is_not(None),
        nv.c.status.in_(NEXT_VISIT_STATUSES),
        nv.c.departure_at >= _instant(ctx.now),
    )
    if only is not None:
        stmt = stmt.where(nv.c.customer_id.in_(list(only)))
    return stmt.group_by(nv.c.customer_id).subquery("upcoming")


def _reception_from(ctx: GapContext, only: Sequence[int] | None = None) -> tuple[Any, Any]:
    """FROM the customers with a next visit, their earlier visits, those visits' runs and failed critical items
    whose follow-up is not done (driven by the few upcoming visits, then indexes)."""
    up = _upcoming(ctx, only)
    joined = (
        up.join(c, c.c.id == up.c.customer_id)
        .join(v, and_(v.c.customer_id == up.c.customer_id, v.c.arrival_at < up.c.next_arrival))
        .join(r, r.c.visit_id == v.c.id)
        .join(ri, ri.c.run_id == r.c.id)
    )
    return up, joined


def _reception_conds() -> list[ColumnElement[bool]]:
    return [
        c.c.is_training == false(),
        ri.c.state == "failed",
        ri.c.critical == true(),
        r.c.status != "cancelled",
        v.c.status != "cancelled",
        _unresolved_item(),
    ]


def _failed_call_before(ctx: GapContext, day: Any, customer_id: Any) -> ColumnElement[bool]:
    """EXISTS a failed evaluation of a call to the customer placed within 90 days before `day` (a date)."""
    call_day = shanghai_date(k.c.started_at)
    return exists(
        select(k.c.id)
        .join(e, e.c.call_id == k.c.id)
        .where(
            k.c.customer_id == customer_id,
            *_failed_evaluation(),
            call_day <= day,
            call_day >= date_add_days(day, literal(-DOWNGRADE_AFTER_FAIL_DAYS)),
        )
    )


# ------------------------------------------------------------------------------------------------ one SELECT per kind


def gap_select(
    kind: str, ctx: GapContext, conds: Sequence[ColumnElement[bool]] = (), *, only: Sequence[int] | None = None
) -> Select[Any]:
    """(customer_id, since) of every customer with this gap; `conds` are extra conditions on customer, `only`
    restricts the rule to these customer ids (a page, a profile)."""
    if only is not None:
        conds = [*conds, c.c.id.in_(list(only))]
    if kind == "leave_uncovered":
        away = s.alias("away")
        since = case((s.c.leave_start <= ctx.today, s.c.leave_start), else_=s.c.exit_date)
        return (
            select(c.c.id.label("customer_id"), since.label("since"))
            .select_from(c.join(s, s.c.id == c.c.manager_id))
            .where(*_vip(), c.c.manager_id.in_(select(away.c.id).where(_manager_away(ctx, away))), *conds)
        )
    if kind == "level_mismatch":
        return (
            select(c.c.id.label("customer_id"), _later(c.c.tier_since, c.c.assigned_at).label("since"))
            .select_from(c.join(s, s.c.id == c.c.manager_id))
            .where(
                *_vip(),
                _level_candidates(ctx),
                level_forbids_expr(s.c.manager_level, c.c.tier_rank, ctx.ladder),
                *conds,
            )
        )
    if kind == "contact_overdue":
        cutoff = _contact_cutoff(ctx)
        recent = exists(select(ct.c.id).where(ct.c.customer_id == c.c.id, ct.c.at >= cutoff, _qualifying_contact(ct)))
        became_vip = func.coalesce(c.c.vip_since, c.c.created_at)
        last = select(func.max(ct.c.at)).where(ct.c.customer_id == c.c.id, _qualifying_contact(ct)).scalar_subquery()
        since = date_add_days(shanghai_date(_later(last, became_vip)), contact_days_expr(c.c.tier_rank, ctx.ladder) + 1)
        return select(c.c.id.label("customer_id"), since.label("since")).where(
            *_vip(), cutoff.is_not(None), became_vip < cutoff, not_(recent), *conds
        )
    if kind == "no_evaluation":
        evaluated = exists(
            select(k.c.id)
            .join(e, e.c.call_id == k.c.id)
            .where(k.c.customer_id == c.c.id, k.c.started_at >= _instant(ctx.day_start(EVALUATION_DAYS)), *_evaluated())
        )
        last = (
            select(func.max(k.c.started_at))
            .join(e, e.c.call_id == k.c.id)
            .where(k.c.customer_id == c.c.id, *_evaluated())
            .scalar_subquery()
        )
        lapsed = date_add_days(shanghai_date(last), literal(EVALUATION_DAYS + 1))
        top_since = shanghai_date(func.coalesce(c.c.tier_since, c.c.vip_since, c.c.created_at))
        return select(c.c.id.label("customer_id"), _later(lapsed, top_since).label("since")).where(
            *_vip(), c.c.tier_rank.in_(ctx.top_ranks()), not_(evaluated), *conds
        )
    if kind == "reception_followup":
        _up, joined = _reception_from(ctx, only)
        return (
            select(c.c.id.label("customer_id"), func.min(ri.c.done_at).label("since"))
            .select_from(joined)
            .where(*_reception_conds(), *conds)
            .group_by(c.c.id)
        )
    if kind == "downgrade_after_fail":
        down_day = shanghai_date(tc.c.at)
        return (
            select(tc.c.customer_id.label("customer_id"), func.max(tc.c.at).label("since"))
            .select_from(tc.join(c, c.c.id == tc.c.customer_id))
            .where(
                tc.c.at >= _instant(ctx.day_start(DOWNGRADE_LOOKBACK_DAYS)),
                tc.c.kind == "downgrade",
                c.c.is_training == false(),
                _failed_call_before(ctx, down_day, tc.c.customer_id),
                *conds,
            )
            .group_by(tc.c.customer_id)
        )
    raise ValueError(f"unknown gap kind {kind!r}")


# ------------------------------------------------------------------------------------------------ the snapshot


@dataclass(frozen=True)
class Snapshot:
    """When the gaps were last computed, for which day, and how many customers each kind holds (all scopes)."""

    at: dt.datetime
    today: dt.date
    counts: dict[str, int]

    def stale(self, today: dt.date, now: dt.datetime) -> bool:
        return self.today != today or now - self.at > SNAPSHOT_TTL


def live_rows(session: Session, kind: str, ctx: GapContext) -> list[tuple[int, dt.date | None]]:
    """Run one gap rule over every customer now: (customer id, since), in list order."""
    sub = gap_select(kind, ctx).subquery("gap")
    rows = session.execute(
        select(sub.c.customer_id, sub.c.since, c.c.tier_rank, c.c.code).select_from(
            sub.join(c, c.c.id == sub.c.customer_id)
        )
    ).all()
    keyed = [(int(cid), _since_date(since), int(rank), code) for cid, since, rank, code in rows]
    keyed.sort(key=lambda row: (-row[2], row[1] or dt.date.min, row[3]))
    return [(cid, since) for cid, since, _rank, _code in keyed]


def compute_all(
    session: Session, ctx: GapContext, progress: Callable[[int, int, str], None] | None = None
) -> dict[str, list[tuple[int, dt.date | None]]]:
    """The six rules over every customer (reads only)."""
    out = {}
    for i, kind in enumerate(GAP_KINDS):
        if progress:
            progress(i, len(GAP_KINDS), kind)
        out[kind] = live_rows(session, kind, ctx)
    return out


def write_snapshot(session: Session, ctx: GapContext, rows: dict[str, list[tuple[int, dt.date | None]]]) -> Snapshot:
    """Replace the stored gaps with these rows (one short write transaction)."""
    session.execute(delete(g))
    payload = [
        {"kind": kind, "customer_id": cid, "position": pos, "since": since, "computed_at": ctx.now}
        for kind, items in rows.items()
        for pos, (cid, since) in enumerate(items)
    ]
    for start in range(0, len(payload), WRITE_CHUNK):
        session.execute(insert(g), payload[start : start + WRITE_CHUNK])
    snap = Snapshot(at=ctx.now, today=ctx.today, counts={kind: len(rows.get(kind, [])) for kind in GAP_KINDS})
    set_meta(session, SNAPSHOT_KEY, {"at": snap.at.isoformat(), "today": snap.today.isoformat(), "counts": snap.counts})
    session.flush()
    return snap


def read_snapshot(session: Session) -> Snapshot | None:
    value = get_meta(session, SNAPSHOT_KEY)
    if not isinstance(value, dict) or "at" not in value:
        return None
    return Snapshot(
        at=dt.datetime.fromisoformat(value["at"]),
        today=dt.date.fromisoformat(value["today"]),
        counts={kind: int(value.get("counts", {}).get(kind, 0)) for kind in GAP_KINDS},
    )


def refresh_now(session: Session, today: dt.date, now: dt.datetime | None = None) -> Snapshot:
    """Compute and store the gaps in this session (tests, the first view of an empty snapshot, the job)."""
    ctx = context(session, today, now)
    return write_snapshot(session, ctx, compute_all(session, ctx))


def ensure_snapshot(session: Session, today: dt.date, now: dt.datetime | None = None) -> Snapshot:
    """The stored gaps; computed here when there are none yet (a stale one is refreshed by refresh_if_stale)."""
    snap = read_snapshot(session)
    if snap is None:
        snap = refresh_now(session, today, now)
    return snap


def refresh_running(session: Session) -> Job | None:
    return session.exec(
        sqlselect(Job).where(Job.kind == JOB_KIND, col(Job.status).in_(("queued", "running"))).order_by(Job.id)
    ).first()


def refresh_if_stale(session: Session, today: dt.date, now: dt.datetime | None = None) -> Snapshot:
    """The stored gaps; when older than 15 minutes or of another day, a recomputation is queued as a job
    (the old figures are shown meanwhile, with their time)."""
    current = now or utcnow()
    snap = ensure_snapshot(session, today, current)
    if snap.stale(today, current) and refresh_running(session) is None:
        enqueue(session, actor=SYSTEM, kind=JOB_KIND, params={"today": today.isoformat()})
    return snap


@command("customers.refresh_gaps")
def start_gap_refresh(*, session: Session, actor: Actor, today: dt.date) -> Job:
    """Queue a recomputation of every customer's gaps now (or return the one already queued)."""
    running = refresh_running(session)
    if running is not None:
        return running
    return enqueue(session, actor=actor, kind=JOB_KIND, params={"today": today.isoformat()})


@handler(JOB_KIND, action="customers.refresh_gaps")
def _refresh_job(job: JobContext) -> dict[str, Any]:
    """Read every rule in one read-only session, then replace the snapshot in one short write transaction, so
    other users' writes are never held up for the length of the computation."""
    today = dt.date.fromisoformat(str(job.params.get("today"))) if job.params.get("today") else today_local()
    with Session(job.engine) as reader:
        ctx = context(reader, today)
        rows = compute_all(reader, ctx, progress=lambda i, n, kind: job.progress(i, n, kind))
    with Session(job.engine) as writer:
        snap = write_snapshot(writer, ctx, rows)
        writer.commit()
    job.progress(len(GAP_KINDS), len(GAP_KINDS), "done")
    total = sum(snap.counts.values())
    return {"message": f"{total} gaps", "counts": snap.counts}


# ------------------------------------------------------------------------------------------------ services


def _check_kind(kind: str) -> None:
    if kind not in GAP_KINDS:
        raise CustomerError("Unknown gap kind: {kind}.", kind=kind)


def count_gaps(session: Session, actor: Actor, today: dt.date, now: dt.datetime | None = None) -> dict[str, int]:
    """Customers with each gap in the actor's scope, from the stored gaps."""
    snap = ensure_snapshot(session, today, now)
    if actor.role in SUPERVISORS:
        return dict(snap.counts)
    rows = session.execute(
        select(g.c.kind, func.count())
        .select_from(g.join(c, c.c.id == g.c.customer_id))
        .where(*visible(actor))
        .group_by(g.c.kind)
    ).all()
    found = {kind: int(n) for kind, n in rows}
    return {kind: found.get(kind, 0) for kind in GAP_KINDS}


@query("customers.read")
def gap_counts(*, session: Session, actor: Actor, today: dt.date, now: dt.datetime | None = None) -> dict[str, int]:
    """Customers with each gap, in the actor's scope."""
    return count_gaps(session, actor, today, now)


@query("customers.read")
def gap_snapshot(*, session: Session, actor: Actor, today: dt.date, now: dt.datetime | None = None) -> Snapshot:
    """When the gaps were computed (queues a recomputation when that is more than 15 minutes ago)."""
    return refresh_if_stale(session, today, now)


GAP_COLUMNS = [
    "customer_id",
    "code",
    "name",
    "phone",
    "tier_rank",
    "tier",
    "manager",
    "region",
    "since",
    "detail",
    "link",
]


@dataclass
class GapPage:
    kind: str
    total: int
    rows: pd.DataFrame
    computed_at: dt.datetime | None = None


def _list_stmt(kind: str, actor: Actor, manager_id: int | None) -> Select[Any]:
    conds = [g.c.kind == kind, *visible(actor)]
    if manager_id is not None:
        conds.append(c.c.manager_id == manager_id)
    m = s.alias("holder")
    return (
        select(
            g.c.customer_id,
            g.c.since,
            c.c.code,
            c.c.name,
            c.c.phone,
            c.c.id_number,
            c.c.tier_rank,
            c.c.region,
            c.c.manager_id,
            m.c.code.label("manager_code"),
            m.c.name.label("manager_name"),
        )
        .select_from(g.join(c, c.c.id == g.c.customer_id).outerjoin(m, m.c.id == c.c.manager_id))
        .where(*conds)
        .order_by(g.c.position)
    )


def _still_open(session: Session, kind: str, ctx: GapContext, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    sub = gap_select(kind, ctx, only=ids).subquery()
    return {int(cid) for (cid,) in session.execute(select(sub.c.customer_id)).all()}


def _frame(
    session: Session, kind: str, ctx: GapContext, rows: Sequence[Any], *, with_numbers: bool = False
) -> pd.DataFrame:
    ids = [int(row.customer_id) for row in rows]
    details = gap_details(session, kind, ctx, ids)
    still = _still_open(session, kind, ctx, ids) if len(ids) <= DETAIL_CHECK_LIMIT else set(ids)
    records = []
    for row in rows:
        cid = int(row.customer_id)
        detail = details.get(cid, "")
        if cid not in still:
            detail = t("Resolved since the last computation.") + (" " + detail if detail else "")
        records.append(
            {
                "customer_id": cid,
                "code": row.code,
                "name": row.name,
                "phone": (row.phone or "") if with_numbers else mask_phone(row.phone),
                "tier_rank": int(row.tier_rank),
                "tier": ctx.ladder.name(int(row.tier_rank)),
                "manager": f"{row.manager_code} · {row.manager_name}" if row.manager_code else t("(unassigned)"),
                "region": row.region or "",
                "since": _since_date(row.since),
                "detail": detail,
                "link": customer_link(row.code),
                **({"id_number": row.id_number or ""} if with_numbers else {}),
            }
        )
    columns = [*GAP_COLUMNS, *(["id_number"] if with_numbers else [])]
    return pd.DataFrame(records, columns=columns)


@query("customers.read")
def gap_list(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    today: dt.date,
    manager_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> GapPage:
    """One page of the customers with a gap (highest tier first, then the oldest), with what the gap is."""
    _check_kind(kind)
    snap = ensure_snapshot(session, today, now)
    ctx = context(session, today, now)
    stmt = _list_stmt(kind, actor, manager_id)
    if actor.role in SUPERVISORS and manager_id is None:
        total = snap.counts.get(kind, 0)
    else:
        total = int(session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one())
    limit = max(0, min(int(limit), MAX_PAGE))
    rows = session.execute(stmt.offset(max(0, int(offset))).limit(limit)).all() if limit else []
    return GapPage(kind=kind, total=total, rows=_frame(session, kind, ctx, rows), computed_at=snap.at)


EXPORT_HEADERS = {
    "code": "Customer code",
    "name": "Customer",
    "phone": "Phone",
    "id_number": "ID number",
    "tier": "Tier",
    "manager": "Manager",
    "region": "Region",
    "since": "Since",
    "detail": "Gap",
}


def _export(
    session: Session, actor: Actor, kind: str, today: dt.date, now: dt.datetime | None, with_numbers: bool
) -> tuple[pd.DataFrame, bool]:
    _check_kind(kind)
    ensure_snapshot(session, today, now)
    ctx = context(session, today, now)
    rows = session.execute(_list_stmt(kind, actor, None).limit(EXPORT_LIMIT + 1)).all()
    cut = len(rows) > EXPORT_LIMIT
    frame = _frame(session, kind, ctx, rows[:EXPORT_LIMIT], with_numbers=with_numbers)
    cols = [col for col in EXPORT_HEADERS if col in frame.columns]
    out = frame[cols].rename(columns={col: t(EXPORT_HEADERS[col]) for col in cols})
    return out, cut


@query("customers.read")
def gap_export(
    *, session: Session, actor: Actor, kind: str, today: dt.date, now: dt.datetime | None = None
) -> tuple[pd.DataFrame, bool]:
    """The whole gap list for CSV/XLSX (phone numbers masked), up to EXPORT_LIMIT rows; True when cut."""
    return _export(session, actor, kind, today, now, with_numbers=False)


@command("customers.export_numbers")
def gap_export_with_numbers(
    *, session: Session, actor: Actor, kind: str, today: dt.date, now: dt.datetime | None = None
) -> tuple[pd.DataFrame, bool]:
    """The same list with full phone and ID numbers: supervisors only, written to the audit log (SPEC §1)."""
    frame, cut = _export(session, actor, kind, today, now, with_numbers=True)
    audit.note(entity="gap_list", entity_id=kind, counts={"rows": len(frame)})
    return frame, cut


def snapshot_ids(kind: str | None = None) -> Select[Any]:
    """SELECT customer_id of the stored gaps of one kind (or of any kind), for IN (...) filters."""
    stmt = select(g.c.customer_id)
    if kind is not None:
        stmt = stmt.where(g.c.kind == kind)
    return stmt


# ------------------------------------------------------------------------------------------------ wording of a row


def gap_details(session: Session, kind: str, ctx: GapContext, ids: Sequence[int]) -> dict[int, str]:
    """What the gap is, in words, for these customers (one or two queries for the whole page)."""
    if not ids:
        return {}
    ids = list(ids)
    fmt = _DETAILS[kind]
    return fmt(session, ctx, ids)


def _leave_details(session: Session, ctx: GapContext, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(c.c.id, s.c.code, s.c.name, s.c.active, s.c.leave_start, s.c.leave_end, s.c.exit_date)
        .select_from(c.join(s, s.c.id == c.c.manager_id))
        .where(c.c.id.in_(ids))
    ).all()
    out = {}
    for cid, code, name, active, start, end, exit_date in rows:
        who = f"{code} · {name}"
        if start is not None and start <= ctx.today and (end is None or end >= ctx.today):
            out[cid] = t(
                "{manager} is on leave {start} – {end} and no cover holds this VIP.",
                manager=who,
                start=start,
                end=end or "?",
            )
        elif exit_date is not None and exit_date <= ctx.today:
            out[cid] = t("{manager} left on {date}; the VIP was not moved.", manager=who, date=exit_date)
        elif not active:
            out[cid] = t("{manager} is inactive; the VIP was not moved.", manager=who)
    return out


def _level_details(session: Session, ctx: GapContext, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(c.c.id, c.c.tier_rank, s.c.code, s.c.name, s.c.manager_level)
        .select_from(c.join(s, s.c.id == c.c.manager_id))
        .where(c.c.id.in_(ids))
    ).all()
    return {
        cid: t(
            "{manager} is a {level} manager and may not hold a {tier} VIP.",
            manager=f"{code} · {name}",
            level=t(level or "none"),
            tier=ctx.ladder.name(int(rank)),
        )
        for cid, rank, code, name, level in rows
    }


def _contact_details(session: Session, ctx: GapContext, ids: list[int]) -> dict[int, str]:
    last = (
        select(ct.c.customer_id, func.max(ct.c.at).label("last"))
        .where(ct.c.customer_id.in_(ids), _qualifying_contact(ct))
        .group_by(ct.c.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(c.c.id, c.c.tier_rank, c.c.vip_since, c.c.created_at, last.c.last)
        .select_from(c.outerjoin(last, last.c.customer_id == c.c.id))
        .where(c.c.id.in_(ids))
    ).all()
    out = {}
    for cid, rank, vip_since, created, last_at in rows:
        days = ctx.ladder.contact_days(int(rank)) or 0
        if last_at is not None:
            day = local_date(last_at)
            out[cid] = t(
                MSG_LAST_CONTACT,
                day=day,
                tier=ctx.ladder.name(int(rank)),
                days=days,
                due=day + dt.timedelta(days=days),
            )
        else:
            start = local_date(vip_since or created)
            out[cid] = t(
                "No connected maintenance contact since becoming a VIP on {day}; the first was due by {due}.",
                day=start,
                due=start + dt.timedelta(days=days),
            )
    return out


def _evaluation_details(session: Session, ctx: GapContext, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(k.c.customer_id, func.max(k.c.started_at))
        .join(e, e.c.call_id == k.c.id)
        .where(k.c.customer_id.in_(ids), *_evaluated())
        .group_by(k.c.customer_id)
    ).all()
    last = {cid: at for cid, at in rows}
    out = {}
    for cid in ids:
        if last.get(cid) is not None:
            out[cid] = t("Last evaluated call on {day}.", day=local_date(last[cid]))
        else:
            out[cid] = t("No call to this customer has been evaluated.")
    return out


def _reception_details(session: Session, ctx: GapContext, ids: list[int]) -> dict[int, str]:
    up, joined = _reception_from(ctx, ids)
    rows = session.execute(
        select(c.c.id, ri.c.text_en, ri.c.text_zh, v.c.arrival_at, up.c.next_arrival)
        .select_from(joined)
        .where(c.c.id.in_(ids), *_reception_conds())
        .order_by(c.c.id, v.c.arrival_at, ri.c.id)
    ).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(int(row.id), []).append(row)
    out = {}
    for cid, items in grouped.items():
        first = items[0]
        text = pick({"text_en": first.text_en, "text_zh": first.text_zh}, "text")
        out[cid] = t(
            MSG_RECEPTION,
            count=len(items),
            item=text[:80],
            visit=local_date(first.arrival_at),
            next=local_date(first.next_arrival) if first.next_arrival else "?",
        )
    return out


def _downgrade_details(session: Session, ctx: GapContext, ids: list[int]) -> dict[int, str]:
    down_day = shanghai_date(tc.c.at)
    rows = session.execute(
        select(tc.c.customer_id, tc.c.at, tc.c.from_rank, tc.c.to_rank)
        .where(
            tc.c.customer_id.in_(ids),
            tc.c.kind == "downgrade",
            tc.c.at >= _instant(ctx.day_start(DOWNGRADE_LOOKBACK_DAYS)),
            _failed_call_before(ctx, down_day, tc.c.customer_id),
        )
        .order_by(tc.c.customer_id, tc.c.at.desc(), tc.c.id.desc())
    ).all()
    latest: dict[int, Any] = {}
    for row in rows:
        latest.setdefault(int(row.customer_id), row)
    failed_days: dict[int, list[dt.date]] = {}
    if latest:
        earliest = min(local_date(row.at) for row in latest.values()) - dt.timedelta(days=DOWNGRADE_AFTER_FAIL_DAYS)
        for cid, started in session.execute(
            select(k.c.customer_id, k.c.started_at)
            .join(e, e.c.call_id == k.c.id)
            .where(
                k.c.customer_id.in_(list(latest)), *_failed_evaluation(), k.c.started_at >= local_midnight_utc(earliest)
            )
        ).all():
            failed_days.setdefault(int(cid), []).append(local_date(started))
    out = {}
    for cid, row in latest.items():
        day = local_date(row.at)
        window = [d for d in failed_days.get(cid, []) if day - dt.timedelta(days=DOWNGRADE_AFTER_FAIL_DAYS) <= d <= day]
        call_day = max(window) if window else None
        out[cid] = t(
            "Downgraded {from_tier} → {to_tier} on {day}, {days} days after a failed evaluation of a call on {call_day}.",
            from_tier=ctx.ladder.name(int(row.from_rank)) if row.from_rank is not None else "?",
            to_tier=ctx.ladder.name(int(row.to_rank)),
            day=day,
            days=(day - call_day).days if call_day else "?",
            call_day=call_day or "?",
        )
    return out


_DETAILS = {
    "leave_uncovered": _leave_details,
    "level_mismatch": _level_details,
    "contact_overdue": _contact_details,
    "no_evaluation": _evaluation_details,
    "reception_followup": _reception_details,
    "downgrade_after_fail": _downgrade_details,
}


# ------------------------------------------------------------------------------------------------ one customer


@dataclass(frozen=True)
class GapHit:
    kind: str
    since: dt.date | None
    detail: str

    @property
    def label(self) -> str:
        return t(GAP_LABELS[self.kind])


def customer_gaps(session: Session, ctx: GapContext, customer_id: int) -> list[GapHit]:
    """The gaps of one customer: the same SELECTs as the lists, restricted to this customer."""
    hits = []
    for kind in GAP_KINDS:
        row = session.execute(gap_select(kind, ctx, only=[customer_id])).first()
        if row is not None:
            detail = gap_details(session, kind, ctx, [customer_id]).get(customer_id, "")
            hits.append(GapHit(kind, _since_date(row.since), detail))
    return hits
