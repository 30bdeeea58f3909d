"""The few Streamlit helpers shared by pages: engine, login guard, sidebar, paging, formatting."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from console import i18n
from console.auth import SESSION_IDLE_LIMIT, actor_for, authenticate
from console.db import DatabaseConfigError, database_url, get_engine
from console.i18n import role_label, t
from console.meta import demo_mode, demo_password
from console.permissions import Actor, PermissionDenied
from console.timeutil import local_datetime, utcnow
from models import Staff, User

DEMO_USERS = ("admin", "supervisor", "lead", "manager", "agent", "reception", "trainee")
DEMO_MAX_FAILURES = 5
DEMO_LOCKOUT_SECONDS = 15 * 60

# Session keys
K_USER = "auth.user_id"
K_LAST = "auth.last_activity"
K_EXPIRED = "auth.expired"
K_FAILS = "auth.demo_failures"
K_LANG = "ctx.lang"
K_NEXT = "auth.next"  # the page and query parameters asked for before logging in


@dataclass(frozen=True)
class CurrentUser:
    actor: Actor
    name: str
    must_change_password: bool


@st.cache_resource(show_spinner=False)
def _engine_and_worker(url: str) -> Engine:
    engine = get_engine(url)
    if os.environ.get("CONSOLE_INPROCESS_WORKER", "1") != "0":
        from console.jobs import start_background_worker

        start_background_worker(engine)
    return engine


def engine() -> Engine:
    try:
        return _engine_and_worker(database_url())
    except DatabaseConfigError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable; st.stop raises


@contextmanager
def session() -> Iterator[Session]:
    """One Session per unit of work inside a rerun; commits on success."""
    s = Session(engine(), expire_on_commit=False)
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


def apply_language() -> str:
    lang = st.session_state.get(K_LANG, i18n.DEFAULT_LANGUAGE)
    i18n.set_language(lang)
    return lang


def _current_user() -> CurrentUser | None:
    user_id = st.session_state.get(K_USER)
    if user_id is None:
        return None
    last = st.session_state.get(K_LAST)
    now = time.time()
    if last is not None and now - last > SESSION_IDLE_LIMIT.total_seconds():
        _logout(expired=True)
        return None
    with session() as s:
        user = s.get(User, user_id)
        if user is None or not user.active:
            _logout()
            return None
        staff = s.get(Staff, user.staff_id) if user.staff_id else None
        current = CurrentUser(
            actor=actor_for(s, user),
            name=staff.name if staff else user.username,
            must_change_password=user.must_change_password,
        )
    st.session_state[K_LAST] = now
    return current


def _logout(*, expired: bool = False) -> None:
    for key in (K_USER, K_LAST):
        st.session_state.pop(key, None)
    st.session_state[K_EXPIRED] = expired


def _demo_locked_for() -> int:
    fails: list[float] = [f for f in st.session_state.get(K_FAILS, []) if time.time() - f < DEMO_LOCKOUT_SECONDS]
    st.session_state[K_FAILS] = fails
    if len(fails) >= DEMO_MAX_FAILURES:
        return int((DEMO_LOCKOUT_SECONDS - (time.time() - fails[-DEMO_MAX_FAILURES])) // 60) + 1
    return 0


def login_form() -> None:
    """The login form: Username, Password, Log in. Demo logins listed only in demo mode."""
    st.title(t("VIP Operations Console"))
    st.caption(t("Member Value Department"))
    if st.session_state.pop(K_EXPIRED, False):
        st.warning(t("Your session ended after 30 minutes without activity. Please log in again."))
    with session() as s:
        is_demo = demo_mode(s)
    left, right = st.columns([3, 2], gap="large")
    with left:
        with st.form("login.form", clear_on_submit=False):
            username = st.text_input(t("Username"), key="login.username")
            password = st.text_input(t("Password"), type="password", key="login.password")
            submitted = st.form_submit_button(t("Log in"), type="primary")
        if submitted:
            _attempt_login(username, password, is_demo)
        st.caption(t("Login stays for this browser tab only: a refresh asks you to log in again."))
    with right:
        if is_demo:
            st.subheader(t("Demo accounts"))
            st.write(t("Demo mode: every account below uses the password {password}.", password=f"`{demo_password()}`"))
            st.table({t("Username"): list(DEMO_USERS), t("Role"): [role_label(r) for r in _demo_roles()]})
        _language_selector("login.lang")


def _demo_roles() -> list[str]:
    return ["admin", "supervisor", "team_lead", "client_manager", "agent", "reception", "trainee"]


def _attempt_login(username: str, password: str, is_demo: bool) -> None:
    if not username or not password:
        st.error(t("Enter a username and a password."))
        return
    if is_demo:
        minutes = _demo_locked_for()
        if minutes:
            st.error(t("Too many failed attempts in this browser: try again in {minutes} minutes.", minutes=minutes))
            return
    with session() as s:
        result = authenticate(s, username, password, count_failures=not is_demo)
    if not result.ok:
        if is_demo:
            st.session_state.setdefault(K_FAILS, []).append(time.time())
        if result.message.startswith("Too many"):
            minutes = "".join(ch for ch in result.message if ch.isdigit()) or "15"
            st.error(t("Too many failed attempts: try again in {minutes} minutes.", minutes=minutes))
        else:
            st.error(t("Invalid username or password."))
        return
    st.session_state[K_USER] = result.user_id
    st.session_state[K_LAST] = time.time()
    st.session_state[K_FAILS] = []
    with session() as s:
        user = s.get(User, result.user_id)
        if user is not None and K_LANG not in st.session_state:
            st.session_state[K_LANG] = user.language
    st.rerun()


def _language_changed(key: str) -> None:
    choice = st.session_state.get(key)
    if choice not in i18n.LANGUAGES:
        return
    st.session_state[K_LANG] = choice
    i18n.set_language(choice)
    user_id = st.session_state.get(K_USER)
    if user_id is not None:
        with session() as s:
            user = s.get(User, user_id)
            if user is not None:
                user.language = choice
                s.add(user)


def _language_selector(key: str) -> None:
    current = st.session_state.get(K_LANG, i18n.DEFAULT_LANGUAGE)
    options = list(i18n.LANGUAGES)
    st.session_state[key] = current  # the widget always shows the language in force
    st.selectbox(
        "Language / 语言",
        options,
        format_func=lambda c: i18n.LANGUAGES[c],
        key=key,
        on_change=_language_changed,
        args=(key,),
    )


def require_login() -> CurrentUser:
    """Return the logged-in user, or draw the login form and stop the script."""
    apply_language()
    user = _current_user()
    if user is None:
        _remember_requested_page()
        login_form()
        st.stop()
    assert user is not None
    if user.must_change_password:
        from console.ui.account import change_password_form

        st.title(t("Change password"))
        st.info(t("An administrator reset your password: choose a new one to continue."))
        change_password_form(user, key="forced")
        st.stop()
    return user


def _remember_requested_page() -> None:
    """Keep the URL's page and query parameters (e.g. /customers?customer=C1) for after the login."""
    if K_NEXT in st.session_state:
        return
    try:
        path = urlparse(st.context.url or "").path.strip("/").split("/")[-1]
    except Exception:  # noqa: BLE001 - no URL (AppTest): nothing to remember
        path = ""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    if path or params:
        st.session_state[K_NEXT] = (path, params)


