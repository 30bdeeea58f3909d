"""Benchmark of the purchase import (issue 8 item 7): python -m tests.bench.bench_imports [--large DB] [--rows N].

Imports N (default 200,000) purchases of existing customers from a UTF-8 CSV into a copy of the large database
(200,000 customers, 1.6M purchases): read the file, check every row (customer codes, amounts, times, references in
the file and in the database), write the valid rows in chunks, each committed with the job's checkpoint. The
baseline is a plain sqlite3 ``executemany`` of the very same rows (already converted: customer id, UTC time, fen,
reference) into the same database in one transaction plus its commit (the rows are deleted again, untimed).
Each round times a baseline and then an import of fresh rows; the median ratio of the rounds counts, so a busy
machine slows both sides of a pair alike. Target: within 3x.

The tier evaluation of the touched customers that follows an import is timed once (round 1) and reported for
information: it is the engine's evaluation of up to N customers, not part of writing the rows.

Without --large the large scale is seeded into a temporary directory first (minutes); --workdir /dev/shm keeps
disk noise out. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from console.db import make_engine
from console.imports.apply import run_import
from console.imports.mapping import FIELDS, resolve
from console.imports.readers import read_table
from console.timeutil import SHANGHAI, today_local

TARGET = 3.0


def _seed(path: Path) -> None:
    from console.migrate import upgrade
    from seed.demo import generate

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    generate(engine, scale="large", seed=1, as_of=today_local())
    engine.dispose()


def _customers(path: Path) -> list[tuple[int, str]]:
    con = sqlite3.connect(path)
    rows = con.execute("SELECT id, code FROM customer WHERE is_training = 0").fetchall()
    con.close()
    return rows


def _rows(
    customers: list[tuple[int, str]], n: int, prefix: str, seed: int
) -> tuple[bytes, list[tuple[int, str, int, str]]]:
    """A CSV of n purchases (local times, yuan) and the same rows as the database stores them."""
    rng = random.Random(seed)
    today = today_local()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["客户编号", "交易时间", "金额(元)", "流水号"])
    stored = []
    for i in range(n):
        cid, code = customers[rng.randrange(len(customers))]
        day = today - dt.timedelta(days=rng.randrange(1, 330))
        local = dt.datetime.combine(day, dt.time(rng.randrange(8, 22), rng.randrange(60), rng.randrange(60)))
        fen = rng.randrange(100, 500_000)
        ref = f"{prefix}-{i:08d}"
        writer.writerow([code, local.strftime("%Y-%m-%d %H:%M:%S"), f"{fen // 100}.{fen % 100:02d}", ref])
        utc = local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC).replace(tzinfo=None)
        stored.append((cid, utc.isoformat(sep=" ", timespec="microseconds"), fen, ref))
    return buf.getvalue().encode("utf-8"), stored


def _baseline(path: Path, rows: list[tuple[int, str, int, str]]) -> float:
    """executemany + commit (a write is not done before it commits); the rows are deleted again, untimed."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA foreign_keys=ON")
    started = time.perf_counter()
    con.executemany("INSERT INTO purchase (customer_id, at, amount_fen, reference) VALUES (?, ?, ?, ?)", rows)
    con.commit()
    elapsed = time.perf_counter() - started
    con.executemany("DELETE FROM purchase WHERE reference = ?", [(r[3],) for r in rows])
    con.commit()
    con.close()
    return elapsed


def _import(path: Path, data: bytes, *, effects: bool) -> dict[str, float]:
    engine = make_engine(f"sqlite:///{path}")
    table = read_table(data, file_name="bench.csv")
    headers = resolve("purchases", table.headers).as_headers()
    mapping = {s.name: headers.get(s.name) for s in FIELDS["purchases"]}
    marks: dict[str, float] = {}

    def report(done: int, total: int, message: str) -> None:
        for stage in ("checking", "writing", "tier evaluation"):
            if message.startswith(stage) and stage not in marks:
                marks[stage] = time.perf_counter()

    started = time.perf_counter()
    result = run_import(
        engine, kind="purchases", data=data, file_name="bench.csv", mapping=mapping, report=report, effects=effects
    )
    ended = time.perf_counter()
    engine.dispose()
    assert result["inserted"] == table.total, result["message"]
    effects_at = marks.get("tier evaluation", ended)
    return {
        "read": marks["checking"] - started,
        "check": marks.get("writing", effects_at) - marks["checking"],
        "write": effects_at - marks.get("writing", effects_at),
        "import": effects_at - started,
        "effects": ended - effects_at,
        "upgrades": float(result["effects"]["upgrades"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_imports")
    parser.add_argument("--large", type=Path, help="a seeded large database (copied, never changed)")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="baseline + import pairs; the median ratio counts")
    parser.add_argument("--workdir", help="where the working copy lives (e.g. /dev/shm to keep disk noise out)")
    args = parser.parse_args(argv)
    rounds = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp) / "bench.db"
        if args.large:
            shutil.copyfile(args.large, work)
        else:
            print("seeding the large scale (minutes)...", file=sys.stderr)
            _seed(work)
        customers = _customers(work)
        for n in range(args.rounds):
            data, stored = _rows(customers, args.rows, f"BENCH{n}", seed=8 + n)
            base = _baseline(work, stored)
            timing = _import(work, data, effects=n == 0)
            rounds.append((base, timing))
    ratios = sorted(t["import"] / b for b, t in rounds)
    median = statistics.median(ratios)
    print(
        f"Importing {args.rows:,} purchases into the large database ({len(rounds)} rounds, each against its own executemany)\n"
    )
    print("| round | executemany + commit | read | check | write | import | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, (b, t) in enumerate(rounds, 1):
        print(
            f"| {n} | {b:.2f} s | {t['read']:.2f} s | {t['check']:.2f} s | {t['write']:.2f} s "
            f"| {t['import']:.2f} s | {t['import'] / b:.2f}x |"
        )
    first = rounds[0][1]
    print(
        f"\nmedian ratio {median:.2f}x (target ≤ {TARGET:.0f}x): {'within' if median <= TARGET else 'NOT within'} target."
        f"\nfor information: the tier evaluation of the touched customers after round 1 took {first['effects']:.2f} s "
        f"({int(first['upgrades']):,} upgrades)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
