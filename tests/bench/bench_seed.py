"""Benchmark of the demo-data generator: python -m tests.bench.bench_seed [--scale large] [--out FILE].

Seeds the chosen scale into a fresh SQLite file in a temporary directory and reports the total and per-phase
times. The write phase alone (time spent inside seed.bulk.bulk_insert) is compared, in the same run, with a
plain sqlite3 ``executemany`` of the very same row tuples into a separate fresh file with the same DDL (migrated
the same way) and the same PRAGMAs; the baseline commits whenever the generator commits (untimed on both sides).
Prints a Markdown table with ratio = baseline time / our time (target >= 0.5) and rows/s, and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event

from console.db import SQLITE_BUSY_TIMEOUT_MS, make_engine
from console.migrate import upgrade
from seed import bulk
from seed.demo import LAST_PHASE_TIMES, generate
from seed.scales import SCALES

TARGET_RATIO = 0.5


class Baseline:
    """Replays every bulk_insert into a plain sqlite3 connection and times executemany alone."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path)
        # console.db's connection PRAGMAs, plus the ones seed.bulk sets on its connection while it writes
        pragmas = [
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous=NORMAL",
        ]
        pragmas += [f"{name}={value}" for name, value in bulk.SQLITE_BULK_PRAGMAS.items()]
        for pragma in pragmas:
            self.con.execute(f"PRAGMA {pragma}")
        self.seconds = 0.0
        self.commit_seconds = 0.0
        self.rows = 0
        self.per_table: dict[str, list[float]] = {}

    def __call__(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" for _ in columns)})'
        started = time.perf_counter()
        self.con.executemany(sql, rows)
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        self.rows += len(rows)
        entry = self.per_table.setdefault(table, [0.0, 0])
        entry[0] += elapsed
        entry[1] += len(rows)

    def commit(self) -> None:
        started = time.perf_counter()
        self.con.commit()
        self.commit_seconds += time.perf_counter() - started


def _fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "—"


def run(scale: str, seed: int, as_of: dt.date) -> tuple[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench_seed_"))
    try:
        ours_path, base_path = workdir / "ours.db", workdir / "baseline.db"
        engine = make_engine(f"sqlite:///{ours_path}")
        upgrade(engine)
        base_engine = make_engine(f"sqlite:///{base_path}")
        upgrade(base_engine)  # the same DDL and reference rows (the generated rows point at them)
        base_engine.dispose()
        baseline = Baseline(base_path)
        event.listen(engine, "commit", lambda _conn: baseline.commit())
        bulk.STATS.reset()
        bulk.OBSERVERS.append(baseline)
        last_line = [0.0]

        def progress(phase: str, done: int, total: int) -> None:
            now = time.perf_counter() - started
            if done >= total or now - last_line[0] > 5:
                last_line[0] = now
                print(f"[{now:7.1f}s] {phase}: {done:,}/{total:,}", file=sys.stderr, flush=True)

        started = time.perf_counter()
        try:
            counts = generate(engine, scale=scale, seed=seed, as_of=as_of, progress=progress)
        finally:
            bulk.OBSERVERS.remove(baseline)
        total = time.perf_counter() - started
        baseline.commit()
        engine.dispose()
        ours_rows = sum(n for name, n in counts.items() if name != "appmeta")
        base_rows = sum(baseline.con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in baseline.per_table)
        baseline.con.close()
        ours = bulk.STATS
        ratio = baseline.seconds / ours.seconds if ours.seconds else float("inf")
        own = total - baseline.seconds - baseline.commit_seconds
        lines = [
            f"## Demo data generator — scale `{scale}`, seed {seed}, as of {as_of.isoformat()} (SQLite)",
            "",
            "| figure | value |",
            "|---|---:|",
            f"| total time of generate (after migration), baseline replay excluded | {own:.1f} s |",
            f"| wall time of the run, baseline replay included | {total:.1f} s |",
            f"| rows written | {ours_rows:,} |",
            f"| database size | {ours_path.stat().st_size / 1e6:,.0f} MB |",
            "",
            "| phase (wall, baseline replay included) | seconds |",
            "|---|---:|",
            *[f"| {name} | {secs:.1f} |" for name, secs in LAST_PHASE_TIMES.items()],
            "",
            "Write phase alone: time inside `bulk_insert` vs a plain `sqlite3.executemany` of the same row tuples "
            "(same DDL, same PRAGMAs, separate fresh file, same run).",
            "",
            "| writer | rows | seconds | rows/s |",
            "|---|---:|---:|---:|",
            f"| seed.bulk.bulk_insert | {ours.rows:,} | {ours.seconds:.1f} | {_fmt_rate(ours.rows, ours.seconds)} |",
            f"| baseline executemany | {baseline.rows:,} | {baseline.seconds:.1f} | "
            f"{_fmt_rate(baseline.rows, baseline.seconds)} |",
            f"| **ratio baseline/ours** (target ≥ {TARGET_RATIO}) | | **{ratio:.2f}** | |",
            "",
            "| table | rows | ours s | baseline s |",
            "|---|---:|---:|---:|",
        ]
        biggest = sorted(ours.per_table.items(), key=lambda kv: -kv[1][1])[:10]
        for name, (secs, rows) in biggest:
            lines.append(f"| {name} | {int(rows):,} | {secs:.2f} | {baseline.per_table.get(name, [0.0])[0]:.2f} |")
        if base_rows != baseline.rows:
            lines.append(f"\nWARNING: the baseline holds {base_rows:,} rows, expected {baseline.rows:,}.")
        return "\n".join(lines) + "\n", ratio
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_seed")
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 25))
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    report, ratio = run(args.scale, args.seed, args.as_of)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    if ratio < TARGET_RATIO:
        print(f"note: ratio {ratio:.2f} is below the target {TARGET_RATIO}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
