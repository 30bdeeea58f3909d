"""The Assignment page for supervisor, admin and client manager (read-only); team leads are refused."""

import datetime as dt

import pytest
from sqlmodel import Session, func, select

from console import jobs
from console.assignment import reassign, workload
from console.permissions import Actor, PermissionDenied
from console.timeutil import today_local
from models import Assignment, AssignmentBatch, AuditLog, Customer, Staff, User
from tests.app.conftest import login, new_app, texts


def _open(app, username, view=None):
    login(app, username)
    app.switch_page("pages/assignment.py").run()
    assert not app.exception, app.exception
    if view:
        app.segmented_control(key="assign.view").set_value(view).run()
        assert not app.exception, app.exception
    return app


def _button(app, key):
    return app.button(key=key)


def _frame(app, column):
    """The first table on the page with this column (tables without selection carry no key in AppTest)."""
    for df in app.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with {column!r}: {[list(d.value.columns) for d in app.dataframe]}")


def _user(engine, username):
    with Session(engine) as s:
        return s.exec(select(User).where(User.username == username)).one()


def _movable_vip(engine):
    """A Silver VIP held by an active manager, and an eligible target with room."""
    with Session(engine) as s:
        sup = _user(engine, "supervisor")
        actor = Actor(user_id=sup.id, username="supervisor", role="supervisor")
        view = workload(session=s, actor=actor, today=today_local(), limit=0)
        rows = view.chart
        room = rows[(rows["status"] == "active") & (rows["load"] + 1 <= rows["capacity"])]
        target_code = room.sort_values("utilisation")["code"].iloc[0]
        target = s.exec(select(Staff).where(Staff.code == target_code)).one()
        vip = s.exec(
            select(Customer)
            .where(Customer.tier_rank == 1, Customer.manager_id.is_not(None), Customer.manager_id != target.id)
            .order_by(Customer.code)
        ).first()
        return vip.id, vip.code, vip.manager_id, target.id, target.code


# ------------------------------------------------------------------------------------------------ supervisor


def test_supervisor_sees_the_workload_with_flags_and_chart(app, seeded_engine):
    _open(app, "supervisor")
    table = _frame(app, "flags")
    with Session(seeded_engine) as s:
        managers = s.exec(
            select(func.count()).select_from(Staff).where(Staff.role == "client_manager", Staff.is_training == False)  # noqa: E712
        ).one()
    assert len(table) == managers
    flags = " ".join(table["flags"])
    assert "Over capacity by" in flags  # the two over-cap managers of the demo
    assert "may not hold" in flags  # the junior holding a Platinum
    assert "On leave with" in flags and "Leaving on" in flags
    assert (table["utilisation"] > 1).sum() >= 2
    assert list(table["utilisation"]) == sorted(table["utilisation"], reverse=True)
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Client managers"] == str(managers) and int(metrics["Over capacity"]) >= 2
    # Filters narrow the list.
    app.selectbox(key="assign.w_level").set_value("junior").run()
    assert set(_frame(app, "flags")["level"]) == {"junior"}


