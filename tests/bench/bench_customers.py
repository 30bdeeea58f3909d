"""Benchmark of the Customers page's reads: python -m tests.bench.bench_customers [--demo-url URL] [--large-url URL].

At each scale: the profile and the first timeline page (50 events, every kind) of the customer with the most
events, and the coverage-gap lists (the six counts plus the first page of each list, supervisor), each timed
with cold caches — a fresh engine and connection per measurement, nothing cached in the application — median
of 5, at the large scale (200,000 customers) against the demo scale (20,000). Target: large within 1.5 × demo.

The gap lists read the stored gap computation (table customergap); recomputing it — the six rules over every
customer, which the page queues as a job at most every 15 minutes — is timed too, for information: it grows
with the number of customers by design. Without URLs, both scales are seeded into fresh SQLite files in a
temporary directory first (the large one takes a few minutes). Prints a Markdown table; exits 0.
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

from sqlalchemy import func, literal, select, union_all
from sqlmodel import Session

from console.customers import customer_profile, customer_timeline, gap_counts, gap_list
from console.customers.gaps import GAP_KINDS, refresh_now
from console.db import make_engine
from console.meta import demo_marker
from console.migrate import upgrade
from console.permissions import Actor
from console.timeutil import local_to_utc
from models import Assignment, Call, Contact, Customer, TierChange, User, Visit

TARGET = 1.5
REPEATS = 5


def _actor(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.__table__.c.username == username)).scalar_one()
    return Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id)


def _as_of(session: Session) -> dt.date:
    marker = demo_marker(session) or {}
    value = marker.get("as_of")
    return dt.date.fromisoformat(str(value)) if value else dt.date.today()


def busiest_customer(session: Session) -> tuple[int, int]:
    """(customer id, events) of the customer with the most timeline events (lowest id on a tie)."""
    parts = [
        select(TierChange.__table__.c.customer_id.label("cid"), literal(1).label("n")),
        select(Assignment.__table__.c.customer_id.label("cid"), literal(1).label("n")),
        select(Call.__table__.c.customer_id.label("cid"), literal(1).label("n")),
        select(Contact.__table__.c.customer_id.label("cid"), literal(1).label("n")).where(
            Contact.__table__.c.call_id.is_(None)
        ),
        select(Visit.__table__.c.customer_id.label("cid"), literal(1).label("n")).where(
            Visit.__table__.c.customer_id.is_not(None)
        ),
    ]
    events = union_all(*parts).subquery()
    total = func.count().label("events")
    c = Customer.__table__
    row = session.execute(
        select(events.c.cid, total)
        .join(c, c.c.id == events.c.cid)
        .where(c.c.is_training == False)  # noqa: E712
        .group_by(events.c.cid)
        .order_by(total.desc(), events.c.cid)
        .limit(1)
    ).one()
    return int(row[0]), int(row[1])


def _cold(url: str, work: Callable[[Session], Any]) -> float:
    """One measurement with a fresh engine and connection; returns milliseconds."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            work(session)
            return (time.perf_counter() - started) * 1000
    finally:
        engine.dispose()


def _gap_lists(actor: Actor, today: dt.date, now: dt.datetime) -> Callable[[Session], Any]:
    def work(session: Session) -> None:
        gap_counts(session=session, actor=actor, today=today, now=now)
        for kind in GAP_KINDS:
            gap_list(session=session, actor=actor, kind=kind, today=today, now=now)

    return work


def measure(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)  # the customergap table on a database seeded before it existed
    with Session(engine) as s:
        as_of = _as_of(s)
        supervisor = _actor(s, "supervisor")
        customer_id, events = busiest_customer(s)
        customers = s.execute(select(func.count()).select_from(Customer)).scalar_one()
    engine.dispose()
    now = local_to_utc(as_of, dt.time(12, 0))
    refresh_ms = []
    for _ in range(REPEATS):

        def refresh(s: Session) -> None:
            refresh_now(s, as_of, now)
            s.commit()

        refresh_ms.append(_cold(url, refresh))
    cases: dict[str, Callable[[Session], Any]] = {
        "profile of the busiest customer": lambda s: customer_profile(
            session=s, actor=supervisor, customer_id=customer_id, today=as_of, now=now
        ),
        "timeline, first 50 events": lambda s: customer_timeline(
            session=s, actor=supervisor, customer_id=customer_id, today=as_of, limit=50
        ),
        "gap lists: six counts and six first pages": _gap_lists(supervisor, as_of, now),
    }
    results = {name: statistics.median(_cold(url, fn) for _ in range(REPEATS)) for name, fn in cases.items()}
    return {
        "customers": int(customers),
        "events": events,
        "results": results,
        "refresh": statistics.median(refresh_ms),
    }


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


def report(demo: dict[str, Any], large: dict[str, Any]) -> tuple[str, bool]:
    lines = [
        "## Customers (VIP 360) reads — large vs demo scale (cold caches, median of 5)",
        "",
        f"Customers: demo {demo['customers']:,}, large {large['customers']:,}. The busiest customer's timeline: "
        f"demo {demo['events']} events, large {large['events']} events.",
        "",
        "| read | demo ms | large ms | large / demo | target |",
        "|---|---:|---:|---:|---:|",
    ]
    ok = True
    for (name, d_ms), (lname, l_ms) in zip(demo["results"].items(), large["results"].items(), strict=True):
        ratio = l_ms / d_ms if d_ms else float("inf")
        ok = ok and ratio <= TARGET
        label = name if name == lname else f"{name} / {lname}"
        lines.append(f"| {label} | {d_ms:.1f} | {l_ms:.1f} | {ratio:.2f} | ≤ {TARGET} |")
    d_r, l_r = demo["refresh"], large["refresh"]
    lines += [
        "",
        "For information (no target; a background job at most every 15 minutes):",
        "",
        "| work | demo ms | large ms | large / demo |",
        "|---|---:|---:|---:|",
        f"| recompute the six gap rules over every customer | {d_r:.0f} | {l_r:.0f} | {l_r / d_r:.1f} |",
    ]
    return "\n".join(lines) + "\n", ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_customers")
    parser.add_argument("--demo-url", default=None, help="an already seeded demo-scale database")
    parser.add_argument("--large-url", default=None, help="an already seeded large-scale database")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench_customers_"))
    try:
        demo_url = args.demo_url or _seed("demo", workdir)
        large_url = args.large_url or _seed("large", workdir)
        text, ok = report(measure(demo_url), measure(large_url))
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
