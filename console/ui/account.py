"""Own account: change password."""

from __future__ import annotations

import streamlit as st

from console.auth import AuthError, change_password
from console.i18n import t


def change_password_form(user, *, key: str) -> None:  # type: ignore[no-untyped-def]
    from console.ui import session

    with st.form(f"account.{key}.form", clear_on_submit=True):
        old = st.text_input(t("Current password"), type="password", key=f"account.{key}.old")
        new = st.text_input(t("New password"), type="password", key=f"account.{key}.new")
        again = st.text_input(t("Repeat the new password"), type="password", key=f"account.{key}.again")
        submitted = st.form_submit_button(t("Save new password"), type="primary")
    if not submitted:
        return
    if new != again:
        st.error(t("The two new passwords differ."))
        return
    try:
        with session() as s:
            change_password(session=s, actor=user.actor, old_password=old, new_password=new)
    except AuthError as exc:
        st.error(t(str(exc)))
        return
    st.success(t("Password changed."))
    st.toast(t("Password changed."))
    if key == "forced":
        st.rerun()