def test_supervisor_reassigns_a_vip_and_sees_the_history_row(app, seeded_engine):
    cid, code, old_manager, target, target_code = _movable_vip(seeded_engine)
    _open(app, "supervisor", "VIPs")
    app.text_input(key="assign.v_search").input(code).run()
    shown = _frame(app, "phone")
    assert list(shown["code"]) == [code] and "****" in shown["phone"].iloc[0]
    app.multiselect(key="assign.selected").set_value([cid]).run()
    options = app.selectbox(key="assign.r_target").options
    assert options and all("→" in o for o in options)  # utilisation after the move is shown
    app.selectbox(key="assign.r_target").set_value(target)
    app.selectbox(key="assign.r_reason").set_value("customer_request")
    app.text_input(key="assign.r_note").input("asked at the branch")
    [b for b in app.button if b.label == "Reassign"][0].click().run()
    assert not app.exception
    assert any(f"reassigned to {target_code}" in s.value for s in app.success), texts(app)
    with Session(seeded_engine) as s:
        assert s.get(Customer, cid).manager_id == target
        row = s.exec(select(Assignment).where(Assignment.customer_id == cid).order_by(Assignment.id.desc())).first()
        assert (row.from_manager_id, row.to_manager_id, row.reason, row.note) == (
            old_manager,
            target,
            "customer_request",
            "asked at the branch",
        )
        assert s.exec(select(AuditLog).where(AuditLog.action == "assignment.reassign")).one().actor == "supervisor"
    app.segmented_control(key="assign.view").set_value("History").run()
    app.text_input(key="assign.h_code").input(code).run()
    history = _frame(app, "to_manager")
    assert history.iloc[0]["reason"] == "Customer request" and history.iloc[0]["by"] == "supervisor"
    assert history.iloc[0]["to_manager"].startswith(target_code)


def test_reassign_needs_a_reason(app, seeded_engine):
    cid, code, *_ = _movable_vip(seeded_engine)
    _open(app, "supervisor", "VIPs")
    app.text_input(key="assign.v_search").input(code).run()
    app.multiselect(key="assign.selected").set_value([cid]).run()
    [b for b in app.button if b.label == "Reassign"][0].click().run()
    assert any("Choose the new manager" in e.value for e in app.error)
    app.selectbox(key="assign.r_target").select_index(0)
    [b for b in app.button if b.label == "Reassign"][0].click().run()
    assert any("Choose a reason for the change" in e.value for e in app.error)
    with Session(seeded_engine) as s:
        assert s.exec(select(Assignment).where(Assignment.customer_id == cid, Assignment.at > _recent())).all() == []


def test_a_stale_reassign_is_refused_with_who_and_when(app, seeded_engine):
    cid, code, _old, target, _ = _movable_vip(seeded_engine)
    _open(app, "supervisor", "VIPs")
    app.text_input(key="assign.v_search").input(code).run()
    app.multiselect(key="assign.selected").set_value([cid]).run()  # the version seen is kept from here on
    # Meanwhile another supervisor (here: admin) moves the same VIP.
    admin = _user(seeded_engine, "admin")
    with Session(seeded_engine) as s:
        reassign(
            session=s,
            actor=Actor(user_id=admin.id, username="admin", role="admin"),
            customer_ids=[cid],
            to_manager_id=target,
            reason="performance",
            versions={cid: s.get(Customer, cid).assignment_version},
        )
        s.commit()
    app.run()
    app.selectbox(key="assign.r_target").select_index(0)
    app.selectbox(key="assign.r_reason").set_value("performance")
    [b for b in app.button if b.label == "Reassign"][0].click().run()
    errors = " ".join(e.value for e in app.error)
    assert f"VIP {code} was changed by admin at" in errors and "Nothing was saved" in errors
    with Session(seeded_engine) as s:
        assert s.get(Customer, cid).manager_id == target  # the first change stands; nothing lost


# ------------------------------------------------------------------------------------------------ admin


