"""Assignment services on SQLite and PostgreSQL: reassign, auto-assign, rebalance, undo, leave cover, exit,
concurrency, audit, permissions, and the append-only history."""

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from console import jobs
from console.assignment import (
    apply_auto_assign,
    apply_exit,
    apply_leave,
    apply_rebalance,
    check_undo,
    end_due_covers,
    end_leave,
    preview_auto_assign,
    preview_exit,
    preview_leave,
    preview_rebalance,
    reassign,
    reassign_options,
    start_apply,
    undo_batch,
)
from console.assignment.rules import Refused, Stale
from console.permissions import Actor, PermissionDenied
from models import Assignment, AssignmentBatch, AuditLog, Customer, Staff
from tests.unit import factories_assignment as f

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(engine):
    """Three managers in two regions, a supervisor, a few VIPs."""
    with Session(engine) as s:
        sup = f.login(s, "sup", "supervisor")
        a = f.manager(s, "CM001", level="junior", capacity=10, region="广州")
        b = f.manager(s, "CM002", level="senior", capacity=10, region="深圳")
        c = f.manager(s, "CM003", level="enterprise", capacity=20, region="广州")
        v1 = f.vip(s, "V001", 1, mgr=a)
        v2 = f.vip(s, "V002", 2, mgr=a)
        v3 = f.vip(s, "V003", 3, mgr=b)
        s.commit()
        ids = {"a": a.id, "b": b.id, "c": c.id, "v1": v1.id, "v2": v2.id, "v3": v3.id}
    return {"engine": engine, "sup": sup, **ids}


def _cust(engine, cid):
    with Session(engine) as s:
        return s.get(Customer, cid)


def _history(engine, cid=None):
    with Session(engine) as s:
        stmt = select(Assignment).order_by(Assignment.id)
        if cid is not None:
            stmt = stmt.where(Assignment.customer_id == cid)
        return list(s.exec(stmt).all())


def _audit(engine, action):
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)).all())


def _reassign(w, cids, to, reason="customer_request", versions=None, actor=None, note=None):
    with Session(w["engine"]) as s:
        if versions is None:
            versions = {cid: s.get(Customer, cid).assignment_version for cid in cids}
        out = reassign(
            session=s,
            actor=actor or w["sup"],
            customer_ids=cids,
            to_manager_id=to,
            reason=reason,
            versions=versions,
            note=note,
            today=TODAY,
        )
        s.commit()
        return out


# ------------------------------------------------------------------------------------------------ reassign


def test_reassign_moves_writes_history_batch_and_one_audit_row(world):
    applied = _reassign(world, [world["v1"], world["v2"]], world["c"], note="asked for a local manager")
    assert applied.moves == 2
    for cid in (world["v1"], world["v2"]):
        c = _cust(world["engine"], cid)
        assert c.manager_id == world["c"] and c.assignment_version == 1 and c.assigned_at is not None
    rows = _history(world["engine"])
    assert [(r.from_manager_id, r.to_manager_id, r.reason, r.batch_id) for r in rows] == [
        (world["a"], world["c"], "customer_request", applied.batch_id)
    ] * 2
    assert rows[0].by_user_id == world["sup"].user_id and rows[0].note == "asked for a local manager"
    with Session(world["engine"]) as s:
        batch = s.get(AssignmentBatch, applied.batch_id)
        assert (batch.kind, batch.moves) == ("bulk", 2)
    [row] = _audit(world["engine"], "assignment.reassign")
    assert row.actor == "sup" and row.batch == str(applied.batch_id)
    assert json.loads(row.counts)["moves"] == 2


def test_reassign_refuses_an_ineligible_level_and_changes_nothing(world):
    with pytest.raises(Refused, match="CM001 \\(junior\\) may not hold V003 \\(Platinum\\)"):
        _reassign(world, [world["v3"]], world["a"])
    assert _cust(world["engine"], world["v3"]).manager_id == world["b"]
    assert _history(world["engine"]) == [] and _audit(world["engine"], "assignment.reassign") == []


