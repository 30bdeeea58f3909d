"""A customer's profile (issue 7 items 2 and 4) and the audited reveal of a full number (SPEC §1).

The profile: tier with the date and reason it was reached, override or Supreme designation, trailing-12-month
spend and purchases against the next threshold (and whether the VIP is at risk at the next review), manager
and since when, region, preferences; phone and ID masked; each SLA of SPEC §3 with its state; the coverage
gaps of this customer. Reveal: a client manager for their own portfolio, a supervisor or admin for anyone —
one field of one customer per command, one audit row each (the number itself is never written to the log).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from console import audit
from console.assignment.rules import REASON_LABELS, level_allows, manager_status
from console.assignment.services import load_ladder
from console.assignment.sla import SLA_LABELS, STATE_LABELS, SlaItem, binding_due, customer_slas
from console.audit import command, query
from console.customers.common import (
    C,
    CustomerError,
    OutOfScope,
    clean_code,
    customer_in_scope,
    visible,
)
from console.customers.gaps import GapHit, context, customer_gaps
from console.i18n import pick, t
from console.masking import mask_id, mask_phone
from console.permissions import SUPERVISORS, Actor
from console.tiers.common import TierRule, ladder_on, qualified_rank
from console.tiers.engine import qualified_now
from console.tiers.risk import at_risk_candidates
from console.timeutil import local_date, utcnow
from models import Assignment, Contact, Customer, Staff, TierChange, User

REVEAL_FIELDS = ("phone", "id_number")


@dataclass(frozen=True)
class NextTier:
    rank: int
    name: str
    min_spend_fen: int | None
    min_purchases: int | None
    require_both: bool
    spend_gap_fen: int | None  # still to spend (0 when reached)
    purchases_gap: int | None

    @staticmethod
    def share(have: int, need: int | None) -> float | None:
        """Progress towards a threshold, 0..1 (None when the tier has no such threshold)."""
        if not need:
            return None
        return min(1.0, have / need)


@dataclass(frozen=True)
class SlaRow:
    kind: str
    label: str
    state: str
    state_label: str
    start: dt.date | None
    due: dt.date | None
    met_on: dt.date | None
    text: str  # "Met on …", "Due on …", "Breached since …"


@dataclass
class Profile:
    id: int
    code: str
    name: str
    phone: str  # masked
    id_number: str  # masked
    region: str
    birthday: dt.date | None
    dietary: str
    hometown: str
    notes: str
    tier_rank: int
    tier: str
    tier_color: str
    tier_since: dt.datetime | None
    tier_kind: str | None
    tier_reason: str
    override_rank: int | None
    override_tier: str | None
    override_reason: str | None
    override_until: dt.date | None
    override_by: str | None
    supreme: bool
    designated_at: dt.datetime | None
    spend_fen: int
    purchases: int
    qualified_rank: int
    qualified_tier: str
    next_tier: NextTier | None
    at_risk_tier: str | None
    review_date: dt.date | None
    manager_id: int | None
    manager: str | None
    manager_level: str | None
    manager_status: str | None
    manager_since: dt.datetime | None
    manager_reason: str | None
    waiting_since: dt.datetime | None
    can_reveal_phone: bool
    can_reveal_id: bool
    slas: list[SlaRow] = field(default_factory=list)
    gaps: list[GapHit] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ finding


@dataclass(frozen=True)
class Found:
    customer_id: int | None
    message: str | None  # why nothing was opened, in the current language


@query("customers.read")
def find_customer(*, session: Session, actor: Actor, code: str | None) -> Found:
    """A customer by its exact code (from a link), in the actor's scope; otherwise a clear message."""
    wanted = clean_code(code)
    if not wanted:
        return Found(None, t("That is not a customer code."))
    row = session.execute(select(C.c.id).where(func.upper(C.c.code) == wanted, C.c.is_training == False)).first()  # noqa: E712
    if row is None:
        return Found(None, t("No customer with the code {code}.", code=wanted))
    allowed = session.execute(select(C.c.id).where(C.c.id == row.id, *visible(actor))).first()
    if allowed is None:
        return Found(None, t("The customer {code} is not in your scope.", code=wanted))
    return Found(int(row.id), None)


# ------------------------------------------------------------------------------------------------ profile


def may_reveal(actor: Actor, customer: Customer) -> bool:
    """SPEC §1: a supervisor (or admin) any customer's number, a client manager their own portfolio's."""
    if actor.role in SUPERVISORS:
        return True
    return actor.role == "client_manager" and actor.staff_id is not None and customer.manager_id == actor.staff_id


