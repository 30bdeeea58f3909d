"""Editing the tier ladder (admin): effective-dated, validated, with a preview of how many customers would move.

A saved edit adds one TierLevel row per rank effective from a date (today or later), so the ladder of the past
keeps explaining the history. Thresholds rise strictly with rank; ratios, units and contact days are positive;
colours are #rrggbb.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, select

from console import audit
from console.audit import command, query
from console.i18n import pick, t
from console.permissions import Actor
from console.tiers.common import TierError, TierRule, fmt_yuan, ladder_on, qualified_case, window_bounds
from models import Customer, Purchase, TierLevel

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
FIELD_LABELS = {
    "min_spend_yuan": "Spend ≥ (¥)",
    "min_purchases": "Purchases ≥",
    "ratio": "VIPs per manager",
    "units": "Units",
    "contact_days": "Contact every (days)",
}


@dataclass
class LadderRow:
    """One editable rung; money in whole yuan as the admin types it."""

    rank: int
    code: str
    name_en: str
    name_zh: str
    min_spend_yuan: int | None
    min_purchases: int | None
    require_both: bool
    ratio: int | None
    units: int
    contact_days: int | None
    color: str
    designation_only: bool = False
    enterprise_only: bool = False

    def to_rule(self, effective_from: dt.date) -> TierRule:
        return TierRule(
            rank=self.rank,
            code=self.code,
            name_en=self.name_en,
            name_zh=self.name_zh,
            min_spend_fen=None if self.min_spend_yuan is None else int(self.min_spend_yuan) * 100,
            min_purchases=self.min_purchases,
            require_both=self.require_both,
            ratio=self.ratio,
            units=self.units,
            contact_days=self.contact_days,
            designation_only=self.designation_only,
            enterprise_only=self.enterprise_only,
            color=self.color,
            effective_from=effective_from,
        )


def rows_from(ladder: list[TierRule]) -> list[LadderRow]:
    return [
        LadderRow(
            rank=r.rank,
            code=r.code,
            name_en=r.name_en,
            name_zh=r.name_zh,
            min_spend_yuan=None if r.min_spend_fen is None else r.min_spend_fen // 100,
            min_purchases=r.min_purchases,
            require_both=r.require_both,
            ratio=r.ratio,
            units=r.units,
            contact_days=r.contact_days,
            color=r.color,
            designation_only=r.designation_only,
            enterprise_only=r.enterprise_only,
        )
        for r in ladder
    ]


@query("tiers.read")
def ladder_table(*, session: Session, actor: Actor, day: dt.date) -> list[LadderRow]:
    """The ladder in force on a date, as editable rows."""
    return rows_from(ladder_on(session, day))


@query("tiers.read")
def ladder_versions(*, session: Session, actor: Actor) -> list[dt.date]:
    """Every date a ladder version took (or takes) effect, newest first."""
    dates = session.exec(select(TierLevel.effective_from).distinct().order_by(TierLevel.effective_from.desc())).all()  # type: ignore[attr-defined]
    return list(dates)


def _whole(value: object) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    number = float(value)  # type: ignore[arg-type]
    if number != int(number):
        raise ValueError
    return int(number)


def validate_ladder(rows: list[LadderRow], *, effective_from: dt.date, today: dt.date) -> list[str]:
    """Every problem with a proposed ladder, as messages naming the tier (empty = valid)."""
    errors: list[str] = []
    if effective_from < today:
        errors.append(
            t(
                "The ladder can take effect today ({today}) or later, not on {day}: the ladder of the past explains the history.",
                today=today,
                day=effective_from,
            )
        )
    if sorted(r.rank for r in rows) != [0, 1, 2, 3, 4, 5]:
        errors.append(t("The ladder needs exactly the ranks 0 to 5."))
        return errors
    ordered = sorted(rows, key=lambda r: r.rank)
    for row in ordered:
        name = pick(row, "name")
        if row.rank == 0 or row.designation_only:
            if row.min_spend_yuan is not None or row.min_purchases is not None:
                if row.rank == 0:
                    errors.append(t("Member is where every customer starts: it has no spend or purchases threshold."))
                else:
                    errors.append(t("{tier} is a designation: it has no spend or purchases threshold.", tier=name))
        else:
            if row.min_spend_yuan is None and row.min_purchases is None:
                errors.append(t("{tier}: give a spend threshold, a purchases threshold, or both.", tier=name))
            if row.require_both and (row.min_spend_yuan is None or row.min_purchases is None):
                errors.append(t("{tier} requires both, so it needs both a spend and a purchases threshold.", tier=name))
            if row.min_spend_yuan is not None and row.min_spend_yuan <= 0:
                errors.append(t("{tier}: the spend threshold must be above ¥0.", tier=name))
            if row.min_purchases is not None and row.min_purchases <= 0:
                errors.append(t("{tier}: the purchases threshold must be at least 1.", tier=name))
        if row.rank > 0:
            if row.ratio is None or row.ratio <= 0:
                errors.append(t("{tier}: VIPs per manager must be a positive whole number.", tier=name))
            if row.units is None or row.units <= 0:
                errors.append(t("{tier}: workload units must be a positive whole number.", tier=name))
            if row.contact_days is None or row.contact_days <= 0:
                errors.append(t("{tier}: the contact frequency must be a positive number of days.", tier=name))
        elif row.units != 0:
            errors.append(t("Member carries no workload: its units must be 0."))
        if not COLOR.match(row.color or ""):
            errors.append(t("{tier}: the colour must look like #1a2b3c.", tier=name))
    thresholds = [r for r in ordered if r.rank > 0 and not r.designation_only]
    for message, attr, fmt in (
        (
            "Spend thresholds must rise strictly with rank: {tier} ({value}) is not above {lower} ({lower_value}).",
            "min_spend_yuan",
            lambda v: fmt_yuan(v * 100),
        ),
        (
            "Purchase thresholds must rise strictly with rank: {tier} ({value}) is not above {lower} ({lower_value}).",
            "min_purchases",
            str,
        ),
    ):
        previous: LadderRow | None = None
        for row in thresholds:
            value = getattr(row, attr)
            if value is None:
                continue
            if previous is not None and value <= getattr(previous, attr):
                errors.append(
                    t(
                        message,
                        tier=pick(row, "name"),
                        value=fmt(value),
                        lower=pick(previous, "name"),
                        lower_value=fmt(getattr(previous, attr)),
                    )
                )
            previous = row
    colors = [r.color.lower() for r in ordered if r.color]
    if len(set(colors)) != len(colors):
        errors.append(t("Each tier needs its own colour, so charts tell the tiers apart."))
    return errors


@dataclass
class LadderPreview:
    """How customers' qualified tiers change under the proposed ladder (today's window)."""

    moves: pd.DataFrame  # current tier, qualified now, qualified under the proposal, customers
    upgrades_now: int  # would be upgraded at the next evaluation under the proposal
    upgrades_current: int  # ... under the ladder in force
    at_risk_now: int  # would take a step down at the next review under the proposal
    at_risk_current: int
    changed: int  # customers whose qualified tier differs between the two ladders


@query("tiers.ladder_edit")
def preview_ladder(*, session: Session, actor: Actor, rows: list[LadderRow], today: dt.date) -> LadderPreview:
    """One aggregate: per customer the qualified tier under today's ladder and under the proposal."""
    current = ladder_on(session, today)
    proposed = [r.to_rule(today) for r in rows]
    lo_at, hi_at = window_bounds(today)
    agg = (
        select(
            Purchase.customer_id.label("cid"), func.count().label("cnt"), func.sum(Purchase.amount_fen).label("spend")
        )  # type: ignore[attr-defined]
        .where(Purchase.at >= lo_at, Purchase.at < hi_at)
        .group_by(Purchase.customer_id)
        .subquery()
    )
    cnt = func.coalesce(agg.c.cnt, 0)
    spend = func.coalesce(agg.c.spend, 0)
    q_old = qualified_case(current, cnt, spend).label("q_old")
    q_new = qualified_case(proposed, cnt, spend).label("q_new")
    inner = (
        select(Customer.tier_rank.label("tier"), q_old, q_new)  # type: ignore[attr-defined]
        .select_from(Customer)
        .outerjoin(agg, agg.c.cid == Customer.id)
        .where(Customer.supreme == False, Customer.override_rank.is_(None), Customer.is_training == False)  # type: ignore[union-attr]  # noqa: E712
        .subquery()
    )
    grouped = session.exec(
        select(inner.c.tier, inner.c.q_old, inner.c.q_new, func.count()).group_by(
            inner.c.tier, inner.c.q_old, inner.c.q_new
        )
    ).all()
    moves = pd.DataFrame(
        [(int(a), int(b), int(c), int(n)) for a, b, c, n in grouped],
        columns=["tier", "qualified_now", "qualified_proposed", "customers"],
    )

    def total(mask: pd.Series) -> int:
        return int(moves.loc[mask, "customers"].sum()) if not moves.empty else 0

    if moves.empty:
        return LadderPreview(moves, 0, 0, 0, 0, 0)
    return LadderPreview(
        moves=moves,
        upgrades_now=total(moves["qualified_proposed"] > moves["tier"]),
        upgrades_current=total(moves["qualified_now"] > moves["tier"]),
        at_risk_now=total(moves["qualified_proposed"] < moves["tier"]),
        at_risk_current=total(moves["qualified_now"] < moves["tier"]),
        changed=total(moves["qualified_proposed"] != moves["qualified_now"]),
    )


