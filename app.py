"""Entrypoint: page config, login, and the role-filtered navigation."""

import streamlit as st

from console.i18n import t
from console.permissions import pages_for
from console.ui import apply_language, require_login, sidebar

st.set_page_config(page_title="VIP Operations Console", page_icon=":material/diamond:", layout="wide")
apply_language()
user = require_login()

# Pages in menu order: (key, script, English title, icon). A page appears only when its issue has landed.
PAGE_DEFS = [
    ("home", "pages/home.py", "Home", ":material/home:"),
    ("admin", "pages/admin.py", "Admin", ":material/admin_panel_settings:"),
]
allowed = set(pages_for(user.actor.role))
pages = [
    st.Page(script, title=t(title), icon=icon, url_path=key, default=(key == "home"))
    for key, script, title, icon in PAGE_DEFS
    if key in allowed
]
current = st.navigation(pages, position="hidden")
with st.sidebar:
    st.markdown(f"**{t('VIP Operations Console')}**")
    for page in pages:
        st.page_link(page, label=page.title, icon=page.icon)
    st.divider()
sidebar(user)
current.run()
