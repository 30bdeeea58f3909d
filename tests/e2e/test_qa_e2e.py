"""In Chromium: a team lead scores a queued call of the demo agent and submits it; the agent then sees it
waiting for acknowledgement (Home and Call QA) and counted in their Agent KPIs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, func, select

from console.db import make_engine
from console.qa.queue import build_queue, week_of
from console.timeutil import today_local
from models import Evaluation, Team, User
from tests.e2e.conftest import log_in, wait_idle

pytestmark = pytest.mark.e2e


def pick_call(db_path):
    """A sampled, unscored call of the demo agent in one of the last weeks (week, label text, staff name)."""
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as s:
            lead = s.exec(select(User).where(User.username == "lead")).one()
            agent = s.exec(select(User).where(User.username == "agent")).one()
            from models import Staff

            lead_staff = s.get(Staff, lead.staff_id)
            agent_staff = s.get(Staff, agent.staff_id)
            team = s.get(Team, lead_staff.team_id)
            for back in range(0, 12):
                week = week_of(today_local() - dt.timedelta(weeks=back))
                rows = build_queue(s, team, week).rows
                mine = rows[(rows["caller"] == agent_staff.name) & rows["evaluation_status"].isna()]
                if not mine.empty:
                    return week, int(mine.iloc[0]["call_id"]), agent_staff.name, back
    finally:
        engine.dispose()
    raise AssertionError("no unscored queued call of the demo agent in 12 weeks")


def count_evaluations(db_path, staff_name):
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as s:
            from models import Staff

            staff_id = s.exec(select(Staff.id).where(Staff.name == staff_name)).first()
            return s.exec(
                select(func.count())
                .select_from(Evaluation)
                .where(Evaluation.evaluatee_id == staff_id, Evaluation.status == "submitted")
            ).one()
    finally:
        engine.dispose()


def by_key(page: Page, key: str):  # type: ignore[no-untyped-def]
    """Streamlit puts the widget key in a class, st-key-<key> with dots as hyphens."""
    return page.locator(f"[class*='st-key-{key.replace('.', '-')}']")


def kpi_evaluations(db_path, staff_name):
    """Non-void regular evaluations of the person whose call falls in the last 90 days (the page's default)."""
    from console.qa.common import call_window
    from models import Call, Staff

    engine = make_engine(f"sqlite:///{db_path}")
    start, end = call_window(today_local() - dt.timedelta(days=89), today_local())
    try:
        with Session(engine) as s:
            staff_id = s.exec(select(Staff.id).where(Staff.name == staff_name)).first()
            return s.exec(
                select(func.count())
                .select_from(Evaluation)
                .join(Call, Call.id == Evaluation.call_id)
                .where(
                    Evaluation.evaluatee_id == staff_id,
                    Evaluation.kind == "regular",
                    Evaluation.void == False,  # noqa: E712
                    Evaluation.status != "draft",
                    Call.started_at >= start,
                    Call.started_at < end,
                )
            ).one()
    finally:
        engine.dispose()


def choose(page: Page, key: str, option_text: str) -> None:
    box = by_key(page, key).get_by_role("combobox")
    box.click()
    box.fill(option_text)  # the list filters as one types (long lists are virtualised)
    page.get_by_role("option", name=re.compile(re.escape(option_text))).first.click()
    wait_idle(page)


def test_lead_scores_and_the_agent_sees_it(page: Page, server):
    week, call_id, agent_name, back = pick_call(server.db_path)
    waiting_before = count_evaluations(server.db_path, agent_name)

    log_in(page, server.url, "lead")
    page.get_by_role("link", name="Call QA").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Call QA")).to_be_visible()
    if back:
        choose(page, "call_qa.week", week)
    choose(page, "call_qa.call", agent_name)
    expect(page.get_by_text("Score this call")).to_be_visible()

    groups = by_key(page, f"call_qa.score.{call_id}.item.")
    assert groups.count() >= 10
    for n in range(groups.count()):
        group = groups.nth(n)
        labels = group.locator("label")
        texts = [labels.nth(i).inner_text().strip() for i in range(labels.count())]
        assert texts, group.inner_html()[:3000]
        target = "Yes" if "Yes" in texts else max((t for t in texts if t.isdigit()), key=int)
        group.locator("label").filter(has_text=re.compile(f"^{re.escape(target)}$")).first.click()
        wait_idle(page)
    expect(page.locator('[data-testid="stMetric"]', has_text="Total").first).to_contain_text("100.0")
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Evaluation #\d+ submitted"))).to_be_visible(timeout=20_000)
    assert count_evaluations(server.db_path, agent_name) == waiting_before + 1

    page.get_by_role("button", name="Log out").click()
    log_in(page, server.url, "agent")
    tile = page.locator('[data-testid="stMetric"]', has_text="Evaluations to acknowledge")
    expect(tile).to_contain_text(str(waiting_before + 1))
    page.get_by_role("link", name="Call QA").click()
    wait_idle(page)
    expect(page.get_by_text("wait for your acknowledgement")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()

    page.get_by_role("link", name="Agent KPIs").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="My figures")).to_be_visible()
    in_kpis = kpi_evaluations(server.db_path, agent_name)
    expect(page.locator('[data-testid="stMetric"]', has_text="Evaluations").first).to_contain_text(f"{in_kpis:,}")
