"""Agent KPIs: the SPEC §4 glossary per person and per team, for a period and stream; ranking with weekly
sparklines, the weekly trend against the pass mark, section averages, QA score by customer tier, SLA compliance
for client managers, discipline points, and a drill-down from a person to their evaluations.

Agents and client managers see their own figures, team leads their team, supervisors everyone.
"""

from __future__ import annotations

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="agent_kpis")


import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from console.i18n import t
from console.permissions import PermissionDenied
from console.qa.common import label, teams_for
from console.qa.evaluations import list_evaluations
from console.qa.kpis import (
    MIN_RANKED,
    KpiQuery,
    discipline_by_month,
    kpi_people,
    person_kpis,
    score_by_tier,
    section_averages,
    sla_available,
    sla_compliance,
    team_kpis,
    weekly_trend,
)
from console.timeutil import today_local
from console.ui import guard, now_utc, pager, session, show_error

actor = user.actor
role = actor.role
today = today_local()
own_only = role in ("agent", "client_manager")

ROLE_NAMES = {"agent": "Agent", "client_manager": "Client manager"}
PERIODS = {
    "last7": "Last 7 days",
    "last30": "Last 30 days",
    "last90": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "custom": "Custom range",
}


def period_bounds(choice: str) -> tuple[dt.date, dt.date]:
    if choice == "last7":
        return today - dt.timedelta(days=6), today
    if choice == "last30":
        return today - dt.timedelta(days=29), today
    if choice == "last90":
        return today - dt.timedelta(days=89), today
    if choice == "this_month":
        return today.replace(day=1), today
    if choice == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if choice == "this_quarter":
        first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return first, today
    return today - dt.timedelta(days=29), today


st.title(t("Agent KPIs"))
c1, c2, c3, c4 = st.columns([2, 1, 2, 1])
period = c1.selectbox(t("Period"), list(PERIODS), index=2, format_func=lambda p: t(PERIODS[p]), key="agent_kpis.period")
start, end = period_bounds(period)
if period == "custom":
    picked = c1.date_input(
        t("From – to"), value=(today - dt.timedelta(days=29), today), max_value=today, key="agent_kpis.range"
    )
    if isinstance(picked, tuple) and len(picked) == 2:
        start, end = picked
stream = c2.selectbox(
    t("Stream"),
    [None, "maintenance", "ob"],
    format_func=lambda v: t("All streams") if v is None else label(v),
    key="agent_kpis.stream",
)
team_id = None
level = "people"
if not own_only:
    with session() as s:
        teams = teams_for(s, actor, stream)
    team_names = {tm.id: f"{tm.name} ({label(tm.stream)})" for tm in teams}
    if actor.is_supervisor:
        team_id = c3.selectbox(
            t("Team"),
            [None, *team_names],
            format_func=lambda i: t("All teams") if i is None else team_names.get(i, str(i)),
            key="agent_kpis.team",
        )
    else:
        team_id = actor.team_id
        c3.selectbox(
            t("Team"),
            [team_id],
            format_func=lambda i: team_names.get(i, "—"),
            disabled=True,
            key="agent_kpis.team_fixed",
        )
    level = (
        c4.segmented_control(
            t("Per"),
            ["people", "teams"],
            format_func=lambda v: t("Person") if v == "people" else t("Team"),
            default="people",
            key="agent_kpis.level",
        )
        or "people"
    )
st.caption(
    t(
        "{start} to {end} (Asia/Shanghai calendar days): calls by call date, evaluations by their call's date; calibration and training never count; overturned evaluations leave every KPI.",
        start=start.isoformat(),
        end=end.isoformat(),
    )
)

try:
    q = KpiQuery(start=start, end=end, stream=stream, team_id=team_id)
    with session() as s:
        people = person_kpis(session=s, actor=actor, q=q)
        trend = weekly_trend(session=s, actor=actor, q=q)
        sections = section_averages(session=s, actor=actor, q=q)
        tiers = score_by_tier(session=s, actor=actor, q=q)
        discipline = discipline_by_month(session=s, actor=actor, q=q)
        teams_df = team_kpis(session=s, actor=actor, q=q) if level == "teams" else None
except (PermissionDenied, ValueError) as exc:
    show_error(exc)
    st.stop()


def ratio(num: str, den: str) -> float | None:
    d = people[den].sum()
    return None if not d else float(people[num].sum()) / float(d)


def pct(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.1f} %"


m = st.columns(4)
m[0].metric(t("Evaluations"), f"{int(people['evaluations'].sum()):,}", border=True)
avg = ratio("score_sum", "scored")
m[1].metric(t("Average score"), "—" if avg is None else f"{avg:.1f}", border=True)
m[2].metric(t("Pass rate"), pct(ratio("passed", "scored")), border=True)
m[3].metric(t("Fatal rate"), pct(ratio("fatal", "scored")), border=True)
m = st.columns(4)
m[0].metric(t("Attempts"), f"{int(people['attempts'].sum()):,}", border=True)
m[1].metric(t("Contact rate"), pct(ratio("connected", "attempts")), border=True)
m[2].metric(t("Success rate"), pct(ratio("success", "connected")), border=True)
m[3].metric(t("Discipline points"), f"{int(people['discipline_points'].sum()):,}", border=True)
disputed = int(people["disputed"].sum())
if disputed:
    st.caption(t("{count} evaluation(s) under open dispute count with their submitted score.", count=disputed))

