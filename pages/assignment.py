"""Assignment: portfolios and workload, reassignment, auto-assign, rebalance, leave and exit, history, SLAs, import.

Supervisors and admins act; a client manager sees their own portfolio read-only (no action widgets).
"""

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="assignment")

import datetime as dt
import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from console.assignment import (
    Refused,
    Stale,
    batches,
    check_undo,
    end_due_covers,
    end_leave,
    history,
    history_export,
    import_dry_run,
    leave_managers,
    manager_choices,
    preview_auto_assign,
    preview_exit,
    preview_leave,
    preview_rebalance,
    reassign,
    reassign_options,
    sla_items,
    sla_overview,
    start_apply,
    tier_ladder,
    undo_batch,
    vip_list,
    workload,
    workload_options,
)
from console.assignment.exports import CSV_MIME, XLSX_MIME, to_csv_bytes, to_xlsx_bytes
from console.assignment.imports import MAX_ROWS
from console.assignment.imports import STATUS_LABELS as ROW_STATUS_LABELS
from console.assignment.rules import (
    BATCH_LABELS,
    LEVELS,
    MANUAL_REASONS,
    REASON_LABELS,
    STATUS_LABELS,
    Plan,
)
from console.assignment.services import describe_unplaced
from console.assignment.sla import SLA_KINDS, SLA_LABELS, STATE_LABELS
from console.assignment.views import EXPORT_LIMIT
from console.db import database_url
from console.i18n import t
from console.jobs import get_job
from console.permissions import Actor, PermissionDenied
from console.timeutil import today_local
from console.ui import fmt_local, guard, pager, session, show_error
from console.ui.imports_page import render_imports
from console.ui.jobs import follow_job

_started = time.perf_counter()  # the script's own run time is kept for the benchmark (tests/bench)
actor = user.actor
today = today_local()
can_act = actor.role in ("admin", "supervisor")

# Covers whose leave has ended revert on the first page load after the end date (also if the job ran late).
try:
    with session() as s:
        ended = end_due_covers(s, today)
except Refused:  # another page load returned them at the same moment (its change made ours stale)
    ended = None
with session() as s:
    ladder = tier_ladder(session=s, actor=actor, today=today)
if ended is not None:
    st.toast(t("{count} covered VIPs returned to their manager after the leave.", count=ended.moves))

st.title(t("Assignment"))
if not can_act:
    st.caption(t("Your portfolio, read-only. A supervisor makes the changes."))

VIEWS = (
    ["Workload", "VIPs", "Auto-assign", "Rebalance", "Leave and exit", "History", "SLAs", "Import", "Data imports"]
    if can_act
    else ["Workload", "VIPs", "History", "SLAs"]
)
view = st.segmented_control(
    t("View"), VIEWS, default="Workload", format_func=t, key="assign.view", required=True, label_visibility="collapsed"
)
view = view or "Workload"


def paged(total: int, key: str, page_size: int = 50) -> tuple[int, int]:
    """The shared pager, kept narrow."""
    col, _ = st.columns([1, 4])
    with col:
        return pager(total, key=key, page_size=page_size)


def pct(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.0%}"  # value != value: NaN


def reason_label(code: str) -> str:
    return t(REASON_LABELS.get(code, code))


def downloads(frame: pd.DataFrame, name: str, key: str, columns: dict[str, str] | None = None) -> None:
    """CSV (UTF-8 with BOM) and XLSX downloads of a list, formula-safe."""
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(
        t("Download CSV"),
        to_csv_bytes(frame, columns=columns),
        file_name=f"{name}.csv",
        mime=CSV_MIME,
        key=f"{key}.csv",
        icon=":material/download:",
        on_click="ignore",
    )
    c2.download_button(
        t("Download XLSX"),
        to_xlsx_bytes(frame, columns=columns, sheet_name=name[:31]),
        file_name=f"{name}.xlsx",
        mime=XLSX_MIME,
        key=f"{key}.xlsx",
        icon=":material/table_view:",
        on_click="ignore",
    )


def changed() -> None:
    """Something was written in this session: cached SLA figures are stale."""
    st.session_state["assign.version"] = st.session_state.get("assign.version", 0) + 1


@st.cache_data(ttl=120, show_spinner=False, max_entries=200)
def cached_sla(
    what: str, url: str, who: tuple[int | None, str, str, int | None], day: dt.date, args: tuple, version: int
) -> object:
    """The SLA aggregates read every assigned VIP's contacts: keep them two minutes per user and filter set."""
    viewer = Actor(user_id=who[0], username=who[1], role=who[2], staff_id=who[3])
    with session() as s:
        if what == "overview":
            return sla_overview(session=s, actor=viewer, today=day)
        which, manager, kind, offset, limit, with_total = args
        return sla_items(
            session=s,
            actor=viewer,
            today=day,
            which=which,
            manager_id=manager,
            kind=kind,
            offset=offset,
            limit=limit,
            with_total=with_total,
        )


def sla_cached(what: str, *args: object) -> object:
    who = (actor.user_id, actor.username, actor.role, actor.staff_id)
    return cached_sla(what, database_url(), who, today, tuple(args), st.session_state.get("assign.version", 0))


def running_job(key: str) -> None:
    """Follow the job stored under key; when it has finished, forget its preview."""
    job_id = st.session_state.get(f"{key}.job")
    if not job_id:
        return
    follow_job(job_id, key=f"{key}.follow")
    with session() as s:
        job = get_job(s, job_id)
        status = job.status if job else None
    if status in ("done", "failed", "cancelled"):
        if st.session_state.get(f"{key}.plan") is not None:
            changed()
        st.session_state.pop(f"{key}.plan", None)
        if st.button(t("Close"), key=f"{key}.close"):
            st.session_state.pop(f"{key}.job", None)
            st.rerun()


