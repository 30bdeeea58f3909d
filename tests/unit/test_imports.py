"""Imports against a database (issue 8): every row status, dry run writes nothing, apply as a job, idempotence,
remembered mappings, the effects (tier upgrade, SLA clock of a new VIP, the QA review queue), history, CLI."""

import argparse
import datetime as dt
import io
import json

import pytest
from sqlmodel import Session, func, select

from console import jobs
from console.imports import (
    FileRefused,
    ImportFile,
    ImportRefused,
    MappingError,
    dry_run,
    forget_mapping,
    import_history,
    import_rejects,
    list_mappings,
    run_import,
    save_mapping,
    start_import,
)
from console.imports import apply as apply_mod
from console.imports.cli import main as cli_main
from console.permissions import PermissionDenied
from console.qa.queue import build_queue, week_of
from console.timeutil import add_working_days, local_date, today_local
from models import AppMeta, AuditLog, Call, Contact, Customer, Job, Purchase, Team, TierChange
from tests.unit.factories_imports import AGENT, SUPERVISOR, csv_bytes, customer, purchase, staff, team, xlsx_bytes

TODAY = today_local()
RECENT = (TODAY - dt.timedelta(days=10)).isoformat()
FUTURE = (TODAY + dt.timedelta(days=30)).isoformat()


def _file(rows, name="f.csv", encoding="utf-8"):
    return ImportFile(name=name, data=csv_bytes(rows, encoding=encoding))


def _dry(engine, kind, rows, **kw):
    with Session(engine) as s:
        return dry_run(session=s, actor=SUPERVISOR, kind=kind, file=_file(rows), **kw)


def _apply(engine, kind, rows, *, source=None, mapping=None, name="f.csv", encoding="utf-8"):
    """Start the import as a job and run it the way the worker does."""
    with Session(engine) as s:
        job_id = start_import(
            session=s,
            actor=SUPERVISOR,
            kind=kind,
            file=_file(rows, name=name, encoding=encoding),
            source=source,
            mapping=mapping,
        )
        s.commit()
    assert jobs.work_once(engine) == job_id
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        return json.loads(job.result)


def _count(engine, model):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        mt = team(s, "MT1", "maintenance")
        agent = staff(s, "AG01", role="agent", team_id=mt.id)
        manager = staff(s, "CM01", role="client_manager", team_id=mt.id)
        staff(s, "RC01", role="reception", stream=None)
        member = customer(s, "C0000001")
        gold = customer(s, "C0000002", tier=2)
        third = customer(s, "C0000003", phone="13812345678")
        purchase(s, gold.id, "P-OLD", TODAY - dt.timedelta(days=400), 100)
        s.commit()
        return {
            "team_id": mt.id,
            "agent": agent.id,
            "manager": manager.id,
            "member": member.id,
            "gold": gold.id,
            "third": third.id,
        }


# ------------------------------------------------------------------------------------------------ statuses


def test_every_purchase_row_status_and_nothing_written_by_the_dry_run(engine, world):
    rows = [
        ["客户编号", "时间", "金额(元)", "流水号"],
        ["C0000001", f"{RECENT} 14:05", "¥12,000.50", "R1"],  # 2 ok
        ["c0000003", RECENT, "100", "R2"],  # 3 ok (code case)
        ["", RECENT, "1", "R3"],  # 4 missing customer (no code)
        ["C9999999", RECENT, "1", "R4"],  # 5 missing customer (unknown)
        ["C0000001", RECENT, "12元五角", "R5"],  # 6 not a number
        ["C0000001", RECENT, "-1", "R6"],  # 7 negative
        ["C0000001", FUTURE, "1", "R7"],  # 8 future
        ["C0000001", "11/03/2026", "1", "R8"],  # 9 unknown format
        ["C0000001", RECENT, "1", "R1"],  # 10 duplicate in file
        ["C0000002", RECENT, "1", "P-OLD"],  # 11 duplicate in the database (other values)
        ["C0000001", RECENT, "=1+2", "R9"],  # 12 formula
        ["C0000001", RECENT, "1", ""],  # 13 missing value
    ]
    dry = _dry(engine, "purchases", rows)
    assert [r.status for r in dry.validation.rows] == [
        "ok",
        "ok",
        "missing_customer",
        "missing_customer",
        "bad_amount",
        "negative_amount",
        "future_date",
        "bad_date",
        "duplicate_file",
        "duplicate_db",
        "formula",
        "missing_value",
    ]
    assert all(r.detail for r in dry.validation.rows if r.status != "ok")
    assert dry.to_write == 2 and dry.rejected == 10
    assert dry.validation.rows[0].record["amount_fen"] == 1200050
    assert _count(engine, Purchase) == 1  # nothing written
    rejects = dry.rejects_csv().decode("utf-8-sig")
    assert "line,customer_code,at,amount,reference,status,detail" in rejects.splitlines()[0]
    assert "negative amount" in rejects and "R1" in rejects


