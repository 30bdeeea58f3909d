"""Call QA: the weekly review queue and scoring with visible math, evaluations and disputes, calibration
and training drills, coaching notes, floor discipline and the scorecard editor (SPEC §4).

Rules live in console/qa; drawing helpers in console/ui/qa. Views depend on the role: leads work their
own team, supervisors any team; agents and client managers see their own evaluations; trainees drill.
"""

from __future__ import annotations

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="call_qa")


import datetime as dt

import pandas as pd
import streamlit as st

from console.i18n import pick, t
from console.jobs import enqueue
from console.permissions import PermissionDenied
from console.qa.calibration import (
    create_session,
    list_sessions,
    my_answers,
    session_choices,
    session_detail,
    session_results,
    set_expert_key,
    submit_answers,
)
from console.qa.coaching import acknowledge_note, add_note, complete_follow_up, list_notes
from console.qa.common import label, teams_for
from console.qa.discipline import list_events, list_rules, monthly_totals, record_violation
from console.qa.evaluations import (
    disputes_by_item,
    list_disputes,
    list_evaluations,
    save_draft,
    scoring_form,
    submit_evaluation,
)
from console.qa.explain import explain_score
from console.qa.kpis import kpi_people
from console.qa.queue import recent_weeks, review_queue, week_of
from console.qa.scorecards import (
    ItemIn,
    SectionIn,
    ViolationIn,
    activate_version,
    create_draft,
    discard_draft,
    list_versions,
    save_draft_version,
    version_spec,
)
from console.timeutil import local_to_utc, today_local
from console.ui import fmt_local, guard, now_utc, pager, session, show_error
from console.ui.jobs import follow_job
from console.ui.qa import (
    agreement_chart,
    call_panel,
    deviation_chart,
    evaluation_detail,
    flash,
    math_panel,
    scoring_inputs,
    status_text,
)

actor = user.actor
role = actor.role
now = now_utc()
today = today_local()
K_EVAL = "ctx.qa_evaluation"  # set by Agent KPIs' drill-down too
K_VIEW = "call_qa.view"

VIEWS: dict[str, str] = {}
if role in ("admin", "supervisor", "team_lead"):
    VIEWS |= {
        "queue": t("Review queue"),
        "evaluations": t("Evaluations"),
        "disputes": t("Disputes"),
        "calibration": t("Calibration"),
    }
    if actor.is_supervisor:
        VIEWS["training"] = t("Training drills")
    VIEWS |= {"coaching": t("Coaching"), "discipline": t("Floor discipline"), "scorecards": t("Scorecards")}
elif role in ("agent", "client_manager"):
    VIEWS = {"evaluations": t("My evaluations"), "coaching": t("My coaching notes")}
elif role == "trainee":
    VIEWS = {"training": t("Training drills")}

st.title(t("Call QA"))
flash("call_qa.flash")
if st.session_state.get(K_EVAL) and "evaluations" in VIEWS and st.session_state.get("call_qa.from_kpis"):
    st.session_state[K_VIEW] = "evaluations"
    st.session_state["call_qa.from_kpis"] = False
top_left, top_right = st.columns([3, 1])
with top_left:
    if st.session_state.get(K_VIEW) not in VIEWS:
        st.session_state[K_VIEW] = next(iter(VIEWS))
    view = st.segmented_control(t("View"), list(VIEWS), format_func=lambda v: VIEWS[v], key=K_VIEW) or next(iter(VIEWS))
stream = None
if role != "trainee":
    with top_right:
        stream = st.selectbox(
            t("Stream"),
            [None, "maintenance", "ob"],
            format_func=lambda v: t("All streams") if v is None else label(v),
            key="call_qa.stream",
        )


def evaluation_picker(df: pd.DataFrame, key: str) -> int | None:
    """A selectbox over the listed evaluations (plus one opened from Agent KPIs)."""
    ids = [int(i) for i in df["id"]] if not df.empty else []
    wanted = st.session_state.get(K_EVAL)
    if wanted and int(wanted) not in ids:
        ids = [int(wanted), *ids]
    if not ids:
        return None
    labels = {
        int(
            r.id
        ): f"#{r.id} · {r.call_date} · {r.evaluatee} · {r.total if r.total is not None else '—'} · {label(r.status)}"
        for r in df.itertuples()
    }
    choice = st.selectbox(
        t("Open an evaluation"),
        ids,
        index=ids.index(int(wanted)) if wanted and int(wanted) in ids else 0,
        format_func=lambda i: labels.get(i, f"#{i}"),
        key=key,
    )
    st.session_state[K_EVAL] = choice
    return choice


EVAL_COLUMNS = {
    "id": st.column_config.NumberColumn("#", format="%d"),
    "call_date": st.column_config.DateColumn(t("Call date")),
    "call": t("Call"),
    "stream": None,
    "type": t("Type"),
    "customer": t("Customer"),
    "tier": t("Tier at call"),
    "evaluatee": t("Evaluated"),
    "evaluator": t("Scored by"),
    "status": t("Status"),
    "total": st.column_config.NumberColumn(t("Total"), format="%.1f"),
    "passed": st.column_config.CheckboxColumn(t("Passed")),
    "fatal": st.column_config.CheckboxColumn(t("Fatal")),
    "void": st.column_config.CheckboxColumn(t("Void")),
    "dispute": t("Dispute"),
    "last_day_to_dispute": st.column_config.DateColumn(t("Last day to dispute")),
}