def confirm(key: str, title: str, body: str, action_label: str, on_confirm) -> bool:  # type: ignore[no-untyped-def]
    """A confirmation dialog kept open by a session flag (so it works the same in the browser and in AppTest).
    Returns True while the dialog is showing."""
    flag = f"{key}.confirming"

    def dismissed() -> None:
        st.session_state[flag] = False

    @st.dialog(title, on_dismiss=dismissed)
    def dialog() -> None:
        st.write(body)
        c1, c2 = st.columns(2)
        if c1.button(action_label, type="primary", key=f"{key}.confirm"):
            st.session_state[flag] = False
            if on_confirm():
                st.rerun()
        if c2.button(t("Cancel"), key=f"{key}.cancel"):
            st.session_state[flag] = False
            st.rerun()

    if st.session_state.get(flag):
        dialog()
        return True
    return False


def confirm_apply(key: str, plan: Plan, what: str) -> None:
    """The Apply button and its confirmation dialog; the batch runs as a job."""

    def go() -> bool:
        try:
            with session() as s:
                st.session_state[f"{key}.job"] = start_apply(s, actor=actor, plan=plan, today=today)
            return True
        except (Refused, PermissionDenied) as exc:
            show_error(exc)
            return False

    if st.button(
        t("Apply {count} moves", count=len(plan.moves)),
        type="primary",
        key=f"{key}.apply",
        # A leave or an exit is recorded even when there is nothing to move.
        disabled=(not plan.moves and plan.kind not in ("leave_cover", "exit"))
        or bool(st.session_state.get(f"{key}.job")),
        icon=":material/play_arrow:",
    ):
        st.session_state[f"{key}.confirming"] = True
    body = (
        t("{what}: {count} moves will be written as one batch.", what=what, count=len(plan.moves))
        + " "
        + t("If any VIP in it has changed since the preview, nothing is written and you are asked to preview again.")
    )
    confirm(key, t("Apply this batch?"), body, t("Apply"), go)


def show_plan(plan: Plan, *, key: str, unplaced_note: str | None = None) -> None:
    """Per manager load before → after against the cap; the VIPs left out and why; the moves."""
    after = plan.loads_after()
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("Moves"), f"{len(plan.moves):,}", border=True)
    m2.metric(t("Managers touched"), f"{len(plan.per_manager()):,}", border=True)
    m3.metric(
        t("Spread (max − min utilisation)"),
        pct(plan.spread_after()),
        delta=f"{(plan.spread_after() - plan.spread_before()) * 100:+.0f} pp",
        delta_color="inverse",
        border=True,
        help=t("Before: {value}", value=pct(plan.spread_before())),
    )
    m4.metric(t("Not placed"), f"{len(plan.unplaced):,}", border=True)
    rows = pd.DataFrame(plan.per_manager())
    if rows.empty:
        st.info(t("Nothing would move."))
    else:
        rows["level"] = rows["level"].map(lambda lv: t(lv or "none"))
        st.dataframe(
            rows[
                [
                    "code",
                    "name",
                    "level",
                    "load_before",
                    "load_after",
                    "capacity",
                    "util_before",
                    "util_after",
                    "vips_in",
                    "vips_out",
                ]
            ],
            hide_index=True,
            column_config={
                "code": t("Manager"),
                "name": t("Name"),
                "level": t("Level"),
                "load_before": st.column_config.NumberColumn(t("Load before"), format="localized"),
                "load_after": st.column_config.NumberColumn(t("Load after"), format="localized"),
                "capacity": st.column_config.NumberColumn(t("Capacity"), format="localized"),
                "util_before": st.column_config.ProgressColumn(
                    t("Utilisation before"), format="percent", min_value=0, max_value=1
                ),
                "util_after": st.column_config.ProgressColumn(
                    t("Utilisation after"), format="percent", min_value=0, max_value=1
                ),
                "vips_in": t("VIPs in"),
                "vips_out": t("VIPs out"),
            },
            key=f"{key}.per_manager",
        )
    for mid, why in plan.stuck.items():
        m = plan.managers[mid]
        st.warning(
            t(
                "{code} stays over capacity ({load} of {capacity} units): no eligible manager has room.",
                code=m.code,
                load=after.get(mid, m.load),
                capacity=m.capacity,
            )
            if why == "no_room"
            else t("{code} stays over capacity: the move limit was reached.", code=m.code)
        )
    if plan.unplaced:
        st.subheader(unplaced_note or t("VIPs that stay unassigned"))
        st.dataframe(
            pd.DataFrame(
                [
                    {"code": u.code, "tier": ladder.name(u.rank), "why": describe_unplaced(u, ladder)}
                    for u in plan.unplaced
                ]
            ),
            hide_index=True,
            column_config={"code": t("VIP"), "tier": t("Tier"), "why": t("Why")},
            key=f"{key}.unplaced",
        )
    if plan.moves:
        with st.expander(t("The moves ({count})", count=len(plan.moves))):
            codes = {mid: m.code for mid, m in plan.managers.items()}
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "vip": mv.code,
                            "tier": ladder.name(mv.rank),
                            "from": codes.get(mv.from_id, "") if mv.from_id else t("(unassigned)"),
                            "to": codes.get(mv.to_id, "") if mv.to_id else t("(unassigned)"),
                            "reason": reason_label(mv.reason),
                        }
                        for mv in plan.moves[:2000]
                    ]
                ),
                hide_index=True,
                column_config={
                    "vip": t("VIP"),
                    "tier": t("Tier"),
                    "from": t("From"),
                    "to": t("To"),
                    "reason": t("Reason"),
                },
                key=f"{key}.moves",
            )


# ------------------------------------------------------------------------------------------------ Workload


