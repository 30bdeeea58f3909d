"""AppTest helpers: run the real app.py against a private copy of the seeded small demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo"
DEMO_LOGINS = {
    "admin": "admin",
    "supervisor": "supervisor",
    "lead": "team_lead",
    "manager": "client_manager",
    "agent": "agent",
    "reception": "reception",
    "trainee": "trainee",
}


def new_app(script: str = "app.py") -> AppTest:
    return AppTest.from_file(str(ROOT / script), default_timeout=60)


def login(at: AppTest, username: str, password: str = DEMO_PASSWORD) -> AppTest:
    at.run()
    at.text_input(key="login.username").input(username)
    at.text_input(key="login.password").input(password)
    _submit(at)
    return at


def _submit(at: AppTest) -> None:
    buttons = [b for b in at.button if b.label in ("Log in", "登录")]
    assert buttons, "no Log in button"
    buttons[0].click().run()


def sidebar_pages(at: AppTest) -> list[str]:
    links = []
    for el in at.sidebar:
        if type(el).__name__ in ("PageLink", "UnknownElement") and hasattr(el.proto, "page_script_hash"):
            links.append(el.proto.label)
    return links


def texts(at: AppTest) -> str:
    """Everything the page shows as text, for loose assertions."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts.extend(str(el.value) for el in getattr(at, kind))
    parts.extend(str(m.label) + " " + str(m.value) for m in at.metric)
    return "\n".join(parts)


@pytest.fixture
def app(seeded_url: str) -> AppTest:
    return new_app()
