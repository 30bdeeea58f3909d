"""The tier engine (SPEC §2): evaluation, the quarterly review, overrides, Supreme designation.

- Evaluation computes each customer's qualified tier from the purchases of the 12 months ending on the
  evaluation date. Upgrades apply at evaluation; downgrades only at the quarterly review, one step per
  review, and a TierReview(period) row makes each review apply once per period.
- An override pins a tier; when it lapses (override_expired) the tier is set to the qualified tier at once.
- Supreme is a designation: evaluation never touches a Supreme customer.
- Every change is a TierChange event. Evaluation never moves a VIP between managers: it flags a holder whose
  level no longer allows the tier and a manager pushed over capacity. A customer who falls to Member is
  unassigned with an Assignment history row (reason tier_change).

The evaluation runs as a job in chunks of customers; each chunk commits its changes together with the job's
checkpoint, so a job that stops resumes where it was and never applies a review step twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, or_, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from console import audit
from console.audit import command, query
from console.i18n import t
from console.jobs import JobContext, enqueue, handler
from console.meta import get_meta, set_meta
from console.permissions import Actor
from console.tiers.common import (
    LEVEL_MAX_RANK,
    SUPREME_RANK,
    TierError,
    TierRule,
    ladder_on,
    period_of,
    qualified_case,
    qualified_rank,
    units_by_rank,
    window_bounds,
)
from console.timeutil import add_working_days, local_date, local_to_utc, today_local, utcnow
from models import Assignment, Customer, Job, Purchase, Staff, TierChange, TierReview, User

EVAL_CHUNK = 20_000
INITIAL_THROUGH_KEY = "tiers.initial_through"  # customers up to this id are known to have a TierChange
FLAG_LIST_LIMIT = 500
LAST_EVALUATION_KEY = "tiers.last_evaluation"
JOB_KIND = "tier_evaluation"
REASON_QUALIFIED = "Qualified on trailing-12-month purchases"
REASON_REVIEW = "Quarterly review {period}: one step down"
REASON_EXPIRED = "Override expired on {date}: set to the qualified tier"
REASON_INITIAL = "First tier record"


# ------------------------------------------------------------------------------------------- as-of rules


def newest_event_at(session: Session) -> dt.datetime | None:
    return session.exec(select(func.max(TierChange.at))).one()


def check_as_of(session: Session, as_of: dt.date, today: dt.date) -> None:
    """Refuse an as-of in the future or before the newest tier event (it would rewrite history)."""
    if as_of > today:
        raise TierError(
            t(
                "The as-of date {as_of} is in the future: evaluate as of today ({today}) or earlier.",
                as_of=as_of,
                today=today,
            )
        )
    newest = newest_event_at(session)
    if newest is not None and as_of < local_date(newest):
        raise TierError(
            t(
                "The newest tier event is on {newest}: an evaluation as of {as_of} would rewrite history. Use {newest} or later.",
                newest=local_date(newest),
                as_of=as_of,
            )
        )


def _stamp(as_of: dt.date, today: dt.date, now: dt.datetime, newest: dt.datetime | None) -> dt.datetime:
    """When this evaluation's events happen: now for today, the end of the day for an earlier as-of;
    never before the newest event, so events are appended in time order."""
    at = now if as_of >= today else local_to_utc(as_of, dt.time(23, 59, 59))
    if newest is not None and newest > at:
        at = newest
    return at


# ------------------------------------------------------------------------------------------- one change


@dataclass
class CustomerState:
    """The columns of a customer a tier change reads and writes."""

    id: int
    tier_rank: int
    manager_id: int | None
    manager_level: str | None
    vip_since: dt.datetime | None
    waiting_since: dt.datetime | None
    binding_due: dt.date | None
    assigned_at: dt.datetime | None
    assignment_version: int
    override_rank: int | None
    override_until: dt.date | None
    supreme: bool


@dataclass
class ChangeEffects:
    """What a change means for assignment: the customer's new columns, an unassignment, a level flag."""

    values: dict[str, Any]
    unassigned_from: int | None = None
    level_flag: dict[str, Any] | None = None
    units_delta: int = 0