def workload_view() -> None:
    if can_act:
        with session() as s:
            team_list, region_list = workload_options(session=s, actor=actor)
        f1, f2, f3, f4, f5, f6 = st.columns(6)
        teams = dict(team_list)
        team = f1.selectbox(
            t("Team"),
            [None, *teams],
            format_func=lambda v: t("Any") if v is None else teams[v],
            key="assign.w_team",
            persist_state="page",
        )
        region = f2.selectbox(
            t("Region"),
            [None, *region_list],
            format_func=lambda v: t("Any") if v is None else v,
            key="assign.w_region",
            persist_state="page",
        )
        level = f3.selectbox(
            t("Level"),
            [None, *LEVELS],
            format_func=lambda v: t("Any") if v is None else t(v),
            key="assign.w_level",
            persist_state="page",
        )
        tier = f4.selectbox(
            t("Can hold tier"),
            [None, *ladder.vip_ranks()],
            format_func=lambda r: t("Any") if r is None else ladder.name(r),
            key="assign.w_tier",
            persist_state="page",
        )
        status = f5.selectbox(
            t("Status"),
            [None, *STATUS_LABELS],
            format_func=lambda v: t("Any") if v is None else t(STATUS_LABELS[v]),
            key="assign.w_status",
            persist_state="page",
        )
        sort = f6.selectbox(
            t("Sort by"),
            ["utilisation", "load", "vips", "code", "name"],
            format_func=lambda v: t(
                {"utilisation": "Utilisation", "load": "Load", "vips": "VIPs", "code": "Code", "name": "Name"}[v]
            ),
            key="assign.w_sort",
            persist_state="page",
        )
        g1, g2, _ = st.columns([1, 1, 4])
        flagged_only = g1.toggle(t("Flagged only"), key="assign.w_flagged", persist_state="page")
        descending = g2.toggle(t("Highest first"), value=True, key="assign.w_desc", persist_state="page")
    else:
        team = region = level = tier = status = None
        sort, flagged_only, descending = "utilisation", False, True
    with session() as s:
        view_ = workload(
            session=s,
            actor=actor,
            today=today,
            team_id=team,
            region=region,
            level=level,
            tier=tier,
            status=status,
            flagged_only=flagged_only,
            sort=sort,
            descending=descending,
            limit=None,
        )
    if view_.total == 0:
        st.info(t("No client managers match these filters."))
        return
    if can_act:
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t("Client managers"), f"{view_.total:,}", border=True)
        m2.metric(t("Over capacity"), f"{view_.over_cap:,}", border=True)
        m3.metric(t("Flagged"), f"{view_.flagged:,}", border=True)
        chart_df = view_.chart
        avg = (chart_df["load"].sum() / chart_df["capacity"].sum()) if chart_df["capacity"].sum() else 0
        m4.metric(t("Average utilisation"), pct(avg), border=True)
    else:
        row = view_.rows.iloc[0]
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t("My VIPs"), f"{int(row['vips']):,}", border=True)
        m2.metric(t("Load (units)"), f"{int(row['load']):,}", border=True)
        m3.metric(t("Capacity (units)"), f"{int(row['capacity']):,}", border=True)
        m4.metric(t("Utilisation"), pct(row["utilisation"]), border=True)
        if row["flags"]:
            st.warning(row["flags"])

    chart = view_.chart.copy()
    chart["state"] = np.select(
        [chart["load"] > chart["capacity"], chart["status"] != "active", chart["flagged"].astype(bool)],
        ["over", "away", "flag"],
        default="ok",
    )
    labels = {
        "over": t("Over capacity"),
        "flag": t("Flagged"),
        "away": t("On leave / exiting / inactive"),
        "ok": t("Within capacity"),
    }
    chart["state_label"] = chart["state"].map(labels)
    bars = (
        alt.Chart(chart)
        .mark_bar()
        .encode(
            x=alt.X("code:N", sort="-y", title=t("Client manager")),
            y=alt.Y(
                "utilisation:Q",
                title=t("Utilisation"),
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, max(1.2, float(chart["utilisation"].max()) + 0.05)]),
            ),
            color=alt.Color(
                "state_label:N",
                title=None,
                scale=alt.Scale(
                    domain=[labels["over"], labels["flag"], labels["away"], labels["ok"]],
                    range=["#d64545", "#e8a33d", "#9aa5b1", "#3b7dd8"],
                ),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("code:N", title=t("Manager")),
                alt.Tooltip("name:N", title=t("Name")),
                alt.Tooltip("utilisation:Q", title=t("Utilisation"), format=".0%"),
                alt.Tooltip("load:Q", title=t("Load"), format=","),
                alt.Tooltip("capacity:Q", title=t("Capacity"), format=","),
                alt.Tooltip("state_label:N", title=t("Status")),
            ],
        )
    )
    cap = (
        alt.Chart(pd.DataFrame({"cap": [1.0], "label": [t("Capacity")]}))
        .mark_rule(color="#d64545", strokeDash=[6, 3], size=2)
        .encode(y="cap:Q")
    )
    cap_text = (
        alt.Chart(pd.DataFrame({"cap": [1.0], "label": [t("Capacity")]}))
        .mark_text(align="right", dx=-2, dy=-7, color="#d64545")
        .encode(y="cap:Q", text="label:N", x=alt.value("width"))
    )
    st.altair_chart((bars + cap + cap_text).properties(height=260), width="stretch")

    offset, limit = paged(view_.total, "assign.w_page")
    rows = view_.rows.iloc[offset : offset + limit].copy()
    rows["level"] = rows["level"].map(lambda v: t(v) if v else "")
    rows["status"] = rows["status"].map(lambda v: t(STATUS_LABELS.get(v, v)))
    tier_cols = {
        f"tier_{r}": st.column_config.NumberColumn(ladder.name(r), format="localized") for r in ladder.vip_ranks()
    }
    st.dataframe(
        rows[
            [
                "code",
                "name",
                "level",
                "team",
                "region",
                "status",
                "status_detail",
                *tier_cols,
                "vips",
                "load",
                "capacity",
                "utilisation",
                "flags",
            ]
        ],
        hide_index=True,
        column_config={
            "code": t("Code"),
            "name": t("Name"),
            "level": t("Level"),
            "team": t("Team"),
            "region": t("Region"),
            "status": t("Status"),
            "status_detail": t("Details"),
            **tier_cols,
            "vips": st.column_config.NumberColumn(t("VIPs"), format="localized"),
            "load": st.column_config.NumberColumn(t("Load"), format="localized"),
            "capacity": st.column_config.NumberColumn(t("Capacity"), format="localized"),
            "utilisation": st.column_config.ProgressColumn(
                t("Utilisation"), format="percent", min_value=0, max_value=1
            ),
            "flags": st.column_config.TextColumn(t("Flags"), width="large"),
        },
        key="assign.workload_table",
    )
    if can_act:
        with st.expander(t("Export this list")):
            if st.button(t("Prepare export"), key="assign.w_export_go"):
                full = view_.rows.drop(columns=["manager_id", "flagged"]).copy()
                full["level"] = full["level"].map(lambda v: t(v) if v else "")
                full["status"] = full["status"].map(lambda v: t(STATUS_LABELS.get(v, v)))
                headers = {
                    "code": t("Code"),
                    "name": t("Name"),
                    "level": t("Level"),
                    "team": t("Team"),
                    "region": t("Region"),
                    "status": t("Status"),
                    "status_detail": t("Details"),
                    **{f"tier_{r}": ladder.name(r) for r in ladder.vip_ranks()},
                    "vips": t("VIPs"),
                    "load": t("Load"),
                    "capacity": t("Capacity"),
                    "utilisation": t("Utilisation"),
                    "flags": t("Flags"),
                }
                downloads(full, "workload", "assign.w_export", columns=headers)


