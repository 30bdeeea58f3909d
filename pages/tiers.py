"""Tiers: distribution now and over time, movements, drill-down, near threshold and at risk, overrides,
the evaluation job and the ladder (SPEC §2). Rules live in console/tiers; this page reads widgets,
calls one service and draws what comes back."""

from __future__ import annotations

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="tiers")


import datetime as dt
import hashlib
import json
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from console.assignment.exports import CSV_MIME, XLSX_MIME, to_csv_bytes, to_xlsx_bytes
from console.db import database_url
from console.i18n import get_language, t
from console.permissions import Actor
from console.tiers.colors import tier_color_scale, tier_styles
from console.tiers.common import TierError, add_months, fmt_yuan, month_key, month_start, next_review_date, period_of
from console.tiers.distribution import (
    data_version,
    distribution_now,
    movement_matrix,
    net_flow,
    tier_history,
    ups_and_downs,
)
from console.tiers.drill import Drill, customer_history, drill_customers, drill_export, lookup_customer
from console.tiers.engine import (
    active_overrides,
    clear_override,
    designate_supreme,
    evaluation_flags,
    last_evaluation,
    remove_supreme,
    review_done,
    review_history,
    set_override,
    start_evaluation,
)
from console.tiers.home import age_text
from console.tiers.ladder import (
    coerce_rows,
    ladder_table,
    ladder_versions,
    preview_ladder,
    save_ladder,
    validate_ladder,
)
from console.tiers.risk import ALL, UNASSIGNED, at_risk, manager_choices, near_threshold, risk_by_manager
from console.timeutil import today_local
from console.ui import fmt_local, guard, now_utc, pager, session, show_error
from console.ui.jobs import follow_job

actor = user.actor
is_sup = actor.is_supervisor
today = today_local()
K_DRILL = "ctx.tiers_drill"
K_JOB = "tiers.eval_job"
K_FLASH = "tiers.flash"
PAGE_SIZE = 50
UP, DOWN = "#2e7d32", "#c62828"

with session() as s:
    styles = tier_styles(s, today)
    scale = tier_color_scale(s, today)
    last = last_evaluation(session=s, actor=actor)
    version = data_version(session=s, actor=actor)
names = {style.rank: style.name for style in styles}


# Figures are cached briefly per role, scope, language and state of the data (a change shows at once).
@st.cache_data(ttl=300, show_spinner=False, max_entries=200)
def cached_now(db: str, who: Actor, day: dt.date, lang: str, version: tuple[int, int, int]) -> Any:
    with session() as s:
        return distribution_now(session=s, actor=who, today=day)


@st.cache_data(ttl=300, show_spinner=False, max_entries=200)
def cached_history(
    db: str, who: Actor, start: str, end: str, day: dt.date, lang: str, version: tuple[int, int, int]
) -> Any:
    with session() as s:
        return tier_history(
            session=s,
            actor=who,
            start_month=dt.date.fromisoformat(start + "-01"),
            end_month=dt.date.fromisoformat(end + "-01"),
            today=day,
        )


order = [style.name for style in styles]

st.title(t("Tiers"))
if last and last.get("finished_at"):
    finished = dt.datetime.fromisoformat(last["finished_at"])
    st.caption(
        t(
            "Last evaluated at {when} (as of {as_of}) · {age}",
            when=fmt_local(finished),
            as_of=last["as_of"],
            age=age_text(finished, now_utc()),
        )
    )
else:
    st.caption(t("The tier evaluation has not run yet."))
flash = st.session_state.pop(K_FLASH, None)
if flash:
    st.success(flash)

SECTIONS = {
    "now": "Distribution now",
    "time": "Over time",
    "risk": "Near threshold and at risk",
    "overrides": "Overrides",
}
if is_sup:
    SECTIONS["evaluation"] = "Tier evaluation"
SECTIONS["ladder"] = "Ladder"
section = (
    st.segmented_control(
        t("View"),
        list(SECTIONS),
        format_func=lambda k: t(SECTIONS[k]),
        default="now",
        key="tiers.section",
        label_visibility="collapsed",
    )
    or "now"
)


# ------------------------------------------------------------------------------------------- shared helpers


def tier_label(rank: Any) -> str:
    return names.get(int(rank), str(rank))


def set_drill(value: dict[str, Any] | None) -> None:
    st.session_state[K_DRILL] = value


def drill_key(drill: Drill) -> str:
    return hashlib.sha1(json.dumps(drill.as_dict(), sort_keys=True).encode()).hexdigest()[:10]


def picked(event: Any, name: str) -> dict[str, Any] | None:
    """The first point of a chart selection (on_select) or None."""
    try:
        points = event.selection.get(name) or []
    except AttributeError:
        return None
    return points[0] if points else None


def export_buttons(frame_fn: Any, *, key: str, filename: str) -> None:
    """Prepare an export on request (a whole list can be long), then offer CSV and XLSX."""
    store = f"{key}.data"
    if st.button(t("Prepare export"), key=f"{key}.prepare", icon=":material/download:"):
        with session() as s:
            frame, cut = frame_fn(s)
        st.session_state[store] = (frame, cut)
    if store in st.session_state:
        frame, cut = st.session_state[store]
        if cut:
            st.warning(t("The export holds the first {n} rows.", n=f"{len(frame):,}"))
        c1, c2 = st.columns(2)
        c1.download_button("CSV", to_csv_bytes(frame), f"{filename}.csv", CSV_MIME, key=f"{key}.csv")
        c2.download_button(
            "XLSX", to_xlsx_bytes(frame, sheet_name=filename[:31]), f"{filename}.xlsx", XLSX_MIME, key=f"{key}.xlsx"
        )