def plan_change(
    state: CustomerState,
    new_rank: int,
    at: dt.datetime,
    units: dict[int, int],
    *,
    clear_override: bool = False,
    supreme: bool | None = None,
) -> ChangeEffects:
    """The new column values when a customer's tier becomes new_rank at `at` (no database access)."""
    values: dict[str, Any] = {"tier_rank": new_rank, "tier_since": at}
    effects = ChangeEffects(values=values)
    if clear_override:
        values.update(override_rank=None, override_reason=None, override_until=None, override_by=None)
    if supreme is not None:
        values["supreme"] = supreme
    if new_rank == 0:
        values.update(vip_since=None, waiting_since=None, binding_due=None)
        if state.manager_id is not None:
            # SPEC §2: a customer who falls to Member is unassigned, with a history row.
            effects.unassigned_from = state.manager_id
            values.update(manager_id=None, assigned_at=None, assignment_version=state.assignment_version + 1)
        return effects
    if state.vip_since is None or state.tier_rank == 0:
        values["vip_since"] = at
    day0 = local_date(at)
    if state.manager_id is None:
        if state.tier_rank == 0 or state.waiting_since is None:
            values["waiting_since"] = at
            values["binding_due"] = add_working_days(day0, 3)
    else:
        effects.units_delta = units.get(new_rank, 0) - units.get(state.tier_rank, 0)
        max_rank = LEVEL_MAX_RANK.get(state.manager_level or "", -1)
        if new_rank > state.tier_rank and new_rank > max_rank:
            # The holder's level no longer allows the tier: flagged for assignment, never moved here.
            effects.level_flag = {
                "customer_id": state.id,
                "manager_id": state.manager_id,
                "level": state.manager_level,
                "rank": new_rank,
            }
            values["binding_due"] = add_working_days(day0, 3)
    return effects


def _event_row(
    customer_id: int,
    from_rank: int | None,
    to_rank: int,
    kind: str,
    at: dt.datetime,
    by_user_id: int | None,
    reason: str | None,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "from_rank": from_rank,
        "to_rank": to_rank,
        "kind": kind,
        "at": at,
        "by_user_id": by_user_id,
        "reason": (reason or "")[:500] or None,
    }


def _assignment_row(customer_id: int, manager_id: int, at: dt.datetime, by_user_id: int | None) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "from_manager_id": manager_id,
        "to_manager_id": None,
        "at": at,
        "by_user_id": by_user_id,
        "reason": "tier_change",
        "batch_id": None,
        "note": "Fell to Member at a tier change",
    }


_STATE_COLUMNS = (
    Customer.id,
    Customer.tier_rank,
    Customer.manager_id,
    Staff.manager_level,
    Customer.vip_since,
    Customer.waiting_since,
    Customer.binding_due,
    Customer.assigned_at,
    Customer.assignment_version,
    Customer.override_rank,
    Customer.override_until,
    Customer.supreme,
)


def _states(session: Session, ids: list[int], *, lock: bool) -> dict[int, CustomerState]:
    """Fresh customer rows (locked on PostgreSQL while the chunk decides)."""
    out: dict[int, CustomerState] = {}
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        stmt = (
            select(*_STATE_COLUMNS)
            .select_from(Customer)
            .outerjoin(Staff, Staff.id == Customer.manager_id)
            .where(Customer.id.in_(part))  # type: ignore[union-attr]
        )
        if lock:
            stmt = stmt.with_for_update(of=Customer)  # type: ignore[arg-type]
        for row in session.execute(stmt):
            out[row[0]] = CustomerState(*row)
    return out


_UPDATE_FIELDS = (
    "tier_rank",
    "tier_since",
    "vip_since",
    "waiting_since",
    "binding_due",
    "manager_id",
    "assigned_at",
    "assignment_version",
    "override_rank",
    "override_reason",
    "override_until",
    "override_by",
    "supreme",
)


def _write_updates(session: Session, updates: list[tuple[CustomerState, dict[str, Any]]]) -> None:
    """One executemany per shape of update (the set of columns changed)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for state, values in updates:
        cols = tuple(f for f in _UPDATE_FIELDS if f in values)
        shapes.setdefault(cols, []).append({"b_id": state.id, **{f"b_{c}": values[c] for c in cols}})
    table = Customer.__table__  # type: ignore[attr-defined]
    for cols, rows in shapes.items():
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in cols})
            .execution_options(synchronize_session=False)
        )
        session.execute(stmt, rows)


def _take_write_lock(session: Session, job_id: int | None) -> None:
    """Start the chunk's transaction with a write, so SQLite holds its writer lock while the chunk decides."""
    if job_id is not None:
        session.execute(
            text("UPDATE job SET heartbeat_at = :now WHERE id = :id"), {"now": _naive(utcnow()), "id": job_id}
        )
    else:
        session.execute(text("UPDATE appmeta SET key = key WHERE key = 'tiers.lock'"))


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------- evaluation


