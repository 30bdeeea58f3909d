"""The Imports area (issue 8 item 5), drawn inside a page: the wizard, the import history, the source mappings.

render_imports(user) is called from the Admin page's "Imports" tab (and, for supervisors, from wherever the
lead wires it). The wizard: 1 pick what to import and the file, 2 check the columns, 3 dry run (every row's
status, rejects to download), 4 apply as a job and follow it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from console.assignment.exports import CSV_MIME, to_csv_bytes
from console.i18n import t
from console.imports import (
    KINDS,
    FileRefused,
    ImportFile,
    ImportRefused,
    MappingError,
    dry_run,
    forget_mapping,
    import_history,
    import_rejects,
    import_tier_changes,
    inspect_file,
    list_mappings,
    start_import,
)
from console.imports.apply import DryRun, Inspection, import_result, kind_label, result_text
from console.imports.mapping import FIELDS, KIND_LABELS
from console.imports.readers import MAX_BYTES, MAX_ROWS, check_size
from console.imports.validate import STATUS_LABELS
from console.jobs import get_job
from console.permissions import Actor, PermissionDenied, allowed
from console.ui import CurrentUser, pager, session, show_error

VIEWS = ("New import", "History", "Source mappings")
HOW_LABELS = {"picked": "picked by you", "remembered": "remembered for the source", "recognised": "recognised"}
ROWS_SHOWN = 50
EXPECTED = {
    "customers": "customer code, name, phone, ID number, region, birthday, dietary, hometown, notes",
    "purchases": "customer code, date and time, amount in yuan, reference",
    "calls": "reference, customer code, caller code, stream, type, start, duration, outcome, result, recording, transcript",
    "contacts": "customer code, staff code, kind (call, sms, visit), time, outcome",
}


def render_imports(user: CurrentUser, *, key: str = "imports") -> None:
    """The whole Imports area for an admin or a supervisor."""
    if not allowed(user.actor.role, "imports.run"):
        st.error(t("You do not have access to this page."))
        return
    view = st.segmented_control(
        t("Imports"),
        VIEWS,
        default=VIEWS[0],
        format_func=t,
        key=f"{key}.view",
        label_visibility="collapsed",
    )
    try:
        if view == "History":
            _history(user, key)
        elif view == "Source mappings":
            _mappings(user, key)
        else:
            _wizard(user, key)
    except PermissionDenied as exc:
        show_error(exc)


# ------------------------------------------------------------------------------------------------ wizard


def _file_of(upload: Any) -> ImportFile:
    return ImportFile(name=upload.name, data=upload.getvalue())


def _wizard(user: CurrentUser, key: str) -> None:
    actor = user.actor
    _follow(actor, key)
    st.caption(
        t(
            "Customers, purchases, calls and contacts from CSV (UTF-8, UTF-8 with BOM or GBK) or Excel (.xlsx), at most {rows} rows and {size} MB. Column names in English or Chinese are recognised; others you map once per source.",
            rows=f"{MAX_ROWS:,}",
            size=MAX_BYTES // 1024 // 1024,
        )
    )
    c1, c2 = st.columns(2)
    kind = c1.selectbox(t("What to import"), KINDS, format_func=kind_label, key=f"{key}.kind")
    source = c2.text_input(
        t("Source (optional)"),
        key=f"{key}.source",
        placeholder=t("e.g. crm, billing, dialer, sms"),
        help=t("The system the file comes from: the column mapping is remembered for it."),
    )
    st.caption(t("Expected columns: {columns}.", columns=t(EXPECTED[kind])))
    generation = int(st.session_state.get(f"{key}.generation", 0))  # a new uploader after each apply
    upload = st.file_uploader(
        t("File"),
        type=["csv", "txt", "xlsx"],
        key=f"{key}.file" if generation == 0 else f"{key}.file.{generation}",
        max_upload_size=MAX_BYTES // 1024 // 1024,
    )
    if upload is None:
        st.session_state.pop(f"{key}.dry", None)
        st.info(t("Choose a file to import."))
        return
    try:
        check_size(int(upload.size))
    except FileRefused as exc:
        show_error(exc)
        return
    file = _file_of(upload)
    ident = hashlib.sha256(
        f"{getattr(upload, 'file_id', '')}|{upload.name}|{upload.size}|{kind}|{source}".encode()
    ).hexdigest()[:16]
    cached = st.session_state.get(f"{key}.inspection")
    if cached is not None and cached[0] == ident:
        inspection = cached[1]
    else:
        try:
            with session() as s:
                inspection = inspect_file(session=s, actor=actor, kind=kind, file=file, source=source or None)
        except (FileRefused, MappingError, ImportRefused) as exc:
            st.session_state.pop(f"{key}.dry", None)
            st.session_state.pop(f"{key}.inspection", None)
            show_error(exc)
            return
        st.session_state[f"{key}.inspection"] = (ident, inspection)
    picked = _mapping_step(inspection, key, ident)
    dry: DryRun | None = st.session_state.get(f"{key}.dry")
    if dry is not None and st.session_state.get(f"{key}.dry_ident") != (ident, tuple(sorted(picked.items(), key=str))):
        dry = None  # the file, kind, source or mapping changed since: check again
        st.session_state.pop(f"{key}.dry", None)
    if st.button(t("Dry run"), key=f"{key}.dry_run", icon=":material/fact_check:", type="secondary"):
        try:
            with st.spinner(t("Checking every row…")), session() as s:
                dry = dry_run(session=s, actor=actor, kind=kind, file=file, source=source or None, picked=picked)
            st.session_state[f"{key}.dry"] = dry
            st.session_state[f"{key}.dry_ident"] = (ident, tuple(sorted(picked.items(), key=str)))
        except (FileRefused, MappingError, ImportRefused) as exc:
            dry = None
            show_error(exc)
    if dry is None:
        return
    _dry_run_view(dry, key)
    _apply_step(user, dry, file, key)


def _mapping_step(inspection: Inspection, key: str, ident: str) -> dict[str, str | None]:
    table = inspection.table
    resolved = inspection.resolved
    st.caption(t("Read as {description}: {rows} rows.", description=table.describe(), rows=f"{table.total:,}"))
    with st.expander(t("First rows of the file"), expanded=False):
        st.dataframe(inspection.sample, hide_index=True, key=f"{key}.sample")
    st.subheader(t("Columns"))
    if inspection.remembered:
        st.caption(t("A mapping is remembered for this source and used where the file has those columns."))
    headers = [h for h in table.headers if h]
    options: list[str | None] = [None, *headers]
    picked: dict[str, str | None] = {}
    current = resolved.as_headers()
    specs = FIELDS[resolved.kind]
    cols = st.columns(3)
    for i, spec in enumerate(specs):
        default = current.get(spec.name)
        label = t(spec.label) + (" *" if spec.required else "")
        how = resolved.how.get(spec.name)
        choice = cols[i % 3].selectbox(
            label,
            options,
            index=options.index(default) if default in options else 0,
            format_func=lambda v: t("(not imported)") if v is None else v,
            key=f"{key}.map.{ident}.{spec.name}",
            help=t(HOW_LABELS[how]) if how else None,
        )
        picked[spec.name] = choice
    missing = [t(s.label) for s in specs if s.required and not picked.get(s.name)]
    if missing:
        st.warning(t("Pick a column for: {fields}.", fields=", ".join(missing)))
    unused = [h for h in headers if h not in set(picked.values())]
    if unused:
        st.caption(t("Columns not imported: {columns}.", columns=", ".join(unused[:30])))
    return picked


def _dry_run_view(dry: DryRun, key: str) -> None:
    st.subheader(t("Dry run"))
    st.caption(t("Nothing has been written yet."))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("Rows"), f"{dry.total:,}", border=True)
    m2.metric(t("To write"), f"{dry.to_write:,}", border=True)
    m3.metric(t("Already imported"), f"{dry.unchanged:,}", border=True)
    m4.metric(t("Rejected"), f"{dry.rejected:,}", border=True)
    counts = pd.DataFrame(
        [{"status": t(STATUS_LABELS[k]), "rows": v} for k, v in dry.counts().items() if v],
        columns=["status", "rows"],
    )
    st.dataframe(counts, hide_index=True, column_config={"status": t("Status"), "rows": t("Rows")}, key=f"{key}.counts")
    only_rejected = st.toggle(t("Only rejected rows"), value=dry.rejected > 0, key=f"{key}.only_rejected")
    rows = dry.rows(rejected_only=only_rejected)
    offset, limit = pager(len(rows), key=f"{key}.rows_page.{int(only_rejected)}", page_size=ROWS_SHOWN)
    config: dict[str, Any] = {"line": t("Line"), "status": t("Status"), "detail": t("Detail")}
    for spec in FIELDS[dry.kind]:
        config[spec.name] = t(spec.label)
    st.dataframe(rows.iloc[offset : offset + limit], hide_index=True, column_config=config, key=f"{key}.rows")
    if dry.rejected:
        st.download_button(
            t("Download the rejected rows (CSV)"),
            dry.rejects_csv(),
            file_name=f"{dry.kind}_import_rejects.csv",
            mime=CSV_MIME,
            key=f"{key}.rejects",
            on_click="ignore",
            icon=":material/download:",
        )


def _apply_step(user: CurrentUser, dry: DryRun, file: ImportFile, key: str) -> None:
    flag = f"{key}.confirming"
    remember = False
    if dry.source:
        remember = st.checkbox(
            t("Remember this column mapping for {source}", source=dry.source), value=True, key=f"{key}.remember"
        )
    busy = bool(st.session_state.get(f"{key}.job"))
    if st.button(
        t("Apply: write {count} rows", count=f"{dry.to_write:,}"),
        type="primary",
        key=f"{key}.apply",
        disabled=busy or dry.to_write == 0,
        icon=":material/play_arrow:",
    ):
        st.session_state[flag] = True

    def dismissed() -> None:
        st.session_state[flag] = False

    @st.dialog(t("Apply this import?"), on_dismiss=dismissed)
    def dialog() -> None:
        st.write(
            t(
                "{kind}: {count} rows will be written in chunks by a background job; {unchanged} are already imported and {rejected} rejected rows are left out.",
                kind=kind_label(dry.kind),
                count=f"{dry.to_write:,}",
                unchanged=f"{dry.unchanged:,}",
                rejected=f"{dry.rejected:,}",
            )
        )
        st.caption(
            t(
                "Afterwards the touched customers' tiers are evaluated (upgrades only; downgrades wait for the quarterly review)."
            )
        )
        c1, c2 = st.columns(2)
        if c1.button(t("Apply"), type="primary", key=f"{key}.confirm"):
            st.session_state[flag] = False
            try:
                with session() as s:
                    job_id = start_import(
                        session=s,
                        actor=user.actor,
                        kind=dry.kind,
                        file=file,
                        source=dry.source,
                        mapping=dry.mapping(),
                        remember_mapping=remember,
                    )
                st.session_state[f"{key}.job"] = job_id
                for name in ("dry", "dry_ident", "inspection"):
                    st.session_state.pop(f"{key}.{name}", None)  # the wizard starts afresh
                st.session_state[f"{key}.generation"] = int(st.session_state.get(f"{key}.generation", 0)) + 1
                st.rerun()
            except (FileRefused, MappingError, ImportRefused, PermissionDenied) as exc:
                show_error(exc)
        if c2.button(t("Cancel"), key=f"{key}.cancel"):
            st.rerun()

    if st.session_state.get(flag):
        dialog()


def _follow(actor: Actor, key: str) -> None:
    """The running import's progress; when it has ended, its result and the tier changes it caused."""
    job_id = st.session_state.get(f"{key}.job")
    if not job_id:
        return
    with session() as s:
        job = get_job(s, int(job_id))
        if job is None:
            st.session_state.pop(f"{key}.job", None)
            return
        status, message, error = job.status, job.message, job.error
    if status in ("queued", "running"):
        _poll(int(job_id))
        return
    label = t("Job {id}: {kind}", id=job_id, kind=t("Imports")) + f" — {t(status)}"
    if status == "done":
        with session() as s:
            outcome = import_result(session=s, actor=actor, job_id=int(job_id))
        st.success(f"{label} · {result_text(outcome['result'])}")
        with session() as s:
            changes = import_tier_changes(session=s, actor=actor, job_id=int(job_id))
        if not changes.empty:
            st.subheader(t("Tier changes from this import"))
            st.dataframe(
                changes,
                hide_index=True,
                column_config={
                    "code": t("Customer code"),
                    "name": t("Name"),
                    "from_tier": t("From"),
                    "to_tier": t("To"),
                    "kind": t("Kind"),
                },
                key=f"{key}.tier_changes",
            )
    else:
        st.error(f"{label} · {error or message or ''}")
    if st.button(t("Close"), key=f"{key}.close"):
        st.session_state.pop(f"{key}.job", None)
        st.rerun()


