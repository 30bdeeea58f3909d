"""Dry run, apply as a job, and the import history (issue 8 item 2 and 5).

- dry_run: read the file, resolve the mapping, check every row against the database; nothing is written.
- start_import: queue a `data_import` job (one at a time). The file waits in AppMeta ("import_file:<job id>",
  compressed) so any worker can run it, and is deleted when the job has finished; the Job row stays small.
- the job checks the rows again (the database may have changed since the dry run), writes the valid rows in
  chunks, each committed together with the job's checkpoint, then runs the effects (console.imports.effects).
  A stopped job resumes: the rows it had written are "already imported" the second time, so nothing is
  written twice; the checkpoint keeps the counts of the first pass.
- history: the data_import jobs with who, when, file, counts and status (the Job table, no table of its own).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, func

from console import audit
from console.assignment.exports import to_csv_bytes
from console.audit import command, query
from console.i18n import pick, t
from console.imports.effects import Effects, evaluate_customers
from console.imports.mapping import (
    FIELDS,
    KIND_LABELS,
    MappingError,
    Resolved,
    check_kind,
    clean_source,
    remember,
    remembered_mapping,
    resolve,
)
from console.imports.readers import Table, read_table
from console.imports.validate import (
    OK_STATUSES,
    STATUS_LABELS,
    WRITE_STATUSES,
    Checked,
    Validation,
    display_value,
    validate,
)
from console.jobs import JobContext, enqueue, handler
from console.permissions import Actor
from console.tiers.common import ladder_on
from console.tiers.drill import KIND_LABELS as TIER_KIND_LABELS
from console.timeutil import local_date, utcnow
from models import AppMeta, Call, Contact, Customer, Job, Purchase, User

JOB_KIND = "data_import"
WRITE_CHUNK = 20_000
REJECTS_KEPT = 1000
FILE_KEY = "import_file:"


class ImportRefused(ValueError):  # noqa: N818 - the message is what the user reads
    """An import that cannot start (another one is running, a mapping is incomplete...)."""


@dataclass(frozen=True)
class ImportFile:
    """An uploaded file. Its str() is short, so an audit row names the file without holding it."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def __str__(self) -> str:
        return f"{self.name} ({len(self.data):,} bytes, sha256 {self.sha256[:12]})"

    __repr__ = __str__


# ------------------------------------------------------------------------------------------------ dry run


@dataclass
class Inspection:
    """A file read and its columns matched: what the wizard's mapping step shows."""

    kind: str
    table: Table
    resolved: Resolved
    remembered: bool  # a mapping was remembered for the source

    @property
    def sample(self) -> pd.DataFrame:
        rows = [cells + [""] * (len(self.table.headers) - len(cells)) for _, cells in self.table.rows[:5]]
        return pd.DataFrame([r[: len(self.table.headers)] for r in rows], columns=_unique(self.table.headers))


def _unique(headers: list[str]) -> list[str]:
    return [h or f"({i + 1})" for i, h in enumerate(headers)]


def _inspect(
    session: Session, kind: str, file: ImportFile, source: str | None, picked: dict[str, str | None] | None
) -> Inspection:
    check_kind(kind)
    table = read_table(file.data, file_name=file.name)
    saved = remembered_mapping(session, kind, clean_source(source))
    resolved = resolve(kind, table.headers, remembered=saved, picked=picked)
    return Inspection(kind=kind, table=table, resolved=resolved, remembered=saved is not None)


@query("imports.run")
def inspect_file(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    file: ImportFile,
    source: str | None = None,
    picked: dict[str, str | None] | None = None,
) -> Inspection:
    """Read the file and match its columns (picked by the user, remembered for the source, or recognised)."""
    return _inspect(session, kind, file, source, picked)


