"""The tier engine, rule by rule (SPEC §2), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, func, select

from console.jobs import JobCancelled, work_once
from console.meta import get_meta
from console.permissions import Actor, PermissionDenied
from console.tiers.common import TierError, fmt_yuan, next_review_date, period_of, window_dates
from console.tiers.engine import (
    LAST_EVALUATION_KEY,
    clear_override,
    designate_supreme,
    evaluate,
    last_evaluation,
    remove_supreme,
    set_override,
    start_evaluation,
)
from console.timeutil import local_to_utc
from models import Assignment, AuditLog, Customer, Job, TierChange, TierLevel, TierReview
from tests.unit import factories_tiers as f

AS_OF = dt.date(2026, 11, 25)
NOW = local_to_utc(AS_OF, dt.time(10, 0))


def run(engine, as_of=AS_OF, *, review=False, chunk=10_000, now=None):
    now = now or local_to_utc(as_of, dt.time(10, 0))
    return evaluate(engine, as_of=as_of, review=review, today=as_of, now=now, chunk=chunk)


def new_events(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(TierChange)).one()


# ------------------------------------------------------------------------------------------- qualification


@pytest.mark.parametrize(
    ("spend_fen", "count", "expected"),
    [
        (500_000, 1, 1),  # exactly the Silver spend
        (499_999, 4, 0),  # a fen short, one purchase short
        (5, 5, 1),  # exactly 5 purchases qualify on count alone (OR)
        (1_000_000, 1, 2),  # exactly Gold
        (1_999_999, 19, 2),
        (2_000_000, 1, 3),
        (5_000_000, 1, 4),  # Diamond; Supreme is never reached by spend
        (100_000_000, 200, 4),
    ],
)
def test_values_exactly_at_thresholds(engine, spend_fen, count, expected):
    with Session(engine) as s:
        c = f.customer(s, "C1")
        day = AS_OF - dt.timedelta(days=10)
        f.buy(s, c.id, day, (spend_fen - (count - 1)) / 100)
        if count > 1:
            f.buy(s, c.id, day, 0.01, n=count - 1)
        s.commit()
        cid = c.id
    run(engine)
    with Session(engine) as s:
        assert f.tier(s, cid) == expected


def test_require_both_needs_spend_and_count(engine):
    with Session(engine) as s:
        gold = s.exec(select(TierLevel).where(TierLevel.rank == 2)).one()
        gold.require_both = True
        s.add(gold)
        spender = f.customer(s, "SPEND")  # Gold spend but only 2 purchases
        f.buy(s, spender.id, AS_OF - dt.timedelta(days=5), 6000, n=2)
        both = f.customer(s, "BOTH")
        f.buy(s, both.id, AS_OF - dt.timedelta(days=5), 1000, n=10)
        counter = f.customer(s, "COUNT")  # 10 purchases, ¥100 in all
        f.buy(s, counter.id, AS_OF - dt.timedelta(days=5), 10, n=10)
        s.commit()
        ids = spender.id, both.id, counter.id
    run(engine)
    with Session(engine) as s:
        # ¥12,000 in 2 purchases: Gold needs both now, so Silver (on spend); 10 x ¥1,000: Gold; 10 x ¥10: Silver on count.
        assert [f.tier(s, i) for i in ids] == [1, 2, 1]


def test_window_is_the_12_months_ending_on_the_evaluation_date(engine):
    first, last = window_dates(AS_OF)
    assert (first, last) == (dt.date(2025, 11, 26), AS_OF)
    with Session(engine) as s:
        inside = f.customer(s, "IN")
        f.buy(s, inside.id, first, 2500, time=dt.time(0, 0))  # the first local minute of the window
        f.buy(s, inside.id, last, 2500, time=dt.time(23, 59, 59))  # the last local second
        outside = f.customer(s, "OUT")
        f.buy(s, outside.id, first - dt.timedelta(days=1), 2500, time=dt.time(23, 59, 59))
        f.buy(s, outside.id, first, 2500, time=dt.time(0, 0))
        s.commit()
        ids = inside.id, outside.id
    run(engine)
    with Session(engine) as s:
        assert [f.tier(s, i) for i in ids] == [1, 0]


def test_an_upgrade_across_two_tiers_is_one_event(engine):
    with Session(engine) as s:
        c = f.customer(s, "C1", tier=1)
        f.buy(s, c.id, AS_OF - dt.timedelta(days=30), 25_000)
        s.commit()
        cid = c.id
    result = run(engine)
    assert result.upgrades == 1
    with Session(engine) as s:
        evs = f.events(s, cid)
        assert [(e.from_rank, e.to_rank, e.kind) for e in evs] == [(None, 1, "initial"), (1, 3, "upgrade")]
        assert evs[-1].at == NOW
        row = s.get(Customer, cid)
        assert row.tier_rank == 3 and row.tier_since == NOW


# ------------------------------------------------------------------------------------------- reviews


def test_downgrade_only_at_review_and_one_step(engine):
    with Session(engine) as s:
        c = f.customer(s, "P", tier=3)  # Platinum, nothing bought in the window
        f.buy(s, c.id, AS_OF - dt.timedelta(days=400), 30_000)
        s.commit()
        cid = c.id
    assert run(engine).downgrades == 0
    with Session(engine) as s:
        assert f.tier(s, cid) == 3
    result = run(engine, review=True)
    assert (result.review_period, result.review_applied, result.downgrades) == ("2026-Q4", True, 1)
    with Session(engine) as s:
        assert f.tier(s, cid) == 2
        assert f.events(s, cid)[-1].kind == "downgrade"
        review = s.exec(select(TierReview).where(TierReview.period == "2026-Q4")).one()
        assert review.downgrades == 1


def test_a_review_run_twice_in_one_quarter_applies_once(engine):
    with Session(engine) as s:
        c = f.customer(s, "P", tier=3)
        s.commit()
        cid = c.id
    first = run(engine, review=True)
    later = AS_OF + dt.timedelta(days=3)
    second = run(engine, as_of=later, review=True)
    assert first.review_applied and not second.review_applied
    assert second.downgrades == 0 and second.review_period == "2026-Q4"
    with Session(engine) as s:
        assert f.tier(s, cid) == 2
        assert s.exec(select(func.count()).select_from(TierReview)).one() == 1
    # The next quarter's review takes the next step.
    nxt = dt.date(2027, 1, 1)
    third = run(engine, as_of=nxt, review=True)
    assert third.review_applied and third.review_period == "2027-Q1" and third.downgrades == 1
    with Session(engine) as s:
        assert f.tier(s, cid) == 1


def test_review_periods_and_next_review():
    assert period_of(dt.date(2026, 11, 25)) == "2026-Q4"
    assert period_of(dt.date(2027, 1, 1)) == "2027-Q1"
    assert next_review_date(dt.date(2026, 11, 25)) == dt.date(2027, 1, 1)
    assert next_review_date(dt.date(2026, 3, 31)) == dt.date(2026, 4, 1)
    assert next_review_date(dt.date(2026, 4, 1)) == dt.date(2026, 7, 1)


def test_falling_to_member_unassigns_with_a_history_row(engine):
    with Session(engine) as s:
        m = f.manager(s, "M1")
        c = f.customer(s, "S", tier=1, manager_id=m.id)
        s.commit()
        cid, mid = c.id, m.id
    result = run(engine, review=True)
    assert result.to_member == 1
    with Session(engine) as s:
        row = s.get(Customer, cid)
        assert row.tier_rank == 0 and row.manager_id is None and row.assignment_version == 1
        assert row.vip_since is None
        history = s.exec(select(Assignment).where(Assignment.customer_id == cid)).all()
        assert [(h.from_manager_id, h.to_manager_id, h.reason) for h in history] == [(mid, None, "tier_change")]


# ------------------------------------------------------------------------------------------- idempotence, as-of


def test_evaluation_is_idempotent(engine):
    with Session(engine) as s:
        a = f.customer(s, "A")
        f.buy(s, a.id, AS_OF - dt.timedelta(days=3), 12_000)
        f.customer(s, "B", tier=2)
        s.commit()
    run(engine, review=True)
    before = new_events(engine)
    again = run(engine, review=True)
    assert again.events == 0 and again.changes == 0
    assert new_events(engine) == before


def test_customers_without_any_event_get_an_initial_record_once(engine):
    with Session(engine) as s:
        c = f.customer(s, "NOEV", tier=0, initial_event=False)
        s.commit()
        cid = c.id
    assert run(engine).initial == 1
    assert run(engine).initial == 0
    with Session(engine) as s:
        assert [(e.from_rank, e.to_rank, e.kind) for e in f.events(s, cid)] == [(None, 0, "initial")]


def test_as_of_before_the_newest_event_or_in_the_future_is_refused(engine):
    with Session(engine) as s:
        c = f.customer(s, "A")
        f.buy(s, c.id, AS_OF - dt.timedelta(days=3), 6_000)
        s.commit()
    run(engine)
    with pytest.raises(TierError, match="newest tier event is on 2026-11-25"):
        run(engine, as_of=AS_OF - dt.timedelta(days=1))
    with pytest.raises(TierError, match="in the future"):
        evaluate(engine, as_of=AS_OF + dt.timedelta(days=1), today=AS_OF, now=NOW)
    run(engine)  # the same day again is fine


def test_an_earlier_as_of_stamps_the_end_of_that_day(engine):
    with Session(engine) as s:
        c = f.customer(s, "A")
        f.buy(s, c.id, dt.date(2026, 11, 1), 6_000)
        s.commit()
        cid = c.id
    evaluate(engine, as_of=dt.date(2026, 11, 20), today=AS_OF, now=NOW)
    with Session(engine) as s:
        assert f.events(s, cid)[-1].at == local_to_utc(dt.date(2026, 11, 20), dt.time(23, 59, 59))


# ------------------------------------------------------------------------------------------- overrides, Supreme


def _supervisor(s):
    return f.actor_of(f.user(s, "sup", "supervisor"))


def test_override_pins_and_lapses_to_the_qualified_tier_at_once(engine):
    with Session(engine) as s:
        c = f.customer(s, "O", tier=1)
        f.buy(s, c.id, AS_OF - dt.timedelta(days=20), 6_000)  # qualifies Silver
        sup = _supervisor(s)
        out = set_override(
            session=s,
            actor=sup,
            customer_id=c.id,
            rank=4,
            reason="Key account",
            until=dt.date(2026, 12, 10),
            today=AS_OF,
            now=NOW,
        )
        s.commit()
        cid = c.id
    assert (out.from_rank, out.to_rank) == (1, 4)
    run(engine, review=True)  # pinned: neither the evaluation nor the review moves it
    with Session(engine) as s:
        assert f.tier(s, cid) == 4
    lapse = dt.date(2026, 12, 10)
    result = run(engine, as_of=lapse)  # no review: the lapse is not a one-step downgrade
    assert result.expired == 1 and result.downgrades == 0
    with Session(engine) as s:
        row = s.get(Customer, cid)
        assert row.tier_rank == 1 and row.override_rank is None and row.override_until is None
        last = f.events(s, cid)[-1]
        assert (last.from_rank, last.to_rank, last.kind) == (4, 1, "override_expired")


def test_override_refusals_change_nothing(engine):
    with Session(engine) as s:
        c = f.customer(s, "O", tier=1)
        sup = _supervisor(s)
        s.commit()
        cid = c.id
        with pytest.raises(TierError, match="reason"):
            set_override(session=s, actor=sup, customer_id=cid, rank=2, reason="  ", today=AS_OF)
        with pytest.raises(TierError, match="not in the future"):
            set_override(session=s, actor=sup, customer_id=cid, rank=2, reason="Key", until=AS_OF, today=AS_OF)
        with pytest.raises(TierError, match="designation"):
            set_override(session=s, actor=sup, customer_id=cid, rank=5, reason="Key", today=AS_OF)
        lead = f.actor_of(f.user(s, "lead", "team_lead"))
        with pytest.raises(PermissionDenied):
            set_override(session=s, actor=lead, customer_id=cid, rank=2, reason="Key", today=AS_OF)
        s.rollback()
    with Session(engine) as s:
        assert f.tier(s, cid) == 1 and s.get(Customer, cid).override_rank is None
        assert len(f.events(s, cid)) == 1
        assert s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "tiers.override")).one() == 0


def test_clearing_an_override_sets_the_qualified_tier_and_is_audited(engine):
    with Session(engine) as s:
        c = f.customer(s, "O", tier=0)
        f.buy(s, c.id, AS_OF - dt.timedelta(days=20), 11_000)  # qualifies Gold
        sup = _supervisor(s)
        set_override(session=s, actor=sup, customer_id=c.id, rank=1, reason="Hold at Silver", today=AS_OF, now=NOW)
        s.commit()
        cid = c.id
    run(engine)  # a pin without expiry holds even against an upgrade
    with Session(engine) as s:
        assert f.tier(s, cid) == 1
        sup = _supervisor_again(s)
        clear_override(session=s, actor=sup, customer_id=cid, reason="Review done", today=AS_OF)
        s.commit()
    with Session(engine) as s:
        assert f.tier(s, cid) == 2
        assert f.events(s, cid)[-1].kind == "override_expired"
        actions = s.exec(select(AuditLog.action).where(AuditLog.entity_id == str(cid))).all()
        assert actions == ["tiers.override", "tiers.override"]


def _supervisor_again(s):
    from models import User

    return f.actor_of(s.exec(select(User).where(User.username == "sup")).one())


def test_supreme_is_untouched_by_evaluation_and_review(engine):
    with Session(engine) as s:
        c = f.customer(s, "SUP", tier=4)
        sup = _supervisor(s)
        designate_supreme(
            session=s, actor=sup, customer_id=c.id, reason="Department head's decision", today=AS_OF, now=NOW
        )
        s.commit()
        cid = c.id
    result = run(engine, review=True)
    assert result.changes == 0
    with Session(engine) as s:
        row = s.get(Customer, cid)
        assert row.tier_rank == 5 and row.supreme
        assert [e.kind for e in f.events(s, cid)] == ["initial", "designation"]
        remove_supreme(session=s, actor=_supervisor_again(s), customer_id=cid, reason="Ended", today=AS_OF)
        s.commit()
    with Session(engine) as s:
        row = s.get(Customer, cid)
        assert row.tier_rank == 0 and not row.supreme  # no purchases: straight to the qualified tier
        assert [e.kind for e in f.events(s, cid)] == ["initial", "designation", "designation"]


# ------------------------------------------------------------------------------------------- flags


def test_flags_never_move_anyone(engine):
    with Session(engine) as s:
        junior = f.manager(s, "J1", level="junior", capacity=1000)
        small = f.manager(s, "S1", level="senior", capacity=3)
        gold = f.customer(s, "G", tier=2, manager_id=junior.id)
        f.buy(s, gold.id, AS_OF - dt.timedelta(days=9), 21_000)  # qualifies Platinum: a junior may hold up to Gold
        silver = f.customer(s, "S", tier=1, manager_id=small.id)
        f.buy(s, silver.id, AS_OF - dt.timedelta(days=9), 55_000)  # Diamond: 5 units on a 3-unit capacity
        s.commit()
        ids = gold.id, silver.id
        managers = junior.id, small.id
    result = run(engine)
    assert result.upgrades == 2
    assert result.level_flag_total == 1
    assert result.level_flags[0]["customer_id"] == ids[0] and result.level_flags[0]["level"] == "junior"
    assert [(c["manager_id"], c["load_before"], c["load_after"], c["pushed_over"]) for c in result.capacity_flags] == [
        (managers[1], 1, 5, True)
    ]
    with Session(engine) as s:
        assert [s.get(Customer, i).manager_id for i in ids] == list(managers)
        assert s.exec(select(func.count()).select_from(Assignment)).one() == 0
        stored = get_meta(s, LAST_EVALUATION_KEY)
        assert stored["level_flag_total"] == 1 and len(stored["capacity_flags"]) == 1


def test_a_new_vip_without_a_manager_starts_waiting_for_binding(engine):
    with Session(engine) as s:
        c = f.customer(s, "NEW")
        f.buy(s, c.id, AS_OF - dt.timedelta(days=2), 5_000)
        s.commit()
        cid = c.id
    run(engine)
    with Session(engine) as s:
        row = s.get(Customer, cid)
        assert row.waiting_since == NOW and row.vip_since == NOW
        assert row.binding_due == dt.date(2026, 11, 30)  # Wed 25 -> Thu, Fri, Mon: end of the 3rd working day


# ------------------------------------------------------------------------------------------- as a job


def test_evaluation_runs_as_a_job_and_records_when(engine):
    with Session(engine) as s:
        c = f.customer(s, "A")
        f.buy(s, c.id, AS_OF - dt.timedelta(days=2), 5_000)
        sup = _supervisor(s)
        lead = f.actor_of(f.user(s, "lead", "team_lead"))
        with pytest.raises(PermissionDenied):
            start_evaluation(session=s, actor=lead, today=dt.date.today())
        job_id = start_evaluation(session=s, actor=sup)
        with pytest.raises(TierError, match="already queued"):
            start_evaluation(session=s, actor=sup)
        s.commit()
    assert work_once(engine) == job_id
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        assert "1 upgrades" in job.message
        info = last_evaluation(session=s, actor=sup)
        assert info["job_id"] == job_id and info["upgrades"] == 1
        assert s.exec(select(AuditLog).where(AuditLog.action == "tiers.evaluate")).one().entity_id == str(job_id)


def test_a_stopped_job_resumes_after_the_last_committed_chunk(engine):
    with Session(engine) as s:
        for i in range(7):
            f.customer(s, f"P{i}", tier=3)  # all Platinum without purchases: the review takes one step each
        job = Job(kind="tier_evaluation", status="running", params="{}")
        s.add(job)
        s.commit()
        job_id = job.id
    calls = []

    def stop_after_two_chunks(done, total, message):
        calls.append(done)
        if len(calls) == 3:
            raise JobCancelled("stopped")

    with pytest.raises(JobCancelled):
        evaluate(
            engine,
            as_of=AS_OF,
            review=True,
            today=AS_OF,
            now=NOW,
            job_id=job_id,
            chunk=3,
            progress=stop_after_two_chunks,
        )
    with Session(engine) as s:
        checkpoint = json.loads(s.get(Job, job_id).checkpoint)
        assert checkpoint["customers"] == 6 and checkpoint["downgrades"] == 6
    result = evaluate(
        engine, as_of=AS_OF, review=True, today=AS_OF, now=NOW, job_id=job_id, checkpoint=checkpoint, chunk=3
    )
    assert result.customers == 7 and result.downgrades == 7 and result.review_applied
    with Session(engine) as s:
        assert set(s.exec(select(Customer.tier_rank)).all()) == {2}  # one step each, never two


def test_money_is_shown_in_yuan_with_separators():
    assert fmt_yuan(500_000) == "¥5,000"
    assert fmt_yuan(123_456_789) == "¥1,234,567.89"
    assert fmt_yuan(-1_000_000) == "-¥10,000"
    assert fmt_yuan(None) == ""


def test_system_actor_is_not_a_person():
    # the command line runs as the system actor: an admin role without a user id
    assert Actor(user_id=None, username="system", role="admin").is_supervisor
