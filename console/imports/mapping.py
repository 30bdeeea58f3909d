"""Which column of a file holds which field: recognised from English or Chinese names, or mapped by the user.

A mapping is {field: header}. It is resolved in this order: what the user picked now, what was remembered for
the source (a CRM, a dialer, an SMS gateway...), then the names this module recognises (客户编号, 金额, 流水号,
customer_code, amount, reference, ...). A source's mapping is remembered in AppMeta under
"import_mapping:<kind>:<source>", so no table is needed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from console import audit
from console.audit import command, query
from console.i18n import t
from console.meta import get_meta, set_meta
from console.permissions import Actor
from models import AppMeta

KINDS: tuple[str, ...] = ("customers", "purchases", "calls", "contacts")
KIND_LABELS: dict[str, str] = {
    "customers": "Customer records",
    "purchases": "Purchase records",
    "calls": "Call records",
    "contacts": "Contact records",
}
META_PREFIX = "import_mapping:"
SOURCE_MAX = 32
_SOURCE_OK = re.compile(r"^[^:\s][^:]*$")


class MappingError(ValueError):
    """A mapping or source name that cannot be used; the message says why."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str  # English label, shown through t()
    required: bool
    names: tuple[str, ...]  # recognised header names (English and Chinese), compared normalised


_CUSTOMER_CODE = (
    "customer_code",
    "customer",
    "customer_no",
    "customer_id",
    "vip_code",
    "member_code",
    "member_no",
    "客户编号",
    "客户代码",
    "客户号",
    "会员编号",
    "会员号",
    "会员卡号",
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "customers": (
        FieldSpec("code", "Customer code", True, ("code", *_CUSTOMER_CODE)),
        FieldSpec(
            "name",
            "Customer name",
            True,
            ("name", "customer_name", "full_name", "姓名", "客户姓名", "客户名称", "名称"),
        ),
        FieldSpec(
            "phone",
            "Phone",
            False,
            (
                "phone",
                "mobile",
                "phone_number",
                "mobile_phone",
                "tel",
                "手机号",
                "手机",
                "手机号码",
                "电话",
                "联系电话",
            ),
        ),
        FieldSpec(
            "id_number",
            "ID number",
            False,
            ("id_number", "id_no", "id_card", "national_id", "身份证号", "身份证", "身份证号码", "证件号", "证件号码"),
        ),
        FieldSpec("region", "Region", False, ("region", "city", "area", "地区", "区域", "城市", "所在地区")),
        FieldSpec(
            "birthday", "Birthday", False, ("birthday", "birth_date", "date_of_birth", "dob", "生日", "出生日期")
        ),
        FieldSpec("dietary", "Dietary preferences", False, ("dietary", "diet", "饮食偏好", "饮食", "忌口")),
        FieldSpec("hometown", "Hometown", False, ("hometown", "native_place", "籍贯", "家乡")),
        FieldSpec("notes", "Notes", False, ("notes", "note", "preferences", "remarks", "备注", "偏好", "说明")),
    ),
    "purchases": (
        FieldSpec("customer_code", "Customer code", True, _CUSTOMER_CODE),
        FieldSpec(
            "at",
            "Date and time",
            True,
            (
                "at",
                "date",
                "time",
                "datetime",
                "purchase_date",
                "purchased_at",
                "purchase_time",
                "order_time",
                "transaction_time",
                "时间",
                "日期",
                "购买时间",
                "购买日期",
                "交易时间",
                "交易日期",
                "消费时间",
                "消费日期",
                "下单时间",
            ),
        ),
        FieldSpec("time_of_day", "Time of day (when in its own column)", False, ("time_of_day", "时刻")),
        FieldSpec(
            "amount",
            "Amount (yuan)",
            True,
            ("amount", "amount_yuan", "yuan", "total", "value", "金额", "消费金额", "交易金额", "订单金额", "实付金额"),
        ),
        FieldSpec(
            "reference",
            "Reference",
            True,
            (
                "reference",
                "ref",
                "order_no",
                "order_id",
                "transaction_id",
                "receipt_no",
                "流水号",
                "参考号",
                "订单号",
                "交易流水号",
                "交易号",
                "单号",
            ),
        ),
    ),
    "calls": (
        FieldSpec(
            "reference",
            "Call reference",
            True,
            ("reference", "ref", "call_id", "call_reference", "call_ref", "流水号", "参考号", "通话编号", "呼叫编号"),
        ),
        FieldSpec("customer_code", "Customer code", True, _CUSTOMER_CODE),
        FieldSpec(
            "caller_code",
            "Caller code",
            True,
            ("caller_code", "caller", "agent_code", "agent", "staff_code", "坐席工号", "工号", "坐席编号", "主叫工号"),
        ),
        FieldSpec("stream", "Stream (maintenance or OB)", False, ("stream", "line", "业务线", "通话类别", "类别")),
        FieldSpec("call_type", "Call type", True, ("call_type", "type", "通话类型", "呼叫类型", "类型")),
        FieldSpec(
            "started_at",
            "Start",
            True,
            (
                "started_at",
                "start",
                "start_time",
                "call_time",
                "time",
                "date",
                "开始时间",
                "通话时间",
                "呼叫时间",
                "时间",
                "日期",
            ),
        ),
        FieldSpec("time_of_day", "Time of day (when in its own column)", False, ("time_of_day", "时刻")),
        FieldSpec(
            "duration",
            "Duration (seconds)",
            False,
            ("duration", "duration_s", "seconds", "talk_time", "时长", "通话时长", "秒数"),
        ),
        FieldSpec(
            "outcome",
            "Outcome",
            True,
            ("outcome", "status", "call_status", "call_outcome", "通话结果", "接通状态", "呼叫结果", "通话状态"),
        ),
        FieldSpec("result", "Result", False, ("result", "结果", "业务结果", "营销结果", "处理结果")),
        FieldSpec(
            "recording_ref",
            "Recording reference",
            False,
            ("recording_ref", "recording", "recording_id", "录音", "录音编号", "录音文件"),
        ),
        FieldSpec("transcript", "Transcript", False, ("transcript", "text", "转写", "录音转写", "通话记录", "文本")),
    ),
    "contacts": (
        FieldSpec("customer_code", "Customer code", True, _CUSTOMER_CODE),
        FieldSpec(
            "staff_code",
            "Staff code",
            False,
            ("staff_code", "staff", "manager_code", "agent_code", "员工编号", "坐席工号", "工号", "客户经理工号"),
        ),
        FieldSpec(
            "kind", "Kind", True, ("kind", "type", "channel", "contact_type", "类型", "方式", "联系方式", "渠道")
        ),
        FieldSpec(
            "at",
            "Time",
            True,
            ("at", "time", "date", "contacted_at", "sent_at", "时间", "日期", "联系时间", "发送时间", "拜访时间"),
        ),
        FieldSpec("time_of_day", "Time of day (when in its own column)", False, ("time_of_day", "时刻")),
        FieldSpec("outcome", "Outcome", False, ("outcome", "status", "result", "结果", "状态", "发送状态")),
        FieldSpec("stream", "Stream (maintenance or OB)", False, ("stream", "业务线")),
    ),
}

