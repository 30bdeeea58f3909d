"""In Chromium: an administrator (a supervisor's view of the page) searches a customer by their full phone
number, the profile opens with the number masked, the timeline lists the customer's evaluated call, and its link
opens Call QA on that evaluation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from console.db import make_engine
from models import Call, Customer, Evaluation
from tests.e2e.conftest import log_in, wait_idle

pytestmark = pytest.mark.e2e


def evaluated_customer(db_path) -> tuple[str, str, str, int]:
    """(code, name, phone, evaluation id) of a customer with a submitted regular evaluation of a call to them."""
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as s:
            customer, eval_id = s.exec(
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
            ).first()
            return customer.code, customer.name, customer.phone, int(eval_id)
    finally:
        engine.dispose()


def by_key(page: Page, key: str):
    """Streamlit puts the widget key in a class, st-key-<key> with dots as hyphens."""
    return page.locator(f"[class*='st-key-{key.replace('.', '-')}']")


def test_search_by_phone_open_the_timeline_and_follow_a_link_to_the_evaluation(page: Page, server):
    code, name, phone, eval_id = evaluated_customer(server.db_path)
    # admin: the shell test leaves the supervisor's saved language Chinese in the shared server database
    log_in(page, server.url, "admin")
    page.get_by_role("link", name="Customers").first.click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible(timeout=30_000)
    wait_idle(page)
    box = page.get_by_placeholder("Code, name or full phone number")
    box.fill(f"{phone[:3]} {phone[3:7]} {phone[7:]}")
    box.press("Enter")
    expect(page.get_by_role("heading", name=f"{name} · {code}")).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(page).to_have_url(re.compile(rf"customers\?customer={code}"))
    masked = f"{phone[:3]}****{phone[-4:]}"
    expect(page.get_by_text(f"Phone: {masked}")).to_be_visible()
    assert phone not in page.locator("[data-testid='stMain']").inner_text()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    combo = by_key(page, "customers.tl_pick").get_by_role("combobox")
    combo.click()
    combo.fill(f"Evaluation #{eval_id}")  # the box filters its options as one types
    page.get_by_role("option", name=re.compile(re.escape(f"Evaluation #{eval_id}"))).first.click()
    wait_idle(page)
    by_key(page, "customers.tl_go").get_by_role("button").click()
    expect(page.get_by_role("heading", name="Call QA")).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(page).to_have_url(re.compile(rf"call-qa\?evaluation={eval_id}"))
    # Call QA opened on that evaluation: its "Open an evaluation" box holds it.
    chosen = by_key(page, "call_qa.eval_pick").get_by_role("combobox")
    expect(chosen).to_have_value(re.compile(rf"^#{eval_id}\b"), timeout=30_000)


def test_a_customer_link_opened_before_login_lands_on_that_customer(page, server):
    """A link such as /customers?customer=CODE, opened in a new tab, asks to log in and then opens it."""
    import sqlite3

    from playwright.sync_api import expect

    con = sqlite3.connect(server.db_path)
    code, name = con.execute(
        "SELECT code, name FROM customer WHERE tier_rank >= 3 AND is_training = 0 LIMIT 1"
    ).fetchone()
    con.close()
    page.goto(f"{server.url}/customers?customer={code}")
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(code).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(name).first).to_be_visible(timeout=30_000)
    assert f"customer={code}" in page.url
