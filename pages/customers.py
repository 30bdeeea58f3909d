"""Customers (VIP 360): find a customer, their profile with SLA states and gaps, one timeline of everything that
happened to them, the coverage gaps of all customers, and the early warning per manager and team (issue 7).

Rules live in console/customers; this page reads widgets, calls one service and draws what comes back.
A customer opens from the search, a gap list, or a link: ?customer=CODE.
"""

from __future__ import annotations

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="customers")


import datetime as dt
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from console.assignment.exports import CSV_MIME, XLSX_MIME, to_csv_bytes, to_xlsx_bytes
from console.assignment.rules import STATUS_LABELS
from console.customers import (
    FLAG_LABELS,
    FLAGS,
    GAP_HELP,
    GAP_KINDS,
    GAP_LABELS,
    HOME_LABELS,
    KIND_LABELS,
    TIMELINE_KINDS,
    Link,
    customer_profile,
    customer_timeline,
    early_warning,
    find_customer,
    gap_counts,
    gap_export,
    gap_export_with_numbers,
    gap_list,
    reveal_number,
    search_customers,
    search_filters,
    timeline_export,
)
from console.customers.gaps import gap_snapshot, start_gap_refresh
from console.customers.profile import NextTier
from console.customers.warning import EarlyWarning
from console.db import database_url
from console.i18n import get_language, t
from console.permissions import PermissionDenied
from console.tiers.common import fmt_yuan
from console.tiers.drill import KIND_LABELS as TIER_KIND_LABELS
from console.timeutil import today_local
from console.ui import fmt_local, guard, now_utc, pager, session, show_error
from console.ui.customer_link import open_link
from console.ui.jobs import follow_job

actor = user.actor
role = actor.role
is_sup = actor.is_supervisor
today = today_local()
now = now_utc()

K_CUSTOMER = "ctx.customer"  # the open customer's id
K_VIEW = "customers.view"
K_PENDING_VIEW = "customers.pending_view"  # a view to switch to on the next run (set after the switch is drawn)
K_LINKED = "customers.linked_code"  # the ?customer= code already handled
K_NOTICE = "customers.notice"
K_REVEALED = "customers.revealed"  # {"customer_id": id, "phone": ..., "id_number": ...} of the open customer only
K_JOB = "customers.refresh_job"
K_GAP_KIND = "customers.gap_kind"
PAGE_SIZE = 50
WARNING_INTRO = (
    "{first} and {last}: the share of each portfolio downgraded beside the average QA score and the trend "
    "of the weakest scorecard section. Falling scores before rising downgrades are the warning. "
    "Refreshed every 15 minutes."
)

VIEWS = {"find": "Find a customer", "gaps": "Coverage gaps"}
if is_sup:
    VIEWS["warning"] = "Early warning"


def open_customer_id(customer_id: int | None, code: str | None = None) -> None:
    """Open a customer on this page (and put its code in the URL, so the address can be shared)."""
    if st.session_state.get(K_CUSTOMER) != customer_id:
        st.session_state.pop(K_REVEALED, None)
        for key in [k for k in st.session_state if str(k).startswith("customers.tl_")]:
            if key not in ("customers.tl_kinds", "customers.tl_newest"):
                st.session_state.pop(key, None)
        st.session_state.pop("customers.tl_export", None)
    st.session_state[K_CUSTOMER] = customer_id
    st.session_state[K_PENDING_VIEW] = "find"
    if code:
        st.session_state[K_LINKED] = code
        st.query_params["customer"] = code
    else:
        st.session_state.pop(K_LINKED, None)
        if "customer" in st.query_params:
            del st.query_params["customer"]


# ---------------------------------------------------------------- a link: ?customer=CODE

linked = st.query_params.get("customer")
if linked and linked != st.session_state.get(K_LINKED):
    st.session_state[K_LINKED] = linked
    with session() as s:
        found = find_customer(session=s, actor=actor, code=linked)
    if found.customer_id is not None:
        open_customer_id(found.customer_id, linked.strip().upper())
    else:
        st.session_state[K_NOTICE] = found.message