def show_evaluations(df: pd.DataFrame, key: str, *, mine: bool = False) -> None:
    shown = df.assign(status=[status_text(s, v) for s, v in zip(df["status"], df["void"], strict=True)])
    shown = shown.assign(
        type=[label(x) for x in shown["type"]],
        dispute=[label(x) if isinstance(x, str) else "" for x in shown["dispute"]],
    )
    config = dict(EVAL_COLUMNS)
    if mine:
        config["evaluatee"] = None
    st.dataframe(shown, hide_index=True, column_config=config, key=key)


# ================================================================ review queue and scoring


def scoring_area(call_id: int) -> None:
    try:
        with session() as s:
            form = scoring_form(session=s, actor=actor, call_id=call_id)
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        return
    call_panel(form.call)
    if form.submitted_id is not None:
        st.info(form.blocked)
        evaluation_detail(form.submitted_id, actor, key=f"call_qa.eval.{form.submitted_id}", now=now)
        return
    if form.blocked:
        st.warning(form.blocked)
        return
    spec = form.spec
    st.markdown(f"#### {t('Score this call')} · {spec.label}")
    if form.evaluation_id:
        st.caption(t("Draft #{id}: your saved answers are filled in.", id=form.evaluation_id))
    left, right = st.columns([3, 2], gap="large")
    with left:
        with st.container(height=680, border=True):
            answers, marks = scoring_inputs(spec, form.answers, form.marks, key=f"call_qa.score.{call_id}")
        b1, b2 = st.columns(2)
        save = b1.button(t("Save draft"), key=f"call_qa.save.{call_id}", icon=":material/save:")
        submit = b2.button(t("Submit"), key=f"call_qa.submit.{call_id}", type="primary", icon=":material/send:")
    with right:
        st.markdown(f"#### {t('Score math')}")
        math_panel(explain_score(spec, answers, set(marks)), pass_mark=spec.pass_mark, key=f"call_qa.live.{call_id}")
    if save or submit:
        try:
            with session() as s:
                if submit:
                    eid = submit_evaluation(session=s, actor=actor, call_id=call_id, answers=answers, violations=marks)
                else:
                    eid = save_draft(session=s, actor=actor, call_id=call_id, answers=answers, violations=marks)
            if submit:
                st.session_state["call_qa.flash"] = t(
                    "Evaluation #{id} submitted: the evaluated person has 7 days to acknowledge or dispute it.", id=eid
                )
            else:
                st.session_state["call_qa.flash"] = t("Draft #{id} saved.", id=eid)
            st.rerun()
        except (PermissionDenied, ValueError) as exc:
            show_error(exc)


def queue_view() -> None:
    with session() as s:
        teams = teams_for(s, actor, stream)
    if not teams:
        st.info(t("No team to review: your login is not linked to a team."))
        return
    c1, c2, c3 = st.columns([2, 2, 1])
    team_id = c1.selectbox(
        t("Team"),
        [tm.id for tm in teams],
        format_func=lambda i: next(f"{tm.name} ({label(tm.stream)})" for tm in teams if tm.id == i),
        key="call_qa.team",
        disabled=not actor.is_supervisor,
    )
    week = c2.selectbox(
        t("ISO week"),
        recent_weeks(today, 12),
        format_func=lambda w: w + (" · " + t("this week") if w == week_of(today) else ""),
        key="call_qa.week",
    )
    per_caller = c3.number_input(t("Calls per caller"), min_value=1, max_value=20, value=4, key="call_qa.per_caller")
    try:
        with session() as s:
            q = review_queue(session=s, actor=actor, team_id=int(team_id), week=week, per_caller=int(per_caller))
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        return
    m = st.columns(4)
    m[0].metric(t("Connected calls this week"), f"{q.candidates:,}", border=True)
    m[1].metric(t("Callers"), f"{q.callers:,}", border=True)
    m[2].metric(t("In the sample"), f"{len(q.rows):,}", border=True)
    m[3].metric(t("Left to score"), f"{q.to_score:,}", border=True)
    st.caption(
        t(
            "{team}, {monday} to {sunday}: a reproducible sample seeded by team and week. Weights: Diamond 5, Platinum 3, Gold 2, Silver 1, Member 1 (tier at the call's time); downgraded in the last 90 days ×2.",
            team=q.team,
            monday=q.monday.isoformat(),
            sunday=q.sunday.isoformat(),
        )
    )
    if q.rows.empty:
        st.info(t("No connected calls of this team in this week."))
        return
    rows = q.rows.assign(
        started_at=[fmt_local(x) for x in q.rows["started_at"]],
        type=[label(x) for x in q.rows["type"]],
        outcome=[label(x) for x in q.rows["outcome"]],
        result=[label(x) if isinstance(x, str) else "" for x in q.rows["result"]],
        evaluation_status=[label(x) if isinstance(x, str) else t("to score") for x in q.rows["evaluation_status"]],
    )
    st.dataframe(
        rows.drop(columns=["call_id", "evaluation_id"]),
        hide_index=True,
        column_config={
            "started_at": t("Time"),
            "reference": t("Call"),
            "customer": t("Customer"),
            "tier": t("Tier at call"),
            "downgraded": st.column_config.CheckboxColumn(t("Downgraded ≤ 90 days")),
            "weight": st.column_config.NumberColumn(t("Weight")),
            "caller": t("Caller"),
            "type": t("Type"),
            "outcome": t("Outcome"),
            "result": t("Result"),
            "duration": t("Duration"),
            "evaluation_status": t("Evaluation"),
            "total": st.column_config.NumberColumn(t("Total"), format="%.1f"),
        },
        column_order=[
            "started_at",
            "caller",
            "customer",
            "tier",
            "weight",
            "downgraded",
            "type",
            "outcome",
            "result",
            "duration",
            "evaluation_status",
            "total",
            "reference",
        ],
        key="call_qa.queue_table",
    )
    labels = {
        int(r.call_id): f"{fmt_local(r.started_at)} · {r.caller} · {r.customer} ({r.tier}) · "
        + (label(r.evaluation_status) if isinstance(r.evaluation_status, str) else t("to score"))
        for r in q.rows.itertuples()
    }
    order = sorted(labels, key=lambda c: (isinstance(q.rows.set_index("call_id").loc[c, "evaluation_status"], str), c))
    call_id = st.selectbox(t("Call to score"), order, format_func=lambda c: labels.get(c, str(c)), key="call_qa.call")
    st.divider()
    scoring_area(int(call_id))


