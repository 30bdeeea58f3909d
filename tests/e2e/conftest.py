"""Browser tests: a real `streamlit run` on a copy of the seeded demo database, driven by
Playwright in Debian's Chromium (/usr/bin/chromium; Playwright cannot download browsers here)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CONSOLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_path: Path, log_path: Path) -> None:
        self.db_path = db_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CONSOLE_DATABASE_URL": f"sqlite:///{db_path}",
            "CONSOLE_INPROCESS_WORKER": "1",
            "STREAMLIT_SERVER_PORT": str(self.port),
            "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
            "STREAMLIT_SERVER_HEADLESS": "true",
            "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_healthy(log_path)

    def _wait_healthy(self, log_path: Path) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy in 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _start(seeded_template: Path, tmp: Path) -> Server:
    db = tmp / "e2e.db"
    shutil.copyfile(seeded_template, db)
    return Server(db, tmp / "streamlit.log")


@pytest.fixture(scope="session")
def server(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = _start(seeded_template, tmp_path_factory.mktemp("e2e"))
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(seeded_template: Path, tmp_path: Path) -> Iterator[Server]:
    """A server that has never run app.py: deep links hit the legacy pages/ folder directly."""
    srv = _start(seeded_template, tmp_path)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs Debian's chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):  # type: ignore[no-untyped-def]
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}, "locale": "en-US"}


def wait_idle(page, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') !== 'running'",
        timeout=timeout,
    )


def log_in(page, base_url: str, username: str, password: str = "demo") -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    heading = page.get_by_role("heading", name=re.compile("^(Welcome|欢迎)"))
    heading.wait_for(timeout=30_000)
    if heading.inner_text().startswith("欢迎"):  # a saved language from an earlier test: back to English
        page.locator(".st-key-sidebar-lang").get_by_role("combobox").click()
        page.get_by_role("option", name="English").click()
        page.get_by_role("heading", name=re.compile("^Welcome")).wait_for(timeout=30_000)