def test_call_statuses_unknown_caller_and_bad_values(engine, world):
    when = f"{RECENT} 10:00"
    rows = [
        ["参考号", "客户编号", "坐席工号", "通话类型", "开始时间", "时长", "通话结果", "结果"],
        ["CL1", "C0000001", "AG01", "关怀", when, "3:35", "接通", "成功"],
        ["CL2", "C0000001", "NOBODY", "care", when, "60", "connected", ""],
        ["CL3", "C0000001", "RC01", "care", when, "60", "connected", ""],
        ["CL4", "C0000001", "AG01", "nonsense", when, "60", "connected", ""],
        ["CL5", "C0000001", "AG01", "care", when, "60", "busy", "success"],
        ["CL6", "C0000001", "AG01", "care", when, "-1", "busy", ""],
        ["CL7", "C0000001", "AG01", "care", FUTURE, "60", "busy", ""],
    ]
    dry = _dry(engine, "calls", rows)
    assert [r.status for r in dry.validation.rows] == [
        "ok",
        "unknown_caller",
        "unknown_caller",
        "bad_value",
        "bad_value",
        "bad_value",
        "future_date",
    ]
    rec = dry.validation.rows[0].record
    assert (rec["stream"], rec["call_type"], rec["outcome"], rec["result"], rec["duration_s"]) == (
        "maintenance",
        "care",
        "connected",
        "success",
        215,
    )


def test_customer_statuses_new_update_unchanged(engine, world):
    rows = [
        ["客户编号", "姓名", "手机号", "身份证号", "地区", "生日"],
        ["C0000010", "新客户", "138 1234 5679", "370681199106239948", "深圳", "1991/6/23"],
        ["C0000003", "客户C0000003", "13812345678", "", "广州", ""],  # same values: already imported
        ["C0000001", "", "", "", "佛山", ""],  # region changes: update
        ["C0000011", "", "", "", "", ""],  # a new customer needs a name
        ["C0000012", "某人", "12345", "", "", ""],  # bad phone
        ["C0000013", "某人", "", "370681199106239940", "", ""],  # bad check digit
        ["C0000014", "某人", "", "", "", FUTURE],  # birthday in the future
        ["C0000010", "重复", "", "", "", ""],  # duplicate in the file
    ]
    dry = _dry(engine, "customers", rows)
    assert [r.status for r in dry.validation.rows] == [
        "ok",
        "unchanged",
        "update",
        "missing_value",
        "bad_value",
        "bad_value",
        "future_date",
        "duplicate_file",
    ]
    assert "Region" in dry.validation.rows[2].detail
    shown = dry.rows()
    assert "138****5679" in set(shown["phone"])  # numbers masked on screen and in the rejects
    assert "3706**********9948" in set(shown["id_number"])


def test_contact_statuses(engine, world):
    rows = [
        ["客户编号", "工号", "联系方式", "联系时间", "状态"],
        ["C0000001", "CM01", "短信", f"{RECENT} 09:00", "送达"],
        ["C0000001", "ZZ99", "sms", f"{RECENT} 09:00", ""],
        ["C0000001", "CM01", "fax", f"{RECENT} 09:00", ""],
        ["C0000001", "", "visit", f"{RECENT} 15:00", "ok"],
        ["C0000001", "CM01", "短信", f"{RECENT} 09:00", "送达"],
    ]
    dry = _dry(engine, "contacts", rows)
    assert [r.status for r in dry.validation.rows] == ["ok", "unknown_staff", "bad_value", "ok", "duplicate_file"]
    assert dry.validation.rows[0].record["outcome"] == "delivered"
    assert dry.validation.rows[0].record["stream"] == "maintenance"  # from the staff member


def test_dry_run_refuses_missing_columns_and_needs_the_right(engine, world):
    with pytest.raises(MappingError, match="Amount"):
        _dry(engine, "purchases", [["客户编号", "时间", "流水号"], ["C0000001", RECENT, "R1"]])
    with pytest.raises(FileRefused):
        _dry(engine, "purchases", [["only"], ["x"]])
    with Session(engine) as s, pytest.raises(PermissionDenied):
        dry_run(session=s, actor=AGENT, kind="purchases", file=_file([["a"], ["b"]]))