RATE = {"min_value": 0, "max_value": 1, "format": "percent"}
COMMON = {
    "evaluations": st.column_config.NumberColumn(t("Evaluations")),
    "average": st.column_config.NumberColumn(t("Average score"), format="%.1f"),
    "pass_rate": st.column_config.ProgressColumn(t("Pass rate"), **RATE),
    "fatal_rate": st.column_config.NumberColumn(t("Fatal rate"), format="percent"),
    "disputed": st.column_config.NumberColumn(t("Disputed")),
    "attempts": st.column_config.NumberColumn(t("Attempts"), format="localized"),
    "contact_rate": st.column_config.NumberColumn(t("Contact rate"), format="percent"),
    "success_rate": st.column_config.NumberColumn(t("Success rate"), format="percent"),
    "discipline_points": st.column_config.NumberColumn(t("Discipline points")),
}
st.subheader(t("Ranking") if not own_only else t("My figures"))
st.caption(
    t(
        "Ranked by average score, then pass rate, then evaluations; fewer than {n} evaluations = unranked. Discipline points cover the calendar months of the period.",
        n=MIN_RANKED,
    )
)
if level == "teams" and teams_df is not None:
    if teams_df.empty:
        st.info(t("No figures for this period."))
    else:
        st.dataframe(
            teams_df,
            hide_index=True,
            column_order=["rank", "team", "people", *COMMON],
            column_config={
                "rank": st.column_config.NumberColumn(t("Place")),
                "team": t("Team"),
                "people": t("People"),
                **COMMON,
            },
            key="agent_kpis.teams",
        )
elif people.empty:
    st.info(t("No one in this scope."))
else:
    with st.columns([1, 3])[0]:
        offset, limit = pager(len(people), key="agent_kpis.rank_page", page_size=50)
    page_rows = people.iloc[offset : offset + limit]
    shown = page_rows.assign(
        role=[t(ROLE_NAMES.get(r, r)) for r in page_rows["role"]],
        trend=[[x for x in tr if x is not None] for tr in page_rows["trend"]],  # weeks with scored evaluations
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_order=["rank", "person", "role", "team", "trend", *COMMON],
        column_config={
            "rank": st.column_config.NumberColumn(t("Place")),
            "person": t("Person"),
            "role": t("Role"),
            "team": t("Team"),
            "trend": st.column_config.LineChartColumn(t("Weekly average score"), y_min=0, y_max=100),
            **COMMON,
        },
        key="agent_kpis.people",
    )

st.subheader(t("Weekly trend"))
if trend.weekly.empty:
    st.info(t("No scored evaluations in this period."))
else:
    data = trend.weekly.assign(week=pd.to_datetime(trend.weekly["week"]))
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title=t("Week (Monday)")),
            y=alt.Y("average:Q", title=t("Average score"), scale=alt.Scale(domain=[0, 100])),
            tooltip=[
                alt.Tooltip("week:T", title=t("Week (Monday)")),
                alt.Tooltip("average:Q", format=".1f", title=t("Average score")),
                alt.Tooltip("evaluations:Q", title=t("Evaluations")),
                alt.Tooltip("pass_rate:Q", format=".0%", title=t("Pass rate")),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"mark": [trend.pass_mark]}))
        .mark_rule(color="#c62828", strokeDash=[6, 4])
        .encode(y="mark:Q", tooltip=[alt.Tooltip("mark:Q", title=t("Pass mark"))])
    )
    st.altair_chart((line + rule).properties(height=260), width="stretch")
    st.caption(t("The dashed red line is the pass mark ({mark}).", mark=f"{trend.pass_mark:g}"))