@dataclass
class EvaluationResult:
    as_of: str
    at: str
    review_period: str | None = None
    review_applied: bool = False
    review_ran_at: str | None = None
    customers: int = 0
    initial: int = 0
    upgrades: int = 0
    downgrades: int = 0
    expired: int = 0
    to_member: int = 0
    events: int = 0
    level_flags: list[dict[str, Any]] = field(default_factory=list)
    level_flag_total: int = 0
    capacity_flags: list[dict[str, Any]] = field(default_factory=list)
    units_added: dict[str, int] = field(default_factory=dict)
    last_id: int = 0
    initial_through: int = 0
    new_vips: int = 0  # Member -> VIP without a manager: their binding SLA clock started
    new_vip_ids: list[int] = field(default_factory=list)
    change_list: list[dict[str, Any]] = field(default_factory=list)  # the first changes, for display

    @property
    def changes(self) -> int:
        return self.upgrades + self.downgrades + self.expired


Progress = Callable[[int, int, str], None]


def evaluate(
    engine: Engine,
    *,
    as_of: dt.date | None = None,
    review: bool = False,
    by_user_id: int | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    job_id: int | None = None,
    checkpoint: dict[str, Any] | None = None,
    progress: Progress | None = None,
    chunk: int = EVAL_CHUNK,
) -> EvaluationResult:
    """Evaluate every customer as of a date (and run the quarterly review when asked).

    Chunks of customers commit one by one; with job_id the job's checkpoint is written in the same
    transaction as the chunk, so a resumed job continues exactly after the last committed chunk.
    """
    now = now or utcnow()
    today = today or local_date(now)
    as_of = as_of or today
    if checkpoint:
        result = EvaluationResult(**checkpoint)
        as_of = dt.date.fromisoformat(result.as_of)
        stamp = dt.datetime.fromisoformat(result.at)
    else:
        with Session(engine) as s:
            check_as_of(s, as_of, today)
            stamp = _stamp(as_of, today, now, newest_event_at(s))
        result = EvaluationResult(as_of=as_of.isoformat(), at=stamp.isoformat())
        result.initial_through = _initial_through(engine)
        if review:
            result.review_period = period_of(as_of)
            result.review_applied, ran_at = _claim_review(engine, result.review_period, stamp, by_user_id)
            result.review_ran_at = ran_at.isoformat() if ran_at else None
        _save_checkpoint(engine, job_id, result)
    lo_at, hi_at = window_bounds(as_of)
    with Session(engine) as s:
        ladder = ladder_on(s, as_of)
        total = s.exec(select(func.count()).select_from(Customer)).one()
    done = result.customers
    units = units_by_rank(ladder)
    if progress:
        progress(done, total, "evaluating")
    while True:
        with Session(engine) as s:
            _take_write_lock(s, job_id)
            hi, n = _chunk_end(s, result.last_id, chunk)
            if hi is None:
                s.rollback()
                break
            evaluate_chunk(s, result, ladder, units, result.last_id, hi, lo_at, hi_at, as_of, stamp, by_user_id)
            result.last_id = int(hi)
            result.customers += n
            _save_checkpoint_in(s, job_id, result)
            s.commit()
        done += n
        if progress:
            progress(
                min(done, total),
                total,
                f"{done:,}/{total:,} customers · {result.upgrades:,} up, {result.downgrades:,} down",
            )
    _finish(engine, result, units, by_user_id, job_id)
    return result


def _claim_review(
    engine: Engine, period: str, stamp: dt.datetime, by_user_id: int | None
) -> tuple[bool, dt.datetime | None]:
    """Insert the period's TierReview row; False (and when it ran) if this period was reviewed already."""
    with Session(engine) as s:
        existing = s.exec(select(TierReview).where(TierReview.period == period)).first()
        if existing is not None:
            return False, existing.ran_at
        try:
            s.add(TierReview(period=period, ran_at=stamp, by_user_id=by_user_id, downgrades=0))
            s.commit()
        except IntegrityError:  # a concurrent review of the same period won
            s.rollback()
            row = s.exec(select(TierReview).where(TierReview.period == period)).first()
            return False, row.ran_at if row else None
    return True, stamp


def _chunk_end(session: Session, after_id: int, chunk: int) -> tuple[int | None, int]:
    """The last id and the size of the next chunk of customers after after_id."""
    ids = select(Customer.id).where(Customer.id > after_id).order_by(Customer.id).limit(chunk).subquery()
    hi, n = session.execute(select(func.max(ids.c.id), func.count())).one()
    return hi, int(n)


def _initial_through(engine: Engine) -> int:
    """Customers up to this id all have a TierChange (checked by earlier evaluations); 0 after a reset."""
    with Session(engine) as s:
        known = get_meta(s, INITIAL_THROUGH_KEY)
        top = s.exec(select(func.coalesce(func.max(Customer.id), 0))).one()
    known = int(known) if isinstance(known, int) else 0
    return known if known <= top else 0


