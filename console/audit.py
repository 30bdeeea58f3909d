"""The audit mechanism: one append-only row per command, written by the @command decorator.

A service declares itself a command with @command("area.action"); the decorator checks the
permission table, runs the service, and writes one AuditLog row in the same transaction with
the actor, parameters, and whatever the service noted (entity, counts, before/after).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from sqlmodel import Session

from console.permissions import Actor, require
from models import AuditLog

P = ParamSpec("P")
R = TypeVar("R")

SECRET_PARAMS = {"password", "new_password", "old_password", "temporary_password"}


@dataclass
class _Record:
    entity: str | None = None
    entity_id: str | None = None
    batch: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    before: Any = None
    after: Any = None
    skip: bool = False


_current: contextvars.ContextVar[_Record | None] = contextvars.ContextVar("audit_record", default=None)


def note(
    *,
    entity: str | None = None,
    entity_id: Any = None,
    batch: Any = None,
    counts: dict[str, Any] | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Called inside a command to add detail to its audit row."""
    rec = _current.get()
    if rec is None:
        return
    if entity is not None:
        rec.entity = entity
    if entity_id is not None:
        rec.entity_id = str(entity_id)
    if batch is not None:
        rec.batch = str(batch)
    if counts:
        rec.counts.update(counts)
    if before is not None:
        rec.before = before
    if after is not None:
        rec.after = after


def _json(value: Any) -> str | None:
    if value is None or value == {}:
        return None
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def command(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a service as a command: permission check + one audit row. Needs session= and actor= kwargs."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = sig.bind(*args, **kwargs)
            session: Session = bound.arguments["session"]
            actor: Actor = bound.arguments["actor"]
            require(actor, action)
            rec = _Record()
            token = _current.set(rec)
            try:
                result = fn(*args, **kwargs)
            finally:
                _current.reset(token)
            bound.apply_defaults()
            params = {
                k: ("***" if k in SECRET_PARAMS else v)
                for k, v in bound.arguments.items()
                if k not in ("session", "actor")
            }
            session.add(
                AuditLog(
                    at=dt.datetime.now(dt.UTC),
                    actor_user_id=actor.user_id,
                    actor=actor.username,
                    action=action,
                    entity=rec.entity,
                    entity_id=rec.entity_id,
                    batch=rec.batch,
                    params=_json(params),
                    counts=_json(rec.counts),
                    before=_json(rec.before),
                    after=_json(rec.after),
                )
            )
            session.flush()
            return result

        wrapper.__audit_action__ = action  # type: ignore[attr-defined]
        return wrapper

    return decorate


def query(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a read service: permission check only (reads are not audited, reveals are commands)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            actor: Actor = sig.bind(*args, **kwargs).arguments["actor"]
            require(actor, action)
            return fn(*args, **kwargs)

        wrapper.__query_action__ = action  # type: ignore[attr-defined]
        return wrapper

    return decorate
