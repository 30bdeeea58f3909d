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

from sqlalchemy.engine import Engine
from sqlmodel import Session

from console.tiers.common import ladder_on, units_by_rank, window_bounds
from console.tiers.engine import (
    FLAG_LIST_LIMIT,
    EvaluationResult,
    _stamp,
    capacity_flags,
    evaluate_chunk,
    newest_event_at,
)
from console.timeutil import local_date, utcnow

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
    """The tier engine's own evaluation, for exactly these customers and without a review (no downgrades)."""
    part = EvaluationResult(as_of=as_of.isoformat(), at=stamp.isoformat())
    evaluate_chunk(session, part, ladder, units, 0, 0, lo_at, hi_at, as_of, stamp, None, ids=ids)
    out.initial += part.initial
    out.upgrades += part.upgrades
    out.expired += part.expired
    out.events += part.events
    out.new_vips += part.new_vips
    out.new_vip_ids.extend(part.new_vip_ids[: max(0, FLAG_LIST_LIMIT - len(out.new_vip_ids))])
    out.changes.extend(part.change_list[: max(0, FLAG_LIST_LIMIT - len(out.changes))])
    out.level_flags.extend(part.level_flags)
    for manager_id, delta in part.units_added.items():
        added[int(manager_id)] = added.get(int(manager_id), 0) + delta
