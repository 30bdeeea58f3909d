"""Find a customer (issue 7 item 1): by code, name or full phone number, with filters; paged; scoped (SPEC §1).

- Text: a complete mainland mobile number (11 digits, 1 first; spaces, dashes and +86 allowed) matches the
  stored phone exactly; anything else matches the code (exact or prefix, any case) or a part of the name.
  A partial number never searches phones, so numbers cannot be guessed digit by digit. Results are masked.
- Filters: tier, client manager, region, flag (one coverage gap or any gap — from the stored gaps —, a tier
  override in force, Supreme, unassigned VIP). SLA states are filtered on the Assignment page.
- Bad input: text longer than 100 characters is refused with a message; SQL or HTML is only ever a search
  value (bound parameters, LIKE with escaping), and results are drawn as plain table cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from console.audit import query
from console.customers.common import SEARCH_MAX_CHARS, C, customer_link, visible
from console.customers.gaps import GAP_KINDS, GAP_LABELS, GapContext, context, ensure_snapshot, gap_select, snapshot_ids
from console.i18n import t
from console.masking import looks_like_full_phone, mask_phone, normalise_phone
from console.permissions import Actor
from models import Staff

FLAGS: tuple[str, ...] = (
    "any_gap",
    *(f"gap:{kind}" for kind in GAP_KINDS),
    "override",
    "supreme",
    "unassigned",
)
FLAG_LABELS: dict[str, str] = {
    "any_gap": "Any coverage gap",
    **{f"gap:{kind}": GAP_LABELS[kind] for kind in GAP_KINDS},
    "override": "Tier override in force",
    "supreme": "Supreme designation",
    "unassigned": "Unassigned VIP",
}
SHORT_GAP_LABELS: dict[str, str] = {
    "leave_uncovered": "Leave without cover",
    "level_mismatch": "Level too low",
    "contact_overdue": "Contact overdue",
    "no_evaluation": "No evaluated call",
    "reception_followup": "Reception follow-up",
    "downgrade_after_fail": "Downgrade after failed call",
}
RESULT_COLUMNS = [
    "customer_id",
    "code",
    "name",
    "phone",
    "tier_rank",
    "tier",
    "manager",
    "region",
    "flags",
    "link",
]
MAX_PAGE = 200


@dataclass
class SearchPage:
    total: int
    rows: pd.DataFrame
    message: str | None = None  # why the search was refused, in the current language
    by_phone: bool = False


def _empty(message: str | None = None) -> SearchPage:
    return SearchPage(total=0, rows=pd.DataFrame(columns=RESULT_COLUMNS), message=message)


def _text_condition(text: str) -> tuple[ColumnElement[bool], bool]:
    if looks_like_full_phone(text):
        return C.c.phone == normalise_phone(text), True
    upper = text.upper()
    return (
        or_(
            func.upper(C.c.code).startswith(upper, autoescape=True),
            C.c.name.contains(text, autoescape=True),
        ),
        False,
    )


def _flag_condition(flag: str, ctx: GapContext) -> ColumnElement[bool]:
    if flag == "any_gap":
        return C.c.id.in_(snapshot_ids())
    if flag.startswith("gap:") and flag[4:] in GAP_KINDS:
        return C.c.id.in_(snapshot_ids(flag[4:]))
    if flag == "override":
        return and_(C.c.override_rank.is_not(None), or_(C.c.override_until.is_(None), C.c.override_until >= ctx.today))
    if flag == "supreme":
        return C.c.supreme == true()
    if flag == "unassigned":
        return and_(C.c.tier_rank > 0, C.c.manager_id.is_(None))
    return false()


def validate_text(text: str | None) -> tuple[str, str | None]:
    """(cleaned text, message): the message says why the text is refused."""
    cleaned = (text or "").strip()
    if len(cleaned) > SEARCH_MAX_CHARS:
        return "", t("The search text is too long: at most {max} characters.", max=SEARCH_MAX_CHARS)
    if "\x00" in cleaned:
        return "", t("The search text contains characters that cannot be searched.")
    return cleaned, None


@query("customers.read")
def search_customers(
    *,
    session: Session,
    actor: Actor,
    today: dt.date,
    text: str | None = None,
    tier: int | None = None,
    manager_id: int | None = None,
    region: str | None = None,
    flag: str | None = None,
    offset: int = 0,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> SearchPage:
    """Customers in the actor's scope matching the text and filters, highest tier first; numbers masked."""
    cleaned, message = validate_text(text)
    if message:
        return _empty(message)
    if flag is not None and flag not in FLAGS:
        return _empty(t("Unknown filter."))
    ctx = context(session, today, now)
    conds: list[ColumnElement[bool]] = list(visible(actor))
    by_phone = False
    if cleaned:
        cond, by_phone = _text_condition(cleaned)
        conds.append(cond)
    if tier is not None:
        conds.append(C.c.tier_rank == int(tier))
    if manager_id is not None:
        conds.append(C.c.manager_id == int(manager_id))
    if region:
        conds.append(C.c.region == region)
    if flag:
        if flag == "any_gap" or flag.startswith("gap:"):
            ensure_snapshot(session, today, now)
        conds.append(_flag_condition(flag, ctx))
    total = int(session.execute(select(func.count()).select_from(C).where(*conds)).scalar_one())
    limit = max(0, min(int(limit), MAX_PAGE))
    if total == 0 or limit == 0:
        page = _empty()
        page.total, page.by_phone = total, by_phone
        return page
    m = Staff.__table__.alias("holder")
    rows = session.execute(
        select(
            C.c.id,
            C.c.code,
            C.c.name,
            C.c.phone,
            C.c.tier_rank,
            C.c.region,
            C.c.supreme,
            C.c.override_rank,
            C.c.override_until,
            m.c.code.label("manager_code"),
            m.c.name.label("manager_name"),
        )
        .select_from(C.outerjoin(m, m.c.id == C.c.manager_id))
        .where(*conds)
        .order_by(C.c.tier_rank.desc(), C.c.code)
        .offset(max(0, int(offset)))
        .limit(limit)
    ).all()
    ids = [int(row.id) for row in rows]
    gaps_of: dict[int, list[str]] = {}
    for kind in GAP_KINDS:
        sub = gap_select(kind, ctx, only=ids).subquery()
        for (cid,) in session.execute(select(sub.c.customer_id)).all():
            gaps_of.setdefault(int(cid), []).append(t(SHORT_GAP_LABELS[kind]))
    records = []
    for row in rows:
        flags = []
        if row.supreme:
            flags.append(t("Supreme"))
        if row.override_rank is not None and (row.override_until is None or row.override_until >= today):
            flags.append(t("Override"))
        if row.tier_rank > 0 and row.manager_code is None:
            flags.append(t("Unassigned"))
        flags.extend(gaps_of.get(int(row.id), []))
        records.append(
            {
                "customer_id": int(row.id),
                "code": row.code,
                "name": row.name,
                "phone": mask_phone(row.phone),
                "tier_rank": int(row.tier_rank),
                "tier": ctx.ladder.name(int(row.tier_rank)),
                "manager": f"{row.manager_code} · {row.manager_name}" if row.manager_code else "",
                "region": row.region or "",
                "flags": " · ".join(flags),
                "link": customer_link(row.code, row.name),
            }
        )
    return SearchPage(total=total, rows=pd.DataFrame(records, columns=RESULT_COLUMNS), by_phone=by_phone)


@dataclass(frozen=True)
class Filters:
    tiers: list[tuple[int, str]]
    managers: list[tuple[int, str]]
    regions: list[str]


@query("customers.read")
def search_filters(*, session: Session, actor: Actor, today: dt.date) -> Filters:
    """The choices of the search filters: tiers, client managers (a client manager: only themselves), regions."""
    ladder = context(session, today).ladder
    s = Staff.__table__
    stmt = select(s.c.id, s.c.code, s.c.name).where(s.c.role == "client_manager", s.c.is_training == false())
    if actor.role == "client_manager":
        stmt = stmt.where(s.c.id == (actor.staff_id if actor.staff_id is not None else -1))
    managers = [(int(mid), f"{code} · {name}") for mid, code, name in session.execute(stmt.order_by(s.c.code)).all()]
    regions = [
        r
        for (r,) in session.execute(
            select(C.c.region)
            .where(C.c.region.is_not(None), C.c.is_training == false())
            .distinct()
            .order_by(C.c.region)
        ).all()
    ]
    return Filters(
        tiers=[(rank, ladder.name(rank)) for rank in sorted(ladder.tiers)],
        managers=managers,
        regions=regions,
    )