def drill_panel(where: str) -> None:
    """The customers behind the chosen number: paged, exportable, each with their tier history."""
    st.subheader(t("Customers behind the number"))
    drill = Drill.from_dict(st.session_state.get(K_DRILL))
    if drill is None:
        st.caption(t("Click a bar or a cell, or pick one in the lists above, to see the customers behind the number."))
        return
    head, clear = st.columns([6, 1])
    head.markdown(f"**{drill.label(names)}**")
    if clear.button(t("Clear"), key=f"tiers.drill_clear.{where}"):
        set_drill(None)
        st.rerun()
    if actor.role == "team_lead":
        st.caption(t("Only the customers your team calls or holds are listed."))
    key = f"tiers.drill_page.{drill_key(drill)}"
    offset = (int(st.session_state.get(key, 1)) - 1) * PAGE_SIZE
    with session() as s:
        page = drill_customers(session=s, actor=actor, drill=drill, today=today, offset=offset, limit=PAGE_SIZE)
    if page.total == 0:
        st.info(t("No customers here."))
        return
    pager(page.total, key=key, page_size=PAGE_SIZE)
    st.dataframe(
        page.rows.drop(columns=["customer_id"]),
        hide_index=True,
        column_config={
            "code": t("Code"),
            "name": t("Name"),
            "region": t("Region"),
            "tier": t("Tier now"),
            "manager": t("Client manager"),
            "tier_since": st.column_config.DateColumn(t("In tier since")),
            "history": st.column_config.TextColumn(t("Tier history"), width="large"),
        },
        key=f"tiers.drill_table.{where}",
    )
    options = list(page.rows["customer_id"])
    labels = dict(zip(page.rows["customer_id"], page.rows["code"] + " · " + page.rows["name"], strict=True))
    who = st.selectbox(
        t("Full tier history of"),
        options,
        index=None,
        placeholder=t("(choose a customer)"),
        format_func=lambda v: labels[v],
        key=f"tiers.history_pick.{where}",
    )
    if who is not None:
        with session() as s:
            events = customer_history(session=s, actor=actor, customer_id=int(who), today=today)
        st.dataframe(
            events,
            hide_index=True,
            column_config={
                "at": st.column_config.DatetimeColumn(t("When"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"),
                "from": t("From"),
                "to": t("To"),
                "kind": t("Kind"),
                "by": t("By"),
                "reason": t("Reason"),
            },
            key=f"tiers.history_table.{where}",
        )
    export_buttons(
        lambda s: drill_export(session=s, actor=actor, drill=drill, today=today),
        key=f"tiers.drill_export.{drill_key(drill)}",
        filename="tier-customers",
    )


def tier_chart_color(field: str = "tier", *, legend: bool = True) -> alt.Color:
    return alt.Color(
        f"{field}:N",
        scale=scale,
        sort=order,
        title=t("Tier"),
        legend=alt.Legend(orient="bottom") if legend else None,
    )


# ------------------------------------------------------------------------------------------- distribution now


def section_now() -> None:
    dist = cached_now(database_url(), actor, today, get_language(), version)
    if dist.total == 0:
        st.info(t("No customers in your scope yet."))
        return
    tiers = dist.tiers.assign(tier=dist.tiers["name"])
    vips = int(tiers.loc[tiers["rank"] > 0, "count"].sum())
    c1, c2, c3 = st.columns(3)
    c1.metric(t("Customers"), f"{dist.total:,}", border=True)
    c2.metric(t("VIPs"), f"{vips:,}", border=True)
    c3.metric(t("VIP share"), f"{vips / dist.total:.1%}", border=True)
    if dist.scope == "portfolio":
        st.caption(t("Your portfolio."))
    left, right = st.columns([3, 2])
    with left:
        pick = alt.selection_point(name="tier_pick", fields=["rank"])
        chart = (
            alt.Chart(tiers)
            .mark_bar()
            .encode(
                x=alt.X("tier:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("count:Q", title=t("Customers")),
                color=tier_chart_color(legend=False),
                opacity=alt.condition(pick, alt.value(1.0), alt.value(0.5)),
                tooltip=[
                    alt.Tooltip("tier:N", title=t("Tier")),
                    alt.Tooltip("count:Q", title=t("Customers"), format=","),
                    alt.Tooltip("share:Q", title=t("Share"), format=".1%"),
                ],
            )
            .add_params(pick)
            .properties(height=280)
        )
        event = st.altair_chart(chart, width="stretch", on_select="rerun", key="tiers.now_chart")
        point = picked(event, "tier_pick")
        if point is not None and st.session_state.get("tiers._now_point") != point:
            st.session_state["tiers._now_point"] = point
            set_drill(Drill(kind="tier", rank=int(point["rank"])).as_dict())
    with right:
        st.dataframe(
            tiers[["tier", "count", "share"]],
            hide_index=True,
            column_config={
                "tier": t("Tier"),
                "count": st.column_config.NumberColumn(t("Customers"), format="localized"),
                "share": st.column_config.ProgressColumn(t("Share"), format="percent", min_value=0, max_value=1),
            },
            key="tiers.now_table",
        )
        current = Drill.from_dict(st.session_state.get(K_DRILL))
        st.session_state["tiers.now_pick"] = current.rank if current is not None and current.kind == "tier" else None
        counts = dict(zip(tiers["rank"], tiers["count"], strict=True))
        st.selectbox(
            t("List the customers in"),
            list(tiers["rank"]),
            index=None,
            placeholder=t("(choose a tier)"),
            format_func=lambda r: f"{tier_label(r)} ({counts[r]:,})",
            key="tiers.now_pick",
            on_change=lambda: set_drill(
                None
                if st.session_state["tiers.now_pick"] is None
                else Drill(kind="tier", rank=int(st.session_state["tiers.now_pick"])).as_dict()
            ),
        )

    st.subheader(t("Breakdown"))
    breakdown = (
        st.segmented_control(
            t("Breakdown"),
            ["region", "team", "manager"],
            format_func=lambda k: {
                "region": t("By region"),
                "team": t("By team of the client manager"),
                "manager": t("By client manager"),
            }[k],
            default="region",
            key="tiers.breakdown",
            label_visibility="collapsed",
        )
        or "region"
    )
    if breakdown in ("region", "team"):
        frame = dist.by_region if breakdown == "region" else dist.by_team
        label = t("Region") if breakdown == "region" else t("Team")
        blank = t("(no region)") if breakdown == "region" else t("(no client manager)")
        frame = frame.assign(group=frame[breakdown].replace("", blank), tier=frame["rank"].map(tier_label))
        chart = (
            alt.Chart(frame)
            .mark_bar(stroke="white", strokeWidth=0.6)
            .encode(
                y=alt.Y("group:N", title=label, sort="-x"),
                x=alt.X("count:Q", title=t("Customers"), stack="zero"),
                color=tier_chart_color(),
                order=alt.Order("rank:Q"),
                tooltip=[
                    alt.Tooltip("group:N", title=label),
                    alt.Tooltip("tier:N", title=t("Tier")),
                    alt.Tooltip("count:Q", title=t("Customers"), format=","),
                ],
            )
            .properties(height=alt.Step(22))
        )
        st.altair_chart(chart, width="stretch", key=f"tiers.breakdown_chart.{breakdown}")
        wide = frame.pivot_table(index="group", columns="rank", values="count", aggfunc="sum", fill_value=0)
        wide.index.name = label
        wide = wide.reindex(columns=list(names), fill_value=0)
        wide.columns = [tier_label(r) for r in wide.columns]
        wide.insert(0, t("All tiers"), wide.sum(axis=1))
        st.dataframe(wide.sort_values(t("All tiers"), ascending=False), key=f"tiers.breakdown_table.{breakdown}")
    else:
        frame = dist.by_manager
        if frame.empty:
            st.info(t("No customer is assigned to a client manager yet."))
            return
        shown = frame.rename(columns={f"r{r}": tier_label(r) for r in names})
        st.dataframe(
            shown.drop(columns=["manager_id", tier_label(0)] if tier_label(0) in shown else ["manager_id"]),
            hide_index=True,
            column_config={
                "manager": t("Client manager"),
                "code": t("Code"),
                "level": t("Level"),
                "team": t("Team"),
                "vips": st.column_config.NumberColumn(t("VIPs"), format="localized"),
                "load": st.column_config.NumberColumn(t("Load (units)"), format="localized"),
                "capacity": st.column_config.NumberColumn(t("Capacity"), format="localized"),
                "utilisation": st.column_config.ProgressColumn(
                    t("Utilisation"), format="percent", min_value=0, max_value=1.5
                ),
            },
            key="tiers.by_manager",
        )
    drill_panel("now")


# ------------------------------------------------------------------------------------------- over time


def section_time() -> None:
    this_month = month_start(today)
    months = [month_key(add_months(this_month, -i)) for i in range(35, -1, -1)]
    c1, c2 = st.columns(2)
    start = c1.selectbox(t("From month"), months, index=len(months) - 12, key="tiers.from")
    end = c2.selectbox(t("To month"), months, index=len(months) - 1, key="tiers.to")
    if start > end:
        st.warning(t("The first month comes after the last: showing them the other way round."))
        start, end = end, start
    hist = cached_history(database_url(), actor, start, end, today, get_language(), version)
    mix = hist.mix.assign(tier=hist.mix["rank"].map(tier_label))
    if mix["count"].sum() == 0:
        st.info(t("No tier history in these months."))
        return

    st.subheader(t("Tier mix at each month's end"))
    if hist.partial_month:
        st.caption(t("{month} is shown as it stands now.", month=hist.partial_month))
    pick = alt.selection_point(name="mix_pick", fields=["month", "rank"])
    chart = (
        alt.Chart(mix)
        .mark_bar(stroke="white", strokeWidth=0.6)
        .encode(
            x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0 if len(hist.months) <= 12 else -45)),
            y=alt.Y("count:Q", title=t("Customers"), stack="zero"),
            color=tier_chart_color(),
            order=alt.Order("rank:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
            tooltip=[
                alt.Tooltip("month:O", title=t("Month")),
                alt.Tooltip("tier:N", title=t("Tier")),
                alt.Tooltip("count:Q", title=t("Customers"), format=","),
            ],
        )
        .add_params(pick)
        .properties(height=320)
    )
    event = st.altair_chart(chart, width="stretch", on_select="rerun", key="tiers.mix_chart")
    point = picked(event, "mix_pick")
    if point is not None and st.session_state.get("tiers._mix_point") != point:
        st.session_state["tiers._mix_point"] = point
        set_drill(Drill(kind="month", month=str(point["month"]), rank=int(point["rank"])).as_dict())
    counts = {(r.month, int(r.rank)): int(r.count) for r in mix.itertuples()}
    options = [f"{m}|{r}" for m in reversed(hist.months) for r in names if counts.get((m, r))]
    current = Drill.from_dict(st.session_state.get(K_DRILL))
    chosen = f"{current.month}|{current.rank}" if current is not None and current.kind == "month" else None
    st.session_state["tiers.mix_pick"] = chosen if chosen in options else None

    def month_label(v: str) -> str:
        m, r = v.split("|")
        return f"{m} · {tier_label(r)} ({counts[(m, int(r))]:,})"

    st.selectbox(
        t("List the customers of a month and tier"),
        options,
        index=None,
        placeholder=t("(choose a month and tier)"),
        format_func=month_label,
        key="tiers.mix_pick",
        on_change=lambda: set_drill(
            None
            if st.session_state["tiers.mix_pick"] is None
            else Drill(
                kind="month",
                month=st.session_state["tiers.mix_pick"].split("|")[0],
                rank=int(st.session_state["tiers.mix_pick"].split("|")[1]),
            ).as_dict()
        ),
    )

    matrix = movement_matrix(hist.moves)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("Movements between tiers, {start} – {end}", start=hist.months[0], end=hist.months[-1]))
        if matrix.empty:
            st.info(t("No tier changed in these months."))
        else:
            grid = matrix.assign(
                from_tier=matrix["from_rank"].map(tier_label), to_tier=matrix["to_rank"].map(tier_label)
            )
            cell_pick = alt.selection_point(name="cell_pick", fields=["from_rank", "to_rank"])
            base = alt.Chart(grid).encode(
                x=alt.X("to_tier:N", sort=order, title=t("To tier"), axis=alt.Axis(labelAngle=0, orient="top")),
                y=alt.Y("from_tier:N", sort=order, title=t("From tier")),
            )
            heat = (
                base.mark_rect()
                .encode(
                    color=alt.Color("count:Q", scale=alt.Scale(scheme="blues", type="log"), legend=None),
                    opacity=alt.condition(cell_pick, alt.value(1.0), alt.value(0.6)),
                    tooltip=[
                        alt.Tooltip("from_tier:N", title=t("From tier")),
                        alt.Tooltip("to_tier:N", title=t("To tier")),
                        alt.Tooltip("count:Q", title=t("Customers"), format=","),
                    ],
                )
                .add_params(cell_pick)
            )
            labels = base.mark_text(fontWeight="bold").encode(
                text=alt.Text("count:Q", format=","),
                color=alt.condition(alt.datum.count > grid["count"].max() / 3, alt.value("white"), alt.value("black")),
            )
            event = st.altair_chart(
                (heat + labels).properties(height=280), width="stretch", on_select="rerun", key="tiers.matrix_chart"
            )
            point = picked(event, "cell_pick")
            if point is not None and st.session_state.get("tiers._cell_point") != point:
                st.session_state["tiers._cell_point"] = point
                set_drill(
                    Drill(
                        kind="cell",
                        from_rank=int(point["from_rank"]),
                        to_rank=int(point["to_rank"]),
                        start=hist.months[0],
                        end=hist.months[-1],
                    ).as_dict()
                )
            cells = {f"{int(r.from_rank)}|{int(r.to_rank)}": int(r.count) for r in matrix.itertuples()}
            current = Drill.from_dict(st.session_state.get(K_DRILL))
            chosen = (
                f"{current.from_rank}|{current.to_rank}"
                if current is not None and current.kind == "cell" and current.start == hist.months[0]
                else None
            )
            st.session_state["tiers.cell_pick"] = chosen if chosen in cells else None

            def cell_label(v: str) -> str:
                a, b = v.split("|")
                return f"{tier_label(a)} → {tier_label(b)} ({cells[v]:,})"

            st.selectbox(
                t("List the customers of a movement"),
                list(cells),
                index=None,
                placeholder=t("(choose a movement)"),
                format_func=cell_label,
                key="tiers.cell_pick",
                on_change=lambda: set_drill(
                    None
                    if st.session_state["tiers.cell_pick"] is None
                    else Drill(
                        kind="cell",
                        from_rank=int(st.session_state["tiers.cell_pick"].split("|")[0]),
                        to_rank=int(st.session_state["tiers.cell_pick"].split("|")[1]),
                        start=hist.months[0],
                        end=hist.months[-1],
                    ).as_dict()
                ),
            )
    with right:
        st.subheader(t("Net flow per tier"))
        flow = net_flow(hist.moves).assign(tier=lambda d: d["rank"].map(tier_label))
        chart = (
            alt.Chart(flow)
            .mark_bar()
            .encode(
                y=alt.Y("tier:N", sort=order, title=None),
                x=alt.X("net:Q", title=t("Net flow (in − out)")),
                color=tier_chart_color(legend=False),
                tooltip=[
                    alt.Tooltip("tier:N", title=t("Tier")),
                    alt.Tooltip("in:Q", title=t("In"), format=","),
                    alt.Tooltip("out:Q", title=t("Out"), format=","),
                    alt.Tooltip("net:Q", title=t("Net"), format="+,"),
                ],
            )
            .properties(height=200)
        )
        st.altair_chart(chart, width="stretch", key="tiers.flow_chart")
        st.dataframe(
            flow[["tier", "in", "out", "net"]],
            hide_index=True,
            column_config={"tier": t("Tier"), "in": t("In"), "out": t("Out"), "net": t("Net")},
            key="tiers.flow_table",
        )

    st.subheader(t("Upgrades and downgrades per month"))
    st.caption(t("Downgrades are drawn below zero."))
    per_month = ups_and_downs(hist.moves, hist.months)
    long = pd.concat(
        [
            per_month.assign(kind=t("Upgrades"), value=per_month["upgrades"]),
            per_month.assign(kind=t("Downgrades"), value=-per_month["downgrades"]),
        ]
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0 if len(hist.months) <= 12 else -45)),
            y=alt.Y("value:Q", title=t("Customers")),
            color=alt.Color(
                "kind:N", scale=alt.Scale(domain=[t("Upgrades"), t("Downgrades")], range=[UP, DOWN]), title=None
            ),
            tooltip=[
                alt.Tooltip("month:O", title=t("Month")),
                alt.Tooltip("upgrades:Q", title=t("Upgrades"), format=","),
                alt.Tooltip("downgrades:Q", title=t("Downgrades"), format=","),
            ],
        )
        .properties(height=220)
    )
    st.altair_chart(chart, width="stretch", key="tiers.updown_chart")
    drill_panel("time")