def evaluate_chunk(
    session: Session,
    result: EvaluationResult,
    ladder: list[TierRule],
    units: dict[int, int],
    lo: int,
    hi: int,
    lo_at: dt.datetime,
    hi_at: dt.datetime,
    as_of: dt.date,
    stamp: dt.datetime,
    by_user_id: int | None,
    *,
    ids: Sequence[int] | None = None,
) -> None:
    """Decide and write the changes of customers with lo < id <= hi (or, with ids, of exactly those customers)."""
    if ids is None:
        in_purchases = and_(Purchase.customer_id > lo, Purchase.customer_id <= hi)
        in_customers = and_(Customer.id > lo, Customer.id <= hi)
    else:
        in_purchases = Purchase.customer_id.in_(ids)  # type: ignore[attr-defined]
        in_customers = Customer.id.in_(ids)  # type: ignore[union-attr]
    agg = (
        select(
            Purchase.customer_id.label("cid"),
            func.count().label("cnt"),
            func.sum(Purchase.amount_fen).label("spend"),
        )
        .where(in_purchases, Purchase.at >= lo_at, Purchase.at < hi_at)
        .group_by(Purchase.customer_id)
        .subquery()
    )
    cnt = func.coalesce(agg.c.cnt, 0)
    spend = func.coalesce(agg.c.spend, 0)
    q = qualified_case(ladder, cnt, spend)
    has_event = exists().where(TierChange.customer_id == Customer.id)
    needs = [
        and_(Customer.override_rank.is_(None), q > Customer.tier_rank),  # type: ignore[union-attr]
        and_(Customer.override_rank.is_not(None), Customer.override_until <= as_of),  # type: ignore[union-attr,operator]
    ]
    if result.review_applied:
        needs.append(and_(Customer.override_rank.is_(None), q < Customer.tier_rank))  # type: ignore[union-attr]
    stmt = (
        select(Customer.id, cnt, spend, Customer.created_at, has_event)
        .select_from(Customer)
        .outerjoin(agg, agg.c.cid == Customer.id)
        .where(in_customers)
        .where(
            or_(
                and_(Customer.supreme == False, or_(*needs)),  # noqa: E712
                # Only customers newer than the last complete evaluation can lack their first event.
                and_(Customer.id > result.initial_through, ~has_event),
            )
        )
    )
    candidates = session.execute(stmt).all()
    if not candidates:
        return
    states = _states(session, [row[0] for row in candidates], lock=True)
    events: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    updates: list[tuple[CustomerState, dict[str, Any]]] = []
    for cid, count, total_fen, created_at, had_event in candidates:
        state = states.get(cid)
        if state is None:  # deleted meanwhile
            continue
        if not had_event:
            first_at = min(created_at, stamp) if created_at is not None else stamp
            events.append(_event_row(cid, None, state.tier_rank, "initial", first_at, None, REASON_INITIAL))
            result.initial += 1
        if state.supreme:
            continue
        qualified = qualified_rank(ladder, int(count), int(total_fen))
        old = state.tier_rank
        if state.override_rank is not None:
            if state.override_until is None or state.override_until > as_of:
                continue
            new, kind = qualified, "override_expired"
            reason = REASON_EXPIRED.format(date=state.override_until.isoformat())
            effects = plan_change(state, new, stamp, units, clear_override=True)
            result.expired += 1
        elif qualified > old:
            new, kind, reason = qualified, "upgrade", REASON_QUALIFIED
            effects = plan_change(state, new, stamp, units)
            result.upgrades += 1
        elif result.review_applied and qualified < old:
            new, kind = old - 1, "downgrade"
            reason = REASON_REVIEW.format(period=result.review_period)
            effects = plan_change(state, new, stamp, units)
            result.downgrades += 1
        else:
            continue
        if old == 0 and new > 0 and state.manager_id is None:
            result.new_vips += 1
            if len(result.new_vip_ids) < FLAG_LIST_LIMIT:
                result.new_vip_ids.append(int(cid))
        if len(result.change_list) < FLAG_LIST_LIMIT:
            result.change_list.append({"customer_id": int(cid), "from_rank": old, "to_rank": new, "kind": kind})
        events.append(_event_row(cid, old, new, kind, stamp, by_user_id if kind != "upgrade" else None, reason))
        updates.append((state, effects.values))
        if effects.unassigned_from is not None:
            assignments.append(_assignment_row(cid, effects.unassigned_from, stamp, by_user_id))
            result.to_member += 1
        if effects.level_flag is not None:
            result.level_flag_total += 1
            if len(result.level_flags) < FLAG_LIST_LIMIT:
                result.level_flags.append(effects.level_flag)
        if effects.units_delta and state.manager_id is not None:
            key = str(state.manager_id)
            result.units_added[key] = result.units_added.get(key, 0) + effects.units_delta
    if events:
        session.execute(insert(TierChange.__table__), events)  # type: ignore[attr-defined]
        result.events += len(events)
    if updates:
        _write_updates(session, updates)
    if assignments:
        session.execute(insert(Assignment.__table__), assignments)  # type: ignore[attr-defined]


