"""Call QA and agent KPIs (SPEC §4): review queue, scoring with visible math, lifecycle and disputes,
calibration and training drills, coaching, floor discipline, the scorecard editor and the KPI glossary.

Importing the package registers the job handler (qa.auto_acknowledge) and exposes home_tiles.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from console.home import Tile
from console.i18n import t
from console.permissions import Actor
from console.qa import calibration, coaching, discipline, evaluations, kpis, queue, rollups, scorecards  # noqa: F401
from console.qa.common import QAError, QAPermissionDenied
from console.qa.evaluations import acknowledgements_due
from console.qa.queue import build_queue, week_of
from models import Dispute, Team

__all__ = [
    "QAError",
    "QAPermissionDenied",
    "calibration",
    "coaching",
    "discipline",
    "evaluations",
    "home_tiles",
    "kpis",
    "queue",
    "rollups",
    "scorecards",
]


def home_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    """Evaluated people: evaluations to acknowledge (nearest deadline); leads: this week's queue;
    supervisors: open disputes; leads also their overdue coaching follow-ups."""
    tiles: list[Tile] = []
    if actor.role in ("agent", "client_manager") and actor.staff_id is not None:
        due = acknowledgements_due(session=session, actor=actor)
        help_text = (
            t("Nearest last day to acknowledge or dispute: {day}.", day=due.nearest_last_day.isoformat())
            if due.nearest_last_day
            else t("Nothing waiting for you.")
        )
        tiles.append(
            Tile(
                label="Evaluations to acknowledge",
                value=f"{due.count:,}" + (f" · {due.nearest_last_day.isoformat()}" if due.nearest_last_day else ""),
                page="call_qa",
                help=help_text,
                alert=due.count > 0,
            )
        )
    if actor.role == "team_lead" and actor.team_id is not None:
        team = session.get(Team, actor.team_id)
        if team is not None:
            view = build_queue(session, team, week_of(today))
            tiles.append(
                Tile(
                    label="This week's review queue",
                    value=t("{left} to score of {total}", left=view.to_score, total=len(view.rows)),
                    page="call_qa",
                    help=t(
                        "Week {week}: {callers} callers, {calls} connected calls so far.",
                        week=view.week,
                        callers=view.callers,
                        calls=view.candidates,
                    ),
                )
            )
        overdue = coaching.overdue_count(session=session, actor=actor, today=today)
        if overdue:
            tiles.append(Tile(label="Overdue coaching follow-ups", value=f"{overdue:,}", page="call_qa", alert=True))
    if actor.is_supervisor:
        open_disputes = session.exec(select(func.count()).select_from(Dispute).where(Dispute.status == "open")).one()
        tiles.append(
            Tile(
                label="Open disputes",
                value=f"{int(open_disputes):,}",
                page="call_qa",
                help=t("Disputes waiting for a supervisor who did not score the evaluation."),
                alert=bool(open_disputes),
            )
        )
    return tiles