# ------------------------------------------------------------------------------------------------ VIPs


SLA_STATE_OPTIONS = ["breached", "due_soon", "on_track"]


def vips_view() -> None:
    with session() as s:
        managers = manager_choices(session=s, actor=actor, today=today)
    f1, f2, f3, f4, f5 = st.columns([3, 1.2, 2.4, 1.4, 1.4])
    search = f1.text_input(
        t("Search"), key="assign.v_search", placeholder=t("VIP code, name or full phone number"), persist_state="page"
    )
    tier = f2.selectbox(
        t("Tier"),
        [None, *ladder.vip_ranks()],
        format_func=lambda r: t("Any") if r is None else ladder.name(r),
        key="assign.v_tier",
        persist_state="page",
    )
    labels = dict(managers)
    manager = None
    unassigned = False
    if can_act:
        manager = f3.selectbox(
            t("Manager"),
            [None, *labels],
            format_func=lambda v: t("Any") if v is None else labels[v],
            key="assign.v_manager",
            persist_state="page",
        )
        unassigned = f4.toggle(t("Unassigned"), key="assign.v_unassigned", persist_state="page")
    state = f5.selectbox(
        t("SLA"),
        [None, *SLA_STATE_OPTIONS],
        format_func=lambda v: t("Any") if v is None else t(STATE_LABELS[v]),
        key="assign.v_sla",
        persist_state="page",
    )
    args = dict(search=search, tier=tier, manager_id=manager, unassigned=unassigned, sla_state=state)
    with session() as s:
        total = vip_list(session=s, actor=actor, today=today, limit=0, **args).total
        offset, limit = paged(total, "assign.v_page")
        page = vip_list(session=s, actor=actor, today=today, offset=offset, limit=limit, with_total=False, **args)
    if total == 0:
        st.info(t("No VIPs match."))
        return
    rows = page.rows.copy()
    rows["sla"] = rows["sla_state"].map(lambda v: t(STATE_LABELS.get(v, v)))
    when = "waiting_since" if unassigned else "assigned_at"
    shown = rows[["code", "name", "phone", "tier", "region", "manager", when, "sla", "next_due"]]
    config = {
        "code": t("VIP"),
        "name": t("Name"),
        "phone": t("Phone"),
        "tier": t("Tier"),
        "region": t("Region"),
        "manager": t("Manager"),
        "assigned_at": st.column_config.DatetimeColumn(t("Assigned"), format="YYYY-MM-DD", timezone="Asia/Shanghai"),
        "waiting_since": st.column_config.DatetimeColumn(
            t("Waiting since"), format="YYYY-MM-DD", timezone="Asia/Shanghai"
        ),
        "sla": t("SLA"),
        "next_due": st.column_config.DateColumn(t("Next due"), format="YYYY-MM-DD"),
    }
    if not can_act:
        st.dataframe(shown, hide_index=True, column_config=config, key="assign.vip_table")
        return
    event = st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        key="assign.vip_table",
        on_select="rerun",
        selection_mode="multi-row",
        height=390 if len(shown) > 10 else "auto",
    )
    ids = list(rows["customer_id"])
    codes = dict(zip(rows["customer_id"], rows["code"], strict=True))
    picked = [ids[i] for i in event.selection.rows if i < len(ids)]
    prev = st.session_state.get("assign.v_table_pick", [])
    if picked != prev:  # a click in the table drives the same selection as the picker below
        st.session_state["assign.v_table_pick"] = picked
        st.session_state["assign.selected"] = [i for i in picked if i in codes]
    st.session_state["assign.selected"] = [i for i in st.session_state.get("assign.selected", []) if i in codes]
    selected = st.multiselect(
        t("Selected VIPs"),
        ids,
        format_func=lambda i: codes[i],
        key="assign.selected",
        placeholder=t("Tick rows in the table or pick VIPs here"),
    )
    # The versions the user saw when picking each VIP: a change made by someone else since is refused.
    seen: dict[int, int] = st.session_state.setdefault("assign.seen", {})
    versions = dict(zip(rows["customer_id"], rows["version"], strict=True))
    for cid in selected:
        seen.setdefault(cid, int(versions[cid]))
    for cid in list(seen):
        if cid not in selected:
            seen.pop(cid)
    if selected:
        reassign_panel(selected, {cid: seen[cid] for cid in selected}, codes)
    with st.expander(t("Export this list")):
        if total > EXPORT_LIMIT:
            st.caption(t("The first {limit} rows are exported.", limit=f"{EXPORT_LIMIT:,}"))
        if st.button(t("Prepare export"), key="assign.v_export_go"):
            with session() as s:
                full = vip_list(session=s, actor=actor, today=today, limit=EXPORT_LIMIT, **args).rows
            full["sla_state"] = full["sla_state"].map(lambda v: t(STATE_LABELS.get(v, v)))
            headers = {
                "code": t("VIP"),
                "name": t("Name"),
                "phone": t("Phone"),
                "tier": t("Tier"),
                "region": t("Region"),
                "manager": t("Manager"),
                "assigned_at": t("Assigned"),
                "waiting_since": t("Waiting since"),
                "binding_due": t("Binding due"),
                "sla_state": t("SLA"),
                "next_due": t("Next due"),
            }
            downloads(
                full.drop(columns=["customer_id", "manager_id", "tier_rank", "version"]),
                "vips",
                "assign.v_export",
                columns=headers,
            )


