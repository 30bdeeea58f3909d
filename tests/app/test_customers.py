"""The Customers page (VIP 360) on the seeded small demo: admin, supervisor, team lead, client manager see it
(each in their scope); agent, reception and trainee are refused. Search by full phone (masked), the audited
reveal, the timeline and its links, the gap lists and their exports, the early warning, bad input."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from console.customers import search_customers
from console.permissions import Actor, PermissionDenied
from console.timeutil import today_local
from models import AuditLog, Call, Customer, Evaluation, Staff, User
from tests.app.conftest import login, new_app, sidebar_pages, texts

PAGE = "pages/customers.py"


def _open(app, username, **query):
    login(app, username)
    assert "Customers" in sidebar_pages(app)
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _view(app, view):
    app.segmented_control(key="customers.view").set_value(view).run()
    assert not app.exception, app.exception


def _search(app, text):
    app.text_input(key="customers.q").input(text).run()
    assert not app.exception, app.exception


def _frame(app, column):
    for df in app.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with {column!r}: {[list(d.value.columns) for d in app.dataframe]}")


def _actor(engine, username) -> Actor:
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        staff = s.get(Staff, user.staff_id) if user.staff_id else None
        return Actor(user.id, user.username, user.role, user.staff_id, staff.team_id if staff else None)


def _evaluated_customer(engine, *, manager_id=None):
    """A customer (of this manager, if given) with a submitted regular evaluation of a call to them."""
    with Session(engine) as s:
        stmt = (
            select(Customer, Evaluation.id)
            .join(Call, Call.customer_id == Customer.id)
            .join(Evaluation, Evaluation.call_id == Call.id)
            .where(
                Evaluation.kind == "regular",
                Evaluation.status != "draft",
                Customer.phone.is_not(None),  # type: ignore[union-attr]
                Customer.is_training == False,  # noqa: E712
            )
            .order_by(Customer.code, Evaluation.id)
        )
        if manager_id is not None:
            stmt = stmt.where(Customer.manager_id == manager_id, Evaluation.evaluatee_id == manager_id)
        customer, eval_id = s.exec(stmt).first()
        return customer, eval_id


def _reveals(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "customers.reveal")).one()


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


# ------------------------------------------------------------------------------------------------ supervisor


def test_supervisor_searches_by_full_phone_reveals_and_follows_a_timeline_link(app, seeded_engine):
    customer, eval_id = _evaluated_customer(seeded_engine)
    _open(app, "supervisor")
    assert "Coverage gaps" in texts(app)  # the gap shortcuts before any search
    spaced = f"{customer.phone[:3]} {customer.phone[3:7]} {customer.phone[7:]}"
    _search(app, spaced)
    # One match: the profile opens; the number is masked everywhere.
    assert app.session_state["ctx.customer"] == customer.id
    assert app.query_params["customer"] == [customer.code] or app.query_params["customer"] == customer.code
    assert f"{customer.name} · {customer.code}" in [h.value for h in app.header]
    shown = " ".join(str(t.value) for t in app.text)
    assert _masked(customer.phone) in shown and customer.phone not in shown
    before = _reveals(seeded_engine)
    app.button(key="customers.reveal.phone").click().run()
    assert not app.exception, app.exception
    assert customer.phone in " ".join(str(t.value) for t in app.text)
    assert _reveals(seeded_engine) == before + 1
    # Timeline: every kind, the evaluation among its events, and its link opens Call QA on that evaluation.
    timeline = _frame(app, "kind_label")
    assert len(timeline) > 0
    assert any(f"evaluation #{eval_id}" in d for d in timeline["detail"])
    row = next(i for i, detail in enumerate(timeline["detail"]) if f"evaluation #{eval_id}" in detail)
    pick = app.selectbox(key="customers.tl_pick")
    assert f"Evaluation #{eval_id}" in pick.format_func(row)
    pick.set_value(row).run()
    app.button(key="customers.tl_go").click().run()
    assert not app.exception, app.exception
    assert app.session_state["ctx.qa_evaluation"] == eval_id
    assert "Call QA" in [t.value for t in app.title]


def test_supervisor_works_the_gap_lists_and_exports(app, seeded_engine):
    _open(app, "supervisor")
    _view(app, "gaps")
    radio = app.radio(key="customers.gap_kind")
    assert len(radio.options) == 6
    counts = {
        opt.rsplit("(", 1)[0].strip(): int(opt.rsplit("(", 1)[1].rstrip(")").replace(",", "")) for opt in radio.options
    }
    assert counts["Manager on leave without cover"] > 0  # the demo's manager on leave
    assert counts["Manager's level no longer allows the tier"] >= 1  # the junior holding a Platinum
    table = _frame(app, "detail")
    assert len(table) == min(50, counts["Manager on leave without cover"])
    assert table["phone"].str.contains(r"\*\*\*\*").all()
    radio.set_value("level_mismatch").run()
    level = _frame(app, "detail")
    assert level["detail"].str.contains("may not hold").all()
    app.button(key="customers.gap_export.level_mismatch.prepare").click().run()
    assert {d.label for d in app.get("download_button")} == {"CSV", "XLSX"}
    before = _audit_count(seeded_engine, "customers.export_numbers")
    app.checkbox(key="customers.gap_numbers.level_mismatch").check().run()
    app.button(key="customers.gap_export_full.level_mismatch.prepare").click().run()
    assert not app.exception, app.exception
    assert _audit_count(seeded_engine, "customers.export_numbers") == before + 1
    # Open a customer from the list: the profile shows their gap.
    code = level.iloc[0]["code"]
    app.selectbox(key="customers.gap_table.level_mismatch.pick").set_value(code).run()
    with Session(seeded_engine) as s:
        assert app.session_state["ctx.customer"] == s.exec(select(Customer.id).where(Customer.code == code)).one()
    assert app.segmented_control(key="customers.view").value == "find"
    assert any("Manager's level no longer allows the tier" in w.value for w in app.warning)


def _audit_count(engine, action):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == action)).one()


def test_supervisor_sees_the_early_warning(app):
    _open(app, "supervisor")
    _view(app, "warning")
    table = _frame(app, "change")
    assert len(table) > 0 and {"down_0", "down_1", "score_0", "score_1", "weakest", "trend"} <= set(table.columns)
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    app.segmented_control(key="customers.w_level").set_value("team").run()
    assert not app.exception, app.exception
    assert len(_frame(app, "change")) >= 2


def test_admin_sees_everyone(app, seeded_engine):
    _open(app, "admin")
    app.selectbox(key="customers.flag").set_value("supreme").run()
    table = _frame(app, "flags")
    with Session(seeded_engine) as s:
        supreme = s.exec(select(func.count()).select_from(Customer).where(Customer.supreme == True)).one()  # noqa: E712
    assert len(table) == supreme and table["flags"].str.contains("Supreme").all()
    assert "Early warning" in app.segmented_control(key="customers.view").options


# ------------------------------------------------------------------------------------------------ team lead


def test_team_lead_sees_only_their_teams_callees(app, seeded_engine):
    lead = _actor(seeded_engine, "lead")
    with Session(seeded_engine) as s:
        members = select(Staff.id).where(Staff.team_id == lead.team_id)
        callee = s.exec(
            select(Customer).join(Call, Call.customer_id == Customer.id).where(Call.caller_id.in_(members))  # type: ignore[attr-defined]
        ).first()
        stranger = s.exec(
            select(Customer).where(
                Customer.id.not_in(select(Call.customer_id).where(Call.caller_id.in_(members))),  # type: ignore[union-attr,attr-defined]
                Customer.phone.is_not(None),  # type: ignore[union-attr]
                Customer.is_training == False,  # noqa: E712
            )
        ).first()
    _open(app, "lead")
    assert "Early warning" not in app.segmented_control(key="customers.view").options
    _search(app, stranger.phone)
    assert "No customer in your scope matches." in texts(app)
    _search(app, callee.phone)
    assert app.session_state["ctx.customer"] == callee.id
    assert not [b for b in app.button if b.key and b.key.startswith("customers.reveal")]  # leads never reveal
    assert len(_frame(app, "kind_label")) > 0


# ------------------------------------------------------------------------------------------------ client manager


def test_client_manager_sees_their_portfolio_and_reveals_with_an_audit_row(app, seeded_engine):
    me = _actor(seeded_engine, "manager")
    with Session(seeded_engine) as s:
        mine = s.exec(
            select(Customer)
            .where(Customer.manager_id == me.staff_id, Customer.phone.is_not(None))
            .order_by(Customer.code)  # type: ignore[union-attr]
        ).first()
        other = s.exec(
            select(Customer)
            .where(Customer.manager_id != me.staff_id, Customer.phone.is_not(None))
            .order_by(Customer.code)  # type: ignore[union-attr]
        ).first()
    _open(app, "manager")
    assert "Search your portfolio" in texts(app)
    _search(app, other.phone)
    assert "No customer in your scope matches." in texts(app)
    _search(app, mine.phone)
    assert app.session_state["ctx.customer"] == mine.id
    before = _reveals(seeded_engine)
    app.button(key="customers.reveal.id_number").click().run()
    assert not app.exception, app.exception
    assert mine.id_number in " ".join(str(t.value) for t in app.text)
    assert _reveals(seeded_engine) == before + 1
    _view(app, "gaps")
    assert not [c for c in app.checkbox if c.key and "gap_numbers" in c.key]  # no export with numbers
    app.radio(key="customers.gap_kind").set_value("contact_overdue").run()
    table = _frame(app, "detail")
    with Session(seeded_engine) as s:
        held = set(s.exec(select(Customer.code).where(Customer.manager_id == me.staff_id)).all())
    assert len(table) > 0 and set(table["code"]) <= held


def test_a_link_to_a_customer_out_of_scope_or_unknown_says_so(app, seeded_engine):
    me = _actor(seeded_engine, "manager")
    with Session(seeded_engine) as s:
        other = s.exec(select(Customer).where(Customer.manager_id != me.staff_id)).first()
    _open(app, "manager", customer=other.code)
    assert f"The customer {other.code} is not in your scope." in texts(app)
    assert "ctx.customer" not in app.session_state or app.session_state["ctx.customer"] is None
    assert not app.header  # no profile drawn


def test_a_link_opens_the_customer(app, seeded_engine):
    customer, _ = _evaluated_customer(seeded_engine)
    _open(app, "supervisor", customer=customer.code.lower())
    assert app.session_state["ctx.customer"] == customer.id
    assert f"{customer.name} · {customer.code}" in [h.value for h in app.header]


def test_an_unknown_code_in_a_link(app):
    _open(app, "supervisor", customer="C9999999")
    assert "No customer with the code C9999999." in texts(app)


# ------------------------------------------------------------------------------------------------ bad input


def test_bad_search_input(app):
    _open(app, "supervisor")
    _search(app, "x" * 10_000)
    assert "The search text is too long: at most 100 characters." in texts(app)
    for text in ("'; DROP TABLE customer; --", "<img src=x onerror=alert(1)>"):
        _search(app, text)
        assert "No customer in your scope matches." in texts(app)
        assert not app.exception


# ------------------------------------------------------------------------------------------------ refused


@pytest.mark.parametrize("username", ["agent", "reception", "trainee"])
def test_other_roles_are_refused_by_page_and_service(app, seeded_engine, username):
    login(app, username)
    assert "Customers" not in sidebar_pages(app)
    # A deep link to the page script itself (the menu does not offer it): the guard refuses.
    user = _actor(seeded_engine, username)
    direct = new_app(PAGE)
    direct.session_state["auth.user_id"] = user.user_id
    direct.run()
    assert any("do not have access" in e.value for e in direct.error)
    assert not direct.dataframe and not direct.text_input
    with Session(seeded_engine) as s, pytest.raises(PermissionDenied):
        search_customers(session=s, actor=user, today=today_local())


def test_home_shows_the_gap_counts_to_supervisors_only(app, seeded_engine):
    login(app, "supervisor")
    labels = {m.label: m.value for m in app.metric}
    assert "Gap · leave, no cover" in labels and int(labels["Gap · leave, no cover"].replace(",", "")) > 0
    assert today_local()  # the seeded demo is anchored to today


def test_a_visit_in_the_timeline_opens_in_reception(app, seeded_engine):
    from models import Visit

    with Session(seeded_engine) as s:
        visit = s.exec(
            select(Visit)
            .where(Visit.customer_id.is_not(None), Visit.status == "planned")  # type: ignore[union-attr]
            .order_by(Visit.arrival_at)
        ).first()
        code = s.get(Customer, visit.customer_id).code
    _open(app, "supervisor", customer=code)
    app.multiselect(key="customers.tl_kinds").set_value(["visit"]).run()
    timeline = _frame(app, "kind_label")
    row = next(i for i, where in enumerate(timeline["link_label"]) if where == f"Visit #{visit.id}")
    app.selectbox(key="customers.tl_pick").set_value(row).run()
    app.button(key="customers.tl_go").click().run()
    assert not app.exception, app.exception
    assert app.session_state["ctx.reception_visit"] == visit.id
    assert "Reception" in [t.value for t in app.title]
