"""Benchmark of Agent KPIs and evaluation submission: python -m tests.bench.bench_qa [--large DB] [--demo DB].

1. The Agent KPIs page script for a supervisor (all 400 agents and 320 client managers at large, last 90 days,
   every stream) at large against demo: median of 5 runs, each in a fresh AppTest session (nothing cached
   between runs; the rollup freshness check runs every time). Target: within 1.5x.
2. The KPI services alone (person_kpis, weekly_trend, section_averages, score_by_tier) in a fresh Session each
   time, large against demo, median of 5, for information.
3. Submitting an evaluation (submit_evaluation: checks, score, answers, audit row, commit) at large against
   demo, median of 5 different calls. Target: within 1.5x.

The one-time build of the KPI rollups (console.qa.rollups, 1M calls) is timed first and reported apart: it
happens once per database (or per demo reset), not per page view. Without --large/--demo the scales are seeded
into a temporary directory first (the large scale takes minutes). Prints a Markdown table and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, select

from console.db import make_engine

AS_OF = dt.date(2026, 11, 25)


def _seed(scale: str, path: Path) -> None:
    from console.migrate import upgrade
    from seed.demo import generate

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    generate(engine, scale=scale, seed=1, as_of=AS_OF)
    engine.dispose()


def _prepare(path: Path) -> float:
    """Migrate (the rollup tables) and build the rollups once; returns the build's seconds."""
    from console.migrate import upgrade
    from console.qa import rollups

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as s:
        started = time.perf_counter()
        rollups.refresh(s)
        s.commit()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _page_seconds(path: Path) -> float:
    os.environ["CONSOLE_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["CONSOLE_INPROCESS_WORKER"] = "0"
    from console.db import reset_engines
    from tests.app.conftest import login, new_app

    reset_engines()
    times = []
    for _ in range(6):
        at = new_app()
        login(at, "supervisor")
        started = time.perf_counter()
        at.switch_page("pages/agent_kpis.py").run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return statistics.median(times[1:])  # the first run warms Python's imports


def _services_seconds(path: Path) -> float:
    from console.auth import actor_for
    from console.qa.kpis import KpiQuery, person_kpis, score_by_tier, section_averages, weekly_trend
    from models import User

    q = KpiQuery(AS_OF - dt.timedelta(days=89), AS_OF)
    times = []
    for _ in range(5):
        engine = make_engine(f"sqlite:///{path}")
        with Session(engine) as s:
            actor = actor_for(s, s.exec(select(User).where(User.username == "supervisor")).one())
            started = time.perf_counter()
            for fn in (person_kpis, weekly_trend, section_averages, score_by_tier):
                fn(session=s, actor=actor, q=q)
            times.append(time.perf_counter() - started)
        engine.dispose()
    return statistics.median(times)


def _submit_seconds(path: Path) -> float:
    from sqlalchemy import func

    from console.auth import actor_for
    from console.qa.common import active_version_id, load_version
    from console.qa.evaluations import submit_evaluation
    from console.qa.explain import AnswerIn
    from models import Call, Evaluation, Staff, User

    engine = make_engine(f"sqlite:///{path}")
    times = []
    with Session(engine) as s:
        lead = s.exec(select(User).where(User.username == "lead")).one()
        actor = actor_for(s, lead)
        scored = select(Evaluation.call_id)
        calls = s.exec(
            select(Call.id, Call.stream)
            .join(Staff, Staff.id == Call.caller_id)
            .where(Staff.team_id == actor.team_id, Call.outcome == "connected", Call.id.not_in(scored))
            .order_by(func.random())
            .limit(5)
        ).all()
    for call_id, stream in calls:
        with Session(engine) as s:
            spec = load_version(s, active_version_id(s, stream))  # type: ignore[arg-type]
            answers = {i.item_id: AnswerIn(points=i.max_points) for i in spec.items}
            started = time.perf_counter()
            submit_evaluation(session=s, actor=actor, call_id=call_id, answers=answers, violations={})
            s.commit()
            times.append(time.perf_counter() - started)
            s.rollback()
    engine.dispose()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=Path, help="an already seeded large SQLite database (copied, not changed)")
    parser.add_argument("--demo", type=Path, help="an already seeded demo SQLite database (copied, not changed)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_qa_"))
    try:
        large, demo = work / "large.db", work / "demo.db"
        for scale, source, target in (("large", args.large, large), ("demo", args.demo, demo)):
            if source:
                shutil.copyfile(source, target)
            else:
                print(f"seeding the {scale} scale ...", file=sys.stderr)
                _seed(scale, target)
        build_large, build_demo = _prepare(large), _prepare(demo)
        rows = [
            (
                "Agent KPIs page script",
                _page_seconds(large),
                _page_seconds(demo),
                1.5,
                "supervisor, 90 days, median of 5",
            ),
            (
                "KPI services only",
                _services_seconds(large),
                _services_seconds(demo),
                None,
                "median of 5, for information",
            ),
            ("submit an evaluation", _submit_seconds(large), _submit_seconds(demo), 1.5, "median of 5 calls"),
        ]
        print("\nCall QA / Agent KPIs benchmark (SQLite): large against demo\n")
        print(f"One-time KPI rollup build: large {build_large:.1f} s, demo {build_demo:.2f} s\n")
        print("| what | large (s) | demo (s) | ratio | target | note |")
        print("|---|---:|---:|---:|---:|---|")
        for name, big, small, target, note in rows:
            ratio = big / small if small else float("inf")
            verdict = "—" if target is None else f"≤ {target} " + ("ok" if ratio <= target else "MISSED")
            print(f"| {name} | {big:.3f} | {small:.3f} | {ratio:.2f} | {verdict} | {note} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
