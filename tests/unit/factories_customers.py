"""A small hand-built world for the Customers (VIP 360) tests: two teams, managers of each level, customers with
tier events, assignments, calls with evaluations, contacts, visits with runs — each created explicitly."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlmodel import Session, select

from console.permissions import Actor
from console.timeutil import local_to_utc
from models import (
    Assignment,
    AssignmentBatch,
    Call,
    Contact,
    Customer,
    Dispute,
    Evaluation,
    EvaluationAnswer,
    FollowUp,
    Incident,
    Run,
    RunItem,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    Staff,
    Team,
    TierChange,
    User,
    Visit,
)

TODAY = dt.date(2026, 11, 25)
NOW = local_to_utc(TODAY, dt.time(12, 0))
_seq = itertools.count(1)


def at(days_ago: int, hour: int = 10) -> dt.datetime:
    """A UTC instant `days_ago` Shanghai days before TODAY at `hour` local time."""
    return local_to_utc(TODAY - dt.timedelta(days=days_ago), dt.time(hour, 0))


def on(day: dt.date, hour: int = 10) -> dt.datetime:
    return local_to_utc(day, dt.time(hour, 0))


@dataclass
class World:
    maint: Team
    ob: Team
    lead: Staff
    ob_lead: Staff
    agent: Staff
    ob_agent: Staff
    junior: Staff
    senior: Staff
    enterprise: Staff
    sup: Staff
    users: dict[int, User] = field(default_factory=dict)

    def actor(self, staff: Staff) -> Actor:
        user = self.users.get(staff.id)  # type: ignore[arg-type]
        return Actor(
            user_id=user.id if user else None,
            username=staff.code,
            role=staff.role,
            staff_id=staff.id,
            team_id=staff.team_id,
        )


def _staff(s: Session, code: str, role: str, team: Team | None, **kw: object) -> Staff:
    staff = Staff(
        code=code,
        name=str(kw.pop("name", code)),
        role=role,
        team_id=team.id if team else None,
        stream=team.stream if team else None,
        department="member_value",
        **kw,  # type: ignore[arg-type]
    )
    s.add(staff)
    s.flush()
    return staff


def make_world(s: Session) -> World:
    maint = Team(code="MT01", name="维护一组", stream="maintenance")
    ob = Team(code="OB01", name="外呼一组", stream="ob")
    s.add(maint)
    s.add(ob)
    s.flush()
    w = World(
        maint=maint,
        ob=ob,
        lead=_staff(s, "TL-MT", "team_lead", maint, name="张班长"),
        ob_lead=_staff(s, "TL-OB", "team_lead", ob, name="王班长"),
        agent=_staff(s, "AG-MT", "agent", maint, name="李坐席"),
        ob_agent=_staff(s, "AG-OB", "agent", ob, name="孙坐席"),
        junior=_staff(s, "CM-J", "client_manager", maint, name="初级经理", manager_level="junior"),
        senior=_staff(s, "CM-S", "client_manager", maint, name="高级经理", manager_level="senior"),
        enterprise=_staff(s, "CM-E", "client_manager", maint, name="企业经理", manager_level="enterprise"),
        sup=_staff(s, "SUP", "supervisor", None, name="周主管"),
    )
    for staff in (w.lead, w.ob_lead, w.agent, w.ob_agent, w.junior, w.senior, w.enterprise, w.sup):
        user = User(username=staff.code.lower(), staff_id=staff.id, role=staff.role, password_hash="x")
        s.add(user)
        s.flush()
        w.users[staff.id] = user  # type: ignore[index]
    return w


def customer(
    s: Session,
    rank: int,
    *,
    mgr: Staff | None = None,
    name: str | None = None,
    phone: str | None = None,
    vip_days_ago: int = 400,
    assigned_days_ago: int = 300,
    training: bool = False,
    supreme: bool = False,
) -> Customer:
    n = next(_seq)
    c = Customer(
        code=f"T{n:06d}",
        name=name or f"客户{n}",
        phone=phone or f"139{n:08d}",
        id_number=f"44010019800101{n:04d}",
        region="广州",
        tier_rank=rank,
        tier_since=at(vip_days_ago) if rank else None,
        vip_since=at(vip_days_ago) if rank else None,
        manager_id=mgr.id if mgr else None,
        assigned_at=at(assigned_days_ago) if mgr else None,
        is_training=training,
        supreme=supreme,
        created_at=at(vip_days_ago + 10),
    )
    s.add(c)
    s.flush()
    s.add(TierChange(customer_id=c.id, from_rank=None, to_rank=0, kind="initial", at=at(vip_days_ago + 10)))
    if rank:
        s.add(
            TierChange(
                customer_id=c.id,
                from_rank=0,
                to_rank=rank,
                kind="designation" if supreme else "upgrade",
                at=at(vip_days_ago),
                reason="Qualified on trailing-12-month purchases",
            )
        )
    if mgr is not None:
        s.add(
            Assignment(
                customer_id=c.id,  # type: ignore[arg-type]
                from_manager_id=None,
                to_manager_id=mgr.id,
                at=at(assigned_days_ago),
                reason="new_vip",
            )
        )
    s.flush()
    return c


def assign(
    s: Session, c: Customer, mgr: Staff | None, when: dt.datetime, reason: str = "rebalance", batch: bool = False
) -> Assignment:
    batch_id = None
    if batch:
        b = AssignmentBatch(kind="rebalance", created_at=when, moves=1)
        s.add(b)
        s.flush()
        batch_id = b.id
    row = Assignment(
        customer_id=c.id,  # type: ignore[arg-type]
        from_manager_id=c.manager_id,
        to_manager_id=mgr.id if mgr else None,
        at=when,
        reason=reason,
        batch_id=batch_id,
    )
    s.add(row)
    c.manager_id = mgr.id if mgr else None
    c.assigned_at = when if mgr else None
    s.add(c)
    s.flush()
    return row


def tier_change(s: Session, c: Customer, to_rank: int, when: dt.datetime, kind: str = "downgrade") -> TierChange:
    row = TierChange(customer_id=c.id, from_rank=c.tier_rank, to_rank=to_rank, kind=kind, at=when, reason="test")  # type: ignore[arg-type]
    s.add(row)
    c.tier_rank = to_rank
    c.tier_since = when
    s.add(c)
    s.flush()
    return row


def call(
    s: Session,
    caller: Staff,
    c: Customer,
    when: dt.datetime,
    *,
    outcome: str = "connected",
    stream: str | None = None,
    contact: bool = True,
) -> Call:
    stream = stream or caller.stream or "maintenance"
    row = Call(
        reference=f"K{next(_seq):08d}",
        customer_id=c.id,  # type: ignore[arg-type]
        caller_id=caller.id,  # type: ignore[arg-type]
        stream=stream,
        call_type="care" if stream == "maintenance" else "upsell",
        started_at=when,
        duration_s=125,
        outcome=outcome,
        result="success" if outcome == "connected" else None,
    )
    s.add(row)
    s.flush()
    if contact:
        s.add(
            Contact(
                customer_id=c.id,  # type: ignore[arg-type]
                staff_id=caller.id,
                kind="call",
                at=when,
                outcome=outcome,
                stream=stream,
                call_id=row.id,
            )
        )
        s.flush()
    return row


def contact(
    s: Session, c: Customer, staff: Staff | None, kind: str, when: dt.datetime, outcome: str | None = None
) -> Contact:
    row = Contact(
        customer_id=c.id,  # type: ignore[arg-type]
        staff_id=staff.id if staff else None,
        kind=kind,
        at=when,
        outcome=outcome,
        stream="maintenance",
    )
    s.add(row)
    s.flush()
    return row


def active_version(s: Session, stream: str = "maintenance") -> ScorecardVersion:
    from models import Scorecard

    return s.exec(
        select(ScorecardVersion)
        .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
        .where(Scorecard.stream == stream, ScorecardVersion.status == "active")
    ).one()


def evaluate(
    s: Session,
    k: Call,
    evaluator: Staff,
    *,
    total: float | None = 90.0,
    passed: bool | None = True,
    status: str = "acknowledged",
    void: bool = False,
    kind: str = "regular",
    section_share: dict[str, float] | None = None,
) -> Evaluation:
    """An evaluation of a call; with section_share, answers giving each listed section that share of its points
    (other sections full points)."""
    version = active_version(s, k.stream)
    ev = Evaluation(
        call_id=k.id,  # type: ignore[arg-type]
        version_id=version.id,  # type: ignore[arg-type]
        evaluator_id=evaluator.id,  # type: ignore[arg-type]
        evaluatee_id=k.caller_id,
        kind=kind,
        status=status,
        total=total,
        passed=passed,
        void=void,
        submitted_at=k.started_at + dt.timedelta(days=1) if status != "draft" else None,
    )
    s.add(ev)
    s.flush()
    if section_share is not None:
        items = s.exec(
            select(ScorecardItem, ScorecardSection.code)
            .join(ScorecardSection, ScorecardSection.id == ScorecardItem.section_id)
            .where(ScorecardSection.version_id == version.id)
        ).all()
        for item, code in items:
            share = section_share.get(code, 1.0)
            points = (
                round(item.max_points * share) if item.kind == "scale" else (item.max_points if share >= 0.5 else 0)
            )
            s.add(EvaluationAnswer(evaluation_id=ev.id, item_id=item.id, points=points, na=False))  # type: ignore[arg-type]
        s.flush()
    return ev


def dispute(s: Session, ev: Evaluation, by: Staff, status: str = "open") -> Dispute:
    row = Dispute(
        evaluation_id=ev.id,  # type: ignore[arg-type]
        raised_by=by.id,  # type: ignore[arg-type]
        raised_at=(ev.submitted_at or NOW) + dt.timedelta(hours=2),
        reason="不同意",
        status=status,
    )
    s.add(row)
    s.flush()
    return row


def visit(
    s: Session,
    c: Customer,
    arrival: dt.datetime,
    *,
    status: str = "completed",
    host: Staff | None = None,
    level: int = 3,
) -> Visit:
    row = Visit(
        customer_id=c.id,
        level=level,
        arrival_at=arrival,
        departure_at=arrival + dt.timedelta(hours=4),
        location="贵宾楼",
        host_id=host.id if host else None,
        status=status,
    )
    s.add(row)
    s.flush()
    return row


def run_with_items(
    s: Session,
    v: Visit,
    *,
    failed_critical: int = 0,
    failed_other: int = 0,
    done: int = 2,
    followup: str | None = "open",
    owner: Staff | None = None,
) -> Run:
    run = Run(visit_id=v.id, templates="T2@1", status="submitted")  # type: ignore[arg-type]
    s.add(run)
    s.flush()
    seq = itertools.count(1)
    items = [("done", False)] * done + [("failed", True)] * failed_critical + [("failed", False)] * failed_other
    for state, critical in items:
        item = RunItem(
            run_id=run.id,  # type: ignore[arg-type]
            template_code="T2",
            seq=next(seq),
            phase="P1",
            phase_en="Before arrival",
            phase_zh="到达前",
            text_en="Check the room",
            text_zh="检查房间",
            department="front_office",
            timing="optional",
            required=True,
            critical=critical,
            state=state,
            done_at=v.arrival_at - dt.timedelta(hours=1),
        )
        s.add(item)
        s.flush()
        if state == "failed" and followup is not None and owner is not None:
            s.add(
                FollowUp(
                    run_item_id=item.id,  # type: ignore[arg-type]
                    owner_id=owner.id,  # type: ignore[arg-type]
                    due_at=v.arrival_at + dt.timedelta(days=2),
                    action="整改",
                    status=followup,
                )
            )
            s.flush()
    return run


def incident(s: Session, v: Visit) -> Incident:
    row = Incident(visit_id=v.id, reported_by_post="大堂", description="访客走错", reported_at=v.arrival_at)  # type: ignore[arg-type]
    s.add(row)
    s.flush()
    return row
