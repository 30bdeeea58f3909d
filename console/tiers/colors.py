"""The one tier colour scale used across the app (the ladder's colours, tier names in the user's language)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import altair as alt
from sqlmodel import Session

from console.i18n import pick
from console.tiers.common import ladder_on


@dataclass(frozen=True)
class TierStyle:
    rank: int
    code: str
    name: str
    color: str


def tier_styles(session: Session, today: dt.date) -> list[TierStyle]:
    """Rank, code, translated name and colour of every tier in force today, by rank."""
    return [TierStyle(r.rank, r.code, pick(r, "name"), r.color) for r in ladder_on(session, today)]


def tier_color_scale(session: Session, today: dt.date) -> alt.Scale:
    """An Altair colour scale keyed by the translated tier name, in rank order.

    Use it with a nominal field holding pick(tier, "name"): `alt.Color("tier:N", scale=tier_color_scale(...))`.
    """
    styles = tier_styles(session, today)
    return alt.Scale(domain=[s.name for s in styles], range=[s.color for s in styles])


def tier_names(session: Session, today: dt.date) -> dict[int, str]:
    return {s.rank: s.name for s in tier_styles(session, today)}