st.title(t("Customers"))
st.caption(t("One page per VIP: tier, manager, contacts, calls and QA, visits — and the gaps between them."))
if notice := st.session_state.pop(K_NOTICE, None):
    st.warning(notice)

if (pending_view := st.session_state.pop(K_PENDING_VIEW, None)) in VIEWS:
    st.session_state[K_VIEW] = pending_view
if st.session_state.get(K_VIEW) not in VIEWS:
    st.session_state[K_VIEW] = "find"
view = (
    st.segmented_control(
        t("View"), list(VIEWS), format_func=lambda v: t(VIEWS[v]), key=K_VIEW, label_visibility="collapsed"
    )
    or "find"
)


# ---------------------------------------------------------------- shared drawing helpers


def export_buttons(make: Any, *, key: str, filename: str, label: str | None = None) -> None:
    """Prepare an export on request, then offer CSV (UTF-8 with BOM) and XLSX."""
    store = f"{key}.data"
    if st.button(label or t("Prepare export"), key=f"{key}.prepare", icon=":material/download:"):
        try:
            with session() as s:
                frame, cut = make(s)
        except (PermissionDenied, ValueError) as exc:
            show_error(exc)
            return
        st.session_state[store] = (to_csv_bytes(frame), to_xlsx_bytes(frame, sheet_name=filename[:31]), cut, len(frame))
    if store in st.session_state:
        csv, xlsx, cut, rows = st.session_state[store]
        if cut:
            st.warning(t("The export holds the first {n} rows.", n=f"{rows:,}"))
        c1, c2, _ = st.columns([1, 1, 4])
        c1.download_button("CSV", csv, f"{filename}.csv", CSV_MIME, key=f"{key}.csv")
        c2.download_button("XLSX", xlsx, f"{filename}.xlsx", XLSX_MIME, key=f"{key}.xlsx")


def pct(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.0%}"


