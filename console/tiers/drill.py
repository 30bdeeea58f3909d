"""Drill-down: the customers behind a number (a tier now, a movement-matrix cell, a tier in a past month),
paged, exportable, each with their tier history. Lists follow the list scope (SPEC §1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from console.audit import query
from console.i18n import t
from console.permissions import Actor, PermissionDenied
from console.tiers.colors import tier_names
from console.tiers.common import add_months, list_scope, month_from_key, month_key, month_start, not_training
from console.tiers.distribution import tier_at_condition
from console.timeutil import local_date, local_midnight_utc
from models import Customer, Staff, TierChange, User

EXPORT_LIMIT = 50_000
HISTORY_SHOWN = 5
KIND_LABELS = {
    "initial": "First record",
    "upgrade": "Upgrade",
    "downgrade": "Downgrade",
    "override": "Override",
    "override_expired": "Override ended",
    "designation": "Designation",
}


@dataclass(frozen=True)
class Drill:
    """What a drill-down shows; kept as a plain dict in the page's ctx.* state."""

    kind: str  # "tier" | "cell" | "month"
    rank: int | None = None  # tier and month
    from_rank: int | None = None  # cell
    to_rank: int | None = None  # cell
    start: str | None = None  # cell: first month 'YYYY-MM'
    end: str | None = None  # cell: last month (inclusive)
    month: str | None = None  # month

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, value: dict[str, Any] | None) -> Drill | None:
        if not value or value.get("kind") not in ("tier", "cell", "month"):
            return None
        return cls(**{k: value.get(k) for k in ("kind", "rank", "from_rank", "to_rank", "start", "end", "month")})

    def label(self, names: dict[int, str]) -> str:
        if self.kind == "tier":
            return t("Customers in {tier} now", tier=names.get(self.rank or 0, ""))
        if self.kind == "cell":
            return t(
                "Customers who moved {from_tier} → {to_tier} in {start} – {end}",
                from_tier=names.get(self.from_rank or 0, ""),
                to_tier=names.get(self.to_rank or 0, ""),
                start=self.start,
                end=self.end,
            )
        return t("Customers in {tier} at the end of {month}", tier=names.get(self.rank or 0, ""), month=self.month)


def _condition(drill: Drill, today: dt.date) -> ColumnElement:
    if drill.kind == "tier":
        return Customer.tier_rank == int(drill.rank or 0)
    if drill.kind == "cell":
        start = local_midnight_utc(month_from_key(str(drill.start)))
        end = local_midnight_utc(add_months(month_from_key(str(drill.end or drill.start)), 1))
        moved = select(TierChange.customer_id).where(
            TierChange.from_rank == drill.from_rank,
            TierChange.to_rank == drill.to_rank,
            TierChange.at >= start,  # type: ignore[operator]
            TierChange.at < end,  # type: ignore[operator]
        )
        return Customer.id.in_(moved)  # type: ignore[union-attr]
    month = month_from_key(str(drill.month))
    if month >= month_start(today):
        return Customer.tier_rank == int(drill.rank or 0)
    return tier_at_condition(local_midnight_utc(add_months(month, 1)), int(drill.rank or 0))


def _conditions(actor: Actor, drill: Drill, today: dt.date) -> list[ColumnElement]:
    conds = [not_training(), _condition(drill, today)]
    scope = list_scope(actor)
    if scope is not None:
        conds.append(scope)
    return conds


@dataclass
class DrillPage:
    total: int
    rows: pd.DataFrame  # customer_id, code, name, region, tier, manager, tier_since, history


def _rows(session: Session, conds: list[ColumnElement], today: dt.date, offset: int, limit: int | None) -> pd.DataFrame:
    stmt = (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.region,
            Customer.tier_rank,
            Staff.name,
            Customer.tier_since,
        )
        .select_from(Customer)
        .outerjoin(Staff, Staff.id == Customer.manager_id)
        .where(*conds)
        .order_by(Customer.code)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    names = tier_names(session, today)
    records = session.exec(stmt).all()
    ids = [r[0] for r in records]
    histories = history_lines(session, ids, names)
    return pd.DataFrame(
        [
            {
                "customer_id": cid,
                "code": code,
                "name": name,
                "region": region or "",
                "tier": names.get(rank, str(rank)),
                "manager": manager or "",
                "tier_since": local_date(since) if since else None,
                "history": histories.get(cid, ""),
            }
            for cid, code, name, region, rank, manager, since in records
        ],
        columns=["customer_id", "code", "name", "region", "tier", "manager", "tier_since", "history"],
    )


