"""In Chromium: log in, read Home's figures, switch language, log out; deep links on a fresh server."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, func, select

from console.db import make_engine
from models import Customer
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def test_login_home_language_logout(page: Page, server):
    log_in(page, server.url, "supervisor")
    engine = make_engine(f"sqlite:///{server.db_path}")
    with Session(engine) as s:
        vips = s.exec(select(func.count()).select_from(Customer).where(Customer.tier_rank > 0)).one()
    engine.dispose()
    metric = page.locator('[data-testid="stMetric"]', has_text="VIPs").first
    expect(metric).to_contain_text(f"{vips:,}")
    expect(page.locator('[data-testid="stMetric"]', has_text="Unassigned VIPs").first).to_be_visible()

    page.locator(".st-key-sidebar-lang").get_by_role("combobox").click()
    page.get_by_role("option", name="简体中文").click()
    expect(page.get_by_role("heading", name=re.compile("^欢迎"))).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    # Back to English (the choice is saved on the user, and other browser tests log in as supervisor).
    page.locator(".st-key-sidebar-lang").get_by_role("combobox").click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name="Log out")).to_have_count(0, timeout=20_000)


def test_wrong_password_message(page: Page, server):
    page.goto(server.url)
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Invalid username or password.")).to_be_visible(timeout=20_000)


@pytest.mark.parametrize("path", ["", "home", "admin", "customers"])
def test_deep_link_on_a_fresh_server_shows_only_login(page: Page, fresh_server, path):
    page.goto(f"{fresh_server.url}/{path}")
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(0)
    expect(page.get_by_text("Audit log")).to_have_count(0)
