"""Shared column types and helpers for the SQLModel tables.

No `from __future__ import annotations` in models/: it breaks SQLModel on Python 3.11.
"""

import datetime as dt
from typing import Any, Optional

from sqlalchemy import CheckConstraint, DateTime, MetaData
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic can alter tables on SQLite (batch mode) and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator):
    """One time type for both databases: stored as naive UTC, returned timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a bulk write
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.timezone.utc)


def utc_field(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    """A UTC timestamp column."""
    kwargs: dict[str, Any] = {"sa_type": UTCDateTime, "index": index, "nullable": nullable}
    if default_now:
        kwargs["default_factory"] = lambda: dt.datetime.now(dt.timezone.utc)
    return Field(**kwargs)


def one_of(column: str, values: tuple[str, ...], name: str, nullable: bool = False) -> CheckConstraint:
    """A CHECK that a text column holds one of the allowed codes."""
    listed = ", ".join(f"'{v}'" for v in values)
    expr = f"{column} IN ({listed})"
    if nullable:
        expr = f"{column} IS NULL OR {expr}"
    return CheckConstraint(expr, name=name)
