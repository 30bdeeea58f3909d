"""Reading the effective-dated tier ladder."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models import TierLevel


def current_ladder(session: Session, on: dt.date) -> list[TierLevel]:
    """The ladder in force on a date: for each rank, the newest row effective on or before it."""
    rows = session.exec(
        select(TierLevel).where(TierLevel.effective_from <= on).order_by(TierLevel.rank, TierLevel.effective_from)
    ).all()
    latest: dict[int, TierLevel] = {}
    for row in rows:
        latest[row.rank] = row
    return [latest[r] for r in sorted(latest)]
