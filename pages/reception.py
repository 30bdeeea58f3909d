"""Reception: readiness board, items to do, work a run, plan a visit, incidents, templates (SPEC §5).

Supervisors plan and sign off, hosts and reception staff of each department work items, admins edit templates.
Every rule lives in console/reception; this page reads widgets, calls one service, and draws the result.
"""

from __future__ import annotations

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="reception")


import datetime as dt
import re

import altair as alt
import pandas as pd
import streamlit as st
from sqlmodel import Session

from console.i18n import get_language, pick, set_language, t
from console.permissions import PermissionDenied
from console.reception import (
    ItemRow,
    ReceptionError,
    RunView,
    SignOffBlocked,
    Staffing,
    activate_template,
    active_templates,
    add_evidence,
    cancel_visit,
    complete_followup,
    create_run,
    create_template,
    delete_draft,
    department_label,
    escalate_incident,
    evidence_file,
    find_customers,
    followup_label,
    followup_owner_choices,
    get_run,
    host_choices,
    item_evidence,
    list_levels,
    list_templates,
    mark_item,
    new_draft,
    plan_visit,
    readiness_board,
    relative_due,
    reopen_run,
    report_incident,
    reschedule_visit,
    resolve_incident,
    run_sheet,
    save_draft,
    sign_off,
    status_label,
    submit_run,
    template_items,
    visit_choices,
    visit_detail,
    visit_incidents,
    visit_runs,
    work_items,
)
from console.timeutil import local_datetime, local_to_utc, today_local
from console.ui import engine, fmt_local, guard, now_utc, session, show_error

actor = user.actor
role = actor.role
is_sup = actor.is_supervisor
now = now_utc()
today = today_local()

BOARD_PAGE = 50
K_VISIT = "ctx.reception_visit"
K_FLASH = "reception.flash"
K_PENDING = "reception.pending_view"
RED = "color: #c62828; font-weight: 600"
DEPARTMENTS = ("security", "fnb", "front_office", "engineering", "admin_hr", "marketing")

VIEWS: list[str] = []
if role == "reception":
    VIEWS.append("items")
VIEWS += ["board", "run"]
if role != "reception":
    VIEWS.append("items")
if is_sup:
    VIEWS.append("plan")
VIEWS.append("incidents")
if role == "admin":
    VIEWS.append("templates")
VIEW_LABELS = {
    "board": "Readiness board",
    "items": "My department's items" if role == "reception" else "Items to do",
    "run": "Work a run",
    "plan": "Plan a visit",
    "incidents": "Incidents",
    "templates": "Templates",
}


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """Stored text made inert for the widgets that render Markdown (headings, captions, labels, expanders)."""
    return MD_SPECIAL.sub(r"\\\1", str(text))


def flash(message: str) -> None:
    st.session_state[K_FLASH] = message


def open_visit(visit_id: int, view: str = "run") -> None:
    st.session_state[K_VISIT] = visit_id
    st.session_state.pop("reception.visit", None)
    st.session_state[K_PENDING] = view


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def state_label(row: ItemRow) -> str:
    label = status_label(row.state)
    if row.state == "failed" and row.followup is not None:
        label += " · " + followup_label(row.followup.status)
    return label


def local_naive(value: dt.datetime) -> dt.datetime:
    return local_datetime(value).replace(tzinfo=None)


def when_inputs(label: str, default: dt.datetime, key: str) -> dt.datetime:
    """A Shanghai date and time input pair; returns the UTC instant."""
    local = local_datetime(default)
    c1, c2 = st.columns(2)
    day = c1.date_input(label, value=local.date(), key=f"{key}.date")
    clock = c2.time_input(t("Time"), value=local.time().replace(second=0, microsecond=0), step=900, key=f"{key}.time")
    return local_to_utc(day, clock)


# ---------------------------------------------------------------- page header

st.title(t("Reception"))
if msg := st.session_state.pop(K_FLASH, None):
    st.success(msg)
if pending := st.session_state.pop(K_PENDING, None):
    if pending in VIEWS:
        st.session_state["reception.view"] = pending
view = st.radio(
    t("View"),
    VIEWS,
    format_func=lambda v: t(VIEW_LABELS[v]),
    horizontal=True,
    key="reception.view",
    label_visibility="collapsed",
)


# ---------------------------------------------------------------- shared: one item's actions and evidence


