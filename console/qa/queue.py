"""The weekly review queue (SPEC §4): a reproducible, value-weighted sample of a team's connected calls.

Sampling is weighted without replacement (Efraimidis–Spirakis): each call gets the key ln(u) / weight, where
u in (0, 1) comes from a hash of (team code, ISO week, call id), and each caller's calls with the largest keys
are taken. The same team and week therefore always give the same sample, whatever order the rows come in;
a call of weight w beats a call of weight 1 with probability w / (w + 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, func, select

from console.audit import query
from console.permissions import Actor
from console.qa.common import (
    DOWNGRADE_DAYS,
    DOWNGRADE_FACTOR,
    TIER_WEIGHTS,
    QAError,
    QAPermissionDenied,
    downgraded_between,
    tier_at,
    tier_names,
)
from console.scoring import round_half_up
from console.timeutil import iso_week, local_date, local_midnight_utc
from models import Call, Customer, Evaluation, Staff, Team

PER_CALLER = 4
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Candidate:
    call_id: int
    caller_id: int
    tier_rank: int
    downgraded: bool

    @property
    def weight(self) -> int:
        return TIER_WEIGHTS.get(self.tier_rank, 1) * (DOWNGRADE_FACTOR if self.downgraded else 1)


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday (Asia/Shanghai dates) of an ISO week such as 2026-W47."""
    match = _WEEK.match(week or "")
    if not match:
        raise QAError("A week looks like 2026-W47.")
    try:
        monday = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise QAError("A week looks like 2026-W47.") from exc
    return monday, monday + dt.timedelta(days=6)


def recent_weeks(today: dt.date, count: int = 12) -> list[str]:
    return [iso_week(today - dt.timedelta(weeks=n)) for n in range(count)]


def sample_key(team_code: str, week: str, call_id: int, weight: int) -> float:
    digest = hashlib.sha256(f"{team_code}|{week}|{call_id}".encode()).digest()
    u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64  # strictly inside (0, 1)
    return math.log(u) / weight


def draw_sample(
    candidates: list[Candidate], team_code: str, week: str, per_caller: int = PER_CALLER
) -> list[Candidate]:
    """Up to per_caller calls per caller, weighted by tier and recent downgrade; reproducible."""
    by_caller: dict[int, list[tuple[float, int, Candidate]]] = {}
    for c in candidates:
        by_caller.setdefault(c.caller_id, []).append((sample_key(team_code, week, c.call_id, c.weight), -c.call_id, c))
    chosen: list[Candidate] = []
    for caller_id in sorted(by_caller):
        ranked = sorted(by_caller[caller_id], key=lambda k: (k[0], k[1]), reverse=True)
        chosen.extend(c for _, _, c in ranked[:per_caller])
    return chosen