def history_lines(session: Session, ids: list[int], names: dict[int, str]) -> dict[int, str]:
    """A compact tier history per customer: the last few changes, oldest first."""
    per: dict[int, list[str]] = {}
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        rows = session.exec(
            select(TierChange.customer_id, TierChange.at, TierChange.from_rank, TierChange.to_rank, TierChange.kind)
            .where(TierChange.customer_id.in_(part))  # type: ignore[attr-defined]
            .order_by(TierChange.customer_id, TierChange.at, TierChange.id)
        ).all()
        for cid, at, frm, to, kind in rows:
            day = local_date(at).isoformat()
            move = names.get(to, str(to)) if frm is None else f"{names.get(frm, str(frm))}→{names.get(to, str(to))}"
            per.setdefault(cid, []).append(f"{day} {move} ({t(KIND_LABELS.get(kind, kind))})")
    return {cid: " · ".join(lines[-HISTORY_SHOWN:]) for cid, lines in per.items()}


@query("tiers.read")
def drill_customers(
    *, session: Session, actor: Actor, drill: Drill, today: dt.date, offset: int = 0, limit: int = 50
) -> DrillPage:
    conds = _conditions(actor, drill, today)
    total = session.exec(select(func.count()).select_from(Customer).where(*conds)).one()
    return DrillPage(total=int(total), rows=_rows(session, conds, today, offset, limit))


@query("tiers.read")
def drill_export(*, session: Session, actor: Actor, drill: Drill, today: dt.date) -> tuple[pd.DataFrame, bool]:
    """Every customer of the drill-down (up to EXPORT_LIMIT) with their history; True when cut at the limit."""
    conds = _conditions(actor, drill, today)
    frame = _rows(session, conds, today, 0, EXPORT_LIMIT + 1)
    cut = len(frame) > EXPORT_LIMIT
    return frame.head(EXPORT_LIMIT).drop(columns=["customer_id"]), cut


@query("tiers.read")
def customer_history(*, session: Session, actor: Actor, customer_id: int, today: dt.date) -> pd.DataFrame:
    """Every tier event of one customer the actor may see: when, from, to, kind, by whom, why."""
    scope = list_scope(actor)
    visible = select(Customer.id).where(Customer.id == customer_id)
    if scope is not None:
        visible = visible.where(scope)
    if session.exec(visible).first() is None:
        raise PermissionDenied(t("This customer is not in your scope."))
    names = tier_names(session, today)
    rows = session.exec(
        select(
            TierChange.at, TierChange.from_rank, TierChange.to_rank, TierChange.kind, User.username, TierChange.reason
        )
        .select_from(TierChange)
        .outerjoin(User, User.id == TierChange.by_user_id)
        .where(TierChange.customer_id == customer_id)
        .order_by(TierChange.at.desc(), TierChange.id.desc())  # type: ignore[attr-defined,union-attr]
    ).all()
    return pd.DataFrame(
        [
            {
                "at": at,
                "from": "" if frm is None else names.get(frm, str(frm)),
                "to": names.get(to, str(to)),
                "kind": t(KIND_LABELS.get(kind, kind)),
                "by": by or ("" if kind == "initial" else t("Tier evaluation")),
                "reason": t(reason) if reason else "",
            }
            for at, frm, to, kind, by, reason in rows
        ],
        columns=["at", "from", "to", "kind", "by", "reason"],
    )


def month_options(start: dt.date, end: dt.date) -> list[str]:
    out, current = [], month_start(start)
    while current <= month_start(end):
        out.append(month_key(current))
        current = add_months(current, 1)
    return out


@dataclass
class CustomerTier:
    """One customer's tier situation, for the override and designation forms."""

    id: int
    code: str
    name: str
    tier_rank: int
    qualified_rank: int
    purchases: int
    spend_fen: int
    override_rank: int | None
    override_until: dt.date | None
    override_reason: str | None
    supreme: bool
    manager: str | None


@query("tiers.read")
def lookup_customer(*, session: Session, actor: Actor, code: str, today: dt.date) -> CustomerTier | None:
    """A customer in the actor's scope by code (case-insensitive), with the tier they qualify for today."""
    from console.tiers.engine import qualified_now

    wanted = (code or "").strip().upper()
    if not wanted:
        return None
    stmt = (
        select(Customer, Staff.name)
        .outerjoin(Staff, Staff.id == Customer.manager_id)
        .where(func.upper(Customer.code) == wanted, not_training())
    )
    scope = list_scope(actor)
    if scope is not None:
        stmt = stmt.where(scope)
    found = session.exec(stmt).first()
    if found is None:
        return None
    customer, manager = found
    qualified, count, spend = qualified_now(session, int(customer.id), today)  # type: ignore[arg-type]
    return CustomerTier(
        id=int(customer.id),  # type: ignore[arg-type]
        code=customer.code,
        name=customer.name,
        tier_rank=customer.tier_rank,
        qualified_rank=qualified,
        purchases=count,
        spend_fen=spend,
        override_rank=customer.override_rank,
        override_until=customer.override_until,
        override_reason=customer.override_reason,
        supreme=customer.supreme,
        manager=manager,
    )
