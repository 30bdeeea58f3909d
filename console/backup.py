"""Backup and restore of the whole database (evidence files included: they live in the database).

SQLite: the online backup API (consistent while the app runs). PostgreSQL: pg_dump / pg_restore
in custom format.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupError(RuntimeError):
    pass


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return path


def _pg_env(engine: Engine) -> tuple[list[str], dict[str, str]]:
    url = engine.url
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise BackupError(f"{name} is not installed (Debian package postgresql-client).")


def backup(engine: Engine, target: Path) -> Path:
    """Write a full copy of the database to target."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(_sqlite_path(engine))
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return target
    args, env = _pg_env(engine)
    proc = subprocess.run(
        [_tool("pg_dump"), *args, "-Fc", "-f", str(target), engine.url.database or "postgres"],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
    return target


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's contents with the backup in source."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"No backup at {source}.")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(_sqlite_path(engine))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    args, env = _pg_env(engine)
    proc = subprocess.run(
        [
            _tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "-d",
            engine.url.database or "postgres",
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(
            f"pg_restore failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}"
        )