# ================================================================ evaluations


def evaluations_view() -> None:
    mine = role in ("agent", "client_manager")
    status = st.selectbox(
        t("Status"),
        [None, "submitted", "acknowledged", "disputed", "resolved"],
        format_func=lambda v: t("Any status") if v is None else label(v),
        key="call_qa.eval_status",
    )
    with session() as s:
        _, total = list_evaluations(session=s, actor=actor, mine=mine, stream=stream, status=status, limit=1, now=now)
    with st.columns([1, 3])[0]:
        offset, limit = pager(total, key="call_qa.eval_page", page_size=25)
    with session() as s:
        df, total = list_evaluations(
            session=s, actor=actor, mine=mine, stream=stream, status=status, offset=offset, limit=limit, now=now
        )
    if mine:
        waiting = df[df["status"] == "submitted"]
        if not waiting.empty:
            st.warning(
                t(
                    "{count} evaluation(s) wait for your acknowledgement; the nearest last day is {day}.",
                    count=len(waiting),
                    day=min(waiting["last_day_to_dispute"]).isoformat(),
                )
            )
    if df.empty and not st.session_state.get(K_EVAL):
        st.info(t("No evaluations yet."))
        return
    show_evaluations(df, "call_qa.eval_table", mine=mine)
    choice = evaluation_picker(df, "call_qa.eval_pick")
    if choice is not None:
        st.divider()
        evaluation_detail(choice, actor, key=f"call_qa.eval.{choice}", now=now)


# ================================================================ disputes


def disputes_view() -> None:
    c1, c2 = st.columns(2)
    status = c1.selectbox(
        t("Dispute status"),
        ["open", "upheld", "adjusted", "overturned", None],
        format_func=lambda v: t("Any status") if v is None else label(v),
        key="call_qa.dispute_status",
    )
    with session() as s:
        by_item = disputes_by_item(session=s, actor=actor, stream=stream)
    item_choices = {f"{r.section} · {r.item}": list(r.item_ids) for r in by_item.itertuples()}
    item = c2.selectbox(
        t("Disputed item"),
        [None, *item_choices],
        format_func=lambda v: t("Any item") if v is None else v,
        key="call_qa.dispute_item",
    )
    item_ids = item_choices.get(item) if item else None
    with session() as s:
        _, total = list_disputes(session=s, actor=actor, status=status, stream=stream, item_ids=item_ids, limit=1)
    with st.columns([1, 3])[0]:
        offset, limit = pager(total, key="call_qa.disputes_page", page_size=25)
    with session() as s:
        df, total = list_disputes(
            session=s, actor=actor, status=status, stream=stream, item_ids=item_ids, offset=offset, limit=limit
        )
    st.caption(t("{count} dispute(s).", count=total))
    if df.empty:
        st.info(t("No disputes with these filters."))
    else:
        st.dataframe(
            df.assign(
                raised_at=[fmt_local(x) for x in df["raised_at"]],
                resolved_at=[fmt_local(x) if x is not None and not pd.isna(x) else "" for x in df["resolved_at"]],
                status=[label(x) for x in df["status"]],
                stream=[label(x) for x in df["stream"]],
            ),
            hide_index=True,
            column_config={
                "dispute_id": st.column_config.NumberColumn(t("Dispute"), format="%d"),
                "evaluation_id": st.column_config.NumberColumn(t("Evaluation"), format="%d"),
                "raised_at": t("Raised"),
                "status": t("Status"),
                "evaluatee": t("Evaluated"),
                "team": t("Team"),
                "evaluator": t("Scored by"),
                "stream": t("Stream"),
                "call": t("Call"),
                "total": st.column_config.NumberColumn(t("Total"), format="%.1f"),
                "items": st.column_config.TextColumn(t("Disputed items"), width="large"),
                "reason": t("Reason"),
                "resolved_at": t("Resolved"),
                "note": t("Resolution"),
            },
            key="call_qa.disputes_table",
        )
        ids = [int(i) for i in df["evaluation_id"]]
        labels = {
            int(r.evaluation_id): f"#{r.evaluation_id} · {r.evaluatee} · {label(r.status)} · {r.items}"
            for r in df.itertuples()
        }
        choice = st.selectbox(
            t("Open a disputed evaluation"),
            ids,
            format_func=lambda i: labels.get(i, str(i)),
            key="call_qa.dispute_pick",
        )
        st.divider()
        evaluation_detail(int(choice), actor, key=f"call_qa.disp.{choice}", now=now)
    if not by_item.empty:
        with st.expander(t("Disputes by item")):
            st.dataframe(
                by_item.drop(columns=["item_ids"]),
                hide_index=True,
                column_config={
                    "section": t("Section"),
                    "item": t("Item"),
                    "open": label("open"),
                    "upheld": label("upheld"),
                    "adjusted": label("adjusted"),
                    "overturned": label("overturned"),
                    "total": t("Total"),
                },
                key="call_qa.disputes_by_item",
            )
    if actor.is_supervisor:
        if st.button(t("Run the automatic acknowledgement now"), key="call_qa.auto_ack"):
            with session() as s:
                job = enqueue(s, actor=actor, kind="qa.auto_acknowledge")
                st.session_state["call_qa.auto_ack_job"] = job.id
        if st.session_state.get("call_qa.auto_ack_job"):
            follow_job(int(st.session_state["call_qa.auto_ack_job"]), key="call_qa.auto_ack_follow")