def test_admin_auto_assigns_through_a_job_and_undoes_the_batch(app, seeded_engine):
    with Session(seeded_engine) as s:
        waiting = s.exec(
            select(func.count()).select_from(Customer).where(Customer.tier_rank > 0, Customer.manager_id.is_(None))
        ).one()
    assert waiting > 0
    _open(app, "admin", "Auto-assign")
    _button(app, "assign.a_preview").click().run()
    metrics = {m.label: m.value for m in app.metric}
    moves, left = int(metrics["Moves"]), int(metrics["Not placed"])
    assert moves + left == waiting and moves > 0
    _button(app, "assign.auto.apply").click().run()
    _button(app, "assign.auto.confirm").click().run()
    job_id = app.session_state["assign.auto.job"]
    assert jobs.work_once(seeded_engine) == job_id
    app.run()
    assert any("moves written in batch" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        batch = s.exec(select(AssignmentBatch).order_by(AssignmentBatch.id.desc())).first()
        assert (batch.kind, batch.moves) == ("auto_assign", moves)
        assert (
            s.exec(select(func.count()).select_from(Assignment).where(Assignment.batch_id == batch.id)).one() == moves
        )
    # Undo it from History.
    app.segmented_control(key="assign.view").set_value("History").run()
    app.selectbox(key="assign.u_batch").set_value(batch.id).run()
    assert any("can be undone" in s.value for s in app.success)
    _button(app, "assign.u_open").click().run()
    _button(app, "assign.undo.confirm").click().run()
    assert any(f"Batch {batch.id} undone" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        assert s.get(AssignmentBatch, batch.id).undone_by_batch_id is not None
        assert (
            s.exec(
                select(func.count()).select_from(Customer).where(Customer.tier_rank > 0, Customer.manager_id.is_(None))
            ).one()
            == waiting
        )


def test_admin_rebalances_the_over_capacity_managers(app, seeded_engine):
    _open(app, "admin", "Rebalance")
    _button(app, "assign.b_preview").click().run()
    per_manager = _frame(app, "load_after")
    assert (per_manager["load_before"] > per_manager["capacity"]).any()
    assert (per_manager["load_after"] <= per_manager["capacity"]).all()
    _button(app, "assign.reb.apply").click().run()
    _button(app, "assign.reb.confirm").click().run()
    jobs.work_once(seeded_engine)
    app.run()
    with Session(seeded_engine) as s:
        assert s.exec(
            select(AssignmentBatch).where(AssignmentBatch.kind == "rebalance").order_by(AssignmentBatch.id.desc())
        ).first().moves == len(
            s.exec(select(Assignment).where(Assignment.reason == "rebalance", Assignment.at > _recent())).all()
        )


def _recent():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)


def test_supervisor_plans_a_leave_with_cover(app, seeded_engine):
    with Session(seeded_engine) as s:
        sup = _user(seeded_engine, "supervisor")
        view = workload(
            session=s,
            actor=Actor(user_id=sup.id, username="supervisor", role="supervisor"),
            today=today_local(),
            limit=0,
        )
        code = view.chart[view.chart["status"] == "active"].sort_values("load")["code"].iloc[0]
        m = s.exec(select(Staff).where(Staff.code == code)).one()
        held = s.exec(select(func.count()).select_from(Customer).where(Customer.manager_id == m.id)).one()
    _open(app, "supervisor", "Leave and exit")
    app.selectbox(key="assign.l_manager").set_value(m.id)
    app.date_input(key="assign.l_end").set_value(today_local() - dt.timedelta(days=1))
    [b for b in app.button if b.label == "Preview cover"][0].click().run()
    assert any("ends before it starts" in e.value for e in app.error)  # a bad leave changes nothing
    app.date_input(key="assign.l_end").set_value(today_local() + dt.timedelta(days=5))
    [b for b in app.button if b.label == "Preview cover"][0].click().run()
    plan = app.session_state["assign.leave.plan"]
    assert len(plan.moves) + len(plan.unplaced) == held
    _button(app, "assign.leave.apply").click().run()
    _button(app, "assign.leave.confirm").click().run()
    jobs.work_once(seeded_engine)
    with Session(seeded_engine) as s:
        staff = s.get(Staff, m.id)
        assert staff.leave_end == today_local() + dt.timedelta(days=5)
        assert s.exec(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.reason == "cover", Assignment.from_manager_id == m.id)
        ).one() >= len(plan.moves)