def reassign_panel(selected: list[int], versions: dict[int, int], codes: dict[int, str]) -> None:
    with session() as s:
        opts = reassign_options(session=s, actor=actor, customer_ids=selected, today=today)
    st.subheader(t("Reassign {count} VIPs ({units} units)", count=len(selected), units=opts.units))
    if not opts.eligible:
        st.warning(t("No manager may take all the selected VIPs now."))
    labels = {
        c.manager_id: f"{c.code} · {c.name} ({t(c.level or 'none')}) · {pct(c.util_before)} → {pct(c.util_after)}"
        + (f" · {t('same region')}" if c.same_region else "")
        for c in opts.eligible
    }
    with st.form("assign.reassign_form"):
        target = st.selectbox(
            t("New manager (eligible only, utilisation after the move)"),
            list(labels),
            index=None,
            format_func=lambda v: labels[v],
            placeholder=t("Choose a manager"),
            key="assign.r_target",
        )
        reason = st.selectbox(
            t("Reason"),
            MANUAL_REASONS,
            index=None,
            format_func=reason_label,
            placeholder=t("Choose a reason"),
            key="assign.r_reason",
        )
        note = st.text_input(t("Note (optional)"), key="assign.r_note", max_chars=500)
        submitted = st.form_submit_button(t("Reassign"), type="primary")
    if opts.refused:
        with st.expander(t("Managers not offered ({count})", count=len(opts.refused))):
            st.dataframe(
                pd.DataFrame(opts.refused, columns=["manager", "why"]),
                hide_index=True,
                column_config={"manager": t("Manager"), "why": t("Why")},
                key="assign.r_refused",
            )
    if submitted:
        if target is None:
            st.error(t("Choose the new manager."))
            return
        if reason is None:
            st.error(t("Choose a reason for the change."))
            return
        try:
            with session() as s:
                applied = reassign(
                    session=s,
                    actor=actor,
                    customer_ids=selected,
                    to_manager_id=target,
                    reason=reason,
                    versions=versions,
                    note=note,
                    today=today,
                )
            st.session_state.pop("assign.seen", None)
            changed()
            st.session_state["assign.flash"] = t(
                "{count} VIPs reassigned to {manager} (batch {batch}).",
                count=applied.moves,
                manager=labels[target].split(" · ")[0],
                batch=applied.batch_id,
            )
            st.session_state.pop("assign.selected", None)
            st.rerun()
        except Stale as exc:
            st.session_state.pop("assign.seen", None)  # shown who changed it: the next try uses what is shown now
            show_error(exc)
        except (Refused, PermissionDenied) as exc:
            show_error(exc)


# ------------------------------------------------------------------------------------------------ Auto-assign


def auto_view() -> None:
    st.caption(
        t(
            "Unassigned VIPs, highest tier first and then longest waiting, each go to the eligible manager (active, not on leave, level allows the tier, room for its units) in the same region first, then with the lowest utilisation after the move, then by manager code. A VIP that fits nowhere stays unassigned with the reason."
        )
    )
    running_job("assign.auto")
    c1, _ = st.columns([1, 3])
    limit = c1.number_input(t("At most (0 = all)"), min_value=0, value=0, step=50, key="assign.a_limit")
    if st.button(t("Preview"), key="assign.a_preview", icon=":material/visibility:"):
        with session() as s:
            st.session_state["assign.auto.plan"] = preview_auto_assign(
                session=s, actor=actor, today=today, limit=int(limit) or None
            )
        st.session_state.pop("assign.auto.job", None)
    plan: Plan | None = st.session_state.get("assign.auto.plan")
    if plan is None:
        return
    st.caption(t("Previewed at {time}.", time=fmt_local(plan.previewed_at)))
    show_plan(plan, key="assign.a")
    confirm_apply("assign.auto", plan, t("Auto-assign"))


# ------------------------------------------------------------------------------------------------ Rebalance


def rebalance_view() -> None:
    st.caption(
        t(
            "Moves VIPs off managers over their capacity (lowest tier and most recently assigned first) until they are back at or under the cap; optionally evens out the spread. Targets are chosen like auto-assign; no target is ever left over capacity."
        )
    )
    running_job("assign.reb")
    c1, c2, c3 = st.columns(3)
    even = c1.toggle(t("Also even out the spread"), key="assign.b_even")
    max_moves = c2.number_input(t("At most this many moves"), min_value=1, value=500, step=50, key="assign.b_max")
    target = c3.slider(
        t("Stop evening out at a spread of"), 0, 50, 10, format="%d%%", key="assign.b_spread", disabled=not even
    )
    if st.button(t("Preview"), key="assign.b_preview", icon=":material/visibility:"):
        try:
            with session() as s:
                st.session_state["assign.reb.plan"] = preview_rebalance(
                    session=s,
                    actor=actor,
                    today=today,
                    even_out=even,
                    max_moves=int(max_moves),
                    target_spread=target / 100,
                )
            st.session_state.pop("assign.reb.job", None)
        except Refused as exc:
            show_error(exc)
    plan: Plan | None = st.session_state.get("assign.reb.plan")
    if plan is None:
        return
    st.caption(t("Previewed at {time}.", time=fmt_local(plan.previewed_at)))
    if not plan.moves and not plan.stuck:
        st.success(t("No manager is over capacity."))
    show_plan(plan, key="assign.b")
    confirm_apply("assign.reb", plan, t("Rebalance"))