# ================================================================ calibration and training


def session_view(kind: str) -> None:
    with session() as s:
        sessions = list_sessions(session=s, actor=actor, kind=kind)
    if stream and not sessions.empty:
        sessions = sessions[sessions["stream"] == stream]
    if actor.is_supervisor:
        with st.expander(t("New calibration session") if kind == "calibration" else t("New training drill")):
            new_session_form(kind)
    if sessions.empty:
        st.info(t("No sessions yet.") if kind == "calibration" else t("No training drills yet."))
        return
    st.dataframe(
        sessions.assign(
            deadline=[fmt_local(x) for x in sessions["deadline"]], stream=[label(x) for x in sessions["stream"]]
        ),
        hide_index=True,
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "kind": None,
            "title": t("Title"),
            "stream": t("Stream"),
            "call": t("Call"),
            "deadline": t("Deadline"),
            "participants": t("Participants"),
            "submitted": t("Submitted"),
            "key_set": st.column_config.CheckboxColumn(t("Expert key")),
            "mine_submitted": st.column_config.CheckboxColumn(t("Mine submitted")),
        },
        key=f"call_qa.{kind}_table",
    )
    labels = {int(r.id): f"#{r.id} · {r.title}" for r in sessions.itertuples()}
    sid = st.selectbox(
        t("Open a session"), list(labels), format_func=lambda i: labels.get(i, str(i)), key=f"call_qa.{kind}_pick"
    )
    try:
        with session() as s:
            detail = session_detail(session=s, actor=actor, session_id=int(sid), now=now)
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        return
    st.divider()
    st.subheader(detail.title)
    st.caption(
        t(
            "Scorecard {card}; deadline {deadline}; participants: {people}.",
            card=detail.spec.label,
            deadline=fmt_local(detail.deadline),
            people=", ".join(detail.participants) or "—",
        )
    )
    call_panel(detail.call, transcript_height=220)
    base = f"call_qa.{kind}.{sid}"
    if detail.may_set_key:
        with st.expander(t("Expert key (facilitator)"), expanded=not detail.key_set):
            answers, marks = scoring_inputs(detail.spec, {}, {}, key=f"{base}.key")
            if st.button(t("Save the expert key"), key=f"{base}.key_save", type="primary"):
                try:
                    with session() as s:
                        set_expert_key(session=s, actor=actor, session_id=int(sid), answers=answers, violations=marks)
                    st.session_state["call_qa.flash"] = t("Expert key saved.")
                    st.rerun()
                except (PermissionDenied, ValueError) as exc:
                    show_error(exc)
    if detail.may_submit:
        st.markdown(f"#### {t('Your answers')}")
        st.caption(t("Blind: the key and the others' answers appear after you submit."))
        left, right = st.columns([3, 2], gap="large")
        with left:
            with st.container(height=680, border=True):
                answers, marks = scoring_inputs(detail.spec, {}, {}, key=f"{base}.mine")
            go = st.button(t("Submit my answers"), key=f"{base}.submit", type="primary")
        with right:
            math_panel(
                explain_score(detail.spec, answers, set(marks)), pass_mark=detail.spec.pass_mark, key=f"{base}.live"
            )
        if go:
            try:
                with session() as s:
                    submit_answers(
                        session=s, actor=actor, session_id=int(sid), answers=answers, violations=marks, now=now
                    )
                st.session_state["call_qa.flash"] = t("Submitted: your comparison with the key is below.")
                st.rerun()
            except (PermissionDenied, ValueError) as exc:
                show_error(exc)
    elif detail.is_participant and not detail.submitted:
        if not detail.key_set:
            st.info(t("The expert key is not set yet: try again once the facilitator has scored it."))
        elif not detail.open:
            st.warning(t("The session's deadline has passed."))
    if detail.may_see_results:
        results_block(int(sid), kind, base)
    elif detail.is_participant:
        st.info(t("Submit your own answers first: the results stay hidden until then."))