@dataclass
class DryRun:
    kind: str
    file_name: str
    source: str | None
    description: str
    resolved: Resolved
    validation: Validation

    @property
    def total(self) -> int:
        return self.validation.total

    def counts(self) -> dict[str, int]:
        return self.validation.counts()

    @property
    def to_write(self) -> int:
        return len(self.validation.to_write)

    @property
    def unchanged(self) -> int:
        return self.counts().get("unchanged", 0)

    @property
    def rejected(self) -> int:
        return self.validation.rejected

    def mapping(self) -> dict[str, str | None]:
        """{field: header or None} for every field: exactly what the apply uses."""
        headers = self.resolved.as_headers()
        return {s.name: headers.get(s.name) for s in FIELDS[self.kind]}

    def rows(self, *, rejected_only: bool = False, labels: bool = True) -> pd.DataFrame:
        return rows_frame(self.validation, rejected_only=rejected_only, labels=labels)

    def rejects_csv(self) -> bytes:
        return to_csv_bytes(self.rows(rejected_only=True))


def rows_frame(validation: Validation, *, rejected_only: bool = False, labels: bool = True) -> pd.DataFrame:
    """line, the mapped fields (numbers masked), status, detail."""
    cols = validation.columns
    out = []
    for row in validation.rows:
        if rejected_only and row.status in OK_STATUSES:
            continue
        item: dict[str, Any] = {"line": row.line}
        for name in cols:
            item[name] = display_value(name, row.values.get(name, ""))
        item["status"] = t(STATUS_LABELS.get(row.status, row.status)) if labels else row.status
        item["detail"] = row.detail
        out.append(item)
    return pd.DataFrame(out, columns=["line", *cols, "status", "detail"])


@query("imports.run")
def dry_run(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    file: ImportFile,
    source: str | None = None,
    picked: dict[str, str | None] | None = None,
    now: dt.datetime | None = None,
) -> DryRun:
    """Every row's status and reason; nothing is written. Refused (FileRefused, MappingError) for a bad file."""
    inspection = _inspect(session, kind, file, source, picked)
    if inspection.resolved.missing:
        raise MappingError(inspection.resolved.missing_message())
    validation = validate(session, inspection.table, inspection.resolved, now=now)
    return DryRun(
        kind=kind,
        file_name=file.name,
        source=clean_source(source),
        description=inspection.table.describe(),
        resolved=inspection.resolved,
        validation=validation,
    )


