"""Reading an import file into a header and text rows: CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX.

The CSV text is decoded and its cells cleaned by the assignment import's helpers (console.assignment.imports:
decode, clean_cell, the delimiter guess), so both imports accept the same files. XLSX is read with openpyxl in
read-only mode, row by row. Every cell comes back as trimmed text without the leading ' that Excel adds.

Bad input is refused as a whole with a clear message (FileRefused), before anything is written: an empty,
binary or cut-off file, an old .xls, a file over MAX_BYTES (checked before it is read whole), more than
MAX_ROWS rows, more than MAX_COLUMNS columns, a single column (usually the wrong delimiter).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from console.assignment.imports import _delimiter, clean_cell, decode
from console.assignment.rules import Refused
from console.i18n import t

MAX_BYTES = 100 * 1024 * 1024  # 100 MB
MAX_ROWS = 500_000
MAX_COLUMNS = 200

FORMAT_CSV = "csv"
FORMAT_XLSX = "xlsx"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
PDF_MAGIC = b"%PDF"


class FileRefused(ValueError):  # noqa: N818 - the message is what the user reads
    """The file as a whole cannot be imported; the message says why. Nothing was written."""


@dataclass
class Table:
    """A file read as text: the header and (line number, cells) per non-empty data row."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    format: str = FORMAT_CSV
    encoding: str | None = None  # "UTF-8", "UTF-8 with BOM", "GBK" (CSV only)
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    def describe(self) -> str:
        if self.format == FORMAT_XLSX:
            return t("Excel workbook (XLSX), first sheet")
        names = {",": t("comma"), ";": t("semicolon"), "\t": t("tab")}
        return t(
            "CSV, {encoding}, separated by {delimiter}",
            encoding=self.encoding or "UTF-8",
            delimiter=names.get(self.delimiter or ",", self.delimiter or ","),
        )


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:,.0f} KB"


def check_size(size: int) -> None:
    """Refuse a file over the limit from its size alone (before it is read)."""
    if size > MAX_BYTES:
        raise FileRefused(
            t(
                "The file is {size}; at most {limit} can be imported at once. Split it into smaller files.",
                size=_size_text(size),
                limit=_size_text(MAX_BYTES),
            )
        )


def read_path(path: Path) -> bytes:
    """The bytes of a file on disk, refused by its size before it is read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileRefused(t("The file {name} cannot be opened: {error}", name=str(path), error=exc.strerror)) from exc
    check_size(size)
    return path.read_bytes()


def read_table(data: bytes, *, file_name: str = "") -> Table:
    """Read CSV or XLSX bytes into a Table, or refuse the file with the reason."""
    check_size(len(data))
    if not data or not data.strip():
        raise FileRefused(t("The file is empty."))
    if data.startswith(OLE_MAGIC) or file_name.lower().endswith(".xls"):
        raise FileRefused(t("Old Excel files (.xls) are not read: save the sheet as .xlsx or as CSV (UTF-8)."))
    if data.startswith(ZIP_MAGIC) or file_name.lower().endswith(".xlsx"):
        table = _read_xlsx(data)
    elif data.startswith(PDF_MAGIC):
        raise FileRefused(t("This is a PDF, not a table: export the data as CSV or XLSX."))
    else:
        table = _read_csv(data)
    _check_shape(table)
    return table


# ------------------------------------------------------------------------------------------------ CSV


def _encoding_of(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "UTF-8 with BOM"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "GBK"
    return "UTF-8"


def _cut_utf8(data: bytes) -> bool:
    """True when the bytes are UTF-8 except for a character cut off at the very end."""
    for cut in (1, 2, 3):
        if len(data) > cut:
            try:
                data[:-cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            return True
    return False


def _utf8_cut_at_end(data: bytes) -> bool:
    """UTF-8 text (with some non-ASCII before) whose last character was cut off: GBK would misread it."""
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        start = exc.start
    if start < len(data) - 3 or data[start] < 0xC2:
        return False
    head = data[:start]
    return any(b >= 0x80 for b in head) and _cut_utf8(data)


_NEEDS_CLEANING = frozenset(" \t\r\n'\ufeff\u3000\xa0")


def _clean(cell: str) -> str:
    """clean_cell, skipped for the usual cell that has nothing to clean."""
    if cell and cell[0] not in _NEEDS_CLEANING and cell[-1] not in _NEEDS_CLEANING:
        return cell
    return clean_cell(cell)


def _read_csv(data: bytes) -> Table:
    if _utf8_cut_at_end(data):
        raise FileRefused(t("The file ends in the middle of a character: it looks cut off. Export it again."))
    try:
        text = decode(data)
    except Refused as exc:
        if b"\x00" not in data[:65536] and _cut_utf8(data):
            raise FileRefused(
                t("The file ends in the middle of a character: it looks cut off. Export it again.")
            ) from exc
        raise FileRefused(str(exc)) from exc
    encoding = _encoding_of(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for raw in reader:
            if "".join(raw).strip():
                records.append((start, [_clean(cell) for cell in raw]))
                if len(records) > MAX_ROWS + 1:
                    _too_many_rows(None)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise FileRefused(
                t(
                    "The file ends inside a quoted value that starts on line {line}: it looks cut off. Export it again.",
                    line=start,
                )
            ) from exc
        raise FileRefused(t("Line {line} could not be read as CSV: {error}.", line=start, error=str(exc))) from exc
    if not records:
        raise FileRefused(t("The file is empty."))
    table = Table(
        headers=_headers(records[0][1]), rows=records[1:], format=FORMAT_CSV, encoding=encoding, delimiter=delimiter
    )
    if table.rows and not text.endswith(("\n", "\r")) and len(table.rows[-1][1]) < len(table.headers):
        raise FileRefused(
            t(
                "The last line (line {line}) has fewer values than the header and no line end: the file looks cut off. Export it again.",
                line=table.rows[-1][0],
            )
        )
    return table


# ------------------------------------------------------------------------------------------------ XLSX


def xlsx_cell_text(value: Any) -> str:
    """An Excel cell's value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        try:
            return format(Decimal(repr(value)).normalize(), "f")
        except InvalidOperation:
            return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        return str(int(value.total_seconds()))
    if isinstance(value, str):
        return clean_cell(value)
    text = getattr(value, "text", None)  # an array formula object
    return "=" + str(text) if text is not None else clean_cell(str(value))