def test_reassign_refuses_over_capacity_with_the_numbers(world):
    with Session(world["engine"]) as s:
        for i in range(4):
            f.vip(s, f"D{i}", 4, mgr=world_staff(s, "CM003"))  # 20 units: CM003 is full
        s.commit()
    with pytest.raises(Refused, match="CM003 would be at 21 of 20 units"):
        _reassign(world, [world["v1"]], world["c"])


def world_staff(s, code):
    return s.exec(select(Staff).where(Staff.code == code)).one()


def test_reassign_requires_a_known_reason(world):
    with pytest.raises(Refused, match="Choose a reason"):
        _reassign(world, [world["v1"]], world["c"], reason="")
    with pytest.raises(Refused, match="Unknown reason code: whim"):
        _reassign(world, [world["v1"]], world["c"], reason="whim")
    with pytest.raises(Refused, match="already with this manager"):
        _reassign(world, [world["v1"]], world["a"])


def test_reassign_refuses_a_manager_on_leave(world):
    with Session(world["engine"]) as s:
        c = s.get(Staff, world["c"])
        c.leave_start, c.leave_end = TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=3)
        s.add(c)
        s.commit()
    with pytest.raises(Refused, match="On leave until"):
        _reassign(world, [world["v1"]], world["c"])


def test_stale_reassign_is_refused_naming_who_and_when(world):
    with Session(world["engine"]) as s:
        seen = {world["v1"]: s.get(Customer, world["v1"]).assignment_version}
        other = f.login(s, "sup2", "supervisor")
        s.commit()
    _reassign(world, [world["v1"]], world["c"], actor=other)
    with pytest.raises(Stale, match=r"V001 was changed by sup2 at \d{4}-\d\d-\d\d \d\d:\d\d after you loaded it"):
        _reassign(world, [world["v1"]], world["b"], versions=seen)
    c = _cust(world["engine"], world["v1"])
    assert c.manager_id == world["c"] and len(_history(world["engine"], world["v1"])) == 1  # nothing lost


