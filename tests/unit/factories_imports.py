"""Small builders for the import tests: a team, staff, customers, purchases, and files in every encoding."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlmodel import Session

from console.permissions import Actor
from console.timeutil import local_to_utc
from models import Customer, Purchase, Staff, Team, TierChange

SUPERVISOR = Actor(user_id=None, username="sup", role="supervisor")
AGENT = Actor(user_id=None, username="ag", role="agent")


def team(s: Session, code: str = "MT1", stream: str = "maintenance") -> Team:
    row = Team(code=code, name=f"Team {code}", stream=stream)
    s.add(row)
    s.flush()
    return row


def staff(
    s: Session, code: str, *, role: str = "agent", team_id: int | None = None, stream: str | None = "maintenance"
) -> Staff:
    row = Staff(
        code=code,
        name=f"Staff {code}",
        role=role,
        team_id=team_id,
        stream=stream,
        manager_level="senior" if role == "client_manager" else None,
    )
    s.add(row)
    s.flush()
    return row


def customer(s: Session, code: str, *, tier: int = 0, name: str | None = None, phone: str | None = None) -> Customer:
    created = local_to_utc(dt.date(2024, 1, 1), dt.time(9, 0))
    row = Customer(
        code=code,
        name=name or f"客户{code}",
        phone=phone,
        region="广州",
        tier_rank=tier,
        tier_since=created,
        vip_since=created if tier else None,
        created_at=created,
    )
    s.add(row)
    s.flush()
    s.add(TierChange(customer_id=row.id, from_rank=None, to_rank=tier, kind="initial", at=created))
    s.flush()
    return row


def purchase(s: Session, customer_id: int, reference: str, day: dt.date, fen: int) -> Purchase:
    row = Purchase(customer_id=customer_id, at=local_to_utc(day, dt.time(12, 0)), amount_fen=fen, reference=reference)
    s.add(row)
    s.flush()
    return row


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    return text.encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
