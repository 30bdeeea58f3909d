"""Call QA page for every role that sees it (admin, supervisor, team lead, client manager, agent, trainee);
reception is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from console.auth import actor_for
from console.qa.evaluations import submit_evaluation
from console.timeutil import utcnow
from models import (
    AuditLog,
    CalibrationParticipant,
    CalibrationSession,
    Call,
    Customer,
    Dispute,
    Evaluation,
    ScorecardVersion,
    Staff,
    Team,
    User,
)
from tests.app.conftest import ROOT, login, texts
from tests.unit.factories_qa import full_answers

PAGE = "pages/call_qa.py"


def open_page(app: AppTest, username: str) -> AppTest:
    login(app, username)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def views(app: AppTest) -> list[str]:
    return list(app.segmented_control(key="call_qa.view").options)


def go(app: AppTest, view: str) -> AppTest:
    app.segmented_control(key="call_qa.view").set_value(view).run()
    assert not app.exception, app.exception
    return app


def answer_everything(app: AppTest, prefix: str, *, skip_first: bool = False) -> None:
    radios = [r for r in app.radio if r.key and r.key.startswith(prefix)]
    assert radios, f"no items under {prefix}"
    for n, radio in enumerate(radios):
        if skip_first and n == 0:
            continue
        if "Yes" in radio.options:
            radio.set_value("yes")
        else:
            radio.set_value(max(int(o) for o in radio.options if o.isdigit()))
    app.run()


def actor(engine, username):
    with Session(engine) as s:
        return actor_for(s, s.exec(select(User).where(User.username == username)).one())


def fresh_evaluation_of_agent(engine) -> int:
    """The lead scores a recent call of the demo agent (not yet scored), so the agent has one to answer."""
    lead = actor(engine, "lead")
    agent = actor(engine, "agent")
    with Session(engine) as s:
        scored = select(Evaluation.call_id)
        call = s.exec(
            select(Call)
            .where(Call.caller_id == agent.staff_id, Call.outcome == "connected", Call.id.not_in(scored))
            .order_by(Call.started_at.desc())
        ).first()
        eid = submit_evaluation(
            session=s,
            actor=lead,
            call_id=call.id,
            answers=full_answers(s, call.stream, miss=4),
            violations={},
            now=utcnow() - dt.timedelta(hours=1),
        )
        s.commit()
        return eid


# ---------------------------------------------------------------- team lead


def test_lead_scores_a_call_from_the_queue_with_visible_math(app, seeded_engine):
    open_page(app, "lead")
    assert views(app)[:4] == ["Review queue", "Evaluations", "Disputes", "Calibration"]
    assert "Training drills" not in views(app)
    assert app.selectbox(key="call_qa.team").disabled  # a lead works their own team only
    shown = texts(app)
    assert "reproducible sample seeded by team and week" in shown
    queue = app.dataframe[0].value
    assert {"caller", "customer", "tier", "type", "outcome", "duration"} <= set(queue.columns)
    call_id = app.selectbox(key="call_qa.call").value
    prefix = f"call_qa.score.{call_id}.item."
    # submitting with unanswered items is refused and writes nothing
    [b for b in app.button if b.key == f"call_qa.submit.{call_id}"][0].click().run()
    assert any("Answer every item before submitting" in e.value for e in app.error)
    with Session(seeded_engine) as s:
        assert s.exec(select(Evaluation).where(Evaluation.call_id == call_id)).first() is None
    answer_everything(app, prefix)
    assert any("Step 5" in m.value for m in app.markdown)  # the math beside the form
    assert any(m.label == "Total" and m.value == "100.0" for m in app.metric)
    [b for b in app.button if b.key == f"call_qa.submit.{call_id}"][0].click().run()
    assert not app.exception
    assert any("submitted" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        ev = s.exec(select(Evaluation).where(Evaluation.call_id == call_id, Evaluation.kind == "regular")).one()
        lead_staff = s.exec(select(User.staff_id).where(User.username == "lead")).one()
        assert ev.status == "submitted" and ev.total == 100.0 and ev.evaluator_id == lead_staff
        assert s.exec(select(AuditLog).where(AuditLog.action == "qa.score")).first() is not None
    # the scored call now shows its evaluation with the math
    assert any("Step 3" in m.value for m in app.markdown)


def test_lead_saves_a_draft_and_finds_it_again(app, seeded_engine):
    open_page(app, "lead")
    call_id = app.selectbox(key="call_qa.call").value
    answer_everything(app, f"call_qa.score.{call_id}.item.", skip_first=True)
    [b for b in app.button if b.key == f"call_qa.save.{call_id}"][0].click().run()
    assert any("Draft" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        ev = s.exec(select(Evaluation).where(Evaluation.call_id == call_id)).one()
        assert ev.status == "draft" and ev.total is None
    assert any("your saved answers are filled in" in c.value for c in app.caption)


def test_lead_calibration_is_blind_until_own_submission(app, seeded_engine):
    open_page(app, "lead")
    go(app, "calibration")
    lead_staff = actor(seeded_engine, "lead").staff_id
    with Session(seeded_engine) as s:
        pending = s.exec(
            select(CalibrationParticipant).where(
                CalibrationParticipant.staff_id == lead_staff, CalibrationParticipant.evaluation_id.is_(None)
            )
        ).first()
    assert pending is not None, "the seed leaves the demo lead a calibration to do"
    app.selectbox(key="call_qa.calibration_pick").set_value(pending.session_id).run()
    assert "Submit your own answers first" in texts(app)
    assert not any(
        df.value.columns.tolist()[:2] == ["section", "item"] and "agreement" in df.value.columns for df in app.dataframe
    )


def test_lead_coaching_and_discipline(app, seeded_engine):
    open_page(app, "lead")
    go(app, "coaching")
    assert "overdue" in texts(app) or "No overdue follow-ups." in texts(app)
    go(app, "discipline")
    app.text_input(key="call_qa.disc_note").input("eating at the desk")
    [b for b in app.button if b.label == "Record"][0].click().run()
    assert any("Violation recorded." in s.value for s in app.success)
    with Session(seeded_engine) as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "qa.discipline.record")).one()
        assert row.actor == "lead"


# ---------------------------------------------------------------- agent and client manager


def test_agent_acknowledges_own_evaluation(app, seeded_engine):
    eid = fresh_evaluation_of_agent(seeded_engine)
    open_page(app, "agent")
    assert views(app) == ["My evaluations", "My coaching notes"]
    assert "wait for your acknowledgement" in texts(app)
    table = app.dataframe[0].value
    agent_name = None
    with Session(seeded_engine) as s:
        agent_name = s.get(Staff, actor(seeded_engine, "agent").staff_id).name
        others = s.exec(
            select(func.count())
            .select_from(Evaluation)
            .where(Evaluation.evaluatee_id != actor(seeded_engine, "agent").staff_id)
        ).one()
    assert others > 0 and eid in set(table["id"])
    app.selectbox(key="call_qa.eval_pick").set_value(eid).run()
    assert any(m.label == "Last day to dispute" for m in app.metric)
    assert agent_name in texts(app)
    [b for b in app.button if b.label == "Acknowledge"][0].click().run()
    assert any("acknowledged" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        assert s.get(Evaluation, eid).status == "acknowledged"


def test_agent_disputes_items_with_a_reason(app, seeded_engine):
    eid = fresh_evaluation_of_agent(seeded_engine)
    open_page(app, "agent")
    app.selectbox(key="call_qa.eval_pick").set_value(eid).run()
    key = f"call_qa.eval.{eid}"
    first_item = list(full_answers_for(seeded_engine))[0]
    app.multiselect(key=f"{key}.dispute_items").set_value([first_item])
    app.text_area(key=f"{key}.dispute_reason").input("The greeting is at 00:04.")
    [b for b in app.button if b.label == "Send dispute"][0].click().run()
    assert any("Dispute sent" in s.value for s in app.success)
    with Session(seeded_engine) as s:
        assert s.get(Evaluation, eid).status == "disputed"
        assert s.exec(select(Dispute).where(Dispute.evaluation_id == eid)).one().status == "open"


def full_answers_for(engine):
    with Session(engine) as s:
        return full_answers(s)


def test_client_manager_sees_only_own_evaluations(app, seeded_engine):
    open_page(app, "manager")
    assert views(app) == ["My evaluations", "My coaching notes"]
    manager = actor(seeded_engine, "manager").staff_id
    with Session(seeded_engine) as s:
        own = s.exec(
            select(func.count())
            .select_from(Evaluation)
            .where(Evaluation.evaluatee_id == manager, Evaluation.kind == "regular", Evaluation.status != "draft")
        ).one()
    if own:
        assert app.dataframe[0].value["id"].count() == min(own, 25)
    go(app, "coaching")
    assert not app.exception


# ---------------------------------------------------------------- supervisor and admin


def test_supervisor_resolves_an_open_dispute(app, seeded_engine):
    open_page(app, "supervisor")
    assert "Training drills" in views(app)
    go(app, "disputes")
    assert app.dataframe, "no disputes table"
    sup = actor(seeded_engine, "supervisor").staff_id
    with Session(seeded_engine) as s:
        row = s.exec(
            select(Dispute, Evaluation)
            .join(Evaluation, Evaluation.id == Dispute.evaluation_id)
            .where(Dispute.status == "open", Evaluation.evaluator_id != sup)
        ).first()
    assert row is not None, "the seed has open disputes"
    dispute, ev = row
    # filter by a disputed item (any status): every listed dispute names it
    app.selectbox(key="call_qa.dispute_status").select_index(4).run()  # "Any status"
    item_box = app.selectbox(key="call_qa.dispute_item")
    first_item = item_box.options[1]
    item_box.set_value(first_item).run()
    listed = app.dataframe[0].value
    assert len(listed) >= 1 and listed["items"].str.contains(first_item.split(" · ", 1)[1], regex=False).all()
    app.selectbox(key="call_qa.dispute_item").select_index(0).run()  # "Any item"
    app.selectbox(key="call_qa.dispute_status").set_value("open").run()
    app.selectbox(key="call_qa.dispute_pick").set_value(ev.id).run()
    key = f"call_qa.disp.{ev.id}"
    app.radio(key=f"{key}.outcome").set_value("upheld").run()
    app.text_area(key=f"{key}.note").input("Listened again: the score stands.")
    [b for b in app.button if b.key == f"{key}.resolve"][0].click().run()
    assert not app.exception
    with Session(seeded_engine) as s:
        assert s.get(Dispute, dispute.id).status == "upheld"
        assert s.get(Evaluation, ev.id).status == "resolved"


def test_supervisor_sees_any_team_queue_and_the_training_results(app, seeded_engine):
    open_page(app, "supervisor")
    team = app.selectbox(key="call_qa.team")
    assert not team.disabled and len(team.options) >= 2
    with Session(seeded_engine) as s:
        ob = s.exec(select(Team).where(Team.stream == "ob")).first()
    team.set_value(ob.id).run()
    assert not app.exception and ob.name in texts(app)
    go(app, "training")
    # the facilitator sees a drill's results without taking part
    assert "Agreement per item" in texts(app) and "Deviation per grader" in texts(app)


def test_admin_creates_and_activates_a_draft_scorecard(app, seeded_engine):
    open_page(app, "admin")
    go(app, "scorecards")
    with Session(seeded_engine) as s:
        before = s.exec(select(ScorecardVersion).where(ScorecardVersion.status == "active")).all()
    active = app.selectbox(key="call_qa.version_pick").value
    assert "locked: create a draft" in texts(app)
    [b for b in app.button if b.key == "call_qa.sc_new_draft"][0].click().run()
    assert not app.exception
    with Session(seeded_engine) as s:
        draft = s.exec(select(ScorecardVersion).where(ScorecardVersion.status == "draft")).one()
    assert app.selectbox(key="call_qa.version_pick").value == draft.id
    assert app.button(key="call_qa.sc_activate").disabled  # confirmation first
    app.checkbox(key="call_qa.sc_confirm").check().run()
    app.button(key="call_qa.sc_activate").click().run()
    assert not app.exception
    with Session(seeded_engine) as s:
        assert s.get(ScorecardVersion, draft.id).status == "active"
        assert s.get(ScorecardVersion, active).status == "retired"
        assert len(s.exec(select(ScorecardVersion).where(ScorecardVersion.status == "active")).all()) == len(before)


# ---------------------------------------------------------------- trainee and reception


def test_trainee_drills_on_pseudonymised_calls(app, seeded_engine):
    open_page(app, "trainee")
    assert views(app) == ["Training drills"]
    assert not any(sb.key == "call_qa.stream" for sb in app.selectbox)
    trainee = actor(seeded_engine, "trainee").staff_id
    with Session(seeded_engine) as s:
        open_session = s.exec(
            select(CalibrationParticipant).where(
                CalibrationParticipant.staff_id == trainee, CalibrationParticipant.evaluation_id.is_(None)
            )
        ).first()
        real_name = s.exec(
            select(Customer.name)
            .join(Call, Call.customer_id == Customer.id)
            .join(CalibrationSession, CalibrationSession.call_id == Call.id)
            .where(CalibrationSession.id == open_session.session_id)
        ).one()
    sessions = app.dataframe[0].value
    assert set(sessions["kind"]) == {"training"}
    assert open_session is not None, "the seed leaves the demo trainee a drill to do"
    app.selectbox(key="call_qa.training_pick").set_value(open_session.session_id).run()
    shown = texts(app)
    assert "VIP-" in shown and real_name not in shown  # the customer as a pseudonym, also in the transcript
    assert "Submit your own answers first" in shown
    base = f"call_qa.training.{open_session.session_id}.mine.item."
    answer_everything(app, base)
    [b for b in app.button if b.label == "Submit my answers"][0].click().run()
    assert not app.exception
    assert "Item by item against the key" in texts(app)
    with Session(seeded_engine) as s:
        part = s.exec(
            select(CalibrationParticipant).where(
                CalibrationParticipant.session_id == open_session.session_id, CalibrationParticipant.staff_id == trainee
            )
        ).one()
        assert s.get(Evaluation, part.evaluation_id).kind == "training"


def test_reception_is_refused(app, seeded_engine):
    login(app, "reception")
    assert "Call QA" not in texts(app)
    with pytest.raises(ValueError):
        app.switch_page(PAGE)
    direct = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    with Session(seeded_engine) as s:
        direct.session_state["auth.user_id"] = s.exec(select(User.id).where(User.username == "reception")).one()
    direct.run()
    assert any("You do not have access to this page." in e.value for e in direct.error)
    assert not direct.dataframe
