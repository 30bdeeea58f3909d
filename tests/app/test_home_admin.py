"""Home figures per role and the Admin page."""

import pytest
from sqlmodel import Session, func, select

from models import AuditLog, Customer, Staff, User
from tests.app.conftest import login, texts


def _metric(at, label):
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def test_home_figures_match_the_database_for_a_supervisor(app, seeded_engine):
    login(app, "supervisor")
    with Session(seeded_engine) as s:
        vips = s.exec(select(func.count()).select_from(Customer).where(Customer.tier_rank > 0)).one()
        unassigned = s.exec(
            select(func.count()).select_from(Customer).where(Customer.tier_rank > 0, Customer.manager_id.is_(None))
        ).one()
    assert _metric(app, "VIPs") == f"{vips:,}"
    assert _metric(app, "Unassigned VIPs") == f"{unassigned:,}"
    assert unassigned > 0
    assert _metric(app, "Demo data age") == "0 days"
    tiers = app.dataframe[0].value
    assert list(tiers["tier"]) == ["Member", "Silver", "Gold", "Platinum", "Diamond", "Supreme"]
    assert int(tiers["count"].sum()) == _count_all(seeded_engine)


def test_home_for_a_client_manager_shows_the_portfolio(app, seeded_engine):
    login(app, "manager")
    with Session(seeded_engine) as s:
        staff_id = s.exec(select(User.staff_id).where(User.username == "manager")).one()
        own = s.exec(
            select(func.count()).select_from(Customer).where(Customer.manager_id == staff_id, Customer.tier_rank > 0)
        ).one()
    assert "My portfolio by tier" in texts(app)
    assert _metric(app, "VIPs") == f"{own:,}"
    assert "Unassigned VIPs" not in [m.label for m in app.metric]


@pytest.mark.parametrize("username", ["lead", "agent", "reception", "trainee"])
def test_home_renders_for_every_role(app, username):
    login(app, username)
    assert not app.exception
    assert "Upcoming visits" in texts(app)


def test_admin_creates_a_user_and_it_is_audited(app, seeded_engine):
    login(app, "admin")
    app.switch_page("pages/admin.py").run()
    assert not app.exception
    app.text_input(key="admin.new_username").input("new.lead")
    app.selectbox(key="admin.new_role").set_value("team_lead")
    app.text_input(key="admin.new_password").input("first-pass-1")
    [b for b in app.button if b.label == "Create user"][0].click().run()
    assert any("new.lead" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        user = s.exec(select(User).where(User.username == "new.lead")).one()
        assert user.role == "team_lead" and user.must_change_password
        row = s.exec(select(AuditLog).where(AuditLog.action == "users.create")).one()
        assert row.actor == "admin" and "first-pass-1" not in row.params


def test_admin_create_user_validation_message(app):
    login(app, "admin")
    app.switch_page("pages/admin.py").run()
    app.text_input(key="admin.new_username").input("x y")
    app.text_input(key="admin.new_password").input("first-pass-1")
    [b for b in app.button if b.label == "Create user"][0].click().run()
    assert any("letters, digits" in e.value for e in app.error)


def test_admin_reference_data_and_audit_tabs(app):
    login(app, "admin")
    app.switch_page("pages/admin.py").run()
    frames = [df.value for df in app.dataframe]
    assert frames, "no tables"
    shown = texts(app)
    for heading in ("Tier ladder", "Scorecards", "Reception levels", "Checklist templates", "Discipline rules"):
        assert heading in shown
    templates = next(v for v in frames if "code" in v.columns and "items" in v.columns)
    assert dict(zip(templates["code"], templates["items"], strict=True)) == {"T1": 26, "T2": 50, "T3": 23, "T4": 19}


def test_admin_demo_reset_asks_for_confirmation(app, seeded_engine):
    login(app, "admin")
    app.switch_page("pages/admin.py").run()
    assert any(b.label == "Reset demo data" for b in app.button)
    with Session(seeded_engine) as s:
        before = s.exec(select(func.count()).select_from(Staff)).one()
    [b for b in app.button if b.label == "Reset demo data"][0].click().run()
    # The dialog opens; nothing is reset until RESET is typed and confirmed.
    with Session(seeded_engine) as s:
        assert s.exec(select(func.count()).select_from(Staff)).one() == before


def _count_all(engine):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Customer).where(Customer.is_training == False)).one()  # noqa: E712
