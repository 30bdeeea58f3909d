"""Derived tables that keep the Agent KPIs fast at a million calls (models.qa QaCallDay,
QaEvalSection). Everything here can be rebuilt from call, evaluation and evaluationanswer.

- Calls per caller, Asia/Shanghai day and stream. Calls are only ever added (seeded or imported), so the
  rollup grows incrementally from the highest call id it has seen; if the call table shrank or changed in
  any other way (a demo reset, a restore) the count no longer adds up and the rollup is rebuilt.
- Evaluation facts: for each submitted regular evaluation, what never changes (evaluated person, stream,
  the call's day, the customer's tier at the call's time). Status, void and total are read live.
- Section results per evaluation: earned/possible over applicable items and the fail_section zeroing.
  A dispute resolved as adjusted deletes the evaluation's rows; they are rebuilt on the next read.

refresh() runs at the start of every KPI read (a cheap check when nothing is new, once per Session). When
there is work, it takes a write lock on the state row first (SQLite: the database write lock; PostgreSQL:
the row lock), so two app instances never add the same calls twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, delete, exists, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from console.jobs import JobContext, handler
from console.qa.common import tier_at
from console.timeutil import shanghai_date, utcnow
from models import (
    Call,
    Evaluation,
    EvaluationAnswer,
    EvaluationViolationMark,
    ScorecardItem,
    ScorecardViolation,
)
from models.qa import QaCallDay, QaEvalFact, QaEvalSection, QaRollupState

FRESH = "qa.rollups.fresh"
STATE_ID = 1


def invalidate(session: Session) -> None:
    """Call after a write that the rollups derive from (a submitted or adjusted evaluation)."""
    session.info.pop(FRESH, None)


def _insert(session: Session, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _lock(session: Session) -> QaRollupState:
    session.exec(  # type: ignore[call-overload]
        _insert(session, QaRollupState)
        .values(id=STATE_ID, call_max_id=0, call_count=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    session.exec(  # type: ignore[call-overload]
        update(QaRollupState).where(col(QaRollupState.id) == STATE_ID).values(refreshed_at=utcnow())
    )
    state = session.get(QaRollupState, STATE_ID, populate_existing=True)
    assert state is not None
    return state


def _call_totals(session: Session) -> tuple[int, int]:
    max_id, count = session.exec(select(func.max(Call.id), func.count(Call.id))).one()
    return int(max_id or 0), int(count or 0)


def refresh_calls(session: Session) -> int:
    """Bring the calls-per-day rollup up to date; returns how many calls were added (or re-read).

    The quick check compares the highest call id only (an index lookup): calls are never edited or deleted
    by the console, and a demo reset or a restore replaces this rollup's state row together with the calls.
    """
    max_id = int(session.exec(select(func.max(Call.id))).one() or 0)
    state = session.get(QaRollupState, STATE_ID)
    if state is not None and state.call_max_id == max_id:
        return 0
    state = _lock(session)
    max_id, count = _call_totals(session)  # again, under the lock
    if (state.call_max_id, state.call_count) == (max_id, count):
        return 0
    newer = session.exec(select(func.count(Call.id)).where(Call.id > state.call_max_id)).one()
    if state.call_max_id <= max_id and state.call_count + int(newer) == count:
        since = state.call_max_id
    else:  # the calls changed in some other way than by additions: start again
        session.exec(delete(QaCallDay))  # type: ignore[call-overload]
        since = 0
    day = shanghai_date(Call.started_at)
    rows = (
        select(
            Call.caller_id,
            day,
            Call.stream,
            func.count(Call.id),
            func.sum(case((Call.outcome == "connected", 1), else_=0)),
            func.sum(case((Call.result == "success", 1), else_=0)),
        )
        .where(Call.id > since)
        .group_by(Call.caller_id, day, Call.stream)
    )
    stmt = _insert(session, QaCallDay).from_select(
        ["caller_id", "day", "stream", "attempts", "connected", "success"], rows
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["caller_id", "day", "stream"],
        set_={
            "attempts": QaCallDay.attempts + stmt.excluded.attempts,
            "connected": QaCallDay.connected + stmt.excluded.connected,
            "success": QaCallDay.success + stmt.excluded.success,
        },
    )
    session.exec(stmt)  # type: ignore[call-overload]
    state.call_max_id, state.call_count, state.refreshed_at = max_id, count, utcnow()
    session.add(state)
    session.flush()
    return count if since == 0 else int(newer)


def _submitted_regular() -> list[Any]:
    return [Evaluation.kind == "regular", Evaluation.status != "draft"]


def refresh_eval_facts(session: Session) -> int:
    missing = ~exists().where(QaEvalFact.evaluation_id == Evaluation.id)
    todo = session.exec(select(func.count(Evaluation.id)).where(*_submitted_regular(), missing)).one()
    if not todo:
        return 0
    rows = (
        select(
            Evaluation.id,
            Evaluation.evaluatee_id,
            Call.stream,
            shanghai_date(Call.started_at),
            tier_at(Call.customer_id, Call.started_at),
        )
        .join(Call, Call.id == Evaluation.call_id)
        .where(*_submitted_regular(), missing)
    )
    session.exec(  # type: ignore[call-overload]
        _insert(session, QaEvalFact)
        .from_select(["evaluation_id", "evaluatee_id", "stream", "call_day", "tier_rank"], rows)
        .on_conflict_do_nothing(index_elements=["evaluation_id"])
    )
    session.flush()
    return int(todo)


def refresh_sections(session: Session) -> int:
    missing = ~exists().where(QaEvalSection.evaluation_id == Evaluation.id)
    todo = session.exec(select(func.count(Evaluation.id)).where(*_submitted_regular(), missing)).one()
    if not todo:
        return 0
    zeroed = (
        exists()
        .where(
            EvaluationViolationMark.evaluation_id == EvaluationAnswer.evaluation_id,
            ScorecardViolation.id == EvaluationViolationMark.violation_id,
            ScorecardViolation.rule == "fail_section",
            ScorecardViolation.section_id == ScorecardItem.section_id,
        )
        .correlate(EvaluationAnswer, ScorecardItem)
    )
    rows = (
        select(
            EvaluationAnswer.evaluation_id,
            ScorecardItem.section_id,
            func.sum(case((EvaluationAnswer.na == True, 0), else_=EvaluationAnswer.points)),  # noqa: E712
            func.sum(case((EvaluationAnswer.na == True, 0), else_=ScorecardItem.max_points)),  # noqa: E712
            zeroed,
        )
        .join(ScorecardItem, ScorecardItem.id == EvaluationAnswer.item_id)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .where(*_submitted_regular(), missing)
        .group_by(EvaluationAnswer.evaluation_id, ScorecardItem.section_id)
    )
    session.exec(  # type: ignore[call-overload]
        _insert(session, QaEvalSection)
        .from_select(["evaluation_id", "section_id", "earned", "possible", "zeroed"], rows)
        .on_conflict_do_nothing(index_elements=["evaluation_id", "section_id"])
    )
    session.flush()
    return int(todo)


def forget_sections(session: Session, evaluation_id: int) -> None:
    """An adjusted evaluation's section results are recomputed on the next read."""
    session.exec(delete(QaEvalSection).where(col(QaEvalSection.evaluation_id) == evaluation_id))  # type: ignore[call-overload]
    invalidate(session)


def refresh(session: Session) -> dict[str, int]:
    """Bring every rollup up to date (once per Session unless invalidated)."""
    if session.info.get(FRESH):
        return {}
    counts = {
        "calls": refresh_calls(session),
        "evaluations": refresh_eval_facts(session),
        "sections": refresh_sections(session),
    }
    session.info[FRESH] = True
    return counts


@handler("qa.refresh_rollups", action="qa.auto_acknowledge")
def _refresh_job(ctx: JobContext) -> dict[str, Any]:
    started = dt.datetime.now(dt.UTC)
    with Session(ctx.engine) as s:
        counts = refresh(s)
        s.commit()
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    ctx.progress(1, 1, "rollups refreshed")
    return {**counts, "seconds": round(seconds, 1), "message": f"KPI rollups refreshed: {counts}"}
