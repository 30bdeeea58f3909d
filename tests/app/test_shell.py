"""Login, navigation per role, language, logout, inactivity expiry, the deep-link guard."""

import time

import pytest
from sqlmodel import Session, select

from console.permissions import landed_pages
from console.ui import K_LAST
from models import AuditLog
from tests.app.conftest import DEMO_LOGINS, login, new_app, sidebar_pages, texts

TITLES = {
    "home": "Home",
    "customers": "Customers",
    "assignment": "Assignment",
    "tiers": "Tiers",
    "call_qa": "Call QA",
    "agent_kpis": "Agent KPIs",
    "reception": "Reception",
    "admin": "Admin",
}


def expected_titles(role):
    from tests.unit.test_permissions import SPEC_PAGES

    landed = set(landed_pages())
    return [TITLES[p] for p in SPEC_PAGES[role] if p in landed]


def test_login_form_fields_and_demo_accounts(app):
    app.run()
    assert [ti.label for ti in app.text_input] == ["Username", "Password"]
    assert any(b.label == "Log in" for b in app.button)
    assert "Demo accounts" in texts(app)
    assert sidebar_pages(app) == []


def test_demo_accounts_hidden_when_demo_mode_is_off(app, monkeypatch):
    monkeypatch.setenv("CONSOLE_DEMO", "0")
    app.run()
    assert "Demo accounts" not in texts(app)


@pytest.mark.parametrize("username", list(DEMO_LOGINS))
def test_each_demo_role_sees_exactly_its_pages(app, username):
    login(app, username)
    assert not app.exception
    assert sidebar_pages(app) == expected_titles(DEMO_LOGINS[username])
    assert app.title[0].value.startswith("Welcome")


def test_wrong_password_does_not_say_which_part(app):
    login(app, "admin", "wrong-password")
    assert [e.value for e in app.error] == ["Invalid username or password."]
    assert sidebar_pages(app) == []
    login(app, "nobody-here", "demo")
    assert "Invalid username or password." in [e.value for e in app.error]


def test_demo_lockout_is_per_browser_session(app):
    for _ in range(5):
        login(app, "supervisor", "bad")
    login(app, "supervisor", "demo")
    assert any("Too many failed attempts in this browser" in e.value for e in app.error)
    other_browser = new_app()
    login(other_browser, "supervisor", "demo")
    assert sidebar_pages(other_browser) == expected_titles("supervisor")


def test_language_switch_persists_across_pages(app, seeded_url):
    login(app, "admin")
    app.selectbox(key="sidebar.lang").set_value("zh").run()
    assert app.title[0].value.startswith("欢迎")
    app.switch_page("pages/admin.py").run()
    assert app.title[0].value == "管理"
    assert [tab.label for tab in app.tabs][:2] == ["用户", "审计日志"]
    # The choice follows the user: a new browser session of the same user opens in Chinese, menu included.
    again = new_app()
    login(again, "admin")
    assert sidebar_pages(again)[0] == "首页" and sidebar_pages(again)[-1] == "管理"


def test_logout(app):
    login(app, "agent")
    app.button(key="sidebar.logout").click().run()
    assert sidebar_pages(app) == []
    assert [ti.label for ti in app.text_input] == ["Username", "Password"]


def test_session_expires_after_30_minutes_idle(app):
    login(app, "agent")
    app.session_state[K_LAST] = time.time() - 31 * 60
    app.run()
    assert sidebar_pages(app) == []
    assert "30 minutes without activity" in texts(app)


@pytest.mark.parametrize("page", ["pages/home.py", "pages/admin.py"])
def test_deep_link_without_login_shows_only_the_login_form(seeded_url, page):
    at = new_app(page)
    at.run()
    assert not at.exception
    assert [ti.label for ti in at.text_input] == ["Username", "Password"]
    assert not at.metric and not at.dataframe and not at.tabs


def test_deep_link_to_admin_as_supervisor_is_refused(seeded_url):
    at = new_app()
    login(at, "supervisor")
    page = new_app("pages/admin.py")
    for key in ("auth.user_id", "auth.last_activity"):
        page.session_state[key] = at.session_state[key]
    page.run()
    assert [e.value for e in page.error] == ["You do not have access to this page."]
    assert not page.tabs


def test_forced_password_change_after_admin_reset(app, seeded_engine):
    login(app, "admin")
    app.switch_page("pages/admin.py").run()
    app.selectbox(key="admin.edit_user").set_value(_user_id(seeded_engine, "agent")).run()
    app.text_input(key="admin.reset_password").input("temporary-9")
    [b for b in app.button if b.label == "Reset password"][0].click().run()
    assert any("must choose a new one" in s.value for s in app.success)

    agent = new_app()
    login(agent, "agent", "temporary-9")
    assert agent.title[0].value == "Change password"
    agent.text_input(key="account.forced.old").input("temporary-9")
    agent.text_input(key="account.forced.new").input("my-own-secret")
    agent.text_input(key="account.forced.again").input("my-own-secret")
    [b for b in agent.button if b.label == "Save new password"][0].click().run()
    assert agent.title[0].value.startswith("Welcome")
    with Session(seeded_engine) as s:
        actions = [r.action for r in s.exec(select(AuditLog))]
    assert "users.reset_password" in actions and "account.change_password" in actions


def _user_id(engine, username):
    from models import User

    with Session(engine) as s:
        return s.exec(select(User.id).where(User.username == username)).one()
