"""Agent KPIs page for admin, supervisor, team lead, client manager and agent; reception is refused."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from console.qa.common import call_window
from console.timeutil import today_local
from models import Call, Evaluation, Staff, User
from tests.app.conftest import ROOT, login, texts

PAGE = "pages/agent_kpis.py"


def open_page(app: AppTest, username: str) -> AppTest:
    login(app, username)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def staff_of(engine, username: str) -> Staff:
    with Session(engine) as s:
        return s.get(Staff, s.exec(select(User.staff_id).where(User.username == username)).one())


def last_90_days(engine, *, team_id=None, staff_id=None):
    """Evaluations and attempts of the last 90 days, counted independently of console.qa.kpis."""
    today = today_local()
    import datetime as dt

    start, end = call_window(today - dt.timedelta(days=89), today)
    callers = select(Staff.id).where(Staff.role.in_(("agent", "client_manager")), Staff.is_training == False)  # noqa: E712
    if team_id is not None:
        callers = callers.where(Staff.team_id == team_id)
    if staff_id is not None:
        callers = callers.where(Staff.id == staff_id)
    with Session(engine) as s:
        evals = s.exec(
            select(func.count())
            .select_from(Evaluation)
            .join(Call, Call.id == Evaluation.call_id)
            .where(
                Evaluation.kind == "regular",
                Evaluation.void == False,  # noqa: E712
                Evaluation.status != "draft",
                Call.started_at >= start,
                Call.started_at < end,
                Evaluation.evaluatee_id.in_(callers),
            )
        ).one()
        attempts = s.exec(
            select(func.count())
            .select_from(Call)
            .where(Call.started_at >= start, Call.started_at < end, Call.caller_id.in_(callers))
        ).one()
    return evals, attempts


def test_supervisor_sees_everyone_and_the_figures_match_the_database(app, seeded_engine):
    open_page(app, "supervisor")
    evals, attempts = last_90_days(seeded_engine)
    assert metric(app, "Evaluations") == f"{evals:,}" and evals > 0
    assert metric(app, "Attempts") == f"{attempts:,}"
    ranking = app.dataframe[0].value
    assert {"rank", "person", "team", "trend", "average", "pass_rate", "discipline_points"} <= set(ranking.columns)
    ranked = ranking.dropna(subset=["rank"])
    assert (ranked["evaluations"] >= 3).all() and (ranking[ranking["rank"].isna()]["evaluations"] < 3).all()
    assert list(ranked["rank"]) == sorted(ranked["rank"])
    shown = texts(app)
    for heading in (
        "Weekly trend",
        "Section averages",
        "QA score by customer tier",
        "Discipline points per calendar month",
    ):
        assert heading in shown
    assert "Weakest section" in shown
    app.segmented_control(key="agent_kpis.level").set_value("teams").run()
    teams = app.dataframe[0].value
    assert int(teams["evaluations"].sum()) == evals and len(teams) >= 2


def test_supervisor_filters_by_stream(app, seeded_engine):
    open_page(app, "supervisor")
    app.selectbox(key="agent_kpis.stream").set_value("ob").run()
    assert not app.exception
    roles = set(app.dataframe[0].value["role"])
    assert roles == {"Agent"}  # OB teams have no client managers
    assert "SLA compliance (client managers)" not in texts(app)


def test_lead_sees_own_team_only(app, seeded_engine):
    open_page(app, "lead")
    lead = staff_of(seeded_engine, "lead")
    with Session(seeded_engine) as s:
        team_people = set(
            s.exec(
                select(Staff.name).where(
                    Staff.team_id == lead.team_id,
                    Staff.role.in_(("agent", "client_manager")),
                    Staff.is_training == False,  # noqa: E712
                )
            ).all()
        )
    ranking = app.dataframe[0].value
    assert set(ranking["person"]) == team_people
    assert app.selectbox(key="agent_kpis.team_fixed").disabled
    evals, _ = last_90_days(seeded_engine, team_id=lead.team_id)
    assert metric(app, "Evaluations") == f"{evals:,}"
    assert "SLA compliance (client managers)" in texts(app)
    app.toggle(key="agent_kpis.show_sla").set_value(True).run()
    assert not app.exception
    sla = [df.value for df in app.dataframe if "compliance" in df.value.columns]
    assert sla or "No first-contact SLA fell due in this period." in texts(app)


@pytest.mark.parametrize("username", ["agent", "manager"])
def test_agent_and_client_manager_see_their_own_figures(app, seeded_engine, username):
    open_page(app, username)
    me = staff_of(seeded_engine, username)
    ranking = app.dataframe[0].value
    assert list(ranking["person"]) == [me.name]
    assert "My figures" in texts(app)
    assert not any(sb.key == "agent_kpis.team" for sb in app.selectbox)
    evals, attempts = last_90_days(seeded_engine, staff_id=me.id)
    assert metric(app, "Evaluations") == f"{evals:,}" and metric(app, "Attempts") == f"{attempts:,}"
    if evals:
        drill = next(df.value for df in app.dataframe if "evaluator" in df.value.columns)
        assert len(drill[~drill["void"].astype(bool)]) == min(evals, 25)  # overturned ones are listed as void


def test_admin_drills_down_to_call_qa(app, seeded_engine):
    open_page(app, "admin")
    assert app.selectbox(key="agent_kpis.drill_person").value is not None
    people = app.selectbox(key="agent_kpis.drill_person")
    ranking = app.dataframe[0].value
    busiest = int(ranking.sort_values("evaluations", ascending=False).iloc[0]["staff_id"])
    people.set_value(busiest).run()
    eid = app.selectbox(key="agent_kpis.drill_eval").value
    app.button(key="agent_kpis.open").click().run()
    assert not app.exception
    assert app.session_state["ctx.qa_evaluation"] == eid
    assert any(m.label == "Total" for m in app.metric)  # Call QA shows the evaluation with its math
    assert any("Step 1" in m.value for m in app.markdown)


def test_reception_is_refused(seeded_engine, seeded_url):
    direct = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    with Session(seeded_engine) as s:
        direct.session_state["auth.user_id"] = s.exec(select(User.id).where(User.username == "reception")).one()
    direct.run()
    assert any("You do not have access to this page." in e.value for e in direct.error)
    assert not direct.metric
