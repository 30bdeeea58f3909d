"""Demo mode: the demo reset job (re-seeds the demo anchored to today)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from console import audit
from console.audit import command
from console.jobs import JobContext, enqueue, handler
from console.meta import demo_marker, demo_mode
from console.permissions import Actor
from console.timeutil import today_local


class DemoError(ValueError):
    pass


@command("demo.reset")
def start_demo_reset(*, session: Session, actor: Actor, as_of: dt.date | None = None) -> int:
    """Queue the demo reset; refused unless this database is in demo mode."""
    if not demo_mode(session):
        raise DemoError("Demo mode is off for this database: the reset exists only for demo databases.")
    marker = demo_marker(session) or {}
    params = {
        "scale": marker.get("scale", "demo"),
        "seed": int(marker.get("seed", 1)),
        "as_of": (as_of or today_local()).isoformat(),
    }
    job = enqueue(session, actor=actor, kind="demo_reset", params=params)
    audit.note(entity="job", entity_id=job.id, after=params)
    return int(job.id)  # type: ignore[arg-type]


@handler("demo_reset", action="demo.reset")
def _run_demo_reset(ctx: JobContext) -> dict[str, Any]:
    from seed.demo import reset_and_generate

    params = ctx.params
    total_steps = 100

    def progress(phase: str, done: int, total: int) -> None:
        pct = int(done * total_steps / total) if total else 0
        ctx.progress(pct, total_steps, f"{phase}: {done:,}/{total:,}")

    counts = reset_and_generate(
        ctx.engine,
        scale=params["scale"],
        seed=int(params["seed"]),
        as_of=dt.date.fromisoformat(params["as_of"]),
        progress=progress,
    )
    return {"message": f"demo data re-seeded as of {params['as_of']}", "counts": counts}
