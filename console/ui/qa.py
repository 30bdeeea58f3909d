"""Drawing helpers of the Call QA page: the call, the scoring form, the score math, one evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from console.i18n import pick, t
from console.permissions import Actor, PermissionDenied
from console.qa.calls import CallView
from console.qa.common import VersionSpec, label
from console.qa.evaluations import EvaluationView, acknowledge, dispute, get_evaluation, resolve_dispute
from console.qa.explain import AnswerIn, ScoreExplanation
from console.ui import fmt_local, session, show_error

NA = "na"
PASS_COLOR = "#2e7d32"
FAIL_COLOR = "#c62828"


def pct(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.1f} %"


def flash(key: str) -> None:
    """Show (once) a success message stored before a rerun."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(message)


# ---------------------------------------------------------------- the call


def call_panel(call: CallView, *, transcript_height: int = 260) -> None:
    cols = st.columns(4)
    cols[0].markdown(f"**{t('Customer')}**  \n{call.customer} · {call.tier_name}")
    cols[1].markdown(f"**{t('Caller')}**  \n{call.caller}")
    cols[2].markdown(f"**{t('Type')}**  \n{label(call.stream)} · {label(call.call_type)}")
    outcome = label(call.outcome) + (f" · {label(call.result)}" if call.result else "")
    cols[3].markdown(f"**{t('Outcome')}**  \n{outcome} · {call.duration}")
    st.caption(
        t(
            "Call {ref} on {when}; tier at the call's time: {tier}. Recording: {recording}.",
            ref=call.reference,
            when=fmt_local(call.started_at),
            tier=call.tier_name,
            recording=call.recording_ref or "—",
        )
    )
    if not call.transcript:
        st.info(t("No transcript for this call: score it from the recording."))
        return
    with st.container(height=transcript_height, border=True):
        for line in call.transcript.splitlines():
            st.markdown(line if line.strip() else "&nbsp;")


# ---------------------------------------------------------------- the score math


def math_panel(ex: ScoreExplanation, *, pass_mark: float, key: str) -> None:
    """The total, the verdict and SPEC §4's steps, with one row per section."""
    heading = t("Total")
    if ex.total is None and not ex.provisional:
        verdict = t("Not scored")
    elif ex.provisional:
        verdict = t("Provisional: {count} item(s) to answer", count=ex.unanswered)
    elif ex.passed:
        verdict = t("Passed")
    else:
        verdict = t("Not passed")
    c1, c2 = st.columns([2, 3], vertical_alignment="center")
    c1.metric(heading, ex.display_total, border=True)
    color = "gray" if ex.provisional or ex.total is None else ("green" if ex.passed else "red")
    c2.badge(verdict, color=color)
    c2.caption(
        t("Pass mark {mark}: the unrounded total must reach it, with no fail_all violation.", mark=f"{pass_mark:g}")
    )
    if ex.fatal:
        st.error(t("A violation is marked: this evaluation counts as fatal."))
    table = ex.table.assign(
        section=[f"{s} · {w:g}" for s, w in zip(ex.table["section"], ex.table["weight"], strict=True)]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_order=["section", "points", "percent", "note"],
        column_config={
            "section": t("Section · weight"),
            "points": st.column_config.TextColumn(t("Earned"), width="small"),
            "percent": st.column_config.ProgressColumn(
                t("Section %"), min_value=0, max_value=1, format="percent", width="small"
            ),
            "note": t("Note"),
        },
        key=f"{key}.table",
    )
    st.markdown("\n".join(f"- {step}" for step in ex.steps))


# ---------------------------------------------------------------- the scoring form


def _options(kind: str, max_points: int, na_allowed: bool) -> list[Any]:
    opts: list[Any] = ["yes", "no"] if kind == "yes_no" else list(range(max_points + 1))
    return [*opts, NA] if na_allowed else opts


def _fmt_option(value: Any) -> str:
    if value == "yes":
        return t("Yes")
    if value == "no":
        return t("No")
    if value == NA:
        return t("N/A")
    return str(value)


def _to_option(kind: str, max_points: int, ans: AnswerIn | None) -> Any:
    if ans is None or not ans.answered:
        return None
    if ans.na:
        return NA
    if kind == "yes_no":
        return "yes" if ans.points == max_points else "no"
    return ans.points


def _to_answer(kind: str, max_points: int, value: Any, comment: str) -> AnswerIn:
    comment = comment.strip() or None  # type: ignore[assignment]
    if value is None:
        return AnswerIn(comment=comment)
    if value == NA:
        return AnswerIn(na=True, comment=comment)
    if kind == "yes_no":
        return AnswerIn(points=max_points if value == "yes" else 0, comment=comment)
    return AnswerIn(points=int(value), comment=comment)


