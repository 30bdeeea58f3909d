"""In Chromium: a supervisor plans a visit; its required items are completed by the host and by reception staff
(the readiness % moves with each); sign-off is refused with the blockers listed, then succeeds."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from console.db import make_engine
from console.reception import mark_item
from console.reception.runs import add_evidence
from models import Run, RunItem, Staff, User, Visit
from tests.e2e.conftest import log_in, wait_idle
from tests.unit.factories_reception import person

pytestmark = pytest.mark.e2e
GUEST = "E2E Provincial Delegation"


def _open_reception(page: Page, view: str | None = None) -> None:
    page.get_by_role("link", name="Reception").first.click()
    expect(page.get_by_role("heading", name="Reception")).to_be_visible(timeout=30_000)
    wait_idle(page)
    if view:
        page.locator(".st-key-reception-view").get_by_text(view, exact=True).click()
        wait_idle(page)


def _choose(page: Page, label: str, text: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()
    wait_idle(page)


def _readiness(page: Page) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text="Readiness").first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def _work_first_item(page: Page) -> None:
    panel = page.locator("[class*='st-key-reception-run_item-'][class*='-action']")
    panel.get_by_text("Done", exact=True).click()
    wait_idle(page)
    page.locator("[class*='st-key-reception-run_item-'][class*='-note'] textarea").fill("Checked on site")
    page.locator("[class*='st-key-FormSubmitter-reception-run_item-']").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved:", exact=False)).to_be_visible(timeout=30_000)
    wait_idle(page)


def test_plan_work_and_sign_off_a_visit(page: Page, server):
    engine = make_engine(f"sqlite:///{server.db_path}")
    with Session(engine) as s:
        manager_staff = s.exec(select(User.staff_id).where(User.username == "manager")).one()
        manager_name = s.get(Staff, manager_staff).name
        reception_staff = s.exec(select(User.staff_id).where(User.username == "reception")).one()
        department = s.get(Staff, reception_staff).department

    # 1. The supervisor plans a level-2 visit hosted by the demo client manager.
    log_in(page, server.url, "supervisor")
    _open_reception(page, "Plan a visit")
    page.locator(".st-key-reception-plan_level").click()
    page.get_by_role("option", name=re.compile("^Level 2")).click()
    wait_idle(page)
    page.locator(".st-key-reception-plan_guest input").fill(GUEST)
    page.locator(".st-key-reception-plan_location input").fill("Lotus Building")
    _choose(page, "Host", manager_name)
    page.get_by_role("button", name="Plan the visit").click()
    expect(page.get_by_text("Visit planned with its run")).to_be_visible(timeout=30_000)

    # Every item but one of the reception user's department and one other required item is done beforehand.
    with Session(engine) as s:
        visit = s.exec(select(Visit).where(Visit.guest_name == GUEST)).one()
        run = s.exec(select(Run).where(Run.visit_id == visit.id)).one()
        items = s.exec(select(RunItem).where(RunItem.run_id == run.id)).all()
        keep_dept = next(i for i in items if i.required and i.department == department)
        keep_host = next(i for i in items if i.required and i.department != department)
        run_id, dept_item, host_item = run.id, keep_dept.id, keep_host.id
        dept_label = f"{keep_dept.template_code} #{keep_dept.seq} ·"
        helper = person(s, "E2E-SV", "supervisor", "member_value")
        for item in items:
            if item.id in (dept_item, host_item):
                continue
            if item.evidence_required:
                add_evidence(session=s, actor=helper, item_id=item.id, note="ok")
            mark_item(session=s, actor=helper, item_id=item.id, state="done")
        s.commit()

    # 2. Sign-off is refused and lists both blockers.
    _open_reception(page, "Work a run")
    _choose(page, "Visit", GUEST)
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("Sign-off refused: 2 items block it.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(dept_label, exact=False).last).to_be_visible()

    # 3. Reception staff complete their department's item; the readiness % moves.
    log_in(page, server.url, "reception")
    _open_reception(page, "Work a run")
    _choose(page, "Visit", GUEST)
    before = _readiness(page)
    _work_first_item(page)
    after = _readiness(page)
    assert before != after and after != "100%"

    # 4. The host completes the last item.
    log_in(page, server.url, "manager")
    _open_reception(page, "Work a run")
    _choose(page, "Visit", GUEST)
    _work_first_item(page)
    expect(page.locator('[data-testid="stMetric"]', has_text="Readiness").first).to_contain_text("100%")

    # 5. The supervisor signs off.
    log_in(page, server.url, "supervisor")
    _open_reception(page, "Work a run")
    _choose(page, "Visit", GUEST)
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("Run signed off.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("read-only", exact=False).first).to_be_visible()
    with Session(engine) as s:
        assert s.get(Run, run_id).status == "signed_off"
        assert s.get(RunItem, dept_item).done_by == s.exec(select(User.id).where(User.username == "reception")).one()
        assert s.get(RunItem, host_item).done_by == s.exec(select(User.id).where(User.username == "manager")).one()
    engine.dispose()
