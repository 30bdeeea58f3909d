"""In Chromium: an admin imports a small GBK CSV of purchases in Admin → Imports and sees the customer's tier change."""

import datetime as dt
import os

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from console.db import make_engine
from console.timeutil import today_local
from models import Customer
from tests.e2e.conftest import log_in, wait_idle
from tests.unit.factories_imports import csv_bytes

pytestmark = pytest.mark.e2e


def _member(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    with Session(engine) as s:
        row = s.exec(
            select(Customer)
            .where(Customer.tier_rank == 0, Customer.is_training == False, Customer.manager_id.is_(None))  # noqa: E712
            .order_by(Customer.code.desc())
        ).first()
        code, cid = row.code, row.id
    engine.dispose()
    return code, cid


def _tier(db_path, cid):
    engine = make_engine(f"sqlite:///{db_path}")
    with Session(engine) as s:
        rank = s.get(Customer, cid).tier_rank
    engine.dispose()
    return rank


def test_admin_imports_a_gbk_purchase_file_and_sees_the_tier_change(page: Page, server):
    code, cid = _member(server.db_path)
    day = (today_local() - dt.timedelta(days=2)).isoformat()
    data = csv_bytes(
        [["客户编号", "交易时间", "金额(元)", "流水号"], [code, f"{day} 15:20", "￥12,500.00", "E2E-IMPORT-1"]],
        encoding="gbk",
    )
    log_in(page, server.url, "admin")
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Imports").click()
    wait_idle(page)
    page.locator(".st-key-imports-kind").get_by_role("combobox").click()
    page.get_by_role("option", name="Purchase records").click()
    wait_idle(page)
    page.locator(".st-key-imports-file input[type=file]").set_input_files(
        {"name": "purchases_gbk.csv", "mimeType": "text/csv", "buffer": data}
    )
    expect(page.get_by_text("CSV, GBK, separated by comma: 1 rows.")).to_be_visible(timeout=30_000)
    page.locator(".st-key-imports-dry_run").get_by_role("button").click()
    expect(page.locator('[data-testid="stMetric"]', has_text="To write")).to_contain_text("1", timeout=30_000)
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        page.screenshot(path=os.environ["CONSOLE_SCREENSHOTS"] + "/imports_dry_run.png")
    page.locator(".st-key-imports-apply").get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 rows will be written", timeout=30_000)
    dialog.locator(".st-key-imports-confirm").get_by_role("button").click()
    # The in-process worker runs the job; the area redraws with the result and the tier change.
    expect(page.get_by_role("heading", name="Tier changes from this import")).to_be_visible(timeout=60_000)
    row = page.locator('[data-testid="stDataFrame"] tr', has=page.locator('td[role="gridcell"]', has_text=code))
    expect(row.first).to_contain_text("Member", timeout=30_000)
    expect(row.first).to_contain_text("Gold")
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        page.screenshot(path=os.environ["CONSOLE_SCREENSHOTS"] + "/imports_done.png")
    assert _tier(server.db_path, cid) == 2
    expect(page.get_by_text("Tier upgrades: 1.", exact=False)).to_be_visible()
