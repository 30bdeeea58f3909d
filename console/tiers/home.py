"""Home tiles of the Tiers domain: at-risk customers in scope, when the evaluation last ran, its flags."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from console.home import Tile
from console.i18n import t
from console.meta import get_meta
from console.permissions import PAGES, Actor
from console.timeutil import utcnow

STALE_AFTER = dt.timedelta(hours=26)


def age_text(finished: dt.datetime, now: dt.datetime) -> str:
    """'12 minutes ago', '5 hours ago', '3 days ago' in the current language."""
    seconds = max(0, int((now - finished).total_seconds()))
    if seconds < 3600:
        return t("{n} minutes ago", n=seconds // 60)
    if seconds < 2 * 86400:
        return t("{n} hours ago", n=seconds // 3600)
    return t("{n} days ago", n=seconds // 86400)


def home_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    if actor.role not in PAGES["tiers"]:
        return []
    from console.tiers.engine import LAST_EVALUATION_KEY
    from console.tiers.risk import risk_counts

    counts = risk_counts(session=session, actor=actor, today=today)
    tiles = [
        Tile(
            label="At risk at the next review",
            value=f"{counts.at_risk:,}",
            page="tiers",
            help="Customers whose purchases still in the window on the next review date would not keep their tier.",
        )
    ]
    if actor.is_supervisor:
        last = get_meta(session, LAST_EVALUATION_KEY)
        if isinstance(last, dict) and last.get("finished_at"):
            finished = dt.datetime.fromisoformat(last["finished_at"])
            now = utcnow()
            tiles.append(
                Tile(
                    label="Tier evaluation",
                    value=age_text(finished, now),
                    page="tiers",
                    help="When the tier evaluation last finished; it should run every night.",
                    alert=now - finished > STALE_AFTER,
                )
            )
            flags = int(last.get("level_flag_total", 0)) + len(last.get("capacity_flags") or [])
            tiles.append(
                Tile(
                    label="Flags from the last evaluation",
                    value=f"{flags:,}",
                    page="assignment",
                    help="Holders whose level no longer allows the tier and managers pushed over capacity by upgrades.",
                    alert=flags > 0,
                )
            )
        else:
            tiles.append(
                Tile(
                    label="Tier evaluation",
                    value=t("never"),
                    page="tiers",
                    help="When the tier evaluation last finished; it should run every night.",
                    alert=True,
                )
            )
    return tiles
