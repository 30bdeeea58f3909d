"""The timeline (issue 7 item 3): order and completeness — every event of the fixture exactly once —, paging,
filters, what each entry says, which links it offers, and the export."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from console.assignment.exports import to_csv_bytes
from console.customers.timeline import TIMELINE_KINDS, customer_timeline, timeline_export
from console.permissions import PermissionDenied
from tests.unit.factories_customers import (
    TODAY,
    assign,
    at,
    call,
    contact,
    customer,
    dispute,
    evaluate,
    incident,
    make_world,
    run_with_items,
    tier_change,
    visit,
)


def _history(s: Session):
    """One customer with every kind of event; returns the world, the customer and the expected (kind, id)s."""
    w = make_world(s)
    c = customer(s, 2, mgr=w.junior, vip_days_ago=300, assigned_days_ago=290)
    expected: set[tuple[str, int]] = set()
    from sqlmodel import select

    from models import Assignment, TierChange

    expected |= {("tier", t.id) for t in s.exec(select(TierChange).where(TierChange.customer_id == c.id)).all()}
    expected |= {("assignment", a.id) for a in s.exec(select(Assignment).where(Assignment.customer_id == c.id)).all()}
    expected.add(("tier", tier_change(s, c, 3, at(100), kind="upgrade").id))
    expected.add(("assignment", assign(s, c, w.senior, at(99), reason="tier_change", batch=True).id))
    k1 = call(s, w.senior, c, at(80))
    ev1 = evaluate(s, k1, w.lead, total=72.5, passed=False)
    dispute(s, ev1, w.senior)
    k2 = call(s, w.agent, c, at(60), outcome="no_answer")
    k3 = call(s, w.ob_agent, c, at(40))
    evaluate(s, k3, w.ob_lead, total=88.0, passed=True)
    k4 = call(s, w.senior, c, at(20), contact=False)  # a call without its contact row
    expected |= {("call", k.id) for k in (k1, k2, k3, k4)}
    expected.add(("contact", contact(s, c, w.senior, "sms", at(79), outcome="delivered").id))
    v1 = visit(s, c, at(30), host=w.senior)
    run_with_items(s, v1, failed_critical=1, failed_other=1, owner=w.senior, followup="done")
    incident(s, v1)
    contact(s, c, w.senior, "visit", v1.arrival_at, outcome="completed")  # the visit's own contact: shown as the visit
    v2 = visit(s, c, at(-3), status="planned", host=w.senior)
    expected |= {("visit", v1.id), ("visit", v2.id)}
    expected.add(("tier", tier_change(s, c, 2, at(10)).id))
    other = customer(s, 4, mgr=w.senior)
    call(s, w.senior, other, at(5))
    s.commit()
    return w, c, expected


def test_every_event_appears_exactly_once_newest_first(engine):
    with Session(engine) as s:
        w, c, expected = _history(s)
        page = customer_timeline(session=s, actor=w.actor(w.sup), customer_id=c.id, today=TODAY, limit=500)
        keys = [(e.kind, e.id) for e in page.entries]
        assert len(keys) == len(set(keys)) == page.total == len(expected)
        assert set(keys) == expected
        times = [e.at for e in page.entries]
        assert times == sorted(times, reverse=True)
        assert page.entries[0].kind == "visit" and page.entries[0].at == at(-3)
        oldest = customer_timeline(
            session=s, actor=w.actor(w.sup), customer_id=c.id, today=TODAY, limit=500, newest_first=False
        )
        assert [(e.kind, e.id) for e in oldest.entries] == list(reversed(keys))


def test_pages_join_up_to_the_whole_list(engine):
    with Session(engine) as s:
        w, c, expected = _history(s)
        actor = w.actor(w.sup)
        whole = customer_timeline(session=s, actor=actor, customer_id=c.id, today=TODAY, limit=500).entries
        pieces = []
        for offset in range(0, len(whole), 4):
            pieces += customer_timeline(
                session=s, actor=actor, customer_id=c.id, today=TODAY, offset=offset, limit=4
            ).entries
        assert [(e.kind, e.id) for e in pieces] == [(e.kind, e.id) for e in whole]


def test_filter_by_kind(engine):
    with Session(engine) as s:
        w, c, expected = _history(s)
        page = customer_timeline(
            session=s, actor=w.actor(w.sup), customer_id=c.id, today=TODAY, kinds=["call", "visit"], limit=500
        )
        assert {e.kind for e in page.entries} == {"call", "visit"}
        assert page.total == len([k for k in expected if k[0] in ("call", "visit")])
        assert set(page.counts) == {"call", "visit"}
        assert customer_timeline(session=s, actor=w.actor(w.sup), customer_id=c.id, today=TODAY, kinds=[]).total == 0


def test_what_the_entries_say_and_where_they_link(engine):
    with Session(engine) as s:
        w, c, _ = _history(s)
        entries = customer_timeline(session=s, actor=w.actor(w.sup), customer_id=c.id, today=TODAY, limit=500).entries
        evaluated = next(e for e in entries if e.kind == "call" and e.facts.get("total") == 72.5)
        assert "72.5 (fail)" in evaluated.detail and "dispute: Unresolved" in evaluated.detail
        assert evaluated.link is not None and evaluated.link.page == "call_qa"
        assert evaluated.link.url() == f"call-qa?evaluation={evaluated.facts['eval_id']}"
        missed = next(e for e in entries if e.kind == "call" and e.facts["outcome"] == "no_answer")
        assert "No answer" in missed.detail and missed.link is None
        move = next(e for e in entries if e.kind == "assignment" and e.facts["batch_id"])
        assert "Tier change" in move.detail and f"batch #{move.facts['batch_id']}" in move.detail
        assert "CM-J" in move.title and "CM-S" in move.title
        assert move.link is not None and move.link.param == "batch"
        past = next(e for e in entries if e.kind == "visit" and e.facts["status"] == "completed")
        assert "2 failed item(s), 1 critical" in past.detail and "1 incident(s)" in past.detail
        assert past.facts["readiness"] == 1.0  # failed items whose follow-up is done count as ready
        assert past.link is not None and past.link.url() == f"reception?visit={past.id}"
        downgrade = next(e for e in entries if e.kind == "tier" and e.facts["tier_kind"] == "downgrade")
        assert downgrade.title == "Downgrade: Platinum → Gold"


def test_a_team_lead_sees_scores_of_their_team_only_and_links_only_to_their_pages(engine):
    with Session(engine) as s:
        w, c, _ = _history(s)
        entries = customer_timeline(session=s, actor=w.actor(w.lead), customer_id=c.id, today=TODAY, limit=500).entries
        ob_call = next(e for e in entries if e.kind == "call" and e.facts.get("eval_id") and "OB" in e.title)
        assert "88.0" not in ob_call.detail and "visible to the caller's team" in ob_call.detail
        assert ob_call.link is None
        own = next(e for e in entries if e.kind == "call" and e.facts.get("total") == 72.5)
        assert own.link is not None  # the maintenance lead may open their team's evaluation
        assert all(e.link is None for e in entries if e.kind in ("visit", "assignment", "contact"))


def test_scope_is_enforced(engine):
    with Session(engine) as s:
        w, c, _ = _history(s)
        with pytest.raises(PermissionDenied):
            customer_timeline(session=s, actor=w.actor(w.junior), customer_id=c.id, today=TODAY)  # moved away
        with pytest.raises(PermissionDenied):
            customer_timeline(session=s, actor=w.actor(w.agent), customer_id=c.id, today=TODAY)
        assert customer_timeline(session=s, actor=w.actor(w.senior), customer_id=c.id, today=TODAY).total > 0


def test_export_is_the_whole_filtered_timeline_with_a_masked_phone(engine):
    with Session(engine) as s:
        w, c, expected = _history(s)
        frame = timeline_export(session=s, actor=w.actor(w.senior), customer_id=c.id, today=TODAY)
        assert len(frame) == len(expected)
        assert set(frame["Phone"]) == {c.phone[:3] + "****" + c.phone[-4:]}  # type: ignore[index]
        data = to_csv_bytes(frame)
        assert data.startswith(b"\xef\xbb\xbf") and c.phone.encode() not in data  # type: ignore[union-attr]
        times = list(frame["When"])
        assert times == sorted(times)  # oldest first in the file
        calls = timeline_export(session=s, actor=w.actor(w.senior), customer_id=c.id, today=TODAY, kinds=["call"])
        assert len(calls) == 4


def test_kinds_are_the_documented_five():
    assert TIMELINE_KINDS == ("tier", "assignment", "call", "contact", "visit")


def test_an_empty_customer_has_an_empty_timeline(engine):
    with Session(engine) as s:
        w = make_world(s)
        c = customer(s, 0)
        s.commit()
        page = customer_timeline(session=s, actor=w.actor(w.sup), customer_id=c.id, today=TODAY)
        assert page.total == 1 and page.entries[0].kind == "tier"  # only its first record
        assert page.entries[0].at <= dt.datetime.now(dt.UTC)
