"""CSV import of assignments: every row status, encodings, Excel's leading ', the row limit, bad files,
one transaction on apply, the rejects file."""

import csv
import datetime as dt
import io

import pytest
from sqlmodel import Session, select

from console.assignment import apply_import, import_dry_run
from console.assignment.imports import MAX_ROWS, parse
from console.assignment.rules import Refused, Stale
from console.permissions import Actor, PermissionDenied
from models import Assignment, AssignmentBatch, AuditLog, Customer
from tests.unit import factories_assignment as f

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def setup(engine):
    with Session(engine) as s:
        sup = f.login(s, "sup", "supervisor")
        f.manager(s, "CM001", level="junior", capacity=6)
        b = f.manager(s, "CM002", level="senior", capacity=20)
        f.manager(s, "CM009", level="senior", leave=(TODAY, TODAY + dt.timedelta(days=3)))
        f.vip(s, "V001", 1)
        f.vip(s, "V002", 2)
        f.vip(s, "V003", 3)  # platinum: not for a junior
        f.vip(s, "V004", 2)
        f.vip(s, "V005", 2)
        f.vip(s, "V006", 2)
        f.vip(s, "V007", 1, mgr=b)
        f.vip(s, "M001", 0)  # a Member
        s.commit()
    return engine, sup


def _dry(setup, text, *, encoding="utf-8", raw=None):
    engine, sup = setup
    data = raw if raw is not None else text.encode(encoding)
    with Session(engine) as s:
        return import_dry_run(session=s, actor=sup, data=data, today=TODAY)


def _statuses(dry):
    return list(zip(dry.rows["vip_code"], dry.rows["status"], strict=True))


FILE = """vip_code,manager_code,reason
V001,CM001,
v002,cm001,customer_request
V003,CM001,
V004,CM001,
V005,CM001,
V006,CM404,
V404,CM002,
V007,CM002,
M001,CM002,
V004,CM002,
V001,CM009,performance
V001,CM002,whim
"""


def test_every_status_of_the_dry_run(setup):
    dry = _dry(
        setup,
        FILE.replace("V004,CM002,\n", "").replace("V001,CM009,performance\n", "").replace("V001,CM002,whim\n", ""),
    )
    assert _statuses(dry) == [
        ("V001", "ok"),  # CM001: 1/6
        ("v002", "ok_case"),  # codes read as V002 / CM001: 3/6
        ("V003", "not_allowed"),  # a junior may not hold Platinum
        ("V004", "ok"),  # 5/6
        ("V005", "over_capacity"),  # cumulatively: 5 + 2 > 6
        ("V006", "unknown_manager"),
        ("V404", "unknown_vip"),
        ("V007", "unchanged"),  # already with CM002
        ("M001", "not_allowed"),  # Members are not assigned
    ]
    assert dry.rows.loc[1, "detail"] == "Read as V002 → CM001."
    assert dry.rows.loc[4, "detail"] == "CM001 would be at 7 of 6 units"
    assert [m.code for m in dry.moves] == ["V001", "V002", "V004"]
    assert dry.moves[1].reason == "customer_request" and dry.moves[0].reason == "import"


def test_duplicates_unknown_reason_and_unavailable_manager(setup):
    dry = _dry(
        setup, "vip_code,manager_code,reason\nV004,CM001,\nV001,CM009,performance\nv004,CM002,\nV002,CM002,whim\n"
    )
    assert _statuses(dry) == [
        ("V004", "duplicate"),
        ("V001", "manager_unavailable"),
        ("v004", "duplicate"),
        ("V002", "unknown_reason"),
    ]
    assert dry.rows.loc[0, "detail"] == "Also on lines 4."
    assert dry.moves == []