# ------------------------------------------------------------------------------------------------ start


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def _unpack(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


def running_import(session: Session) -> Job | None:
    return session.scalars(
        select(Job).where(Job.kind == JOB_KIND, Job.status.in_(("queued", "running"))).order_by(Job.id)  # type: ignore[attr-defined,arg-type]
    ).first()


def _drop_stale_files(session: Session) -> None:
    """Files of imports that ended (failed or cancelled) are not kept."""
    keys = session.scalars(select(AppMeta.key).where(AppMeta.key.startswith(FILE_KEY))).all()  # type: ignore[attr-defined]
    for key_text in keys:
        job = session.get(Job, int(key_text[len(FILE_KEY) :]))
        if job is None or job.status in ("done", "failed", "cancelled"):
            session.execute(delete(AppMeta).where(AppMeta.key == key_text))  # type: ignore[arg-type]


@command("imports.apply")
def start_import(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    file: ImportFile,
    source: str | None = None,
    mapping: dict[str, str | None] | None = None,
    remember_mapping: bool = True,
    worker: str | None = None,
) -> int:
    """Queue the import of a file (one import at a time); returns the job id. With a source, the mapping is
    remembered for it. worker: claim the job for this process at once (the command line runs it itself)."""
    check_kind(kind)
    name = clean_source(source)
    running = running_import(session)
    if running is not None:
        raise ImportRefused(t("Another import is queued or running (job {id}): wait for it to finish.", id=running.id))
    inspection = _inspect(session, kind, file, name, mapping)
    if inspection.resolved.missing:
        raise MappingError(inspection.resolved.missing_message())
    fields = inspection.resolved.as_headers()
    full = {s.name: fields.get(s.name) for s in FIELDS[kind]}
    if name and remember_mapping:
        remember(session, kind=kind, source=name, fields=fields, by=actor.username)
    _drop_stale_files(session)
    params = {
        "kind": kind,
        "file_name": file.name[:200],
        "source": name,
        "mapping": full,
        "sha256": file.sha256,
        "size": len(file.data),
        "rows": inspection.table.total,
        "by_user_id": actor.user_id,
        "by": actor.username,
    }
    job = enqueue(session, actor=actor, kind=JOB_KIND, params=params)
    if worker:
        now = utcnow()
        job.status, job.worker, job.started_at, job.heartbeat_at, job.attempts = "running", worker[:120], now, now, 1
        session.add(job)
    session.add(AppMeta(key=f"{FILE_KEY}{job.id}", value=json.dumps(_pack(file.data)), updated_at=utcnow()))
    session.flush()
    audit.note(entity="job", entity_id=job.id, counts={"rows": inspection.table.total})
    return int(job.id)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ the job

Report = Callable[[int, int, str], None]


def _save_checkpoint(session: Session, job_id: int | None, checkpoint: dict[str, Any]) -> None:
    if job_id is None:
        return
    session.execute(
        update(Job)
        .where(Job.id == job_id)  # type: ignore[arg-type]
        .values(checkpoint=json.dumps(checkpoint, default=str), heartbeat_at=utcnow())
    )


def _reject_list(validation: Validation) -> list[dict[str, Any]]:
    out = []
    key_field = validation.columns[0] if validation.columns else None
    for row in validation.rows:
        if row.status in OK_STATUSES:
            continue
        if len(out) >= REJECTS_KEPT:
            break
        out.append(
            {
                "line": row.line,
                "key": display_value(key_field, row.values.get(key_field, "")) if key_field else "",
                "status": row.status,
                "detail": row.detail,
            }
        )
    return out


def run_import(
    engine: Engine,
    *,
    kind: str,
    data: bytes,
    file_name: str,
    mapping: dict[str, str | None],
    job_id: int | None = None,
    checkpoint: dict[str, Any] | None = None,
    report: Report | None = None,
    now: dt.datetime | None = None,
    effects: bool = True,
) -> dict[str, Any]:
    """Check and write an import; returns the result the history shows. Used by the job (and by tests).
    effects=False leaves out the tier evaluation of the touched customers (the benchmark times it apart)."""
    now = now or utcnow()
    say = report or (lambda done, total, message: None)
    say(0, 0, "reading the file")
    table = read_table(data, file_name=file_name)
    resolved = resolve(kind, table.headers, picked=mapping)
    if resolved.missing:
        raise MappingError(resolved.missing_message())
    say(0, table.total, "checking the rows")
    with Session(engine) as s:
        validation = validate(
            s, table, resolved, now=now, tick=lambda done, n: say(done, n, f"checking: {done:,}/{n:,} rows")
        )
    resumed = checkpoint is not None
    if checkpoint is None:
        checkpoint = {
            "counts": validation.counts(),
            "rejected": validation.rejected,
            "rejects": _reject_list(validation),
            "inserted": 0,
            "updated": 0,
            "written_rows": 0,
        }
        with Session(engine) as s:
            _save_checkpoint(s, job_id, checkpoint)
            s.commit()
    todo = validation.to_write
    total = len(todo)
    writer = WRITERS[kind]
    written = 0
    for start in range(0, total, WRITE_CHUNK):
        part = todo[start : start + WRITE_CHUNK]
        with Session(engine) as s:
            inserted, updated = writer(s, part, now)
            checkpoint["inserted"] += inserted
            checkpoint["updated"] += updated
            checkpoint["written_rows"] += len(part)
            _save_checkpoint(s, job_id, checkpoint)
            s.commit()
        written += len(part)
        say(written, total, f"writing: {written:,}/{total:,} rows")
    touched = sorted(
        {
            int(r.customer_id)
            for r in validation.rows
            if r.customer_id is not None and (r.status in WRITE_STATUSES or (resumed and r.status == "unchanged"))
        }
    )
    if kind == "customers":
        touched = sorted(set(touched) | set(_ids_of_codes(engine, [r for r in todo if r.status == "ok"])))
    done_effects = Effects()
    if effects and kind in ("customers", "purchases") and touched:
        say(0, len(touched), "tier evaluation of the touched customers")
        done_effects = evaluate_customers(
            engine,
            touched,
            now=now,
            progress=lambda done, n: say(done, n, f"tier evaluation: {done:,}/{n:,} customers"),
        )
    counts = checkpoint["counts"]
    result = {
        "kind": kind,
        "file_name": file_name,
        "rows": table.total,
        "counts": counts,
        "inserted": checkpoint["inserted"],
        "updated": checkpoint["updated"],
        "unchanged": int(counts.get("unchanged", 0)),
        "rejected": int(checkpoint["rejected"]),
        "rejects": checkpoint["rejects"],
        "touched_customers": len(touched),
        "effects": done_effects.as_dict(),
    }
    result["message"] = result_message(result)
    return result


def result_message(result: dict[str, Any]) -> str:
    effects = result.get("effects") or {}
    parts = [
        f"{result.get('rows', 0):,} rows",
        f"{result.get('inserted', 0):,} added",
        f"{result.get('updated', 0):,} updated",
        f"{result.get('unchanged', 0):,} already imported",
        f"{result.get('rejected', 0):,} rejected",
    ]
    if effects.get("upgrades"):
        parts.append(f"{effects['upgrades']:,} tier upgrades")
    if effects.get("new_vips"):
        parts.append(f"{effects['new_vips']:,} new VIPs waiting for a manager")
    return "; ".join(parts)


def result_text(result: dict[str, Any]) -> str:
    """An import's result in the user's language (the job's own message is English, for logs)."""
    effects = result.get("effects") or {}
    text = t(
        "{rows} rows: {added} added, {updated} updated, {unchanged} already imported, {rejected} rejected.",
        rows=f"{result.get('rows', 0):,}",
        added=f"{result.get('inserted', 0):,}",
        updated=f"{result.get('updated', 0):,}",
        unchanged=f"{result.get('unchanged', 0):,}",
        rejected=f"{result.get('rejected', 0):,}",
    )
    if effects.get("upgrades"):
        text += " " + t("Tier upgrades: {count}.", count=f"{effects['upgrades']:,}")
    if effects.get("new_vips"):
        text += " " + t(
            "New VIPs waiting for a manager (binding SLA started): {count}.", count=f"{effects['new_vips']:,}"
        )
    return text


@query("imports.read")
def import_result(*, session: Session, actor: Actor, job_id: int) -> dict[str, Any]:
    """status, the result (empty while running), the error of a failed import."""
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        raise ImportRefused(t("No import with job id {id}.", id=job_id))
    return {"status": job.status, "result": _loads(job.result), "error": job.error}


def _ids_of_codes(engine: Engine, rows: list[Checked]) -> list[int]:
    codes = [r.record["code"] for r in rows if r.record and "code" in r.record]
    if not codes:
        return []
    out: list[int] = []
    with Session(engine) as s:
        for start in range(0, len(codes), 2000):
            part = codes[start : start + 2000]
            out.extend(int(i) for i in s.execute(select(Customer.id).where(Customer.code.in_(part))).scalars())  # type: ignore[attr-defined]
    return out


@handler(JOB_KIND, action="imports.apply")
def _run_job(ctx: JobContext) -> dict[str, Any]:
    params = ctx.params
    key = f"{FILE_KEY}{ctx.job_id}"
    with Session(ctx.engine) as s:
        row = s.get(AppMeta, key)
        if row is None:
            raise ImportRefused("the file of this import is no longer stored; start the import again")
        data = _unpack(json.loads(row.value))
    result = run_import(
        ctx.engine,
        kind=params["kind"],
        data=data,
        file_name=params.get("file_name", ""),
        mapping=params["mapping"],
        job_id=ctx.job_id,
        checkpoint=ctx.checkpoint,
        report=ctx.progress,
    )
    result["source"] = params.get("source")
    with Session(ctx.engine) as s:
        s.execute(delete(AppMeta).where(AppMeta.key == key))  # type: ignore[arg-type]
        s.commit()
    return result


# ------------------------------------------------------------------------------------------------ writers


def _driver_value(value: Any, sqlite: bool) -> Any:
    """A value as the database driver takes it: UTC times naive (as text on SQLite, as SQLAlchemy stores them)."""
    if isinstance(value, dt.datetime):
        tz = value.tzinfo
        naive = value if tz is None else (value if tz is dt.UTC else value.astimezone(dt.UTC)).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds") if sqlite else naive
    if sqlite and isinstance(value, dt.date):
        return value.isoformat()
    if sqlite and isinstance(value, bool):
        return int(value)
    return value


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany at the driver level: SQLAlchemy's per-row processing would cost as much as the insert."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    sqlite = dialect.name == "sqlite"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in cols)}) "
        f"VALUES ({', '.join([marker] * len(cols))})"
    )
    # Convert only the columns that need it (times, dates, booleans), judged from the first row that has a value.
    special = []
    for i, c in enumerate(cols):
        sample = next((r[c] for r in rows if r.get(c) is not None), None)
        if isinstance(sample, (dt.datetime, dt.date, bool)):
            special.append(i)
    if special:
        params = []
        for r in rows:
            values = [r.get(c) for c in cols]
            for i in special:
                values[i] = _driver_value(values[i], sqlite)
            params.append(tuple(values))
    else:
        params = [tuple(r.get(c) for c in cols) for r in rows]
    conn.exec_driver_sql(sql, params)