# ------------------------------------------------------------------------------------------------ Leave and exit


def leave_view() -> None:
    with session() as s:
        managers = manager_choices(session=s, actor=actor, today=today)
        leaves = leave_managers(session=s, actor=actor, today=today)
    labels = dict(managers)
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("Leave"))
        st.caption(
            t(
                "The manager's VIPs are covered by other managers (chosen like auto-assign) and return automatically the day after the leave ends."
            )
        )
        running_job("assign.leave")
        with st.form("assign.leave_form"):
            mid = st.selectbox(
                t("Manager"),
                list(labels),
                index=None,
                format_func=lambda v: labels[v],
                placeholder=t("Choose a manager"),
                key="assign.l_manager",
            )
            c1, c2 = st.columns(2)
            start = c1.date_input(t("First day"), value=today, key="assign.l_start")
            end = c2.date_input(t("Last day"), value=today + dt.timedelta(days=6), key="assign.l_end")
            go = st.form_submit_button(t("Preview cover"), icon=":material/visibility:")
        if go:
            if mid is None:
                st.error(t("Choose a manager."))
            else:
                try:
                    with session() as s:
                        st.session_state["assign.leave.plan"] = preview_leave(
                            session=s, actor=actor, manager_id=mid, start=start, end=end, today=today
                        )
                    st.session_state.pop("assign.leave.job", None)
                except Refused as exc:
                    show_error(exc)
        plan: Plan | None = st.session_state.get("assign.leave.plan")
        if plan is not None:
            st.caption(
                t(
                    "Cover for {manager}, {start} – {end}.",
                    manager=labels.get(plan.subject_id, "?"),
                    start=plan.start,
                    end=plan.end,
                )
            )
            show_plan(plan, key="assign.lp", unplaced_note=t("VIPs that stay with the manager (no cover found)"))
            confirm_apply("assign.leave", plan, t("Leave cover"))
        if leaves:
            st.subheader(t("Leaves now or planned"))
            leave_labels = {mid: f"{labels.get(mid, mid)} · {start} – {end}" for mid, start, end in leaves}
            back = st.selectbox(
                t("Manager"), list(leave_labels), format_func=lambda v: leave_labels[v], key="assign.l_back"
            )
            if st.button(t("End the leave today and return the covered VIPs"), key="assign.l_end_now"):
                try:
                    with session() as s:
                        applied = end_leave(session=s, actor=actor, manager_id=back, today=today)
                    changed()
                    st.session_state["assign.flash"] = t(
                        "Leave ended; {count} VIPs returned.", count=applied.moves if applied else 0
                    )
                    st.rerun()
                except Refused as exc:
                    show_error(exc)
    with right:
        st.subheader(t("Exit"))
        st.caption(
            t(
                "The whole portfolio moves for good (reason: manager exit); VIPs that fit nowhere become unassigned and wait for auto-assign."
            )
        )
        running_job("assign.exit")
        with st.form("assign.exit_form"):
            mid = st.selectbox(
                t("Manager"),
                list(labels),
                index=None,
                format_func=lambda v: labels[v],
                placeholder=t("Choose a manager"),
                key="assign.x_manager",
            )
            exit_date = st.date_input(t("Exit date"), value=today, key="assign.x_date")
            go = st.form_submit_button(t("Preview exit"), icon=":material/visibility:")
        if go:
            if mid is None:
                st.error(t("Choose a manager."))
            else:
                try:
                    with session() as s:
                        st.session_state["assign.exit.plan"] = preview_exit(
                            session=s, actor=actor, manager_id=mid, exit_date=exit_date, today=today
                        )
                    st.session_state.pop("assign.exit.job", None)
                except Refused as exc:
                    show_error(exc)
        plan = st.session_state.get("assign.exit.plan")
        if plan is not None:
            st.caption(t("Exit of {manager} on {date}.", manager=labels.get(plan.subject_id, "?"), date=plan.end))
            show_plan(plan, key="assign.xp", unplaced_note=t("VIPs that become unassigned"))
            confirm_apply("assign.exit", plan, t("Manager exit"))


# ------------------------------------------------------------------------------------------------ History


