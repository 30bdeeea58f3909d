"""The Reception page for every role that sees it (admin, supervisor, client manager, reception) and the
roles that must not (team lead, agent, trainee), on the seeded small demo database."""

import pytest
from sqlmodel import Session, func, select

from console.permissions import Actor
from console.reception import readiness_board, work_items
from console.timeutil import today_local
from models import AuditLog, ChecklistTemplate, Run, RunItem, User, Visit
from tests.app.conftest import login, new_app, texts

PAGE = "pages/reception.py"


def _open(app, username):
    login(app, username)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _actor(engine, username):
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        return Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id)


def _button(app, label):
    found = [b for b in app.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in app.button]}"
    return found[0]


def _views(app):
    return list(app.radio(key="reception.view").options)


@pytest.mark.parametrize("username", ["lead", "agent", "trainee"])
def test_other_roles_are_refused(seeded_url, username):
    at = new_app()
    login(at, username)
    page = new_app(PAGE)
    for key in ("auth.user_id", "auth.last_activity"):
        page.session_state[key] = at.session_state[key]
    page.run()
    assert [e.value for e in page.error] == ["You do not have access to this page."]
    assert not page.dataframe and not page.radio


def test_supervisor_board_lists_the_week_with_overdue_first(app, seeded_engine):
    _open(app, "supervisor")
    assert _views(app) == ["Readiness board", "Work a run", "Items to do", "Plan a visit", "Incidents"]
    with Session(seeded_engine) as s:
        rows = readiness_board(session=s, actor=_actor(seeded_engine, "supervisor"), today=today_local()).rows
    board = app.dataframe(key="reception.board").value
    assert len(board) == len(rows) > 0
    shown = board.data if hasattr(board, "data") else board
    assert list(shown["guest"]) == [r.guest for r in rows]
    overdue = list(shown["overdue"])
    assert overdue == sorted(overdue, key=lambda n: n == 0)  # visits with overdue items first
    assert any("（" in g for g in shown["guest"])  # the upcoming L1 delegation
    assert "Readiness board: today and the next 7 days" in texts(app)


def test_supervisor_sign_off_is_refused_with_the_blockers_listed(app, seeded_engine):
    _open(app, "supervisor")
    app.radio(key="reception.view").set_value("run").run()
    assert not app.exception
    assert "Readiness" in [m.label for m in app.metric]
    _button(app, "Sign off").click().run()
    errors = [e.value for e in app.error]
    assert errors and errors[0].startswith("Sign-off refused:")
    assert "required item still open" in texts(app) or any("required item still open" in t.value for t in app.text)
    with Session(seeded_engine) as s:
        assert (
            s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "reception.run.signoff")).one()
            == 0
        )


def test_supervisor_plans_a_visit_and_bad_staffing_is_refused(app, seeded_engine):
    _open(app, "supervisor")
    app.radio(key="reception.view").set_value("plan").run()
    app.selectbox(key="reception.plan_level").set_value(1).run()
    app.text_input(key="reception.plan_guest").input("Delegation of the Provincial Government")
    app.text_input(key="reception.plan_location").input("Guanxiang Building")
    app.number_input(key="reception.plan_on_duty.1").set_value(14)
    _button(app, "Plan the visit").click().run()
    assert any("3 × 5 = 15, not 14" in e.value for e in app.error)
    with Session(seeded_engine) as s:
        before = s.exec(select(func.count()).select_from(Visit)).one()
    app.number_input(key="reception.plan_on_duty.1").set_value(15)
    _button(app, "Plan the visit").click().run()
    assert not app.exception
    assert any("Visit planned" in m.value for m in app.success)
    with Session(seeded_engine) as s:
        visit = s.exec(select(Visit).where(Visit.guest_name == "Delegation of the Provincial Government")).one()
        assert s.exec(select(func.count()).select_from(Visit)).one() == before + 1
        run = s.exec(select(Run).where(Run.visit_id == visit.id)).one()
        assert run.templates == "T1@1,T3@1,T4@1"
        n = s.exec(select(func.count()).select_from(RunItem).where(RunItem.run_id == run.id)).one()
        assert n == 25 + 23 + 19
    assert app.radio(key="reception.view").value == "run"  # the new visit opens for work
    assert "Delegation of the Provincial Government" in texts(app)