# ------------------------------------------------------------------------------------------- risk


def risk_table(page: Any, *, near: bool, key: str) -> None:
    rows = page.rows.assign(
        tier=page.rows["rank"].map(tier_label),
        target=(page.rows["next_rank"] if near else page.rows["falls_to"]).map(tier_label),
    )
    st.dataframe(
        rows[
            [
                "code",
                "name",
                "manager",
                "tier",
                "target",
                "spend",
                "purchases",
                "spend_gap",
                "purchases_gap",
                "last_change",
            ]
        ],
        hide_index=True,
        column_config={
            "code": t("Code"),
            "name": t("Name"),
            "manager": t("Client manager"),
            "tier": t("Tier now"),
            "target": t("Next tier") if near else t("Falls to"),
            "spend": st.column_config.TextColumn(
                t("Spend counted"),
                help=t("Spend in today's window")
                if near
                else t("Spend of the purchases still inside the window on the review date"),
            ),
            "purchases": t("Purchases"),
            "spend_gap": st.column_config.TextColumn(
                t("Spend needed"),
                help=t("More spend needed to reach the next tier")
                if near
                else t("More spend needed before the review to keep the tier"),
            ),
            "purchases_gap": st.column_config.NumberColumn(
                t("or purchases"), help=t("Or this many more purchases (unless the tier requires both)")
            ),
            "last_change": st.column_config.DatetimeColumn(
                t("Last tier change"), format="YYYY-MM-DD", timezone="Asia/Shanghai"
            ),
        },
        key=key,
    )


