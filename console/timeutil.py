"""Time helpers: times are stored in UTC; every calendar bucketing uses Asia/Shanghai dates.

Asia/Shanghai has had a fixed UTC+8 offset since 1991, so the SQL side can shift by eight
hours and take the date, which is identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
LOCAL_OFFSET = dt.timedelta(hours=8)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(UTC)


def to_utc(value: dt.datetime) -> dt.datetime:
    """A timezone-aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_date(value: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an instant (naive values are UTC)."""
    return to_utc(value).astimezone(SHANGHAI).date()


def local_datetime(value: dt.datetime) -> dt.datetime:
    """The instant shown on an Asia/Shanghai wall clock."""
    return to_utc(value).astimezone(SHANGHAI)


def local_midnight_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which the Shanghai calendar day starts."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI).astimezone(UTC)


def local_to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """A Shanghai wall-clock date and time as a UTC instant."""
    return dt.datetime.combine(day, time, tzinfo=SHANGHAI).astimezone(UTC)


def today_local() -> dt.date:
    return local_date(utcnow())


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class shanghai_date(FunctionElement):  # noqa: N801 - reads like a SQL function
    """SQL expression: the Asia/Shanghai calendar date of a UTC timestamp column."""

    type = Date()
    inherit_cache = True
    name = "shanghai_date"


@compiles(shanghai_date, "sqlite")
def _shanghai_date_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    (arg,) = list(element.clauses)
    return f"date({compiler.process(arg, **kw)}, '+8 hours')"


@compiles(shanghai_date, "postgresql")
def _shanghai_date_pg(element, compiler, **kw):  # type: ignore[no-untyped-def]
    (arg,) = list(element.clauses)
    return f"CAST(({compiler.process(arg, **kw)} + INTERVAL '8 hours') AS DATE)"


@lru_cache(maxsize=1)
def _china_calendar() -> holidays.HolidayBase:
    return holidays.China(years=range(2020, 2036))


def is_working_day(day: dt.date) -> bool:
    """Chinese official calendar: weekends and holidays off, make-up working days on."""
    return bool(_china_calendar().is_working_day(day))


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The date n working days after day (day itself not counted)."""
    current = day
    remaining = n
    step = 1 if n >= 0 else -1
    while remaining != 0:
        current += dt.timedelta(days=step)
        if is_working_day(current):
            remaining -= step
    return current