def test_client_manager_sees_own_visits_only_and_cannot_plan(app, seeded_engine):
    _open(app, "manager")
    assert "Plan a visit" not in _views(app) and "Templates" not in _views(app)
    actor = _actor(seeded_engine, "manager")
    with Session(seeded_engine) as s:
        rows = readiness_board(session=s, actor=actor, today=today_local()).rows
        everyone = readiness_board(session=s, actor=_actor(seeded_engine, "supervisor"), today=today_local()).rows
    assert 0 < len(rows) < len(everyone)
    board = app.dataframe(key="reception.board").value
    shown = board.data if hasattr(board, "data") else board
    assert sorted(shown["guest"]) == sorted(r.guest for r in rows)


def test_reception_staff_work_their_department_items(app, seeded_engine):
    _open(app, "reception")
    assert _views(app)[0] == "My department's items"
    actor = _actor(seeded_engine, "reception")
    with Session(seeded_engine) as s:
        rows = work_items(session=s, actor=actor).rows
    assert rows and {r.department for r in rows} == {"security"}
    table = app.dataframe[0].value
    shown = table.data if hasattr(table, "data") else table
    assert set(shown["department"]) == {"Security"}
    item_id = app.selectbox(key="reception.items.item").value
    with Session(seeded_engine) as s:
        item = s.get(RunItem, item_id)
        needs_evidence = item.evidence_required
    if needs_evidence:
        app.text_area(key="reception.items.note").input("Checked with the duty engineer")
    app.radio(key="reception.items.action").set_value("done").run()
    if needs_evidence:
        app.text_area(key="reception.items.note").input("Checked with the duty engineer")
    _button(app, "Save").click().run()
    assert not app.exception and not app.error
    assert any("Saved" in m.value for m in app.success)
    with Session(seeded_engine) as s:
        item = s.get(RunItem, item_id)
        assert item.state == "done" and item.done_by == actor.user_id


def test_admin_creates_a_template_draft(app, seeded_engine):
    _open(app, "admin")
    assert _views(app)[-1] == "Templates"
    app.radio(key="reception.view").set_value("templates").run()
    assert not app.exception
    with Session(seeded_engine) as s:
        t3 = s.exec(select(ChecklistTemplate).where(ChecklistTemplate.code == "T3")).one()
    app.selectbox(key="reception.tpl").set_value(t3.id).run()
    assert any("locked" in i.value for i in app.info)
    _button(app, "New draft from this version").click().run()
    assert not app.exception
    with Session(seeded_engine) as s:
        draft = s.exec(
            select(ChecklistTemplate).where(ChecklistTemplate.code == "T3", ChecklistTemplate.status == "draft")
        ).one()
        assert draft.version == 2
    assert any("Draft created" in m.value for m in app.success)


def test_page_in_chinese(app):
    login(app, "supervisor")
    app.session_state["ctx.lang"] = "zh"
    app.switch_page(PAGE).run()
    assert not app.exception
    assert "准备情况看板：今天及未来 7 天" in texts(app)


def test_home_tiles_for_reception_and_supervisor(app, seeded_engine):
    login(app, "reception")
    labels = {m.label: m.value for m in app.metric}
    assert "My department's open items due today" in labels
    actor = _actor(seeded_engine, "reception")
    with Session(seeded_engine) as s:
        overdue = work_items(session=s, actor=actor, overdue_only=True, limit=10_000)
    assert labels["My department's overdue items"] == f"{len(overdue.rows) + len(overdue.followups):,}"
    sup = new_app()
    login(sup, "supervisor")
    assert "Runs awaiting sign-off" in {m.label for m in sup.metric}
