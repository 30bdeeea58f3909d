"""Readiness board, Home tiles, incidents, template versions and the run sheet (SQLite and PostgreSQL)."""

import datetime as dt
import html

import pytest
from sqlmodel import Session, select

from console.i18n import set_language
from console.permissions import PermissionDenied
from console.reception import (
    ReceptionError,
    ScopeDenied,
    activate_template,
    cancel_visit,
    create_template,
    delete_draft,
    escalate_incident,
    home_tiles,
    list_templates,
    mark_item,
    new_draft,
    readiness_board,
    report_incident,
    resolve_incident,
    run_sheet,
    save_draft,
    template_items,
    visit_incidents,
)
from console.reception.runsheet import cjk_font_path
from console.timeutil import local_date
from models import ChecklistTemplate, Incident, RunItem, Visit
from tests.unit.factories_reception import NOW, items, make_world, plan, template_id

TODAY = local_date(NOW)


@pytest.fixture(autouse=True)
def english():
    set_language("en")


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def world(s):
    return make_world(s)


# ---------------------------------------------------------------- board


def test_board_lists_the_window_with_overdue_visits_first(s, world):
    soon = plan(s, world, level=3, templates=("T3",), arrival=NOW + dt.timedelta(hours=2))
    later = plan(
        s,
        world,
        level=1,
        templates=("T1",),
        arrival=NOW + dt.timedelta(days=1),
        customer_id=None,
        guest_name="Minister Wang",
    )
    beyond = plan(s, world, arrival=NOW + dt.timedelta(days=9))
    cancelled = plan(s, world, arrival=NOW + dt.timedelta(days=3))
    cancel_visit(session=s, actor=world.supervisor, visit_id=cancelled.visit_id, reason="Called off")
    s.commit()
    at = NOW + dt.timedelta(hours=1)  # T3 items due 30 min before arrival and earlier are overdue by now
    board = readiness_board(session=s, actor=world.supervisor, today=TODAY, now=at)
    rows = board.rows
    ids = [r.visit_id for r in rows]
    assert board.total == 2 and board.with_overdue == 2 and board.awaiting_signoff == 0
    assert beyond.visit_id not in ids and cancelled.visit_id not in ids
    second = readiness_board(session=s, actor=world.supervisor, today=TODAY, now=at, offset=1, limit=1)
    assert [r.visit_id for r in second.rows] == ids[1:] and second.total == 2
    assert ids[0] == soon.visit_id and rows[0].overdue > 0
    row = rows[ids.index(later.visit_id)]
    assert row.guest == "Minister Wang" and row.tier == "" and row.level == 1
    first = rows[0]
    assert first.tier == "Platinum" and first.host == "Name CM1" and first.readiness == 0
    assert first.overdue == sum(1 for i in items(s, soon.run_id) if i.due_at is not None and i.due_at < at)


def test_board_readiness_follows_the_work(s, world):
    result = plan(s, world, level=3, templates=("T3",))
    required = [i for i in items(s, result.run_id) if i.required]
    for item in required[:5]:
        mark_item(session=s, actor=world.fnb, item_id=item.id, state="done", now=NOW)
    s.commit()
    (row,) = readiness_board(session=s, actor=world.supervisor, today=TODAY, now=NOW).rows
    assert (row.required, row.ready) == (len(required), 5)
    assert row.readiness == pytest.approx(5 / len(required))


def test_board_scoping(s, world):
    mine = plan(s, world, level=3, templates=("T3",))
    theirs = plan(s, world, level=3, templates=("T1",), customer_id=world.stranger_customer_id, host=world.supervisor)
    assert {r.visit_id for r in readiness_board(session=s, actor=world.host, today=TODAY, now=NOW).rows} == {
        mine.visit_id
    }
    assert {r.visit_id for r in readiness_board(session=s, actor=world.fnb, today=TODAY, now=NOW).rows} == {
        mine.visit_id
    }
    assert {r.visit_id for r in readiness_board(session=s, actor=world.security, today=TODAY, now=NOW).rows} == {
        theirs.visit_id
    }
    with pytest.raises(PermissionDenied):
        readiness_board(session=s, actor=world.agent, today=TODAY, now=NOW)


# ---------------------------------------------------------------- Home tiles


def _tiles(s, actor):
    return {t.label: t for t in home_tiles(session=s, actor=actor, today=local_date(dt.datetime.now(dt.UTC)))}