def results_block(sid: int, kind: str, base: str) -> None:
    try:
        with session() as s:
            res = session_results(session=s, actor=actor, session_id=sid)
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        return
    st.markdown(f"#### {t('Results')}")
    c1, c2 = st.columns(2)
    c1.metric(t("Expert key total"), res.key_display, border=True)
    if res.mine is not None:
        delta = None if res.my_total is None or res.key_total is None else f"{res.my_total - res.key_total:+.1f}"
        c2.metric(t("Your total"), res.my_display, delta=delta, delta_color="off", border=True)
    if res.mine is not None:
        st.markdown(f"**{t('Item by item against the key')}**")
        st.dataframe(
            res.mine,
            hide_index=True,
            column_config={
                "section": t("Section"),
                "item": st.column_config.TextColumn(t("Item"), width="large"),
                "key": t("Key"),
                "yours": t("Yours"),
                "deviation": st.column_config.NumberColumn(t("Deviation (points)"), format="%g"),
                "agrees": st.column_config.CheckboxColumn(t("Agrees")),
                "guidance": st.column_config.TextColumn(t("Guidance"), width="large"),
            },
            key=f"{base}.mine_table",
        )
    if kind == "calibration" or actor.is_supervisor:
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown(f"**{t('Agreement per item')}**")
            st.caption(t("Share of graders whose answer equals the key's (scale items: within one point)."))
            st.dataframe(
                res.agreement,
                hide_index=True,
                column_config={
                    "section": t("Section"),
                    "item": t("Item"),
                    "key": t("Key"),
                    "agreement": st.column_config.ProgressColumn(
                        t("Agreement"), min_value=0, max_value=1, format="percent"
                    ),
                    "graders": t("Graders"),
                },
                key=f"{base}.agreement",
            )
        with right:
            st.markdown(f"**{t('Deviation per grader')}**")
            st.caption(t("Mean absolute difference of item points from the key, and of the total."))
            st.dataframe(
                res.deviation.drop(columns=["staff_id"]),
                hide_index=True,
                column_config={
                    "grader": t("Grader"),
                    "item_deviation": st.column_config.NumberColumn(t("Mean item deviation"), format="%.2f"),
                    "total": st.column_config.NumberColumn(t("Total"), format="%.1f"),
                    "key_total": st.column_config.NumberColumn(t("Key total"), format="%.1f"),
                    "total_deviation": st.column_config.NumberColumn(t("Total deviation"), format="%.1f"),
                    "violations_differ": t("Violations differing"),
                },
                key=f"{base}.deviation",
            )
            if not res.deviation.empty:
                st.altair_chart(deviation_chart(res.deviation), width="stretch")
        if not res.agreement.dropna(subset=["agreement"]).empty:
            st.altair_chart(agreement_chart(res.agreement), width="stretch")
    with st.expander(t("How the key was scored")):
        st.markdown("\n".join(f"- {step}" for step in res.key_steps))
    with session() as s:
        answers, _ = my_answers(session=s, actor=actor, session_id=sid)
    if not answers and kind == "training" and not actor.is_supervisor:
        st.caption(t("You have not submitted this drill."))


def new_session_form(kind: str) -> None:
    with session() as s:
        choices = session_choices(session=s, actor=actor, kind=kind, stream=stream)
    if not choices["calls"]:
        st.info(t("No transcribed calls to use."))
        return
    calls = dict(choices["calls"])
    people = dict(choices["people"])
    with st.form(f"call_qa.new_{kind}"):
        title = st.text_input(t("Title"), key=f"call_qa.new_{kind}.title")
        call_id = st.selectbox(
            t("Call"), list(calls), format_func=lambda c: calls.get(c, str(c)), key=f"call_qa.new_{kind}.call"
        )
        chosen = st.multiselect(
            t("Participants") if kind == "calibration" else t("Trainees (any trainee may also join)"),
            list(people),
            format_func=lambda p: people.get(p, str(p)),
            key=f"call_qa.new_{kind}.people",
        )
        c1, c2 = st.columns(2)
        day = c1.date_input(t("Deadline"), value=today + dt.timedelta(days=3), key=f"call_qa.new_{kind}.day")
        time = c2.time_input(t("Time"), value=dt.time(18, 0), key=f"call_qa.new_{kind}.time")
        if st.form_submit_button(t("Create session")):
            try:
                with session() as s:
                    sid = create_session(
                        session=s,
                        actor=actor,
                        kind=kind,
                        title=title,
                        call_id=int(call_id),
                        deadline=local_to_utc(day, time),
                        participant_ids=list(chosen),
                    )
                st.session_state["call_qa.flash"] = t("Session #{id} created: now score the expert key.", id=sid)
                st.rerun()
            except (PermissionDenied, ValueError) as exc:
                show_error(exc)


# ================================================================ coaching


