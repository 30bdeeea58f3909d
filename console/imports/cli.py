"""python -m console import customers|purchases|calls|contacts FILE [--apply] [--source NAME] [--map FIELD=COLUMN]

For nightly loads: prints the dry run's statuses (the counts, then every rejected row with its reason; --all
prints every row), and with --apply writes the valid rows as a data_import job run in this process (it shows
in the import history like any other). Exit codes: 0 all rows fine, 1 some rows rejected (the valid ones are
written with --apply), 2 the file or the command was refused and nothing was written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from console.imports.apply import ImportFile, ImportRefused, dry_run, start_import
from console.imports.mapping import FIELDS, KINDS, MappingError
from console.imports.readers import FileRefused, read_path
from console.imports.validate import OK_STATUSES, STATUS_LABELS
from console.permissions import Actor

CLI_ACTOR = Actor(user_id=None, username="cli", role="admin")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("import", help="import customers, purchases, calls or contacts from CSV or XLSX")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", help="a CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file")
    p.add_argument("--apply", action="store_true", help="write the valid rows (without it: a dry run only)")
    p.add_argument("--source", help="the system the file comes from (its column mapping is remembered)")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="use this column of the file for a field, e.g. --map amount=实收金额 (repeatable)",
    )
    p.add_argument("--all", action="store_true", help="print every row's status, not only the rejected ones")


def _picked(kind: str, pairs: list[str]) -> dict[str, str | None]:
    names = {s.name for s in FIELDS[kind]}
    out: dict[str, str | None] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field.strip() not in names:
            raise MappingError(f"--map takes FIELD=COLUMN with FIELD one of: {', '.join(sorted(names))}")
        out[field.strip()] = column.strip() or None
    return out


def main(engine: Engine, args: argparse.Namespace, out: Any = None) -> int:
    out = out or sys.stdout
    path = Path(args.file)
    try:
        data = read_path(path)
        file = ImportFile(name=path.name, data=data)
        picked = _picked(args.kind, args.map)
        with Session(engine) as s:
            dry = dry_run(session=s, actor=CLI_ACTOR, kind=args.kind, file=file, source=args.source, picked=picked)
    except (FileRefused, MappingError, ImportRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path.name}: {dry.description}; {dry.total:,} rows", file=out)
    mapping = ", ".join(f"{k}={v}" for k, v in dry.resolved.as_headers().items())
    print(f"columns: {mapping}", file=out)
    for status, n in dry.counts().items():
        if n:
            print(f"  {STATUS_LABELS[status]}: {n:,}", file=out)
    frame = dry.rows(labels=False)
    for line, status, detail in frame[["line", "status", "detail"]].itertuples(index=False, name=None):
        if args.all or status not in OK_STATUSES:
            print(f"line {line}: {STATUS_LABELS.get(status, status)}" + (f" - {detail}" if detail else ""), file=out)
    code = 1 if dry.rejected else 0
    if not args.apply:
        print(
            f"dry run: {dry.to_write:,} rows would be written, {dry.unchanged:,} are already imported, "
            f"{dry.rejected:,} rejected. Nothing was written (add --apply).",
            file=out,
        )
        return code
    from console.jobs import run_job, worker_name

    try:
        with Session(engine) as s:
            job_id = start_import(
                session=s,
                actor=CLI_ACTOR,
                kind=args.kind,
                file=file,
                source=args.source,
                mapping=dry.mapping(),
                worker=f"cli:{worker_name()}",
            )
            s.commit()
    except (FileRefused, MappingError, ImportRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = run_job(engine, job_id)
    from models import Job

    with Session(engine) as s:
        job = s.get(Job, job_id)
        message = (job.message if job else "") or ""
        error = (job.error if job else "") or ""
    if status != "done":
        print(f"error: import job {job_id} {status}: {error or message}", file=sys.stderr)
        return 2
    print(f"applied (job {job_id}): {message}", file=out)
    return code