def scoring_inputs(
    spec: VersionSpec,
    answers: dict[int, AnswerIn],
    marks: dict[int, str | None],
    *,
    key: str,
    only_items: set[int] | None = None,
    disabled: bool = False,
) -> tuple[dict[int, AnswerIn], dict[int, str | None]]:
    """One input per item (yes/no or 0..max, N/A where allowed, a comment), the violations apart."""
    out: dict[int, AnswerIn] = {}
    names = {s.code: s for s in spec.sections}
    current = None
    for item in spec.items:
        if only_items is not None and item.item_id not in only_items:
            continue
        if item.section != current:
            current = item.section
            sec = names[item.section]
            st.markdown(f"**{pick(sec, 'name')}** · {t('weight')} {sec.weight:g}")
        options = _options(item.kind, item.max_points, item.na_allowed)
        default = _to_option(item.kind, item.max_points, answers.get(item.item_id))
        kind_label = (
            t("yes/no, {max} points", max=item.max_points)
            if item.kind == "yes_no"
            else t("0–{max} points", max=item.max_points)
        )
        guidance = pick(item, "guidance") if (item.guidance_en or item.guidance_zh) else None
        left, right = st.columns([2, 1], vertical_alignment="bottom")
        value = left.radio(
            f"{pick(item, 'text')} ({kind_label})",
            options,
            index=options.index(default) if default in options else None,
            format_func=_fmt_option,
            horizontal=True,
            key=f"{key}.item.{item.item_id}",
            help=guidance,
            disabled=disabled,
        )
        comment = right.text_input(
            t("Comment"),
            value=(answers.get(item.item_id) or AnswerIn()).comment or "",
            key=f"{key}.comment.{item.item_id}",
            label_visibility="collapsed",
            placeholder=t("Comment (optional), e.g. the time in the recording"),
            disabled=disabled,
        )
        out[item.item_id] = _to_answer(item.kind, item.max_points, value, comment)
    new_marks: dict[int, str | None] = {}
    if spec.violations and only_items is None:
        with st.container(border=True):
            st.markdown(f"**:red[{t('Violations (fatal, never N/A)')}]**")
            sections = {s.code: pick(s, "name") for s in spec.sections}
            for v in spec.violations:
                rule = (
                    t("fail_all: the total becomes 0")
                    if v.rule == "fail_all"
                    else t("fail_section: {section} becomes 0 %", section=sections.get(v.section or "", ""))
                )
                checked = st.checkbox(
                    f"{pick(v, 'text')} — {rule}",
                    value=v.violation_id in marks,
                    key=f"{key}.violation.{v.violation_id}",
                    disabled=disabled,
                )
                if checked:
                    note = st.text_input(
                        t("Where in the call"),
                        value=marks.get(v.violation_id) or "",
                        key=f"{key}.violation_note.{v.violation_id}",
                        disabled=disabled,
                    )
                    new_marks[v.violation_id] = note.strip() or None
    return out, new_marks


# ---------------------------------------------------------------- one evaluation


def status_text(status: str, void: bool = False) -> str:
    return t("void (overturned)") if void else label(status)


def evaluation_header(view: EvaluationView) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("Total"), view.display_total, border=True)
    verdict = t("Not scored") if view.total is None else (t("Passed") if view.passed else t("Not passed"))
    c2.metric(t("Result"), verdict, border=True)
    c3.metric(t("Status"), status_text(view.status, view.void), border=True)
    if view.status == "submitted" and view.last_day:
        c4.metric(t("Last day to dispute"), view.last_day.isoformat(), border=True)
    elif view.acknowledged_at:
        label = t("Acknowledged automatically") if view.auto_acknowledged else t("Acknowledged")
        c4.metric(label, fmt_local(view.acknowledged_at, "%Y-%m-%d"), border=True)
    else:
        c4.metric(t("Revision"), str(view.revision), border=True)
    st.caption(
        t(
            "Evaluation #{id} of {person} by {scorer} on {card}; submitted {when}.",
            id=view.evaluation_id,
            person=view.evaluatee,
            scorer=view.evaluator,
            card=view.spec.label,
            when=fmt_local(view.submitted_at) or "—",
        )
    )