def _write_customers(session: Session, rows: list[Checked], now: dt.datetime) -> tuple[int, int]:
    table = Customer.__table__  # type: ignore[attr-defined]
    new = [r.record for r in rows if r.status == "ok" and r.record]
    if new:
        base = {
            "phone": None,
            "id_number": None,
            "region": None,
            "birthday": None,
            "dietary": None,
            "hometown": None,
            "notes": None,
            "tier_rank": 0,
            "tier_since": now,
            "vip_since": None,
            "override_rank": None,
            "override_reason": None,
            "override_until": None,
            "override_by": None,
            "supreme": False,
            "manager_id": None,
            "assigned_at": None,
            "binding_due": None,
            "waiting_since": None,
            "assignment_version": 0,
            "is_training": False,
            "created_at": now,
        }
        insert_rows(session, table, [{**base, **rec} for rec in new])
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        if r.status != "update" or not r.record:
            continue
        cols = tuple(sorted(k for k in r.record if k != "id"))
        shapes.setdefault(cols, []).append({"b_id": r.record["id"], **{f"b_{c}": r.record[c] for c in cols}})
    updated = 0
    for cols, items in shapes.items():
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in cols})
            .execution_options(synchronize_session=False)
        )
        session.execute(stmt, items)
        updated += len(items)
    return len(new), updated


