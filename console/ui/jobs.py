"""Following a job's progress from a page without blocking the script."""

from __future__ import annotations

import streamlit as st

from console.i18n import t
from console.jobs import get_job


def follow_job(job_id: int, *, key: str, every: float = 1.0) -> None:
    """A fragment that re-reads the job row every second until it ends."""

    @st.fragment(run_every=every)
    def _follow() -> None:
        from console.ui import session

        with session() as s:
            job = get_job(s, job_id)
            if job is None:
                return
            status, progress, total, message, error = job.status, job.progress, job.total, job.message, job.error
        label = t("Job {id}: {kind}", id=job_id, kind=job.kind) + f" — {t(status)}"
        if status in ("queued", "running"):
            st.progress(min(1.0, progress / total) if total else 0.0, text=f"{label} · {message or ''}")
        elif status == "done":
            st.success(f"{label} · {message or ''}")
        else:
            st.error(f"{label} · {error or message or ''}")

    _follow()
