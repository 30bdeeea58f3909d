"""python -m seed --scale small|demo|large --seed N --as-of YYYY-MM-DD [--reset] [--if-empty] [--database-url URL]

Migrates the database (which loads the reference data), then writes deterministic demo data. Refuses a
database that already has customers or users unless --reset (exit 2), or with --if-empty says so and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from console.db import DatabaseConfigError, database_url, make_engine, redact
from console.migrate import upgrade
from console.timeutil import today_local
from seed.demo import generate as generate_demo
from seed.demo import has_data, reset_and_generate
from seed.scales import SCALES


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m seed", description="Write deterministic demo data.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo", help="data volume (default demo)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--as-of", type=_date, default=None, help="anchor date (default: today in Asia/Shanghai)")
    parser.add_argument("--reset", action="store_true", help="delete existing demo data first (jobs, audit kept)")
    parser.add_argument("--if-empty", action="store_true", help="do nothing (exit 0) if the database has data")
    parser.add_argument("--database-url", default=None, help="default: CONSOLE_DATABASE_URL or data/console.db")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    as_of: dt.date = args.as_of or today_local()
    url = args.database_url or database_url()
    started = time.perf_counter()

    last = {"phase": "", "at": 0.0}

    def progress(phase: str, done: int, total: int) -> None:
        """One line per phase change, then at most one every two seconds."""
        elapsed = time.perf_counter() - started
        if phase == last["phase"] and done < total and elapsed - float(last["at"]) < 2.0:
            return
        last.update(phase=phase, at=elapsed)
        print(f"[{elapsed:7.1f}s] {phase}: {done:,}/{total:,} rows", file=sys.stderr, flush=True)

    try:
        engine = make_engine(url)
    except DatabaseConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        print(f"[{0.0:7.1f}s] migrate: {redact(url)}", file=sys.stderr, flush=True)
        upgrade(engine)
        with engine.connect() as conn:
            occupied = has_data(conn)
        if occupied and args.if_empty and not args.reset:
            print("The database already has data; nothing seeded.")
            return 0
        if occupied and not args.reset:
            print(
                f"The database at {redact(url)} already has customers or users; run with --reset to replace them "
                "with demo data.",
                file=sys.stderr,
            )
            return 2
        run = reset_and_generate if occupied else generate_demo
        counts = run(engine, scale=args.scale, seed=args.seed, as_of=as_of, progress=progress)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(
        f"Seeded {args.scale} demo data (seed {args.seed}, as of {as_of.isoformat()}): {total:,} rows in "
        f"{elapsed:.1f} s ({counts.get('customer', 0):,} customers, {counts.get('call', 0):,} calls)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