def _write_purchases(session: Session, rows: list[Checked], now: dt.datetime) -> tuple[int, int]:
    records = [r.record for r in rows if r.record]
    insert_rows(session, Purchase.__table__, records)  # type: ignore[attr-defined]
    return len(records), 0


def _write_calls(session: Session, rows: list[Checked], now: dt.datetime) -> tuple[int, int]:
    records = [r.record for r in rows if r.record]
    if not records:
        return 0, 0
    insert_rows(session, Call.__table__, records)  # type: ignore[attr-defined]
    c = Call.__table__  # type: ignore[attr-defined]
    ids: dict[str, int] = {}
    refs = [rec["reference"] for rec in records]
    for start in range(0, len(refs), 2000):
        part = refs[start : start + 2000]
        ids.update(
            {ref: int(i) for i, ref in session.execute(select(c.c.id, c.c.reference).where(c.c.reference.in_(part)))}
        )
    contacts = [
        {
            "customer_id": rec["customer_id"],
            "staff_id": rec["caller_id"],
            "kind": "call",
            "at": rec["started_at"],
            "outcome": rec["outcome"],
            "stream": rec["stream"],
            "call_id": ids[rec["reference"]],
        }
        for rec in records
    ]
    insert_rows(session, Contact.__table__, contacts)  # type: ignore[attr-defined]
    return len(records), 0


def _write_contacts(session: Session, rows: list[Checked], now: dt.datetime) -> tuple[int, int]:
    records = [r.record for r in rows if r.record]
    insert_rows(session, Contact.__table__, records)  # type: ignore[attr-defined]
    return len(records), 0


