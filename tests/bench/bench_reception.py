"""Benchmark of the Reception page's reads: python -m tests.bench.bench_reception [--demo-url URL] [--large-url URL].

The readiness board (supervisor, today and the next 7 days), a run of about 50 items (get_run) and the reception
user's department items (work_items), each timed with cold caches — a fresh engine and connection per
measurement, nothing cached in the application — median of 5, at the large scale (10,000 visits) against the
demo scale (300 visits), the two interleaved. Target: large within 1.5 × demo, judged on this process's CPU time
(wall-clock is printed too; on a loaded machine it mostly measures the other processes). Without URLs, both scales
are seeded into fresh SQLite files in a temporary directory first (the large one takes about 5 minutes). Prints
a Markdown table; exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from console.db import make_engine
from console.meta import demo_marker
from console.migrate import upgrade
from console.permissions import Actor
from console.reception import get_run, readiness_board, work_items
from console.reception.common import CURRENT_RUN_STATUSES
from console.timeutil import local_to_utc
from models import Run, RunItem, User, Visit

TARGET = 1.5
REPEATS = 5
RUN_SIZE = 50


def _actor(session: Session, username: str) -> Actor:
    user = session.exec(select(User).where(User.username == username)).one()
    return Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id)


def _as_of(session: Session) -> dt.date:
    marker = demo_marker(session) or {}
    value = marker.get("as_of")
    return dt.date.fromisoformat(str(value)) if value else dt.date.today()


def _run_near_50(session: Session) -> tuple[int, int]:
    """The current run whose item count is closest to 50 (lowest id on a tie)."""
    size = func.count(RunItem.id)
    row = session.exec(
        select(RunItem.run_id, size)
        .join(Run, Run.id == RunItem.run_id)
        .where(col(Run.status).in_(CURRENT_RUN_STATUSES))
        .group_by(RunItem.run_id)
        .order_by(func.abs(size - RUN_SIZE), RunItem.run_id)
        .limit(1)
    ).one()
    return int(row[0]), int(row[1])


def _cold(url: str, work: Callable[[Session], Any]) -> tuple[float, float]:
    """One measurement with a fresh engine and connection; returns (wall ms, CPU ms of this process)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            wall, cpu = time.perf_counter(), time.process_time()
            work(session)
            return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
    finally:
        engine.dispose()


def _cases(url: str) -> tuple[dict[str, Callable[[Session], Any]], int]:
    engine = make_engine(url)
    with Session(engine) as s:
        as_of = _as_of(s)
        supervisor, reception = _actor(s, "supervisor"), _actor(s, "reception")
        run_id, run_items = _run_near_50(s)
        visits = s.exec(select(func.count()).select_from(Visit)).one()
    engine.dispose()
    now = local_to_utc(as_of, dt.time(12, 0))
    cases: dict[str, Callable[[Session], Any]] = {
        "readiness board (supervisor, first page)": lambda s: readiness_board(
            session=s, actor=supervisor, today=as_of, now=now
        ),
        f"run of about {RUN_SIZE} items (get_run)": lambda s: get_run(
            session=s, actor=supervisor, run_id=run_id, now=now
        ),
        "department items, first page (reception)": lambda s: work_items(session=s, actor=reception, now=now),
    }
    return cases, int(visits)


def measure(demo_url: str, large_url: str) -> dict[str, Any]:
    """Median of REPEATS cold measurements per read and scale, demo and large interleaved so that load from
    other processes falls on both alike."""
    demo_cases, demo_visits = _cases(demo_url)
    large_cases, large_visits = _cases(large_url)
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {name: {"demo": [], "large": []} for name in demo_cases}
    for _ in range(REPEATS):
        for name in demo_cases:
            samples[name]["demo"].append(_cold(demo_url, demo_cases[name]))
            samples[name]["large"].append(_cold(large_url, large_cases[name]))
    results = {
        name: {
            scale: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for scale, runs in by_scale.items()
        }
        for name, by_scale in samples.items()
    }
    return {"visits": (demo_visits, large_visits), "results": results}


def _seed(scale: str, directory: Path) -> str:
    from seed.demo import generate

    url = f"sqlite:///{directory / f'{scale}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    generate(engine, scale=scale, seed=1, as_of=dt.date(2026, 11, 25))
    engine.dispose()
    print(f"seeded {scale} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def report(measured: dict[str, Any]) -> tuple[str, bool]:
    demo_visits, large_visits = measured["visits"]
    lines = [
        "## Reception reads — large vs demo scale (cold caches, median of 5)",
        "",
        f"Visits: demo {demo_visits:,}, large {large_visits:,}. Wall-clock and CPU time of this process; the "
        "target is judged on CPU time, which other processes on a busy machine do not inflate.",
        "",
        "| read | demo ms (wall / CPU) | large ms (wall / CPU) | large / demo (CPU) | target |",
        "|---|---:|---:|---:|---:|",
    ]
    ok = True
    for name, by_scale in measured["results"].items():
        (d_wall, d_cpu), (l_wall, l_cpu) = by_scale["demo"], by_scale["large"]
        ratio = l_cpu / d_cpu if d_cpu else float("inf")
        ok = ok and ratio <= TARGET
        lines.append(f"| {name} | {d_wall:.1f} / {d_cpu:.1f} | {l_wall:.1f} / {l_cpu:.1f} | {ratio:.2f} | ≤ {TARGET} |")
    return "\n".join(lines) + "\n", ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_reception")
    parser.add_argument("--demo-url", default=None, help="an already seeded demo-scale database")
    parser.add_argument("--large-url", default=None, help="an already seeded large-scale database")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench_reception_"))
    try:
        demo_url = args.demo_url or _seed("demo", workdir)
        large_url = args.large_url or _seed("large", workdir)
        text, ok = report(measure(demo_url, large_url))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if not ok:
        print(f"note: a read is above the target of {TARGET} × the demo scale", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
