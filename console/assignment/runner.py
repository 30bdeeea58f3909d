"""Applying a previewed plan as a job: the page queues it and follows it; the worker writes it as one batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from console.assignment.imports import apply_import
from console.assignment.rules import Plan, Refused
from console.assignment.services import (
    Applied,
    apply_auto_assign,
    apply_exit,
    apply_leave,
    apply_rebalance,
)
from console.jobs import JobContext, enqueue, handler
from console.permissions import Actor, require

JOB_KIND = "assignment_apply"
APPLIERS: dict[str, Callable[..., Applied]] = {
    "auto_assign": apply_auto_assign,
    "rebalance": apply_rebalance,
    "leave_cover": apply_leave,
    "exit": apply_exit,
    "import": apply_import,
}
ACTIONS: dict[str, str] = {
    "auto_assign": "assignment.auto_assign",
    "rebalance": "assignment.rebalance",
    "leave_cover": "assignment.leave",
    "exit": "assignment.exit",
    "import": "assignment.import",
}


def start_apply(session: Session, *, actor: Actor, plan: Plan, today: dt.date) -> int:
    """Queue the apply of a previewed plan; returns the job id (the caller commits)."""
    if plan.kind not in APPLIERS:
        raise Refused(f"unknown plan kind {plan.kind!r}")
    require(actor, ACTIONS[plan.kind])
    params = {
        "plan": plan.to_params(),
        "today": today.isoformat(),
        "actor": {
            "user_id": actor.user_id,
            "username": actor.username,
            "role": actor.role,
            "staff_id": actor.staff_id,
            "team_id": actor.team_id,
        },
    }
    job = enqueue(session, actor=actor, kind=JOB_KIND, params=params)
    return int(job.id)  # type: ignore[arg-type]


def run_plan(session: Session, *, actor: Actor, plan: Plan, today: dt.date) -> Applied:
    """Apply a plan now, in the caller's transaction (used by the job and by tests)."""
    return APPLIERS[plan.kind](session=session, actor=actor, plan=plan, today=today)


@handler(JOB_KIND, action="assignment.apply")
def _run(ctx: JobContext) -> dict[str, Any]:
    plan = Plan.from_params(ctx.params["plan"])
    actor = Actor(**ctx.params["actor"])
    today = dt.date.fromisoformat(ctx.params["today"])
    total = len(plan.moves)
    ctx.progress(0, total, f"applying {total:,} moves")
    with Session(ctx.engine, expire_on_commit=False) as session:
        try:
            applied = run_plan(session, actor=actor, plan=plan, today=today)
            session.commit()
        except Exception:
            session.rollback()
            raise
    ctx.progress(total, total)
    batch = f" in batch {applied.batch_id}" if applied.batch_id else ""
    return {
        "message": f"{applied.moves:,} moves written{batch}",
        "batch_id": applied.batch_id,
        "moves": applied.moves,
        "unassigned": applied.unassigned,
    }


COVER_END_KIND = "assignment_end_covers"


@handler(COVER_END_KIND, action="assignment.end_covers")
def _run_end_covers(ctx: JobContext) -> dict[str, Any]:
    """The daily job (and anyone late): return covered VIPs whose manager's leave has ended."""
    from console.assignment.services import end_due_covers
    from console.timeutil import today_local

    today = dt.date.fromisoformat(ctx.params["today"]) if ctx.params.get("today") else today_local()
    with Session(ctx.engine, expire_on_commit=False) as session:
        applied = end_due_covers(session, today)
        session.commit()
    moved = applied.moves if applied else 0
    return {"message": f"{moved:,} covered VIPs returned", "moves": moved}
