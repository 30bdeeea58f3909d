"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when configured),
a seeded small demo database for page tests, and the CI rule that nothing may skip."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy.engine import Engine

from console.db import make_engine, reset_engines
from console.migrate import upgrade

os.environ.setdefault("CONSOLE_INPROCESS_WORKER", "0")
IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("CONSOLE_TEST_PG", "").strip()
SEED_AS_OF = None  # today, so "upcoming" figures are upcoming


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Under CI=true a skipped test is a failure: CI can never pass by skipping."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


# ---------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per session (schema + reference data), copied per test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# ---------------------------------------------------------------- PostgreSQL


def _pg_parts() -> dict[str, object]:
    parsed = urlparse(PG_URL)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password or "",
    }


def _pg_load_schema(host: str, port: int, user: str, dbname: str, password: str, **_: object) -> None:
    engine = make_engine(f"postgresql+psycopg://{user}:{password}@{host}:{port}/{dbname}")
    upgrade(engine)
    engine.dispose()


if PG_URL:
    from pytest_postgresql import factories

    postgresql_noproc = factories.postgresql_noproc(
        **_pg_parts(),
        dbname=f"console_test_{os.getpid()}",
        load=[_pg_load_schema],  # type: ignore[arg-type]
    )
    postgresql = factories.postgresql("postgresql_noproc")


def _pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set CONSOLE_TEST_PG; CI always does)")
    conn = request.getfixturevalue("postgresql")
    info = conn.info
    url = f"postgresql+psycopg://{info.user}:{info.password}@{info.host}:{info.port}/{info.dbname}"
    engine = make_engine(url)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- the engine fixtures


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated database with reference data, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        eng = make_engine(_copy_sqlite(sqlite_template, tmp_path / "test.db"))
        yield eng
        eng.dispose()
    else:
        yield from _pg_engine(request)
    reset_engines()


@pytest.fixture
def pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A freshly migrated PostgreSQL database (skips locally without one; CI always has one)."""
    yield from _pg_engine(request)
    reset_engines()


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(_copy_sqlite(sqlite_template, tmp_path / "test.db"))
    yield eng
    eng.dispose()


# ---------------------------------------------------------------- seeded demo (small scale)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A small-scale demo database, seeded once per session and copied per test."""
    from seed.demo import generate

    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    generate(engine, scale="small", seed=7, as_of=_today())
    engine.dispose()
    return path


def _today() -> dt.date:
    from console.timeutil import today_local

    return today_local()


@pytest.fixture
def seeded_url(seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """CONSOLE_DATABASE_URL pointing at a private copy of the seeded demo database."""
    url = _copy_sqlite(seeded_template, tmp_path / "seeded.db")
    monkeypatch.setenv("CONSOLE_DATABASE_URL", url)
    return url


@pytest.fixture
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    eng = make_engine(seeded_url)
    yield eng
    eng.dispose()
