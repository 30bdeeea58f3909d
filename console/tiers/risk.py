"""Near threshold and at risk (SPEC §2): the lists a client manager calls.

- Near threshold: customers within 10 % of the next tier's threshold on today's window (not yet qualifying).
  For an either-or tier one measure within 10 % is enough; for a tier that requires both, both must be.
- At risk: the tier the customer would qualify for at the next review date, counting only the purchases that
  will still be inside the window then, is lower than the current tier (Supreme excluded; a pinned customer
  only when the pin lapses before the review).

Both are one SQL aggregate over the purchases of the customers in scope; names are read for the page only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, false, func, not_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from console.audit import query
from console.meta import get_meta
from console.permissions import Actor
from console.tiers.common import (
    TierRule,
    fmt_yuan,
    ladder_on,
    list_scope,
    next_review_date,
    not_training,
    qualified_case,
    save_meta_quietly,
    window_bounds,
)
from models import Customer, Purchase, Staff, TierChange

NEAR_SHARE = 0.9
ALL = "all"
UNASSIGNED = "unassigned"
RISK_CACHE_KEY = "tiers.risk_counts"


@dataclass
class RiskPage:
    total: int
    rows: pd.DataFrame
    review_date: dt.date | None = None


def _manager_filter(manager: int | str | None) -> ColumnElement | None:
    if manager in (None, ALL):
        return None
    if manager == UNASSIGNED:
        return Customer.manager_id.is_(None)  # type: ignore[union-attr]
    return Customer.manager_id == int(manager)


def _customer_filter(actor: Actor, manager: int | str | None) -> list[ColumnElement]:
    conds = [not_training()]
    scope = list_scope(actor)
    if scope is not None:
        conds.append(scope)
    mf = _manager_filter(manager)
    if mf is not None:
        conds.append(mf)
    return conds


def _window_agg(lo_at: dt.datetime, hi_at: dt.datetime | None, conds: list[ColumnElement]) -> Any:
    """Purchases per customer in [lo_at, hi_at) for the customers matching conds."""
    ids = select(Customer.id).where(*conds)
    where = [Purchase.at >= lo_at, Purchase.customer_id.in_(ids)]  # type: ignore[attr-defined]
    if hi_at is not None:
        where.append(Purchase.at < hi_at)
    return (
        select(
            Purchase.customer_id.label("cid"), func.count().label("cnt"), func.sum(Purchase.amount_fen).label("spend")
        )
        .where(*where)
        .group_by(Purchase.customer_id)
        .subquery()
    )


def _threshold_of(ladder: list[TierRule], rank: int) -> TierRule | None:
    for rule in ladder:
        if rule.rank == rank and rule.has_threshold:
            return rule
    return None


def _gaps(rule: TierRule | None, count: int, spend: int) -> tuple[int | None, int | None]:
    if rule is None:
        return None, None
    spend_gap = max(0, rule.min_spend_fen - spend) if rule.min_spend_fen is not None else None
    count_gap = max(0, rule.min_purchases - count) if rule.min_purchases is not None else None
    return spend_gap, count_gap


# ------------------------------------------------------------------------------------------- at risk


def at_risk_candidates(
    session: Session, *, conds: list[ColumnElement], today: dt.date
) -> tuple[dt.date, list[tuple[Any, ...]]]:
    """(review date, [(id, tier, qualified at review, count, spend, manager_id, override_until)])."""
    review = next_review_date(today)
    ladder = ladder_on(session, review)
    lo_at, _ = window_bounds(review)
    agg = _window_agg(lo_at, None, conds)
    cnt = func.coalesce(agg.c.cnt, 0)
    spend = func.coalesce(agg.c.spend, 0)
    q = qualified_case(ladder, cnt, spend)
    stmt = (
        select(Customer.id, Customer.tier_rank, q, cnt, spend, Customer.manager_id, Customer.override_until)
        .select_from(Customer)
        .outerjoin(agg, agg.c.cid == Customer.id)
        .where(*conds)
        .where(
            Customer.tier_rank > 0,
            Customer.supreme == False,  # noqa: E712
            or_(Customer.override_rank.is_(None), Customer.override_until <= review),  # type: ignore[union-attr,operator]
            q < Customer.tier_rank,
        )
    )
    return review, [tuple(r) for r in session.exec(stmt).all()]


@query("tiers.read")
def at_risk(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    manager: int | str | None = ALL,
    offset: int = 0,
    limit: int | None = 50,
) -> RiskPage:
    """Customers at risk at the next review, highest tier first, smallest spend gap next."""
    review, rows = at_risk_candidates(session, conds=_customer_filter(actor, manager), today=today)
    ladder = ladder_on(session, review)
    enriched = []
    for cid, rank, qualified, count, spend, manager_id, until in rows:
        falls_to = int(qualified) if until is not None else max(int(qualified), rank - 1)
        spend_gap, count_gap = _gaps(_threshold_of(ladder, rank), int(count), int(spend))
        enriched.append((cid, rank, falls_to, int(count), int(spend), spend_gap, count_gap, manager_id))
    enriched.sort(key=lambda r: (-r[1], r[5] if r[5] is not None else math.inf, r[0]))
    page = enriched[offset : offset + limit] if limit is not None else enriched[offset:]
    frame = _with_names(
        session,
        page,
        ["customer_id", "rank", "falls_to", "purchases", "spend_fen", "spend_gap_fen", "purchases_gap", "manager_id"],
    )
    return RiskPage(total=len(enriched), rows=frame, review_date=review)


# ------------------------------------------------------------------------------------------- near threshold


def _near_condition(ladder: list[TierRule], cnt: ColumnElement, spend: ColumnElement) -> ColumnElement:
    parts = []
    for rule in ladder:
        nxt = _threshold_of(ladder, rule.rank + 1)
        if nxt is None:
            continue
        near_parts, meets_parts = [], []
        if nxt.min_spend_fen is not None:
            near_parts.append(spend >= math.ceil(nxt.min_spend_fen * NEAR_SHARE))
            meets_parts.append(spend >= nxt.min_spend_fen)
        if nxt.min_purchases is not None:
            near_parts.append(cnt >= math.ceil(nxt.min_purchases * NEAR_SHARE))
            meets_parts.append(cnt >= nxt.min_purchases)
        if nxt.require_both:
            near, meets = and_(*near_parts), and_(*meets_parts)
        else:
            near, meets = or_(*near_parts), or_(*meets_parts)
        parts.append(and_(Customer.tier_rank == rule.rank, near, not_(meets)))
    return or_(*parts) if parts else false()


def near_candidates(session: Session, *, conds: list[ColumnElement], today: dt.date) -> list[tuple[Any, ...]]:
    ladder = ladder_on(session, today)
    lo_at, hi_at = window_bounds(today)
    agg = _window_agg(lo_at, hi_at, conds)
    cnt = func.coalesce(agg.c.cnt, 0)
    spend = func.coalesce(agg.c.spend, 0)
    stmt = (
        select(Customer.id, Customer.tier_rank, cnt, spend, Customer.manager_id)
        .select_from(Customer)
        .outerjoin(agg, agg.c.cid == Customer.id)
        .where(*conds)
        .where(Customer.supreme == False, Customer.override_rank.is_(None))  # type: ignore[union-attr]  # noqa: E712
        .where(_near_condition(ladder, cnt, spend))
    )
    return [tuple(r) for r in session.exec(stmt).all()]


@query("tiers.read")
def near_threshold(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    manager: int | str | None = ALL,
    offset: int = 0,
    limit: int | None = 50,
) -> RiskPage:
    """Customers within 10 % of the next tier's threshold, the highest next tier and smallest gap first."""
    rows = near_candidates(session, conds=_customer_filter(actor, manager), today=today)
    ladder = ladder_on(session, today)
    enriched = []
    for cid, rank, count, spend, manager_id in rows:
        spend_gap, count_gap = _gaps(_threshold_of(ladder, rank + 1), int(count), int(spend))
        enriched.append((cid, rank, rank + 1, int(count), int(spend), spend_gap, count_gap, manager_id))
    enriched.sort(key=lambda r: (-r[2], min(_share_gap(ladder, r), 1.0), r[0]))
    page = enriched[offset : offset + limit] if limit is not None else enriched[offset:]
    frame = _with_names(
        session,
        page,
        ["customer_id", "rank", "next_rank", "purchases", "spend_fen", "spend_gap_fen", "purchases_gap", "manager_id"],
    )
    return RiskPage(total=len(enriched), rows=frame)


