"""Row by row checks of an import (issue 8): every row gets a status and a reason, nothing is written here.

Values are read the way a department's exports write them: amounts in yuan (¥1,234.50, 1234.5元) become integer
fen exactly (Decimal, never float); local Asia/Shanghai times (2026-11-03 14:05, 2026/11/3, 2026年11月3日 14时05分,
20261103140500) become UTC; phone numbers lose spaces and the +86 prefix; codes in Chinese or English
(接通 / connected, 短信 / sms) become the stored codes.

The natural keys make an import idempotent: a customer by code, a purchase or a call by reference, a contact by
(customer, staff, kind, time). A row already in the database with the same data is "already imported" (nothing
to do, not a rejection), so a nightly load can run the same file twice; the same key with different data is
rejected as a duplicate in the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import Session

from console.assignment.exports import is_number_text, is_phone_text
from console.i18n import t
from console.imports.mapping import FIELDS, Resolved
from console.imports.readers import Table
from console.masking import mask_id, mask_phone, normalise_phone
from console.timeutil import LOCAL_OFFSET, SHANGHAI, UTC, utcnow
from models import Contact, Customer, Staff
from models.customers import CALL_OUTCOMES, CALL_RESULTS, CALL_TYPES, CONTACT_KINDS

CHUNK = 2000
WRITE_STATUSES: tuple[str, ...] = ("ok", "update")
OK_STATUSES: tuple[str, ...] = ("ok", "update", "unchanged")
STATUS_LABELS: dict[str, str] = {
    "ok": "ok (new)",
    "update": "ok (update)",
    "unchanged": "already imported",
    "missing_value": "missing value",
    "missing_customer": "customer not found",
    "unknown_caller": "unknown caller",
    "unknown_staff": "unknown staff member",
    "bad_amount": "amount not a number",
    "negative_amount": "negative amount",
    "bad_date": "date in an unknown format",
    "future_date": "date in the future",
    "bad_value": "value not allowed",
    "formula": "formula in a cell",
    "duplicate_file": "duplicate in the file",
    "duplicate_db": "duplicate in the database",
}
MAX_FEN = 10_000_000_000  # ¥100,000,000 for one purchase
CALLER_ROLES = ("agent", "client_manager")
MAINTENANCE_TYPES = CALL_TYPES[:6]
OB_TYPES = CALL_TYPES[6:]
LENGTHS: dict[str, int] = {
    "code": 32,
    "customer_code": 32,
    "name": 120,
    "phone": 32,
    "id_number": 32,
    "region": 64,
    "dietary": 200,
    "hometown": 64,
    "reference": 64,
    "recording_ref": 128,
    "outcome": 24,
}


class RowProblem(Exception):  # noqa: N818 - carries a row status, not an error of the program
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# ------------------------------------------------------------------------------------------------ value parsing

_MONEY_NOISE = re.compile(r"[\s,，¥￥元]|RMB|CNY", re.IGNORECASE)


_PLAIN_AMOUNT = re.compile(r"^(\d{1,9})(?:\.(\d{1,2}))?$")


def parse_amount_fen(text: str) -> int:
    """Yuan as written in an export -> integer fen, exactly. Raises RowProblem(bad_amount | negative_amount)."""
    plain = _PLAIN_AMOUNT.match(text)
    if plain is not None:  # 1234 or 1234.5: integer arithmetic, no rounding anywhere
        whole, frac = plain.groups()
        fen = int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0)
        if fen <= MAX_FEN:
            return fen
    raw = (text or "").strip()
    if not raw:
        raise RowProblem("missing_value", t("No amount."))
    cleaned = _MONEY_NOISE.sub("", raw)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RowProblem("bad_amount", t("{value} is not an amount in yuan.", value=raw[:40])) from None
    if not value.is_finite():
        raise RowProblem("bad_amount", t("{value} is not an amount in yuan.", value=raw[:40]))
    if negative:
        value = -value
    if value < 0:
        raise RowProblem("negative_amount", t("The amount {value} is negative: refunds are not imported.", value=raw))
    fen = value * 100
    if fen != fen.to_integral_value():
        raise RowProblem("bad_amount", t("{value} has more than two decimals: it cannot be stored in fen.", value=raw))
    if fen > MAX_FEN:
        raise RowProblem("bad_amount", t("{value} is more than ¥100,000,000 for one purchase.", value=raw))
    return int(fen)


_DATE_TIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:时點点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:[.,](\d{1,6})\d*)?\s*秒?)?\s*分?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[\sT]?(\d{2})(\d{2})(\d{2})?)?$")
_TIME = re.compile(r"^(\d{1,2})\s*[:时点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:[.,]\d+)?\s*秒?)?\s*分?$")


def _bad_date(raw: str) -> RowProblem:
    return RowProblem(
        "bad_date",
        t("{value} is not a date in a known format (use 2026-11-03 14:05 or 2026/11/3).", value=raw[:40]),
    )


_ISO_FAST = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?$")


def parse_local_datetime(text: str, time_text: str = "") -> tuple[dt.datetime, bool]:
    """A local Asia/Shanghai date and time -> (UTC instant, whether a time was given). An explicit offset
    (Z, +08:00) is honoured. time_text: a separate time-of-day column, used when the date has no time."""
    raw = (text or "").strip()
    if not raw:
        raise RowProblem("missing_value", t("No date."))
    if _ISO_FAST.match(raw):  # the common export format, parsed in C; Shanghai is UTC+8 since 1991
        try:
            local = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise _bad_date(raw) from None
        if local.year > 1991:
            return (local - LOCAL_OFFSET).replace(tzinfo=UTC), True
    match = _DATE_TIME.match(raw) or _COMPACT.match(raw)
    if match is None:
        raise _bad_date(raw)
    groups = match.groups()
    year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
    hour = minute = second = micro = 0
    has_time = groups[3] is not None
    if has_time:
        hour, minute = int(groups[3]), int(groups[4])
        second = int(groups[5]) if groups[5] else 0
        if len(groups) > 6 and groups[6]:
            micro = int(groups[6].ljust(6, "0"))
    elif time_text.strip():
        tm = _TIME.match(time_text.strip())
        if tm is None:
            raise RowProblem("bad_date", t("{value} is not a time of day (use 14:05).", value=time_text.strip()[:20]))
        hour, minute, second = int(tm.group(1)), int(tm.group(2)), int(tm.group(3) or 0)
        has_time = True
    offset = groups[7] if len(groups) > 7 else None
    try:
        if offset:
            tz: dt.tzinfo = UTC if offset.upper() == "Z" else _fixed_offset(offset)
        else:
            tz = SHANGHAI
        value = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        raise _bad_date(raw) from None
    if year < 1900:
        raise _bad_date(raw)
    return value.astimezone(UTC), has_time


def _fixed_offset(text: str) -> dt.timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def parse_date(text: str) -> dt.date:
    """A calendar date (a birthday): 1991-06-23, 1991/6/23, 1991年6月23日, 19910623."""
    raw = (text or "").strip()
    match = _DATE_TIME.match(raw) or _COMPACT.match(raw)
    if match is None:
        raise _bad_date(raw)
    try:
        value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise _bad_date(raw) from None
    if value.year < 1900:
        raise _bad_date(raw)
    return value


_DURATION_HMS = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2})$")
_DURATION_ZH = re.compile(r"^(?:(\d+)\s*(?:小时|时|h))?\s*(?:(\d+)\s*(?:分钟|分|m|min))?\s*(?:(\d+)\s*(?:秒|s|sec))?$")


def parse_duration(text: str) -> int:
    """Seconds from 215, 215s, 3:35, 0:03:35 or 3分35秒; empty is 0."""
    raw = (text or "").strip().lower()
    if not raw:
        return 0
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is not None and value.is_finite():
        if value < 0:
            raise RowProblem("bad_value", t("The duration {value} is negative.", value=raw))
        return int(value.to_integral_value())
    match = _DURATION_HMS.match(raw)
    if match:
        return int(match.group(1) or 0) * 3600 + int(match.group(2)) * 60 + int(match.group(3))
    match = _DURATION_ZH.match(raw)
    if match and any(match.groups()):
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise RowProblem("bad_value", t("{value} is not a duration (use seconds, or 3:35).", value=raw[:20]))


def _code(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", (text or "").strip().lower())


def _choices(table: dict[str, Iterable[str]]) -> dict[str, str]:
    return {_code(word): code for code, words in table.items() for word in (code, *words)}


STREAMS = _choices(
    {"maintenance": ("维护", "维护外呼", "维系", "care_line"), "ob": ("外呼营销", "营销", "outbound", "marketing")}
)
CALL_TYPE_WORDS = _choices(
    {
        "onboarding_visit": ("新晋回访", "入会回访", "首访", "首次回访", "onboarding"),
        "rights_notification": ("权益告知", "权益通知", "rights"),
        "care": ("关怀", "关怀回访"),
        "retention": ("挽留", "保有"),
        "winback": ("召回", "赢回", "挽回", "win_back"),
        "complaint_followup": ("投诉回访", "投诉跟进", "complaint"),
        "upsell": ("升级销售", "追加销售", "加购"),
        "campaign": ("活动", "活动营销", "营销活动"),
        "renewal": ("续费", "续约"),
    }
)
OUTCOMES = _choices(
    {
        "connected": ("接通", "已接通", "answered"),
        "no_answer": ("无人接听", "未接", "未接通", "noanswer"),
        "busy": ("忙线", "占线"),
        "refused": ("拒接", "rejected"),
        "wrong_number": ("空号", "错号", "号码错误"),
        "callback_requested": ("预约回拨", "要求回拨", "回拨", "callback"),
    }
)
RESULTS = _choices(
    {
        "success": ("成功", "successful"),
        "declined": ("拒绝", "婉拒"),
        "escalated": ("升级", "转交", "escalation"),
        "pending": ("待定", "跟进中", "待跟进"),
    }
)
KINDS = _choices(
    {"call": ("电话", "通话", "外呼", "phone"), "sms": ("短信", "text"), "visit": ("拜访", "来访", "面访", "到访")}
)
SMS_OUTCOMES = _choices(
    {"delivered": ("送达", "已送达", "成功", "sent"), "failed": ("失败", "发送失败", "undelivered")}
)
assert set(STREAMS.values()) == {"maintenance", "ob"}
assert set(CALL_TYPE_WORDS.values()) == set(CALL_TYPES)
assert set(OUTCOMES.values()) == set(CALL_OUTCOMES) and set(RESULTS.values()) == set(CALL_RESULTS)
assert set(KINDS.values()) == set(CONTACT_KINDS)


def _choice(words: dict[str, str], text: str, what: str) -> str:
    code = words.get(_code(text))
    if code is None:
        allowed = ", ".join(sorted(set(words.values())))
        raise RowProblem(
            "bad_value",
            t("{value} is not a {what} (use one of: {allowed}).", value=text[:30], what=t(what), allowed=allowed),
        )
    return code


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


def parse_phone(text: str) -> str:
    """A mainland mobile (11 digits) or landline with area code; +country numbers kept with their +."""
    raw = (text or "").strip()
    if re.search(r"[^\d\s\-+()（）]", raw):
        raise RowProblem("bad_value", t("{value} is not a phone number.", value=mask_phone(raw) or raw[:3]))
    digits = normalise_phone(raw)
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    if raw.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    raise RowProblem("bad_value", t("{value} is not a phone number.", value=mask_phone(raw)))


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def parse_id_number(text: str) -> str:
    """A resident ID number: 18 characters with a valid check digit (GB 11643), or the old 15 digits."""
    value = re.sub(r"\s+", "", text or "").upper()
    if re.fullmatch(r"\d{15}", value):
        return value
    if re.fullmatch(r"\d{17}[\dX]", value):
        check = "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
        if value[17] == check:
            return value
        raise RowProblem("bad_value", t("The ID number {value} has a wrong check digit.", value=mask_id(value)))
    raise RowProblem("bad_value", t("{value} is not an ID number (18 characters).", value=mask_id(value)))


def is_formula(text: str) -> bool:
    """A cell a spreadsheet would run: =..., or +/-/@ followed by a function or a reference, not a number or phone."""
    if not text:
        return False
    if text[0] == "=":
        return True
    if text[0] in "+-@" and len(text) > 1 and not is_number_text(text) and not is_phone_text(text):
        return bool(re.search(r"[A-Za-z]\w*\s*\(|[A-Za-z]+\d+", text))
    return False


def _check_length(name: str, value: str) -> str:
    limit = LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        raise RowProblem("bad_value", t("{field} is longer than {limit} characters.", field=_label(name), limit=limit))
    return value


def _label(kind_or_field: str) -> str:
    for specs in FIELDS.values():
        for s in specs:
            if s.name == kind_or_field:
                return t(s.label)
    return kind_or_field


# ------------------------------------------------------------------------------------------------ rows


@dataclass(slots=True)
class Checked:
    """One row of the file after the checks."""

    line: int
    values: dict[str, str]
    status: str = "ok"
    detail: str = ""
    record: dict[str, Any] | None = None  # what is written (insert) or changed (update: includes "id")
    customer_id: int | None = None
    key: Any = None  # the natural key, for duplicates


@dataclass
class Validation:
    kind: str
    rows: list[Checked]
    now: dt.datetime
    columns: list[str] = field(default_factory=list)  # the mapped fields, in spec order

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUS_LABELS, 0)
        for row in self.rows:
            out[row.status] = out.get(row.status, 0) + 1
        return out

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def to_write(self) -> list[Checked]:
        return [r for r in self.rows if r.status in WRITE_STATUSES]

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.rows if r.status not in OK_STATUSES)


Tick = Callable[[int, int], None]
TICK_EVERY = 20_000


def _ticking(parsed: list[tuple[int, dict[str, str]]], tick: Tick | None) -> Iterator[tuple[int, dict[str, str]]]:
    total = len(parsed)
    for i, item in enumerate(parsed):
        if tick is not None and i and i % TICK_EVERY == 0:
            tick(i, total)
        yield item


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _extract(table: Table, resolved: Resolved) -> list[tuple[int, dict[str, str]]]:
    cols = list(resolved.columns.items())
    out = []
    for line, cells in table.rows:
        n = len(cells)
        out.append((line, {name: (cells[idx] if idx < n else "") for name, idx in cols}))
    return out


_FORMULA_START = frozenset("=+-@")


def _formula_check(values: dict[str, str]) -> None:
    for name, value in values.items():
        if value and value[0] in _FORMULA_START and is_formula(value):
            raise RowProblem(
                "formula",
                t(
                    "{field} holds a formula ({value}), not a value: paste the values and import again.",
                    field=_label(name),
                    value=value[:30],
                ),
            )


def _require(values: dict[str, str], name: str) -> str:
    value = values.get(name, "")
    if not value:
        raise RowProblem("missing_value", t("No {field}.", field=_label(name)))
    return _check_length(name, value)


def _when(values: dict[str, str], name: str, now: dt.datetime) -> dt.datetime:
    at, _ = parse_local_datetime(values.get(name, ""), values.get("time_of_day", ""))
    if at > now:
        raise RowProblem(
            "future_date",
            t(
                "{value} is in the future.",
                value=values.get(name, "") + (" " + values["time_of_day"] if values.get("time_of_day") else ""),
            ),
        )
    return at


# ------------------------------------------------------------------------------------------------ lookups


def lookup_in(session: Session, table: str, columns: Sequence[str], key: str, values: Sequence[Any]) -> Iterator[Any]:
    """Rows (named tuples of the columns) whose key is in values, by chunks, at the driver level: a plain
    SELECT ... WHERE key IN (...) without SQLAlchemy compiling thousands of parameters each time."""
    if not values:
        return
    conn = session.connection()
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    shape = namedtuple("shape", list(columns))  # type: ignore[misc]  # noqa: PYI024
    head = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE {quote(key)} IN "
    for part in _chunks(values):
        sql = head + "(" + ", ".join([marker] * len(part)) + ")"
        for row in conn.exec_driver_sql(sql, tuple(part)):
            yield shape(*row)


def _customers_by_code(session: Session, codes: Iterable[str], *, full: bool = False) -> dict[str, Any]:
    """upper(code) -> row (id, code, is_training[, the importable columns]) for the codes that exist."""
    c = Customer.__table__  # type: ignore[attr-defined]
    cols = [c.c.id, c.c.code, c.c.is_training]
    if full:
        cols += [getattr(c.c, f) for f in CUSTOMER_FIELDS]
    wanted = sorted({code for code in codes if code})
    found: dict[str, Any] = {}
    if full:  # typed values (dates, booleans) to compare with the file's
        for part in _chunks(wanted):
            for row in session.execute(select(*cols).where(c.c.code.in_(part))):
                found[row.code.upper()] = row
                found[row.code] = row
    else:
        for row in lookup_in(session, "customer", ("id", "code", "is_training"), "code", wanted):
            found[row.code.upper()] = row
            found[row.code] = row
    rest = sorted({code.upper() for code in wanted if code.upper() not in found})
    if rest and len(rest) > 5 * CHUNK:
        rest_set = set(rest)
        for row in session.execute(select(*cols)):
            if row.code.upper() in rest_set:
                found.setdefault(row.code.upper(), row)
    elif rest:
        for part in _chunks(rest):
            for row in session.execute(select(*cols).where(func.upper(c.c.code).in_(part))):
                found.setdefault(row.code.upper(), row)
    return found


def _staff_by_code(session: Session) -> dict[str, Any]:
    s = Staff.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(s.c.id, s.c.code, s.c.role, s.c.stream, s.c.is_training)).all()
    return {row.code.upper(): row for row in rows}


def _customer_of(row: Checked, code: str, customers: dict[str, Any]) -> int:
    if not code:
        raise RowProblem("missing_customer", t("No customer code."))
    found = customers.get(code) or customers.get(code.upper())
    if found is None:
        raise RowProblem("missing_customer", t("No customer with code {code}.", code=code))
    if found.is_training:
        raise RowProblem(
            "missing_customer", t("{code} is a training customer: real data is not imported for it.", code=code)
        )
    row.customer_id = int(found.id)
    return int(found.id)


def _mark_file_duplicates(rows: list[Checked]) -> None:
    """Later rows with the key of an earlier valid row are duplicates in the file."""
    first: dict[Any, int] = {}
    for row in rows:
        if row.status != "ok" or row.key is None:
            continue
        if row.key in first:
            row.status, row.detail, row.record = (
                "duplicate_file",
                t("The same key as line {line}.", line=first[row.key]),
                None,
            )
        else:
            first[row.key] = row.line


def _fail(row: Checked, problem: RowProblem) -> None:
    row.status, row.detail, row.record = problem.status, problem.detail, None


# ------------------------------------------------------------------------------------------------ customers

CUSTOMER_FIELDS = ("name", "phone", "id_number", "region", "birthday", "dietary", "hometown", "notes")


def _customer_values(values: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CUSTOMER_FIELDS:
        raw = values.get(name, "")
        if not raw:
            continue
        if name == "phone":
            out[name] = parse_phone(raw)
        elif name == "id_number":
            out[name] = parse_id_number(raw)
        elif name == "birthday":
            day = parse_date(raw)
            if day > now.astimezone(SHANGHAI).date():
                raise RowProblem("future_date", t("The birthday {value} is in the future.", value=raw))
            out[name] = day
        else:
            out[name] = _check_length(name, raw)
    return out


def _check_customers(
    session: Session, parsed: list[tuple[int, dict[str, str]]], now: dt.datetime, tick: Tick | None = None
) -> list[Checked]:
    rows: list[Checked] = []
    for line, values in _ticking(parsed, tick):
        row = Checked(line=line, values=values)
        try:
            _formula_check(values)
            code = _require(values, "code")
            row.key = code.upper()
            row.record = {"code": code, **_customer_values(values, now)}
        except RowProblem as problem:
            _fail(row, problem)
        rows.append(row)
    existing = _customers_by_code(session, [r.record["code"] for r in rows if r.record], full=True)
    for row in rows:
        if row.record is None:
            continue
        current = existing.get(row.key)
        if current is None:
            if not row.record.get("name"):
                _fail(row, RowProblem("missing_value", t("No name: a new customer needs one.")))
                continue
            row.detail = t("New customer.")
            continue
        if current.is_training:
            _fail(row, RowProblem("bad_value", t("{code} is a training customer.", code=current.code)))
            continue
        row.customer_id = int(current.id)
        changes = {f: v for f, v in row.record.items() if f != "code" and getattr(current, f) != v}
        if changes:
            row.status = "update"
            row.record = {"id": int(current.id), **changes}
            row.detail = t("Changes: {fields}.", fields=", ".join(_label(f) for f in changes))
        else:
            row.status, row.record = "unchanged", None
            row.detail = t("{code} is already in the database with these values.", code=current.code)
    _mark_update_duplicates(rows)
    return rows


def _mark_update_duplicates(rows: list[Checked]) -> None:
    """A customer code twice in the file: the first row counts, later ones are duplicates (also updates)."""
    first: dict[Any, int] = {}
    for row in rows:
        if row.key is None or row.status not in OK_STATUSES:
            continue
        if row.key in first:
            row.status, row.detail, row.record = (
                "duplicate_file",
                t("The same key as line {line}.", line=first[row.key]),
                None,
            )
        else:
            first[row.key] = row.line


# ------------------------------------------------------------------------------------------------ purchases


def _check_purchases(
    session: Session, parsed: list[tuple[int, dict[str, str]]], now: dt.datetime, tick: Tick | None = None
) -> list[Checked]:
    rows: list[Checked] = []
    for line, values in _ticking(parsed, tick):
        row = Checked(line=line, values=values)
        try:
            _formula_check(values)
            reference = _require(values, "reference")
            at = _when(values, "at", now)
            fen = parse_amount_fen(values.get("amount", ""))
            row.key = reference
            row.record = {"reference": reference, "at": at, "amount_fen": fen}
        except RowProblem as problem:
            _fail(row, problem)
        rows.append(row)
    customers = _customers_by_code(session, [v.get("customer_code", "") for _, v in parsed])
    for row in rows:
        if row.record is None:
            continue
        try:
            row.record["customer_id"] = _customer_of(row, row.values.get("customer_code", ""), customers)
        except RowProblem as problem:
            _fail(row, problem)
    _mark_file_duplicates(rows)
    refs = [r.key for r in rows if r.status == "ok"]
    existing = {
        hit.reference: hit
        for hit in lookup_in(session, "purchase", ("reference", "customer_id", "at", "amount_fen"), "reference", refs)
    }
    for row in rows:
        hit = existing.get(row.key) if row.status == "ok" else None
        if hit is None:
            continue
        rec = row.record or {}
        same = (
            hit.customer_id == rec["customer_id"]
            and hit.amount_fen == rec["amount_fen"]
            and _same_instant(hit.at, rec["at"])
        )
        if same:
            row.status, row.record = "unchanged", None
            row.detail = t("Reference {reference} is already imported.", reference=row.key)
        else:
            _fail(
                row,
                RowProblem(
                    "duplicate_db",
                    t("Reference {reference} is already in the database with other values.", reference=row.key),
                ),
            )
    return rows


def _same_instant(stored: Any, value: dt.datetime) -> bool:
    if isinstance(stored, str):
        stored = dt.datetime.fromisoformat(stored)
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=UTC)
    return abs((stored - value).total_seconds()) < 1


# ------------------------------------------------------------------------------------------------ calls


def _check_calls(
    session: Session, parsed: list[tuple[int, dict[str, str]]], now: dt.datetime, tick: Tick | None = None
) -> list[Checked]:
    staff = _staff_by_code(session)
    rows: list[Checked] = []
    for line, values in _ticking(parsed, tick):
        row = Checked(line=line, values=values)
        try:
            _formula_check(values)
            reference = _require(values, "reference")
            started = _when(values, "started_at", now)
            call_type = _choice(CALL_TYPE_WORDS, _require(values, "call_type"), "call type")
            natural = "ob" if call_type in OB_TYPES else "maintenance"
            stream = _choice(STREAMS, values["stream"], "stream") if values.get("stream") else natural
            if stream != natural:
                raise RowProblem(
                    "bad_value",
                    t("A {type} call belongs to the {stream} stream.", type=call_type, stream=natural),
                )
            outcome = _choice(OUTCOMES, _require(values, "outcome"), "call outcome")
            result = _choice(RESULTS, values["result"], "call result") if values.get("result") else None
            if result is not None and outcome != "connected":
                raise RowProblem(
                    "bad_value", t("Only a connected call has a result (this one: {outcome}).", outcome=outcome)
                )
            duration = parse_duration(values.get("duration", ""))
            caller_code = _require(values, "caller_code")
            caller = staff.get(caller_code.upper())
            if caller is None:
                raise RowProblem("unknown_caller", t("No staff member with code {code}.", code=caller_code))
            if caller.role not in CALLER_ROLES or caller.is_training:
                raise RowProblem(
                    "unknown_caller",
                    t("{code} is not an agent or client manager ({role}).", code=caller.code, role=t(caller.role)),
                )
            row.key = reference
            row.record = {
                "reference": reference,
                "caller_id": int(caller.id),
                "stream": stream,
                "call_type": call_type,
                "started_at": started,
                "duration_s": duration,
                "outcome": outcome,
                "result": result,
                "recording_ref": _check_length("recording_ref", values.get("recording_ref", "")) or None,
                "transcript": values.get("transcript") or None,
            }
        except RowProblem as problem:
            _fail(row, problem)
        rows.append(row)
    customers = _customers_by_code(session, [v.get("customer_code", "") for _, v in parsed])
    for row in rows:
        if row.record is None:
            continue
        try:
            row.record["customer_id"] = _customer_of(row, row.values.get("customer_code", ""), customers)
        except RowProblem as problem:
            _fail(row, problem)
    _mark_file_duplicates(rows)
    refs = [r.key for r in rows if r.status == "ok"]
    columns = ("reference", "customer_id", "caller_id", "started_at", "outcome")
    existing = {hit.reference: hit for hit in lookup_in(session, "call", columns, "reference", refs)}
    for row in rows:
        hit = existing.get(row.key) if row.status == "ok" else None
        if hit is None:
            continue
        rec = row.record or {}
        same = (
            hit.customer_id == rec["customer_id"]
            and hit.caller_id == rec["caller_id"]
            and hit.outcome == rec["outcome"]
            and _same_instant(hit.started_at, rec["started_at"])
        )
        if same:
            row.status, row.record = "unchanged", None
            row.detail = t("Reference {reference} is already imported.", reference=row.key)
        else:
            _fail(
                row,
                RowProblem(
                    "duplicate_db",
                    t("Reference {reference} is already in the database with other values.", reference=row.key),
                ),
            )
    return rows


# ------------------------------------------------------------------------------------------------ contacts


def _check_contacts(
    session: Session, parsed: list[tuple[int, dict[str, str]]], now: dt.datetime, tick: Tick | None = None
) -> list[Checked]:
    staff = _staff_by_code(session)
    rows: list[Checked] = []
    for line, values in _ticking(parsed, tick):
        row = Checked(line=line, values=values)
        try:
            _formula_check(values)
            kind = _choice(KINDS, _require(values, "kind"), "contact kind")
            at = _when(values, "at", now)
            staff_id, staff_stream = None, None
            if values.get("staff_code"):
                person = staff.get(values["staff_code"].upper())
                if person is None or person.is_training:
                    raise RowProblem("unknown_staff", t("No staff member with code {code}.", code=values["staff_code"]))
                staff_id, staff_stream = int(person.id), person.stream
            outcome = values.get("outcome") or None
            if outcome and kind == "call":
                outcome = _choice(OUTCOMES, outcome, "call outcome")
            elif outcome and kind == "sms":
                outcome = SMS_OUTCOMES.get(_code(outcome), outcome)
            if outcome:
                _check_length("outcome", outcome)
            stream = _choice(STREAMS, values["stream"], "stream") if values.get("stream") else staff_stream
            row.record = {
                "staff_id": staff_id,
                "kind": kind,
                "at": at,
                "outcome": outcome,
                "stream": stream,
                "call_id": None,
            }
        except RowProblem as problem:
            _fail(row, problem)
        rows.append(row)
    customers = _customers_by_code(session, [v.get("customer_code", "") for _, v in parsed])
    for row in rows:
        if row.record is None:
            continue
        try:
            row.record["customer_id"] = _customer_of(row, row.values.get("customer_code", ""), customers)
            rec = row.record
            row.key = (rec["customer_id"], rec["staff_id"], rec["kind"], rec["at"].replace(microsecond=0))
        except RowProblem as problem:
            _fail(row, problem)
    _mark_file_duplicates(rows)
    ok = [r for r in rows if r.status == "ok"]
    if ok:
        ct = Contact.__table__  # type: ignore[attr-defined]
        lo = min(r.record["at"] for r in ok if r.record) - dt.timedelta(seconds=1)
        hi = max(r.record["at"] for r in ok if r.record) + dt.timedelta(seconds=1)
        ids = sorted({r.customer_id for r in ok if r.customer_id is not None})
        existing: dict[Any, Any] = {}
        for part in _chunks(ids):
            for hit in session.execute(
                select(ct.c.customer_id, ct.c.staff_id, ct.c.kind, ct.c.at, ct.c.outcome).where(
                    and_(ct.c.customer_id.in_(part), ct.c.at >= lo, ct.c.at <= hi)
                )
            ):
                at = hit.at if isinstance(hit.at, dt.datetime) else dt.datetime.fromisoformat(hit.at)
                at = (at if at.tzinfo else at.replace(tzinfo=UTC)).replace(microsecond=0)
                existing[(hit.customer_id, hit.staff_id, hit.kind, at)] = hit
        for row in ok:
            hit = existing.get(row.key)
            if hit is None:
                continue
            rec = row.record or {}
            if not rec.get("outcome") or hit.outcome == rec.get("outcome"):
                row.status, row.record = "unchanged", None
                row.detail = t("This contact is already imported.")
            else:
                _fail(
                    row,
                    RowProblem(
                        "duplicate_db",
                        t("This contact is already in the database with the outcome {outcome}.", outcome=hit.outcome),
                    ),
                )
    return rows


# ------------------------------------------------------------------------------------------------ entry point

CHECKERS = {
    "customers": _check_customers,
    "purchases": _check_purchases,
    "calls": _check_calls,
    "contacts": _check_contacts,
}


def validate(
    session: Session, table: Table, resolved: Resolved, *, now: dt.datetime | None = None, tick: Tick | None = None
) -> Validation:
    """Every row's status against the database as it is now; nothing is written. tick(done, total) is called
    every TICK_EVERY rows (a job keeps its heartbeat with it)."""
    now = now or utcnow()
    parsed = _extract(table, resolved)
    rows = CHECKERS[resolved.kind](session, parsed, now, tick)
    columns = [s.name for s in FIELDS[resolved.kind] if s.name in resolved.columns]
    return Validation(kind=resolved.kind, rows=rows, now=now, columns=columns)


def display_value(name: str, value: str) -> str:
    """A cell as the dry-run table and the rejects file show it: numbers masked, long text cut."""
    if not value:
        return ""
    if name == "phone":
        return mask_phone(value)
    if name == "id_number":
        return mask_id(value)
    if name == "transcript" and len(value) > 60:
        return value[:57] + "…"
    return value
