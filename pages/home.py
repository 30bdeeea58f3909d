"""Home: the figures that matter to the logged-in role, each linking to its page."""

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="home")

import altair as alt
import pandas as pd
import streamlit as st

from console.home import extra_tiles, home_figures
from console.i18n import pick, t
from console.permissions import pages_for
from console.timeutil import today_local
from console.ui import fmt_local, guard, session

today = today_local()
with session() as s:
    figures = home_figures(session=s, actor=user.actor, today=today)
    tiles = extra_tiles(session=s, actor=user.actor, today=today)

st.title(t("Welcome, {name}", name=user.name))
if figures.demo_age_days is not None and figures.demo_age_days > 7:
    st.warning(
        t(
            "The demo data is {days} days old: an administrator can reset it in Admin to re-anchor it to today.",
            days=figures.demo_age_days,
        )
    )

allowed = set(pages_for(user.actor.role))
portfolio = figures.scope == "portfolio"


def link(col, page: str) -> None:  # type: ignore[no-untyped-def]
    """A tile links to its page where the role may open it (and the page has landed)."""
    if page in allowed:
        col.page_link(f"pages/{page}.py", label=t("Open"), icon=":material/arrow_forward:")


cols = st.columns(4)
cols[0].metric(t("VIPs"), f"{figures.vip_total:,}", border=True)
link(cols[0], "customers" if "customers" in allowed else "tiers")
if not portfolio:
    cols[1].metric(t("Unassigned VIPs"), f"{figures.unassigned_vips:,}", border=True)
    link(cols[1], "assignment")
cols[2].metric(
    t("My upcoming visits (7 days)") if portfolio else t("Upcoming visits (7 days)"),
    f"{len(figures.upcoming_visits):,}",
    border=True,
)
link(cols[2], "reception")
if figures.demo_age_days is not None:
    cols[3].metric(t("Demo data age"), t("{days} days", days=figures.demo_age_days), border=True)
    link(cols[3], "admin")

if tiles:
    for start in range(0, len(tiles), 4):
        row = st.columns(4)
        for col, tile in zip(row, tiles[start : start + 4], strict=False):
            col.metric(t(tile.label), tile.value, help=t(tile.help) if tile.help else None, border=True)
            if tile.page:
                link(col, tile.page)

st.subheader(t("My portfolio by tier") if portfolio else t("VIPs by tier"))
total = sum(tc.count for tc in figures.tiers) or 1
if not any(tc.count for tc in figures.tiers):
    st.info(t("No customers yet. Import data or seed the demo data."))
else:
    df = pd.DataFrame(
        [
            {"rank": tc.rank, "tier": pick(tc, "name"), "count": tc.count, "share": tc.count / total, "color": tc.color}
            for tc in figures.tiers
        ]
    )
    left, right = st.columns([3, 2])
    with left:
        chart = (
            alt.Chart(df)
            .mark_bar()
            .encode(
                x=alt.X("tier:N", sort=list(df["tier"]), title=t("Tier"), axis=alt.Axis(labelAngle=0)),
                y=alt.Y("count:Q", title=t("Customers in tier")),
                color=alt.Color(
                    "tier:N", scale=alt.Scale(domain=list(df["tier"]), range=list(df["color"])), legend=None
                ),
                tooltip=[alt.Tooltip("tier:N", title=t("Tier")), alt.Tooltip("count:Q", format=",", title=t("VIPs"))],
            )
            .properties(height=260)
        )
        st.altair_chart(chart, width="stretch")
    with right:
        st.dataframe(
            df[["tier", "count", "share"]],
            hide_index=True,
            column_config={
                "tier": st.column_config.TextColumn(t("Tier")),
                "count": st.column_config.NumberColumn(t("Customers in tier"), format="localized"),
                "share": st.column_config.ProgressColumn(t("Share"), format="percent", min_value=0, max_value=1),
            },
            key="home.tiers",
        )

st.subheader(t("Upcoming visits"))
if not figures.upcoming_visits:
    st.info(t("No visits in the next 7 days."))
else:
    visits = pd.DataFrame(
        [
            {
                "guest": v.guest,
                "level": f"L{v.level}",
                "arrival": fmt_local(v.arrival_at),
                "host": v.host or "",
                "location": v.location,
                "status": t(v.status),
            }
            for v in figures.upcoming_visits
        ]
    )
    st.dataframe(
        visits,
        hide_index=True,
        column_config={
            "guest": t("Guest"),
            "level": t("Level"),
            "arrival": t("Arrival"),
            "host": t("Host"),
            "location": t("Location"),
            "status": t("Status"),
        },
        key="home.visits",
    )
if figures.demo_as_of:
    st.caption(t("Demo data anchored to {as_of}.", as_of=figures.demo_as_of))