def history_view() -> None:
    with session() as s:
        managers = manager_choices(session=s, actor=actor, today=today)
    labels = dict(managers)
    f1, f2, f3, f4, f5, f6 = st.columns([2, 3, 1.2, 2, 1.6, 1.6])
    code = f1.text_input(t("VIP code"), key="assign.h_code", persist_state="page")
    manager = None
    if can_act:
        manager = f2.selectbox(
            t("Manager"),
            [None, *labels],
            format_func=lambda v: t("Any") if v is None else labels[v],
            key="assign.h_manager",
            persist_state="page",
        )
    batch = f3.number_input(
        t("Batch"), min_value=1, value=None, step=1, key="assign.h_batch", placeholder=t("Any"), persist_state="page"
    )
    reason = f4.selectbox(
        t("Reason"),
        [None, *REASON_LABELS],
        format_func=lambda v: t("Any") if v is None else reason_label(v),
        key="assign.h_reason",
        persist_state="page",
    )
    date_from = f5.date_input(t("From"), value=None, key="assign.h_from")
    date_to = f6.date_input(t("To"), value=None, key="assign.h_to")
    args = dict(
        customer_code=code or None,
        manager_id=manager,
        batch_id=int(batch) if batch else None,
        reason=reason,
        date_from=date_from,
        date_to=date_to,
    )
    with session() as s:
        total = history(session=s, actor=actor, limit=0, **args).total
        offset, limit = paged(total, "assign.h_page")
        page = history(session=s, actor=actor, offset=offset, limit=limit, with_total=False, **args)
    if total == 0:
        st.info(t("No history rows match these filters."))
    else:
        rows = page.rows.copy()
        rows["reason"] = rows["reason"].map(reason_label)
        rows["batch_kind"] = rows["batch_kind"].map(lambda k: t(BATCH_LABELS[k]) if k in BATCH_LABELS else "")
        st.dataframe(
            rows.drop(columns=["id"]),
            hide_index=True,
            column_config={
                "at": st.column_config.DatetimeColumn(t("When"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"),
                "vip_code": t("VIP"),
                "vip_name": t("Name"),
                "from_manager": t("From"),
                "to_manager": t("To"),
                "reason": t("Reason"),
                "by": t("By"),
                "batch_id": st.column_config.NumberColumn(t("Batch"), format="%d"),
                "batch_kind": t("Batch kind"),
                "note": t("Note"),
            },
            key="assign.history_table",
        )
        with st.expander(t("Export this history")):
            if total > EXPORT_LIMIT:
                st.caption(t("The first {limit} rows are exported.", limit=f"{EXPORT_LIMIT:,}"))
            if st.button(t("Prepare export"), key="assign.h_export_go"):
                with session() as s:
                    frame = history_export(session=s, actor=actor, **args)
                headers = {
                    "at": t("When"),
                    "vip_code": t("VIP"),
                    "vip_name": t("Name"),
                    "from_manager": t("From"),
                    "to_manager": t("To"),
                    "reason": t("Reason"),
                    "by": t("By"),
                    "batch_id": t("Batch"),
                    "batch_kind": t("Batch kind"),
                    "note": t("Note"),
                }
                downloads(frame.drop(columns=["id"]), "assignment_history", "assign.h_export", columns=headers)
    batches_panel()


def batches_panel() -> None:
    st.subheader(t("Batches"))
    with session() as s:
        total = batches(session=s, actor=actor, limit=0).total
        offset, limit = paged(total, "assign.bt_page", page_size=20)
        page = batches(session=s, actor=actor, offset=offset, limit=limit, with_total=False)
    if total == 0:
        st.info(t("No batches yet."))
        return
    rows = page.rows.copy()
    rows["kind"] = rows["kind"].map(lambda k: t(BATCH_LABELS.get(k, k)))
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "id": st.column_config.NumberColumn(t("Batch"), format="%d"),
            "kind": t("Kind"),
            "created_at": st.column_config.DatetimeColumn(
                t("When"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
            ),
            "by": t("By"),
            "moves": t("Moves"),
            "note": t("Note"),
            "undone_by": st.column_config.NumberColumn(t("Undone by batch"), format="%d"),
        },
        key="assign.batches_table",
    )
    if not can_act:
        return
    c1, c2 = st.columns([1, 3])
    batch_id = c1.selectbox(
        t("Batch to undo"), list(page.rows["id"]), index=None, key="assign.u_batch", placeholder=t("Choose a batch")
    )
    if batch_id is None:
        return
    with session() as s:
        check = check_undo(session=s, actor=actor, batch_id=int(batch_id), today=today)
    (c2.success if check.ok else c2.warning)(check.message)

    def go() -> bool:
        try:
            with session() as s:
                applied = undo_batch(session=s, actor=actor, batch_id=int(batch_id), today=today)
            changed()
            st.session_state["assign.flash"] = t(
                "Batch {id} undone: {count} VIPs returned (batch {undo}).",
                id=batch_id,
                count=applied.moves,
                undo=applied.batch_id,
            )
            st.session_state.pop("assign.u_batch", None)
            return True
        except Refused as exc:
            show_error(exc)
            return False

    if st.button(t("Undo batch {id}", id=batch_id), key="assign.u_open", disabled=not check.ok, icon=":material/undo:"):
        st.session_state["assign.undo.confirming"] = True
    confirm("assign.undo", t("Undo this batch?"), check.message, t("Undo"), go)


# ------------------------------------------------------------------------------------------------ SLAs


def sla_view() -> None:
    overview = sla_cached("overview")
    with session() as s:
        managers = manager_choices(session=s, actor=actor, today=today)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("Breached"), f"{overview.breached:,}", border=True)
    m2.metric(t("Due in the next 7 days"), f"{overview.due_soon:,}", border=True)
    if can_act:
        m3.metric(t("Unassigned VIPs past binding due"), f"{overview.unassigned_breached:,}", border=True)
        m4.metric(t("Unassigned VIPs"), f"{overview.unassigned:,}", border=True)
    st.caption(
        t(
            "Binding: 3 working days after the VIP's day 0. Notice SMS: 3 working days before the visit call is due. First contact: 30 days after binding. Regular contact: the tier's frequency after the last contact. Working days follow the Chinese official calendar."
        )
    )
    frame = overview.per_manager
    if can_act and not frame.empty:
        st.subheader(t("Per manager"))
        st.dataframe(
            frame.drop(columns=["manager_id"]),
            hide_index=True,
            column_config={
                "manager": t("Manager"),
                "vips": t("VIPs"),
                "binding_breached": t("Binding breached"),
                "binding_soon": t("Binding due"),
                "sms_breached": t("SMS breached"),
                "sms_soon": t("SMS due"),
                "first_breached": t("First contact breached"),
                "first_soon": t("First contact due"),
                "regular_breached": t("Regular contact breached"),
                "regular_soon": t("Regular contact due"),
                "breached": t("Breached"),
                "due_soon": t("Due in 7 days"),
            },
            key="assign.sla_table",
        )
    st.subheader(t("Items"))
    f1, f2, f3 = st.columns(3)
    which = (
        f1.segmented_control(
            t("Show"),
            ["breached", "due_soon"],
            default="breached",
            required=True,
            format_func=lambda v: t({"breached": "Breached", "due_soon": "Due in the next 7 days"}[v]),
            key="assign.s_which",
        )
        or "breached"
    )
    labels = dict(managers)
    manager = None
    if can_act:
        manager = f2.selectbox(
            t("Manager"),
            [None, *labels],
            format_func=lambda v: t("Any") if v is None else labels[v],
            key="assign.s_manager",
        )
    kind = f3.selectbox(
        t("SLA"),
        [None, *SLA_KINDS],
        format_func=lambda v: t("Any") if v is None else t(SLA_LABELS[v]),
        key="assign.s_kind",
    )
    total = sla_cached("items", which, manager, kind, 0, 0, True).total
    offset, limit = paged(total, "assign.s_page")
    page = sla_cached("items", which, manager, kind, offset, limit, False)
    if total == 0:
        st.success(t("Nothing breached.") if which == "breached" else t("Nothing due in the next 7 days."))
        return
    rows = page.rows.copy()
    rows["kind"] = rows["kind"].map(lambda k: t(SLA_LABELS.get(k, k)))
    rows["days"] = rows["days"].map(
        lambda d: (
            t("{days} days late", days=d)
            if d is not None and d > 0
            else (t("today") if d == 0 else t("in {days} days", days=-d))
        )
    )
    st.dataframe(
        rows.drop(columns=["customer_id"]),
        hide_index=True,
        column_config={
            "code": t("VIP"),
            "name": t("Name"),
            "tier": t("Tier"),
            "manager": t("Manager"),
            "kind": t("SLA"),
            "due": st.column_config.DateColumn(t("Due"), format="YYYY-MM-DD"),
            "days": t("When"),
        },
        key="assign.sla_items",
    )
    with st.expander(t("Export this list")):
        if total > EXPORT_LIMIT:
            st.caption(t("The first {limit} rows are exported.", limit=f"{EXPORT_LIMIT:,}"))
        if st.button(t("Prepare export"), key="assign.s_export_go"):
            with session() as s:
                full = sla_items(
                    session=s,
                    actor=actor,
                    today=today,
                    which=which,
                    manager_id=manager,
                    kind=kind,
                    limit=EXPORT_LIMIT,
                    with_total=False,
                ).rows
            full["kind"] = full["kind"].map(lambda k: t(SLA_LABELS.get(k, k)))
            headers = {
                "code": t("VIP"),
                "name": t("Name"),
                "tier": t("Tier"),
                "manager": t("Manager"),
                "kind": t("SLA"),
                "due": t("Due"),
                "days": t("Days late"),
            }
            downloads(full.drop(columns=["customer_id"]), f"sla_{which}", "assign.s_export", columns=headers)