def coaching_view() -> None:
    manager = role in ("admin", "supervisor", "team_lead")
    if manager:
        with session() as s:
            people = kpi_people(session=s, actor=actor, stream=stream)
        with st.expander(t("New coaching note"), expanded=False):
            if not people:
                st.info(t("Nobody to coach in this scope."))
            else:
                person_labels = dict(people)
                person = st.selectbox(
                    t("Person"),
                    list(person_labels),
                    format_func=lambda p: person_labels.get(p, str(p)),
                    key="call_qa.coach_person",
                )
                with session() as s:
                    evs, _ = list_evaluations(
                        session=s, actor=actor, evaluatee_id=int(person), include_void=False, limit=20, now=now
                    )
                ev_labels = {int(r.id): f"#{r.id} · {r.call_date} · {r.total}" for r in evs.itertuples()}
                ev_id = st.selectbox(
                    t("Linked evaluation"),
                    [None, *ev_labels],
                    format_func=lambda e: t("(none)") if e is None else ev_labels.get(e, str(e)),
                    key="call_qa.coach_eval",
                )
                focus_labels: dict[int, str] = {}
                if ev_id is not None:
                    from console.qa.evaluations import get_evaluation

                    with session() as s:
                        ev_view = get_evaluation(session=s, actor=actor, evaluation_id=int(ev_id), now=now)
                    focus_labels = {i.item_id: pick(i, "text") for i in ev_view.spec.items}
                with st.form("call_qa.coach_form", clear_on_submit=True):
                    focus = st.multiselect(
                        t("Focus items"),
                        list(focus_labels),
                        format_func=lambda i: focus_labels.get(i, str(i)),
                        key="call_qa.coach_focus",
                    )
                    text = st.text_area(t("What was discussed and agreed"), key="call_qa.coach_text")
                    follow = st.date_input(t("Follow-up on"), value=None, min_value=today, key="call_qa.coach_follow")
                    if st.form_submit_button(t("Save note"), type="primary"):
                        try:
                            with session() as s:
                                add_note(
                                    session=s,
                                    actor=actor,
                                    staff_id=int(person),
                                    text=text,
                                    evaluation_id=ev_id,
                                    focus_item_ids=list(focus),
                                    follow_up_on=follow,
                                    today=today,
                                )
                            st.session_state["call_qa.flash"] = t("Coaching note saved.")
                            st.rerun()
                        except (PermissionDenied, ValueError) as exc:
                            show_error(exc)
        with session() as s:
            overdue, n_overdue = list_notes(
                session=s, actor=actor, stream=stream, overdue_only=True, today=today, limit=200
            )
        if n_overdue:
            st.error(t("{count} follow-up(s) overdue.", count=n_overdue))
            notes_table(overdue, "call_qa.overdue_table")
            overdue_labels = {int(r.id): f"#{r.id} · {r.person} · {r.follow_up_on}" for r in overdue.itertuples()}
            nid = st.selectbox(
                t("Follow-up done for"),
                list(overdue_labels),
                format_func=lambda i: overdue_labels.get(i, str(i)),
                key="call_qa.followup_pick",
            )
            if st.button(t("Mark the follow-up done"), key="call_qa.followup_done"):
                try:
                    with session() as s:
                        complete_follow_up(session=s, actor=actor, note_id=int(nid))
                    st.session_state["call_qa.flash"] = t("Follow-up marked done.")
                    st.rerun()
                except (PermissionDenied, ValueError) as exc:
                    show_error(exc)
        else:
            st.success(t("No overdue follow-ups."))
    with session() as s:
        _, total = list_notes(session=s, actor=actor, stream=stream, today=today, limit=1)
    with st.columns([1, 3])[0]:
        offset, limit = pager(total, key="call_qa.notes_page", page_size=25)
    with session() as s:
        notes, total = list_notes(session=s, actor=actor, stream=stream, today=today, offset=offset, limit=limit)
    st.markdown(f"#### {t('Coaching notes')}")
    if notes.empty:
        st.info(t("No coaching notes yet."))
        return
    notes_table(notes, "call_qa.notes_table")
    if not manager:
        pending = notes[notes["acknowledged_at"].isna()]
        if not pending.empty:
            labels = {int(r.id): f"#{r.id} · {fmt_local(r.at, '%Y-%m-%d')} · {r.author}" for r in pending.itertuples()}
            nid = st.selectbox(
                t("Note to acknowledge"),
                list(labels),
                format_func=lambda i: labels.get(i, str(i)),
                key="call_qa.note_ack_pick",
            )
            if st.button(t("Acknowledge the note"), key="call_qa.note_ack", type="primary"):
                try:
                    with session() as s:
                        acknowledge_note(session=s, actor=actor, note_id=int(nid))
                    st.session_state["call_qa.flash"] = t("Coaching note acknowledged.")
                    st.rerun()
                except (PermissionDenied, ValueError) as exc:
                    show_error(exc)


def notes_table(df: pd.DataFrame, key: str) -> None:
    st.dataframe(
        df.drop(columns=["staff_id"]).assign(
            at=[fmt_local(x, "%Y-%m-%d") for x in df["at"]],
            acknowledged_at=[
                fmt_local(x, "%Y-%m-%d") if x is not None and not pd.isna(x) else "" for x in df["acknowledged_at"]
            ],
        ),
        hide_index=True,
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "at": t("Date"),
            "person": t("Person"),
            "author": t("Coach"),
            "text": st.column_config.TextColumn(t("Note"), width="large"),
            "evaluation_id": st.column_config.NumberColumn(t("Evaluation"), format="%d"),
            "focus": t("Focus items"),
            "follow_up_on": st.column_config.DateColumn(t("Follow-up on")),
            "follow_up_done": st.column_config.CheckboxColumn(t("Done")),
            "overdue": st.column_config.CheckboxColumn(t("Overdue")),
            "acknowledged_at": t("Acknowledged"),
        },
        key=key,
    )


# ================================================================ floor discipline


