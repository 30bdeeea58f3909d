"""Small factories for the reception tests: people with logins, customers, visits with runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from console.permissions import Actor
from console.reception import PlanResult, plan_visit
from models import ChecklistTemplate, Customer, RunItem, Staff, User

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@dataclass
class World:
    admin: Actor
    supervisor: Actor
    host: Actor  # client manager who hosts the visits
    other_cm: Actor  # client manager whose portfolio holds `own_customer`
    security: Actor  # reception staff, Security department
    fnb: Actor  # reception staff, Food & Beverage
    agent: Actor
    customer_id: int  # belongs to `host`
    own_customer_id: int  # belongs to `other_cm`
    stranger_customer_id: int  # nobody's


def person(session: Session, code: str, role: str, department: str | None = None) -> Actor:
    staff = Staff(code=code, name=f"Name {code}", role=role, department=department)
    session.add(staff)
    session.flush()
    user = User(username=code.lower(), staff_id=staff.id, role=role, password_hash="x")
    session.add(user)
    session.flush()
    return Actor(user_id=user.id, username=user.username, role=role, staff_id=staff.id)


def customer(session: Session, code: str, manager: Actor | None = None, **kw: object) -> int:
    c = Customer(code=code, name=f"Guest {code}", tier_rank=3, manager_id=manager.staff_id if manager else None, **kw)
    session.add(c)
    session.flush()
    return c.id  # type: ignore[return-value]


def make_world(session: Session) -> World:
    admin = person(session, "AD", "admin", "member_value")
    supervisor = person(session, "SV", "supervisor", "member_value")
    host = person(session, "CM1", "client_manager", "member_value")
    other = person(session, "CM2", "client_manager", "member_value")
    security = person(session, "RC-SEC", "reception", "security")
    fnb = person(session, "RC-FNB", "reception", "fnb")
    agent = person(session, "AG", "agent", "member_value")
    cust = customer(session, "C1", host, dietary="No pork", hometown="Wuhan")
    own = customer(session, "C2", other)
    stranger = customer(session, "C3")
    session.commit()
    return World(admin, supervisor, host, other, security, fnb, agent, cust, own, stranger)


def template_id(session: Session, code: str) -> int:
    return session.exec(
        select(ChecklistTemplate.id).where(ChecklistTemplate.code == code, ChecklistTemplate.status == "active")
    ).one()


def plan(
    session: Session,
    world: World,
    *,
    level: int = 1,
    templates: tuple[str, ...] = ("T1",),
    customer_id: int | None = -1,
    guest_name: str | None = None,
    arrival: dt.datetime | None = None,
    hours: int = 48,
    host: Actor | None = None,
    now: dt.datetime = NOW,
) -> PlanResult:
    arrival = arrival or now + dt.timedelta(days=2)
    result = plan_visit(
        session=session,
        actor=world.supervisor,
        level=level,
        arrival_at=arrival,
        departure_at=arrival + dt.timedelta(hours=hours),
        location="Guanxiang Building",
        host_id=(host or world.host).staff_id,
        customer_id=world.customer_id if customer_id == -1 else customer_id,
        guest_name=guest_name,
        party_size=4,
        purpose="Business talks",
        template_ids=[template_id(session, c) for c in templates],
        now=now,
    )
    session.commit()
    return result


def items(session: Session, run_id: int) -> list[RunItem]:
    return list(
        session.exec(select(RunItem).where(RunItem.run_id == run_id).order_by(RunItem.template_code, RunItem.seq))
    )