def _save_checkpoint(engine: Engine, job_id: int | None, result: EvaluationResult) -> None:
    if job_id is None:
        return
    with Session(engine) as s:
        _save_checkpoint_in(s, job_id, result)
        s.commit()


def _save_checkpoint_in(session: Session, job_id: int | None, result: EvaluationResult) -> None:
    if job_id is None:
        return
    session.execute(
        update(Job)
        .where(Job.id == job_id)  # type: ignore[arg-type]
        .values(checkpoint=json.dumps(asdict(result), default=str), heartbeat_at=utcnow())
    )


def capacity_flags(session: Session, units: dict[int, int], added: dict[int, int]) -> list[dict[str, Any]]:
    """Managers over capacity after units were added to their portfolio by tier changes."""
    grown = [mid for mid, delta in added.items() if delta > 0]
    if not grown:
        return []
    load: dict[int, int] = {}
    for start in range(0, len(grown), 900):
        part = grown[start : start + 900]
        rows = session.execute(
            select(Customer.manager_id, Customer.tier_rank, func.count())
            .where(Customer.manager_id.in_(part))  # type: ignore[union-attr]
            .group_by(Customer.manager_id, Customer.tier_rank)
        ).all()
        for mid, rank, n in rows:
            load[mid] = load.get(mid, 0) + units.get(rank, 0) * int(n)
    flags = []
    staff = {s.id: s for s in session.exec(select(Staff).where(Staff.id.in_(grown))).all()}  # type: ignore[union-attr]
    for mid in sorted(grown):
        person = staff.get(mid)
        if person is None:
            continue
        after = load.get(mid, 0)
        if after > person.capacity_units:
            before = after - added[mid]
            flags.append(
                {
                    "manager_id": mid,
                    "load_before": before,
                    "load_after": after,
                    "capacity": person.capacity_units,
                    "pushed_over": before <= person.capacity_units,
                }
            )
    return flags


def _finish(
    engine: Engine, result: EvaluationResult, units: dict[int, int], by_user_id: int | None, job_id: int | None
) -> None:
    with Session(engine) as s:
        added = {int(k): v for k, v in result.units_added.items()}
        result.capacity_flags = capacity_flags(s, units, added)
        if result.review_applied and result.review_period:
            review = s.exec(select(TierReview).where(TierReview.period == result.review_period)).first()
            if review is not None:
                review.downgrades = result.downgrades
                s.add(review)
        summary = {
            "finished_at": utcnow().isoformat(),
            "as_of": result.as_of,
            "at": result.at,
            "review_period": result.review_period,
            "review_applied": result.review_applied,
            "review_ran_at": result.review_ran_at,
            "customers": result.customers,
            "initial": result.initial,
            "upgrades": result.upgrades,
            "downgrades": result.downgrades,
            "expired": result.expired,
            "to_member": result.to_member,
            "events": result.events,
            "level_flags": result.level_flags,
            "level_flag_total": result.level_flag_total,
            "capacity_flags": result.capacity_flags,
            "job_id": job_id,
            "by_user_id": by_user_id,
        }
        set_meta(s, LAST_EVALUATION_KEY, summary)
        set_meta(s, INITIAL_THROUGH_KEY, result.last_id)
        s.commit()


def result_message(result: EvaluationResult) -> str:
    parts = [
        f"as of {result.as_of}: {result.customers:,} customers",
        f"{result.upgrades:,} upgrades",
        f"{result.downgrades:,} downgrades",
        f"{result.expired:,} overrides lapsed",
        f"{result.to_member:,} fell to Member",
    ]
    if result.review_period:
        parts.append(
            f"review {result.review_period} applied"
            if result.review_applied
            else f"review {result.review_period} had already run"
        )
    flags = result.level_flag_total + len(result.capacity_flags)
    if flags:
        parts.append(f"{flags:,} flags for assignment")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------- as a job


def running_evaluation(session: Session) -> Job | None:
    return session.exec(
        select(Job).where(Job.kind == JOB_KIND, Job.status.in_(("queued", "running"))).order_by(Job.id)  # type: ignore[attr-defined]
    ).first()