def items_table(view: EvaluationView, key: str) -> None:
    df = view.items_table.drop(columns=["item_id"])
    st.dataframe(
        df,
        hide_index=True,
        column_config={
            "section": t("Section"),
            "item": st.column_config.TextColumn(t("Item"), width="medium"),
            "answer": t("Answer"),
            "points": st.column_config.NumberColumn(t("Earned")),
            "max": st.column_config.NumberColumn(t("Max")),
            "comment": t("Comment"),
            "disputed": st.column_config.CheckboxColumn(t("Disputed")),
        },
        column_order=["item", "answer", "comment", "disputed", "section", "points", "max"],
        key=f"{key}.items",
    )
    marked = [v for v in view.spec.violations if v.violation_id in view.marks]
    if marked:
        for v in marked:
            note = view.marks.get(v.violation_id)
            st.error(f"{t('Violation')}: {pick(v, 'text')} ({v.rule})" + (f" — {note}" if note else ""))
    else:
        st.caption(t("No violation marked."))


def evaluation_detail(evaluation_id: int, actor: Actor, *, key: str, now: dt.datetime) -> None:
    """Everything about one evaluation, with the actions the actor may take on it."""
    try:
        with session() as s:
            view = get_evaluation(session=s, actor=actor, evaluation_id=evaluation_id, now=now)
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        return
    evaluation_header(view)
    with st.expander(t("The call"), expanded=False):
        call_panel(view.call, transcript_height=200)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown(f"#### {t('Answers')}")
        items_table(view, key)
    with right:
        st.markdown(f"#### {t('Score math')}")
        math_panel(view.explanation, pass_mark=view.spec.pass_mark, key=f"{key}.math")
    if view.dispute:
        d = view.dispute
        with st.container(border=True):
            st.markdown(
                f"**{t('Dispute')}** · {label(d.status)} · "
                + t("raised by {name} on {when}", name=d.raised_by, when=fmt_local(d.raised_at))
            )
            items = [pick(view.spec.item(i), "text") for i in d.item_ids]
            vios = [pick(v, "text") for v in view.spec.violations if v.violation_id in d.violation_ids]
            st.markdown(t("Disputed: {items}", items="; ".join(items + vios) or "—"))
            st.markdown(f"> {d.reason}")
            if d.resolved_at:
                st.markdown(
                    t(
                        "Resolved {outcome} by {name} on {when}: {note}",
                        outcome=label(d.status),
                        name=d.resolved_by or "?",
                        when=fmt_local(d.resolved_at),
                        note=d.note or "",
                    )
                )
    if view.revisions:
        with st.expander(t("History: {count} earlier revision(s)", count=len(view.revisions))):
            for rev in view.revisions:
                total = "—" if rev.total is None else f"{rev.total:.1f}"
                st.markdown(
                    t(
                        "Revision {n} ({when}): total {total}, {verdict}. {reason}",
                        n=rev.revision,
                        when=fmt_local(rev.at),
                        total=total,
                        verdict=t("passed") if rev.passed else t("not passed"),
                        reason=rev.reason or "",
                    )
                )
                rows = []
                for item in view.spec.items:
                    old = rev.answers.get(str(item.item_id), {})
                    new = view.answers.get(item.item_id, AnswerIn())
                    old_text = t("N/A") if old.get("na") else str(old.get("points", "—"))
                    new_text = t("N/A") if new.na else str(new.points if new.points is not None else "—")
                    if old_text != new_text:
                        rows.append({"item": pick(item, "text"), "before": old_text, "after": new_text})
                if rows:
                    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}.rev.{rev.revision}")
    if view.can_acknowledge or view.can_dispute:
        _own_actions(view, actor, key=key, now=now)
    if view.can_resolve and view.dispute and view.dispute.status == "open":
        _resolve_form(view, actor, key=key)


def _own_actions(view: EvaluationView, actor: Actor, *, key: str, now: dt.datetime) -> None:
    st.markdown(f"#### {t('Your response')}")
    st.info(
        t(
            "Acknowledge, or dispute items with a reason, by {day} (Asia/Shanghai). With no action it is acknowledged automatically when the window closes.",
            day=view.last_day.isoformat() if view.last_day else "—",
        )
    )
    if st.button(t("Acknowledge"), key=f"{key}.ack", type="primary"):
        try:
            with session() as s:
                acknowledge(session=s, actor=actor, evaluation_id=view.evaluation_id, now=now)
            st.session_state["call_qa.flash"] = t("Evaluation acknowledged.")
            st.rerun()
        except (PermissionDenied, ValueError) as exc:
            show_error(exc)
    with st.form(f"{key}.dispute_form", clear_on_submit=False):
        st.markdown(f"**{t('Dispute items')}**")
        labels = {i.item_id: pick(i, "text") for i in view.spec.items}
        items = st.multiselect(
            t("Items you dispute"), list(labels), format_func=lambda i: labels[i], key=f"{key}.dispute_items"
        )
        vlabels = {v.violation_id: pick(v, "text") for v in view.spec.violations if v.violation_id in view.marks}
        vios = []
        if vlabels:
            vios = st.multiselect(
                t("Violation marks you dispute"),
                list(vlabels),
                format_func=lambda v: vlabels[v],
                key=f"{key}.dispute_violations",
            )
        reason = st.text_area(
            t("Reason"), key=f"{key}.dispute_reason", placeholder=t("What should the scorer listen to again?")
        )
        if st.form_submit_button(t("Send dispute")):
            try:
                with session() as s:
                    dispute(
                        session=s,
                        actor=actor,
                        evaluation_id=view.evaluation_id,
                        item_ids=list(items),
                        violation_ids=list(vios),
                        reason=reason,
                        now=now,
                    )
                st.session_state["call_qa.flash"] = t("Dispute sent to the supervisors.")
                st.rerun()
            except (PermissionDenied, ValueError) as exc:
                show_error(exc)


