"""Pure reception rules: due times, relative due text, staffing, evidence checks, level filter, translations."""

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.checklists import compute_due
from console.i18n import set_language
from console.locale import ZH
from console.reception import ReceptionError, Staffing, relative_due, validate_staffing
from console.reception.runs import applies_to_level, check_upload, sniff_mime
from console.timeutil import local_datetime, local_to_utc

ROOT = Path(__file__).resolve().parents[2]
ARRIVAL = local_to_utc(dt.date(2026, 11, 26), dt.time(9, 0))  # 09:00 Shanghai
DEPARTURE = local_to_utc(dt.date(2026, 11, 28), dt.time(15, 30))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"0" * 100
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("en")


# ---------------------------------------------------------------- due times


def test_offset_before_arrival():
    assert compute_due("offset", "arrival", -1440, ARRIVAL, DEPARTURE) == ARRIVAL - dt.timedelta(days=1)
    assert compute_due("offset", "arrival", -30, ARRIVAL, DEPARTURE) == ARRIVAL - dt.timedelta(minutes=30)


def test_offset_after_departure_is_anchored_on_departure():
    due = compute_due("offset", "departure", 240, ARRIVAL, DEPARTURE)
    assert due == DEPARTURE + dt.timedelta(hours=4)
    assert local_datetime(due).strftime("%Y-%m-%d %H:%M") == "2026-11-28 19:30"
    assert compute_due("offset", "departure", -1440, ARRIVAL, DEPARTURE) == DEPARTURE - dt.timedelta(days=1)


def test_offset_across_midnight_lands_on_the_previous_local_day():
    early = local_to_utc(dt.date(2026, 11, 26), dt.time(1, 0))  # 01:00 Shanghai = 17:00 UTC the day before
    due = compute_due("offset", "arrival", -120, early, early + dt.timedelta(hours=5))
    assert local_datetime(due).strftime("%Y-%m-%d %H:%M") == "2026-11-25 23:00"
    evening = local_to_utc(dt.date(2026, 11, 26), dt.time(22, 0))
    after = compute_due("offset", "departure", 180, evening - dt.timedelta(hours=4), evening)
    assert local_datetime(after).strftime("%Y-%m-%d %H:%M") == "2026-11-27 01:00"


def test_per_shift_and_during_stay_are_due_at_arrival_optional_has_none():
    assert compute_due("per_shift", None, None, ARRIVAL, DEPARTURE) == ARRIVAL
    assert compute_due("during_stay", None, None, ARRIVAL, DEPARTURE) == ARRIVAL
    assert compute_due("optional", None, None, ARRIVAL, DEPARTURE) is None


def test_bad_timing_is_refused():
    with pytest.raises(ValueError):
        compute_due("offset", None, -10, ARRIVAL, DEPARTURE)
    with pytest.raises(ValueError):
        compute_due("offset", "arrival", None, ARRIVAL, DEPARTURE)
    with pytest.raises(ValueError):
        compute_due("weekly", None, None, ARRIVAL, DEPARTURE)


@given(st.integers(min_value=-60 * 24 * 60, max_value=60 * 24 * 60), st.integers(min_value=1, max_value=60 * 24 * 14))
def test_moving_a_visit_moves_offset_items_by_the_same_amount(offset, stay_minutes):
    departure = ARRIVAL + dt.timedelta(minutes=stay_minutes)
    shift = dt.timedelta(hours=7)
    for anchor in ("arrival", "departure"):
        before = compute_due("offset", anchor, offset, ARRIVAL, departure)
        after = compute_due("offset", anchor, offset, ARRIVAL + shift, departure + shift)
        assert after - before == shift


# ---------------------------------------------------------------- relative due


NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(hours=2, minutes=5), "in 2 h"),
        (dt.timedelta(minutes=-30), "overdue 30 min"),
        (dt.timedelta(minutes=59, seconds=59), "in 59 min"),
        (dt.timedelta(seconds=20), "due now"),
        (dt.timedelta(seconds=-50), "due now"),
        (dt.timedelta(hours=-47), "overdue 47 h"),
        (dt.timedelta(days=3, hours=5), "in 3 d"),
        (dt.timedelta(days=-2), "overdue 2 d"),
    ],
)
def test_relative_due(delta, text):
    assert relative_due(NOW + delta, NOW) == text