def _next_tier(ladder: list[TierRule], rank: int, count: int, spend: int) -> NextTier | None:
    above = [rule for rule in ladder if rule.rank > rank and rule.has_threshold]
    if not above:
        return None
    rule = min(above, key=lambda r: r.rank)
    return NextTier(
        rank=rule.rank,
        name=pick(rule, "name"),
        min_spend_fen=rule.min_spend_fen,
        min_purchases=rule.min_purchases,
        require_both=rule.require_both,
        spend_gap_fen=None if rule.min_spend_fen is None else max(0, rule.min_spend_fen - spend),
        purchases_gap=None if rule.min_purchases is None else max(0, rule.min_purchases - count),
    )


def _sla_rows(session: Session, customer: Customer, today: dt.date, ladder: Any) -> list[SlaRow]:
    """The four SLAs of SPEC §3 for one VIP, through console.assignment.sla.customer_slas."""
    if customer.tier_rank <= 0:
        return []
    tcx = TierChange.__table__
    raised = session.execute(
        select(func.max(tcx.c.at)).where(
            tcx.c.customer_id == customer.id,
            tcx.c.to_rank > 0,
            func.coalesce(tcx.c.from_rank, 0) < tcx.c.to_rank,
        )
    ).scalar_one()
    day0_at = raised or customer.vip_since
    day0 = local_date(day0_at) if day0_at else None
    binding_day = None
    eligible = False
    first_call = first_sms = last_contact = None
    if customer.manager_id is not None:
        manager = session.get(Staff, customer.manager_id)
        eligible = manager is not None and level_allows(manager.manager_level, customer.tier_rank, ladder)
        bind_at = customer.assigned_at or customer.vip_since or customer.created_at
        binding_day = local_date(bind_at)
        ctt = Contact.__table__
        since = [ctt.c.customer_id == customer.id, ctt.c.at >= bind_at]
        by_manager = ctt.c.staff_id == customer.manager_id
        call_ok = [ctt.c.kind == "call", ctt.c.outcome == "connected", ctt.c.stream == "maintenance"]
        first_call_at = session.execute(select(func.min(ctt.c.at)).where(*since, by_manager, *call_ok)).scalar_one()
        last_at = session.execute(
            select(func.max(ctt.c.at)).where(
                *since,
                by_manager,
                (ctt.c.kind == "visit")
                | ((ctt.c.kind == "call") & (ctt.c.outcome == "connected") & (ctt.c.stream == "maintenance")),
            )
        ).scalar_one()
        sms_at = session.execute(
            select(func.min(ctt.c.at)).where(
                *since, ctt.c.kind == "sms", (ctt.c.outcome.is_(None)) | (ctt.c.outcome != "failed")
            )
        ).scalar_one()
        first_call = local_date(first_call_at) if first_call_at else None
        last_contact = local_date(last_at) if last_at else None
        first_sms = local_date(sms_at) if sms_at else None
    items = customer_slas(
        today=today,
        contact_days=ladder.contact_days(customer.tier_rank),
        day0=day0,
        binding_due_on=customer.binding_due or (binding_due(day0) if day0 else None),
        binding_day=binding_day,
        manager_eligible=eligible,
        first_call=first_call,
        first_sms=first_sms,
        last_contact=last_contact,
    )
    return [_sla_row(item, today) for item in items]


def _sla_row(item: SlaItem, today: dt.date) -> SlaRow:
    if item.state in ("met", "met_late"):
        text = t("Met on {day}", day=item.met_on) if item.met_on else t("Met")
        if item.state == "met_late" and item.due:
            text += " · " + t("due {day}", day=item.due)
    elif item.state == "breached" and item.due:
        text = t("Breached since {day}", day=item.due + dt.timedelta(days=1))
    elif item.state == "missed":
        text = t("Missed: the first call came before any notice SMS")
    elif item.state in ("due_soon", "open") and item.due:
        days = (item.due - today).days
        text = t("Due on {day} (in {days} days)", day=item.due, days=days)
    else:
        text = t("Not applicable")
    return SlaRow(
        kind=item.kind,
        label=t(SLA_LABELS[item.kind]),
        state=item.state,
        state_label=t(STATE_LABELS.get(item.state, item.state)),
        start=item.start,
        due=item.due,
        met_on=item.met_on,
        text=text,
    )