@command("tiers.ladder_edit")
def save_ladder(
    *, session: Session, actor: Actor, rows: list[LadderRow], effective_from: dt.date, today: dt.date
) -> int:
    """Store the ladder effective from a date (replacing a version not yet in force on that same date)."""
    errors = validate_ladder(rows, effective_from=effective_from, today=today)
    if errors:
        raise TierError(" ".join(errors))
    before = [asdict(r) for r in rows_from(ladder_on(session, effective_from))]
    existing = session.exec(select(TierLevel).where(TierLevel.effective_from == effective_from)).all()
    for row in existing:
        session.delete(row)
    session.flush()
    for row in sorted(rows, key=lambda r: r.rank):
        session.add(
            TierLevel(
                rank=row.rank,
                code=row.code,
                name_en=row.name_en,
                name_zh=row.name_zh,
                min_spend_fen=None if row.min_spend_yuan is None else int(row.min_spend_yuan) * 100,
                min_purchases=row.min_purchases,
                require_both=bool(row.require_both),
                ratio=row.ratio,
                units=int(row.units),
                contact_days=row.contact_days,
                designation_only=row.designation_only,
                enterprise_only=row.enterprise_only,
                color=row.color,
                effective_from=effective_from,
            )
        )
    session.flush()
    audit.note(
        entity="tier_ladder",
        entity_id=effective_from.isoformat(),
        before=before,
        after=[asdict(r) for r in rows],
        counts={"ranks": len(rows), "replaced": len(existing)},
    )
    return len(rows)