WRITERS: dict[str, Callable[[Session, list[Checked], dt.datetime], tuple[int, int]]] = {
    "customers": _write_customers,
    "purchases": _write_purchases,
    "calls": _write_calls,
    "contacts": _write_contacts,
}


# ------------------------------------------------------------------------------------------------ history


@dataclass
class History:
    rows: pd.DataFrame
    total: int


HISTORY_COLUMNS = [
    "job_id",
    "created_at",
    "by",
    "kind",
    "file_name",
    "source",
    "status",
    "rows",
    "added",
    "updated",
    "unchanged",
    "rejected",
    "message",
]


@query("imports.read")
def import_history(*, session: Session, actor: Actor, offset: int = 0, limit: int = 50) -> History:
    """The data imports, newest first: who, when, file, source, rows added / updated / already there / rejected."""
    total = int(session.execute(select(func.count()).select_from(Job).where(Job.kind == JOB_KIND)).scalar_one())  # type: ignore[arg-type]
    if limit <= 0:
        return History(rows=pd.DataFrame(columns=HISTORY_COLUMNS), total=total)
    stmt = (
        select(
            Job.id,
            Job.created_at,
            Job.status,
            Job.params,
            Job.result,
            Job.message,
            Job.error,
            User.username,
        )
        .select_from(Job)
        .outerjoin(User, User.id == Job.created_by)  # type: ignore[arg-type]
        .where(Job.kind == JOB_KIND)  # type: ignore[arg-type]
        .order_by(Job.id.desc())  # type: ignore[union-attr]
        .offset(offset)
        .limit(limit)
    )
    out = []
    for job_id, created_at, status, params_text, result_text, message, error, username in session.execute(stmt):
        params = _loads(params_text)
        result = _loads(result_text)
        out.append(
            {
                "job_id": int(job_id),
                "created_at": created_at,
                "by": username or params.get("by") or "",
                "kind": params.get("kind", ""),
                "file_name": params.get("file_name", ""),
                "source": params.get("source") or "",
                "status": status,
                "rows": result.get("rows", params.get("rows")),
                "added": result.get("inserted"),
                "updated": result.get("updated"),
                "unchanged": result.get("unchanged"),
                "rejected": result.get("rejected"),
                "message": error if status == "failed" and error else message,
            }
        )
    return History(rows=pd.DataFrame(out, columns=HISTORY_COLUMNS), total=total)


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@query("imports.read")
def import_rejects(*, session: Session, actor: Actor, job_id: int) -> pd.DataFrame:
    """The rejected rows a finished import kept (the first REJECTS_KEPT), with their reasons."""
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        raise ImportRefused(t("No import with job id {id}.", id=job_id))
    rejects = _loads(job.result).get("rejects") or []
    frame = pd.DataFrame(rejects, columns=["line", "key", "status", "detail"])
    frame["status"] = frame["status"].map(lambda v: t(STATUS_LABELS.get(v, v)))
    return frame


@query("imports.read")
def import_tier_changes(*, session: Session, actor: Actor, job_id: int) -> pd.DataFrame:
    """The tier changes an import caused (code, name, from, to), as its job recorded them."""
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        raise ImportRefused(t("No import with job id {id}.", id=job_id))
    changes = (_loads(job.result).get("effects") or {}).get("changes") or []
    columns = ["code", "name", "from_tier", "to_tier", "kind"]
    if not changes:
        return pd.DataFrame(columns=columns)
    ids = [int(c["customer_id"]) for c in changes]
    people = {
        int(row.id): row
        for row in session.execute(select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(ids)))  # type: ignore[attr-defined]
    }
    names = {rule.rank: pick(rule, "name") for rule in ladder_on(session, local_date(job.finished_at or utcnow()))}
    rows = []
    for change in changes:
        person = people.get(int(change["customer_id"]))
        if person is None:
            continue
        rows.append(
            {
                "code": person.code,
                "name": person.name,
                "from_tier": names.get(change["from_rank"], str(change["from_rank"])),
                "to_tier": names.get(change["to_rank"], str(change["to_rank"])),
                "kind": t(TIER_KIND_LABELS.get(change["kind"], change["kind"])),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def kind_label(kind: str) -> str:
    return t(KIND_LABELS.get(kind, kind))