left, right = st.columns(2, gap="large")
with left:
    st.subheader(t("Section averages"))
    if sections.empty:
        st.info(t("No scored evaluations in this period."))
    else:
        weakest = sections.loc[sections["weakest"], "section"].iloc[0]
        chart = (
            alt.Chart(sections)
            .mark_bar()
            .encode(
                x=alt.X(
                    "average:Q", title=t("Average section %"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
                ),
                y=alt.Y("section:N", sort="x", title=None),
                color=alt.condition(alt.datum.weakest, alt.value("#c62828"), alt.value("#1565c0")),
                tooltip=[
                    alt.Tooltip("section:N", title=t("Section")),
                    alt.Tooltip("average:Q", format=".1%", title=t("Average section %")),
                    alt.Tooltip("evaluations:Q", title=t("Evaluations")),
                ],
            )
            .properties(height=40 * len(sections) + 40)
        )
        st.altair_chart(chart, width="stretch")
        st.caption(t("Weakest section: {section} (in red).", section=weakest))
with right:
    st.subheader(t("QA score by customer tier"))
    if tiers.empty:
        st.info(t("No scored evaluations in this period."))
    else:
        st.dataframe(
            tiers.drop(columns=["rank"]),
            hide_index=True,
            column_config={
                "tier": t("Tier at call"),
                "evaluations": t("Evaluations"),
                "average": st.column_config.NumberColumn(t("Average score"), format="%.1f"),
                "pass_rate": st.column_config.ProgressColumn(t("Pass rate"), **RATE),
                "fatal_rate": st.column_config.NumberColumn(t("Fatal rate"), format="percent"),
            },
            key="agent_kpis.tiers",
        )

has_managers = not people.empty and (people["role"] == "client_manager").any()
if has_managers and stream != "ob":
    st.subheader(t("SLA compliance (client managers)"))
    show_sla = own_only or st.toggle(
        t("Show first-contact SLA compliance"), key="agent_kpis.show_sla", help=t("Takes a moment at large scale.")
    )
    if not sla_available():
        st.info(t("SLA compliance needs the assignment module, which is not installed."))
    elif show_sla:
        with session() as s:
            sla = sla_compliance(session=s, actor=actor, q=q)
        if sla.empty:
            st.info(t("No first-contact SLA fell due in this period."))
        else:
            st.dataframe(
                sla.drop(columns=["staff_id"]).assign(sla=[t("First contact") for _ in sla["sla"]]),
                hide_index=True,
                column_config={
                    "person": t("Client manager"),
                    "sla": t("SLA"),
                    "due": t("Due in the period"),
                    "met": t("Met"),
                    "compliance": st.column_config.ProgressColumn(t("Compliance"), **RATE),
                },
                key="agent_kpis.sla",
            )
            st.caption(
                t(
                    "First contact: a connected maintenance call by the bound manager within 30 days of binding. Notice SMS and regular contact are followed on the Assignment page."
                )
            )

st.subheader(t("Discipline points per calendar month"))
if discipline.empty:
    st.info(t("No floor-discipline violations recorded in these months."))
else:
    pivot = discipline.pivot_table(index="person", columns="month", values="points", aggfunc="sum", fill_value=0)
    pivot.index.name = t("Person")
    pivot.columns.name = None
    st.dataframe(pivot, key="agent_kpis.discipline")

st.subheader(t("Evaluations of a person"))
if people.empty:
    st.info(t("No one in this scope."))
else:
    with session() as s:
        choices = kpi_people(session=s, actor=actor, stream=stream)
    names = dict(choices)
    ids = [i for i in people["staff_id"] if i in names] or [int(people["staff_id"].iloc[0])]
    staff_id = st.selectbox(t("Person"), ids, format_func=lambda i: names.get(i, str(i)), key="agent_kpis.drill_person")
    with session() as s:
        _, total = list_evaluations(
            session=s, actor=actor, evaluatee_id=int(staff_id), stream=stream, start=start, end=end, limit=1
        )
    offset, limit = pager(total, key="agent_kpis.drill_page", page_size=25)
    with session() as s:
        evs, total = list_evaluations(
            session=s,
            actor=actor,
            evaluatee_id=int(staff_id),
            stream=stream,
            start=start,
            end=end,
            offset=offset,
            limit=limit,
            now=now_utc(),
        )
    if evs.empty:
        st.info(t("No evaluations of this person in the period."))
    else:
        st.dataframe(
            evs.assign(
                status=[
                    t("void (overturned)") if v else label(s_) for s_, v in zip(evs["status"], evs["void"], strict=True)
                ],
                type=[label(x) for x in evs["type"]],
            ),
            hide_index=True,
            column_order=[
                "id",
                "call_date",
                "type",
                "customer",
                "tier",
                "evaluator",
                "status",
                "total",
                "passed",
                "fatal",
            ],
            column_config={
                "id": st.column_config.NumberColumn("#", format="%d"),
                "call_date": st.column_config.DateColumn(t("Call date")),
                "type": t("Type"),
                "customer": t("Customer"),
                "tier": t("Tier at call"),
                "evaluator": t("Scored by"),
                "status": t("Status"),
                "total": st.column_config.NumberColumn(t("Total"), format="%.1f"),
                "passed": st.column_config.CheckboxColumn(t("Passed")),
                "fatal": st.column_config.CheckboxColumn(t("Fatal")),
            },
            key="agent_kpis.drill_table",
        )
        ev_ids = [int(i) for i in evs["id"]]
        open_id = st.selectbox(t("Evaluation"), ev_ids, format_func=lambda i: f"#{i}", key="agent_kpis.drill_eval")
        if st.button(t("Open in Call QA"), key="agent_kpis.open", icon=":material/open_in_new:"):
            st.session_state["ctx.qa_evaluation"] = int(open_id)
            st.session_state["call_qa.from_kpis"] = True
            st.switch_page("pages/call_qa.py")