# ------------------------------------------------------------------------------------------------ apply


def test_purchase_import_lifts_the_tier_and_starts_the_sla_clock_and_is_idempotent(engine, world):
    rows = [
        ["客户编号", "时间", "金额(元)", "流水号"],
        ["C0000001", f"{RECENT} 14:05", "12000", "R1"],
        ["C0000002", f"{RECENT} 15:00", "1", "R2"],  # Gold without spend: no downgrade at an import
        ["C9999999", RECENT, "1", "R3"],
    ]
    result = _apply(engine, "purchases", rows, encoding="gbk", name="gbk.csv")
    assert (result["inserted"], result["unchanged"], result["rejected"]) == (2, 0, 1)
    assert result["effects"]["upgrades"] == 1 and result["effects"]["new_vips"] == 1
    with Session(engine) as s:
        member = s.get(Customer, world["member"])
        assert member.tier_rank == 2  # ¥12,000 in 12 months: Gold
        assert member.waiting_since is not None
        assert member.binding_due == add_working_days(local_date(member.waiting_since), 3)
        assert s.get(Customer, world["gold"]).tier_rank == 2
        event = s.exec(
            select(TierChange).where(TierChange.customer_id == world["member"]).order_by(TierChange.id.desc())
        ).first()
        assert (event.kind, event.from_rank, event.to_rank) == ("upgrade", 0, 2)
        stored = s.exec(select(Purchase).where(Purchase.reference == "R1")).one()
        assert stored.amount_fen == 1200000
        assert stored.at == dt.datetime.combine(TODAY - dt.timedelta(days=10), dt.time(6, 5), tzinfo=dt.UTC)
        file_keys = s.exec(select(AppMeta).where(AppMeta.key.startswith("import_file:"))).all()
        assert file_keys == []  # the file is not kept after the import
    before = (_count(engine, Purchase), _count(engine, TierChange))
    again = _apply(engine, "purchases", rows, encoding="gbk", name="gbk.csv")
    assert (again["inserted"], again["unchanged"], again["rejected"]) == (0, 2, 1)
    assert (_count(engine, Purchase), _count(engine, TierChange)) == before


def test_customer_import_twice_changes_nothing_the_second_time(engine, world):
    rows = [
        ["code", "name", "phone", "region", "birthday"],
        ["C0000020", "王芳", "13900001111", "深圳", "1980-02-29"],
        ["C0000001", "客户C0000001", "", "佛山", ""],
    ]
    first = _apply(engine, "customers", rows)
    assert (first["inserted"], first["updated"]) == (1, 1)
    with Session(engine) as s:
        new = s.exec(select(Customer).where(Customer.code == "C0000020")).one()
        assert (new.name, new.phone, new.birthday, new.tier_rank) == ("王芳", "13900001111", dt.date(1980, 2, 29), 0)
        assert s.exec(select(TierChange).where(TierChange.customer_id == new.id)).one().kind == "initial"
        assert s.get(Customer, world["member"]).region == "佛山"
    counts = (_count(engine, Customer), _count(engine, TierChange))
    second = _apply(engine, "customers", rows)
    assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, 2)
    assert (_count(engine, Customer), _count(engine, TierChange)) == counts


def test_calls_import_writes_contacts_reaches_the_review_queue_and_is_idempotent(engine, world):
    started = f"{(TODAY - dt.timedelta(days=1)).isoformat()} 10:00"
    rows = [
        ["reference", "customer_code", "caller_code", "type", "start", "duration", "outcome", "result", "transcript"],
        ["CL-1", "C0000001", "AG01", "care", started, "120", "connected", "success", "Agent: hello"],
        ["CL-2", "C0000003", "CM01", "retention", started, "0", "no_answer", "", ""],
    ]
    result = _apply(engine, "calls", rows)
    assert result["inserted"] == 2
    with Session(engine) as s:
        call = s.exec(select(Call).where(Call.reference == "CL-1")).one()
        contact = s.exec(select(Contact).where(Contact.call_id == call.id)).one()
        assert (contact.kind, contact.outcome, contact.stream, contact.staff_id) == (
            "call",
            "connected",
            "maintenance",
            world["agent"],
        )
        queue = build_queue(s, s.get(Team, world["team_id"]), week_of(local_date(call.started_at)))
        assert "CL-1" in set(queue.rows["reference"])  # the review queue sees the new connected call
    counts = (_count(engine, Call), _count(engine, Contact))
    again = _apply(engine, "calls", rows)
    assert (again["inserted"], again["unchanged"]) == (0, 2)
    assert (_count(engine, Call), _count(engine, Contact)) == counts
    dup = _dry(engine, "calls", [rows[0], ["CL-1", "C0000003", "AG01", "care", started, "1", "busy", "", ""]])
    assert dup.validation.rows[0].status == "duplicate_db"


