"""Backup and restore round trip, evidence files included, on SQLite and PostgreSQL."""

import datetime as dt

from sqlmodel import Session, func, select

from console.backup import backup, restore
from models import Customer, Evidence, Run, RunItem, Visit

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 64


def _make_evidence(engine):
    now = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    with Session(engine) as s:
        cust = Customer(code="C1", name="客户 一")
        s.add(cust)
        s.flush()
        visit = Visit(
            customer_id=cust.id, level=3, arrival_at=now, departure_at=now + dt.timedelta(hours=3), location="Lobby"
        )
        s.add(visit)
        s.flush()
        run = Run(visit_id=visit.id, templates="T4@1")
        s.add(run)
        s.flush()
        item = RunItem(
            run_id=run.id,
            template_code="T4",
            seq=1,
            phase="A",
            phase_en="Pre",
            phase_zh="前",
            text_en="Scan IDs",
            text_zh="扫描证件",
            department="front_office",
            timing="offset",
            anchor="arrival",
            offset_minutes=-60,
        )
        s.add(item)
        s.flush()
        s.add(
            Evidence(
                run_item_id=item.id,
                kind="file",
                filename="scan.pdf",
                mime="application/pdf",
                size_bytes=len(PDF),
                data=PDF,
            )
        )
        s.commit()


def test_backup_restore_round_trip(engine, tmp_path):
    _make_evidence(engine)
    target = tmp_path / ("backup.db" if engine.dialect.name == "sqlite" else "backup.dump")
    backup(engine, target)
    assert target.stat().st_size > 0
    with Session(engine) as s:  # damage after the backup
        s.exec(Evidence.__table__.delete())  # type: ignore[attr-defined]
        cust = s.exec(select(Customer)).one()
        cust.name = "changed"
        s.add(cust)
        s.commit()
    restore(engine, target)
    with Session(engine) as s:
        ev = s.exec(select(Evidence)).one()
        assert ev.data == PDF and ev.filename == "scan.pdf"
        assert s.exec(select(Customer.name)).one() == "客户 一"
        assert s.exec(select(func.count()).select_from(RunItem)).one() == 1