@command("tiers.evaluate")
def start_evaluation(
    *,
    session: Session,
    actor: Actor,
    as_of: dt.date | None = None,
    review: bool = False,
    today: dt.date | None = None,
) -> int:
    """Queue a tier evaluation job (refused up front for a bad as-of or while one is running)."""
    today = today or today_local()
    as_of = as_of or today
    check_as_of(session, as_of, today)
    running = running_evaluation(session)
    if running is not None:
        raise TierError(t("A tier evaluation is already queued or running (job {id}).", id=running.id))
    params = {"as_of": as_of.isoformat(), "review": bool(review), "by_user_id": actor.user_id}
    job = enqueue(session, actor=actor, kind=JOB_KIND, params=params)
    audit.note(entity="job", entity_id=job.id, after=params)
    return int(job.id)  # type: ignore[arg-type]


@handler(JOB_KIND, action="tiers.evaluate")
def _run_evaluation_job(ctx: JobContext) -> dict[str, Any]:
    params = ctx.params

    def report(done: int, total: int, message: str) -> None:
        ctx.progress(done, total, message)

    result = evaluate(
        ctx.engine,
        as_of=dt.date.fromisoformat(params["as_of"]),
        review=bool(params.get("review")),
        by_user_id=params.get("by_user_id"),
        job_id=ctx.job_id,
        checkpoint=ctx.checkpoint,
        progress=report,
    )
    if result.events:
        # Keep the Tiers page fast: rebuild the department's monthly history now, not on the next page view.
        from console.tiers.distribution import refresh_mix_cache

        ctx.progress(result.customers, result.customers, "refreshing the monthly tier history")
        refresh_mix_cache(ctx.engine)
    out = asdict(result)
    out["message"] = result_message(result)
    return out


@query("tiers.read")
def last_evaluation(*, session: Session, actor: Actor) -> dict[str, Any] | None:
    """The summary the last finished evaluation stored (when, as of, counts, flags)."""
    value = get_meta(session, LAST_EVALUATION_KEY)
    return value if isinstance(value, dict) else None


# ------------------------------------------------------------------------------------------- overrides


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise TierError(t("No customer with id {id}.", id=customer_id))
    return customer


def _state_of(session: Session, customer_id: int) -> CustomerState:
    states = _states(session, [customer_id], lock=True)
    if customer_id not in states:
        raise TierError(t("No customer with id {id}.", id=customer_id))
    return states[customer_id]


def _apply_single(
    session: Session,
    state: CustomerState,
    *,
    new_rank: int,
    kind: str,
    at: dt.datetime,
    actor: Actor,
    reason: str,
    ladder: list[TierRule],
    extra: dict[str, Any] | None = None,
    clear_override: bool = False,
    supreme: bool | None = None,
) -> ChangeEffects:
    units = units_by_rank(ladder)
    effects = plan_change(state, new_rank, at, units, clear_override=clear_override, supreme=supreme)
    values = dict(effects.values)
    if extra:
        values.update(extra)
    _write_updates(session, [(state, values)])
    session.execute(
        insert(TierChange.__table__),  # type: ignore[attr-defined]
        [_event_row(state.id, state.tier_rank, new_rank, kind, at, actor.user_id, reason)],
    )
    if effects.unassigned_from is not None:
        session.execute(
            insert(Assignment.__table__),  # type: ignore[attr-defined]
            [_assignment_row(state.id, effects.unassigned_from, at, actor.user_id)],
        )
    session.expire_all()
    return effects


def _event_time(session: Session, now: dt.datetime | None) -> dt.datetime:
    at = now or utcnow()
    newest = newest_event_at(session)
    return newest if newest is not None and newest > at else at


def qualified_now(session: Session, customer_id: int, as_of: dt.date) -> tuple[int, int, int]:
    """(qualified rank, purchases, spend in fen) of one customer for the window ending on as_of."""
    lo_at, hi_at = window_bounds(as_of)
    count, spend = session.execute(
        select(func.count(), func.coalesce(func.sum(Purchase.amount_fen), 0)).where(
            Purchase.customer_id == customer_id, Purchase.at >= lo_at, Purchase.at < hi_at
        )
    ).one()
    return qualified_rank(ladder_on(session, as_of), int(count), int(spend)), int(count), int(spend)


@dataclass
class ChangeOutcome:
    customer_id: int
    from_rank: int
    to_rank: int
    unassigned: bool
    level_flag: dict[str, Any] | None
    over_capacity: list[dict[str, Any]]


def _outcome(
    session: Session, state: CustomerState, new_rank: int, effects: ChangeEffects, ladder: list[TierRule]
) -> ChangeOutcome:
    over = []
    if effects.units_delta > 0 and state.manager_id is not None:
        over = capacity_flags(session, units_by_rank(ladder), {state.manager_id: effects.units_delta})
    return ChangeOutcome(
        customer_id=state.id,
        from_rank=state.tier_rank,
        to_rank=new_rank,
        unassigned=effects.unassigned_from is not None,
        level_flag=effects.level_flag,
        over_capacity=over,
    )