# The field holding a point in time, per kind; a file may split it into a date and a time-of-day column.
WHEN_FIELD: dict[str, str] = {"purchases": "at", "calls": "started_at", "contacts": "at"}
DATE_WORDS = frozenset({"date", "日期", "购买日期", "交易日期", "消费日期", "通话日期", "联系日期"})
TIME_WORDS = frozenset({"time", "时间", "timeofday", "时刻"})

_PARENS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_SEPARATORS = re.compile(r"[\s_\-./:：·]+")


def normalise_header(name: str) -> str:
    """Lower case without spaces, separators or a unit in brackets: "Amount (yuan)" -> "amount"."""
    text = _PARENS.sub("", (name or "").replace("\ufeff", "")).strip().lower()
    return _SEPARATORS.sub("", text)


_KNOWN: dict[str, dict[str, str]] = {
    kind: {normalise_header(n): spec.name for spec in specs for n in (spec.name, *spec.names)}
    for kind, specs in FIELDS.items()
}


def check_kind(kind: str) -> str:
    if kind not in FIELDS:
        raise MappingError(t("Unknown import kind {kind}: use customers, purchases, calls or contacts.", kind=kind))
    return kind


def spec(kind: str, name: str) -> FieldSpec:
    return next(s for s in FIELDS[check_kind(kind)] if s.name == name)


def clean_source(source: str | None) -> str | None:
    """A source name (e.g. "crm" or "呼叫中心"), or None for none; refused when it cannot be a key."""
    text = (source or "").strip()
    if not text:
        return None
    if len(text) > SOURCE_MAX or not _SOURCE_OK.match(text):
        raise MappingError(
            t("A source name has 1 to {max} characters and no colon, e.g. crm or dialer.", max=SOURCE_MAX)
        )
    return text


def meta_key(kind: str, source: str) -> str:
    return f"{META_PREFIX}{check_kind(kind)}:{source}"


@dataclass
class Resolved:
    """The mapping in force for one file: field -> column index, and how each was found."""

    kind: str
    headers: list[str]
    columns: dict[str, int] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)  # field -> "picked" | "remembered" | "recognised"

    @property
    def missing(self) -> list[str]:
        return [s.name for s in FIELDS[self.kind] if s.required and s.name not in self.columns]

    @property
    def unused(self) -> list[str]:
        used = set(self.columns.values())
        return [h for i, h in enumerate(self.headers) if h and i not in used]

    def as_headers(self) -> dict[str, str]:
        """{field: header name}: what is remembered for a source and sent to the job."""
        return {name: self.headers[idx] for name, idx in self.columns.items()}

    def missing_message(self) -> str:
        labels = ", ".join(t(spec(self.kind, name).label) for name in self.missing)
        return t(
            "No column found for: {fields}. Pick the column that holds each (the file's columns are: {headers}).",
            fields=labels,
            headers=", ".join(h for h in self.headers if h)[:300],
        )


