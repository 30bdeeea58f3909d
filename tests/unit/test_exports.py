"""Exports: CSV in UTF-8 with BOM and XLSX, with text cells that could run as formulas made safe."""

import datetime as dt
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from console.assignment.exports import safe_cell, to_csv_bytes, to_xlsx_bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.5", "-12.5"),  # a number
        ("+3", "+3"),
        ("1e5", "1e5"),
        ("+86 138 1234 5678", "+86 138 1234 5678"),  # a phone number
        ("-", "'-"),
        ("王小明", "王小明"),
        ("a=b", "a=b"),
        ("", ""),
        (42, 42),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


FRAME = pd.DataFrame(
    {
        "code": ["V001", "=2*3"],
        "name": ["王小明", "@evil"],
        "load": [12, -3],
        "phone": ["138****5678", "+86 138 0000 1111"],
        "at": pd.to_datetime([dt.datetime(2026, 11, 25, 2, 0), dt.datetime(2026, 11, 25, 16, 30)], utc=True),
    }
)


def test_csv_has_a_bom_and_safe_cells():
    data = to_csv_bytes(FRAME, columns={"code": "VIP code"})
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "VIP code,name,load,phone,at"
    assert lines[1] == "V001,王小明,12,138****5678,2026-11-25 10:00:00"  # local time
    assert lines[2].startswith("'=2*3,'@evil,-3,+86 138 0000 1111,")


def test_xlsx_never_writes_a_formula():
    data = to_xlsx_bytes(FRAME, sheet_name="VIPs")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["VIPs"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["code", "name", "load", "phone", "at"]
    assert rows[1][:4] == ["V001", "王小明", 12, "138****5678"]
    assert rows[2][:4] == ["'=2*3", "'@evil", -3, "+86 138 0000 1111"]
    assert rows[1][4] == dt.datetime(2026, 11, 25, 10, 0)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_empty_frame_exports():
    empty = pd.DataFrame(columns=["a", "b"])
    assert to_csv_bytes(empty).decode("utf-8-sig").strip() == "a,b"
    wb = load_workbook(io.BytesIO(to_xlsx_bytes(empty)))
    assert [c.value for c in next(wb.active.iter_rows())] == ["a", "b"]