@st.fragment(run_every=1.0)
def _poll(job_id: int) -> None:
    """Re-read the job every second; the whole area is redrawn once it has ended."""
    with session() as s:
        job = get_job(s, job_id)
        if job is None or job.status not in ("queued", "running"):
            st.rerun(scope="app")
            return
        progress, total, message, status = job.progress, job.total, job.message, job.status
    label = t("Job {id}: {kind}", id=job_id, kind=t("Imports")) + f" — {t(status)}"
    st.progress(min(1.0, progress / total) if total else 0.0, text=f"{label} · {message or ''}")


# ------------------------------------------------------------------------------------------------ history


def _history(user: CurrentUser, key: str) -> None:
    with session() as s:
        total = import_history(session=s, actor=user.actor, limit=0).total
    if total == 0:
        st.info(t("No imports yet."))
        return
    offset, limit = pager(total, key=f"{key}.history_page")
    with session() as s:
        page = import_history(session=s, actor=user.actor, offset=offset, limit=limit)
    rows = page.rows.copy()
    rows["kind"] = rows["kind"].map(kind_label)
    rows["status"] = rows["status"].map(t)
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "job_id": st.column_config.NumberColumn(t("Job"), format="%d"),
            "created_at": st.column_config.DatetimeColumn(
                t("When"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
            ),
            "by": t("By"),
            "kind": t("What"),
            "file_name": t("File"),
            "source": t("Source"),
            "status": t("Status"),
            "rows": st.column_config.NumberColumn(t("Rows"), format="localized"),
            "added": st.column_config.NumberColumn(t("Added"), format="localized"),
            "updated": st.column_config.NumberColumn(t("Updated"), format="localized"),
            "unchanged": st.column_config.NumberColumn(t("Already imported"), format="localized"),
            "rejected": st.column_config.NumberColumn(t("Rejected"), format="localized"),
            "message": t("Message"),
        },
        key=f"{key}.history",
    )
    with_rejects = [int(r.job_id) for r in page.rows.itertuples() if (r.rejected or 0) > 0]
    if with_rejects:
        job_id = st.selectbox(
            t("Rejected rows of import"),
            with_rejects,
            format_func=lambda j: t("Job {id}", id=j),
            key=f"{key}.history_job",
        )
        with session() as s:
            rejects = import_rejects(session=s, actor=user.actor, job_id=int(job_id))
        st.download_button(
            t("Download the rejected rows (CSV)"),
            to_csv_bytes(rejects),
            file_name=f"import_{job_id}_rejects.csv",
            mime=CSV_MIME,
            key=f"{key}.history_rejects",
            on_click="ignore",
            icon=":material/download:",
        )