def test_home_tiles_per_role(s, world):
    now = dt.datetime.now(dt.UTC)
    result = plan(s, world, level=1, templates=("T1",), arrival=now + dt.timedelta(hours=5), now=now)
    sec = _tiles(s, world.security)
    overdue = sum(
        1 for i in items(s, result.run_id) if i.department == "security" and i.due_at is not None and i.due_at < now
    )
    assert sec["My department's overdue items"].value == str(overdue) and overdue > 0
    assert sec["My department's overdue items"].alert
    assert "My department's open items due today" in sec
    sup = _tiles(s, world.supervisor)
    assert sup["Runs awaiting sign-off"].value == "0"
    assert int(sup["Overdue reception items"].value) >= overdue
    cm = _tiles(s, world.host)
    assert cm["My visits' readiness (7 days)"].value == "0%"
    assert _tiles(s, world.agent) == {}


# ---------------------------------------------------------------- incidents


def test_incident_chain_in_order(s, world):
    result = plan(s, world, arrival=NOW - dt.timedelta(hours=2))
    t0 = NOW - dt.timedelta(minutes=40)
    iid = report_incident(
        session=s,
        actor=world.security,
        visit_id=result.visit_id,
        post="Post 2 — main door",
        description="Unregistered photographer at the gate",
        reported_at=t0,
        now=NOW,
    )
    with pytest.raises(ReceptionError, match="Activate the emergency plan before"):
        escalate_incident(session=s, actor=world.security, incident_id=iid, step="gm_notified", at=NOW, now=NOW)
    with pytest.raises(ReceptionError, match="earlier than the previous step"):
        escalate_incident(
            session=s,
            actor=world.security,
            incident_id=iid,
            step="plan_activated",
            at=t0 - dt.timedelta(minutes=1),
            now=NOW,
        )
    with pytest.raises(ReceptionError, match="cannot be in the future"):
        escalate_incident(
            session=s,
            actor=world.security,
            incident_id=iid,
            step="plan_activated",
            at=NOW + dt.timedelta(hours=1),
            now=NOW,
        )
    escalate_incident(
        session=s,
        actor=world.security,
        incident_id=iid,
        step="plan_activated",
        at=t0 + dt.timedelta(minutes=2),
        now=NOW,
    )
    with pytest.raises(ReceptionError, match="before the resolution"):
        resolve_incident(session=s, actor=world.supervisor, incident_id=iid, resolution="ok", at=NOW, now=NOW)
    escalate_incident(
        session=s, actor=world.security, incident_id=iid, step="gm_notified", at=t0 + dt.timedelta(minutes=5), now=NOW
    )
    with pytest.raises(PermissionDenied):
        resolve_incident(session=s, actor=world.security, incident_id=iid, resolution="ok", at=NOW, now=NOW)
    resolve_incident(
        session=s, actor=world.supervisor, incident_id=iid, resolution="Escorted off site", at=NOW, now=NOW
    )
    s.commit()
    (row,) = visit_incidents(session=s, actor=world.host, visit_id=result.visit_id)
    assert row.step == "resolved" and row.next_step is None and row.recorded_by == "rc-sec"
    assert row.plan_activated_at - row.reported_at == dt.timedelta(minutes=2)


def test_incident_needs_post_and_description_and_a_visible_visit(s, world):
    result = plan(s, world, customer_id=world.stranger_customer_id, host=world.supervisor)
    with pytest.raises(ReceptionError, match="Reporting post is required"):
        report_incident(
            session=s,
            actor=world.supervisor,
            visit_id=result.visit_id,
            post="",
            description="x",
            reported_at=NOW,
            now=NOW,
        )
    with pytest.raises(ScopeDenied):
        report_incident(
            session=s, actor=world.host, visit_id=result.visit_id, post="P1", description="x", reported_at=NOW, now=NOW
        )
    s.rollback()
    assert s.exec(select(Incident)).all() == []


# ---------------------------------------------------------------- templates


def test_template_versions_lock_on_activation_and_runs_keep_their_items(s, world):
    t3 = template_id(s, "T3")
    old_run = plan(s, world, level=3, templates=("T3",))
    with pytest.raises(ReceptionError, match="active and locked"):
        save_draft(
            session=s,
            actor=world.admin,
            template_id=t3,
            items=template_items(session=s, actor=world.admin, template_id=t3),
        )
    draft = new_draft(session=s, actor=world.admin, template_id=t3)
    with pytest.raises(ReceptionError, match="already has a draft"):
        new_draft(session=s, actor=world.admin, template_id=t3)
    rows = template_items(session=s, actor=world.admin, template_id=draft)
    rows[0]["text_en"] = "Confirm the booking details (v2)"
    rows = [r for r in rows if r["seq"] != 23]
    assert save_draft(session=s, actor=world.admin, template_id=draft, items=rows) == 22
    with pytest.raises(PermissionDenied):
        activate_template(session=s, actor=world.supervisor, template_id=draft)
    activate_template(session=s, actor=world.admin, template_id=draft, now=NOW)
    s.commit()
    assert s.get(ChecklistTemplate, t3).status == "retired"
    assert s.get(ChecklistTemplate, draft).status == "active"
    with pytest.raises(ReceptionError, match="retired and locked"):
        save_draft(session=s, actor=world.admin, template_id=t3, items=[])
    old_items = items(s, old_run.run_id)
    assert len(old_items) == 23 and old_items[0].text_en != "Confirm the booking details (v2)"
    new_run = plan(s, world, level=3, templates=("T3",))
    new_items = items(s, new_run.run_id)
    assert len(new_items) == 22 and new_items[0].text_en == "Confirm the booking details (v2)"
    listed = {(r.code, r.version): r for r in list_templates(session=s, actor=world.admin)}
    assert listed[("T3", 1)].runs == 1 and listed[("T3", 2)].runs == 1