def _read_xlsx(data: bytes) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise FileRefused(
            t("The Excel file could not be opened (it may be damaged or cut off): save it again as .xlsx or CSV.")
        ) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise FileRefused(t("The file is empty."))
        records: list[tuple[int, list[str]]] = []
        try:
            for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if line == 1 and len(values) > MAX_COLUMNS:
                    _too_many_columns(len(values))
                cells = [xlsx_cell_text(v) for v in values[: MAX_COLUMNS + 1]]
                if any(cells):
                    records.append((line, cells))
                    if len(records) > MAX_ROWS + 1:
                        _too_many_rows(None)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise FileRefused(
                t("The Excel file could not be read to the end (it may be damaged or cut off): save it again.")
            ) from exc
    finally:
        workbook.close()
    if not records:
        raise FileRefused(t("The file is empty."))
    return Table(headers=_headers(records[0][1]), rows=records[1:], format=FORMAT_XLSX)


# ------------------------------------------------------------------------------------------------ shape


def _headers(cells: Iterable[str]) -> list[str]:
    """Header names, trailing empties dropped, repeated names made unique ("amount (2)")."""
    names = [clean_cell(c) for c in cells]
    while names and not names[-1]:
        names.pop()
    seen: dict[str, int] = {}
    out = []
    for name in names:
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 or not name else f"{name} ({seen[key]})")
    return out


def _too_many_rows(rows: int | None) -> None:
    shown = f"{rows:,}" if rows is not None else t("more than {limit}", limit=f"{MAX_ROWS:,}")
    raise FileRefused(
        t(
            "The file has {rows} rows; at most {limit} rows can be imported at once. Split it and import the parts.",
            rows=shown,
            limit=f"{MAX_ROWS:,}",
        )
    )


def _too_many_columns(columns: int) -> None:
    raise FileRefused(
        t(
            "The file has {columns} columns; at most {limit} are read. Is this the right file? Remove the columns you do not import.",
            columns=f"{columns:,}",
            limit=f"{MAX_COLUMNS:,}",
        )
    )


def _check_shape(table: Table) -> None:
    if len(table.headers) > MAX_COLUMNS:
        _too_many_columns(len(table.headers))
    if not table.headers:
        raise FileRefused(t("The first line holds no column names."))
    if len(table.rows) > MAX_ROWS:
        _too_many_rows(len(table.rows))
    if not table.rows:
        raise FileRefused(t("The file has a header but no rows."))
    if len(table.headers) == 1 and table.format == FORMAT_CSV:
        raise FileRefused(
            t(
                "Only one column was found ({header}). Is the file separated by something other than commas, semicolons or tabs? Save it as CSV with commas.",
                header=table.headers[0][:60],
            )
        )