def test_supervisor_imports_a_csv_dry_run_then_apply(app, seeded_engine):
    cid, code, _old, target, target_code = _movable_vip(seeded_engine)
    data = (
        f"vip_code,manager_code,reason\n'{code.lower()},{target_code},customer_request\nNOPE,{target_code},\n".encode(
            "utf-8-sig"
        )
    )
    _open(app, "supervisor", "Import")
    app.file_uploader(key="assign.i_file").set_value(("moves.csv", data, "text/csv")).run()
    _button(app, "assign.i_dry").click().run()
    rows = _frame(app, "detail")
    assert list(rows["status"]) == ["ok (code case normalised)", "unknown VIP"]
    assert any(b.key == "assign.i_rejects" for b in app.get("download_button"))
    _button(app, "assign.imp.apply").click().run()
    _button(app, "assign.imp.confirm").click().run()
    jobs.work_once(seeded_engine)
    with Session(seeded_engine) as s:
        assert s.get(Customer, cid).manager_id == target
        batch = s.exec(
            select(AssignmentBatch).where(AssignmentBatch.kind == "import").order_by(AssignmentBatch.id.desc())
        ).first()
        assert batch.moves == 1


def test_supervisor_sla_view(app):
    _open(app, "supervisor", "SLAs")
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["Breached"].replace(",", "")) > 0  # the demo has breached SLAs
    assert int(metrics["Unassigned VIPs past binding due"]) > 0
    items = _frame(app, "days")
    assert set(items["kind"]) <= {"Binding", "Notice SMS", "First contact", "Regular contact"}
    assert all("late" in d for d in items["days"])


# ------------------------------------------------------------------------------------------------ client manager, team lead


def test_client_manager_sees_own_portfolio_read_only(app, seeded_engine):
    _open(app, "manager")
    staff_id = _user(seeded_engine, "manager").staff_id
    with Session(seeded_engine) as s:
        own = s.exec(
            select(func.count()).select_from(Customer).where(Customer.manager_id == staff_id, Customer.tier_rank > 0)
        ).one()
    assert app.segmented_control(key="assign.view").options == ["Workload", "VIPs", "History", "SLAs"]
    table = _frame(app, "flags")
    assert len(table) == 1
    assert {m.label: m.value for m in app.metric}["My VIPs"] == f"{own:,}"
    assert "read-only" in texts(app)
    for view in ("VIPs", "History", "SLAs"):
        app.segmented_control(key="assign.view").set_value(view).run()
        assert not app.exception
        # No action widgets anywhere: no selection, no reassign form, no undo, no downloads of others' data.
        keys = {w.key for w in app.button} | {w.key for w in app.selectbox} | {w.key for w in app.multiselect}
        assert not {"assign.selected", "assign.r_target", "assign.u_batch", "assign.u_open"} & keys
        assert not [b for b in app.button if b.label in ("Reassign", "Preview", "Apply")]
    app.segmented_control(key="assign.view").set_value("VIPs").run()
    vips = _frame(app, "phone")
    with Session(seeded_engine) as s:
        mine = {c.code for c in s.exec(select(Customer).where(Customer.manager_id == staff_id)).all()}
    assert set(vips["code"]) <= mine and len(vips) == min(50, own)


def test_team_lead_is_refused_by_page_and_service(app, seeded_engine):
    login(app, "lead")
    assert "Assignment" not in [p.label for p in app.get("page_link")]
    # A deep link to the page script itself (the menu does not offer it): the guard refuses.
    lead = _user(seeded_engine, "lead")
    direct = new_app("pages/assignment.py")
    direct.session_state["auth.user_id"] = lead.id
    direct.run()
    assert any("do not have access" in e.value for e in direct.error)
    assert not direct.dataframe and not direct.metric
    with Session(seeded_engine) as s, pytest.raises(PermissionDenied):
        workload(session=s, actor=Actor(user_id=lead.id, username="lead", role="team_lead"), today=today_local())


def test_home_tiles(app):
    login(app, "supervisor")
    labels = [m.label for m in app.metric]
    assert "SLA breaches" in labels and "Unassigned VIPs past binding due" in labels
    app2 = new_app()
    login(app2, "manager")
    labels = [m.label for m in app2.metric]
    assert "My contacts due (7 days)" in labels and "My SLA breaches" in labels