def test_contacts_import_is_idempotent_on_customer_staff_kind_and_time(engine, world):
    rows = [["客户编号", "工号", "类型", "日期", "时间"], ["C0000001", "CM01", "短信", RECENT, "09:30"]]
    assert _apply(engine, "contacts", rows)["inserted"] == 1
    assert _apply(engine, "contacts", rows)["unchanged"] == 1
    with Session(engine) as s:
        contact = s.exec(select(Contact).where(Contact.kind == "sms")).one()
        assert contact.at == dt.datetime.combine(TODAY - dt.timedelta(days=10), dt.time(1, 30), tzinfo=dt.UTC)
    assert _count(engine, Contact) == 1


def test_xlsx_import_with_excel_dates(engine, world):
    data = xlsx_bytes(
        [
            ["客户编号", "交易时间", "金额", "流水号"],
            ["C0000003", dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(11, 0)), 5000, "X-1"],
            ["C0000003", dt.datetime.combine(TODAY - dt.timedelta(days=2), dt.time(11, 0)), "=A1*2", "X-2"],
        ]
    )
    with Session(engine) as s:
        dry = dry_run(session=s, actor=SUPERVISOR, kind="purchases", file=ImportFile("p.xlsx", data))
    assert [r.status for r in dry.validation.rows] == ["ok", "formula"]
    result = run_import(engine, kind="purchases", data=data, file_name="p.xlsx", mapping=dry.mapping())
    assert result["inserted"] == 1 and result["effects"]["upgrades"] == 1  # ¥5,000: Silver


def test_a_remembered_mapping_is_used_for_the_next_file_of_the_source(engine, world):
    rows = [["cust", "when", "yuan", "docno"], ["C0000003", RECENT, "10", "M-1"]]
    with pytest.raises(MappingError):
        _dry(engine, "purchases", rows, source="billing")
    mapping = {"customer_code": "cust", "at": "when", "amount": "yuan", "reference": "docno"}
    _apply(engine, "purchases", rows, source="billing", mapping=mapping)
    nxt = [["docno", "cust", "yuan", "when"], ["M-2", "C0000003", "20", RECENT]]
    dry = _dry(engine, "purchases", nxt, source="billing")
    assert dry.resolved.how == dict.fromkeys(mapping, "remembered")
    assert [r.status for r in dry.validation.rows] == ["ok"]
    with Session(engine) as s:
        items = list_mappings(session=s, actor=SUPERVISOR)
        assert [(m["kind"], m["source"], m["fields"]) for m in items] == [("purchases", "billing", mapping)]
        assert forget_mapping(session=s, actor=SUPERVISOR, kind="purchases", source="billing")
        s.commit()
        assert list_mappings(session=s, actor=SUPERVISOR) == []
        save_mapping(session=s, actor=SUPERVISOR, kind="calls", source="呼叫中心", fields={"reference": "话单号"})
        s.commit()
        assert [(m["source"], m["fields"]) for m in list_mappings(session=s, actor=SUPERVISOR)] == [
            ("呼叫中心", {"reference": "话单号"})
        ]
        with pytest.raises(MappingError, match="colon"):
            save_mapping(session=s, actor=SUPERVISOR, kind="calls", source="a:b", fields={})
        with pytest.raises(PermissionDenied):
            save_mapping(session=s, actor=AGENT, kind="calls", source="x", fields={})


