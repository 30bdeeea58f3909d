"""Small hand-built QA worlds for the unit tests: two teams, their people, customers with tier events, calls."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlmodel import Session, select

from console.permissions import Actor
from console.qa.common import active_version_id, load_version
from console.qa.explain import AnswerIn
from console.timeutil import local_to_utc
from models import Call, Customer, Staff, Team, TierChange, User

_seq = itertools.count(1)


@dataclass
class World:
    maint: Team
    ob: Team
    lead: Staff  # lead of the maintenance team
    ob_lead: Staff
    agent: Staff  # maintenance agent
    agent2: Staff
    cm: Staff  # client manager in the maintenance team
    ob_agent: Staff
    sup: Staff
    sup2: Staff
    admin: Staff
    trainee: Staff
    customers: dict[str, Customer] = field(default_factory=dict)

    def actor(self, staff: Staff) -> Actor:
        return Actor(user_id=None, username=staff.code, role=staff.role, staff_id=staff.id, team_id=staff.team_id)


def _staff(session: Session, code: str, role: str, team: Team | None, **kw: object) -> Staff:
    s = Staff(
        code=code,
        name=kw.pop("name", code),  # type: ignore[arg-type]
        role=role,
        team_id=team.id if team else None,
        stream=team.stream if team else None,
        department="member_value",
        **kw,  # type: ignore[arg-type]
    )
    session.add(s)
    session.flush()
    return s


def make_world(session: Session) -> World:
    maint = Team(code="MT01", name="维护一组", stream="maintenance")
    ob = Team(code="OB01", name="外呼营销一组", stream="ob")
    session.add(maint)
    session.add(ob)
    session.flush()
    w = World(
        maint=maint,
        ob=ob,
        lead=_staff(session, "TL-MT01", "team_lead", maint, name="张班长"),
        ob_lead=_staff(session, "TL-OB01", "team_lead", ob, name="王班长"),
        agent=_staff(session, "AG-MT01-01", "agent", maint, name="李坐席"),
        agent2=_staff(session, "AG-MT01-02", "agent", maint, name="赵坐席"),
        cm=_staff(session, "CM001", "client_manager", maint, name="陈经理", manager_level="senior"),
        ob_agent=_staff(session, "AG-OB01-01", "agent", ob, name="孙坐席"),
        sup=_staff(session, "SUP1", "supervisor", None, name="周主管"),
        sup2=_staff(session, "SUP2", "supervisor", None, name="吴主管"),
        admin=_staff(session, "ADM", "admin", None, name="郑管理"),
        trainee=_staff(session, "TR01", "trainee", None, name="冯学员", is_training=True),
    )
    for s in (w.sup, w.sup2):
        session.add(User(username=s.code.lower(), staff_id=s.id, role=s.role, password_hash="x"))
    session.flush()
    return w


def add_customer(
    session: Session,
    name: str,
    rank: int,
    *,
    since: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    training: bool = False,
) -> Customer:
    n = next(_seq)
    c = Customer(code=f"C{n:06d}", name=name, tier_rank=rank, is_training=training)
    session.add(c)
    session.flush()
    session.add(TierChange(customer_id=c.id, from_rank=None, to_rank=rank, kind="initial", at=since))
    session.flush()
    return c


def tier_event(session: Session, customer: Customer, to_rank: int, at: dt.datetime, kind: str) -> None:
    session.add(TierChange(customer_id=customer.id, from_rank=customer.tier_rank, to_rank=to_rank, kind=kind, at=at))
    customer.tier_rank = to_rank
    session.add(customer)
    session.flush()


def add_call(
    session: Session,
    caller: Staff,
    customer: Customer,
    at: dt.datetime,
    *,
    outcome: str = "connected",
    result: str | None = "success",
    stream: str | None = None,
    call_type: str | None = None,
    transcript: str | None = "坐席：您好，这里是会员服务中心。",
) -> Call:
    stream = stream or caller.stream or "maintenance"
    call = Call(
        reference=f"CALL{next(_seq):08d}",
        customer_id=customer.id,  # type: ignore[arg-type]
        caller_id=caller.id,  # type: ignore[arg-type]
        stream=stream,
        call_type=call_type or ("care" if stream == "maintenance" else "upsell"),
        started_at=at,
        duration_s=245,
        outcome=outcome,
        result=result if outcome == "connected" else None,
        transcript=transcript,
    )
    session.add(call)
    session.flush()
    return call


def local(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return local_to_utc(day, dt.time(hour, minute))


def full_answers(session: Session, stream: str = "maintenance", *, miss: int = 0) -> dict[int, AnswerIn]:
    """Answers for every item of the stream's active version: full points, except the first `miss` items at 0."""
    spec = load_version(session, active_version_id(session, stream))  # type: ignore[arg-type]
    out = {}
    for n, item in enumerate(spec.items):
        out[item.item_id] = AnswerIn(points=0 if n < miss else item.max_points)
    return out


def violation_id(session: Session, stream: str, code: str) -> int:
    spec = load_version(session, active_version_id(session, stream))  # type: ignore[arg-type]
    return next(v.violation_id for v in spec.violations if v.code == code)


def count(session: Session, model: type) -> int:
    return len(session.exec(select(model)).all())
