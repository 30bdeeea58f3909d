"""Small settings kept in the database: the demo marker and timestamps of periodic work."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

from sqlmodel import Session

from console.timeutil import utcnow
from models import AppMeta

DEMO_KEY = "demo"


def get_meta(session: Session, key: str) -> Any:
    row = session.get(AppMeta, key)
    return None if row is None else json.loads(row.value)


def set_meta(session: Session, key: str, value: Any) -> None:
    row = session.get(AppMeta, key) or AppMeta(key=key, value="null")
    row.value = json.dumps(value, default=str, ensure_ascii=False)
    row.updated_at = utcnow()
    session.add(row)


def demo_marker(session: Session) -> dict[str, Any] | None:
    marker = get_meta(session, DEMO_KEY)
    return marker if isinstance(marker, dict) else None


def demo_mode(session: Session) -> bool:
    """Demo mode exists only in a database with the demo marker, unless CONSOLE_DEMO=0 turns it off."""
    if os.environ.get("CONSOLE_DEMO", "").strip() == "0":
        return False
    return demo_marker(session) is not None


def demo_password() -> str:
    return os.environ.get("CONSOLE_DEMO_PASSWORD") or "demo"


def demo_age_days(session: Session, today: dt.date) -> int | None:
    marker = demo_marker(session)
    if not marker or not marker.get("as_of"):
        return None
    return (today - dt.date.fromisoformat(str(marker["as_of"]))).days
