"""The deterministic demo-data generator (SPEC §6 "Demo data" and "Scales").

``generate`` fills an empty database (reference data already loaded by ``console.migrate.upgrade``);
``reset_and_generate`` first deletes every non-reference row (keeping jobs and the audit log). The same
scale, seed and as-of give identical rows in any process: every value comes from ``random.Random`` streams
seeded by phase and from Faker ``zh_CN`` seeded with the seed; every date is relative to as-of. The only
real-time values are the password hash (argon2 salts it) and ``seeded_at`` in the demo marker.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

import models
from models import AppMeta, Customer, User
from seed import bulk
from seed.bulk import Storage, Writer
from seed.calls import write_calls
from seed.context import Ctx, Reference, load_reference
from seed.customers import (
    choose_holders,
    plan_assignment_history,
    plan_customers,
    plan_tier_history,
    write_customers,
    write_purchases,
)
from seed.people import build_people, write_people
from seed.qa import write_qa
from seed.reception import write_reception
from seed.scales import SCALES

Progress = Callable[[str, int, int], None]
DEMO_KEY = "demo"
# Reference data and the operational logs that a reset keeps.
REFERENCE_TABLES = frozenset(
    {
        "tierlevel",
        "scorecard",
        "scorecardversion",
        "scorecardsection",
        "scorecarditem",
        "scorecardviolation",
        "receptionlevel",
        "guardpost",
        "department",
        "checklisttemplate",
        "templateitem",
        "disciplinerule",
    }
)
KEPT_TABLES = REFERENCE_TABLES | {"job", "auditlog"}
# Per-phase wall-clock seconds of the last generate() in this process (read by the benchmark).
LAST_PHASE_TIMES: dict[str, float] = {}


class DatabaseNotEmptyError(RuntimeError):
    """The database already has customers or users."""


def has_data(conn: Connection) -> bool:
    customers = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
    users = conn.execute(select(func.count()).select_from(User)).scalar_one()
    return bool(customers or users)


def generated_tables() -> list[str]:
    """Every table the generator owns, parents first."""
    return [t.name for t in models.metadata.sorted_tables if t.name not in KEPT_TABLES]


def generate(
    engine: Engine,
    *,
    scale: str,
    seed: int,
    as_of: dt.date,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database with demo data. Returns rows written per table.

    Raises DatabaseNotEmptyError when customers or users exist (use reset_and_generate).
    Commits after each phase; the demo marker (AppMeta "demo") is written last.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    LAST_PHASE_TIMES.clear()
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        if has_data(conn):
            raise DatabaseNotEmptyError("The database already has customers or users.")
        ref = load_reference(conn, as_of)
        conn.rollback()
        pragmas = bulk.apply_bulk_pragmas(conn)
        try:
            _generate_on(conn, ref, scale=scale, seed=seed, as_of=as_of, progress=progress, counts=counts)
        finally:
            if conn.in_transaction():
                conn.rollback()
            bulk.restore_pragmas(conn, pragmas)
    counts["appmeta"] = 1
    return counts


def _generate_on(
    conn: Connection,
    ref: Reference,
    *,
    scale: str,
    seed: int,
    as_of: dt.date,
    progress: Progress | None,
    counts: dict[str, int],
) -> None:
    """The phases, each committed; rows written per table are added to counts."""
    writer = Writer(conn)
    ctx = Ctx(
        conn=conn,
        scale=SCALES[scale],
        seed=seed,
        as_of=as_of,
        ref=ref,
        writer=writer,
        store=Storage(conn.dialect.name),
        progress=progress,
    )

    def phase(name: str, fn: Callable[[], object]) -> object:
        started = time.perf_counter()
        before = sum(writer.counts.values())
        result = fn()
        writer.flush()
        conn.commit()
        LAST_PHASE_TIMES[name] = LAST_PHASE_TIMES.get(name, 0.0) + time.perf_counter() - started
        rows = sum(writer.counts.values()) - before
        if rows:
            ctx.report(name, rows, rows)
        return result

    phase("people", lambda: (build_people(ctx), write_people(ctx)))
    custs = plan_customers(ctx)
    downgrades: dict[str, int] = {}

    def plan() -> None:
        choose_holders(ctx, custs)
        downgrades.update(plan_tier_history(ctx, custs))
        plan_assignment_history(ctx, custs)

    phase("plan", plan)
    ctx.report("plan", len(custs), len(custs))
    phase("customers", lambda: write_customers(ctx, custs, downgrades))
    phase("purchases", lambda: write_purchases(ctx, custs))
    phase("calls", lambda: write_calls(ctx, custs))
    phase("qa", lambda: write_qa(ctx))
    phase("reception", lambda: write_reception(ctx, custs))

    def finish() -> None:
        bulk.reset_sequences(conn, [t for t in generated_tables() if t in writer.counts])
        marker = {
            "scale": scale,
            "seed": seed,
            "as_of": as_of.isoformat(),
            "seeded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        conn.execute(delete(AppMeta).where(AppMeta.key == DEMO_KEY))
        conn.execute(
            insert(AppMeta).values(
                key=DEMO_KEY, value=json.dumps(marker, sort_keys=True), updated_at=ctx.local(as_of, 0)
            )
        )

    phase("finish", finish)
    counts.update(writer.counts)


def delete_generated(engine: Engine, progress: Progress | None = None) -> dict[str, int]:
    """Delete every non-reference row except jobs and the audit log, children first. Returns rows deleted."""
    tables = [t for t in reversed(models.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    doomed = {t.name for t in tables}
    deleted: dict[str, int] = {}
    with engine.begin() as conn:
        # reference rows must not keep pointing at rows about to go (e.g. an editor's user id)
        for t in models.metadata.sorted_tables:
            if t.name not in KEPT_TABLES:
                continue
            for fk in t.foreign_keys:
                if fk.column.table.name in doomed and fk.parent.nullable:
                    conn.execute(update(t).where(fk.parent.is_not(None)).values({fk.parent.name: None}))
        total = sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables)
        done = 0
        for t in tables:
            deleted[t.name] = conn.execute(delete(t)).rowcount or 0
            done += deleted[t.name]
            if progress is not None:
                progress("reset (delete)", done, total)
    return deleted


def reset_and_generate(
    engine: Engine,
    *,
    scale: str,
    seed: int,
    as_of: dt.date,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Delete the generated data (reference data, jobs and the audit log stay), then generate anew."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    delete_generated(engine, progress)
    return generate(engine, scale=scale, seed=seed, as_of=as_of, progress=progress)
