"""Property tests of the tier engine on random purchase histories and evaluation schedules (SQLite)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from console.db import make_engine
from console.permissions import Actor
from console.tiers.common import add_months
from console.tiers.distribution import compute_history, reconstructed_counts
from console.tiers.engine import evaluate, set_override
from console.timeutil import local_midnight_utc, local_to_utc
from models import Customer, TierChange
from tests.unit import factories_tiers as f

START = dt.date(2025, 1, 1)
SUP = Actor(user_id=None, username="sup", role="supervisor")

customers_st = st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=5)
purchase_st = st.tuples(st.integers(0, 4), st.integers(0, 640), st.integers(100, 30_000))
step_st = st.tuples(
    st.integers(1, 120),  # days after the previous step
    st.booleans(),  # with the review
    st.one_of(st.none(), st.tuples(st.integers(0, 4), st.integers(0, 4), st.one_of(st.none(), st.integers(1, 150)))),
)


def _fresh_engine(template: Path):
    folder = Path(tempfile.mkdtemp(prefix="tiers-prop-"))
    shutil.copyfile(template, folder / "db.sqlite")
    return make_engine(f"sqlite:///{folder / 'db.sqlite'}"), folder


def _events_since(session: Session, last_id: int) -> list[TierChange]:
    return list(session.exec(select(TierChange).where(TierChange.id > last_id)))


def _max_id(session: Session) -> int:
    return session.exec(select(func.coalesce(func.max(TierChange.id), 0))).one()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tiers=customers_st, purchases=st.lists(purchase_st, max_size=25), steps=st.lists(step_st, min_size=1, max_size=6)
)
def test_engine_invariants(sqlite_template, tiers, purchases, steps):
    engine, folder = _fresh_engine(sqlite_template)
    try:
        created = local_to_utc(START, dt.time(9, 0))
        with Session(engine) as s:
            ids = [f.customer(s, f"C{i}", tier=rank, created=created).id for i, rank in enumerate(tiers)]
            for who, offset, yuan in purchases:
                f.buy(s, ids[who % len(ids)], START + dt.timedelta(days=offset), yuan)
            s.commit()
        day = START
        for gap, review, override in steps:
            day = day + dt.timedelta(days=gap)
            if override is not None:
                who, rank, until = override
                with Session(engine) as s:
                    cid = ids[who % len(ids)]
                    set_override(
                        session=s,
                        actor=SUP,
                        customer_id=cid,
                        rank=rank,
                        reason="property test",
                        until=None if until is None else day + dt.timedelta(days=until),
                        today=day,
                        now=local_to_utc(day, dt.time(9, 0)),
                    )
                    s.commit()
            with Session(engine) as s:
                before_id = _max_id(s)
            evaluate(engine, as_of=day, review=review, today=day, now=local_to_utc(day, dt.time(10, 0)))
            with Session(engine) as s:
                for ev in _events_since(s, before_id):
                    if ev.kind == "initial":
                        continue
                    if ev.to_rank < ev.from_rank:
                        # Evaluation never lowers a tier outside a review; a review lowers one step at a time;
                        # only a lapsed override drops straight to the qualified tier.
                        assert ev.kind in ("downgrade", "override_expired"), ev
                        if ev.kind == "downgrade":
                            assert review and ev.to_rank == ev.from_rank - 1
                    assert ev.kind in ("upgrade", "downgrade", "override_expired")
                again_from = _max_id(s)
            # Idempotence: the same evaluation again changes nothing.
            evaluate(engine, as_of=day, review=review, today=day, now=local_to_utc(day, dt.time(10, 30)))
            with Session(engine) as s:
                assert _max_id(s) == again_from
        with Session(engine) as s:
            # The cached tier on Customer is the last event's tier.
            for cid in ids:
                last = s.exec(
                    select(TierChange.to_rank)
                    .where(TierChange.customer_id == cid)
                    .order_by(TierChange.at.desc(), TierChange.id.desc())  # type: ignore[union-attr,attr-defined]
                ).first()
                assert s.get(Customer, cid).tier_rank == last
            # The reconstructed mix at every month end sums to the customers existing then and matches a direct
            # per-customer look-up.
            history = compute_history(s, through=day)
            month = dt.date(2024, 12, 1)
            while month <= day:
                key = f"{month:%Y-%m}"
                cutoff = local_midnight_utc(add_months(month, 1))
                direct = reconstructed_counts(s, cutoff)
                existing = len(ids) if cutoff > created else 0
                assert sum(direct) == existing
                assert history.mix.get(key, [0] * 6) == direct, key
                month = add_months(month, 1)
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
