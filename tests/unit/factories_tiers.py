"""Small builders for the tier tests: managers, customers, purchases on Asia/Shanghai dates, users."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlmodel import Session, select

from console.permissions import Actor
from console.timeutil import local_to_utc
from models import Customer, Purchase, Staff, Team, TierChange, User

_refs = itertools.count(1)


def team(s: Session, code: str = "M1", stream: str = "maintenance") -> Team:
    row = Team(code=code, name=f"Team {code}", stream=stream)
    s.add(row)
    s.flush()
    return row


def manager(s: Session, code: str, *, level: str = "senior", capacity: int = 1000, team_id: int | None = None) -> Staff:
    row = Staff(
        code=code,
        name=f"Manager {code}",
        role="client_manager",
        manager_level=level,
        capacity_units=capacity,
        team_id=team_id,
        stream="maintenance",
        region="广州",
    )
    s.add(row)
    s.flush()
    return row


def customer(
    s: Session,
    code: str,
    *,
    tier: int = 0,
    manager_id: int | None = None,
    created: dt.datetime | None = None,
    region: str = "广州",
    supreme: bool = False,
    initial_event: bool = True,
) -> Customer:
    created = created or local_to_utc(dt.date(2024, 1, 1), dt.time(9, 0))
    row = Customer(
        code=code,
        name=f"Customer {code}",
        region=region,
        tier_rank=tier,
        tier_since=created,
        vip_since=created if tier else None,
        manager_id=manager_id,
        assigned_at=created if manager_id else None,
        supreme=supreme,
        created_at=created,
    )
    s.add(row)
    s.flush()
    if initial_event:
        s.add(TierChange(customer_id=row.id, from_rank=None, to_rank=tier, kind="initial", at=created))
        s.flush()
    return row


def buy(s: Session, customer_id: int, day: dt.date, yuan: float, *, n: int = 1, time: dt.time = dt.time(12, 0)) -> None:
    """n purchases of `yuan` each on a Shanghai date."""
    for _ in range(n):
        s.add(
            Purchase(
                customer_id=customer_id,
                at=local_to_utc(day, time),
                amount_fen=round(yuan * 100),
                reference=f"P{next(_refs):09d}",
            )
        )
    s.flush()


def user(s: Session, username: str, role: str, staff_id: int | None = None) -> User:
    row = User(username=username, role=role, password_hash="x", staff_id=staff_id)
    s.add(row)
    s.flush()
    return row


def actor_of(u: User, team_id: int | None = None) -> Actor:
    return Actor(user_id=u.id, username=u.username, role=u.role, staff_id=u.staff_id, team_id=team_id)


def events(s: Session, customer_id: int) -> list[TierChange]:
    return list(
        s.exec(
            select(TierChange).where(TierChange.customer_id == customer_id).order_by(TierChange.at, TierChange.id)  # type: ignore[arg-type]
        )
    )


def tier(s: Session, customer_id: int) -> int:
    s.expire_all()
    row = s.get(Customer, customer_id)
    assert row is not None
    return row.tier_rank