def test_template_editor_validation_and_new_template(s, world):
    tid = create_template(
        session=s, actor=world.admin, code="t5", name_en="Birthday", name_zh="生日", owner_department="fnb"
    )
    bad = {
        "seq": 1,
        "phase": "A",
        "phase_en": "Prep",
        "phase_zh": "准备",
        "text_en": "Gift",
        "text_zh": "礼品",
        "department": "fnb",
        "timing": "offset",
        "anchor": None,
        "offset_minutes": None,
        "levels": "1,2,3",
    }
    with pytest.raises(ReceptionError, match="Row 1: an offset item needs the anchor"):
        save_draft(session=s, actor=world.admin, template_id=tid, items=[bad])
    with pytest.raises(ReceptionError, match="Unknown department"):
        save_draft(session=s, actor=world.admin, template_id=tid, items=[{**bad, "department": "kitchen"}])
    with pytest.raises(ReceptionError, match="at least one item"):
        activate_template(session=s, actor=world.admin, template_id=tid)
    good = {**bad, "anchor": "arrival", "offset_minutes": -1440, "required": True}
    save_draft(session=s, actor=world.admin, template_id=tid, items=[good, {**good, "seq": 2, "timing": "optional"}])
    activate_template(session=s, actor=world.admin, template_id=tid, now=NOW)
    s.commit()
    rows = template_items(session=s, actor=world.admin, template_id=tid)
    assert rows[1]["anchor"] is None and rows[1]["offset_minutes"] is None
    assert s.get(ChecklistTemplate, tid).code == "T5"
    with pytest.raises(ReceptionError, match="already exists"):
        create_template(session=s, actor=world.admin, code="T5", name_en="x", name_zh="x", owner_department=None)
    draft = new_draft(session=s, actor=world.admin, template_id=tid)
    delete_draft(session=s, actor=world.admin, template_id=draft)
    s.commit()
    assert s.get(ChecklistTemplate, draft) is None


# ---------------------------------------------------------------- run sheet


def test_run_sheet_escapes_stored_text_and_has_signature_lines(s, world):
    result = plan(s, world, level=3, templates=("T3",), customer_id=None, guest_name="<script>alert(1)</script>")
    item = items(s, result.run_id)[1]
    mark_item(session=s, actor=world.fnb, item_id=item.id, state="na", reason="<b>none</b>", now=NOW)
    s.commit()
    sheet = run_sheet(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW, with_pdf=False)
    assert "<script>" not in sheet.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in sheet.html
    assert "&lt;b&gt;none&lt;/b&gt;" in sheet.html and "<b>none</b>" not in sheet.html
    assert sheet.html.count("class='sig'") == 3 and "Signature and date" in sheet.html
    assert "Name RC-FNB" in sheet.html and "F&amp;B" in sheet.html
    assert sheet.pdf is None


def test_run_sheet_pdf_embeds_a_cjk_font(s, world):
    set_language("zh")
    result = plan(s, world, level=3, templates=("T3",))
    sheet = run_sheet(session=s, actor=world.supervisor, run_id=result.run_id, now=NOW)
    if cjk_font_path() is None:
        assert sheet.pdf is None
        return
    assert sheet.pdf.startswith(b"%PDF-")
    assert b"/FontFile" in sheet.pdf and b"NotoSansCJK" in sheet.pdf
    assert "签名及日期" in sheet.html


def test_reception_staff_run_sheet_has_only_their_items(s, world):
    result = plan(s, world, level=1, templates=("T1", "T3"))
    sheet = run_sheet(session=s, actor=world.fnb, run_id=result.run_id, now=NOW, with_pdf=False)
    fnb_texts = [i.text_en for i in items(s, result.run_id) if i.department == "fnb"]
    other = [i.text_en for i in items(s, result.run_id) if i.department == "security"]
    assert fnb_texts and all(html.escape(t) in sheet.html for t in fnb_texts)
    assert not any(html.escape(t) in sheet.html for t in other)
    assert s.exec(select(RunItem).where(RunItem.run_id == result.run_id)).first() is not None
    assert s.get(Visit, result.visit_id).status == "planned"
