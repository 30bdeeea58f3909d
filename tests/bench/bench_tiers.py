"""Benchmark of the tier engine and the Tiers page: python -m tests.bench.bench_tiers [--large DB] [--demo DB].

1. The first full evaluation on a freshly seeded large database (200,000 customers, 1.6M purchases), against
   one SQL aggregate over the same purchases (count and sum per customer in the same 12-month window, every row
   fetched) plus a plain sqlite3 ``executemany`` of as many event rows as the evaluation wrote. Target: within 3x.
2. A second evaluation (nothing changes), against the aggregate alone. Target: within 1.5x.
3. The quarterly review at the next quarter start (many downgrades), against the aggregate plus the
   executemany of its event rows, for information (target 3x as in 1).
4. The Tiers page's script (supervisor, default view) at large against demo, median of 5 reruns after a warm-up.
   Target: within 1.5x.

Without --large/--demo the scales are seeded into a temporary directory first (the large scale takes minutes).
Prints a Markdown table and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from console.db import make_engine
from console.tiers.common import window_bounds
from console.tiers.engine import evaluate
from console.timeutil import local_to_utc

AS_OF = dt.date(2026, 11, 25)


def _seed(scale: str, path: Path) -> None:
    from console.migrate import upgrade
    from seed.demo import generate

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    generate(engine, scale=scale, seed=1, as_of=AS_OF)
    engine.dispose()


def _aggregate_seconds(path: Path, as_of: dt.date) -> float:
    lo, hi = window_bounds(as_of)
    con = sqlite3.connect(path)
    started = time.perf_counter()
    rows = con.execute(
        "SELECT customer_id, count(*), sum(amount_fen) FROM purchase WHERE at >= ? AND at < ? GROUP BY customer_id",
        (lo.replace(tzinfo=None).isoformat(sep=" "), hi.replace(tzinfo=None).isoformat(sep=" ")),
    ).fetchall()
    elapsed = time.perf_counter() - started
    con.close()
    assert rows
    return elapsed


def _executemany_seconds(path: Path, n: int) -> float:
    """A plain executemany of n TierChange rows (rolled back, so the database is unchanged)."""
    if n == 0:
        return 0.0
    con = sqlite3.connect(path)
    at = "2026-11-25 02:00:00.000000"
    rows = [(i % 1000 + 1, 1, 2, "upgrade", at, None, "bench") for i in range(n)]
    started = time.perf_counter()
    con.executemany(
        "INSERT INTO tierchange (customer_id, from_rank, to_rank, kind, at, by_user_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    elapsed = time.perf_counter() - started
    con.rollback()
    con.close()
    return elapsed


def _evaluate_seconds(path: Path, as_of: dt.date, *, review: bool = False) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    result = evaluate(engine, as_of=as_of, review=review, today=as_of, now=local_to_utc(as_of, dt.time(3, 0)))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, result.events


def _page_seconds(path: Path) -> float:
    os.environ["CONSOLE_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["CONSOLE_INPROCESS_WORKER"] = "0"
    from console.db import reset_engines
    from tests.app.conftest import login, new_app

    reset_engines()
    at = new_app()
    login(at, "supervisor")
    at.switch_page("pages/tiers.py").run()
    assert not at.exception, at.exception
    times = []
    for _ in range(5):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=Path, help="an already seeded large SQLite database (copied, not changed)")
    parser.add_argument("--demo", type=Path, help="an already seeded demo SQLite database (copied, not changed)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_tiers_"))
    try:
        large, demo = work / "large.db", work / "demo.db"
        for scale, source, target in (("large", args.large, large), ("demo", args.demo, demo)):
            if source:
                shutil.copyfile(source, target)
            else:
                print(f"seeding the {scale} scale ...", file=sys.stderr)
                _seed(scale, target)
        with sqlite3.connect(large) as con:
            customers = con.execute("SELECT count(*) FROM customer").fetchone()[0]
            purchases = con.execute("SELECT count(*) FROM purchase").fetchone()[0]
        rows = []
        agg = min(_aggregate_seconds(large, AS_OF) for _ in range(3))
        first, events = _evaluate_seconds(large, AS_OF)
        base1 = agg + _executemany_seconds(large, events)
        rows.append(("first evaluation", first, base1, 3.0, f"{events:,} events"))
        second, events2 = _evaluate_seconds(large, AS_OF)
        rows.append(("second evaluation (no change)", second, agg, 1.5, f"{events2:,} events"))
        review_day = dt.date(2027, 1, 1)
        agg_r = min(_aggregate_seconds(large, review_day) for _ in range(3))
        review, events3 = _evaluate_seconds(large, review_day, review=True)
        rows.append(
            ("review at 2027-01-01", review, agg_r + _executemany_seconds(large, events3), 3.0, f"{events3:,} events")
        )
        page_demo = _page_seconds(demo)
        page_large = _page_seconds(large)
        rows.append(("Tiers page script, large vs demo", page_large, page_demo, 1.5, "median of 5 reruns"))
        print(f"\nTier engine benchmark: {customers:,} customers, {purchases:,} purchases (SQLite)\n")
        print("| what | ours (s) | baseline (s) | ratio | target | note |")
        print("|---|---:|---:|---:|---:|---|")
        for name, ours, base, target, note in rows:
            ratio = ours / base if base else float("inf")
            ok = "ok" if ratio <= target else "MISSED"
            print(f"| {name} | {ours:.2f} | {base:.2f} | {ratio:.2f} | ≤ {target} {ok} | {note} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