def resolve(
    kind: str,
    headers: list[str],
    *,
    remembered: dict[str, str] | None = None,
    picked: dict[str, str | None] | None = None,
) -> Resolved:
    """The mapping for a file's headers. picked: {field: header or None (= not imported)} from the user."""
    check_kind(kind)
    out = Resolved(kind=kind, headers=list(headers))
    index = {h: i for i, h in enumerate(headers) if h}
    taken: set[int] = set()
    fields = [s.name for s in FIELDS[kind]]
    decided: set[str] = set()
    for name, header in (picked or {}).items():
        if name not in fields:
            continue
        decided.add(name)
        if header is not None and header in index and index[header] not in taken:
            out.columns[name], out.how[name] = index[header], "picked"
            taken.add(index[header])
    for name, header in (remembered or {}).items():
        if name in decided or name not in fields or header not in index or index[header] in taken:
            continue
        out.columns[name], out.how[name] = index[header], "remembered"
        taken.add(index[header])
        decided.add(name)
    known = _KNOWN[kind]
    for i, header in enumerate(headers):
        name = known.get(normalise_header(header))
        if name is None or name in decided or i in taken:
            continue
        out.columns[name], out.how[name] = i, "recognised"
        taken.add(i)
        decided.add(name)
    _split_date_and_time(out, decided, taken)
    return out


def _split_date_and_time(out: Resolved, decided: set[str], taken: set[int]) -> None:
    """A date column and a separate time column ("日期", "时间") together make the point in time."""
    when = WHEN_FIELD.get(out.kind)
    if when is None or "time_of_day" in decided or out.how.get(when) != "recognised":
        return
    norm = [normalise_header(h) for h in out.headers]
    current = out.columns[when]
    free = [i for i in range(len(out.headers)) if i not in taken]
    if norm[current] in DATE_WORDS:
        partner = next((i for i in free if norm[i] in TIME_WORDS), None)
        if partner is not None:
            out.columns["time_of_day"], out.how["time_of_day"] = partner, "recognised"
    elif norm[current] in TIME_WORDS:
        partner = next((i for i in free if norm[i] in DATE_WORDS), None)
        if partner is not None:
            out.columns[when], out.columns["time_of_day"] = partner, current
            out.how["time_of_day"] = "recognised"


# ------------------------------------------------------------------------------------------------ remembered


def remembered_mapping(session: Session, kind: str, source: str | None) -> dict[str, str] | None:
    if not source:
        return None
    value = get_meta(session, meta_key(kind, source))
    if isinstance(value, dict) and isinstance(value.get("fields"), dict):
        return {str(k): str(v) for k, v in value["fields"].items()}
    return None


def remember(session: Session, *, kind: str, source: str, fields: dict[str, str], by: str) -> None:
    """Store a source's mapping (called inside an audited command)."""
    allowed = {s.name for s in FIELDS[check_kind(kind)]}
    clean = {k: v for k, v in fields.items() if k in allowed and v}
    set_meta(session, meta_key(kind, source), {"fields": clean, "by": by})


@query("imports.read")
def list_mappings(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every remembered source mapping: kind, source, {field: header}, who saved it and when."""
    rows = session.exec(
        select(AppMeta).where(AppMeta.key.startswith(META_PREFIX)).order_by(AppMeta.key)  # type: ignore[attr-defined]
    ).all()
    out = []
    for row in rows:
        _, kind, source = row.key.split(":", 2)
        try:
            value = json.loads(row.value)
        except ValueError:
            continue
        out.append(
            {
                "kind": kind,
                "source": source,
                "fields": dict(value.get("fields") or {}),
                "by": value.get("by"),
                "updated_at": row.updated_at,
            }
        )
    return out


@command("imports.mapping")
def save_mapping(*, session: Session, actor: Actor, kind: str, source: str, fields: dict[str, str]) -> None:
    """Remember a mapping for a source without importing (the wizard also remembers one on apply)."""
    name = clean_source(source)
    if name is None:
        raise MappingError(t("Name the source the mapping is for."))
    remember(session, kind=kind, source=name, fields=fields, by=actor.username)
    audit.note(entity="import_mapping", entity_id=f"{kind}:{name}", after=fields)


@command("imports.mapping")
def forget_mapping(*, session: Session, actor: Actor, kind: str, source: str) -> bool:
    """Delete a source's remembered mapping; False if there was none."""
    row = session.get(AppMeta, meta_key(kind, source))
    if row is None:
        return False
    audit.note(entity="import_mapping", entity_id=f"{kind}:{source}", before=row.value)
    session.delete(row)
    session.flush()
    return True