def _clean_reason(reason: str | None) -> str:
    text_ = (reason or "").strip()
    if len(text_) < 3:
        raise TierError(t("Give a reason (at least 3 characters): it is kept with the tier history."))
    return text_[:480]


@command("tiers.override")
def set_override(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    rank: int,
    reason: str,
    until: dt.date | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ChangeOutcome:
    """Pin a customer's tier with a reason and an optional expiry (the date it lapses)."""
    today = today or today_local()
    why = _clean_reason(reason)
    if until is not None and until <= today:
        raise TierError(
            t(
                "The expiry {until} is not in the future: choose a date after {today}, or none.",
                until=until,
                today=today,
            )
        )
    ladder = ladder_on(session, today)
    pinnable = {r.rank for r in ladder if not r.designation_only}
    if rank not in pinnable:
        raise TierError(t("An override pins a tier from Member to Diamond; Supreme is a designation of its own."))
    state = _state_of(session, customer_id)
    if state.supreme:
        raise TierError(t("This customer is Supreme by designation: remove the designation before pinning a tier."))
    at = _event_time(session, now)
    extra = {"override_rank": rank, "override_reason": why, "override_until": until, "override_by": actor.user_id}
    effects = _apply_single(
        session, state, new_rank=rank, kind="override", at=at, actor=actor, reason=why, ladder=ladder, extra=extra
    )
    audit.note(
        entity="customer",
        entity_id=customer_id,
        before={
            "tier_rank": state.tier_rank,
            "override_rank": state.override_rank,
            "override_until": state.override_until,
        },
        after={"tier_rank": rank, "override_rank": rank, "override_until": until, "reason": why},
    )
    return _outcome(session, state, rank, effects, ladder)


@command("tiers.override")
def clear_override(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    reason: str,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ChangeOutcome:
    """End an override now: the tier is set to the qualified tier at once (override_expired)."""
    today = today or today_local()
    why = _clean_reason(reason)
    state = _state_of(session, customer_id)
    if state.override_rank is None:
        raise TierError(t("This customer has no override to clear."))
    ladder = ladder_on(session, today)
    qualified, _, _ = qualified_now(session, customer_id, today)
    at = _event_time(session, now)
    effects = _apply_single(
        session,
        state,
        new_rank=qualified,
        kind="override_expired",
        at=at,
        actor=actor,
        reason=f"Override cleared: {why}",
        ladder=ladder,
        clear_override=True,
    )
    audit.note(
        entity="customer",
        entity_id=customer_id,
        before={"tier_rank": state.tier_rank, "override_rank": state.override_rank},
        after={"tier_rank": qualified, "override_rank": None, "reason": why},
    )
    return _outcome(session, state, qualified, effects, ladder)


@command("tiers.designate")
def designate_supreme(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    reason: str,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ChangeOutcome:
    """Designate a customer Supreme (an event of its own; evaluation never touches them afterwards)."""
    today = today or today_local()
    why = _clean_reason(reason)
    state = _state_of(session, customer_id)
    if state.supreme:
        raise TierError(t("This customer is already Supreme."))
    ladder = ladder_on(session, today)
    at = _event_time(session, now)
    effects = _apply_single(
        session,
        state,
        new_rank=SUPREME_RANK,
        kind="designation",
        at=at,
        actor=actor,
        reason=why,
        ladder=ladder,
        clear_override=True,
        supreme=True,
    )
    audit.note(entity="customer", entity_id=customer_id, before={"tier_rank": state.tier_rank}, after={"supreme": True})
    return _outcome(session, state, SUPREME_RANK, effects, ladder)


@command("tiers.designate")
def remove_supreme(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    reason: str,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ChangeOutcome:
    """Remove the Supreme designation: the tier becomes the qualified tier at once."""
    today = today or today_local()
    why = _clean_reason(reason)
    state = _state_of(session, customer_id)
    if not state.supreme:
        raise TierError(t("This customer is not Supreme."))
    ladder = ladder_on(session, today)
    qualified, _, _ = qualified_now(session, customer_id, today)
    at = _event_time(session, now)
    effects = _apply_single(
        session,
        state,
        new_rank=qualified,
        kind="designation",
        at=at,
        actor=actor,
        reason=f"Supreme designation removed: {why}",
        ladder=ladder,
        supreme=False,
    )
    audit.note(
        entity="customer",
        entity_id=customer_id,
        before={"supreme": True},
        after={"supreme": False, "tier_rank": qualified},
    )
    return _outcome(session, state, qualified, effects, ladder)


# ------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class OverrideRow:
    customer_id: int
    code: str
    name: str
    rank: int
    qualified_hint: int | None
    reason: str | None
    until: dt.date | None
    set_by: str | None
    set_at: dt.datetime | None
    manager: str | None


@query("tiers.read")
def active_overrides(
    *, session: Session, actor: Actor, offset: int = 0, limit: int = 50
) -> tuple[int, list[OverrideRow]]:
    """The active overrides in the actor's scope: who set them, when, and when they lapse."""
    from console.tiers.common import list_scope, not_training

    scope = list_scope(actor)
    base = select(Customer.id).where(Customer.override_rank.is_not(None), not_training())  # type: ignore[union-attr]
    if scope is not None:
        base = base.where(scope)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    last_override = (
        select(func.max(TierChange.at))
        .where(TierChange.customer_id == Customer.id, TierChange.kind == "override")
        .correlate(Customer)
        .scalar_subquery()
    )
    stmt = (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.override_rank,
            Customer.override_reason,
            Customer.override_until,
            User.username,
            last_override,
            Staff.name,
        )
        .select_from(Customer)
        .outerjoin(User, User.id == Customer.override_by)
        .outerjoin(Staff, Staff.id == Customer.manager_id)
        .where(Customer.override_rank.is_not(None), not_training())  # type: ignore[union-attr]
        .order_by(Customer.override_until.is_(None), Customer.override_until, Customer.code)  # type: ignore[union-attr]
        .offset(offset)
        .limit(limit)
    )
    if scope is not None:
        stmt = stmt.where(scope)
    rows = [
        OverrideRow(
            customer_id=r[0],
            code=r[1],
            name=r[2],
            rank=r[3],
            qualified_hint=None,
            reason=r[4],
            until=r[5],
            set_by=r[6],
            set_at=r[7] if r[7] is None or isinstance(r[7], dt.datetime) else dt.datetime.fromisoformat(str(r[7])),
            manager=r[8],
        )
        for r in session.execute(stmt).all()
    ]
    return int(total), rows


@dataclass
class FlagTables:
    level: list[dict[str, Any]]
    level_total: int
    capacity: list[dict[str, Any]]


@query("tiers.read")
def evaluation_flags(*, session: Session, actor: Actor) -> FlagTables:
    """The last evaluation's flags for assignment, with names and whether each is still open."""
    from console.tiers.common import LEVEL_MAX_RANK as MAX_RANK

    last = get_meta(session, LAST_EVALUATION_KEY)
    if not isinstance(last, dict):
        return FlagTables([], 0, [])
    level_rows = last.get("level_flags") or []
    ids = [int(r["customer_id"]) for r in level_rows]
    customers = {
        c.id: c
        for c in session.exec(select(Customer).where(Customer.id.in_(ids))).all()  # type: ignore[union-attr]
    }
    managers = {int(r["manager_id"]) for r in level_rows} | {
        int(r["manager_id"]) for r in last.get("capacity_flags") or []
    }
    staff = {p.id: p for p in session.exec(select(Staff).where(Staff.id.in_(list(managers)))).all()}  # type: ignore[union-attr]
    level = []
    for row in level_rows:
        cust = customers.get(int(row["customer_id"]))
        holder = staff.get(int(row["manager_id"]))
        still = bool(
            cust is not None
            and cust.manager_id == int(row["manager_id"])
            and holder is not None
            and cust.tier_rank > MAX_RANK.get(holder.manager_level or "", -1)
        )
        level.append(
            {
                "code": cust.code if cust else "",
                "name": cust.name if cust else "",
                "rank": int(row["rank"]),
                "manager": holder.name if holder else "",
                "level": row.get("level") or "",
                "open": still,
            }
        )
    capacity = []
    for row in last.get("capacity_flags") or []:
        holder = staff.get(int(row["manager_id"]))
        capacity.append(
            {
                "manager": holder.name if holder else "",
                "code": holder.code if holder else "",
                "load_before": int(row["load_before"]),
                "load_after": int(row["load_after"]),
                "capacity": int(row["capacity"]),
                "pushed_over": bool(row.get("pushed_over")),
            }
        )
    return FlagTables(level=level, level_total=int(last.get("level_flag_total", len(level))), capacity=capacity)


@query("tiers.read")
def review_history(*, session: Session, actor: Actor, limit: int = 8) -> list[TierReview]:
    """The quarterly reviews that ran, newest first."""
    return list(session.exec(select(TierReview).order_by(TierReview.period.desc()).limit(limit)))  # type: ignore[attr-defined]


@query("tiers.read")
def review_done(*, session: Session, actor: Actor, period: str) -> TierReview | None:
    """The review of a period if it ran (it applies once per period)."""
    return session.exec(select(TierReview).where(TierReview.period == period)).first()