def test_encodings_bom_gbk_and_excel_quote(setup):
    text = "vip_code,manager_code,reason\n'V001,'CM001,import\nV002,CM001,\n"
    for data in (text.encode("utf-8"), text.encode("utf-8-sig"), text.encode("gbk")):
        dry = _dry(setup, "", raw=data)
        assert _statuses(dry) == [("V001", "ok"), ("V002", "ok")]
    # GBK with Chinese in an extra column and a header Excel wrote with a BOM and spaces.
    gbk = "vip_code , manager_code,备注\nV001,CM001,老客户\n".encode("gbk")
    assert _statuses(_dry(setup, "", raw=gbk)) == [("V001", "ok")]
    assert _statuses(_dry(setup, "vip_code;manager_code\nV001;CM001\n")) == [("V001", "ok")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"   \n\n", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        ("vip_code,manager_code\n".encode("utf-16"), "binary data"),
        (b"\xff\xfe\xfa\xfb\xfc", "neither UTF-8 nor GBK"),
        (b"code,manager\nV001,CM001\n", "Missing columns: vip_code, manager_code"),
        (b"vip_code,manager\nV001,CM001\n", "Missing columns: manager_code"),
        (b"vip_code,manager_code\n", "a header but no rows"),
    ],
)
def test_bad_files_get_a_clear_message(setup, data, message):
    with pytest.raises(Refused, match=message):
        _dry(setup, "", raw=data)


def test_row_limit_is_named(setup):
    header = "vip_code,manager_code\n"
    too_many = header + "V001,CM001\n" * (MAX_ROWS + 1)
    with pytest.raises(Refused, match="50,001 rows; at most 50,000 rows"):
        parse(too_many.encode())
    assert len(parse((header + "V001,CM001\n" * MAX_ROWS).encode())) == MAX_ROWS


def test_apply_writes_the_valid_rows_in_one_batch(setup):
    engine, sup = setup
    dry = _dry(setup, FILE)
    with Session(engine) as s:
        applied = apply_import(session=s, actor=sup, plan=dry.plan(), today=TODAY)
        s.commit()
    with Session(engine) as s:
        batch = s.get(AssignmentBatch, applied.batch_id)
        rows = s.exec(select(Assignment).order_by(Assignment.id)).all()
        v2 = s.exec(select(Customer).where(Customer.code == "V002")).one()
        audit = s.exec(select(AuditLog).where(AuditLog.action == "assignment.import")).one()
    assert batch.kind == "import" and batch.moves == len(dry.moves) == len(rows)
    assert {r.batch_id for r in rows} == {applied.batch_id}
    assert v2.manager_id is not None and [r.reason for r in rows if r.customer_id == v2.id] == ["customer_request"]
    assert audit.batch == str(applied.batch_id)


def test_apply_is_refused_whole_if_a_row_changed_since_the_dry_run(setup):
    engine, sup = setup
    dry = _dry(setup, "vip_code,manager_code\nV001,CM001\nV002,CM002\n")
    with Session(engine) as s:
        v2 = s.exec(select(Customer).where(Customer.code == "V002")).one()
        v2.assignment_version += 1  # someone else moved it meanwhile
        s.add(v2)
        s.commit()
    with Session(engine) as s, pytest.raises(Stale):
        apply_import(session=s, actor=sup, plan=dry.plan(), today=TODAY)
    with Session(engine) as s:
        assert s.exec(select(Assignment)).all() == []  # not even V001: one transaction


def test_rejects_download_as_csv_with_the_reason(setup):
    dry = _dry(setup, FILE)
    data = dry.rejects_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    # V001 and V004 appear more than once: every occurrence is rejected, so the file's intent is never guessed.
    assert [(r["row"], r["vip_code"], r["status"]) for r in rows] == [
        ("2", "V001", "duplicate in file"),
        ("4", "V003", "tier not allowed for the level"),
        ("5", "V004", "duplicate in file"),
        ("7", "V006", "unknown manager"),
        ("8", "V404", "unknown VIP"),
        ("9", "V007", "already with this manager"),
        ("10", "M001", "tier not allowed for the level"),
        ("11", "V004", "duplicate in file"),
        ("12", "V001", "duplicate in file"),
        ("13", "V001", "duplicate in file"),
    ]
    assert rows[0]["detail"] == "Also on lines 12, 13."
    assert [m.code for m in dry.moves] == ["V002", "V005"]


def test_only_supervisors_may_import(setup):
    engine, _ = setup
    with Session(engine) as s, pytest.raises(PermissionDenied):
        import_dry_run(session=s, actor=Actor(None, "m", "client_manager", staff_id=1), data=b"vip_code,manager_code\n")