# ------------------------------------------------------------------------------------------------ mappings


def _mappings(user: CurrentUser, key: str) -> None:
    with session() as s:
        items = list_mappings(session=s, actor=user.actor)
    st.caption(t("A mapping is remembered when you apply an import with a source name."))
    if not items:
        st.info(t("No remembered mappings yet."))
        return
    frame = pd.DataFrame(
        [
            {
                "kind": t(KIND_LABELS.get(m["kind"], m["kind"])),
                "source": m["source"],
                "columns": ", ".join(f"{field} ← {header}" for field, header in m["fields"].items()),
                "by": m["by"] or "",
                "updated_at": m["updated_at"],
            }
            for m in items
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "kind": t("What"),
            "source": t("Source"),
            "columns": t("Columns"),
            "by": t("By"),
            "updated_at": st.column_config.DatetimeColumn(
                t("Saved"), format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
            ),
        },
        key=f"{key}.mappings",
    )
    choices = [(m["kind"], m["source"]) for m in items]
    pick = st.selectbox(
        t("Mapping"),
        choices,
        format_func=lambda c: f"{t(KIND_LABELS.get(c[0], c[0]))} · {c[1]}",
        key=f"{key}.mapping_pick",
    )
    if st.button(t("Forget this mapping"), key=f"{key}.forget", icon=":material/delete:"):
        try:
            with session() as s:
                forget_mapping(session=s, actor=user.actor, kind=pick[0], source=pick[1])
            st.toast(t("Mapping forgotten."))
            st.rerun()
        except (MappingError, PermissionDenied) as exc:
            show_error(exc)