def section_risk() -> None:
    with session() as s:
        choices = manager_choices(session=s, actor=actor)
    labels = dict(choices)
    if actor.role == "client_manager":
        manager: Any = actor.staff_id
        st.caption(t("Your portfolio: the customers to call this week."))
    else:
        options: list[Any] = [ALL, *([UNASSIGNED] if is_sup else []), *labels]
        manager = st.selectbox(
            t("Client manager"),
            options,
            format_func=lambda v: {ALL: t("All managers"), UNASSIGNED: t("No client manager")}.get(v, labels.get(v, v)),
            key="tiers.risk_manager",
        )
        if actor.role == "team_lead":
            st.caption(t("Only the customers your team calls or holds are listed."))
    review = next_review_date(today)
    tab_risk, tab_near = st.tabs([t("At risk at the next review ({date})", date=review), t("Near the next tier")])
    with tab_risk:
        st.caption(
            t(
                "Counting only the purchases that will still be inside the 12-month window on {date}: below the tier's threshold, the review takes the customer one step down.",
                date=review,
            )
        )
        key = f"tiers.risk_page.{manager}"
        offset = (int(st.session_state.get(key, 1)) - 1) * PAGE_SIZE
        with session() as s:
            page = at_risk(session=s, actor=actor, today=today, manager=manager, offset=offset, limit=PAGE_SIZE)
        if page.total == 0:
            st.success(t("No customer here is at risk at the next review."))
        else:
            pager(page.total, key=key, page_size=PAGE_SIZE)
            risk_table(page, near=False, key="tiers.risk_table")
            export_buttons(
                lambda s: _risk_export(s, manager, near=False), key=f"tiers.risk_export.{manager}", filename="at-risk"
            )
    with tab_near:
        st.caption(t("Within 10 % of the next tier's threshold on today's 12-month window."))
        key = f"tiers.near_page.{manager}"
        offset = (int(st.session_state.get(key, 1)) - 1) * PAGE_SIZE
        with session() as s:
            page = near_threshold(session=s, actor=actor, today=today, manager=manager, offset=offset, limit=PAGE_SIZE)
        if page.total == 0:
            st.info(t("No customer here is within 10 % of the next tier."))
        else:
            pager(page.total, key=key, page_size=PAGE_SIZE)
            risk_table(page, near=True, key="tiers.near_table")
            export_buttons(
                lambda s: _risk_export(s, manager, near=True),
                key=f"tiers.near_export.{manager}",
                filename="near-threshold",
            )
    if actor.role != "client_manager" and st.toggle(t("Show counts per manager"), key="tiers.risk_per_manager"):
        with session() as s:
            per = risk_by_manager(session=s, actor=actor, today=today)
        per = per.assign(manager=per["manager"].fillna(t("No client manager")))
        st.dataframe(
            per.drop(columns=["manager_id"]),
            hide_index=True,
            column_config={"manager": t("Client manager"), "at_risk": t("At risk"), "near": t("Near the next tier")},
            key="tiers.risk_per_manager_table",
        )


