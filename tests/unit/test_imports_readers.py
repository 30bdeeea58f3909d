"""Reading import files (issue 8): encodings, XLSX, Excel's leading ', bad input refused as a whole; the value
parsers (yuan -> fen exactly, local time -> UTC, durations, phones, ID numbers); header recognition."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.imports import readers
from console.imports.mapping import normalise_header, resolve
from console.imports.readers import FileRefused, read_path, read_table
from console.imports.validate import (
    RowProblem,
    is_formula,
    parse_amount_fen,
    parse_date,
    parse_duration,
    parse_id_number,
    parse_local_datetime,
    parse_phone,
)
from tests.unit.factories_imports import csv_bytes, xlsx_bytes

ROWS = [["客户编号", "时间", "金额(元)", "流水号"], ["C0000001", "2026-11-03 14:05", "1234.50", "单号-甲"]]


@pytest.mark.parametrize(("encoding", "label"), [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("gbk", "GBK")])
def test_each_csv_encoding_reads_the_same_rows(encoding, label):
    table = read_table(csv_bytes(ROWS, encoding=encoding), file_name="x.csv")
    assert table.encoding == label
    assert table.headers == ROWS[0]
    assert table.rows == [(2, ROWS[1])]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files(delimiter):
    table = read_table(csv_bytes(ROWS, delimiter=delimiter))
    assert table.headers == ROWS[0] and table.rows[0][1] == ROWS[1]


def test_excel_leading_apostrophe_and_spaces_are_stripped():
    table = read_table(b"code,phone\n'C0000001 , '13812345678\n")
    assert table.rows == [(2, ["C0000001", "13812345678"])]


def test_quoted_multiline_values_keep_their_line_numbers():
    table = read_table(b'ref,transcript\nA,"line one\nline two"\nB,x\n')
    assert [line for line, _ in table.rows] == [2, 4]
    assert table.rows[0][1][1] == "line one\nline two"


def test_xlsx_cells_become_the_text_a_csv_would_hold():
    data = xlsx_bytes(
        [
            ["客户编号", "时间", "金额", "流水号", "手机号"],
            ["C0000001", dt.datetime(2026, 11, 3, 14, 5), 1234.5, 20261103001, 13812345678],
            ["C0000002", dt.date(2026, 11, 4), 88, "'P-2", None],
            ["C0000003", dt.datetime(2026, 11, 5, 9, 0), "=SUM(C2:C3)", "P-3", ""],
        ]
    )
    table = read_table(data, file_name="sheet.xlsx")
    assert table.format == "xlsx"
    assert table.rows[0][1] == ["C0000001", "2026-11-03 14:05:00", "1234.5", "20261103001", "13812345678"]
    assert table.rows[1][1][:4] == ["C0000002", "2026-11-04", "88", "P-2"]
    assert table.rows[2][1][2] == "=SUM(C2:C3)"  # read as the formula, so the row is refused, not run


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "x.csv", "empty"),
        (b"  \n\n", "x.csv", "empty"),
        (b"code,name\n", "x.csv", "no rows"),
        (b"\x00\x01\x02binary\x00", "x.csv", "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "x.xls", ".xls"),
        (b"%PDF-1.4 stuff", "x.pdf", "PDF"),
        (b"PK\x03\x04truncated zip", "x.xlsx", "could not be opened"),
        (b'code,name\nC1,"cut off here', "x.csv", "cut off"),
        ("code,name\nC1,李\nC2,王".encode()[:-1], "x.csv", "cut off"),
        (b"code,name,phone\nC1,Wang", "x.csv", "cut off"),
        (b"code|name|phone\nC1|Wang|138\n", "x.csv", "Only one column"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data, name, message):
    with pytest.raises(FileRefused, match=message):
        read_table(data, file_name=name)


def test_a_thousand_columns_are_refused():
    header = ",".join(f"c{i}" for i in range(1000))
    with pytest.raises(FileRefused, match="1,000 columns"):
        read_table(f"{header}\n{','.join('x' * 1000)}\n".encode())


def test_a_cut_off_xlsx_is_refused():
    data = xlsx_bytes([["code"], ["C1"]])
    with pytest.raises(FileRefused):
        read_table(data[: len(data) // 2], file_name="x.xlsx")


def test_too_many_rows_are_refused_with_the_limit(monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 3)
    with pytest.raises(FileRefused, match="at most 3 rows"):
        read_table(b"code,name\n" + b"C,N\n" * 10)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:  # a sparse 2 GB file: refused from its size, never read
        fh.truncate(2 * 1024 * 1024 * 1024)
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(FileRefused, match="2,048.0 MB"):
        read_path(path)


# ------------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.50", 123450),
        ("¥1,234.50", 123450),
        ("￥1，234.5", 123450),
        ("1234.5元", 123450),
        ("0.1", 10),
        ("12000", 1200000),
        ("RMB 99.99", 9999),
        ("0", 0),
    ],
)
def test_amounts_in_yuan_become_exact_fen(text, fen):
    assert parse_amount_fen(text) == fen


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("abc", "bad_amount"),
        ("12.345", "bad_amount"),
        ("1e400", "bad_amount"),
        ("NaN", "bad_amount"),
        ("-5", "negative_amount"),
        ("(5.00)", "negative_amount"),
        ("", "missing_value"),
        ("200000000", "bad_amount"),
    ],
)
def test_bad_amounts(text, status):
    with pytest.raises(RowProblem) as info:
        parse_amount_fen(text)
    assert info.value.status == status


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False))
def test_any_two_decimal_amount_is_exact_in_fen(value):
    assert parse_amount_fen(f"{value:,.2f}") == int(value * 100)
    assert parse_amount_fen(f"¥{value}") == int(value * 100)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-03 14:05",
        "2026-11-03 14:05:00",
        "2026/11/3 14:05",
        "2026.11.03 14:05",
        "2026年11月3日 14时05分",
        "2026年11月3日 14:05",
        "20261103140500",
        "2026-11-03T14:05:00",
        "2026-11-03T06:05:00Z",
        "2026-11-03 14:05:00+08:00",
    ],
)
def test_local_times_become_utc(text):
    at, has_time = parse_local_datetime(text)
    assert at == dt.datetime(2026, 11, 3, 6, 5, tzinfo=dt.UTC)
    assert has_time


def test_a_date_alone_is_local_midnight_or_takes_a_separate_time_column():
    assert parse_local_datetime("2026-11-03")[0] == dt.datetime(2026, 11, 2, 16, 0, tzinfo=dt.UTC)
    assert parse_local_datetime("2026-11-03", "14:05")[0] == dt.datetime(2026, 11, 3, 6, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text", ["11/03/2026", "2026-02-30", "2026-13-01", "yesterday", "1850-01-01", "2026-11-03 25:00"]
)
def test_unknown_date_formats(text):
    with pytest.raises(RowProblem) as info:
        parse_local_datetime(text)
    assert info.value.status == "bad_date"


def test_dates_and_durations():
    assert parse_date("1991/6/23") == dt.date(1991, 6, 23)
    assert parse_date("19910623") == dt.date(1991, 6, 23)
    assert [parse_duration(v) for v in ("", "215", "215.0", "3:35", "0:03:35", "3分35秒", "215s")] == [
        0,
        215,
        215,
        215,
        215,
        215,
        215,
    ]
    with pytest.raises(RowProblem):
        parse_duration("-3")
    with pytest.raises(RowProblem):
        parse_duration("long")


def test_phones_and_id_numbers():
    assert parse_phone("+86 138-1234-5678") == "13812345678"
    assert parse_phone("020-12345678") == "02012345678"
    assert parse_phone("+44 20 7946 0958") == "+442079460958"
    for bad in ("12345", "138123456789", "call me"):
        with pytest.raises(RowProblem):
            parse_phone(bad)
    assert parse_id_number("370681199106239948") == "370681199106239948"
    assert parse_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(RowProblem, match="check digit"):
        parse_id_number("370681199106239940")
    with pytest.raises(RowProblem):
        parse_id_number("ABC")


def test_formulas_are_told_from_numbers_and_phones():
    assert is_formula("=SUM(A1:A3)")
    assert is_formula("@SUM(A1)")
    assert is_formula("+cmd(1)")
    assert is_formula("-A1+B2")
    assert not is_formula("-5")
    assert not is_formula("+86 138 1234 5678")
    assert not is_formula("维护")
    assert not is_formula("")


# ------------------------------------------------------------------------------------------------ headers


def test_chinese_and_english_headers_are_recognised_for_every_kind():
    cases = {
        "customers": (["客户编号", "姓名", "手机号", "身份证号", "地区", "生日"], "code"),
        "purchases": (["会员编号", "交易时间", "金额（元）", "流水号"], "customer_code"),
        "calls": (
            ["参考号", "客户编号", "坐席工号", "通话类型", "开始时间", "时长(秒)", "通话结果", "结果"],
            "caller_code",
        ),
        "contacts": (["客户编号", "工号", "联系方式", "联系时间", "状态"], "kind"),
    }
    for kind, (headers, field) in cases.items():
        resolved = resolve(kind, headers)
        assert resolved.missing == [], (kind, resolved.missing)
        assert field in resolved.columns
    english = resolve("purchases", ["Customer Code", "Purchase Date", "Amount (yuan)", "Order No"])
    assert english.as_headers() == {
        "customer_code": "Customer Code",
        "at": "Purchase Date",
        "amount": "Amount (yuan)",
        "reference": "Order No",
    }
    assert normalise_header("﻿ Amount (yuan) ") == "amount"


def test_separate_date_and_time_columns_are_combined():
    resolved = resolve("purchases", ["客户编号", "时间", "日期", "金额", "流水号"])
    assert resolved.as_headers()["at"] == "日期"
    assert resolved.as_headers()["time_of_day"] == "时间"


def test_picked_and_remembered_mappings_win_over_recognition():
    headers = ["cust", "when", "yuan", "ref", "金额"]
    resolved = resolve(
        "purchases",
        headers,
        remembered={"customer_code": "cust", "at": "when", "reference": "ref"},
        picked={"amount": "yuan"},
    )
    assert resolved.as_headers() == {"customer_code": "cust", "at": "when", "amount": "yuan", "reference": "ref"}
    assert resolved.how == {
        "amount": "picked",
        "customer_code": "remembered",
        "at": "remembered",
        "reference": "remembered",
    }
    assert resolve("purchases", headers, picked={"amount": None}).missing == ["customer_code", "at", "amount"]