def discipline_view() -> None:
    with session() as s:
        people = kpi_people(session=s, actor=actor, stream=stream)
        rules = list_rules(session=s, actor=actor)
    with st.expander(t("Record a violation"), expanded=False):
        if not people:
            st.info(t("Nobody in this scope."))
        else:
            labels = dict(people)
            rule_labels = {
                int(r.id): f"{r.code} · {r.rule} ({t('{points} pt', points=r.points)})" for r in rules.itertuples()
            }
            with st.form("call_qa.discipline_form", clear_on_submit=True):
                person = st.selectbox(
                    t("Person"), list(labels), format_func=lambda p: labels.get(p, str(p)), key="call_qa.disc_person"
                )
                rule_id = st.selectbox(
                    t("Rule"),
                    list(rule_labels),
                    format_func=lambda r: rule_labels.get(r, str(r)),
                    key="call_qa.disc_rule",
                )
                c1, c2 = st.columns(2)
                day = c1.date_input(t("Date"), value=today, max_value=today, key="call_qa.disc_day")
                time = c2.time_input(t("Time"), value=dt.time(9, 0), key="call_qa.disc_time")
                note = st.text_input(t("Note"), key="call_qa.disc_note")
                if st.form_submit_button(t("Record"), type="primary"):
                    try:
                        with session() as s:
                            record_violation(
                                session=s,
                                actor=actor,
                                staff_id=int(person),
                                rule_id=int(rule_id),
                                day=day,
                                time=time,
                                note=note,
                            )
                        st.session_state["call_qa.flash"] = t("Violation recorded.")
                        st.rerun()
                    except (PermissionDenied, ValueError) as exc:
                        show_error(exc)
    months = [(today.replace(day=1) - dt.timedelta(days=31 * n)).replace(day=1) for n in range(12)]
    month = st.selectbox(t("Month"), months, format_func=lambda m: m.strftime("%Y-%m"), key="call_qa.disc_month")
    with session() as s:
        totals = monthly_totals(session=s, actor=actor, month=month, stream=stream)
    st.markdown(f"#### {t('Monthly totals')}")
    if totals.empty:
        st.info(t("No violations recorded in this month."))
    else:
        st.dataframe(
            totals.drop(columns=["staff_id"]),
            hide_index=True,
            column_config={
                "person": t("Person"),
                "team": t("Team"),
                "violations": t("Violations"),
                "points": t("Points"),
            },
            key="call_qa.disc_totals",
        )
    with session() as s:
        _, total = list_events(session=s, actor=actor, month=month, stream=stream, limit=1)
    with st.columns([1, 3])[0]:
        offset, limit = pager(total, key="call_qa.disc_page", page_size=25)
    with session() as s:
        events, _ = list_events(session=s, actor=actor, month=month, stream=stream, offset=offset, limit=limit)
    if not events.empty:
        st.dataframe(
            events.drop(columns=["id"]).assign(at=[fmt_local(x) for x in events["at"]]),
            hide_index=True,
            column_config={
                "at": t("When"),
                "person": t("Person"),
                "rule": st.column_config.TextColumn(t("Rule"), width="large"),
                "points": t("Points"),
                "note": t("Note"),
                "recorded_by": t("Recorded by"),
            },
            key="call_qa.disc_events",
        )
    with st.expander(t("Discipline rules")):
        st.dataframe(
            rules.drop(columns=["id"]),
            hide_index=True,
            column_config={"code": t("Code"), "category": t("Category"), "rule": t("Rule"), "points": t("Points")},
            key="call_qa.disc_rules",
        )


# ================================================================ scorecards


