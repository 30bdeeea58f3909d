"""Checklist timing: when a run item is due, from the visit's arrival and departure (SPEC §5).

Pure functions, no database: the demo generator, run creation and rescheduling all use them.
"""

from __future__ import annotations

import datetime as dt

TIMINGS = ("offset", "per_shift", "during_stay", "optional")
ANCHORS = ("arrival", "departure")


def compute_due(
    timing: str,
    anchor: str | None,
    offset_minutes: int | None,
    arrival: dt.datetime,
    departure: dt.datetime,
) -> dt.datetime | None:
    """The due time of a checklist item for a visit.

    - ``offset``: the anchor (``arrival`` or ``departure``) plus ``offset_minutes`` (negative = before).
    - ``during_stay`` and ``per_shift``: due at arrival (the item is worked from the start of the stay).
    - ``optional``: no due time (``None``).

    The result has the same time zone convention as the inputs (UTC in this application).
    Raises ``ValueError`` for an unknown timing or anchor, or an ``offset`` item without anchor or minutes.
    """
    if timing == "offset":
        if anchor not in ANCHORS:
            raise ValueError(f"an offset item needs an anchor of {ANCHORS}, got {anchor!r}")
        if offset_minutes is None:
            raise ValueError("an offset item needs offset_minutes")
        base = arrival if anchor == "arrival" else departure
        return base + dt.timedelta(minutes=int(offset_minutes))
    if timing in ("during_stay", "per_shift"):
        return arrival
    if timing == "optional":
        return None
    raise ValueError(f"unknown timing {timing!r}; expected one of {TIMINGS}")
