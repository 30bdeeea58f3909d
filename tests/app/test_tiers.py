"""The Tiers page for every role that sees it (and refused to the others), on the seeded small demo."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, func, select

from console.i18n import set_language
from console.jobs import work_once
from console.permissions import Actor
from console.tiers.risk import at_risk
from console.timeutil import today_local
from models import AuditLog, Customer, Job, TierLevel, User
from tests.app.conftest import login, new_app, sidebar_pages, texts

PAGE = "pages/tiers.py"


def open_tiers(app, username):
    login(app, username)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def section(app, key):
    app.segmented_control(key="tiers.section").set_value(key).run()
    assert not app.exception, app.exception


# Streamlit gives a read-only st.dataframe no element id, so tables are found by their columns.
TABLES = {
    "tiers.now_table": {"tier", "count", "share"},
    "tiers.drill_table.now": {"code", "history", "tier_since"},
    "tiers.drill_table.time": {"code", "history", "tier_since"},
    "tiers.by_manager": {"manager", "vips", "load", "utilisation"},
    "tiers.flow_table": {"tier", "in", "out", "net"},
    "tiers.ov_table": {"code", "set_by", "until"},
    "tiers.risk_table": {"code", "target", "spend_gap"},
}


def frame(app, key):
    wanted = TABLES[key]
    for df in app.dataframe:
        value = df.value
        if wanted <= set(value.columns):
            return value
    raise AssertionError(f"no table with columns {sorted(wanted)}")


def _counts(engine, **where):
    with Session(engine) as s:
        stmt = select(Customer.tier_rank, func.count()).where(Customer.is_training == False)  # noqa: E712
        if "manager_id" in where:
            stmt = stmt.where(Customer.manager_id == where["manager_id"])
        return dict(s.exec(stmt.group_by(Customer.tier_rank)).all())


def _staff_of(engine, username):
    with Session(engine) as s:
        return s.exec(select(User.staff_id).where(User.username == username)).one()


# ------------------------------------------------------------------------------------------- supervisor


def test_supervisor_reads_the_distribution_and_drills_into_a_tier(app, seeded_engine):
    open_tiers(app, "supervisor")
    counts = _counts(seeded_engine)
    table = frame(app, "tiers.now_table")
    assert list(table["tier"]) == ["Member", "Silver", "Gold", "Platinum", "Diamond", "Supreme"]
    assert list(table["count"]) == [counts.get(r, 0) for r in range(6)]
    assert [m.value for m in app.metric if m.label == "Customers"] == [f"{sum(counts.values()):,}"]
    # Drill-down from the selectbox: the same state a click on the chart sets.
    app.selectbox(key="tiers.now_pick").set_value(2).run()
    assert app.session_state["ctx.tiers_drill"] == {"kind": "tier", "rank": 2}
    listed = frame(app, "tiers.drill_table.now")
    assert set(listed["tier"]) == {"Gold"} and len(listed) == min(50, counts[2])
    assert listed["history"].str.contains("Gold").all()
    assert f"Rows 1–{min(50, counts[2])} of {counts[2]}" in texts(app)
    [b for b in app.button if b.label == "Prepare export"][0].click().run()
    assert {d.label for d in app.get("download_button")} == {"CSV", "XLSX"}
    # Breakdowns by team and by client manager.
    app.segmented_control(key="tiers.breakdown").set_value("manager").run()
    managers = frame(app, "tiers.by_manager")
    assert managers["vips"].sum() == sum(n for r, n in _counts_assigned(seeded_engine).items() if r > 0)


def _counts_assigned(engine):
    with Session(engine) as s:
        return dict(
            s.exec(
                select(Customer.tier_rank, func.count())
                .where(Customer.manager_id.is_not(None), Customer.is_training == False)  # noqa: E712
                .group_by(Customer.tier_rank)
            ).all()
        )


def test_supervisor_sees_the_history_movements_and_drills_into_a_month(app):
    open_tiers(app, "supervisor")
    section(app, "time")
    shown = texts(app)
    for heading in ("Tier mix at each month's end", "Net flow per tier", "Upgrades and downgrades per month"):
        assert heading in shown
    assert "Movements between tiers" in shown
    options = app.selectbox(key="tiers.mix_pick").options
    assert options, "no month/tier to drill into"
    last_month = today_local().replace(day=1) - dt.timedelta(days=1)
    wanted = next(o for o in options if o.startswith(f"{last_month:%Y-%m} · Gold"))
    expected = int(wanted.rsplit("(", 1)[1].rstrip(")").replace(",", ""))
    app.selectbox(key="tiers.mix_pick").set_value(f"{last_month:%Y-%m}|2").run()
    assert f"of {expected:,}" in texts(app) or f"Rows 1–{expected} of {expected}" in texts(app)
    moves = app.selectbox(key="tiers.cell_pick").options
    label = next(o for o in moves if o.startswith("Member → Silver"))
    moved = int(label.rsplit("(", 1)[1].rstrip(")").replace(",", ""))
    app.selectbox(key="tiers.cell_pick").set_value("0|1").run()
    assert app.session_state["ctx.tiers_drill"]["kind"] == "cell"
    assert f"of {moved:,}" in texts(app)
    flow = frame(app, "tiers.flow_table")
    assert flow["net"].sum() == 0  # every move leaves one tier and enters another


def test_supervisor_pins_a_tier_and_a_missing_reason_is_refused(app, seeded_engine):
    with Session(seeded_engine) as s:
        target = s.exec(
            select(Customer).where(Customer.tier_rank == 1, Customer.override_rank.is_(None), Customer.supreme == False)  # noqa: E712
        ).first()
        code, cid = target.code, target.id
    open_tiers(app, "supervisor")
    section(app, "overrides")
    app.text_input(key="tiers.ov_code").input(code.lower()).run()
    assert "Qualifies today for" in texts(app)
    app.selectbox(key="tiers.ov_rank").set_value(3)
    app.text_input(key="tiers.ov_reason").input("  ")
    [b for b in app.button if b.label == "Pin this tier"][0].click().run()
    assert any("Give a reason" in e.value for e in app.error)
    with Session(seeded_engine) as s:
        assert s.get(Customer, cid).override_rank is None
    app.selectbox(key="tiers.ov_rank").set_value(3)
    app.text_input(key="tiers.ov_reason").input("Key account during renovation")
    app.date_input(key="tiers.ov_until").set_value(today_local() + dt.timedelta(days=30))
    [b for b in app.button if b.label == "Pin this tier"][0].click().run()
    assert not app.exception
    assert any(f"{code} is pinned at Platinum." in s.value for s in app.success)
    with Session(seeded_engine) as s:
        row = s.get(Customer, cid)
        assert (row.tier_rank, row.override_rank) == (3, 3)
        assert s.exec(select(AuditLog).where(AuditLog.action == "tiers.override")).one().entity_id == str(cid)
    overrides = frame(app, "tiers.ov_table")
    assert code in set(overrides["code"])


def test_supervisor_runs_the_evaluation_as_a_job(app, seeded_engine):
    open_tiers(app, "supervisor")
    section(app, "evaluation")
    assert "No evaluation has run yet." in texts(app)
    app.checkbox(key="tiers.eval_review").check()
    [b for b in app.button if b.label == "Start the evaluation"][0].click().run()
    assert not app.exception
    # The review of this quarter already ran in the demo data: this run only upgrades.
    assert any("already ran" in w.value for w in app.warning)
    with Session(seeded_engine) as s:
        job = s.exec(select(Job).where(Job.kind == "tier_evaluation")).one()
    assert work_once(seeded_engine) == job.id
    section(app, "now")
    with Session(seeded_engine) as s:
        assert s.get(Job, job.id).status == "done"
    assert "Last evaluated at" in texts(app)


def test_supervisor_at_risk_list_matches_the_service(app, seeded_engine):
    open_tiers(app, "supervisor")
    section(app, "risk")
    with Session(seeded_engine) as s:
        expected = at_risk(session=s, actor=Actor(user_id=None, username="x", role="supervisor"), today=today_local())
    assert f"of {expected.total}" in texts(app)
    table = frame(app, "tiers.risk_table")
    assert len(table) == min(50, expected.total)
    assert table["spend"].str.startswith("¥").all()


# ------------------------------------------------------------------------------------------- admin


def test_admin_edits_the_ladder_with_validation_and_preview(app, seeded_engine):
    open_tiers(app, "admin")
    section(app, "ladder")
    assert app.data_editor(key="tiers.ladder_editor") is not None
    # Gold's spend at Silver's: refused with a clear message, nothing can be saved.
    app.session_state["tiers.ladder_editor"] = {
        "edited_rows": {2: {"min_spend_yuan": 5000}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    assert any("rise strictly with rank" in e.value for e in app.error)
    assert app.button(key="tiers.ladder_save").disabled
    # A valid edit: preview first, then save.
    app.session_state["tiers.ladder_editor"] = {
        "edited_rows": {2: {"min_spend_yuan": 9000}},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    assert not app.error
    assert app.button(key="tiers.ladder_save").disabled
    app.button(key="tiers.ladder_preview").click().run()
    labels = [m.label for m in app.metric]
    assert "Upgraded at the next evaluation" in labels and "Customers whose qualified tier changes" in labels
    app.button(key="tiers.ladder_save").click().run()
    assert not app.exception
    effective = today_local() + dt.timedelta(days=1)
    assert any(f"effective from {effective}" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        gold = s.exec(select(TierLevel).where(TierLevel.rank == 2, TierLevel.effective_from == effective)).one()
        assert gold.min_spend_fen == 900_000


# ------------------------------------------------------------------------------------------- team lead, manager


def test_team_lead_sees_the_department_but_lists_only_their_team(app):
    open_tiers(app, "lead")
    assert frame(app, "tiers.now_table")["count"].sum() > 0
    assert app.segmented_control(key="tiers.section").options == [
        "Distribution now",
        "Over time",
        "Near threshold and at risk",
        "Overrides",
        "Ladder",
    ]
    section(app, "risk")
    assert "Only the customers your team calls or holds are listed." in texts(app)
    section(app, "overrides")
    assert "Pin, clear or designate" not in texts(app)


def test_client_manager_sees_only_their_portfolio(app, seeded_engine):
    open_tiers(app, "manager")
    staff_id = _staff_of(seeded_engine, "manager")
    own = _counts(seeded_engine, manager_id=staff_id)
    assert "Your portfolio." in texts(app)
    assert list(frame(app, "tiers.now_table")["count"]) == [own.get(r, 0) for r in range(6)]
    section(app, "risk")
    assert "Your portfolio: the customers to call this week." in texts(app)
    with Session(seeded_engine) as s:
        expected = at_risk(
            session=s,
            actor=Actor(user_id=None, username="m", role="client_manager", staff_id=staff_id),
            today=today_local(),
        )
    if expected.total:
        assert set(frame(app, "tiers.risk_table")["manager"]) <= set(expected.rows["manager"])
    section(app, "time")
    assert not app.exception


@pytest.mark.parametrize("username", ["agent", "reception", "trainee"])
def test_other_roles_are_refused(seeded_url, username):
    at = new_app()
    login(at, username)
    assert "Tiers" not in sidebar_pages(at)
    page = new_app(PAGE)  # a deep link straight to the page script
    for key in ("auth.user_id", "auth.last_activity"):
        page.session_state[key] = at.session_state[key]
    page.run()
    assert [e.value for e in page.error] == ["You do not have access to this page."]
    assert not page.dataframe and not page.metric


def test_every_view_renders_in_chinese(app):
    login(app, "admin")
    app.session_state["ctx.lang"] = "zh"
    # The widgets' format functions translate in the calling thread too, so the test speaks Chinese as well.
    set_language("zh")
    try:
        app.switch_page(PAGE).run()
        assert not app.exception
        assert [t.value for t in app.title] == ["等级"]
        for key in ("time", "risk", "overrides", "evaluation", "ladder"):
            section(app, key)
            assert not app.error, [e.value for e in app.error]
        assert "今日生效的等级阶梯" in texts(app)
    finally:
        set_language("en")
