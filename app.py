"""Entrypoint: page config, login, and the role-filtered navigation."""

import streamlit as st

from console.i18n import t
from console.permissions import pages_for
from console.ui import apply_language, require_login, sidebar, take_requested_page

st.set_page_config(page_title="VIP Operations Console", page_icon=":material/diamond:", layout="wide")
apply_language()
user = require_login()

# Pages in menu order: (key, script, English title, icon). A page appears only when its issue has landed.
PAGE_DEFS = [
    ("home", "Home", ":material/home:"),
    ("customers", "Customers", ":material/person_search:"),
    ("assignment", "Assignment", ":material/assignment_ind:"),
    ("tiers", "Tiers", ":material/workspace_premium:"),
    ("call_qa", "Call QA", ":material/headset_mic:"),
    ("agent_kpis", "Agent KPIs", ":material/leaderboard:"),
    ("reception", "Reception", ":material/concierge:"),
    ("admin", "Admin", ":material/admin_panel_settings:"),
]
allowed = set(pages_for(user.actor.role))
pages = [
    st.Page(f"pages/{key}.py", title=t(title), icon=icon, url_path=key.replace("_", "-"), default=(key == "home"))
    for key, title, icon in PAGE_DEFS
    if key in allowed
]
current = st.navigation(pages, position="hidden")
requested = take_requested_page()  # a link opened before logging in: go there now
if requested:
    path, params = requested
    target = next((p for p in pages if p.url_path == path), None)
    if target is not None and (target.url_path != current.url_path or params):
        st.switch_page(target, query_params=params)
with st.sidebar:
    st.markdown(f"**{t('VIP Operations Console')}**")
    for page in pages:
        st.page_link(page, label=page.title, icon=page.icon)
    st.divider()
sidebar(user)
current.run()
