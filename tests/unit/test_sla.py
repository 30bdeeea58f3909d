"""SLAs of SPEC §3 on the Chinese working-day calendar: the worked examples, and the SQL (both databases)
agreeing with the pure rules VIP by VIP."""

import datetime as dt

import pytest
from sqlmodel import Session

from console.assignment.rules import Ladder
from console.assignment.services import load_ladder
from console.assignment.sla import (
    binding_due,
    classify,
    customer_slas,
    customer_state_stmt,
    due_from_ref,
    first_contact_due,
    items_stmt,
    manager_summary_stmt,
    overall_state,
    regular_contact_due,
    sms_due,
    sms_thresholds,
    unassigned_binding_stmt,
)
from console.timeutil import is_working_day, local_to_utc
from tests.unit import factories_assignment as f

D = dt.date


# ------------------------------------------------------------------------------------------------ worked examples


def test_calendar_facts_the_examples_rely_on():
    assert is_working_day(D(2026, 9, 30))
    assert not any(is_working_day(D(2026, 10, d)) for d in range(1, 8))  # National Day week
    assert is_working_day(D(2026, 10, 10)) and D(2026, 10, 10).weekday() == 5  # make-up Saturday
    assert is_working_day(D(2026, 9, 20)) and D(2026, 9, 20).weekday() == 6  # make-up Sunday


def test_binding_day0_on_30_september_is_due_on_the_make_up_saturday():
    # Day 0 Wed 30 Sep; 1–7 Oct off; working days after day 0: Thu 8, Fri 9, Sat 10 (make-up) -> due 10 Oct.
    assert binding_due(D(2026, 9, 30)) == D(2026, 10, 10)
    due = binding_due(D(2026, 9, 30))
    assert classify(due, D(2026, 10, 10), D(2026, 10, 12)) == "met"  # bound on the Saturday: on time
    assert classify(due, D(2026, 10, 12), D(2026, 10, 12)) == "met_late"
    assert classify(due, None, D(2026, 10, 10)) == "due_soon"
    assert classify(due, None, D(2026, 10, 11)) == "breached"  # Sunday 11 Oct: one day late


def test_binding_counts_a_make_up_working_day():
    # Day 0 Fri 18 Sep: Sat 19 off, Sun 20 is a make-up working day (1), Mon 21 (2), Tue 22 (3).
    assert binding_due(D(2026, 9, 18)) == D(2026, 9, 22)
    # Day 0 Thu 8 Oct: Fri 9 (1), Sat 10 make-up (2), Mon 12 (3).
    assert binding_due(D(2026, 10, 8)) == D(2026, 10, 12)
    # An ordinary week: Mon 16 Nov -> Thu 19 Nov.
    assert binding_due(D(2026, 11, 16)) == D(2026, 11, 19)


def test_first_contact_and_notice_sms_due_dates():
    # Bound Mon 14 Sep: first contact due 14 Oct; the SMS 3 working days before: 13, 12, then Sat 10 (make-up).
    assert first_contact_due(D(2026, 9, 14)) == D(2026, 10, 14)
    assert sms_due(D(2026, 9, 14)) == D(2026, 10, 10)
    # Bound 8 Sep: visit call due 8 Oct; 3 working days before skips the whole holiday: 30, 29, 28 Sep.
    assert sms_due(D(2026, 9, 8)) == D(2026, 9, 28)


def test_regular_contact_follows_the_tier_frequency():
    ladder = Ladder.default()
    assert regular_contact_due(D(2026, 9, 1), ladder.contact_days(2)) == D(2026, 10, 31)  # Gold 60 days
    assert regular_contact_due(D(2026, 9, 1), ladder.contact_days(4)) == D(2026, 10, 1)  # Diamond 30 days