# ------------------------------------------------------------------------------------------------ Import


def import_view() -> None:
    st.caption(
        t(
            "A CSV file with the columns vip_code, manager_code and, optionally, reason (at most {limit} rows; UTF-8, UTF-8 with BOM or GBK). The dry run checks every row; applying writes the valid rows as one batch.",
            limit=f"{MAX_ROWS:,}",
        )
    )
    running_job("assign.imp")
    upload = st.file_uploader(t("CSV file"), type=["csv", "txt"], key="assign.i_file")
    if upload is not None and st.button(t("Dry run"), key="assign.i_dry", icon=":material/fact_check:"):
        try:
            with session() as s:
                dry = import_dry_run(session=s, actor=actor, data=upload.getvalue(), today=today)
            st.session_state["assign.imp.dry"] = dry
            st.session_state["assign.imp.plan"] = dry.plan()
            st.session_state.pop("assign.imp.job", None)
        except Refused as exc:
            st.session_state.pop("assign.imp.dry", None)
            show_error(exc)
    dry = st.session_state.get("assign.imp.dry")
    if dry is None:
        return
    counts = dry.counts()
    cols = st.columns(4)
    cols[0].metric(t("Rows"), f"{dry.total:,}", border=True)
    cols[1].metric(t("Valid"), f"{dry.ok_count:,}", border=True)
    cols[2].metric(t("Rejected"), f"{dry.total - dry.ok_count:,}", border=True)
    st.dataframe(
        pd.DataFrame(
            [{"status": t(ROW_STATUS_LABELS[k]), "rows": v} for k, v in counts.items()], columns=["status", "rows"]
        ),
        hide_index=True,
        column_config={"status": t("Status"), "rows": t("Rows")},
        key="assign.i_counts",
    )
    rows = dry.rows.copy()
    rows["status"] = rows["status"].map(lambda v: t(ROW_STATUS_LABELS.get(v, v)))
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "row": t("Line"),
            "vip_code": "vip_code",
            "manager_code": "manager_code",
            "reason": "reason",
            "status": t("Status"),
            "detail": t("Detail"),
        },
        key="assign.i_rows",
    )
    if dry.total - dry.ok_count:
        st.download_button(
            t("Download the rejected rows (CSV)"),
            dry.rejects_csv(),
            file_name="assignment_import_rejects.csv",
            mime=CSV_MIME,
            key="assign.i_rejects",
            on_click="ignore",
            icon=":material/download:",
        )
    plan = st.session_state.get("assign.imp.plan")
    if plan is not None:
        confirm_apply("assign.imp", plan, t("Import"))


# ------------------------------------------------------------------------------------------------ dispatch

flash = st.session_state.pop("assign.flash", None)
if flash:
    st.success(flash)
try:
    {
        "Workload": workload_view,
        "VIPs": vips_view,
        "Auto-assign": auto_view,
        "Rebalance": rebalance_view,
        "Leave and exit": leave_view,
        "History": history_view,
        "SLAs": sla_view,
        "Import": import_view,
        "Data imports": lambda: render_imports(user),
    }[view]()
except PermissionDenied as exc:
    show_error(exc)
st.session_state["assign.script_seconds"] = time.perf_counter() - _started
