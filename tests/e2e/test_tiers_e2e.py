"""In Chromium: the Tiers page's distribution, a drill-down by clicking the chart, and the history view."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, func, select

from console.db import make_engine
from models import Customer
from tests.e2e.conftest import log_in, wait_idle

pytestmark = pytest.mark.e2e


def _counts(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    with Session(engine) as s:
        rows = dict(
            s.exec(
                select(Customer.tier_rank, func.count())
                .where(Customer.is_training == False)  # noqa: E712
                .group_by(Customer.tier_rank)
            ).all()
        )
    engine.dispose()
    return rows


def test_distribution_drill_down_by_clicking_the_chart(page: Page, server):
    counts = _counts(server.db_path)
    log_in(page, server.url, "supervisor")
    page.get_by_role("link", name="Tiers").click()
    expect(page.get_by_role("heading", name="Tiers")).to_be_visible(timeout=30_000)
    wait_idle(page)
    metric = page.locator('[data-testid="stMetric"]', has_text="Customers").first
    expect(metric).to_contain_text(f"{sum(counts.values()):,}")

    # Clicking the Gold bar selects it (on_select) and lists the customers behind the number.
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator('path[aria-label*="Gold"]').first.click()
    expect(page.get_by_text("Customers in Gold now")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(rf"Rows 1–\d+ of {counts[2]:,}"))).to_be_visible()

    # The same state from the selectbox: pick Silver.
    page.locator(".st-key-tiers-now_pick").get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"^Silver \(")).click()
    expect(page.get_by_text("Customers in Silver now")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(rf"Rows 1–\d+ of {counts[1]:,}"))).to_be_visible()


def test_history_view_draws_the_monthly_mix_and_the_matrix(page: Page, server):
    log_in(page, server.url, "supervisor")
    page.get_by_role("link", name="Tiers").click()
    expect(page.get_by_role("heading", name="Tiers")).to_be_visible(timeout=30_000)
    page.get_by_text("Over time", exact=True).click()
    expect(page.get_by_role("heading", name="Tier mix at each month's end")).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(page.get_by_role("heading", name=re.compile("^Movements between tiers"))).to_be_visible()
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(4)