def coerce_rows(records: list[dict[str, object]], template: list[LadderRow]) -> tuple[list[LadderRow], list[str]]:
    """Rows from an edited table (numbers may arrive as floats or blanks); messages for what is not a number."""
    out: list[LadderRow] = []
    errors: list[str] = []
    by_rank = {r.rank: r for r in template}
    for rec in records:
        base = by_rank.get(int(rec["rank"]))  # type: ignore[call-overload]
        if base is None:
            continue
        values: dict[str, int | None] = {}
        for field_name in ("min_spend_yuan", "min_purchases", "ratio", "units", "contact_days"):
            try:
                values[field_name] = _whole(rec.get(field_name))
            except (TypeError, ValueError):
                errors.append(
                    t(
                        "{tier}: {field} must be a whole number.",
                        tier=pick(base, "name"),
                        field=t(FIELD_LABELS[field_name]),
                    )
                )
                values[field_name] = getattr(base, field_name)
        out.append(
            LadderRow(
                rank=base.rank,
                code=base.code,
                name_en=base.name_en,
                name_zh=base.name_zh,
                min_spend_yuan=values["min_spend_yuan"],
                min_purchases=values["min_purchases"],
                require_both=bool(rec.get("require_both", base.require_both)),
                ratio=values["ratio"],
                units=values["units"] if values["units"] is not None else 0,
                contact_days=values["contact_days"],
                color=str(rec.get("color") or base.color).strip(),
                designation_only=base.designation_only,
                enterprise_only=base.enterprise_only,
            )
        )
    return out, errors
