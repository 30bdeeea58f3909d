"""Database set-up, the Asia/Shanghai date helper and the Chinese working-day calendar."""

import datetime as dt
import subprocess
import sys

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from console.db import DatabaseConfigError, make_engine
from console.timeutil import (
    add_working_days,
    is_working_day,
    local_date,
    local_to_utc,
    shanghai_date,
)
from models import Call, Customer, Staff


def test_sqlite_pragmas(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_foreign_keys_are_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as s:
        s.add(Customer(code="C1", name="Test", manager_id=99999))
        with pytest.raises(IntegrityError):
            s.commit()


def test_check_constraint_rejects_bad_tier(engine):
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as s:
        s.add(Customer(code="C1", name="Test", tier_rank=9))
        with pytest.raises(IntegrityError):
            s.commit()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u:p@h/db", "Unsupported database"),
        ("not a url at all", "not a valid database URL"),
        ("postgresql://console:secret@127.0.0.1:1/nowhere", "Cannot reach the database"),
    ],
)
def test_bad_url_is_one_clear_sentence(url, fragment):
    with pytest.raises(DatabaseConfigError) as info:
        make_engine(url)
    message = str(info.value)
    assert fragment in message
    assert "secret" not in message
    assert "\n" not in message


def test_cli_bad_url_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "console", "--database-url", "postgresql://x:y@127.0.0.1:1/z", "check-db"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: Cannot reach the database")


def test_local_date_month_boundary():
    # 23:30 local on the last day of November is 15:30 UTC: it belongs to November.
    instant = local_to_utc(dt.date(2026, 11, 30), dt.time(23, 30))
    assert instant == dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC)
    assert local_date(instant) == dt.date(2026, 11, 30)
    # 00:30 local on 1 December is still 30 November in UTC, but December locally.
    assert local_date(local_to_utc(dt.date(2026, 12, 1), dt.time(0, 30))) == dt.date(2026, 12, 1)


def test_sql_shanghai_date_matches_python_on_both_databases(engine):
    late = local_to_utc(dt.date(2026, 11, 30), dt.time(23, 30))
    early = local_to_utc(dt.date(2026, 12, 1), dt.time(0, 30))
    with Session(engine) as s:
        staff = Staff(code="S1", name="Agent", role="agent")
        cust = Customer(code="C1", name="Cust")
        s.add_all([staff, cust])
        s.flush()
        for i, at in enumerate((late, early)):
            s.add(
                Call(
                    reference=f"R{i}",
                    customer_id=cust.id,
                    caller_id=staff.id,
                    stream="ob",
                    call_type="upsell",
                    started_at=at,
                    outcome="no_answer",
                )
            )
        s.commit()
        rows = s.execute(select(Call.reference, shanghai_date(Call.started_at)).order_by(Call.reference)).all()
    got = {ref: (d if isinstance(d, dt.date) else dt.date.fromisoformat(d)) for ref, d in rows}
    assert got == {"R0": dt.date(2026, 11, 30), "R1": dt.date(2026, 12, 1)}


def test_utc_round_trip_on_both_databases(engine):
    at = dt.datetime(2026, 3, 1, 12, 0, 1, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with Session(engine) as s:
        staff = Staff(code="S1", name="Agent", role="agent")
        cust = Customer(code="C1", name="Cust", tier_since=at)
        s.add_all([staff, cust])
        s.commit()
        back = s.get(Customer, cust.id)
        s.refresh(back)
    assert back.tier_since == at
    assert back.tier_since.tzinfo == dt.UTC


def test_working_days_national_day():
    # Day 0 on 2026-09-30: 1-7 October are holidays; the working days after are Thu 8, Fri 9 and the
    # make-up Saturday 10 October, so the binding SLA is due at the end of 10 October.
    assert is_working_day(dt.date(2026, 9, 30))
    assert not any(is_working_day(dt.date(2026, 10, d)) for d in range(1, 8))
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)


def test_make_up_saturday_is_a_working_day():
    # Saturday 10 October 2026 is a make-up working day in the official calendar.
    saturday = dt.date(2026, 10, 10)
    assert saturday.weekday() == 5
    assert is_working_day(saturday)
    assert add_working_days(dt.date(2026, 10, 9), 1) == saturday


def test_working_days_work_in_2027():
    # chinese-calendar stops at 2026; the holidays package goes on.
    assert not is_working_day(dt.date(2027, 1, 1))
    assert add_working_days(dt.date(2027, 3, 5), 1) == dt.date(2027, 3, 8)
