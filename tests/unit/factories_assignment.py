"""Small factories for assignment tests: managers, VIPs, logins, on a freshly migrated database."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlmodel import Session

from console.permissions import Actor
from models import Contact, Customer, Staff, User

_seq = itertools.count(1)


def manager(
    s: Session,
    code: str,
    *,
    level: str = "senior",
    capacity: int = 100,
    region: str | None = "广州",
    active: bool = True,
    leave: tuple[dt.date, dt.date] | None = None,
    exit_date: dt.date | None = None,
) -> Staff:
    staff = Staff(
        code=code,
        name=f"经理{code}",
        role="client_manager",
        stream="maintenance",
        department="member_value",
        manager_level=level,
        capacity_units=capacity,
        region=region,
        active=active,
        leave_start=leave[0] if leave else None,
        leave_end=leave[1] if leave else None,
        exit_date=exit_date,
    )
    s.add(staff)
    s.flush()
    return staff


def vip(
    s: Session,
    code: str,
    rank: int,
    *,
    mgr: Staff | None = None,
    region: str | None = "广州",
    assigned_at: dt.datetime | None = None,
    waiting_since: dt.datetime | None = None,
    phone: str | None = None,
    binding_due: dt.date | None = None,
    vip_since: dt.datetime | None = None,
) -> Customer:
    customer = Customer(
        code=code,
        name=f"客户{code}",
        phone=phone or f"139{next(_seq):08d}",
        region=region,
        tier_rank=rank,
        manager_id=mgr.id if mgr else None,
        assigned_at=assigned_at or (dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if mgr else None),
        waiting_since=waiting_since,
        binding_due=binding_due,
        vip_since=vip_since,
    )
    s.add(customer)
    s.flush()
    return customer


def login(s: Session, username: str, role: str, staff: Staff | None = None) -> Actor:
    user = User(username=username, role=role, password_hash="x", staff_id=staff.id if staff else None)
    s.add(user)
    s.flush()
    return Actor(user_id=user.id, username=username, role=role, staff_id=staff.id if staff else None, team_id=None)


def contact(
    s: Session,
    customer: Customer,
    staff: Staff | None,
    kind: str,
    at: dt.datetime,
    *,
    outcome: str | None = "connected",
    stream: str | None = "maintenance",
) -> Contact:
    row = Contact(
        customer_id=customer.id,
        staff_id=staff.id if staff else None,
        kind=kind,
        at=at,
        outcome=outcome,
        stream=stream,
    )
    s.add(row)
    s.flush()
    return row
