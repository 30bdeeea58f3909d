"""The database: engine from CONSOLE_DATABASE_URL and one Session per unit of work.

No streamlit import here. The default is an embedded SQLite file under data/ with WAL,
foreign keys and a busy timeout; PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = ROOT / "data" / "console.db"
SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseConfigError(RuntimeError):
    """The database URL is malformed or the server cannot be reached. The message is one sentence."""


def database_url() -> str:
    url = os.environ.get("CONSOLE_DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _normalise(url: str) -> str:
    """postgresql:// and postgres:// mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as given, minus nothing secret
        return "<unparseable URL>"


def make_engine(url: str | None = None, *, check: bool = True) -> Engine:
    """Create an engine; with check, connect once so a bad URL or dead server fails here, clearly."""
    raw = _normalise(url or database_url())
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"CONSOLE_DATABASE_URL is not a valid database URL: {raw!r}.") from exc
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5}
    else:
        raise DatabaseConfigError(
            f"Unsupported database {backend!r} in CONSOLE_DATABASE_URL: use sqlite:/// or postgresql://."
        )
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ValueError) as exc:
        raise DatabaseConfigError(f"CONSOLE_DATABASE_URL is not usable ({redact(raw)}): {exc}.") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if check:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseConfigError(f"Cannot reach the database at {redact(raw)}: {reason}.") from exc
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine per process and URL."""
    key = _normalise(url or database_url())
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(key)
    return _ENGINES[key]


def reset_engines() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A Session that commits on success and rolls back on error."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
