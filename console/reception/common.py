"""Shared pieces of the reception domain: errors with translated messages, who the actor is, and scoping.

Scoping (SPEC §1): supervisors and admins see every visit; a client manager sees visits they host or whose
customer is in their own portfolio; reception staff see the items of their own department across current runs
(and everything on a visit they host). Working an item: the visit's host, reception staff of the item's
department, a supervisor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from console.i18n import t
from console.permissions import Actor, PermissionDenied
from console.timeutil import to_utc, utcnow
from models import Customer, Run, RunItem, Staff, Visit

CURRENT_RUN_STATUSES = ("scheduled", "in_progress", "submitted")
EDITABLE_RUN_STATUSES = CURRENT_RUN_STATUSES
ACTIVE_VISIT_STATUSES = ("planned", "in_progress")


class ReceptionError(ValueError):
    """Bad input or a rule broken: the message is English, shown translated (str() translates)."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message)
        self.message = message
        self.kwargs = kwargs

    def __str__(self) -> str:
        return t(self.message, **self.kwargs)


class ScopeDenied(PermissionDenied):
    """The role may use the service, but not on this visit, run or item."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message)
        self.message = message
        self.kwargs = kwargs

    def __str__(self) -> str:
        return t(self.message, **self.kwargs)


@dataclass(frozen=True)
class Who:
    """The actor with the facts scoping needs."""

    actor: Actor
    staff_id: int | None
    department: str | None

    @property
    def supervisor(self) -> bool:
        return self.actor.is_supervisor

    @property
    def reception(self) -> bool:
        return self.actor.role == "reception"


def who(session: Session, actor: Actor) -> Who:
    department = None
    if actor.staff_id is not None:
        department = session.exec(select(Staff.department).where(Staff.id == actor.staff_id)).first()
    return Who(actor=actor, staff_id=actor.staff_id, department=department)


def now_or(now: dt.datetime | None) -> dt.datetime:
    return utcnow() if now is None else to_utc(now)


def visible_visit_clause(w: Who) -> ColumnElement[bool]:
    """SQL condition on Visit: the visits this actor may see."""
    if w.supervisor:
        return true()
    if w.staff_id is None:
        return false()
    hosted = Visit.host_id == w.staff_id
    # Aliases: the caller's query may join Customer, Run or RunItem itself; the subqueries must not correlate.
    if w.actor.role == "client_manager":
        cust = aliased(Customer)
        own_customer = exists(select(cust.id).where(cust.id == Visit.customer_id, cust.manager_id == w.staff_id))
        return or_(hosted, own_customer)
    if w.reception and w.department:
        item, run = aliased(RunItem), aliased(Run)
        dept_items = exists(
            select(item.id)
            .join(run, run.id == item.run_id)
            .where(run.visit_id == Visit.id, item.department == w.department)
        )
        return or_(hosted, dept_items)
    return hosted


def visible_item_clause(w: Who) -> ColumnElement[bool]:
    """SQL condition on RunItem joined to its Visit: the items this actor may see."""
    if w.supervisor:
        return true()
    if w.reception:
        if w.department is None:
            return Visit.host_id == w.staff_id if w.staff_id is not None else false()
        return or_(RunItem.department == w.department, Visit.host_id == w.staff_id)
    return visible_visit_clause(w)


def can_see_visit(session: Session, w: Who, visit: Visit) -> bool:
    if w.supervisor:
        return True
    return bool(
        session.exec(select(Visit.id).where(Visit.id == visit.id, and_(visible_visit_clause(w)))).first() is not None
    )


def can_work_item(w: Who, item: RunItem, visit: Visit) -> bool:
    if w.supervisor:
        return True
    if w.staff_id is not None and visit.host_id == w.staff_id:
        return True
    return w.reception and w.department is not None and item.department == w.department


def load_visit(session: Session, w: Who, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise ReceptionError("That visit does not exist.")
    if not can_see_visit(session, w, visit):
        raise ScopeDenied("You may not see this visit.")
    return visit


def guest_label(visit: Visit, customer_name: str | None) -> str:
    return customer_name or visit.guest_name or ""


def clean_text(value: str | None, *, limit: int, label: str, required: bool = False) -> str | None:
    """Strip a text input; refuse over-long text; None for blank unless required."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ReceptionError("{field} is required.", field=t(label))
        return None
    if len(text) > limit:
        raise ReceptionError("{field} is too long (at most {limit} characters).", field=t(label), limit=limit)
    return text


STATUS_NAMES = {
    "planned": "Planned",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "scheduled": "Scheduled",
    "submitted": "Submitted",
    "signed_off": "Signed off",
    "open": "To do",
    "done": "Done",
    "na": "N/A",
    "failed": "Failed",
    "draft": "Draft",
    "active": "Active",
    "retired": "Retired",
}


def status_label(code: str | None) -> str:
    """A visit, run, item, follow-up or template status in the current language."""
    return t(STATUS_NAMES[code]) if code in STATUS_NAMES else (code or "")


def followup_label(status: str | None) -> str:
    return t("follow-up done") if status == "done" else t("follow-up open")