def _risk_export(s: Any, manager: Any, *, near: bool) -> tuple[pd.DataFrame, bool]:
    fn = near_threshold if near else at_risk
    page = fn(session=s, actor=actor, today=today, manager=manager, offset=0, limit=None)
    rows = page.rows.assign(
        tier=page.rows["rank"].map(tier_label),
        target=(page.rows["next_rank"] if near else page.rows["falls_to"]).map(tier_label),
    )
    cols = ["code", "name", "manager", "tier", "target", "spend", "purchases", "spend_gap", "purchases_gap"]
    return rows[cols], False


# ------------------------------------------------------------------------------------------- overrides


def section_overrides() -> None:
    if is_sup:
        st.subheader(t("Pin, clear or designate"))
        code = st.text_input(t("Customer code"), key="tiers.ov_code", placeholder="C0000123")
        info = None
        if code.strip():
            with session() as s:
                info = lookup_customer(session=s, actor=actor, code=code, today=today)
            if info is None:
                st.warning(t("No customer with the code {code}.", code=code.strip()))
        if info is not None:
            _customer_card(info)
    st.subheader(t("Active overrides"))
    offset = (int(st.session_state.get("tiers.ov_page", 1)) - 1) * PAGE_SIZE
    with session() as s:
        total, rows = active_overrides(session=s, actor=actor, offset=offset, limit=PAGE_SIZE)
    if total == 0:
        st.info(t("No override is active."))
        return
    pager(total, key="tiers.ov_page", page_size=PAGE_SIZE)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "tier": tier_label(r.rank),
                    "reason": r.reason or "",
                    "set_by": r.set_by or "",
                    "set_at": r.set_at,
                    "until": r.until,
                    "manager": r.manager or "",
                }
                for r in rows
            ]
        ),
        hide_index=True,
        column_config={
            "code": t("Code"),
            "name": t("Name"),
            "tier": t("Pinned tier"),
            "reason": t("Reason"),
            "set_by": t("Set by"),
            "set_at": st.column_config.DatetimeColumn(t("Set at"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"),
            "until": st.column_config.DateColumn(t("Lapses on")),
            "manager": t("Client manager"),
        },
        key="tiers.ov_table",
    )


def _report_outcome(outcome: Any, message: str) -> None:
    notes = [message]
    if outcome.unassigned:
        notes.append(t("The customer fell to Member and was unassigned from their client manager."))
    if outcome.level_flag:
        notes.append(t("Their client manager's level does not allow this tier: reassign them in Assignment."))
    if outcome.over_capacity:
        notes.append(t("Their client manager is now over capacity: rebalance in Assignment."))
    st.session_state[K_FLASH] = " ".join(notes)
    st.rerun()


def _customer_card(info: Any) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("Tier now"), tier_label(info.tier_rank), border=True)
    c2.metric(t("Qualifies today for"), tier_label(info.qualified_rank), border=True)
    c3.metric(t("Spend in window"), fmt_yuan(info.spend_fen), border=True)
    c4.metric(t("Purchases in window"), f"{info.purchases:,}", border=True)
    st.caption(
        f"{info.code} · {info.name} · {t('Client manager')}: {info.manager or t('none')}"
        + (f" · {t('Supreme by designation')}" if info.supreme else "")
    )
    if info.override_rank is not None:
        st.info(
            t(
                "Pinned at {tier} until {until}: {reason}",
                tier=tier_label(info.override_rank),
                until=info.override_until or t("no expiry"),
                reason=info.override_reason or "",
            )
        )
    left, right = st.columns(2, gap="large")
    with left:
        if not info.supreme:
            with st.form("tiers.ov_form", clear_on_submit=True):
                st.markdown(f"**{t('Pin a tier')}**")
                rank = st.selectbox(
                    t("Tier"), [r for r in names if r != 5], format_func=tier_label, key="tiers.ov_rank"
                )
                reason = st.text_input(t("Reason"), key="tiers.ov_reason")
                until = st.date_input(
                    t("Lapses on (optional)"), value=None, min_value=today + dt.timedelta(days=1), key="tiers.ov_until"
                )
                if st.form_submit_button(t("Pin this tier"), type="primary"):
                    try:
                        with session() as s:
                            outcome = set_override(
                                session=s, actor=actor, customer_id=info.id, rank=int(rank), reason=reason, until=until
                            )
                        _report_outcome(
                            outcome, t("{code} is pinned at {tier}.", code=info.code, tier=tier_label(rank))
                        )
                    except TierError as exc:
                        show_error(exc)
        if info.override_rank is not None:
            with st.form("tiers.ov_clear_form", clear_on_submit=True):
                st.markdown(f"**{t('Clear the override')}**")
                st.caption(t("The tier becomes the tier the customer qualifies for today, at once."))
                reason = st.text_input(t("Reason"), key="tiers.ov_clear_reason")
                if st.form_submit_button(t("Clear the override")):
                    try:
                        with session() as s:
                            outcome = clear_override(session=s, actor=actor, customer_id=info.id, reason=reason)
                        _report_outcome(
                            outcome,
                            t(
                                "Override cleared: {code} is now {tier}.",
                                code=info.code,
                                tier=tier_label(outcome.to_rank),
                            ),
                        )
                    except TierError as exc:
                        show_error(exc)
    with right:
        with st.form("tiers.supreme_form", clear_on_submit=True):
            title = t("Remove the Supreme designation") if info.supreme else t("Designate Supreme")
            st.markdown(f"**{title}**")
            st.caption(
                t("The tier becomes the tier the customer qualifies for today.")
                if info.supreme
                else t("Supreme is a designation: evaluation never changes it. Only enterprise managers hold Supreme.")
            )
            reason = st.text_input(t("Reason"), key="tiers.supreme_reason")
            sure = st.checkbox(t("I confirm this change"), key="tiers.supreme_sure")
            if st.form_submit_button(title):
                if not sure:
                    st.error(t("Tick the confirmation first."))
                else:
                    try:
                        with session() as s:
                            fn = remove_supreme if info.supreme else designate_supreme
                            outcome = fn(session=s, actor=actor, customer_id=info.id, reason=reason)
                        _report_outcome(
                            outcome, t("{code} is now {tier}.", code=info.code, tier=tier_label(outcome.to_rank))
                        )
                    except TierError as exc:
                        show_error(exc)