def _share_gap(ladder: list[TierRule], row: tuple[Any, ...]) -> float:
    """The smallest relative gap to the next tier (0.03 = 3 % short)."""
    nxt = _threshold_of(ladder, row[2])
    gaps = []
    if nxt is not None and nxt.min_spend_fen:
        gaps.append((row[5] or 0) / nxt.min_spend_fen)
    if nxt is not None and nxt.min_purchases:
        gaps.append((row[6] or 0) / nxt.min_purchases)
    return min(gaps) if gaps else 1.0


# ------------------------------------------------------------------------------------------- shared


def _with_names(session: Session, rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    extra = ["code", "name", "region", "manager", "last_change"]
    if frame.empty:
        return pd.DataFrame(columns=[*columns, *extra, "spend", "spend_gap"])
    ids = [int(i) for i in frame["customer_id"]]
    last_change = (
        select(func.max(TierChange.at))
        .where(TierChange.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    info = {
        r[0]: r[1:]
        for r in session.exec(
            select(Customer.id, Customer.code, Customer.name, Customer.region, Staff.name, last_change)
            .select_from(Customer)
            .outerjoin(Staff, Staff.id == Customer.manager_id)
            .where(Customer.id.in_(ids))  # type: ignore[union-attr]
        ).all()
    }
    for pos, col in enumerate(extra):
        frame[col] = [info.get(i, (None,) * len(extra))[pos] for i in ids]
    frame["spend"] = [fmt_yuan(v) for v in frame["spend_fen"]]
    frame["spend_gap"] = [fmt_yuan(v) if v is not None and not pd.isna(v) else "" for v in frame["spend_gap_fen"]]
    return frame


@dataclass
class RiskCounts:
    at_risk: int
    near: int
    review_date: dt.date


@query("tiers.read")
def risk_counts(*, session: Session, actor: Actor, today: dt.date) -> RiskCounts:
    """How many customers in the actor's list scope are at risk / near the next tier.

    The department's and a team's numbers are cached per day and per state of the data they depend on
    (purchases, tier events, assignments, calls); a client manager's portfolio is small and counted live.
    """
    conds = _customer_filter(actor, ALL)
    scope_key = None
    if list_scope(actor) is None:
        scope_key = f"{RISK_CACHE_KEY}.department"
    elif actor.role == "team_lead":
        scope_key = f"{RISK_CACHE_KEY}.team{actor.team_id}"
    if scope_key is not None:
        key = _risk_fingerprint(session, today)
        cached = get_meta(session, scope_key)
        if isinstance(cached, dict) and cached.get("key") == key:
            return RiskCounts(int(cached["at_risk"]), int(cached["near"]), dt.date.fromisoformat(cached["review"]))
    review, risky = at_risk_candidates(session, conds=conds, today=today)
    near = near_candidates(session, conds=conds, today=today)
    counts = RiskCounts(at_risk=len(risky), near=len(near), review_date=review)
    if scope_key is not None:
        save_meta_quietly(
            session,
            scope_key,
            {"key": key, "at_risk": counts.at_risk, "near": counts.near, "review": review.isoformat()},
        )
    return counts


def _risk_fingerprint(session: Session, today: dt.date) -> list[Any]:
    from models import Assignment, Call

    return [
        today.isoformat(),
        *(session.exec(select(func.max(model.id))).one() for model in (Purchase, TierChange, Assignment, Call)),
    ]


@query("tiers.read")
def risk_by_manager(*, session: Session, actor: Actor, today: dt.date) -> pd.DataFrame:
    """At-risk and near-threshold counts per manager in the actor's scope (one aggregate each)."""
    conds = _customer_filter(actor, ALL)
    _, risky = at_risk_candidates(session, conds=conds, today=today)
    near = near_candidates(session, conds=conds, today=today)
    per: dict[int | None, list[int]] = {}
    for row in risky:
        per.setdefault(row[5], [0, 0])[0] += 1
    for row in near:
        per.setdefault(row[4], [0, 0])[1] += 1
    names = dict(
        session.exec(select(Staff.id, Staff.name).where(Staff.id.in_([m for m in per if m is not None]))).all()  # type: ignore[union-attr]
    )
    frame = pd.DataFrame(
        [
            {"manager_id": m, "manager": names.get(m, "") if m is not None else None, "at_risk": a, "near": n}
            for m, (a, n) in per.items()
        ],
        columns=["manager_id", "manager", "at_risk", "near"],
    )
    return frame.sort_values(["at_risk", "near"], ascending=False).reset_index(drop=True)


@query("tiers.read")
def manager_choices(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Managers whose lists the actor may open: all, own team's, or only oneself."""
    stmt = select(Staff.id, Staff.name, Staff.code).where(Staff.role == "client_manager", Staff.is_training == False)  # noqa: E712
    if actor.role == "client_manager":
        stmt = stmt.where(Staff.id == (actor.staff_id or -1))
    elif actor.role == "team_lead":
        stmt = stmt.where(Staff.team_id == (actor.team_id or -1))
    return [(sid, f"{name} ({code})") for sid, name, code in session.exec(stmt.order_by(Staff.name)).all()]