def _concurrent_reassigns(w, targets):
    """Two sessions reassign the same VIP from the same loaded version at the same moment."""
    with Session(w["engine"]) as s:
        version = s.get(Customer, w["v1"]).assignment_version
    barrier = threading.Barrier(len(targets))
    outcomes = []

    def worker(target):
        try:
            with Session(w["engine"]) as s:
                barrier.wait()
                reassign(
                    session=s,
                    actor=w["sup"],
                    customer_ids=[w["v1"]],
                    to_manager_id=target,
                    reason="performance",
                    versions={w["v1"]: version},
                    today=TODAY,
                )
                s.commit()
            outcomes.append(("won", target))
        except Stale as exc:
            outcomes.append(("stale", str(exc)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in targets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return outcomes


def test_two_concurrent_reassigns_of_one_vip_exactly_one_wins(world):
    outcomes = _concurrent_reassigns(world, [world["b"], world["c"]])
    assert sorted(o[0] for o in outcomes) == ["stale", "won"]
    winner = next(o[1] for o in outcomes if o[0] == "won")
    loser = next(o[1] for o in outcomes if o[0] == "stale")
    assert "changed by sup" in loser
    c = _cust(world["engine"], world["v1"])
    assert c.manager_id == winner and c.assignment_version == 1
    assert [r.to_manager_id for r in _history(world["engine"], world["v1"])] == [winner]


def test_reassign_options_offer_only_eligible_managers_with_utilisation_after(world):
    with Session(world["engine"]) as s:
        opts = reassign_options(session=s, actor=world["sup"], customer_ids=[world["v3"]], today=TODAY)
    assert [c.code for c in opts.eligible] == ["CM003"]  # junior may not; CM002 already holds it
    cand = opts.eligible[0]
    assert (cand.util_before, cand.util_after) == (0.0, pytest.approx(3 / 20))
    refused = dict(opts.refused)
    assert "Gold" in refused["CM001"] and "Platinum" in refused["CM001"]
    assert "Already holds" in refused["CM002"]


@pytest.mark.parametrize("role", ["team_lead", "agent", "reception", "trainee", "client_manager"])
def test_only_supervisors_may_reassign(world, role):
    actor = Actor(user_id=None, username="x", role=role)
    with pytest.raises(PermissionDenied):
        _reassign(world, [world["v1"]], world["c"], actor=actor)
    with Session(world["engine"]) as s, pytest.raises(PermissionDenied):
        preview_auto_assign(session=s, actor=actor, today=TODAY)
    with Session(world["engine"]) as s, pytest.raises(PermissionDenied):
        undo_batch(session=s, actor=actor, batch_id=1, today=TODAY)


# ------------------------------------------------------------------------------------------------ auto-assign


@pytest.fixture
def queue(world):
    """Unassigned VIPs waiting, in both regions."""
    t0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
    with Session(world["engine"]) as s:
        f.vip(s, "N1", 1, region="深圳", waiting_since=t0)
        f.vip(s, "N2", 4, region="广州", waiting_since=t0 + dt.timedelta(hours=5))
        f.vip(s, "N3", 4, region="广州", waiting_since=t0)
        f.vip(s, "N4", 5, region="深圳", waiting_since=t0)
        f.vip(s, "N5", 2, region="广州", waiting_since=t0)
        f.vip(s, "N6", 4, region="深圳", waiting_since=t0)
        f.vip(s, "N7", 4, region="深圳", waiting_since=t0 + dt.timedelta(hours=9))  # no room for a 4th Diamond
        s.commit()
    return world


def test_auto_assign_preview_equals_apply(queue):
    w = queue
    with Session(w["engine"]) as s:
        plan = preview_auto_assign(session=s, actor=w["sup"], today=TODAY)
    got = [(m.code, m.to_id) for m in plan.moves]
    # Supreme first (only the enterprise CM003), then Diamonds by waiting time, then Gold, then Silver.
    assert got == [
        ("N4", w["c"]),  # Supreme: enterprise only, 10/20
        ("N3", w["c"]),  # Diamond, waiting since t0, code before N6; same region 广州: CM003 15/20
        ("N6", w["b"]),  # Diamond 深圳: CM002 (senior) 3+5 = 8/10
        ("N2", w["c"]),  # Diamond 广州, waited less: CM003 20/20 (at the cap is allowed)
        ("N5", w["a"]),  # Gold 广州: CM001 (junior) 5/10; CM003 is full
        ("N1", w["b"]),  # Silver 深圳: CM002 9/10
    ]
    assert [(u.code, u.reason) for u in plan.unplaced] == [("N7", "capacity")]
    rows = {r["code"]: r for r in plan.per_manager()}
    assert (rows["CM003"]["load_before"], rows["CM003"]["load_after"]) == (0, 20)
    with Session(w["engine"]) as s:
        applied = apply_auto_assign(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    with Session(w["engine"]) as s:
        actual = {c.code: c.manager_id for c in s.exec(select(Customer).where(Customer.code.like("N%"))).all()}
        batch = s.get(AssignmentBatch, applied.batch_id)
    assert actual == {**dict(got), "N7": None}
    assert batch.kind == "auto_assign" and batch.moves == 6
    assert {r.reason for r in _history(w["engine"])} == {"new_vip"}
    assert json.loads(_audit(w["engine"], "assignment.auto_assign")[0].counts) == {
        "moves": 6,
        "assigned": 6,
        "unassigned": 0,
        "targets": 3,
        "left_unassigned": 1,
    }


def test_apply_refused_if_a_vip_changed_since_the_preview(queue):
    w = queue
    with Session(w["engine"]) as s:
        plan = preview_auto_assign(session=s, actor=w["sup"], today=TODAY)
        n5 = s.exec(select(Customer).where(Customer.code == "N5")).one().id
    _reassign(w, [n5], w["c"], reason="new_vip", versions={n5: 0})
    with (
        Session(w["engine"]) as s,
        pytest.raises(Stale, match="1 VIPs changed since the preview.*N5 \\(changed by sup"),
    ):
        apply_auto_assign(session=s, actor=w["sup"], plan=plan, today=TODAY)
    assert len(_history(w["engine"])) == 1  # only the manual move; the batch wrote nothing


def test_apply_refused_if_a_target_filled_up_since_the_preview(queue):
    w = queue
    with Session(w["engine"]) as s:
        plan = preview_auto_assign(session=s, actor=w["sup"], today=TODAY)
        for i in range(3):
            f.vip(s, f"X{i}", 4, mgr=s.get(Staff, w["c"]))  # CM003 takes 15 units outside the preview
        s.commit()
    with Session(w["engine"]) as s, pytest.raises(Refused, match="CM003 would be at 35 of 20 units"):
        apply_auto_assign(session=s, actor=w["sup"], plan=plan, today=TODAY)


def test_auto_assign_runs_as_a_job(queue):
    w = queue
    with Session(w["engine"]) as s:
        plan = preview_auto_assign(session=s, actor=w["sup"], today=TODAY)
        job_id = start_apply(s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    assert jobs.work_once(w["engine"]) == job_id
    with Session(w["engine"]) as s:
        job = s.get(jobs.Job, job_id)
        assert job.status == "done", job.error
        assert json.loads(job.result)["moves"] == 6
        assert s.exec(select(func.count()).select_from(Assignment)).one() == 6
    with Session(w["engine"]) as s, pytest.raises(PermissionDenied):
        start_apply(s, actor=Actor(user_id=None, username="l", role="team_lead"), plan=plan, today=TODAY)


def test_a_stale_job_fails_with_the_reason(queue):
    w = queue
    with Session(w["engine"]) as s:
        plan = preview_auto_assign(session=s, actor=w["sup"], today=TODAY)
        job_id = start_apply(s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
        n1 = s.exec(select(Customer).where(Customer.code == "N1")).one().id
    _reassign(w, [n1], w["c"], reason="new_vip", versions={n1: 0})
    jobs.work_once(w["engine"])
    with Session(w["engine"]) as s:
        job = s.get(jobs.Job, job_id)
    assert job.status == "failed" and "changed since the preview" in job.error


# ------------------------------------------------------------------------------------------------ rebalance and undo


@pytest.fixture
def crowded(world):
    """CM001 (junior, cap 10) holds 14 units; recent Silvers go first."""
    t0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    with Session(world["engine"]) as s:
        a = s.get(Staff, world["a"])
        for i in range(4):
            f.vip(s, f"G{i}", 2, mgr=a, assigned_at=t0 + dt.timedelta(days=i))
        f.vip(s, "S9", 1, mgr=a, assigned_at=t0 + dt.timedelta(days=30))
        s.commit()
    return world


def test_rebalance_preview_apply_and_spread(crowded):
    w = crowded
    with Session(w["engine"]) as s:
        plan = preview_rebalance(session=s, actor=w["sup"], today=TODAY)
    # CM001: 1 + 2 + 4*2 + 1 = 12 > 10. Off first: S9 (newest Silver), then V001 (Silver), 10 = cap.
    assert [m.code for m in plan.moves] == ["S9", "V001"]
    assert [m.to_id for m in plan.moves] == [w["c"], w["c"]]  # same region 广州
    rows = {r["code"]: r for r in plan.per_manager()}
    assert (rows["CM001"]["load_before"], rows["CM001"]["load_after"]) == (12, 10)
    assert plan.spread_before() == pytest.approx(1.2) and plan.spread_after() == pytest.approx(1.0 - 2 / 20)
    with Session(w["engine"]) as s:
        applied = apply_rebalance(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    assert applied.moves == 2
    assert {r.reason for r in _history(w["engine"])} == {"rebalance"}


def test_rebalance_even_out(crowded):
    w = crowded
    with Session(w["engine"]) as s:
        plan = preview_rebalance(session=s, actor=w["sup"], today=TODAY, even_out=True, max_moves=50)
    after = plan.loads_after()
    assert plan.spread_after() < plan.spread_before()
    assert all(after[m] <= plan.managers[m].capacity for m in (w["a"], w["b"], w["c"]))


def _rebalanced(w):
    with Session(w["engine"]) as s:
        plan = preview_rebalance(session=s, actor=w["sup"], today=TODAY)
        applied = apply_rebalance(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    return applied.batch_id


def test_undo_returns_every_vip_and_marks_the_batch(world):
    w = world
    batch_id = _reassign(w, [w["v1"], w["v2"]], w["c"]).batch_id
    with Session(w["engine"]) as s:
        check = check_undo(session=s, actor=w["sup"], batch_id=batch_id, today=TODAY)
        assert check.ok, check.message
        applied = undo_batch(session=s, actor=w["sup"], batch_id=batch_id, today=TODAY)
        s.commit()
    with Session(w["engine"]) as s:
        assert s.get(AssignmentBatch, batch_id).undone_by_batch_id == applied.batch_id
        assert s.get(AssignmentBatch, applied.batch_id).kind == "undo"
    assert _cust(w["engine"], w["v1"]).manager_id == w["a"] and _cust(w["engine"], w["v2"]).manager_id == w["a"]
    rows = _history(w["engine"])
    assert [r.reason for r in rows] == ["customer_request", "customer_request", "undo", "undo"]  # appended
    assert [(r.from_manager_id, r.to_manager_id) for r in rows[2:]] == [(w["c"], w["a"])] * 2
    with Session(w["engine"]) as s, pytest.raises(Refused, match="already undone"):
        undo_batch(session=s, actor=w["sup"], batch_id=batch_id, today=TODAY)
    with Session(w["engine"]) as s, pytest.raises(Refused, match="cannot be undone"):
        undo_batch(session=s, actor=w["sup"], batch_id=applied.batch_id, today=TODAY)


def test_undo_of_an_auto_assign_puts_the_vips_back_in_the_queue(queue):
    w = queue
    with Session(w["engine"]) as s:
        plan = preview_auto_assign(session=s, actor=w["sup"], today=TODAY)
        applied = apply_auto_assign(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
        waited = s.exec(select(Customer).where(Customer.code == "N1")).one().waiting_since
    with Session(w["engine"]) as s:
        undo_batch(session=s, actor=w["sup"], batch_id=applied.batch_id, today=TODAY)
        s.commit()
        n1 = s.exec(select(Customer).where(Customer.code == "N1")).one()
    assert n1.manager_id is None and n1.waiting_since == waited  # the original wait is kept


def test_undo_refused_listing_the_vips_that_moved_since(crowded):
    w = crowded
    batch_id = _rebalanced(w)
    s9 = _vip_id(w, "S9")
    _reassign(w, [s9], w["b"], reason="customer_request")
    with Session(w["engine"]) as s, pytest.raises(Refused, match="these VIPs moved since: S9"):
        undo_batch(session=s, actor=w["sup"], batch_id=batch_id, today=TODAY)
    assert _cust(w["engine"], s9).manager_id == w["b"]


def test_undo_refused_listing_the_managers_without_room(crowded):
    w = crowded
    batch_id = _rebalanced(w)  # CM001 is at its cap again (10/10): taking the two Silvers back would overload it
    with Session(w["engine"]) as s:
        check = check_undo(session=s, actor=w["sup"], batch_id=batch_id, today=TODAY)
    assert not check.ok and check.no_room == ["CM001 (0 units free, needs 2)"]
    with Session(w["engine"]) as s, pytest.raises(Refused, match="no room.*CM001 \\(0 units free, needs 2\\)"):
        undo_batch(session=s, actor=w["sup"], batch_id=batch_id, today=TODAY)
    assert len(_history(w["engine"])) == 2


def _vip_id(w, code):
    with Session(w["engine"]) as s:
        return s.exec(select(Customer).where(Customer.code == code)).one().id


# ------------------------------------------------------------------------------------------------ leave and exit


def test_leave_cover_and_its_automatic_end(world):
    w = world
    start, end = TODAY, TODAY + dt.timedelta(days=6)
    with Session(w["engine"]) as s:
        with pytest.raises(Refused, match="ends before it starts"):
            preview_leave(session=s, actor=w["sup"], manager_id=w["a"], start=end, end=start, today=TODAY)
        plan = preview_leave(session=s, actor=w["sup"], manager_id=w["a"], start=start, end=end, today=TODAY)
        assert {m.code: m.to_id for m in plan.moves} == {"V001": w["c"], "V002": w["c"]}
        assert {m.reason for m in plan.moves} == {"cover"}
        apply_leave(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    with Session(w["engine"]) as s:
        a = s.get(Staff, w["a"])
        assert (a.leave_start, a.leave_end) == (start, end)
    assert _cust(w["engine"], w["v1"]).manager_id == w["c"]
    # During the leave nothing reverts.
    with Session(w["engine"]) as s:
        assert end_due_covers(s, end) is None
    # The day after the leave (e.g. the first page load then), the covers revert as the system.
    with Session(w["engine"]) as s:
        applied = end_due_covers(s, end + dt.timedelta(days=1))
        s.commit()
    assert applied is not None and applied.moves == 2
    assert _cust(w["engine"], w["v1"]).manager_id == w["a"]
    assert [r.reason for r in _history(w["engine"], w["v1"])] == ["cover", "cover_end"]
    [row] = _audit(w["engine"], "assignment.end_covers")
    assert row.actor == "system"
    with Session(w["engine"]) as s:  # idempotent: nothing more to end, and no audit noise
        assert end_due_covers(s, end + dt.timedelta(days=2)) is None
    assert len(_audit(w["engine"], "assignment.end_covers")) == 1


def test_a_cover_moved_meanwhile_stays_where_it_is(world):
    w = world
    with Session(w["engine"]) as s:
        plan = preview_leave(
            session=s, actor=w["sup"], manager_id=w["a"], start=TODAY, end=TODAY + dt.timedelta(days=2), today=TODAY
        )
        apply_leave(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    _reassign(w, [w["v1"]], w["b"], reason="customer_request")
    with Session(w["engine"]) as s:
        applied = end_due_covers(s, TODAY + dt.timedelta(days=3))
        s.commit()
    assert applied.moves == 1
    assert _cust(w["engine"], w["v1"]).manager_id == w["b"]
    assert _cust(w["engine"], w["v2"]).manager_id == w["a"]


def test_end_leave_early_returns_the_vips(world):
    w = world
    with Session(w["engine"]) as s:
        plan = preview_leave(
            session=s, actor=w["sup"], manager_id=w["a"], start=TODAY, end=TODAY + dt.timedelta(days=9), today=TODAY
        )
        apply_leave(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    with Session(w["engine"]) as s:
        applied = end_leave(session=s, actor=w["sup"], manager_id=w["a"], today=TODAY + dt.timedelta(days=2))
        s.commit()
        a = s.get(Staff, w["a"])
        assert a.leave_end == TODAY + dt.timedelta(days=1)
    assert applied.moves == 2 and _cust(w["engine"], w["v2"]).manager_id == w["a"]


def test_leave_cover_skips_managers_on_leave_in_that_period(world):
    w = world
    with Session(w["engine"]) as s:
        c = s.get(Staff, w["c"])
        c.leave_start, c.leave_end = TODAY + dt.timedelta(days=3), TODAY + dt.timedelta(days=4)
        s.add(c)
        s.commit()
        plan = preview_leave(
            session=s, actor=w["sup"], manager_id=w["a"], start=TODAY, end=TODAY + dt.timedelta(days=5), today=TODAY
        )
    assert {m.to_id for m in plan.moves} == {w["b"]}


def test_exit_moves_the_portfolio_for_good(world):
    w = world
    with Session(w["engine"]) as s:
        plan = preview_exit(session=s, actor=w["sup"], manager_id=w["b"], exit_date=TODAY, today=TODAY)
        assert [(m.code, m.to_id, m.reason) for m in plan.moves] == [("V003", w["c"], "manager_exit")]
        apply_exit(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    with Session(w["engine"]) as s:
        b = s.get(Staff, w["b"])
        assert b.exit_date == TODAY and not b.active
    assert _cust(w["engine"], w["v3"]).manager_id == w["c"]


def test_exit_leaves_vips_that_fit_nowhere_unassigned_and_waiting(world):
    w = world
    with Session(w["engine"]) as s:
        f.vip(s, "SUP1", 5, mgr=s.get(Staff, w["c"]))
        f.vip(s, "SUP2", 5, mgr=s.get(Staff, w["c"]))
        s.commit()
        plan = preview_exit(
            session=s, actor=w["sup"], manager_id=w["c"], exit_date=TODAY + dt.timedelta(days=5), today=TODAY
        )
        assert {(m.code, m.to_id) for m in plan.moves} == {("SUP1", None), ("SUP2", None)}
        apply_exit(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
    with Session(w["engine"]) as s:
        c = s.get(Staff, w["c"])
        assert c.active and c.exit_date == TODAY + dt.timedelta(days=5)  # exiting, not gone yet
        sup1 = s.exec(select(Customer).where(Customer.code == "SUP1")).one()
        assert sup1.manager_id is None and sup1.waiting_since is not None and sup1.assigned_at is None


# ------------------------------------------------------------------------------------------------ invariants


def test_history_replays_to_the_current_managers(crowded):
    """Every change is a history row: replaying the rows gives each VIP's current manager."""
    w = crowded
    _rebalanced(w)
    batch = _reassign(w, [w["v3"]], w["c"], reason="performance").batch_id
    with Session(w["engine"]) as s:
        undo_batch(session=s, actor=w["sup"], batch_id=batch, today=TODAY)
        s.commit()
    _reassign(w, [w["v2"]], w["c"], reason="performance")
    with Session(w["engine"]) as s:
        for c in s.exec(select(Customer)).all():
            rows = s.exec(select(Assignment).where(Assignment.customer_id == c.id).order_by(Assignment.id)).all()
            if rows:
                assert rows[-1].to_manager_id == c.manager_id
                assert all(r.from_manager_id == p.to_manager_id for p, r in zip(rows, rows[1:], strict=False))
                assert c.assignment_version == len(rows)


def test_the_daily_job_ends_covers_whose_leave_is_over(world):
    w = world
    with Session(w["engine"]) as s:
        plan = preview_leave(
            session=s, actor=w["sup"], manager_id=w["a"], start=TODAY, end=TODAY + dt.timedelta(days=1), today=TODAY
        )
        apply_leave(session=s, actor=w["sup"], plan=plan, today=TODAY)
        job = jobs.enqueue(
            s,
            actor=w["sup"],
            kind="assignment_end_covers",
            params={"today": (TODAY + dt.timedelta(days=2)).isoformat()},
        )
        s.commit()
        job_id = job.id
    assert jobs.work_once(w["engine"]) == job_id
    with Session(w["engine"]) as s:
        assert s.get(jobs.Job, job_id).status == "done"
    assert _cust(w["engine"], w["v1"]).manager_id == w["a"]


def test_customers_falling_to_member_are_unassigned_with_a_history_row(world):
    from console.assignment.services import unassign_for_tier_change

    w = world
    with Session(w["engine"]) as s:
        v1 = s.get(Customer, w["v1"])
        v1.tier_rank = 0  # the evaluation lowered the tier
        s.add(v1)
        s.flush()
        applied = unassign_for_tier_change(s, w["sup"], [w["v1"], w["v2"]], today=TODAY)
        s.commit()
    assert applied.moves == 1  # V002 is still a VIP: untouched
    c = _cust(w["engine"], w["v1"])
    assert c.manager_id is None and c.waiting_since is not None
    [row] = _history(w["engine"], w["v1"])
    assert (row.from_manager_id, row.to_manager_id, row.reason) == (w["a"], None, "tier_change")


def test_no_code_path_updates_or_deletes_a_history_row():
    """The history is append-only: nothing in the application writes to an Assignment row after inserting it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "console").rglob("*.py"), *(root / "pages").glob("*.py"), root / "app.py"]
    pattern = re.compile(
        r"(update|delete)\(\s*Assignment\b(?!Batch)|(UPDATE|DELETE\s+FROM)\s+\"?assignment\"?\s", re.IGNORECASE
    )
    offenders = [str(p.relative_to(root)) for p in sources if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_a_manager_without_vips_can_still_go_on_leave(world):
    w = world
    with Session(w["engine"]) as s:
        plan = preview_leave(
            session=s, actor=w["sup"], manager_id=w["c"], start=TODAY, end=TODAY + dt.timedelta(days=3), today=TODAY
        )
        assert plan.moves == []
        applied = apply_leave(session=s, actor=w["sup"], plan=plan, today=TODAY)
        s.commit()
        assert applied.batch_id is None and s.get(Staff, w["c"]).leave_end == TODAY + dt.timedelta(days=3)
        with pytest.raises(Refused, match="already has a leave recorded"):
            preview_leave(
                session=s, actor=w["sup"], manager_id=w["c"], start=TODAY, end=TODAY + dt.timedelta(days=3), today=TODAY
            )
