"""`python -m console tiers evaluate [--as-of DATE] [--review]`: the nightly cron entry.

The command queues the same job the page starts (one audit row, a Job row in Admin) and runs it in this
process unless a worker has already claimed it, in which case it follows that worker's progress.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from console.db import session_scope
from console.jobs import run_job, worker_name
from console.permissions import Actor
from console.tiers.common import TierError
from console.timeutil import utcnow
from models import Job

CLI_ACTOR = Actor(user_id=None, username="cli", role="admin")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tiers = sub.add_parser("tiers", help="the tier engine")
    tsub = tiers.add_subparsers(dest="tiers_cmd", required=True)
    ev = tsub.add_parser("evaluate", help="evaluate every customer's tier (daily); --review runs the quarterly review")
    ev.add_argument("--as-of", type=dt.date.fromisoformat, help="evaluation date YYYY-MM-DD (default: today)")
    ev.add_argument(
        "--review", action="store_true", help="also run the quarterly review (downgrades, once per quarter)"
    )


def main(engine: Engine, args: argparse.Namespace) -> int:
    if args.tiers_cmd != "evaluate":
        return 1
    from console.tiers.engine import start_evaluation

    try:
        with session_scope(engine) as s:
            job_id = start_evaluation(session=s, actor=CLI_ACTOR, as_of=args.as_of, review=args.review)
    except TierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if _claim(engine, job_id):
        status = run_job(engine, job_id)
    else:
        status = _follow(engine, job_id)
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        if status != "done":
            print(f"error: job {job_id} {status}: {job.error or job.message}", file=sys.stderr)
            return 1
        result = json.loads(job.result or "{}")
    print(f"job {job_id}: {result.get('message', 'done')}")
    return 0


def _claim(engine: Engine, job_id: int) -> bool:
    """Take our own job unless an app worker got to it first."""
    with engine.begin() as conn:
        claimed = conn.execute(
            text(
                "UPDATE job SET status='running', worker=:w, started_at=:now, heartbeat_at=:now,"
                " attempts=attempts+1 WHERE id=:id AND status='queued'"
            ),
            {"w": worker_name(), "id": job_id, "now": utcnow().replace(tzinfo=None)},
        ).rowcount
    return claimed == 1


def _follow(engine: Engine, job_id: int) -> str:
    while True:
        with Session(engine) as s:
            job = s.get(Job, job_id)
            if job is None:
                return "failed"
            if job.status not in ("queued", "running"):
                return job.status
            print(f"job {job_id}: {job.progress}/{job.total} {job.message or ''}", file=sys.stderr)
        time.sleep(2)