def item_panel(rows: list[ItemRow], prefix: str, read_only: bool = False) -> None:
    """Choose an item, mark it done / N/A / failed (or undo), attach evidence, close its follow-up."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    workable = sorted(
        (r for r in rows if r.can_work),
        key=lambda r: (0 if r.overdue else 1 if r.state == "open" else 2, r.due_at or far, r.template_code, r.seq),
    )
    if read_only or not workable:
        if not read_only and rows:
            st.caption(t("You may look at these items but not work them."))
        return
    st.subheader(t("Work an item"))
    several_visits = len({r.visit_id for r in workable}) > 1
    labels = {
        r.item_id: (f"{r.guest} · " if several_visits else "")
        + f"{r.template_code} #{r.seq} · {pick(r, 'text')[:80]} · {status_label(r.state)}"
        + (f" · {fmt_local(r.due_at, '%m-%d %H:%M')}" if several_visits and r.due_at else "")
        for r in workable
    }
    if len(set(labels.values())) < len(labels):  # a selectbox keeps its choice by label: make them unique
        labels = {item_id: f"{label} · {item_id}" for item_id, label in labels.items()}
    item_id = st.selectbox(t("Item"), list(labels), format_func=lambda i: labels[i], key=f"{prefix}.item")
    row = next(r for r in workable if r.item_id == item_id)
    st.text(pick(row, "text"))
    relative = relative_due(row.due_at, now) if row.state == "open" or row.overdue else ""
    info = [department_label(row.department), fmt_local(row.due_at) or t("no due time"), relative]
    if row.critical:
        info.append(t("critical"))
    if row.evidence_required:
        info.append(t("evidence required"))
    st.caption(" · ".join(x for x in info if x))
    if row.na_reason:
        st.text(t("N/A because: {reason}", reason=row.na_reason))
    if row.followup is not None:
        fu = row.followup
        st.text(
            followup_label(fu.status)
            + " · "
            + t("Follow-up: {action} — {owner}, due {due}", action=fu.action, owner=fu.owner, due=fmt_local(fu.due_at))
        )
        if fu.status == "open" and st.button(t("Mark the follow-up done"), key=f"{prefix}.fu_done.{fu.followup_id}"):
            try:
                with session() as s:
                    complete_followup(session=s, actor=actor, followup_id=fu.followup_id)
                flash(t("Follow-up done."))
                st.rerun()
            except (ReceptionError, PermissionDenied) as exc:
                show_error(exc)
    actions = ["evidence"] if row.state == "failed" else [a for a in ("done", "na", "failed", "open") if a != row.state]
    if row.state != "failed":
        actions.append("evidence")
    action_labels = {
        "done": "Done",
        "na": "N/A",
        "failed": "Failed",
        "open": "Back to open",
        "evidence": "Add evidence only",
    }
    action = st.radio(
        t("Mark as"), actions, format_func=lambda a: t(action_labels[a]), horizontal=True, key=f"{prefix}.action"
    )
    with st.form(f"{prefix}.form", clear_on_submit=True):
        reason = owner = fu_when = fu_action = None
        if action == "na":
            reason = st.text_input(t("Reason for N/A"), key=f"{prefix}.reason")
        if action == "failed":
            with session() as s:
                owners = followup_owner_choices(session=s, actor=actor)
            names = dict(owners)
            owner = st.selectbox(t("Follow-up owner"), list(names), format_func=names.get, key=f"{prefix}.owner")
            fu_when = when_inputs(t("Follow-up due"), now + dt.timedelta(hours=4), f"{prefix}.fu_due")
            fu_action = st.text_input(t("Follow-up action"), key=f"{prefix}.fu_action")
        note = st.text_area(t("Evidence note"), key=f"{prefix}.note", height=68)
        upload = st.file_uploader(
            t("Evidence file (image or PDF, at most 10 MB)"),
            type=["png", "jpg", "jpeg", "gif", "webp", "pdf"],
            key=f"{prefix}.file",
        )
        if st.form_submit_button(t("Save"), type="primary"):
            try:
                with session() as s:
                    if note and note.strip():
                        add_evidence(session=s, actor=actor, item_id=row.item_id, note=note)
                    if upload is not None:
                        add_evidence(
                            session=s, actor=actor, item_id=row.item_id, filename=upload.name, data=upload.getvalue()
                        )
                    if action == "evidence" and not (note and note.strip()) and upload is None:
                        raise ReceptionError("Give either a note or a file as evidence.")
                    if action != "evidence":
                        mark_item(
                            session=s,
                            actor=actor,
                            item_id=row.item_id,
                            state=action,
                            reason=reason,
                            followup_owner_id=owner,
                            followup_due_at=fu_when,
                            followup_action=fu_action,
                        )
                flash(t("Saved: {item}", item=f"{row.template_code} #{row.seq}"))
                st.rerun()
            except (ReceptionError, PermissionDenied) as exc:
                show_error(exc)
    show_evidence(row.item_id, prefix)


def show_evidence(item_id: int, prefix: str) -> None:
    with session() as s:
        evidence = item_evidence(session=s, actor=actor, item_id=item_id)
    if not evidence:
        return
    st.markdown("**" + t("Evidence") + "**")
    for ev in evidence:
        caption = md(f"{ev.by or ''} · {fmt_local(ev.at)}")
        if ev.kind == "note":
            st.text(ev.note or "")
            st.caption(caption)
            continue
        with session() as s:
            name, mime, data = evidence_file(session=s, actor=actor, evidence_id=ev.evidence_id)
        if mime.startswith("image/"):
            st.image(data, caption=f"{name} · {caption}", width=360)
        else:
            st.download_button(
                t("Download {name}", name=md(name)),
                data,
                file_name=name,
                mime=mime,
                key=f"{prefix}.ev.{ev.evidence_id}",
                on_click="ignore",
            )
            st.caption(caption)


def items_frame(rows: list[ItemRow], *, with_visit: bool = False) -> pd.DataFrame:
    data = []
    for r in rows:
        rec = {
            "seq": f"{r.template_code} #{r.seq}",
            "item": pick(r, "text") + (" ★" if r.critical else ""),
            "department": department_label(r.department),
            "due": local_naive(r.due_at) if r.due_at else None,
            "relative": relative_due(r.due_at, now) if r.state == "open" or r.overdue else "",
            "status": state_label(r),
            "who": r.done_by or "",
            "when": local_naive(r.done_at) if r.done_at else None,
            "evidence": r.evidence,
            "overdue": r.overdue,
        }
        if with_visit:
            rec = {"guest": r.guest, **rec}
        data.append(rec)
    return pd.DataFrame(data)


ITEM_COLUMNS = {
    "guest": st.column_config.TextColumn(t("Guest"), width="medium"),
    "seq": st.column_config.TextColumn(t("#"), width="small"),
    "item": st.column_config.TextColumn(t("Item"), width="large"),
    "department": st.column_config.TextColumn(t("Department"), width="small"),
    "due": st.column_config.DatetimeColumn(t("Due"), format="MM-DD HH:mm"),
    "relative": st.column_config.TextColumn(t("Due in")),
    "status": st.column_config.TextColumn(t("Status")),
    "who": st.column_config.TextColumn(t("Who")),
    "when": st.column_config.DatetimeColumn(t("When"), format="MM-DD HH:mm"),
    "evidence": st.column_config.NumberColumn(t("Evidence"), width="small"),
    "overdue": None,
}


def draw_items(rows: list[ItemRow], key: str, *, with_visit: bool = False) -> None:
    df = items_frame(rows, with_visit=with_visit)
    styled = df.style.apply(lambda r: [RED if r["overdue"] else "" for _ in r], axis=1)
    st.dataframe(styled, hide_index=True, column_config=ITEM_COLUMNS, key=key)


# ---------------------------------------------------------------- readiness board


def board_view() -> None:
    page_no = int(st.session_state.get("reception.board_page", 1))
    with session() as s:
        board = readiness_board(
            session=s, actor=actor, today=today, now=now, offset=(page_no - 1) * BOARD_PAGE, limit=BOARD_PAGE
        )
    if not board.rows and page_no > 1:
        st.session_state["reception.board_page"] = 1
        st.rerun()
    st.subheader(t("Readiness board: today and the next 7 days"))
    if not board.total:
        st.info(t("No visits today or in the next 7 days."))
        return
    c = st.columns(4)
    c[0].metric(t("Visits"), board.total, border=True)
    c[1].metric(t("Visits with overdue items"), board.with_overdue, border=True)
    c[2].metric(t("Arriving today"), board.arriving_today, border=True)
    c[3].metric(t("Runs awaiting sign-off"), board.awaiting_signoff, border=True)
    if board.total > BOARD_PAGE:
        pages = (board.total + BOARD_PAGE - 1) // BOARD_PAGE
        st.number_input(t("Page"), min_value=1, max_value=pages, step=1, key="reception.board_page")
    if board.rows:
        board_table(board.rows)
        board_timeline(board.rows)


def board_table(rows) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        [
            {
                "guest": r.guest,
                "tier": r.tier,
                "level": f"L{r.level}",
                "arrival": local_naive(r.arrival_at),
                "host": r.host,
                "readiness": None if r.readiness is None else round(100 * r.readiness),
                "overdue": r.overdue,
                "status": status_label(r.status),
                "visit_id": r.visit_id,
            }
            for r in rows
        ]
    )
    ids = list(df["visit_id"])

    def _open_selected() -> None:
        picked = st.session_state.get("reception.board") or {}
        selected = (picked.get("selection") or {}).get("rows") or []
        if selected:
            open_visit(int(ids[selected[0]]))

    styled = df.style.apply(lambda r: [RED if r["overdue"] else "" for _ in r], axis=1)
    st.dataframe(
        styled,
        hide_index=True,
        key="reception.board",
        on_select=_open_selected,
        selection_mode="single-row",
        column_config={
            "guest": st.column_config.TextColumn(t("Guest"), width="medium"),
            "tier": st.column_config.TextColumn(t("Tier"), width="small"),
            "level": st.column_config.TextColumn(t("Level"), width="small"),
            "arrival": st.column_config.DatetimeColumn(t("Arrival"), format="ddd MM-DD HH:mm"),
            "host": st.column_config.TextColumn(t("Host"), width="small"),
            "readiness": st.column_config.ProgressColumn(t("Readiness"), format="%d%%", min_value=0, max_value=100),
            "overdue": st.column_config.NumberColumn(t("Overdue items"), width="small"),
            "status": st.column_config.TextColumn(t("Status"), width="small"),
            "visit_id": None,
        },
    )
    st.caption(t("Visits with overdue items come first, in red. Select a row to work its run."))


def board_timeline(rows) -> None:  # type: ignore[no-untyped-def]
    start = dt.datetime.combine(today, dt.time())
    end = start + dt.timedelta(days=8)
    ordered = sorted(rows, key=lambda r: (r.arrival_at, r.visit_id))
    bands = [t("Overdue items"), t("In preparation"), t("Ready")]
    timeline = pd.DataFrame(
        [
            {
                "visit": f"{r.guest} · L{r.level} · #{r.visit_id}",
                "start": max(local_naive(r.arrival_at), start),
                "end": min(local_naive(r.departure_at), end),
                "arrival": fmt_local(r.arrival_at),
                "readiness": pct(r.readiness),
                "overdue": r.overdue,
                "band": bands[0] if r.overdue else bands[2] if (r.readiness or 0) >= 0.999 else bands[1],
            }
            for r in ordered
        ]
    )
    step = 22 if len(timeline) <= 20 else 15
    chart = (
        alt.Chart(timeline)
        .mark_bar(cornerRadius=3, height=step - 6)
        .encode(
            x=alt.X("start:T", title=None, scale=alt.Scale(domain=[start.isoformat(), end.isoformat()])),
            x2="end:T",
            y=alt.Y(
                "visit:N",
                sort=list(timeline["visit"]),
                title=None,
                axis=alt.Axis(labelOverlap=False, labelLimit=240, labelFontSize=10),
            ),
            color=alt.Color(
                "band:N",
                scale=alt.Scale(domain=bands, range=["#c62828", "#f9a825", "#2e7d32"]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=[
                alt.Tooltip("visit:N", title=t("Guest")),
                alt.Tooltip("arrival:N", title=t("Arrival")),
                alt.Tooltip("readiness:N", title=t("Readiness")),
                alt.Tooltip("overdue:Q", title=t("Overdue")),
            ],
        )
    )
    now_rule = (
        alt.Chart(pd.DataFrame({"now": [local_naive(now)]}))
        .mark_rule(color="#1565c0", strokeDash=[4, 3])
        .encode(x="now:T")
    )
    st.altair_chart((chart + now_rule).properties(height=alt.Step(step), title=t("Week timeline")), width="stretch")


# ---------------------------------------------------------------- items to do (across current runs)


ITEMS_PAGE = 50


def items_view() -> None:
    st.subheader(t(VIEW_LABELS["items"]))
    c1, c2, c3 = st.columns([1, 1, 2])
    mine = c1.toggle(
        t("My items"),
        key="reception.items_mine",
        help=t("Items on visits you host, items you recorded, and items whose follow-up you own."),
    )
    overdue = c2.toggle(t("Overdue only"), key="reception.items_overdue")
    department = None
    if is_sup:
        department = c3.selectbox(
            t("Department"),
            [None, *DEPARTMENTS],
            format_func=lambda d: t("Any") if d is None else department_label(d),
            key="reception.items_dept",
        )
    page_no = int(st.session_state.get("reception.items_page", 1))
    offset = (page_no - 1) * ITEMS_PAGE
    with session() as s:
        work = work_items(
            session=s,
            actor=actor,
            now=now,
            department=department,
            mine=mine,
            overdue_only=overdue,
            offset=offset,
            limit=ITEMS_PAGE,
        )
    if not work.rows and not work.followups and page_no == 1:
        st.info(t("Nothing to do here: no open items match."))
        return
    if work.rows:
        draw_items(work.rows, "reception.items_table", with_visit=True)
        st.caption(
            t("Rows {start}–{end}, by due time.", start=offset + 1, end=offset + len(work.rows))
            + (" " + t("More on the next page.") if work.has_more else "")
        )
    if work.has_more or page_no > 1:
        st.number_input(t("Page"), min_value=1, step=1, key="reception.items_page")
    st.caption(t("Items without a due time (optional items) are listed in their run."))
    if work.followups:
        st.markdown("**" + t("Failed items with an open follow-up") + "**")
        draw_items(work.followups, "reception.items_followups", with_visit=True)
    item_panel(work.rows + work.followups, "reception.items")


# ---------------------------------------------------------------- work a run


def choose_visit(key: str) -> int | None:
    with session() as s:
        choices = visit_choices(session=s, actor=actor, today=today)
    if not choices:
        st.info(t("No visits to show."))
        return None
    ids = [c.visit_id for c in choices]
    labels = {
        c.visit_id: f"{fmt_local(c.arrival_at, '%m-%d %H:%M')} · {c.guest} · L{c.level} · {status_label(c.status)} · #{c.visit_id}"
        for c in choices
    }
    current = st.session_state.get(K_VISIT)
    if current not in ids:
        upcoming = [c.visit_id for c in choices if c.arrival_at >= now - dt.timedelta(hours=12)]
        current = upcoming[0] if upcoming else ids[-1]
    picked = st.selectbox(t("Visit"), ids, index=ids.index(current), format_func=labels.get, key=key)
    st.session_state[K_VISIT] = picked
    return picked


def visit_header(visit_id: int) -> None:
    with session() as s:
        v = visit_detail(session=s, actor=actor, visit_id=visit_id)
    tier = f" · {v.tier}" if v.tier else ""
    st.markdown(f"#### {md(v.guest)}{md(tier)} · L{v.level}")
    st.caption(
        " · ".join(
            [
                f"{fmt_local(v.arrival_at)} → {fmt_local(v.departure_at)}",
                md(v.location),
                t("Host: {name}", name=md(v.host or "—")),
                t("Party of {n}", n=v.party_size),
                status_label(v.status),
            ]
        )
    )
    with st.expander(t("Visit details, staffing and preferences")):
        left, right = st.columns(2)
        left.text(t("Purpose: {value}", value=v.purpose or "—"))
        left.text(t("Dietary: {value}", value=v.dietary or "—"))
        left.text(t("Hometown: {value}", value=v.hometown or "—"))
        left.text(t("Notes: {value}", value=v.notes or "—"))
        s_ = v.staffing
        right.text(
            t(
                "Staffing: {on_duty} on duty, {groups} shift groups, {posts} posts, rotation {rotation} h, reinforcements {reinf}",
                on_duty=s_.on_duty if s_.on_duty is not None else "—",
                groups=s_.shift_groups if s_.shift_groups is not None else "—",
                posts=s_.post_count if s_.post_count is not None else "—",
                rotation=s_.rotation_hours if s_.rotation_hours is not None else "—",
                reinf=s_.reinforcements if s_.reinforcements is not None else "—",
            )
        )
        if v.level_info.posts:
            right.dataframe(
                pd.DataFrame(
                    [
                        {"post": p.number, "location": pick(p, "location"), "duty": pick(p, "duty")}
                        for p in v.level_info.posts
                    ]
                ),
                hide_index=True,
                column_config={"post": t("Post"), "location": t("Location"), "duty": t("Duty")},
            )
        elif v.level_info.cordon_zone:
            right.caption(t("Level 3: a cordon zone on the guest's building or floor instead of named posts."))
    if v.open_incidents:
        st.warning(t("{n} open incidents on this visit: see Incidents.", n=v.open_incidents))
    if is_sup and v.status in ("planned", "in_progress"):
        visit_admin(v)


def visit_admin(v) -> None:  # type: ignore[no-untyped-def]
    with st.expander(t("Reschedule, cancel or add a run")):
        with st.form("reception.reschedule"):
            arrival = when_inputs(t("Arrival"), v.arrival_at, "reception.rs_arrival")
            departure = when_inputs(t("Departure"), v.departure_at, "reception.rs_departure")
            if st.form_submit_button(t("Reschedule")):
                try:
                    with session() as s:
                        n = reschedule_visit(
                            session=s, actor=actor, visit_id=v.visit_id, arrival_at=arrival, departure_at=departure
                        )
                    flash(t("Visit rescheduled: {n} open items got new due times.", n=n))
                    st.rerun()
                except (ReceptionError, PermissionDenied) as exc:
                    show_error(exc)
        with session() as s:
            tpls = active_templates(session=s, actor=actor, level=v.level)
        names = {x["id"]: f"{x['code']} · {pick(x, 'name')} ({x['items']})" for x in tpls}
        with st.form("reception.add_run"):
            chosen = st.multiselect(t("Templates"), list(names), format_func=names.get, key="reception.add_run_tpls")
            if st.form_submit_button(t("Add a run")):
                try:
                    with session() as s:
                        create_run(session=s, actor=actor, visit_id=v.visit_id, template_ids=chosen)
                    flash(t("Run added."))
                    st.rerun()
                except (ReceptionError, PermissionDenied) as exc:
                    show_error(exc)
        if st.button(t("Cancel this visit…"), key="reception.cancel_open"):
            cancel_dialog(v.visit_id, v.guest)


@st.dialog(t("Cancel the visit"))
def cancel_dialog(visit_id: int, guest: str) -> None:
    st.write(t("Cancel the visit of {guest}? Its runs that are not signed off are closed.", guest=md(guest)))
    reason = st.text_input(t("Reason"), key="reception.cancel_reason")
    if st.button(t("Cancel the visit"), type="primary", key="reception.cancel_confirm"):
        try:
            with session() as s:
                n = cancel_visit(session=s, actor=actor, visit_id=visit_id, reason=reason)
            flash(t("Visit cancelled; {n} runs closed.", n=n))
            st.rerun()
        except (ReceptionError, PermissionDenied) as exc:
            show_error(exc)


def show_alerts(view: RunView) -> None:
    alerts = view.alerts
    if not alerts:
        return
    lines = []
    for item in alerts.get("items", []):
        text = item.get("text_zh") if get_language() == "zh" else item.get("text_en")
        state = status_label(item.get("state"))
        why = item.get("na_reason") or item.get("followup") or ""
        lines.append(
            f"- {item.get('template', '')} #{item.get('seq', '')} · {state}: {text}" + (f" — {why}" if why else "")
        )
    prefs = alerts.get("preferences") or {}
    with st.container(border=True):
        st.markdown("**" + t("Returning guest: alerts from the last visit") + "**")
        if lines:
            st.text("\n".join(lines))
        else:
            st.caption(t("Nothing failed or was N/A on the last visit."))
        for key, label in (
            ("dietary", "Dietary: {value}"),
            ("hometown", "Hometown: {value}"),
            ("notes", "Notes: {value}"),
        ):
            if prefs.get(key):
                st.text(t(label, value=prefs[key]))


def run_controls(view: RunView) -> None:
    if view.blockers:
        with st.expander(t("What blocks sign-off ({n})", n=len(view.blockers)), expanded=view.status == "submitted"):
            st.text("\n".join(blocker_lines(view.blockers)))
    cols = st.columns(4)
    if view.may_submit and cols[0].button(t("Submit for sign-off"), key="reception.submit"):
        try:
            with session() as s:
                submit_run(session=s, actor=actor, run_id=view.run_id)
            flash(t("Run submitted for sign-off."))
            st.rerun()
        except SignOffBlocked as exc:
            show_error(exc)
            st.text("\n".join(blocker_lines(exc.blockers)))
        except (ReceptionError, PermissionDenied) as exc:
            show_error(exc)
    if view.may_sign_off and cols[1].button(t("Sign off"), type="primary", key="reception.signoff"):
        try:
            with session() as s:
                sign_off(session=s, actor=actor, run_id=view.run_id)
            flash(t("Run signed off."))
            st.rerun()
        except SignOffBlocked as exc:
            show_error(exc)
            st.text("\n".join(blocker_lines(exc.blockers)))
        except (ReceptionError, PermissionDenied) as exc:
            show_error(exc)
    lang = get_language()
    eng = engine()
    run_id = view.run_id

    def _sheet(kind: str) -> bytes:
        set_language(lang)
        with Session(eng) as s:
            sheet = run_sheet(session=s, actor=actor, run_id=run_id, now=now_utc(), with_pdf=kind == "pdf")
        return (sheet.pdf or b"") if kind == "pdf" else sheet.html.encode("utf-8")

    cols[2].download_button(
        t("Run sheet (HTML)"),
        lambda: _sheet("html"),
        file_name=f"run-sheet-{run_id}.html",
        mime="text/html",
        key="reception.sheet_html",
        on_click="ignore",
    )
    cols[3].download_button(
        t("Run sheet (PDF)"),
        lambda: _sheet("pdf"),
        file_name=f"run-sheet-{run_id}.pdf",
        mime="application/pdf",
        key="reception.sheet_pdf",
        on_click="ignore",
    )
    if view.may_reopen:
        with st.form("reception.reopen"):
            reason = st.text_input(t("Reason for reopening"), key="reception.reopen_reason")
            if st.form_submit_button(t("Reopen the run")):
                try:
                    with session() as s:
                        reopen_run(session=s, actor=actor, run_id=view.run_id, reason=reason)
                    flash(t("Run reopened."))
                    st.rerun()
                except (ReceptionError, PermissionDenied) as exc:
                    show_error(exc)


def blocker_lines(blockers) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for b in blockers:
        why = t("required item still open") if b.why == "open" else t("critical item with an open follow-up")
        out.append(f"• {b.template_code} #{b.seq} · {department_label(b.department)} · {why}: {pick(b, 'text')}")
    return out


def run_view() -> None:
    visit_id = choose_visit("reception.visit")
    if visit_id is None:
        return
    visit_header(visit_id)
    with session() as s:
        runs = visit_runs(session=s, actor=actor, visit_id=visit_id)
    if not runs:
        st.info(t("This visit has no run yet."))
        return
    labels = {rid: f"#{rid} · {tpls} · {status_label(status)}" for rid, tpls, status in runs}
    run_id = (
        st.selectbox(t("Run"), list(labels), format_func=labels.get, key=f"reception.run.{visit_id}")
        if len(runs) > 1
        else runs[0][0]
    )
    c1, c2 = st.columns(2)
    mine = c1.toggle(
        t("My items"),
        key="reception.run_mine",
        help=t("Items on visits you host, items you recorded, and items whose follow-up you own."),
    )
    overdue = c2.toggle(t("Overdue only"), key="reception.run_overdue")
    with session() as s:
        view = get_run(session=s, actor=actor, run_id=run_id, now=now, mine=mine, overdue_only=overdue)
    show_alerts(view)
    m = st.columns(4)
    m[0].metric(t("Readiness"), pct(view.readiness), border=True)
    m[1].metric(t("Required items ready"), f"{view.ready} / {view.required}", border=True)
    m[2].metric(t("Overdue items"), view.overdue, border=True)
    m[3].metric(t("Run status"), status_label(view.status), border=True)
    if view.status == "signed_off":
        st.info(
            t(
                "Signed off by {name} at {at}: read-only.",
                name=md(view.signed_off_by or "—"),
                at=fmt_local(view.signed_off_at),
            )
        )
    elif view.reopened_reason:
        st.caption(t("Reopened: {reason}", reason=md(view.reopened_reason)))
    if view.department_only:
        st.caption(
            t("You see the items of your department: {department}.", department=department_label(view.department_only))
        )
    run_controls(view)
    if not view.items:
        st.info(t("No items match these filters."))
        return
    groups: dict[tuple[str, str], list[ItemRow]] = {}
    for row in view.items:
        groups.setdefault((row.template_code, row.phase), []).append(row)
    for (code, phase), rows in groups.items():
        late = sum(1 for r in rows if r.overdue)
        done = sum(1 for r in rows if r.state != "open")
        title = md(f"{code} · {phase} · {pick(rows[0], 'phase')} — {done}/{len(rows)}")
        if late:
            title += " · " + t("{n} overdue", n=late)
        with st.expander(title, expanded=bool(late) or any(r.state == "open" for r in rows)):
            draw_items(rows, f"reception.run_table.{code}.{phase}")
    item_panel(view.items, f"reception.run_item.{run_id}", read_only=view.read_only)


# ---------------------------------------------------------------- plan a visit


def plan_view() -> None:
    st.subheader(t("Plan a visit"))
    with session() as s:
        levels = list_levels(session=s, actor=actor)
        hosts = host_choices(session=s, actor=actor)
    by_level = {lv.level: lv for lv in levels}
    c1, c2 = st.columns(2)
    search = c1.text_input(t("Find a customer (name or code)"), key="reception.plan_search")
    with session() as s:
        found = find_customers(session=s, actor=actor, text=search)
    names = dict(found)
    customer = c2.selectbox(
        t("Customer"),
        [None, *names],
        format_func=lambda c: t("(a named guest, not a customer)") if c is None else names[c],
        key="reception.plan_customer",
    )
    level = st.selectbox(
        t("Reception level"),
        list(by_level),
        index=len(by_level) - 1,
        format_func=lambda lv: f"{pick(by_level[lv], 'name')} — {pick(by_level[lv], 'applies_to')}",
        key="reception.plan_level",
    )
    info = by_level[level]
    if info.posts:
        st.caption(
            t("Guard posts: {posts}", posts=md("; ".join(f"{p.number}. {pick(p, 'location')}" for p in info.posts)))
        )
    elif info.cordon_zone:
        st.caption(t("Level 3: a cordon zone on the guest's building or floor instead of named posts."))
    with session() as s:
        tpls = active_templates(session=s, actor=actor, level=level)
    tpl_names = {x["id"]: f"{x['code']} · {pick(x, 'name')} ({t('{n} items', n=x['items'])})" for x in tpls}
    default_tpls = [x["id"] for x in tpls if x["code"] in (("T1", "T4", "T3") if level <= 2 else ("T2",))]
    with st.form("reception.plan_form"):
        guest = None
        if customer is None:
            guest = st.text_input(t("Guest name"), key="reception.plan_guest")
        start = local_to_utc(today + dt.timedelta(days=1), dt.time(10, 0))
        arrival = when_inputs(t("Arrival"), start, "reception.plan_arrival")
        departure = when_inputs(t("Departure"), start + dt.timedelta(hours=6), "reception.plan_departure")
        a, b = st.columns(2)
        location = a.text_input(t("Location"), key="reception.plan_location")
        host = b.selectbox(t("Host"), [h for h, _ in hosts], format_func=dict(hosts).get, key="reception.plan_host")
        a, b = st.columns([1, 3])
        party = a.number_input(t("Party size"), min_value=1, max_value=500, value=1, step=1, key="reception.plan_party")
        purpose = b.text_input(t("Purpose"), key="reception.plan_purpose")
        a, b = st.columns(2)
        dietary = a.text_input(
            t("Dietary preferences"),
            key="reception.plan_dietary",
            help=t("Left blank, the customer's profile is used."),
        )
        hometown = b.text_input(t("Hometown"), key="reception.plan_hometown")
        notes = st.text_area(t("Notes"), key="reception.plan_notes", height=68)
        st.markdown("**" + t("Staffing for this visit (defaults of the level; on duty = shift groups × posts)") + "**")
        d = info.staffing
        cols = st.columns(5)
        fields = (
            ("reinforcements", "Reinforcements"),
            ("on_duty", "On duty"),
            ("shift_groups", "Shift groups"),
            ("rotation_hours", "Rotation (h)"),
            ("post_count", "Posts"),
        )
        values = {}
        for col_, (name, label) in zip(cols, fields, strict=True):
            values[name] = col_.number_input(
                t(label),
                min_value=0,
                max_value=500,
                value=getattr(d, name),
                step=1,
                key=f"reception.plan_{name}.{level}",
            )
        chosen = st.multiselect(
            t("Templates"),
            list(tpl_names),
            default=default_tpls,
            format_func=tpl_names.get,
            key=f"reception.plan_tpls.{level}",
        )
        submitted = st.form_submit_button(t("Plan the visit"), type="primary")
    if submitted:
        staffing = Staffing(**{k: (int(v) if v is not None else None) for k, v in values.items()})
        try:
            if not chosen:
                raise ReceptionError("Choose at least one template.")
            with session() as s:
                result = plan_visit(
                    session=s,
                    actor=actor,
                    level=level,
                    arrival_at=arrival,
                    departure_at=departure,
                    location=location,
                    host_id=host,
                    customer_id=customer,
                    guest_name=guest,
                    party_size=int(party),
                    purpose=purpose,
                    dietary=dietary,
                    hometown=hometown,
                    notes=notes,
                    staffing=staffing,
                    template_ids=chosen,
                )
            flash(t("Visit planned with its run: every item has its due time."))
            open_visit(result.visit_id)
            st.rerun()
        except (ReceptionError, PermissionDenied) as exc:
            show_error(exc)


# ---------------------------------------------------------------- incidents


def incidents_view() -> None:
    st.subheader(t("Incidents"))
    st.caption(
        t(
            "The chain: the post reports → the Security Department activates the emergency plan → the GM office is notified → resolution."
        )
    )
    visit_id = choose_visit("reception.inc_visit")
    if visit_id is None:
        return
    with session() as s:
        v = visit_detail(session=s, actor=actor, visit_id=visit_id)
        incidents = visit_incidents(session=s, actor=actor, visit_id=visit_id)
    step_labels = {
        "reported": "Reported",
        "plan_activated": "Emergency plan activated",
        "gm_notified": "GM office notified",
        "resolved": "Resolved",
    }
    if incidents:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "post": i.post,
                        "description": i.description,
                        "reported": local_naive(i.reported_at),
                        "plan": local_naive(i.plan_activated_at) if i.plan_activated_at else None,
                        "gm": local_naive(i.gm_notified_at) if i.gm_notified_at else None,
                        "resolved": local_naive(i.resolved_at) if i.resolved_at else None,
                        "resolution": i.resolution or "",
                        "step": t(step_labels[i.step]),
                    }
                    for i in incidents
                ]
            ),
            hide_index=True,
            column_config={
                "post": t("Reporting post"),
                "description": t("Description"),
                "reported": st.column_config.DatetimeColumn(t("Reported"), format="MM-DD HH:mm"),
                "plan": st.column_config.DatetimeColumn(t("Emergency plan activated"), format="MM-DD HH:mm"),
                "gm": st.column_config.DatetimeColumn(t("GM office notified"), format="MM-DD HH:mm"),
                "resolved": st.column_config.DatetimeColumn(t("Resolved"), format="MM-DD HH:mm"),
                "resolution": t("Resolution"),
                "step": t("Step"),
            },
            key="reception.incidents",
        )
        open_ones = [i for i in incidents if i.next_step]
        if open_ones:
            labels = {i.incident_id: f"#{i.incident_id} · {i.post} · {t(step_labels[i.step])}" for i in open_ones}
            iid = st.selectbox(t("Incident"), list(labels), format_func=labels.get, key="reception.inc_pick")
            inc = next(i for i in open_ones if i.incident_id == iid)
            step = inc.next_step
            with st.form("reception.inc_step"):
                at = when_inputs(t(step_labels[step]), now, "reception.inc_at")
                resolution = (
                    st.text_area(t("Resolution"), key="reception.inc_resolution") if step == "resolved" else None
                )
                if st.form_submit_button(t("Record: {step}", step=t(step_labels[step])), type="primary"):
                    try:
                        with session() as s:
                            if step == "resolved":
                                resolve_incident(
                                    session=s, actor=actor, incident_id=iid, resolution=resolution or "", at=at
                                )
                            else:
                                escalate_incident(session=s, actor=actor, incident_id=iid, step=step, at=at)
                        flash(t("Recorded: {step}", step=t(step_labels[step])))
                        st.rerun()
                    except (ReceptionError, PermissionDenied) as exc:
                        show_error(exc)
    else:
        st.info(t("No incidents on this visit."))
    posts = [f"{p.number}. {pick(p, 'location')}" for p in v.level_info.posts] or [t("Cordon zone")]
    with st.form("reception.inc_report", clear_on_submit=True):
        st.markdown("**" + t("Report an incident") + "**")
        post = st.selectbox(t("Reporting post"), [*posts, t("Other")], key="reception.inc_post")
        other = st.text_input(t("Other post"), key="reception.inc_other")
        description = st.text_area(t("Description"), key="reception.inc_description")
        at = when_inputs(t("Reported"), now, "reception.inc_reported")
        if st.form_submit_button(t("Report")):
            try:
                with session() as s:
                    report_incident(
                        session=s,
                        actor=actor,
                        visit_id=visit_id,
                        post=other if post == t("Other") else post,
                        description=description,
                        reported_at=at,
                    )
                flash(t("Incident reported: next, activate the emergency plan."))
                st.rerun()
            except (ReceptionError, PermissionDenied) as exc:
                show_error(exc)


# ---------------------------------------------------------------- templates (admin)


def templates_view() -> None:
    st.subheader(t("Templates"))
    st.caption(
        t(
            "A version is locked when it is activated: to change it, create a new draft; activating the draft retires the old version. Runs keep the items they were created with."
        )
    )
    with session() as s:
        rows = list_templates(session=s, actor=actor)
    df = pd.DataFrame(
        [
            {
                "code": r.code,
                "version": r.version,
                "status": status_label(r.status),
                "name": pick(r, "name"),
                "items": r.items,
                "runs": r.runs,
                "activated": local_naive(r.activated_at) if r.activated_at else None,
            }
            for r in rows
        ]
    )
    st.dataframe(
        df,
        hide_index=True,
        column_config={
            "code": t("Code"),
            "version": t("Version"),
            "status": t("Status"),
            "name": t("Name"),
            "items": t("Items"),
            "runs": t("Runs"),
            "activated": st.column_config.DatetimeColumn(t("Activated"), format="YYYY-MM-DD HH:mm"),
        },
        key="reception.tpl_list",
    )
    labels = {r.template_id: f"{r.code} v{r.version} · {status_label(r.status)} · {pick(r, 'name')}" for r in rows}
    tid = st.selectbox(t("Template version"), list(labels), format_func=labels.get, key="reception.tpl")
    tpl = next(r for r in rows if r.template_id == tid)
    with session() as s:
        items = template_items(session=s, actor=actor, template_id=tid)
    columns = {
        "seq": st.column_config.NumberColumn(t("#"), min_value=1, step=1, required=True),
        "phase": st.column_config.TextColumn(t("Phase"), max_chars=8, required=True),
        "phase_en": st.column_config.TextColumn(t("Phase (English)")),
        "phase_zh": st.column_config.TextColumn(t("Phase (Chinese)")),
        "text_en": st.column_config.TextColumn(t("Item (English)"), width="large"),
        "text_zh": st.column_config.TextColumn(t("Item (Chinese)"), width="large"),
        "department": st.column_config.SelectboxColumn(t("Department"), options=list(DEPARTMENTS), required=True),
        "timing": st.column_config.SelectboxColumn(
            t("Timing"), options=["offset", "per_shift", "during_stay", "optional"], required=True
        ),
        "anchor": st.column_config.SelectboxColumn(t("Anchor"), options=["arrival", "departure"]),
        "offset_minutes": st.column_config.NumberColumn(t("Offset (min)"), step=1),
        "levels": st.column_config.TextColumn(t("Levels")),
        "required": st.column_config.CheckboxColumn(t("Required")),
        "critical": st.column_config.CheckboxColumn(t("Critical")),
        "evidence_required": st.column_config.CheckboxColumn(t("Evidence")),
    }
    frame = pd.DataFrame(items, columns=list(columns))
    if tpl.status != "draft":
        st.info(
            t(
                "{code} v{version} is {status} and locked.",
                code=tpl.code,
                version=tpl.version,
                status=status_label(tpl.status),
            )
        )
        st.dataframe(frame, hide_index=True, column_config=columns, key="reception.tpl_items")
        if st.button(t("New draft from this version"), key="reception.tpl_new_draft"):
            try:
                with session() as s:
                    new_id = new_draft(session=s, actor=actor, template_id=tid)
                st.session_state.pop("reception.tpl", None)
                flash(t("Draft created (template id {id}): edit it, then activate it.", id=new_id))
                st.rerun()
            except (ReceptionError, PermissionDenied) as exc:
                show_error(exc)
    else:
        edited = st.data_editor(
            frame, hide_index=True, num_rows="dynamic", column_config=columns, key="reception.tpl_editor"
        )
        c1, c2, c3 = st.columns(3)
        if c1.button(t("Save the draft"), type="primary", key="reception.tpl_save"):
            try:
                records = edited.astype(object).where(edited.notna(), None).to_dict("records")
                with session() as s:
                    n = save_draft(session=s, actor=actor, template_id=tid, items=records)
                flash(t("Draft saved with {n} items.", n=n))
                st.rerun()
            except (ReceptionError, PermissionDenied) as exc:
                show_error(exc)
        if c2.button(t("Activate…"), key="reception.tpl_activate"):
            activate_dialog(tid, f"{tpl.code} v{tpl.version}")
        if c3.button(t("Delete the draft"), key="reception.tpl_delete"):
            try:
                with session() as s:
                    delete_draft(session=s, actor=actor, template_id=tid)
                st.session_state.pop("reception.tpl", None)
                flash(t("Draft deleted."))
                st.rerun()
            except (ReceptionError, PermissionDenied) as exc:
                show_error(exc)
    with st.expander(t("Create a new template")):
        with st.form("reception.tpl_create"):
            a, b, c, d = st.columns([1, 2, 2, 2])
            code = a.text_input(t("Code"), key="reception.tpl_code")
            name_en = b.text_input(t("Name (English)"), key="reception.tpl_name_en")
            name_zh = c.text_input(t("Name (Chinese)"), key="reception.tpl_name_zh")
            owner = d.selectbox(
                t("Department"), list(DEPARTMENTS), format_func=department_label, key="reception.tpl_owner"
            )
            if st.form_submit_button(t("Create the draft")):
                try:
                    with session() as s:
                        create_template(
                            session=s, actor=actor, code=code, name_en=name_en, name_zh=name_zh, owner_department=owner
                        )
                    flash(t("Template created as an empty draft."))
                    st.rerun()
                except (ReceptionError, PermissionDenied) as exc:
                    show_error(exc)


@st.dialog(t("Activate the draft"))
def activate_dialog(template_id: int, label: str) -> None:
    st.write(
        t("Activate {label}? It is locked from then on and the active version of the template is retired.", label=label)
    )
    if st.button(t("Activate"), type="primary", key="reception.tpl_activate_confirm"):
        try:
            with session() as s:
                activate_template(session=s, actor=actor, template_id=template_id)
            st.session_state.pop("reception.tpl", None)
            flash(t("Activated {label}.", label=label))
            st.rerun()
        except (ReceptionError, PermissionDenied) as exc:
            show_error(exc)


{
    "board": board_view,
    "items": items_view,
    "run": run_view,
    "plan": plan_view,
    "incidents": incidents_view,
    "templates": templates_view,
}[view]()
