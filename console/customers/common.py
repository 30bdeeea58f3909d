"""What the Customers (VIP 360) modules share: who sees which customers (SPEC §1), link targets, errors.

Scope (SPEC §1, "Pages each role sees"): admin and supervisor every customer; a team lead "own team's
callees" — the customers called by a member of their team; a client manager their own portfolio; every other
role nothing. Training customers (pseudonymised drill data) never appear here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import false, func, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from console.i18n import t
from console.permissions import PAGES, SUPERVISORS, Actor, PermissionDenied
from models import Call, Customer, Staff

SEARCH_MAX_CHARS = 100
CODE_MAX_CHARS = 32
EXPORT_LIMIT = 100_000

C = Customer.__table__


class CustomerError(ValueError):
    """A refused request (bad input, unknown customer). str() is the message in the current language."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return t(self.template, **self.params)


class OutOfScope(PermissionDenied):
    """The customer exists but is not in the actor's scope (translated like CustomerError)."""

    def __init__(self, template: str = "This customer is not in your scope.", **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return t(self.template, **self.params)


# ------------------------------------------------------------------------------------------------ scope


def scope_condition(actor: Actor, customer_id: Any = None) -> ColumnElement[bool]:
    """SQL truth of "the actor may see this customer", on a customer id column (customer.id by default).

    The subqueries use their own aliases, so a caller may join Staff or Call itself without the scope
    correlating to them.
    """
    cid = C.c.id if customer_id is None else customer_id
    if actor.role in SUPERVISORS:
        return true()
    if actor.role == "client_manager":
        if actor.staff_id is None:
            return false()
        owner = C.alias("scope_owner")
        if cid is C.c.id:
            return C.c.manager_id == actor.staff_id
        return cid.in_(select(owner.c.id).where(owner.c.manager_id == actor.staff_id))
    if actor.role == "team_lead":
        if actor.team_id is None:
            return false()
        members = Staff.__table__.alias("scope_member")
        calls = Call.__table__.alias("scope_call")
        return cid.in_(
            select(calls.c.customer_id).where(
                calls.c.caller_id.in_(select(members.c.id).where(members.c.team_id == actor.team_id))
            )
        )
    return false()


def visible(actor: Actor) -> list[ColumnElement[bool]]:
    """The conditions on customer every list of this page starts from: in scope, not training data."""
    return [scope_condition(actor), C.c.is_training == false()]


def customer_in_scope(session: Session, actor: Actor, customer_id: int) -> Customer:
    """The customer, or a clear refusal: unknown (CustomerError) or not in the actor's scope (OutOfScope)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.is_training:
        raise CustomerError("No such customer.")
    allowed = session.execute(select(func.count()).select_from(C).where(C.c.id == customer_id, *visible(actor)))
    if not allowed.scalar_one():
        raise OutOfScope()
    return customer


def clean_code(code: str | None) -> str:
    """A customer code from a link or a form: trimmed, upper case; empty when it cannot be a code."""
    text = (code or "").strip()
    if not text or len(text) > CODE_MAX_CHARS:
        return ""
    return text.upper()


# ------------------------------------------------------------------------------------------------ links


@dataclass(frozen=True)
class Link:
    """Where an entry lives: a page key, the query parameter that page reads, and its value.

    The UI opens it in the same browser session (console.ui.customer_link.open_link), or as a URL
    (target_url) for st.column_config.LinkColumn.
    """

    page: str
    param: str
    value: str
    label: str  # English; translated when drawn

    def url(self) -> str:
        return f"{self.page.replace('_', '-')}?{self.param}={quote(str(self.value), safe='')}"


def customer_link(code: str, name: str | None = None) -> str:
    """The relative URL of a customer's page: customers?customer=CODE (with the name as a #fragment, so a
    LinkColumn can show it with display_text=r"#(.+)$"). Relative, so it also works under a base URL path."""
    url = f"customers?customer={quote(str(code), safe='')}"
    if name:
        shown = "".join(ch for ch in str(name) if ch not in "#\r\n\t").strip()
        if shown:
            url += "#" + shown
    return url


def page_allowed(actor: Actor, page: str) -> bool:
    return actor.role in PAGES.get(page, frozenset())


def as_date(value: Any) -> dt.date | None:
    """A date from what SQLite or PostgreSQL returns for a date expression."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