def _team(session: Session, actor: Actor, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise QAError("No such team.")
    if not actor.is_supervisor and actor.team_id != team_id:
        raise QAPermissionDenied("You may see the review queue of your own team only.")
    return team


def candidates(session: Session, team: Team, week: str) -> list[Candidate]:
    """The team's connected calls of the week in the team's stream (training data excluded)."""
    monday, sunday = week_bounds(week)
    start, end = local_midnight_utc(monday), local_midnight_utc(sunday + dt.timedelta(days=1))
    rows = session.exec(
        select(
            Call.id,
            Call.caller_id,
            tier_at(Call.customer_id, Call.started_at),
            downgraded_between(Call.customer_id, end - dt.timedelta(days=DOWNGRADE_DAYS), end),
        )
        .join(Staff, Staff.id == Call.caller_id)
        .join(Customer, Customer.id == Call.customer_id)
        .where(
            Staff.team_id == team.id,
            Staff.is_training == False,  # noqa: E712
            Customer.is_training == False,  # noqa: E712
            Call.stream == team.stream,
            Call.outcome == "connected",
            Call.started_at >= start,
            Call.started_at < end,
        )
    ).all()
    return [Candidate(int(cid), int(caller), int(rank or 0), bool(down)) for cid, caller, rank, down in rows]


@dataclass
class QueueView:
    team_id: int
    team: str
    stream: str
    week: str
    monday: dt.date
    sunday: dt.date
    per_caller: int
    candidates: int
    callers: int
    rows: pd.DataFrame  # one row per sampled call

    @property
    def scored(self) -> int:
        return int(self.rows["evaluation_status"].isin(["submitted", "acknowledged", "disputed", "resolved"]).sum())

    @property
    def to_score(self) -> int:
        return len(self.rows) - self.scored


COLUMNS = [
    "call_id",
    "started_at",
    "reference",
    "customer",
    "tier",
    "downgraded",
    "weight",
    "caller",
    "type",
    "outcome",
    "result",
    "duration",
    "evaluation_id",
    "evaluation_status",
    "total",
]


def build_queue(session: Session, team: Team, week: str, per_caller: int = PER_CALLER) -> QueueView:
    if not 1 <= per_caller <= 20:
        raise QAError("Calls per caller must be between 1 and 20.")
    monday, sunday = week_bounds(week)
    pool = candidates(session, team, week)
    sample = draw_sample(pool, team.code, week, per_caller)
    by_id = {c.call_id: c for c in sample}
    rows = []
    if sample:
        names = tier_names(session)
        latest_eval = (
            select(func.max(Evaluation.id))
            .where(Evaluation.call_id == Call.id, Evaluation.kind == "regular", Evaluation.void == False)  # noqa: E712
            .correlate(Call)
            .scalar_subquery()
        )
        detail = session.exec(
            select(Call, Customer.name, Staff.name, latest_eval)
            .join(Customer, Customer.id == Call.customer_id)
            .join(Staff, Staff.id == Call.caller_id)
            .where(col(Call.id).in_(list(by_id)))
            .order_by(Staff.name, Call.started_at)
        ).all()
        evals = {
            e.id: e
            for e in session.exec(
                select(Evaluation).where(col(Evaluation.id).in_([d[3] for d in detail if d[3] is not None]))
            ).all()
        }
        for call, customer, caller, eval_id in detail:
            cand = by_id[call.id]  # type: ignore[index]
            ev = evals.get(eval_id)
            minutes, seconds = divmod(int(call.duration_s), 60)
            rows.append(
                {
                    "call_id": call.id,
                    "started_at": call.started_at,
                    "reference": call.reference,
                    "customer": customer,
                    "tier": names.get(cand.tier_rank, str(cand.tier_rank)),
                    "downgraded": cand.downgraded,
                    "weight": cand.weight,
                    "caller": caller,
                    "type": call.call_type,
                    "outcome": call.outcome,
                    "result": call.result,
                    "duration": f"{minutes}:{seconds:02d}",
                    "evaluation_id": eval_id,
                    "evaluation_status": ev.status if ev else None,
                    "total": None if ev is None or ev.total is None else float(round_half_up(ev.total)),
                }
            )
    return QueueView(
        team_id=team.id,  # type: ignore[arg-type]
        team=team.name,
        stream=team.stream,
        week=week,
        monday=monday,
        sunday=sunday,
        per_caller=per_caller,
        candidates=len(pool),
        callers=len({c.caller_id for c in pool}),
        rows=pd.DataFrame(rows, columns=COLUMNS),
    )


@query("qa.queue")
def review_queue(*, session: Session, actor: Actor, team_id: int, week: str, per_caller: int = PER_CALLER) -> QueueView:
    """The week's review queue of a team: a lead's own team, any team for a supervisor."""
    return build_queue(session, _team(session, actor, team_id), week, per_caller)


def week_of(day: dt.date) -> str:
    return iso_week(day)


def local_week_of(instant: dt.datetime) -> str:
    return iso_week(local_date(instant))