# ------------------------------------------------------------------------------------------- evaluation


def section_evaluation() -> None:
    if last:
        st.subheader(t("The last evaluation"))
        cols = st.columns(5)
        cols[0].metric(t("Customers"), f"{last.get('customers', 0):,}", border=True)
        cols[1].metric(t("Upgrades"), f"{last.get('upgrades', 0):,}", border=True)
        cols[2].metric(t("Downgrades"), f"{last.get('downgrades', 0):,}", border=True)
        cols[3].metric(t("Overrides lapsed"), f"{last.get('expired', 0):,}", border=True)
        cols[4].metric(t("Fell to Member"), f"{last.get('to_member', 0):,}", border=True)
        if last.get("review_period"):
            st.caption(
                t("Review {period} applied.", period=last["review_period"])
                if last.get("review_applied")
                else t("Review {period} had already run: no downgrades.", period=last["review_period"])
            )
    st.subheader(t("Run the evaluation"))
    with st.form("tiers.eval_form"):
        as_of = st.date_input(t("As of"), value=today, max_value=today, key="tiers.eval_as_of")
        review = st.checkbox(
            t("Also run the quarterly review (downgrades one step, once per quarter)"), key="tiers.eval_review"
        )
        go = st.form_submit_button(t("Start the evaluation"), type="primary")
    if go:
        try:
            with session() as s:
                done = review_done(session=s, actor=actor, period=period_of(as_of)) if review else None
                job_id = start_evaluation(session=s, actor=actor, as_of=as_of, review=review)
            st.session_state[K_JOB] = job_id
            if done is not None:
                st.warning(
                    t(
                        "The review for {period} already ran on {when}: this run only upgrades.",
                        period=period_of(as_of),
                        when=fmt_local(done.ran_at),
                    )
                )
        except TierError as exc:
            show_error(exc)
    if st.session_state.get(K_JOB):
        follow_job(int(st.session_state[K_JOB]), key="tiers.eval_follow")
    st.caption(
        t("Runs every night from cron, and the quarterly review on the first day of each quarter:")
        + "\n\n`5 2 * * * cd /srv/console && .venv/bin/python -m console tiers evaluate`"
        + "\n\n`15 2 1 1,4,7,10 * cd /srv/console && .venv/bin/python -m console tiers evaluate --review`"
    )

    with session() as s:
        flags = evaluation_flags(session=s, actor=actor)
        reviews = review_history(session=s, actor=actor)
    st.subheader(t("Flags for assignment"))
    st.caption(t("Evaluation never moves anyone: it flags what its upgrades broke. Reassign in Assignment."))
    if not last:
        st.info(t("No evaluation has run yet."))
    elif not flags.level and not flags.capacity:
        st.success(t("The last evaluation raised no flags."))
    if flags.level:
        st.markdown(f"**{t('Holders whose level no longer allows the tier')}** ({flags.level_total:,})")
        frame = pd.DataFrame(flags.level).assign(
            tier=lambda d: d["rank"].map(tier_label), level=lambda d: d["level"].map(t)
        )
        st.dataframe(
            frame[["code", "name", "tier", "manager", "level", "open"]],
            hide_index=True,
            column_config={
                "code": t("Code"),
                "name": t("Name"),
                "tier": t("Tier"),
                "manager": t("Client manager"),
                "level": t("Level"),
                "open": st.column_config.CheckboxColumn(t("Still open")),
            },
            key="tiers.level_flags",
        )
    if flags.capacity:
        st.markdown(f"**{t('Managers pushed over capacity by upgrades')}**")
        st.dataframe(
            pd.DataFrame(flags.capacity),
            hide_index=True,
            column_config={
                "manager": t("Client manager"),
                "code": t("Code"),
                "load_before": t("Load before"),
                "load_after": t("Load after"),
                "capacity": t("Capacity"),
                "pushed_over": st.column_config.CheckboxColumn(t("Pushed over by this evaluation")),
            },
            key="tiers.capacity_flags",
        )
    if reviews:
        st.subheader(t("Quarterly reviews"))
        st.dataframe(
            pd.DataFrame([{"period": r.period, "ran_at": r.ran_at, "downgrades": r.downgrades} for r in reviews]),
            hide_index=True,
            column_config={
                "period": t("Period"),
                "ran_at": st.column_config.DatetimeColumn(
                    t("Ran at"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
                ),
                "downgrades": t("Downgrades"),
            },
            key="tiers.reviews",
        )


# ------------------------------------------------------------------------------------------- ladder


def section_ladder() -> None:
    with session() as s:
        rows = ladder_table(session=s, actor=actor, day=today)
        versions = ladder_versions(session=s, actor=actor)
    frame = pd.DataFrame(
        [
            {
                "rank": r.rank,
                "tier": tier_label(r.rank),
                "min_spend_yuan": r.min_spend_yuan,
                "min_purchases": r.min_purchases,
                "require_both": r.require_both,
                "ratio": r.ratio,
                "units": r.units,
                "contact_days": r.contact_days,
                "color": r.color,
            }
            for r in rows
        ]
    )
    st.subheader(t("The ladder in force today"))
    future = [v for v in versions if v > today]
    if future:
        st.caption(t("Versions taking effect later: {dates}.", dates=", ".join(str(v) for v in sorted(future))))
    config = {
        "rank": st.column_config.NumberColumn(t("Tier rank"), disabled=True),
        "tier": st.column_config.TextColumn(t("Tier"), disabled=True),
        "min_spend_yuan": st.column_config.NumberColumn(t("Spend ≥ (¥)"), min_value=0, step=1, format="localized"),
        "min_purchases": st.column_config.NumberColumn(t("Purchases ≥"), min_value=0, step=1),
        "require_both": st.column_config.CheckboxColumn(t("Both required")),
        "ratio": st.column_config.NumberColumn(t("VIPs per manager"), min_value=0, step=1),
        "units": st.column_config.NumberColumn(t("Units"), min_value=0, step=1),
        "contact_days": st.column_config.NumberColumn(t("Contact every (days)"), min_value=0, step=1),
        "color": st.column_config.TextColumn(t("Colour"), max_chars=7),
    }
    if actor.role != "admin":
        st.dataframe(frame, hide_index=True, column_config=config, key="tiers.ladder_view")
        st.caption(t("Only an administrator edits the ladder."))
        return
    st.caption(
        t(
            "Either threshold qualifies unless both are required. Thresholds rise strictly with rank; Member and Supreme have none (Supreme is a designation)."
        )
    )
    edited = st.data_editor(frame, hide_index=True, column_config=config, num_rows="fixed", key="tiers.ladder_editor")
    effective = st.date_input(
        t("Effective from"), value=today + dt.timedelta(days=1), min_value=today, key="tiers.ladder_from"
    )
    proposal, errors = coerce_rows(edited.to_dict("records"), rows)
    errors += validate_ladder(proposal, effective_from=effective, today=today)
    chips = pd.DataFrame(
        [
            {"tier": tier_label(r.rank), "color": r.color}
            for r in proposal
            if r.color.startswith("#") and len(r.color) == 7
        ]
    )
    if not chips.empty:
        st.caption(t("Colours of the tiers"))
        st.altair_chart(
            alt.Chart(chips)
            .mark_rect(cornerRadius=4)
            .encode(
                x=alt.X("tier:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, orient="top")),
                color=alt.Color("color:N", scale=None, legend=None),
            )
            .properties(height=28),
            width="stretch",
            key="tiers.ladder_chips",
        )
    fingerprint = hashlib.sha1(
        json.dumps([r.__dict__ for r in proposal], default=str, sort_keys=True).encode() + str(effective).encode()
    ).hexdigest()
    if errors:
        st.error("\n".join(f"- {e}" for e in errors))
    c1, c2 = st.columns(2)
    if c1.button(t("Preview the effect"), key="tiers.ladder_preview", disabled=bool(errors)):
        with session() as s:
            st.session_state["tiers.ladder_preview_data"] = (
                fingerprint,
                preview_ladder(session=s, actor=actor, rows=proposal, today=today),
            )
    stored = st.session_state.get("tiers.ladder_preview_data")
    fresh = stored is not None and stored[0] == fingerprint and not errors
    if fresh:
        preview = stored[1]
        m1, m2, m3 = st.columns(3)
        m1.metric(
            t("Upgraded at the next evaluation"),
            f"{preview.upgrades_now:,}",
            f"{preview.upgrades_now - preview.upgrades_current:+,}",
            delta_color="off",
            border=True,
        )
        m2.metric(
            t("At risk of a step down at the next review"),
            f"{preview.at_risk_now:,}",
            f"{preview.at_risk_now - preview.at_risk_current:+,}",
            delta_color="off",
            border=True,
        )
        m3.metric(t("Customers whose qualified tier changes"), f"{preview.changed:,}", border=True)
        moved = preview.moves[preview.moves["qualified_now"] != preview.moves["qualified_proposed"]]
        if not moved.empty:
            table = (
                moved.groupby(["qualified_now", "qualified_proposed"], as_index=False)["customers"]
                .sum()
                .assign(
                    qualified_now=lambda d: d["qualified_now"].map(tier_label),
                    qualified_proposed=lambda d: d["qualified_proposed"].map(tier_label),
                )
            )
            st.dataframe(
                table,
                hide_index=True,
                column_config={
                    "qualified_now": t("Qualifies now for"),
                    "qualified_proposed": t("Would qualify for"),
                    "customers": st.column_config.NumberColumn(t("Customers"), format="localized"),
                },
                key="tiers.ladder_moves",
            )
        st.caption(t("Counted on today's 12-month window; Supreme and pinned customers are left out."))
    elif not errors:
        st.caption(t("Preview the effect before saving: the page shows how many customers would move."))
    if c2.button(t("Save the ladder"), key="tiers.ladder_save", type="primary", disabled=not fresh):
        try:
            with session() as s:
                save_ladder(session=s, actor=actor, rows=proposal, effective_from=effective, today=today)
            st.session_state.pop("tiers.ladder_preview_data", None)
            st.session_state[K_FLASH] = t("The ladder is saved, effective from {day}.", day=effective)
            st.rerun()
        except TierError as exc:
            show_error(exc)


{
    "now": section_now,
    "time": section_time,
    "risk": section_risk,
    "overrides": section_overrides,
    "evaluation": section_evaluation,
    "ladder": section_ladder,
}.get(section, section_now)()
