"""The Imports area (issue 8) in AppTest: the wizard, the history and the source mappings.

An admin reaches it as the Admin page's "Imports" tab. A supervisor cannot open Admin; until the lead wires the
area into a page supervisors see, their test renders render_imports(user) after the real login form.
"""

import datetime as dt

from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from console import jobs
from console.timeutil import today_local
from models import Customer, Job, Purchase
from tests.app.conftest import login, new_app, sidebar_pages, texts
from tests.unit.factories_imports import csv_bytes


def _supervisor_script() -> None:
    from console.ui import require_login
    from console.ui.imports_page import render_imports

    render_imports(require_login())


def _member(engine) -> Customer:
    with Session(engine) as s:
        return s.exec(
            select(Customer)
            .where(Customer.tier_rank == 0, Customer.is_training == False, Customer.manager_id.is_(None))  # noqa: E712
            .order_by(Customer.code)
        ).first()


def _purchases_file(code: str) -> bytes:
    day = (today_local() - dt.timedelta(days=1)).isoformat()
    rows = [
        ["客户编号", "交易时间", "金额(元)", "流水号"],
        [code, f"{day} 10:30", "￥12,000.00", "APPTEST-1"],
        ["NOPE-404", f"{day} 11:00", "5", "APPTEST-2"],
    ]
    return csv_bytes(rows, encoding="gbk")


def _frame(at, column):
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with {column!r}")


def _open_admin(app):
    login(app, "admin")
    app.switch_page("pages/admin.py").run()
    assert not app.exception, app.exception
    return app


def _dry_run_and_apply(at: AppTest, engine, code: str) -> None:
    at.selectbox(key="imports.kind").set_value("purchases").run()
    at.file_uploader(key="imports.file").set_value(("kauf.csv", _purchases_file(code), "text/csv")).run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "CSV, GBK, separated by comma: 2 rows." in shown
    # Chinese headers recognised: every required column is preselected
    assert at.selectbox(key=next(k for k in _keys(at) if k.endswith(".amount"))).value == "金额(元)"
    at.button(key="imports.dry_run").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Rows"], metrics["To write"], metrics["Rejected"]) == ("2", "1", "1")
    rows = _frame(at, "detail")
    assert list(rows["status"]) == ["customer not found"]  # rejected rows first: the toggle is on
    assert any(b.key == "imports.rejects" for b in at.get("download_button"))
    with Session(engine) as s:
        assert s.exec(select(Purchase).where(Purchase.reference == "APPTEST-1")).first() is None
    at.button(key="imports.apply").click().run()
    at.button(key="imports.confirm").click().run()
    assert not at.exception, at.exception
    assert jobs.work_once(engine) is not None
    with Session(engine) as s:
        job = s.exec(select(Job).where(Job.kind == "data_import")).one()
        assert job.status == "done", job.error
        assert s.get(Customer, _member_id(engine, code)).tier_rank == 2
    at.run()
    assert any("1 added" in str(e.value) and "Tier upgrades: 1." in str(e.value) for e in at.success)
    changes = _frame(at, "to_tier")
    assert changes.iloc[0][["code", "from_tier", "to_tier"]].tolist() == [code, "Member", "Gold"]


def _keys(at: AppTest) -> list[str]:
    return [w.key for w in at.selectbox if w.key]


def _member_id(engine, code: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Customer.id).where(Customer.code == code)).one()


def test_admin_imports_a_gbk_csv_of_purchases_from_the_admin_tab(app, seeded_engine):
    member = _member(seeded_engine)
    _open_admin(app)
    assert "Imports" in [tab.label for tab in app.tabs]
    _dry_run_and_apply(app, seeded_engine, member.code)
    app.segmented_control(key="imports.view").set_value("History").run()
    history = _frame(app, "file_name")
    assert list(history["file_name"]) == ["kauf.csv"]
    assert (history.iloc[0]["added"], history.iloc[0]["rejected"]) == (1, 1)


def test_supervisor_uses_the_wizard_and_remembers_a_mapping(seeded_url, seeded_engine):
    at = AppTest.from_function(_supervisor_script, default_timeout=60)
    login(at, "supervisor")
    assert not at.exception, at.exception
    at.text_input(key="imports.source").input("billing").run()
    member = _member(seeded_engine)
    _dry_run_and_apply(at, seeded_engine, member.code)
    at.segmented_control(key="imports.view").set_value("Source mappings").run()
    mappings = _frame(at, "columns")
    assert list(mappings["source"]) == ["billing"]
    assert "amount ← 金额(元)" in mappings.iloc[0]["columns"]
    at.button(key="imports.forget").click().run()
    assert "No remembered mappings yet." in texts(at)


def test_supervisor_cannot_open_admin_and_other_roles_are_refused(seeded_url):
    at = new_app()
    login(at, "supervisor")
    assert "Admin" not in sidebar_pages(at)
    lead = AppTest.from_function(_supervisor_script, default_timeout=60)
    login(lead, "lead")
    assert "You do not have access to this page." in texts(lead)
    assert not lead.file_uploader


def test_a_refused_file_shows_the_reason_and_no_dry_run(app):
    _open_admin(app)
    app.file_uploader(key="imports.file").set_value(("x.csv", b"code|name\nC1|A\n", "text/csv")).run()
    assert any("Only one column was found" in str(e.value) for e in app.error)
    assert not [b for b in app.button if b.key == "imports.dry_run"]
