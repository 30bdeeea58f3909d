"""Exports of any list (SPEC §3): CSV in UTF-8 with BOM (Excel opens it with the right characters) and
XLSX. Text cells beginning with =, +, - or @ that are not numbers or phone numbers get a leading ' so a
spreadsheet shows them as text instead of running them as formulas.

Reusable by every page: `to_csv_bytes(df)`, `to_xlsx_bytes(df)`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_PHONE = re.compile(r"^\+?[\d\s\-()]{6,}$")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_number_text(text: str) -> bool:
    return bool(_NUMBER.match(text.strip()))


def is_phone_text(text: str) -> bool:
    stripped = text.strip()
    return bool(_PHONE.match(stripped)) and sum(ch.isdigit() for ch in stripped) >= 7


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should store it: risky text prefixed with '."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_PREFIXES) and not is_number_text(value) and not is_phone_text(value):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame, *, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy with every text cell made safe; optionally with columns renamed (for human headers)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    if columns:
        out = out.rename(columns=dict(columns))
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def _plain_times(df: pd.DataFrame) -> pd.DataFrame:
    """Timezone-aware datetimes as naive local (Asia/Shanghai) times: XLSX has no time zones."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return out


def to_csv_bytes(df: pd.DataFrame, *, columns: Mapping[str, str] | None = None) -> bytes:
    """CSV, UTF-8 with BOM, formula-safe."""
    frame = safe_frame(_plain_times(df), columns=columns)
    return frame.to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, *, sheet_name: str = "Export", columns: Mapping[str, str] | None = None) -> bytes:
    """XLSX (openpyxl), formula-safe: no cell is ever written as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    frame = safe_frame(_plain_times(df), columns=columns)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name[:31] or "Export"
    ws.append([str(c) for c in frame.columns])
    for record in frame.itertuples(index=False, name=None):
        row = []
        for value in record:
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                row.append(None)
            elif isinstance(value, pd.Timestamp):
                row.append(value.to_pydatetime())
            elif hasattr(value, "item") and not isinstance(value, str):
                row.append(value.item())  # numpy scalar -> Python
            else:
                row.append(value)
        ws.append(row)
    # openpyxl treats any string starting with "=" as a formula: force text type on every string cell.
    for cells in ws.iter_rows(min_row=1):
        for cell in cells:
            if isinstance(cell.value, str) and cell.data_type != TYPE_STRING:
                cell.data_type = TYPE_STRING
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