def test_customer_slas_table():
    items = customer_slas(
        today=D(2026, 10, 9),
        contact_days=60,
        day0=D(2026, 9, 30),
        binding_due_on=None,
        binding_day=D(2026, 10, 8),
        manager_eligible=True,
        first_call=None,
        first_sms=None,
        last_contact=None,
    )
    got = {i.kind: (i.due, i.state) for i in items}
    assert got["binding"] == (D(2026, 10, 10), "met")
    assert got["first_contact"] == (D(2026, 11, 7), "open")
    assert got["regular_contact"] == (None, "not_applicable")
    assert overall_state(items) == "on_track"
    # A reassignment restarts the first-contact clock: it counts from the new binding day.
    later = customer_slas(
        today=D(2026, 11, 10),
        contact_days=60,
        day0=D(2026, 9, 30),
        binding_due_on=None,
        binding_day=D(2026, 11, 2),
        manager_eligible=True,
        first_call=None,
        first_sms=None,
        last_contact=None,
    )
    assert {i.kind: i.due for i in later}["first_contact"] == D(2026, 12, 2)
    # A holder whose level does not allow the upgraded tier leaves the binding open.
    held = customer_slas(
        today=D(2026, 10, 11),
        contact_days=45,
        day0=D(2026, 9, 30),
        binding_due_on=D(2026, 10, 10),
        binding_day=D(2026, 1, 5),
        manager_eligible=False,
        first_call=D(2026, 1, 9),
        first_sms=D(2026, 1, 6),
        last_contact=D(2026, 9, 20),
    )
    assert {i.kind: i.state for i in held}["binding"] == "breached"
    # A first call without the SMS first: the SMS was missed (no longer actionable).
    missed = customer_slas(
        today=D(2026, 10, 1),
        contact_days=60,
        day0=None,
        binding_due_on=None,
        binding_day=D(2026, 9, 1),
        manager_eligible=True,
        first_call=D(2026, 9, 3),
        first_sms=None,
        last_contact=D(2026, 9, 3),
    )
    assert {i.kind: i.state for i in missed} == {
        "binding": "met",
        "sms": "missed",
        "first_contact": "met",
        "regular_contact": "open",
    }


def test_sms_thresholds_match_sms_due_over_a_year():
    for offset in range(0, 365, 3):
        today = D(2026, 1, 1) + dt.timedelta(days=offset)
        b1, b2 = sms_thresholds(today)
        for delta in range(-50, 20):
            b = today + dt.timedelta(days=delta)
            assert (sms_due(b) < today) == (b < b1)
            assert (sms_due(b) <= today + dt.timedelta(days=7)) == (b <= b2)


# ------------------------------------------------------------------------------------------------ SQL = pure


def local(day, hour=10, minute=0):
    return local_to_utc(day, dt.time(hour, minute))


TODAY = D(2026, 10, 9)


@pytest.fixture
def portfolio(engine):
    """Managers and VIPs covering each SLA state on 9 Oct 2026 (the day before the make-up Saturday)."""
    with Session(engine) as s:
        m = f.manager(s, "CM001", level="senior")
        j = f.manager(s, "CM002", level="junior")
        other = f.manager(s, "CM003", level="senior")
        vips = {}
        # A: Gold bound 14 Sep, nothing yet: SMS due 10 Oct (due soon), first contact 14 Oct (due soon).
        vips["A"] = f.vip(s, "A", 2, mgr=m, assigned_at=local(D(2026, 9, 14)))
        # B: Diamond bound 1 Aug; first call 5 Aug, last visit 20 Aug -> regular due 19 Sep: breached.
        vips["B"] = b = f.vip(s, "B", 4, mgr=m, assigned_at=local(D(2026, 8, 1)))
        f.contact(s, b, m, "sms", local(D(2026, 8, 2)), outcome=None, stream=None)
        f.contact(s, b, m, "call", local(D(2026, 8, 5)))
        f.contact(s, b, m, "visit", local(D(2026, 8, 20)), outcome=None, stream=None)
        f.contact(s, b, m, "call", local(D(2026, 9, 25)), outcome="no_answer")  # not connected: no contact
        # C: Gold bound 1 Sep, SMS sent 2 Sep, no call: first contact due 1 Oct: breached.
        vips["C"] = c = f.vip(s, "C", 2, mgr=m, assigned_at=local(D(2026, 9, 1)))
        f.contact(s, c, None, "sms", local(D(2026, 9, 2)), outcome=None, stream=None)
        # D: Silver bound 20 Sep; a connected call by someone else and an OB call by the manager do not count.
        vips["D"] = d = f.vip(s, "D", 1, mgr=m, assigned_at=local(D(2026, 9, 20)))
        f.contact(s, d, other, "call", local(D(2026, 9, 22)))
        f.contact(s, d, m, "call", local(D(2026, 9, 23)), stream="ob")
        # E: a junior holding a Platinum after an upgrade: binding due 8 Oct is breached.
        vips["E"] = e = f.vip(
            s,
            "E",
            3,
            mgr=j,
            assigned_at=local(D(2026, 3, 2)),
            binding_due=D(2026, 10, 8),
            vip_since=local(D(2025, 1, 1)),
        )
        f.contact(s, e, None, "sms", local(D(2026, 3, 3)), outcome=None, stream=None)
        f.contact(s, e, j, "call", local(D(2026, 3, 5)))
        f.contact(s, e, j, "visit", local(D(2026, 9, 1)), outcome=None, stream=None)  # regular due 16 Oct
        # H: first call at 23:30 local on the due day counts for that day (8 Oct), then Gold every 60 days.
        vips["H"] = h = f.vip(s, "H", 2, mgr=m, assigned_at=local(D(2026, 9, 8)))
        f.contact(s, h, m, "call", local(D(2026, 10, 8), 23, 30))
        # Unassigned: F binding due 10 Oct (due soon), G due 30 Sep (breached).
        vips["F"] = f.vip(s, "F", 2, binding_due=D(2026, 10, 10), waiting_since=local(D(2026, 9, 30)))
        vips["G"] = f.vip(s, "G", 1, binding_due=D(2026, 9, 30), waiting_since=local(D(2026, 9, 25)))
        ids = {k: v.id for k, v in vips.items()}
        mgrs = {"m": m.id, "j": j.id}
        s.commit()
    return engine, ids, mgrs


