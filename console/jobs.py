"""Long work as jobs: a Job row, claimed by a worker (a thread in the app or `python -m console worker`).

Claiming is safe with several workers: on PostgreSQL a row lock (FOR UPDATE SKIP LOCKED), on SQLite
a single conditional UPDATE (SQLite serialises writers). A job whose worker stopped heart-beating is
claimed again and resumes from its checkpoint. Handlers commit their own work in chunks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from console.db import is_postgres
from console.permissions import Actor, require
from console.timeutil import utcnow
from models import Job

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(seconds=90)
HEARTBEAT_EVERY = dt.timedelta(seconds=5)
MAX_ATTEMPTS = 3


class JobCancelled(Exception):
    pass


@dataclass
class JobContext:
    """What a handler gets: its parameters, a checkpoint to resume from, and progress reporting."""

    engine: Engine
    job_id: int
    params: dict[str, Any]
    checkpoint: dict[str, Any] | None
    _last_beat: dt.datetime | None = None

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        now = utcnow()
        with Session(self.engine) as s:
            job = s.get(Job, self.job_id)
            if job is None:
                raise JobCancelled("job row vanished")
            if job.status == "cancelled":
                raise JobCancelled("cancelled")
            job.progress, job.total, job.heartbeat_at = max(0, done), max(0, total), now
            if message is not None:
                job.message = message[:500]
            s.add(job)
            s.commit()
        self._last_beat = now

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoint = checkpoint
        with Session(self.engine) as s:
            job = s.get(Job, self.job_id)
            if job is not None:
                job.checkpoint = json.dumps(checkpoint, default=str)
                job.heartbeat_at = utcnow()
                s.add(job)
                s.commit()


Handler = Callable[[JobContext], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}
# Which action (console.permissions) a user needs to start each kind of job.
KIND_ACTIONS: dict[str, str] = {}


def handler(kind: str, *, action: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        KIND_ACTIONS[kind] = action
        return fn

    return register


def enqueue(session: Session, *, actor: Actor, kind: str, params: dict[str, Any] | None = None) -> Job:
    """Queue a job; the caller's role must allow the job's action."""
    _load_handlers()
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    require(actor, KIND_ACTIONS[kind])
    job = Job(kind=kind, params=json.dumps(params or {}, default=str), created_by=actor.user_id, message="queued")
    session.add(job)
    session.flush()
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:6]}"


def claim_next(engine: Engine, worker: str, *, now: dt.datetime | None = None) -> int | None:
    """Claim one queued (or stale running) job for this worker; return its id."""
    now = now or utcnow()
    stale = (now - STALE_AFTER).replace(tzinfo=None)
    now_naive = now.replace(tzinfo=None)
    pick = (
        "SELECT id FROM job WHERE (status = 'queued' OR (status = 'running' AND heartbeat_at < :stale))"
        " AND attempts < :max ORDER BY created_at, id LIMIT 1"
    )
    with engine.begin() as conn:
        if is_postgres(engine):
            row = conn.execute(text(pick + " FOR UPDATE SKIP LOCKED"), {"stale": stale, "max": MAX_ATTEMPTS}).first()
            if row is None:
                return None
            job_id = row[0]
            conn.execute(
                text(
                    "UPDATE job SET status='running', worker=:w, started_at=COALESCE(started_at, :now),"
                    " heartbeat_at=:now, attempts=attempts+1 WHERE id=:id"
                ),
                {"w": worker, "now": now_naive, "id": job_id},
            )
            return int(job_id)
        result = conn.execute(
            text(
                "UPDATE job SET status='running', worker=:w, started_at=COALESCE(started_at, :now),"
                " heartbeat_at=:now, attempts=attempts+1"
                f" WHERE id = ({pick}) AND (status = 'queued' OR (status = 'running' AND heartbeat_at < :stale))"
                " RETURNING id"
            ),
            {"w": worker, "now": now_naive, "stale": stale, "max": MAX_ATTEMPTS},
        ).first()
        return None if result is None else int(result[0])


def run_job(engine: Engine, job_id: int) -> str:
    """Run a claimed job to its end; returns the final status."""
    _load_handlers()
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        kind, params = job.kind, json.loads(job.params or "{}")
        checkpoint = json.loads(job.checkpoint) if job.checkpoint else None
    ctx = JobContext(engine=engine, job_id=job_id, params=params, checkpoint=checkpoint)
    status, result, error = "done", None, None
    try:
        result = HANDLERS[kind](ctx)
    except JobCancelled:
        status = "cancelled"
    except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, never raised into the worker loop
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        log.error("job %s failed\n%s", job_id, traceback.format_exc())
    with Session(engine) as s:
        job = s.get(Job, job_id)
        if job is not None:
            if job.status == "cancelled":
                status = "cancelled"
            job.status = status
            job.finished_at = utcnow()
            job.heartbeat_at = job.finished_at
            job.error = error
            job.result = json.dumps(result, default=str) if result is not None else None
            if status == "done":
                job.progress = max(job.progress, job.total)
                job.message = (result or {}).get("message", "done") if isinstance(result, dict) else "done"
            elif error:
                job.message = error[:500]
            s.add(job)
            s.commit()
    return status


def work_once(engine: Engine, worker: str | None = None) -> int | None:
    """Claim and run one job if there is one; return its id."""
    job_id = claim_next(engine, worker or worker_name())
    if job_id is not None:
        run_job(engine, job_id)
    return job_id


def work_forever(engine: Engine, *, poll_seconds: float = 1.0, stop: threading.Event | None = None) -> None:
    name = worker_name()
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            if work_once(engine, name) is None:
                stop.wait(poll_seconds)
        except Exception:  # noqa: BLE001 - the loop survives a lost connection and tries again
            log.exception("worker loop error")
            stop.wait(poll_seconds * 5)


_thread_lock = threading.Lock()
_threads: dict[str, threading.Thread] = {}


def start_background_worker(engine: Engine) -> threading.Thread:
    """One daemon worker thread per process and database (the app's in-process worker)."""
    key = str(engine.url)
    with _thread_lock:
        thread = _threads.get(key)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=work_forever, args=(engine,), name="console-worker", daemon=True)
            thread.start()
            _threads[key] = thread
        return thread


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def recent_jobs(session: Session, *, limit: int = 20) -> list[Job]:
    return list(session.exec(select(Job).order_by(Job.id.desc()).limit(limit)))  # type: ignore[union-attr]


def cancel(session: Session, *, actor: Actor, job_id: int) -> None:
    job = session.get(Job, job_id)
    if job is None or job.status not in ("queued", "running"):
        return
    require(actor, KIND_ACTIONS.get(job.kind, "demo.reset"))
    job.status = "cancelled"
    session.add(job)


# Modules that register job handlers when imported (a module not written yet is skipped).
JOB_MODULES = (
    "console.demo",
    "console.assignment",
    "console.tiers",
    "console.qa",
    "console.reception",
    "console.imports",
    "console.customers",
)


def _load_handlers() -> None:
    """Import the modules that register handlers (kept lazy to avoid import cycles)."""
    import importlib
    import importlib.util

    for name in JOB_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