def test_history_lists_the_import_with_its_counts_and_rejects(engine, world):
    rows = [["客户编号", "时间", "金额", "流水号"], ["C0000003", RECENT, "1", "H-1"], ["NOPE", RECENT, "1", "H-2"]]
    _apply(engine, "purchases", rows, source="crm", name="nightly.csv")
    with Session(engine) as s:
        history = import_history(session=s, actor=SUPERVISOR)
        assert history.total == 1
        row = history.rows.iloc[0]
        assert (row["kind"], row["file_name"], row["source"], row["status"]) == (
            "purchases",
            "nightly.csv",
            "crm",
            "done",
        )
        assert (row["rows"], row["added"], row["rejected"]) == (2, 1, 1)
        rejects = import_rejects(session=s, actor=SUPERVISOR, job_id=int(row["job_id"]))
        assert list(rejects["line"]) == [3] and list(rejects["status"]) == ["customer not found"]
        audit = s.exec(select(AuditLog).where(AuditLog.action == "imports.apply")).one()
        assert "nightly.csv" in audit.params and "H-1" not in audit.params  # the file is named, not stored
        with pytest.raises(PermissionDenied):
            import_history(session=s, actor=AGENT)


def test_one_import_at_a_time(engine, world):
    rows = [["客户编号", "时间", "金额", "流水号"], ["C0000003", RECENT, "1", "O-1"]]
    with Session(engine) as s:
        start_import(session=s, actor=SUPERVISOR, kind="purchases", file=_file(rows))
        s.commit()
    with Session(engine) as s, pytest.raises(ImportRefused, match="Another import"):
        start_import(session=s, actor=SUPERVISOR, kind="purchases", file=_file(rows))


def test_a_stopped_import_resumes_without_writing_twice(engine, world, monkeypatch):
    rows = [["客户编号", "时间", "金额", "流水号"]] + [["C0000003", RECENT, "1", f"S-{i}"] for i in range(7)]
    data = csv_bytes(rows)
    monkeypatch.setattr(apply_mod, "WRITE_CHUNK", 3)
    calls = {"n": 0}
    real = apply_mod.WRITERS["purchases"]

    def failing(session, part, now):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real(session, part, now)

    monkeypatch.setitem(apply_mod.WRITERS, "purchases", failing)
    with Session(engine) as s:
        job_id = start_import(session=s, actor=SUPERVISOR, kind="purchases", file=ImportFile("s.csv", data))
        s.commit()
    jobs.work_once(engine)
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job.status == "failed"
        checkpoint = json.loads(job.checkpoint)
        assert checkpoint["inserted"] == 3  # the first chunk committed with its checkpoint
        job.status = "queued"  # the worker picks it up again (as a stale job would be)
        s.add(job)
        s.commit()
    assert _count(engine, Purchase) == 1 + 3
    jobs.work_once(engine)
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        result = json.loads(job.result)
    assert result["inserted"] == 7 and result["counts"]["ok"] == 7
    assert _count(engine, Purchase) == 1 + 7


# ------------------------------------------------------------------------------------------------ command line


def _cli(engine, tmp_path, rows, *args, encoding="utf-8"):
    path = tmp_path / "load.csv"
    path.write_bytes(csv_bytes(rows, encoding=encoding))
    ns = argparse.Namespace(kind=args[0], file=str(path), apply="--apply" in args, source=None, map=[], all=False)
    out = io.StringIO()
    code = cli_main(engine, ns, out=out)
    return code, out.getvalue()


def test_cli_exit_codes(engine, world, tmp_path):
    good = [["客户编号", "时间", "金额", "流水号"], ["C0000003", RECENT, "1", "CLI-1"]]
    bad = [*good, ["NOPE", RECENT, "1", "CLI-2"]]
    code, out = _cli(engine, tmp_path, good, "purchases")
    assert code == 0 and "Nothing was written" in out
    assert _count(engine, Purchase) == 1
    code, out = _cli(engine, tmp_path, bad, "purchases", encoding="gbk")
    assert code == 1 and "line 3: customer not found - No customer with code NOPE." in out
    code, out = _cli(engine, tmp_path, bad, "purchases", "--apply")
    assert code == 1 and "applied (job" in out and "1 added" in out
    assert _count(engine, Purchase) == 2
    code, out = _cli(engine, tmp_path, good, "purchases", "--apply")
    assert code == 0 and "1 already imported" in out
    code, _ = _cli(engine, tmp_path, [["only one column"], ["x"]], "purchases")
    assert code == 2
    assert _count(engine, Purchase) == 2


def test_cli_from_the_console_entry_point(engine, world, tmp_path, capsys):
    from console.__main__ import main

    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes([["客户编号", "时间", "金额", "流水号"], ["C0000003", RECENT, "1", "E-1"]]))
    assert (
        main(
            [
                "--database-url",
                str(engine.url.render_as_string(hide_password=False)),
                "import",
                "purchases",
                str(path),
                "--apply",
            ]
        )
        == 0
    )
    assert "1 added" in capsys.readouterr().out
