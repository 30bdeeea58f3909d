"""Benchmarks of issue 3: python -m tests.bench.bench_assignment [--repeat 5] [--skip-page]

1. Auto-assign of 10,000 unassigned VIPs over 320 client managers at the large scale (200,000 customers):
   preview + apply (one batch: version checks, 10,000 customer updates, 10,000 history rows, audit) against a
   plain sqlite3 baseline that reads those VIPs and managers and writes 10,000 history rows with executemany.
   Target: ours within 3x of the baseline.
2. The Assignment page's script (AppTest, default view, cold caches) at the large scale against the demo scale.
   Target: large within 1.5x of demo.

Both use synthetic databases with the shape of the demo scales (customers, managers at 70-100 % utilisation, the
tier mix of SPEC §6, one history row per assigned VIP), built with executemany in a temporary directory.
Each repetition runs on a fresh copy of the database and a fresh engine; the median of the repetitions counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from console.db import make_engine
from console.migrate import upgrade

TIER_MIX = [(0, 0.15), (1, 0.50), (2, 0.25), (3, 0.06), (4, 0.035), (5, 0.005)]
UNITS = {0: 0, 1: 1, 2: 2, 3: 3, 4: 5, 5: 10}
LEVEL_MAX = {"junior": 2, "senior": 4, "enterprise": 5}
REGIONS = ("广州", "深圳", "东莞", "佛山", "珠海", "惠州", "中山", "江门")
AS_OF = dt.date(2026, 11, 25)
TARGET_AUTO = 3.0
BASELINE_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL")
TARGET_PAGE = 1.5


def _ts(d: dt.datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, *, customers: int, managers: int, unassigned: int, seed: int = 1) -> None:
    """A migrated SQLite database with client managers, VIPs (some unassigned) and their history."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    now = dt.datetime(2026, 11, 25, 1, 0)
    con.execute("INSERT INTO team (id, code, name, stream) VALUES (1, 'MT01', '维护一组', 'maintenance')")
    con.execute(
        "INSERT INTO user (id, username, role, password_hash, must_change_password, failed_attempts, active,"
        " language, created_at) VALUES (1, 'supervisor', 'supervisor', 'x', 0, 0, 1, 'en', ?)",
        (_ts(now),),
    )
    n_ent, n_sen = max(1, managers // 8), max(1, managers * 3 // 8)
    levels = ["enterprise"] * n_ent + ["senior"] * n_sen + ["junior"] * (managers - n_ent - n_sen)
    staff = []
    for i, level in enumerate(levels, start=1):
        staff.append(
            (
                i,
                f"CM{i:03d}",
                f"经理{i}",
                "client_manager",
                1,
                "maintenance",
                "member_value",
                level,
                1000,
                REGIONS[i % len(REGIONS)],
                None,
                1,
                None,
                None,
                None,
                0,
                _ts(now),
            )
        )
    con.executemany(
        "INSERT INTO staff (id, code, name, role, team_id, stream, department, manager_level, capacity_units, region,"
        " phone, active, leave_start, leave_end, exit_date, is_training, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        staff,
    )
    ranks = [r for r, _ in TIER_MIX]
    weights = [w for _, w in TIER_MIX]
    tiers = [rng.choices(ranks, weights)[0] for _ in range(customers)]
    vip_ids = [cid for cid, rank in enumerate(tiers, start=1) if rank > 0]
    waiting_ids = set(rng.sample(vip_ids, min(unassigned, len(vip_ids))))
    load = {i: 0 for i in range(1, managers + 1)}
    target = {i: rng.uniform(0.70, 0.93) * 1000 for i in load}
    eligible = {r: [i for i, lv in enumerate(levels, start=1) if LEVEL_MAX[lv] >= r] for r in range(1, 6)}
    custs, history = [], []
    for cid, rank in enumerate(tiers, start=1):
        region = REGIONS[rng.randrange(len(REGIONS))]
        manager = None
        waiting = None
        if cid in waiting_ids:
            waiting = _ts(now - dt.timedelta(hours=rng.randrange(1, 500)))
        elif rank > 0:
            pool = eligible[rank]
            for _ in range(20):
                m = pool[rng.randrange(len(pool))]
                if load[m] + UNITS[rank] <= target[m]:
                    manager = m
                    break
            if manager is None:  # the least loaded eligible manager, still under the cap
                m = min(pool, key=lambda k: load[k] / 1000)
                manager = m if load[m] + UNITS[rank] <= 1000 else None
            if manager is None:
                waiting = _ts(now - dt.timedelta(hours=rng.randrange(1, 500)))
        assigned = _ts(now - dt.timedelta(days=rng.randrange(1, 700))) if manager else None
        if manager:
            load[manager] += UNITS[rank]
            history.append((cid, None, manager, assigned, 1, "seed", None))
        custs.append(
            (
                cid,
                f"C{cid:07d}",
                f"客户{cid}",
                f"139{cid:08d}",
                region,
                rank,
                manager,
                assigned,
                waiting,
                1 if manager else 0,
                0,
                0,
                _ts(now),
            )
        )
    # The demo scenario of a manager on leave with half of the portfolio covered by others.
    on_leave = 2
    covered = [k for k, row in enumerate(custs) if row[6] == on_leave][::2]
    for k in covered:
        row = list(custs[k])
        rank = row[5]
        pool = [m for m in eligible[rank] if m != on_leave and load[m] + UNITS[rank] <= 1000]
        if not pool:
            continue
        cover = pool[rng.randrange(len(pool))]
        load[cover] += UNITS[rank]
        row[6], row[9] = cover, 2
        custs[k] = tuple(row)
        history.append((row[0], on_leave, cover, _ts(now - dt.timedelta(days=6)), 1, "cover", None))
    con.execute(
        "UPDATE staff SET leave_start = ?, leave_end = ? WHERE id = ?",
        ((AS_OF - dt.timedelta(days=6)).isoformat(), (AS_OF + dt.timedelta(days=9)).isoformat(), on_leave),
    )
    con.executemany(
        "INSERT INTO customer (id, code, name, phone, region, tier_rank, manager_id, assigned_at, waiting_since,"
        " assignment_version, supreme, is_training, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        custs,
    )
    con.execute(
        "INSERT INTO assignmentbatch (id, kind, created_at, by_user_id, moves) VALUES (1, 'seed', ?, 1, ?)",
        (_ts(now), len(history)),
    )
    con.executemany(
        "INSERT INTO assignment (customer_id, from_manager_id, to_manager_id, at, by_user_id, reason, batch_id)"
        " VALUES (?, ?, ?, ?, 1, ?, ?)",
        [(c, f, t, a, r, 1) for c, f, t, a, _b, r, _n in history],
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def bench_auto_assign(db: Path, workdir: Path, repeat: int) -> tuple[float, float, int]:
    from console.assignment import apply_auto_assign, preview_auto_assign
    from console.permissions import Actor

    actor = Actor(user_id=1, username="supervisor", role="supervisor")
    ours, base = [], []
    moves = 0
    for i in range(repeat):
        copy = workdir / f"auto-{i}.db"
        shutil.copyfile(db, copy)
        engine = make_engine(f"sqlite:///{copy}")
        started = time.perf_counter()
        with Session(engine) as s:
            plan = preview_auto_assign(session=s, actor=actor, today=AS_OF)
            applied = apply_auto_assign(session=s, actor=actor, plan=plan, today=AS_OF)
            s.commit()
        ours.append(time.perf_counter() - started)
        moves = applied.moves
        engine.dispose()

        copy_b = workdir / f"base-{i}.db"
        shutil.copyfile(db, copy_b)
        con = sqlite3.connect(copy_b)
        for pragma in BASELINE_PRAGMAS:  # the connection settings console.db gives every connection
            con.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        vips = con.execute(
            "SELECT id, tier_rank, region, waiting_since FROM customer WHERE tier_rank > 0 AND manager_id IS NULL"
        ).fetchall()
        mgrs = con.execute(
            "SELECT id, code, manager_level, region, capacity_units FROM staff WHERE role = 'client_manager'"
        ).fetchall()
        stamp = _ts(dt.datetime(2026, 11, 25, 2, 0))
        rows = [(v[0], None, mgrs[k % len(mgrs)][0], stamp, 1, "new_vip", None) for k, v in enumerate(vips[:moves])]
        con.executemany(
            "INSERT INTO assignment (customer_id, from_manager_id, to_manager_id, at, by_user_id, reason, batch_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        con.commit()
        base.append(time.perf_counter() - started)
        con.close()
        copy.unlink()
        copy_b.unlink()
    return _median(ours), _median(base), moves


def bench_page(db: Path, repeat: int) -> float:
    """Median time of the Assignment page's script (default view) for a supervisor, cold caches."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from console.db import reset_engines

    root = Path(__file__).resolve().parents[2]
    os.environ["CONSOLE_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["CONSOLE_INPROCESS_WORKER"] = "0"
    times = []
    for _ in range(repeat):
        st.cache_data.clear()
        st.cache_resource.clear()
        reset_engines()
        at = AppTest.from_file(str(root / "pages" / "assignment.py"), default_timeout=120)
        at.session_state["auth.user_id"] = 1
        at.run()
        if at.exception:
            raise RuntimeError(at.exception)
        times.append(float(at.session_state["assign.script_seconds"]))  # the script alone, not AppTest's setup
    return _median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench_assignment_"))
    try:
        large = workdir / "large.db"
        started = time.perf_counter()
        build(large, customers=200_000, managers=320, unassigned=10_000)
        print(f"built the large database in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        ours, base, moves = bench_auto_assign(large, workdir, args.repeat)
        lines = [
            "| Benchmark | Ours (median) | Baseline (median) | Ratio | Target |",
            "|---|---|---|---|---|",
            f"| Auto-assign {moves:,} VIPs over 320 managers (large) | {ours:.2f} s | {base:.2f} s | "
            f"{ours / base:.2f}x | <= {TARGET_AUTO}x |",
        ]
        if not args.skip_page:
            demo = workdir / "demo.db"
            build(demo, customers=20_000, managers=32, unassigned=150)
            large_page = bench_page(large, args.repeat)
            demo_page = bench_page(demo, args.repeat)
            lines.append(
                f"| Assignment page script, large vs demo | {large_page:.2f} s | {demo_page:.2f} s | "
                f"{large_page / demo_page:.2f}x | <= {TARGET_PAGE}x |"
            )
        print("\n".join(lines))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