def _resolve_form(view: EvaluationView, actor: Actor, *, key: str) -> None:
    assert view.dispute is not None
    st.markdown(f"#### {t('Resolve the dispute')}")
    outcome = st.radio(
        t("Outcome"),
        ["upheld", "adjusted", "overturned"],
        format_func=lambda o: {
            "upheld": t("Upheld — the score stands"),
            "adjusted": t("Adjusted — re-answer the items, the score is recomputed"),
            "overturned": t("Overturned — the evaluation is void and leaves every KPI"),
        }[o],
        key=f"{key}.outcome",
    )
    answers: dict[int, AnswerIn] = {}
    violations: dict[int, str | None] | None = None
    if outcome == "adjusted":
        disputed = set(view.dispute.item_ids)
        st.caption(t("Re-answer the disputed items; the other answers stay as scored."))
        answers, _ = scoring_inputs(view.spec, view.answers, view.marks, key=f"{key}.adjust", only_items=disputed)
        if view.dispute.violation_ids:
            keep = {}
            for v in view.spec.violations:
                if v.violation_id in view.marks:
                    if st.checkbox(
                        t("Keep the violation mark: {violation}", violation=pick(v, "text")),
                        value=True,
                        key=f"{key}.keep.{v.violation_id}",
                    ):
                        keep[v.violation_id] = view.marks[v.violation_id]
            violations = keep
    note = st.text_area(t("Resolution note for the evaluated person"), key=f"{key}.note")
    confirm = True
    if outcome == "overturned":
        confirm = st.checkbox(t("I confirm: the evaluation becomes void."), key=f"{key}.confirm")
    if st.button(t("Resolve"), key=f"{key}.resolve", type="primary"):
        if not confirm:
            st.error(t("Tick the confirmation to overturn the evaluation."))
            return
        try:
            with session() as s:
                resolve_dispute(
                    session=s,
                    actor=actor,
                    dispute_id=view.dispute.dispute_id,
                    outcome=outcome,
                    note=note,
                    answers={k: v for k, v in answers.items() if v.answered},
                    violations=violations,
                )
            st.session_state["call_qa.flash"] = t("Dispute resolved: {outcome}.", outcome=label(outcome))
            st.rerun()
        except (PermissionDenied, ValueError) as exc:
            show_error(exc)


# ---------------------------------------------------------------- calibration charts


def agreement_chart(df: pd.DataFrame) -> alt.Chart:
    data = df.dropna(subset=["agreement"]).assign(label=lambda d: d["section"] + " · " + d["item"])
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "agreement:Q",
                title=t("Agreement with the key"),
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=320, labelOverlap=False)),
            color=alt.condition(alt.datum.agreement < 0.7, alt.value(FAIL_COLOR), alt.value(PASS_COLOR)),
            tooltip=[
                alt.Tooltip("item:N", title=t("Item")),
                alt.Tooltip("key:N", title=t("Key")),
                alt.Tooltip("agreement:Q", format=".0%", title=t("Agreement")),
            ],
        )
        .properties(height=max(200, 24 * len(data)))
    )


def deviation_chart(df: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("total_deviation:Q", title=t("Total deviation from the key (points)")),
            y=alt.Y("grader:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
            tooltip=[
                alt.Tooltip("grader:N", title=t("Grader")),
                alt.Tooltip("item_deviation:Q", format=".2f", title=t("Mean item deviation")),
                alt.Tooltip("total_deviation:Q", format=".1f", title=t("Total deviation")),
            ],
        )
        .properties(height=max(120, 34 * len(df)))
    )
