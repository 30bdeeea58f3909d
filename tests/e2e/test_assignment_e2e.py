"""In Chromium: a supervisor reassigns a VIP on the Assignment page and finds the history row."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select, update

from console.db import make_engine
from models import Assignment, Customer, Staff, User
from tests.e2e.conftest import log_in, wait_idle

pytestmark = pytest.mark.e2e


def _a_silver_vip(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    with Session(engine) as s:
        # The server is shared by the browser tests: another one may have switched this user to Chinese.
        s.exec(update(User).where(User.username == "supervisor").values(language="en"))
        s.commit()
        vip = s.exec(
            select(Customer).where(Customer.tier_rank == 1, Customer.manager_id.is_not(None)).order_by(Customer.code)
        ).first()
        out = (vip.id, vip.code, vip.manager_id)
    engine.dispose()
    return out


def _open(page: Page, key: str) -> None:
    """Open a select box or multiselect (by widget key) and show its options."""
    box = page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    if box.get_attribute("aria-expanded") != "true":
        box.press("ArrowDown")
    expect(page.get_by_role("option").first).to_be_visible(timeout=10_000)


def test_reassign_a_vip_and_see_the_history_row(page: Page, server):
    cid, code, old_manager = _a_silver_vip(server.db_path)
    log_in(page, server.url, "supervisor")
    page.get_by_role("link", name="Assignment").click()
    expect(page.get_by_role("heading", name="Assignment")).to_be_visible(timeout=30_000)
    page.get_by_role("radio", name="VIPs", exact=True).click()
    wait_idle(page)

    search = page.get_by_placeholder("VIP code, name or full phone number")
    search.wait_for(timeout=20_000)
    search.fill(code)
    search.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Rows 1–1 of 1")).to_be_visible(timeout=20_000)

    _open(page, "assign-selected")
    page.get_by_role("option", name=code, exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    expect(page.get_by_role("heading", name=re.compile(r"^Reassign 1 VIPs"))).to_be_visible(timeout=20_000)

    _open(page, "assign-r_target")
    first = page.get_by_role("option").first
    target_code = first.inner_text().split(" · ")[0].strip()
    assert "→" in first.inner_text()  # utilisation after the move is offered with each manager
    first.click()
    _open(page, "assign-r_reason")
    page.get_by_role("option", name="Customer request").click()
    page.locator('[data-testid="stFormSubmitButton"]').get_by_role("button", name="Reassign").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(rf"1 VIPs reassigned to {target_code} \(batch \d+\)"))).to_be_visible(
        timeout=20_000
    )

    engine = make_engine(f"sqlite:///{server.db_path}")
    with Session(engine) as s:
        target = s.exec(select(Staff).where(Staff.code == target_code)).one()
        assert s.get(Customer, cid).manager_id == target.id
        row = s.exec(select(Assignment).where(Assignment.customer_id == cid).order_by(Assignment.id.desc())).first()
        assert (row.from_manager_id, row.to_manager_id, row.reason) == (old_manager, target.id, "customer_request")
    engine.dispose()

    page.get_by_role("radio", name="History", exact=True).click()
    wait_idle(page)
    box = page.get_by_label("VIP code")
    box.fill(code)
    box.press("Enter")
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Rows 1–\d+ of \d+")).first).to_be_visible(timeout=20_000)
    # The grid draws on a canvas; its cells are mirrored in an accessible table inside it.
    cells = page.locator('[data-testid="stDataFrame"]').first.locator('td[role="gridcell"]')
    expect(cells.filter(has_text="Customer request").first).to_be_attached(timeout=20_000)
    expect(cells.filter(has_text=re.compile(rf"^{target_code} · ")).first).to_be_attached()
    expect(cells.filter(has_text="supervisor").first).to_be_attached()