def take_requested_page() -> tuple[str, dict[str, list[str]]] | None:
    """The page asked for before logging in, once."""
    return st.session_state.pop(K_NEXT, None)


def guard(roles: tuple[str, ...] | frozenset[str] | None = None, *, page: str | None = None) -> CurrentUser:
    """Every page starts with this: login first, then the role check."""
    user = require_login()
    if page is not None:
        from console.permissions import PAGES

        roles = PAGES.get(page, roles)
    if roles is not None and user.actor.role not in roles:
        st.error(t("You do not have access to this page."))
        st.stop()
    return user


def sidebar(user: CurrentUser) -> None:
    with st.sidebar:
        st.caption(t("Signed in as {name} ({role})", name=user.name, role=role_label(user.actor.role)))
        _language_selector("sidebar.lang")
        with st.expander(t("Change password"), icon=":material/key:"):
            from console.ui.account import change_password_form

            change_password_form(user, key="sidebar")
        st.button(t("Log out"), key="sidebar.logout", icon=":material/logout:", on_click=_logout)


def logout_and_rerun() -> None:
    _logout()
    st.rerun()


def fmt_local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else local_datetime(value).strftime(fmt)


def fmt_money_fen(fen: int | None) -> str:
    return "" if fen is None else f"¥{fen / 100:,.2f}"


def show_error(exc: BaseException) -> None:
    """A clear message for an expected failure (validation, permission, busy database)."""
    if isinstance(exc, OperationalError):
        st.error(t("The database is busy or unreachable. Please try again in a moment."))
    elif isinstance(exc, (PermissionDenied, ValueError)):
        st.error(t(str(exc)))
    else:
        st.error(t("Something went wrong: {error}", error=str(exc)))


def pager(total: int, *, key: str, page_size: int = 50) -> tuple[int, int]:
    """A page selector; returns (offset, limit)."""
    pages = max(1, (total + page_size - 1) // page_size)
    page = 1
    if pages > 1:
        page = int(st.number_input(t("Page"), min_value=1, max_value=pages, value=1, step=1, key=key))
    start = (page - 1) * page_size
    st.caption(
        t("Rows {start}–{end} of {total}", start=min(total, start + 1), end=min(total, start + page_size), total=total)
    )
    return start, page_size


def now_utc() -> dt.datetime:
    return utcnow()


def any_option(values: list[Any]) -> list[Any]:
    return [None, *values]
