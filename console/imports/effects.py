"""What follows an import (issue 8 item 3): tier evaluation of the customers it touched, SLA clocks for new VIPs.

The evaluation is the tier engine's, limited to the touched customers: the same qualification (console.tiers
ladder and trailing-12-month window), the same change planning (console.tiers.engine.plan_change, which also
starts a new VIP's binding clock: waiting_since and binding_due = 3 working days after day 0, SPEC §3) and the
same events. Upgrades apply now; downgrades never here (only at the quarterly review, as always); an override
that has lapsed is set to the qualified tier, as at any evaluation; a Supreme customer is never touched.
Customers without any tier event get their "initial" event, as the engine gives them.

New calls need nothing more: the QA review queue reads connected calls from the Call table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from console.tiers.common import ladder_on, qualified_case, qualified_rank, units_by_rank, window_bounds
from console.tiers.engine import (
    FLAG_LIST_LIMIT,
    REASON_EXPIRED,
    REASON_INITIAL,
    REASON_QUALIFIED,
    _assignment_row,
    _event_row,
    _stamp,
    _states,
    _write_updates,
    capacity_flags,
    newest_event_at,
    plan_change,
)
from console.timeutil import local_date, utcnow
from models import Assignment, Customer, Purchase, TierChange

CHUNK = 900


@dataclass
class Effects:
    customers: int = 0  # customers evaluated
    initial: int = 0
    upgrades: int = 0
    expired: int = 0
    new_vips: int = 0  # Member -> VIP: their binding SLA clock started
    new_vip_ids: list[int] = field(default_factory=list)
    level_flags: list[dict[str, Any]] = field(default_factory=list)
    capacity_flags: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # customer_id, from_rank, to_rank, kind
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "initial": self.initial,
            "upgrades": self.upgrades,
            "expired": self.expired,
            "new_vips": self.new_vips,
            "new_vip_ids": self.new_vip_ids[:FLAG_LIST_LIMIT],
            "level_flags": self.level_flags[:FLAG_LIST_LIMIT],
            "capacity_flags": self.capacity_flags,
            "changes": self.changes[:FLAG_LIST_LIMIT],
            "events": self.events,
        }


Progress = Callable[[int, int], None]


def evaluate_customers(
    engine: Engine,
    customer_ids: Sequence[int],
    *,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> Effects:
    """Evaluate these customers as of today (upgrades, lapsed overrides, initial events), in chunks that commit."""
    now = now or utcnow()
    as_of = local_date(now)
    ids = sorted({int(i) for i in customer_ids})
    out = Effects()
    if not ids:
        return out
    with Session(engine) as s:
        ladder = ladder_on(s, as_of)
        stamp = _stamp(as_of, as_of, now, newest_event_at(s))
    units = units_by_rank(ladder)
    lo_at, hi_at = window_bounds(as_of)
    added: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        with Session(engine) as s:
            _evaluate_part(s, part, ladder, units, lo_at, hi_at, as_of, stamp, out, added)
            s.commit()
        out.customers += len(part)
        if progress:
            progress(min(start + CHUNK, len(ids)), len(ids))
    if any(v > 0 for v in added.values()):
        with Session(engine) as s:
            out.capacity_flags = capacity_flags(s, units, added)
    if out.events:
        # The Tiers page's monthly history: rebuilt now, as after any evaluation job.
        from console.tiers.distribution import refresh_mix_cache

        refresh_mix_cache(engine)
    return out


def _evaluate_part(
    session: Session,
    ids: list[int],
    ladder: Any,
    units: dict[int, int],
    lo_at: dt.datetime,
    hi_at: dt.datetime,
    as_of: dt.date,
    stamp: dt.datetime,
    out: Effects,
    added: dict[int, int],
) -> None:
    agg = (
        select(
            Purchase.customer_id.label("cid"),
            func.count().label("cnt"),
            func.sum(Purchase.amount_fen).label("spend"),
        )
        .where(Purchase.customer_id.in_(ids), Purchase.at >= lo_at, Purchase.at < hi_at)  # type: ignore[attr-defined]
        .group_by(Purchase.customer_id)
        .subquery()
    )
    cnt = func.coalesce(agg.c.cnt, 0)
    spend = func.coalesce(agg.c.spend, 0)
    q = qualified_case(ladder, cnt, spend)
    has_event = exists().where(TierChange.customer_id == Customer.id)
    needs = or_(
        and_(Customer.override_rank.is_(None), q > Customer.tier_rank),  # type: ignore[union-attr]
        and_(Customer.override_rank.is_not(None), Customer.override_until <= as_of),  # type: ignore[union-attr,operator]
    )
    candidates = session.execute(
        select(Customer.id, cnt, spend, Customer.created_at, has_event)
        .select_from(Customer)
        .outerjoin(agg, agg.c.cid == Customer.id)
        .where(Customer.id.in_(ids))  # type: ignore[union-attr]
        .where(or_(~has_event, and_(Customer.supreme == False, needs)))  # noqa: E712
    ).all()
    if not candidates:
        return
    states = _states(session, [row[0] for row in candidates], lock=True)
    events: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    updates: list[tuple[Any, dict[str, Any]]] = []
    for cid, count, total_fen, created_at, had_event in candidates:
        state = states.get(cid)
        if state is None:
            continue
        if not had_event:
            first_at = min(created_at, stamp) if created_at is not None else stamp
            events.append(_event_row(cid, None, state.tier_rank, "initial", first_at, None, REASON_INITIAL))
            out.initial += 1
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
            out.expired += 1
        elif qualified > old:
            new, kind, reason = qualified, "upgrade", REASON_QUALIFIED
            effects = plan_change(state, new, stamp, units)
            out.upgrades += 1
        else:
            continue
        if old == 0 and new > 0 and state.manager_id is None:
            out.new_vips += 1
            out.new_vip_ids.append(int(cid))
        events.append(_event_row(cid, old, new, kind, stamp, None, reason))
        if len(out.changes) < FLAG_LIST_LIMIT:
            out.changes.append({"customer_id": int(cid), "from_rank": old, "to_rank": new, "kind": kind})
        updates.append((state, effects.values))
        if effects.unassigned_from is not None:
            assignments.append(_assignment_row(cid, effects.unassigned_from, stamp, None))
        if effects.level_flag is not None:
            out.level_flags.append(effects.level_flag)
        if effects.units_delta and state.manager_id is not None:
            added[state.manager_id] = added.get(state.manager_id, 0) + effects.units_delta
    if events:
        session.execute(insert(TierChange.__table__), events)  # type: ignore[attr-defined]
        out.events += len(events)
    if updates:
        _write_updates(session, updates)
    if assignments:
        session.execute(insert(Assignment.__table__), assignments)  # type: ignore[attr-defined]
