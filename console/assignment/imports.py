"""CSV import of assignments (SPEC §3): `vip_code, manager_code[, reason]`, at most 50,000 rows.

The dry run gives every row a status; applying writes the valid rows as one batch in one transaction
(refused, like any preview, if a VIP changed since the dry run); the rejects download as a CSV with the
reason. UTF-8, UTF-8 with BOM and GBK are read; a leading ' that Excel adds is stripped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import false, func, select
from sqlmodel import Session

from console.assignment.exports import to_csv_bytes
from console.assignment.rules import (
    IMPORT_REASONS,
    Move,
    Plan,
    Refused,
    level_allows,
)
from console.assignment.rules import (
    STATUS_LABELS as MANAGER_STATUS_LABELS,
)
from console.assignment.services import Applied, _apply_moves, _check_plan, _chunks, load_ladder, load_managers
from console.audit import command, query
from console.i18n import t
from console.permissions import Actor
from console.timeutil import today_local, utcnow
from models import Customer

MAX_ROWS = 50_000
REQUIRED = ("vip_code", "manager_code")
OPTIONAL = ("reason",)
OK_STATUSES = ("ok", "ok_case")
STATUS_LABELS: dict[str, str] = {
    "ok": "ok",
    "ok_case": "ok (code case normalised)",
    "unknown_vip": "unknown VIP",
    "unknown_manager": "unknown manager",
    "manager_unavailable": "manager not available",
    "not_allowed": "tier not allowed for the level",
    "over_capacity": "over capacity",
    "duplicate": "duplicate in file",
    "unknown_reason": "unknown reason",
    "unchanged": "already with this manager",
}
COLUMNS = ["row", "vip_code", "manager_code", "reason", "status", "detail"]


@dataclass
class DryRun:
    rows: pd.DataFrame
    moves: list[Move] = field(default_factory=list)
    previewed_at: dt.datetime | None = None

    @property
    def total(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.rows["status"].value_counts().items()} if self.total else {}

    @property
    def ok_count(self) -> int:
        return len(self.moves)

    def rejects(self) -> pd.DataFrame:
        return self.rows[~self.rows["status"].isin(OK_STATUSES)].reset_index(drop=True)

    def rejects_csv(self) -> bytes:
        rejects = self.rejects().copy()
        rejects["status"] = rejects["status"].map(lambda s: t(STATUS_LABELS.get(s, s)))
        return to_csv_bytes(rejects)

    def plan(self) -> Plan:
        return Plan(kind="import", moves=list(self.moves), previewed_at=self.previewed_at)


# ------------------------------------------------------------------------------------------------ reading the file


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GBK text; anything else is refused with a clear message."""
    if not data or not data.strip():
        raise Refused(t("The file is empty."))
    if b"\x00" in data[:65536]:
        raise Refused(t("This is not a CSV text file (it contains binary data). Save it as CSV (UTF-8) and try again."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gbk")
    except UnicodeDecodeError as exc:
        raise Refused(t("The file is neither UTF-8 nor GBK text. Save it as CSV (UTF-8) and try again.")) from exc


def clean_cell(value: str | None) -> str:
    """Whitespace trimmed and the leading ' that Excel adds to keep text as text stripped."""
    text = (value or "").strip().lstrip("\ufeff")
    if text.startswith("'"):
        text = text[1:].strip()
    return text


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def parse(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) per data row; refuses a bad file with the reason."""
    text = decode(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    try:
        reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first))
        raw = list(reader)
    except csv.Error as exc:
        raise Refused(t("The file could not be read as CSV: {error}.", error=str(exc))) from exc
    records = [(i + 1, row) for i, row in enumerate(raw) if any(cell.strip() for cell in row)]
    if not records:
        raise Refused(t("The file is empty."))
    header_line, header = records[0]
    names = [clean_cell(h).lower().replace(" ", "_") for h in header]
    missing = [col for col in REQUIRED if col not in names]
    if missing:
        raise Refused(
            t(
                "Missing columns: {columns}. The first line must name the columns vip_code, manager_code and, optionally, reason.",
                columns=", ".join(missing),
            )
        )
    data_rows = records[1:]
    if len(data_rows) > MAX_ROWS:
        raise Refused(
            t(
                "The file has {rows} rows; at most {limit} rows can be imported at once. Split it and import the parts.",
                rows=f"{len(data_rows):,}",
                limit=f"{MAX_ROWS:,}",
            )
        )
    if not data_rows:
        raise Refused(t("The file has a header but no rows."))
    index = {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    out: list[tuple[int, dict[str, str]]] = []
    for line_no, row in data_rows:
        values = {name: clean_cell(row[pos]) if pos < len(row) else "" for name, pos in index.items()}
        out.append((line_no, values))
    del header_line
    return out


# ------------------------------------------------------------------------------------------------ dry run


def _lookup_vips(session: Session, codes: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(exact code -> row, upper-cased code -> row) for the codes in the file."""
    c = Customer.__table__
    cols = (c.c.id, c.c.code, c.c.tier_rank, c.c.manager_id, c.c.assignment_version)
    exact: dict[str, Any] = {}
    wanted = sorted({code for code in codes if code})
    for chunk in _chunks(wanted):  # type: ignore[arg-type]
        for row in session.execute(select(*cols).where(c.c.code.in_(chunk), c.c.is_training == false())).all():
            exact[row.code] = row
    upper: dict[str, Any] = {}
    rest = sorted({code.upper() for code in wanted if code not in exact})
    for chunk in _chunks(rest):  # type: ignore[arg-type]
        for row in session.execute(
            select(*cols).where(func.upper(c.c.code).in_(chunk), c.c.is_training == false())
        ).all():
            upper[row.code.upper()] = row
    return exact, upper


@query("assignment.import")
def import_dry_run(*, session: Session, actor: Actor, data: bytes, today: dt.date | None = None) -> DryRun:
    """Every row's status, checked in file order (capacity cumulatively, as if the rows above were applied)."""
    today = today or today_local()
    parsed = parse(data)
    ladder = load_ladder(session, today)
    managers = load_managers(session, ladder, today)
    by_code = {m.code: m for m in managers.values()}
    by_upper = {m.code.upper(): m for m in managers.values()}
    exact, upper = _lookup_vips(session, [vals.get("vip_code", "") for _, vals in parsed])

    occurrences: dict[str, list[int]] = defaultdict(list)
    for line_no, vals in parsed:
        if vals.get("vip_code"):
            occurrences[vals["vip_code"].upper()].append(line_no)
    dup_keys = {key for key, lines in occurrences.items() if len(lines) > 1}

    loads = {m.id: m.load for m in managers.values()}
    out_rows: list[dict[str, Any]] = []
    moves: list[Move] = []
    for line_no, vals in parsed:
        vip_code, mgr_code = vals.get("vip_code", ""), vals.get("manager_code", "")
        reason = vals.get("reason", "") or "import"
        status, detail = "ok", ""
        key = vip_code.upper()
        vip = exact.get(vip_code) or upper.get(key)
        manager = by_code.get(mgr_code) or by_upper.get(mgr_code.upper())
        if vip_code and key in dup_keys:
            others = [str(n) for n in occurrences[key] if n != line_no]
            status, detail = "duplicate", t("Also on lines {lines}.", lines=", ".join(others))
        elif reason not in IMPORT_REASONS:
            status = "unknown_reason"
            detail = t("Use one of: {reasons}.", reasons=", ".join(IMPORT_REASONS))
        elif vip is None:
            status, detail = (
                "unknown_vip",
                (t("No VIP with code {code}.", code=vip_code) if vip_code else t("No VIP code.")),
            )
        elif manager is None:
            status = "unknown_manager"
            detail = t("No client manager with code {code}.", code=mgr_code) if mgr_code else t("No manager code.")
        elif int(vip.tier_rank) <= 0:
            status, detail = (
                "not_allowed",
                t("{code} is a Member: Members are not assigned to managers.", code=vip.code),
            )
        elif manager.status != "active":
            status, detail = "manager_unavailable", t(MANAGER_STATUS_LABELS[manager.status])
        elif not level_allows(manager.level, int(vip.tier_rank), ladder):
            status = "not_allowed"
            detail = t(
                "{level} managers may not hold {tier}.",
                level=t(manager.level or "none"),
                tier=ladder.name(int(vip.tier_rank)),
            )
        elif vip.manager_id == manager.id:
            status, detail = "unchanged", t("{code} is already with this manager.", code=vip.code)
        else:
            units = ladder.units(int(vip.tier_rank))
            if loads[manager.id] + units > manager.capacity:
                status = "over_capacity"
                detail = t(
                    "{manager} would be at {load} of {capacity} units",
                    manager=manager.code,
                    load=loads[manager.id] + units,
                    capacity=manager.capacity,
                )
            else:
                loads[manager.id] += units
                if vip.manager_id is not None and vip.manager_id in loads:
                    loads[vip.manager_id] -= units
                if vip.code != vip_code or manager.code != mgr_code:
                    status = "ok_case"
                    detail = t("Read as {vip} → {manager}.", vip=vip.code, manager=manager.code)
                moves.append(
                    Move(
                        int(vip.id),
                        vip.code,
                        int(vip.tier_rank),
                        units,
                        vip.manager_id,
                        manager.id,
                        int(vip.assignment_version),
                        reason,
                    )
                )
        out_rows.append(
            {
                "row": line_no,
                "vip_code": vip_code,
                "manager_code": mgr_code,
                "reason": vals.get("reason", ""),
                "status": status,
                "detail": detail,
            }
        )
    frame = pd.DataFrame(out_rows, columns=COLUMNS)
    return DryRun(rows=frame, moves=moves, previewed_at=utcnow())


def status_counts(dry: DryRun) -> dict[str, int]:
    counts = Counter(dry.rows["status"]) if dry.total else Counter()
    return {status: int(counts.get(status, 0)) for status in STATUS_LABELS}


@command("assignment.import")
def apply_import(*, session: Session, actor: Actor, plan: Plan, today: dt.date | None = None) -> Applied:
    """Write the dry run's valid rows as one batch (reason from the file, `import` by default)."""
    _check_plan(plan, "import")
    return _apply_moves(
        session, actor, kind="import", moves=plan.moves, today=today or today_local(), note=t("CSV import")
    )