def scorecards_view() -> None:
    editor = role == "admin"
    with session() as s:
        versions = list_versions(session=s, actor=actor)
    if stream:
        versions = versions[versions["stream"] == stream]
    if versions.empty:
        st.info(t("No scorecards."))
        return
    st.dataframe(
        versions.assign(
            name=[pick(r, "name") for r in versions[["name_en", "name_zh"]].to_dict("records")],
            stream=[label(x) for x in versions["stream"]],
            status=[label(x) for x in versions["status"]],
            activated_at=[
                fmt_local(x, "%Y-%m-%d") if x is not None and not pd.isna(x) else "" for x in versions["activated_at"]
            ],
            retired_at=[
                fmt_local(x, "%Y-%m-%d") if x is not None and not pd.isna(x) else "" for x in versions["retired_at"]
            ],
        ).drop(columns=["version_id", "name_en", "name_zh", "scorecard"]),
        hide_index=True,
        column_config={
            "name": t("Scorecard"),
            "stream": t("Stream"),
            "version": t("Version"),
            "status": t("Status"),
            "pass_mark": st.column_config.NumberColumn(t("Pass mark"), format="%g"),
            "sections": t("Sections"),
            "items": t("Items"),
            "violations": t("Violations"),
            "evaluations": t("Evaluations"),
            "activated_at": t("Activated on"),
            "retired_at": t("Retired on"),
        },
        column_order=[
            "name",
            "stream",
            "version",
            "status",
            "pass_mark",
            "sections",
            "items",
            "violations",
            "evaluations",
            "activated_at",
            "retired_at",
        ],
        key="call_qa.versions",
    )
    labels = {
        int(
            r.version_id
        ): f"{pick({'name_en': r.name_en, 'name_zh': r.name_zh}, 'name')} v{r.version} · {label(r.status)}"
        for r in versions.itertuples()
    }
    pending = st.session_state.pop("call_qa.pending_version", None)
    if pending in labels:
        st.session_state["call_qa.version_pick"] = pending
    vid = st.selectbox(
        t("Version"), list(labels), format_func=lambda v: labels.get(v, str(v)), key="call_qa.version_pick"
    )
    with session() as s:
        spec = version_spec(session=s, actor=actor, version_id=int(vid))
    sections = pd.DataFrame(
        [{"code": x.code, "name_en": x.name_en, "name_zh": x.name_zh, "weight": x.weight} for x in spec.sections]
    )
    items = pd.DataFrame(
        [
            {
                "section": i.section,
                "code": i.code,
                "text_en": i.text_en,
                "text_zh": i.text_zh,
                "kind": i.kind,
                "max_points": i.max_points,
                "na_allowed": i.na_allowed,
                "guidance_en": i.guidance_en or "",
                "guidance_zh": i.guidance_zh or "",
            }
            for i in spec.items
        ],
        columns=[
            "section",
            "code",
            "text_en",
            "text_zh",
            "kind",
            "max_points",
            "na_allowed",
            "guidance_en",
            "guidance_zh",
        ],
    )
    violations = pd.DataFrame(
        [
            {"code": v.code, "text_en": v.text_en, "text_zh": v.text_zh, "rule": v.rule, "section": v.section or ""}
            for v in spec.violations
        ],
        columns=["code", "text_en", "text_zh", "rule", "section"],
    )
    if spec.status != "draft" or not editor:
        if spec.status != "draft":
            st.info(
                t(
                    "Version {version} is {status} and locked: create a draft to change it.",
                    version=spec.version,
                    status=label(spec.status),
                )
            )
        st.markdown(f"**{t('Pass mark')}**: {spec.pass_mark:g} · **{t('Sections')}**")
        st.dataframe(sections, hide_index=True, key="call_qa.sc_sections")
        st.markdown(f"**{t('Items')}**")
        st.dataframe(items, hide_index=True, key="call_qa.sc_items")
        st.markdown(f"**{t('Violations')}**")
        st.dataframe(violations, hide_index=True, key="call_qa.sc_violations")
        if (
            editor
            and spec.status != "draft"
            and st.button(t("Create a draft from this version"), key="call_qa.sc_new_draft")
        ):
            try:
                with session() as s:
                    did = create_draft(session=s, actor=actor, version_id=int(vid))
                st.session_state["call_qa.flash"] = t("Draft created.")
                st.session_state["call_qa.pending_version"] = did
                st.rerun()
            except (PermissionDenied, ValueError) as exc:
                show_error(exc)
        return
    st.warning(
        t(
            "Draft version {version}: edit, save, then activate. Activation locks it and retires the active version.",
            version=spec.version,
        )
    )
    pass_mark = st.number_input(
        t("Pass mark"), 0.0, 100.0, float(spec.pass_mark), step=1.0, key=f"call_qa.sc_pass.{vid}"
    )
    st.markdown(f"**{t('Sections')}**")
    ed_sections = st.data_editor(
        sections,
        num_rows="dynamic",
        hide_index=True,
        column_config={"weight": st.column_config.NumberColumn(t("Weight"), min_value=0.0, step=1.0)},
        key=f"call_qa.sc_ed_sections.{vid}",
    )
    st.markdown(f"**{t('Items')}**")
    ed_items = st.data_editor(
        items,
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "kind": st.column_config.SelectboxColumn(t("Kind"), options=["yes_no", "scale"], required=True),
            "max_points": st.column_config.NumberColumn(t("Max points"), min_value=1, max_value=100, step=1),
            "na_allowed": st.column_config.CheckboxColumn(t("N/A allowed")),
        },
        key=f"call_qa.sc_ed_items.{vid}",
    )
    st.markdown(f"**{t('Violations')}**")
    ed_violations = st.data_editor(
        violations,
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "rule": st.column_config.SelectboxColumn(t("Rule"), options=["fail_all", "fail_section"], required=True)
        },
        key=f"call_qa.sc_ed_violations.{vid}",
    )
    c1, c2, c3 = st.columns(3)

    def content() -> tuple[list[SectionIn], list[ItemIn], list[ViolationIn]]:
        def txt(v: object) -> str:
            return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)

        secs = [
            SectionIn(txt(r["code"]), txt(r["name_en"]), txt(r["name_zh"]), float(r["weight"] or 0))
            for r in ed_sections.to_dict("records")
        ]
        its = [
            ItemIn(
                txt(r["section"]),
                txt(r["code"]),
                txt(r["text_en"]),
                txt(r["text_zh"]),
                txt(r["kind"]),
                int(r["max_points"] or 0),
                bool(r["na_allowed"]),
                txt(r["guidance_en"]) or None,
                txt(r["guidance_zh"]) or None,
            )
            for r in ed_items.to_dict("records")
        ]
        vios = [
            ViolationIn(txt(r["code"]), txt(r["text_en"]), txt(r["text_zh"]), txt(r["rule"]), txt(r["section"]) or None)
            for r in ed_violations.to_dict("records")
        ]
        return secs, its, vios

    if c1.button(t("Save draft"), key="call_qa.sc_save", type="primary"):
        try:
            secs, its, vios = content()
            with session() as s:
                save_draft_version(
                    session=s,
                    actor=actor,
                    version_id=int(vid),
                    pass_mark=pass_mark,
                    sections=secs,
                    items=its,
                    violations=vios,
                )
            st.session_state["call_qa.flash"] = t("Draft saved.")
            st.rerun()
        except (PermissionDenied, ValueError, TypeError) as exc:
            show_error(exc)
    confirm = c2.checkbox(t("Activating retires the active version"), key="call_qa.sc_confirm")
    if c2.button(t("Activate"), key="call_qa.sc_activate", disabled=not confirm):
        try:
            with session() as s:
                activate_version(session=s, actor=actor, version_id=int(vid))
            st.session_state["call_qa.flash"] = t("Version activated; the previous version is retired.")
            st.rerun()
        except (PermissionDenied, ValueError) as exc:
            show_error(exc)
    if c3.button(t("Discard draft"), key="call_qa.sc_discard"):
        try:
            with session() as s:
                discard_draft(session=s, actor=actor, version_id=int(vid))
            st.session_state.pop("call_qa.version_pick", None)
            st.session_state["call_qa.flash"] = t("Draft discarded.")
            st.rerun()
        except (PermissionDenied, ValueError) as exc:
            show_error(exc)


# ================================================================ dispatch

{
    "queue": queue_view,
    "evaluations": evaluations_view,
    "disputes": disputes_view,
    "calibration": lambda: session_view("calibration"),
    "training": lambda: session_view("training"),
    "coaching": coaching_view,
    "discipline": discipline_view,
    "scorecards": scorecards_view,
}[view]()