EXPECTED_STATE = {
    "A": "due_soon",
    "B": "breached",
    "C": "breached",
    "D": "due_soon",  # SMS due 15 Oct (3 working days before 20 Oct)
    "E": "breached",
    "H": "on_track",
    "F": "due_soon",
    "G": "breached",
}


def test_pure_rules_give_the_expected_states():
    ladder = Ladder.default()

    def state(rank, bound, **kw):
        args = dict(
            day0=None, binding_due_on=None, manager_eligible=True, first_call=None, first_sms=None, last_contact=None
        )
        args.update(kw)
        return overall_state(
            customer_slas(today=TODAY, contact_days=ladder.contact_days(rank), binding_day=bound, **args)
        )

    assert state(2, D(2026, 9, 14)) == EXPECTED_STATE["A"]
    assert (
        state(4, D(2026, 8, 1), first_call=D(2026, 8, 5), first_sms=D(2026, 8, 2), last_contact=D(2026, 8, 20))
        == "breached"
    )
    assert state(2, D(2026, 9, 1), first_sms=D(2026, 9, 2)) == "breached"
    assert state(1, D(2026, 9, 20)) == "due_soon"
    assert (
        state(
            3,
            D(2026, 3, 2),
            binding_due_on=D(2026, 10, 8),
            manager_eligible=False,
            first_call=D(2026, 3, 5),
            first_sms=D(2026, 3, 3),
            last_contact=D(2026, 9, 1),
        )
        == "breached"
    )
    assert state(2, D(2026, 9, 8), first_call=D(2026, 10, 8), last_contact=D(2026, 10, 8)) == "on_track"
    assert state(2, None, binding_due_on=D(2026, 10, 10)) == "due_soon"
    assert state(1, None, binding_due_on=D(2026, 9, 30)) == "breached"


def test_sql_customer_states_agree(portfolio):
    engine, ids, _ = portfolio
    with Session(engine) as s:
        ladder = load_ladder(s, TODAY)
        rows = s.execute(customer_state_stmt(ladder, TODAY)).all()
    by_id = {cid: state for cid, state, _ in rows}
    assert {k: by_id[v] for k, v in ids.items()} == EXPECTED_STATE


def test_sql_manager_summary_and_items(portfolio):
    engine, ids, mgrs = portfolio
    with Session(engine) as s:
        ladder = load_ladder(s, TODAY)
        summary = {r.manager_id: r._mapping for r in s.execute(manager_summary_stmt(ladder, TODAY)).all()}
        unassigned = s.execute(unassigned_binding_stmt(TODAY)).one()
        breached = s.execute(items_stmt(ladder, TODAY, which="breached").select()).all()
        soon = s.execute(items_stmt(ladder, TODAY, which="due_soon").select()).all()
    m = summary[mgrs["m"]]
    assert (m["vips"], m["first_breached"], m["first_soon"], m["regular_breached"]) == (5, 1, 1, 1)
    assert (m["sms_breached"], m["sms_soon"]) == (0, 2)  # A (due 10 Oct) and D (due 15 Oct)
    j = summary[mgrs["j"]]
    assert (j["binding_breached"], j["regular_breached"], j["regular_soon"]) == (1, 0, 1)
    assert (unassigned.vips, unassigned.binding_breached, unassigned.binding_soon) == (2, 1, 1)
    code = {v: k for k, v in ids.items()}
    assert sorted((code[r.customer_id], r.kind) for r in breached) == [
        ("B", "regular_contact"),
        ("C", "first_contact"),
        ("E", "binding"),
        ("G", "binding"),
    ]
    got_soon = {(code[r.customer_id], r.kind): due_from_ref(r.kind, r.ref_day) for r in soon}
    assert got_soon == {
        ("A", "sms"): D(2026, 10, 10),
        ("A", "first_contact"): D(2026, 10, 14),
        ("D", "sms"): D(2026, 10, 15),
        ("E", "regular_contact"): D(2026, 10, 16),
        ("F", "binding"): D(2026, 10, 10),
    }
