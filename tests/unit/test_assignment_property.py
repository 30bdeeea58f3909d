"""Property: after any sequence of assignment actions, no action has left its target over capacity, every VIP
has at most one manager, and the append-only history replays to the current state."""

import datetime as dt
import shutil
import uuid

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from console.assignment import (
    apply_auto_assign,
    apply_exit,
    apply_leave,
    apply_rebalance,
    end_due_covers,
    preview_auto_assign,
    preview_exit,
    preview_leave,
    preview_rebalance,
    reassign,
    undo_batch,
)
from console.assignment.rules import Ladder, Refused
from console.db import make_engine
from models import Assignment, AssignmentBatch, Customer, Staff
from tests.unit import factories_assignment as f

TODAY = dt.date(2026, 11, 25)
LADDER = Ladder.default()

action = st.one_of(
    st.tuples(st.just("reassign"), st.integers(0, 29), st.integers(0, 4)),
    st.tuples(st.just("auto"), st.just(0), st.just(0)),
    st.tuples(st.just("rebalance"), st.booleans(), st.just(0)),
    st.tuples(st.just("undo"), st.integers(0, 10), st.just(0)),
    st.tuples(st.just("leave"), st.integers(0, 4), st.integers(0, 5)),
    st.tuples(st.just("end_covers"), st.integers(0, 10), st.just(0)),
    st.tuples(st.just("exit"), st.integers(0, 4), st.just(0)),
)


def _world(s, sizes, holdings):
    sup = f.login(s, "sup", "supervisor")
    levels = ["junior", "senior", "enterprise", "senior", "junior"]
    regions = ["广州", "深圳", "广州", "佛山", "深圳"]
    managers = [f.manager(s, f"CM{i:03d}", level=levels[i], capacity=sizes[i], region=regions[i]) for i in range(5)]
    vips = []
    for i, (rank, owner) in enumerate(holdings):
        mgr = None if owner >= 5 else managers[owner]
        # Seed holders that may already break the rules (as upgrades do): the actions must still never do so.
        vips.append(
            f.vip(
                s,
                f"V{i:03d}",
                rank,
                mgr=mgr,
                region=regions[i % 5],
                waiting_since=None if mgr else dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            )
        )
    s.commit()
    return sup, [m.id for m in managers], [v.id for v in vips]


def _loads(s):
    units = {r: LADDER.units(r) for r in range(6)}
    out = {}
    for mid, rank, n in s.exec(
        select(Customer.manager_id, Customer.tier_rank, func.count())
        .where(Customer.manager_id.is_not(None))
        .group_by(Customer.manager_id, Customer.tier_rank)
    ).all():
        out[mid] = out.get(mid, 0) + units[rank] * n
    return out


def _run(s, sup, managers, vips, step, day):
    kind, x, y = step
    if kind == "reassign":
        c = s.get(Customer, vips[x % len(vips)])
        return reassign(
            session=s,
            actor=sup,
            customer_ids=[c.id],
            to_manager_id=managers[y],
            reason="performance",
            versions={c.id: c.assignment_version},
            today=day,
        )
    if kind == "auto":
        plan = preview_auto_assign(session=s, actor=sup, today=day)
        return apply_auto_assign(session=s, actor=sup, plan=plan, today=day)
    if kind == "rebalance":
        plan = preview_rebalance(session=s, actor=sup, today=day, even_out=x, max_moves=20)
        return apply_rebalance(session=s, actor=sup, plan=plan, today=day)
    if kind == "undo":
        ids = s.exec(select(AssignmentBatch.id).order_by(AssignmentBatch.id)).all()
        if not ids:
            return None
        return undo_batch(session=s, actor=sup, batch_id=ids[x % len(ids)], today=day)
    if kind == "leave":
        plan = preview_leave(
            session=s, actor=sup, manager_id=managers[x], start=day, end=day + dt.timedelta(days=y), today=day
        )
        return apply_leave(session=s, actor=sup, plan=plan, today=day)
    if kind == "end_covers":
        return end_due_covers(s, day + dt.timedelta(days=x))
    plan = preview_exit(session=s, actor=sup, manager_id=managers[x], exit_date=day, today=day)
    return apply_exit(session=s, actor=sup, plan=plan, today=day)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(0, 25), min_size=5, max_size=5),
    holdings=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 6)), min_size=1, max_size=30),
    steps=st.lists(action, min_size=1, max_size=8),
)
def test_any_sequence_of_actions_keeps_the_invariants(sqlite_template, tmp_path_factory, sizes, holdings, steps):
    path = tmp_path_factory.getbasetemp() / f"prop-{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as s:
            sup, managers, vips = _world(s, sizes, holdings)
        day = TODAY
        for step in steps:
            with Session(engine) as s:
                before = _loads(s)
                try:
                    applied = _run(s, sup, managers, vips, step, day)
                    s.commit()
                except Refused:
                    s.rollback()
                    applied = None
            event(f"{step[0]}: {'refused' if applied is None else 'applied'}")
            with Session(engine) as s:
                after = _loads(s)
                if applied is not None and applied.batch_id is not None:
                    targets = set(
                        s.exec(
                            select(Assignment.to_manager_id).where(
                                Assignment.batch_id == applied.batch_id, Assignment.to_manager_id.is_not(None)
                            )
                        ).all()
                    )
                    caps = {m.id: m.capacity_units for m in s.exec(select(Staff)).all()}
                    for mid in targets:
                        assert after.get(mid, 0) <= caps[mid], (step, mid, after.get(mid), caps[mid])
                elif applied is None:
                    assert after == before  # a refused action changed nothing
            day += dt.timedelta(days=1)
        with Session(engine) as s:
            for c in s.exec(select(Customer)).all():
                rows = s.exec(select(Assignment).where(Assignment.customer_id == c.id).order_by(Assignment.id)).all()
                # One current manager, and the history replays to it step by step.
                expected = rows[-1].to_manager_id if rows else c.manager_id
                assert c.manager_id == expected
                assert all(r.from_manager_id == p.to_manager_id for p, r in zip(rows, rows[1:], strict=False))
                assert c.assignment_version == len(rows)
    finally:
        engine.dispose()
        path.unlink(missing_ok=True)