def test_relative_due_in_chinese_and_without_a_due_time():
    set_language("zh")
    assert relative_due(NOW + dt.timedelta(hours=2), NOW) == "2 小时后"
    assert relative_due(NOW - dt.timedelta(minutes=30), NOW) == "已逾期 30 分钟"
    assert relative_due(None, NOW) == ""


# ---------------------------------------------------------------- staffing


def test_level_defaults_pass_and_on_duty_is_filled_from_groups_times_posts():
    assert validate_staffing(Staffing(10, 15, 3, 4, 5)) == Staffing(10, 15, 3, 4, 5)
    assert validate_staffing(Staffing(8, None, 3, 4, 4)).on_duty == 12
    level3 = Staffing(None, None, None, None, 0)
    assert validate_staffing(level3) == level3
    assert validate_staffing(Staffing(None, 6, 2, 6, 0)).on_duty == 6  # cordon zone: no named posts


def test_staffing_that_breaks_groups_times_posts_is_refused():
    with pytest.raises(ReceptionError, match=r"3 × 5 = 15, not 14"):
        validate_staffing(Staffing(10, 14, 3, 4, 5))


@pytest.mark.parametrize(
    ("staffing", "message"),
    [
        (Staffing(-1, 15, 3, 4, 5), "Reinforcements must be between"),
        (Staffing(10, 15, 0, 4, 5), "Shift groups must be at least 1"),
        (Staffing(10, 15, 3, 25, 5), "Rotation must be between 1 and 24"),
        (Staffing(10, 15.5, 3, 4, 5), "On duty must be a whole number"),  # type: ignore[arg-type]
    ],
)
def test_staffing_bounds(staffing, message):
    with pytest.raises(ReceptionError, match=message):
        validate_staffing(staffing)


@given(st.integers(1, 10), st.integers(1, 10), st.integers(0, 200))
def test_on_duty_rule_holds_exactly_when_it_is_the_product(groups, posts, on_duty):
    staffing = Staffing(None, on_duty, groups, 4, posts)
    if on_duty == groups * posts:
        assert validate_staffing(staffing).on_duty == on_duty
    else:
        with pytest.raises(ReceptionError):
            validate_staffing(staffing)


# ---------------------------------------------------------------- evidence


def test_evidence_type_comes_from_the_content_not_the_name():
    assert sniff_mime(PNG) == "image/png"
    assert sniff_mime(b"\xff\xd8\xff\xe0" + b"0" * 10) == "image/jpeg"
    assert sniff_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_mime(PDF) == "application/pdf"
    assert sniff_mime(b"MZ\x90\x00 executable") is None
    assert check_upload("C:\\Users\\me\\photo.png", PNG) == ("photo.png", "image/png")
    with pytest.raises(ReceptionError, match="image .* or a PDF"):
        check_upload("report.pdf", b"<html><script>alert(1)</script></html>")


def test_evidence_size_limit_is_ten_megabytes():
    assert check_upload("big.pdf", PDF + b"0" * (10 * MB - len(PDF)))[1] == "application/pdf"
    with pytest.raises(ReceptionError, match="at most 10 MB"):
        check_upload("big.pdf", PDF + b"0" * (10 * MB - len(PDF) + 1))
    with pytest.raises(ReceptionError, match="empty"):
        check_upload("x.png", b"")


def test_level_filter():
    assert applies_to_level("1,2", 1) and not applies_to_level("1,2", 3)
    assert applies_to_level("3", 3) and applies_to_level(None, 2)


# ---------------------------------------------------------------- translations of the domain's messages


def _messages() -> set[str]:
    pattern = re.compile(r"""(?:ReceptionError|ScopeDenied|SignOffBlocked|Tile)\(\s*\n?\s*(["'])((?:(?!\1).)+)\1""")
    found = set()
    for path in (ROOT / "console" / "reception").glob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(2))
    return found


def test_every_reception_message_has_a_chinese_translation():
    messages = _messages()
    assert len(messages) > 40
    missing = sorted(m for m in messages if m not in ZH)
    assert missing == []


def test_row_messages_of_the_template_editor_are_translated():
    text = (ROOT / "console" / "reception" / "templates.py").read_text(encoding="utf-8")
    for match in re.finditer(r'fail\(\s*"([^"]+)"', text):
        assert "Row {row}: " + match.group(1) in ZH, match.group(1)