def num(value: Any, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def selected_row(key: str) -> int | None:
    state = st.session_state.get(key)
    try:
        rows = state["selection"]["rows"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return int(rows[0]) if rows else None


def open_from_table(table_key: str, ids_key: str) -> None:
    """Selection callback of a customer table: open the selected row's customer."""
    row = selected_row(table_key)
    ids: list[tuple[int, str]] = st.session_state.get(ids_key, [])
    if row is not None and row < len(ids):
        open_customer_id(*ids[row])


def open_from_pick(pick_key: str, ids_key: str) -> None:
    code = st.session_state.get(pick_key)
    for cid, ccode in st.session_state.get(ids_key, []):
        if ccode == code:
            open_customer_id(cid, ccode)
            return


def customer_table(frame: pd.DataFrame, *, key: str, columns: dict[str, Any]) -> None:
    """A table of customers: select a row (or pick a code below) to open the customer."""
    ids_key = f"{key}.ids"
    st.session_state[ids_key] = [(int(r.customer_id), str(r.code)) for r in frame.itertuples()]
    st.dataframe(
        frame[list(columns)],
        hide_index=True,
        column_config=columns,
        on_select=lambda: open_from_table(key, ids_key),
        selection_mode="single-row",
        key=key,
        width="stretch",
    )
    labels = {str(r.code): f"{r.code} · {r.name}" for r in frame.itertuples()}
    st.selectbox(
        t("Open a customer"),
        list(labels),
        index=None,
        format_func=lambda c: labels.get(c, c),
        placeholder=t("Choose a customer of this page"),
        key=f"{key}.pick",
        on_change=lambda: open_from_pick(f"{key}.pick", ids_key),
    )


# ---------------------------------------------------------------- find and profile


def gap_shortcuts() -> None:
    """Supervisors: the number of customers with each gap, one click from its list."""
    with session() as s:
        counts = gap_counts(session=s, actor=actor, today=today)
    st.subheader(t("Coverage gaps"))
    cols = st.columns(3)
    for i, kind in enumerate(GAP_KINDS):
        col = cols[i % 3]
        col.metric(
            t(HOME_LABELS[kind]), f"{counts[kind]:,}", border=True, help=t(GAP_LABELS[kind]) + ". " + t(GAP_HELP[kind])
        )
        if col.button(t("Show the list"), key=f"customers.go_gap.{kind}", disabled=not counts[kind]):
            st.session_state[K_GAP_KIND] = kind
            st.session_state[K_PENDING_VIEW] = "gaps"
            st.rerun()


def find_view() -> None:
    with session() as s:
        filters = search_filters(session=s, actor=actor, today=today)
    c1, c2 = st.columns([3, 2])
    text = c1.text_input(
        t("Search"),
        key="customers.q",
        placeholder=t("Code, name or full phone number"),
        max_chars=None,
        help=t("A full phone number finds the customer; the number stays masked."),
    )
    flag = c2.selectbox(
        t("Flag"),
        [None, *FLAGS],
        format_func=lambda f: t("Any") if f is None else t(FLAG_LABELS[f]),
        key="customers.flag",
    )
    f1, f2, f3 = st.columns(3)
    tier_names = dict(filters.tiers)
    tier = f1.selectbox(
        t("Tier"),
        [None, *tier_names],
        format_func=lambda r: t("Any") if r is None else tier_names[r],
        key="customers.tier",
    )
    manager = None
    if role != "client_manager":
        managers = dict(filters.managers)
        manager = f2.selectbox(
            t("Manager"),
            [None, *managers],
            format_func=lambda m: t("Any") if m is None else managers[m],
            key="customers.manager",
        )
    region = (f3 if role != "client_manager" else f2).selectbox(
        t("Region"),
        [None, *filters.regions],
        format_func=lambda r: t("Any") if r is None else r,
        key="customers.region",
    )
    searching = bool((text or "").strip()) or any(v is not None for v in (flag, tier, manager, region))
    if st.session_state.get(K_CUSTOMER) is not None:
        profile_panel(int(st.session_state[K_CUSTOMER]))
        if not searching:
            return
    elif not searching:
        if role == "client_manager":
            st.info(t("Search your portfolio by code, name or full phone number, or pick a filter."))
        elif role == "team_lead":
            st.info(t("Search the customers your team has called, by code, name or full phone number."))
        else:
            st.info(t("Search by code, name or full phone number, or pick a filter."))
        if is_sup:
            gap_shortcuts()
        return
    args = dict(text=text, tier=tier, manager_id=manager, region=region, flag=flag)
    with session() as s:
        first = search_customers(session=s, actor=actor, today=today, limit=0, **args)
    if first.message:
        st.warning(first.message)
        return
    if first.total == 0:
        st.info(t("No customer in your scope matches."))
        return
    signature = repr(sorted(args.items()))
    if first.total == 1 and st.session_state.get("customers.auto_opened") != signature:
        # One match (typically a full phone number): open it straight away, once per search.
        st.session_state["customers.auto_opened"] = signature
        with session() as s:
            only = search_customers(session=s, actor=actor, today=today, limit=1, **args).rows.iloc[0]
        open_customer_id(int(only["customer_id"]), str(only["code"]))
        st.rerun()
    opened = st.session_state.get(K_CUSTOMER) is not None
    if opened and first.total == 1:
        return
    if opened:
        st.divider()
        st.subheader(t("Search results"))
    col, _ = st.columns([1, 4])
    with col:
        offset, limit = pager(first.total, key="customers.page", page_size=PAGE_SIZE)
    with session() as s:
        result = search_customers(session=s, actor=actor, today=today, offset=offset, limit=limit, **args)
    if result.by_phone:
        st.caption(t("Found by the full phone number; numbers stay masked."))
    customer_table(
        result.rows,
        key="customers.results",
        columns={
            "code": st.column_config.TextColumn(t("Code")),
            "name": st.column_config.TextColumn(t("Customer")),
            "phone": st.column_config.TextColumn(t("Phone")),
            "tier": st.column_config.TextColumn(t("Tier")),
            "manager": st.column_config.TextColumn(t("Manager")),
            "region": st.column_config.TextColumn(t("Region")),
            "flags": st.column_config.TextColumn(t("Flags"), width="large"),
        },
    )


def reveal(customer_id: int, field: str) -> None:
    try:
        with session() as s:
            value = reveal_number(session=s, actor=actor, customer_id=customer_id, field=field)
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        return
    revealed = st.session_state.get(K_REVEALED) or {}
    if revealed.get("customer_id") != customer_id:
        revealed = {"customer_id": customer_id}
    revealed[field] = value
    st.session_state[K_REVEALED] = revealed
    st.toast(t("Revealed; this was written to the audit log."), icon=":material/visibility:")


def threshold_line(label: str, have: str, need: str | None, gap: str | None, share: float | None) -> None:
    if need is None:
        return
    text = t("{label}: {have} of {need}", label=label, have=have, need=need)
    if gap:
        text += " · " + t("{gap} to go", gap=gap)
    st.progress(share or 0.0, text=text)


def profile_panel(customer_id: int) -> None:
    try:
        with session() as s:
            p = customer_profile(session=s, actor=actor, customer_id=customer_id, today=today, now=now)
    except (PermissionDenied, ValueError) as exc:
        show_error(exc)
        st.session_state[K_CUSTOMER] = None
        return
    head, close = st.columns([6, 1])
    head.header(f"{p.name} · {p.code}")
    close.button(t("Close"), key="customers.close", icon=":material/close:", on_click=open_customer_id, args=(None,))
    m1, m2, m3, m4 = st.columns(4)
    since = fmt_local(p.tier_since, "%Y-%m-%d") if p.tier_since else "—"
    m1.metric(t("Tier"), p.tier, help=t("Since {day}", day=since), border=True)
    m2.metric(t("Spend, last 12 months"), fmt_yuan(p.spend_fen), border=True)
    m3.metric(t("Purchases, last 12 months"), f"{p.purchases:,}", border=True)
    m4.metric(
        t("Manager"),
        p.manager.split(" · ", 1)[-1] if p.manager else t("Unassigned"),
        help=(p.manager + " · " + t("Since {day}", day=fmt_local(p.manager_since, "%Y-%m-%d")))
        if p.manager and p.manager_since
        else None,
        border=True,
    )
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('Tier')}**")
        kind = t(TIER_KIND_LABELS.get(p.tier_kind, p.tier_kind)) if p.tier_kind else ""
        st.write(t("{tier} since {day}", tier=p.tier, day=since) + (f" · {kind}" if kind else ""))
        if p.tier_reason:
            st.caption(t("Why: {reason}", reason=p.tier_reason))
        if p.supreme:
            day = fmt_local(p.designated_at, "%Y-%m-%d") if p.designated_at else "—"
            st.info(t("Supreme by designation since {day}.", day=day))
        if p.override_rank is not None:
            until = p.override_until.isoformat() if p.override_until else t("no end date")
            st.info(
                t(
                    "Override to {tier} until {until} by {by}: {reason}",
                    tier=p.override_tier or "",
                    until=until,
                    by=p.override_by or "—",
                    reason=p.override_reason or "",
                )
            )
        if p.at_risk_tier and p.review_date:
            st.warning(
                t("At risk: would qualify for {tier} at the review on {day}.", tier=p.at_risk_tier, day=p.review_date)
            )
        nxt: NextTier | None = p.next_tier
        if nxt is None:
            st.caption(t("Qualifies now for {tier}; no higher tier has a threshold.", tier=p.qualified_tier))
        else:
            rule = t("both conditions") if nxt.require_both else t("either condition")
            st.caption(t("Next tier: {tier} ({rule}).", tier=nxt.name, rule=rule))
            threshold_line(
                t("Spend"),
                fmt_yuan(p.spend_fen),
                fmt_yuan(nxt.min_spend_fen) if nxt.min_spend_fen is not None else None,
                fmt_yuan(nxt.spend_gap_fen) if nxt.spend_gap_fen else None,
                NextTier.share(p.spend_fen, nxt.min_spend_fen),
            )
            threshold_line(
                t("Purchases"),
                f"{p.purchases:,}",
                f"{nxt.min_purchases:,}" if nxt.min_purchases is not None else None,
                f"{nxt.purchases_gap:,}" if nxt.purchases_gap else None,
                NextTier.share(p.purchases, nxt.min_purchases),
            )
        st.markdown(f"**{t('Manager')}**")
        if p.manager:
            parts = [p.manager, t(p.manager_level or "none").capitalize()]
            if p.manager_status and p.manager_status != "active":
                parts.append(t(STATUS_LABELS.get(p.manager_status, p.manager_status)))
            st.write(" · ".join(parts))
            if p.manager_since:
                st.caption(
                    t("Since {day}", day=fmt_local(p.manager_since, "%Y-%m-%d"))
                    + (f" · {p.manager_reason}" if p.manager_reason else "")
                )
        else:
            waiting = fmt_local(p.waiting_since, "%Y-%m-%d") if p.waiting_since else "—"
            st.write(t("Unassigned (waiting since {day})", day=waiting) if p.tier_rank else t("Member: not assigned"))
    with right:
        st.markdown(f"**{t('Contact details')}**")
        revealed = st.session_state.get(K_REVEALED) or {}
        if revealed.get("customer_id") != p.id:
            revealed = {}
        for field, label, masked, allowed in (
            ("phone", t("Phone"), p.phone, p.can_reveal_phone),
            ("id_number", t("ID number"), p.id_number, p.can_reveal_id),
        ):
            c1, c2 = st.columns([3, 2])
            shown = revealed.get(field) or masked or "—"
            c1.text(f"{label}: {shown}")
            if allowed and field not in revealed:
                c2.button(
                    t("Reveal"),
                    key=f"customers.reveal.{field}",
                    icon=":material/visibility:",
                    help=t("Shows the full number once; written to the audit log."),
                    on_click=reveal,
                    args=(p.id, field),
                )
            elif field in revealed:
                c2.caption(t("Revealed (audited)"))
        details = [
            (t("Region"), p.region or "—"),
            (t("Birthday"), p.birthday.isoformat() if p.birthday else "—"),
            (t("Dietary"), p.dietary or "—"),
            (t("Hometown"), p.hometown or "—"),
        ]
        st.table(pd.DataFrame(details, columns=[t("Field"), t("Value")]).set_index(t("Field")))
        if p.notes:
            st.caption(t("Notes: {notes}", notes=p.notes))
    st.markdown(f"**{t('SLAs')}**")
    if not p.slas:
        st.caption(t("SLAs apply to VIPs only."))
    else:
        frame = pd.DataFrame(
            [{"sla": r.label, "state": r.state_label, "when": r.text} for r in p.slas],
            columns=["sla", "state", "when"],
        )
        st.dataframe(
            frame,
            hide_index=True,
            column_config={
                "sla": st.column_config.TextColumn(t("SLA")),
                "state": st.column_config.TextColumn(t("State")),
                "when": st.column_config.TextColumn(t("When"), width="large"),
            },
            key="customers.slas",
        )
    st.markdown(f"**{t('Coverage gaps')}**")
    if not p.gaps:
        st.success(t("No coverage gap."))
    for hit in p.gaps:
        st.warning(f"{hit.label}: {hit.detail}")
    timeline_panel(p.id, p.code)


def link_label(link: Link) -> str:
    return t(link.label, value=link.value)


def open_selected_entry(table_key: str, links_key: str) -> None:
    """Selecting a timeline row with a link chooses it in the "Open where an event lives" box."""
    row = selected_row(table_key)
    links: list[Link | None] = st.session_state.get(links_key, [])
    if row is not None and row < len(links) and links[row] is not None:
        st.session_state["customers.tl_pick"] = row


def timeline_panel(customer_id: int, code: str) -> None:
    st.subheader(t("Timeline"))
    c1, c2 = st.columns([4, 1])
    kinds = c1.multiselect(
        t("Show"),
        list(TIMELINE_KINDS),
        default=list(TIMELINE_KINDS),
        format_func=lambda k: t(KIND_LABELS[k]),
        key="customers.tl_kinds",
    )
    newest = c2.toggle(t("Newest first"), value=True, key="customers.tl_newest")
    if not kinds:
        st.info(t("Choose at least one kind of event."))
        return
    with session() as s:
        first = customer_timeline(
            session=s, actor=actor, customer_id=customer_id, today=today, kinds=kinds, limit=0, newest_first=newest
        )
    if first.total == 0:
        st.info(t("Nothing recorded for this customer yet."))
        return
    st.caption(" · ".join(f"{t(KIND_LABELS[k])}: {first.counts.get(k, 0):,}" for k in kinds))
    col, _ = st.columns([1, 4])
    with col:
        offset, limit = pager(first.total, key="customers.tl_page", page_size=PAGE_SIZE)
    with session() as s:
        page = customer_timeline(
            session=s,
            actor=actor,
            customer_id=customer_id,
            today=today,
            kinds=kinds,
            offset=offset,
            limit=limit,
            newest_first=newest,
        )
    frame = page.frame()
    frame["when"] = [fmt_local(at.to_pydatetime()) for at in frame["at"]]
    links = [entry.link for entry in page.entries]
    links_key = "customers.tl_links"
    st.session_state[links_key] = links
    st.dataframe(
        frame[["when", "kind_label", "title", "detail", "by", "link_label"]],
        hide_index=True,
        column_config={
            "when": st.column_config.TextColumn(t("When")),
            "kind_label": st.column_config.TextColumn(t("Kind")),
            "title": st.column_config.TextColumn(t("Event")),
            "detail": st.column_config.TextColumn(t("Details"), width="medium"),
            "by": st.column_config.TextColumn(t("By")),
            "link_label": st.column_config.TextColumn(t("Where it lives")),
        },
        on_select=lambda: open_selected_entry("customers.tl_table", links_key),
        selection_mode="single-row",
        key="customers.tl_table",
        width="stretch",
    )
    with_link = [(i, entry) for i, entry in enumerate(page.entries) if entry.link is not None]
    if with_link:
        labels = {
            i: f"{fmt_local(entry.at)} · {t(KIND_LABELS[entry.kind])} · {link_label(entry.link)}"  # type: ignore[arg-type]
            for i, entry in with_link
        }
        if st.session_state.get("customers.tl_pick") not in labels:
            st.session_state.pop("customers.tl_pick", None)
        o1, o2 = st.columns([4, 1])
        pick = o1.selectbox(
            t("Open where an event lives"),
            list(labels),
            index=None,
            format_func=lambda i: labels[i],
            placeholder=t("Select a row above or choose an event"),
            key="customers.tl_pick",
        )
        if o2.button(t("Open"), key="customers.tl_go", icon=":material/open_in_new:", disabled=pick is None):
            target = page.entries[int(pick)].link  # type: ignore[arg-type]
            if target is not None:
                open_link(target)
    else:
        st.caption(t("None of these events has a page you may open."))
    export_buttons(
        lambda s: (timeline_export(session=s, actor=actor, customer_id=customer_id, today=today, kinds=kinds), False),
        key="customers.tl_export",
        filename=f"timeline_{code}",
        label=t("Export the timeline"),
    )


# ---------------------------------------------------------------- coverage gaps


def gaps_view() -> None:
    with session() as s:
        snap = gap_snapshot(session=s, actor=actor, today=today, now=now)
        counts = gap_counts(session=s, actor=actor, today=today, now=now)
    top, action = st.columns([4, 1])
    top.caption(
        t(
            "Computed for every customer at {time}; recomputed every 15 minutes. The list shows your scope.",
            time=fmt_local(snap.at),
        )
    )
    if is_sup and action.button(t("Recompute now"), key="customers.refresh", icon=":material/refresh:"):
        with session() as s:
            job = start_gap_refresh(session=s, actor=actor, today=today)
        st.session_state[K_JOB] = job.id
    if st.session_state.get(K_JOB):
        follow_job(int(st.session_state[K_JOB]), key="customers.refresh_follow")
    if st.session_state.get(K_GAP_KIND) not in GAP_KINDS:
        st.session_state[K_GAP_KIND] = GAP_KINDS[0]
    kind = st.radio(
        t("Gap"),
        list(GAP_KINDS),
        format_func=lambda k: f"{t(GAP_LABELS[k])} ({counts[k]:,})",
        key=K_GAP_KIND,
    )
    st.caption(t(GAP_HELP[kind]))
    manager = None
    if role != "client_manager":
        with session() as s:
            managers = dict(search_filters(session=s, actor=actor, today=today).managers)
        col, _ = st.columns([2, 3])
        manager = col.selectbox(
            t("Manager"),
            [None, *managers],
            format_func=lambda m: t("Any") if m is None else managers[m],
            key="customers.gap_manager",
        )
    total = counts[kind]
    if manager is not None:
        with session() as s:
            total = gap_list(session=s, actor=actor, kind=kind, today=today, manager_id=manager, limit=0, now=now).total
    if total == 0:
        st.success(t("No customer in your scope has this gap."))
        return
    col, _ = st.columns([1, 4])
    with col:
        offset, limit = pager(total, key=f"customers.gap_page.{kind}", page_size=PAGE_SIZE)
    with session() as s:
        page = gap_list(
            session=s, actor=actor, kind=kind, today=today, manager_id=manager, offset=offset, limit=limit, now=now
        )
    customer_table(
        page.rows,
        key=f"customers.gap_table.{kind}",
        columns={
            "code": st.column_config.TextColumn(t("Code")),
            "name": st.column_config.TextColumn(t("Customer")),
            "phone": st.column_config.TextColumn(t("Phone")),
            "tier": st.column_config.TextColumn(t("Tier")),
            "manager": st.column_config.TextColumn(t("Manager")),
            "since": st.column_config.DateColumn(t("Since")),
            "detail": st.column_config.TextColumn(t("What is missing"), width="large"),
        },
    )
    with_numbers = False
    if is_sup:
        with_numbers = st.checkbox(
            t("Include full phone and ID numbers (written to the audit log)"), key=f"customers.gap_numbers.{kind}"
        )
    if with_numbers:
        export_buttons(
            lambda s: gap_export_with_numbers(session=s, actor=actor, kind=kind, today=today, now=now),
            key=f"customers.gap_export_full.{kind}",
            filename=f"gaps_{kind}_with_numbers",
            label=t("Export with numbers"),
        )
    else:
        export_buttons(
            lambda s: gap_export(session=s, actor=actor, kind=kind, today=today, now=now),
            key=f"customers.gap_export.{kind}",
            filename=f"gaps_{kind}",
            label=t("Export this list"),
        )


# ---------------------------------------------------------------- early warning


@st.cache_data(ttl=900, show_spinner=False, max_entries=8)
def load_warning(day: dt.date, lang: str, role: str, db: str) -> EarlyWarning:
    """The early warning reads every evaluation and downgrade of two quarters (seconds at 200,000 customers):
    kept for 15 minutes per day, language, role and database."""
    with session() as s:
        return early_warning(session=s, actor=actor, today=day)


def warning_view() -> None:
    with st.spinner(t("Comparing two quarters of QA scores and downgrades…")):
        ew = load_warning(today, get_language(), role, database_url())
    q0, q1 = ew.quarters[0], ew.quarters[-1]
    st.caption(
        t(
            WARNING_INTRO,
            first=q0.label,
            last=q1.label,
        )
    )
    level = (
        st.segmented_control(
            t("Per"),
            ["manager", "team"],
            default="manager",
            format_func=lambda v: t("Client manager") if v == "manager" else t("Team"),
            key="customers.w_level",
        )
        or "manager"
    )
    frame = ew.managers if level == "manager" else ew.teams
    if frame.empty:
        st.info(t("No client managers or teams yet."))
        return
    chart_data = ew.chart[ew.chart["level"] == level].dropna(subset=["score_change", "share_last"]).copy()
    if chart_data.empty:
        st.info(t("Not enough evaluations in both quarters to draw the comparison."))
    else:
        chart_data["share_pct"] = chart_data["share_last"] * 100
        x_title = t("Change in average QA score, {first} → {last}", first=q0.period, last=q1.period)
        y_title = t("Downgraded in {last} (%)", last=q1.period)
        points = (
            alt.Chart(chart_data)
            .mark_circle(opacity=0.8)
            .encode(
                x=alt.X("score_change:Q", title=x_title),
                y=alt.Y("share_pct:Q", title=y_title),
                size=alt.Size("portfolio:Q", title=t("Portfolio"), legend=None),
                color=alt.Color("team:N", title=t("Team")),
                tooltip=[
                    alt.Tooltip("name:N", title=t("Name")),
                    alt.Tooltip("score_change:Q", format="+.1f", title=t("Score change")),
                    alt.Tooltip("share_pct:Q", format=".1f", title=t("Downgraded (%)")),
                    alt.Tooltip("weakest_trend:Q", format="+.1%", title=t("Weakest section trend")),
                ],
            )
        )
        zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4], color="#888").encode(x="x:Q")
        st.altair_chart((zero + points).properties(height=320), width="stretch")
    shown = frame.copy()
    table = pd.DataFrame(
        {
            "name": shown["name"],
            "team": shown["team"],
            "portfolio": shown["portfolio_1"],
            "down_0": shown["share_0"].map(pct),
            "down_1": shown["share_1"].map(pct),
            "score_0": shown["score_0"].map(num),
            "score_1": shown["score_1"].map(num),
            "change": shown["score_change"].map(lambda v: "—" if pd.isna(v) else f"{v:+.1f}"),
            "weakest": shown["weakest_section"],
            "w_0": shown["weakest_0"].map(pct),
            "w_1": shown["weakest_1"].map(pct),
            "trend": shown["weakest_trend"].map(lambda v: "—" if pd.isna(v) else f"{v * 100:+.0f} pt"),
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "name": st.column_config.TextColumn(t("Client manager") if level == "manager" else t("Team")),
            "team": st.column_config.TextColumn(t("Team")),
            "portfolio": st.column_config.NumberColumn(t("Portfolio ({q})", q=q1.period), format="localized"),
            "down_0": st.column_config.TextColumn(t("Downgraded {q}", q=q0.period)),
            "down_1": st.column_config.TextColumn(t("Downgraded {q}", q=q1.period)),
            "score_0": st.column_config.TextColumn(t("QA score {q}", q=q0.period)),
            "score_1": st.column_config.TextColumn(t("QA score {q}", q=q1.period)),
            "change": st.column_config.TextColumn(t("Score change")),
            "weakest": st.column_config.TextColumn(t("Weakest section")),
            "w_0": st.column_config.TextColumn(t("Section {q}", q=q0.period)),
            "w_1": st.column_config.TextColumn(t("Section {q}", q=q1.period)),
            "trend": st.column_config.TextColumn(t("Section trend")),
        },
        key=f"customers.w_table.{level}",
        width="stretch",
    )


# ---------------------------------------------------------------- the chosen view

if view == "gaps":
    gaps_view()
elif view == "warning" and is_sup:
    warning_view()
else:
    find_view()