@query("customers.read")
def customer_profile(
    *, session: Session, actor: Actor, customer_id: int, today: dt.date, now: dt.datetime | None = None
) -> Profile:
    """Everything the profile shows for one customer in the actor's scope (numbers masked)."""
    customer = customer_in_scope(session, actor, customer_id)
    rules = ladder_on(session, today)
    by_rank = {rule.rank: rule for rule in rules}
    ladder = load_ladder(session, today)
    tcx = TierChange.__table__
    u = User.__table__
    reached = session.execute(
        select(tcx.c.at, tcx.c.kind, tcx.c.reason)
        .where(tcx.c.customer_id == customer.id, tcx.c.to_rank == customer.tier_rank)
        .order_by(tcx.c.at.desc(), tcx.c.id.desc())
        .limit(1)
    ).first()
    designated = None
    if customer.supreme:
        designated = session.execute(
            select(func.max(tcx.c.at)).where(tcx.c.customer_id == customer.id, tcx.c.kind == "designation")
        ).scalar_one()
    override_by = None
    if customer.override_by is not None:
        override_by = session.execute(select(u.c.username).where(u.c.id == customer.override_by)).scalar_one_or_none()
    _qualified, count, spend = qualified_now(session, int(customer.id), today)  # type: ignore[arg-type]
    qualified = qualified_rank(rules, count, spend)
    review, risky = at_risk_candidates(session, conds=[Customer.id == customer.id], today=today)
    at_risk = None
    if risky:
        at_risk = ladder.name(int(risky[0][2]))
    manager = session.get(Staff, customer.manager_id) if customer.manager_id is not None else None
    reason = None
    if manager is not None:
        a = Assignment.__table__
        reason = session.execute(
            select(a.c.reason)
            .where(a.c.customer_id == customer.id, a.c.to_manager_id == manager.id)
            .order_by(a.c.at.desc(), a.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    tier_rule = by_rank.get(customer.tier_rank)
    override_rule = by_rank.get(customer.override_rank) if customer.override_rank is not None else None
    allowed = may_reveal(actor, customer)
    return Profile(
        id=int(customer.id),  # type: ignore[arg-type]
        code=customer.code,
        name=customer.name,
        phone=mask_phone(customer.phone),
        id_number=mask_id(customer.id_number),
        region=customer.region or "",
        birthday=customer.birthday,
        dietary=customer.dietary or "",
        hometown=customer.hometown or "",
        notes=customer.notes or "",
        tier_rank=customer.tier_rank,
        tier=pick(tier_rule, "name") if tier_rule else str(customer.tier_rank),
        tier_color=tier_rule.color if tier_rule else "#999999",
        tier_since=reached.at if reached else customer.tier_since,
        tier_kind=reached.kind if reached else None,
        tier_reason=t(reached.reason) if reached and reached.reason else "",
        override_rank=customer.override_rank,
        override_tier=pick(override_rule, "name") if override_rule else None,
        override_reason=customer.override_reason,
        override_until=customer.override_until,
        override_by=override_by,
        supreme=bool(customer.supreme),
        designated_at=designated,
        spend_fen=spend,
        purchases=count,
        qualified_rank=qualified,
        qualified_tier=ladder.name(qualified),
        next_tier=_next_tier(rules, customer.tier_rank, count, spend),
        at_risk_tier=at_risk,
        review_date=review,
        manager_id=customer.manager_id,
        manager=f"{manager.code} · {manager.name}" if manager else None,
        manager_level=manager.manager_level if manager else None,
        manager_status=(
            manager_status(
                active=manager.active,
                leave_start=manager.leave_start,
                leave_end=manager.leave_end,
                exit_date=manager.exit_date,
                today=today,
            )
            if manager
            else None
        ),
        manager_since=customer.assigned_at if manager else None,
        manager_reason=t(REASON_LABELS.get(reason, reason)) if reason else None,
        waiting_since=customer.waiting_since if manager is None else None,
        can_reveal_phone=allowed and bool(customer.phone),
        can_reveal_id=allowed and bool(customer.id_number),
        slas=_sla_rows(session, customer, today, ladder),
        gaps=customer_gaps(session, context(session, today, now or utcnow()), int(customer.id)),  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------------------------ reveal


@command("customers.reveal")
def reveal_number(*, session: Session, actor: Actor, customer_id: int, field: str) -> str:
    """The full phone or ID number of one customer: audited, one field of one record at a time."""
    if field not in REVEAL_FIELDS:
        raise CustomerError("Only a phone or an ID number can be revealed.")
    customer = customer_in_scope(session, actor, customer_id)
    if not may_reveal(actor, customer):
        raise OutOfScope("You may reveal numbers only of customers in your own portfolio.")
    value = customer.phone if field == "phone" else customer.id_number
    if not value:
        raise CustomerError("This customer has no number of that kind on record.")
    audit.note(entity="customer", entity_id=customer.id, after={"code": customer.code, "revealed": field})
    return value
