"""Jobs (claiming, progress, resume, failure), the audit mechanism, translations."""

import datetime as dt
import json
import re
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select

from console import audit, jobs
from console.audit import command
from console.i18n import LANGUAGES, pick, set_language, t
from console.locale import ZH
from console.permissions import PERMISSIONS, Actor
from models import AuditLog, Job

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor(user_id=None, username="tester", role="admin")


@pytest.fixture
def counting_handler():
    calls = []

    @jobs.handler("test_count", action="demo.reset")
    def _count(ctx):
        start = (ctx.checkpoint or {}).get("next", 0)
        total = ctx.params["n"]
        for i in range(start, total):
            calls.append(i)
            if ctx.params.get("fail_at") == i:
                raise RuntimeError("boom")
            ctx.save_checkpoint({"next": i + 1})
            ctx.progress(i + 1, total, f"{i + 1}/{total}")
        return {"message": f"counted {total}"}

    yield calls
    jobs.HANDLERS.pop("test_count", None)
    jobs.KIND_ACTIONS.pop("test_count", None)


def _enqueue(engine, **params):
    with Session(engine) as s:
        job = jobs.enqueue(s, actor=ADMIN, kind="test_count", params=params)
        s.commit()
        return job.id


def test_job_runs_with_progress(engine, counting_handler):
    job_id = _enqueue(engine, n=5)
    assert jobs.work_once(engine) == job_id
    with Session(engine) as s:
        job = s.get(Job, job_id)
    assert job.status == "done" and job.progress == 5 and job.total == 5
    assert job.message == "counted 5"
    assert counting_handler == [0, 1, 2, 3, 4]
    assert jobs.work_once(engine) is None


def test_failed_job_is_recorded_not_raised(engine, counting_handler):
    job_id = _enqueue(engine, n=5, fail_at=2)
    jobs.work_once(engine)
    with Session(engine) as s:
        job = s.get(Job, job_id)
    assert job.status == "failed" and "boom" in job.error
    assert json.loads(job.checkpoint) == {"next": 2}


def test_stale_job_is_reclaimed_and_resumes_from_checkpoint(engine, counting_handler):
    job_id = _enqueue(engine, n=4)
    # A worker claimed it, did two steps, then died (no heartbeat since).
    assert jobs.claim_next(engine, "dead-worker") == job_id
    with Session(engine) as s:
        job = s.get(Job, job_id)
        job.checkpoint = json.dumps({"next": 2})
        job.heartbeat_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        s.add(job)
        s.commit()
    assert jobs.claim_next(engine, "other") == job_id
    assert jobs.run_job(engine, job_id) == "done"
    assert counting_handler == [2, 3]


def test_a_running_job_is_not_claimed_twice(engine, counting_handler):
    _enqueue(engine, n=1)
    claimed = []
    barrier = threading.Barrier(4)

    def claim(name):
        barrier.wait()
        claimed.append(jobs.claim_next(engine, name))

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(c for c in claimed if c is not None) == [1] or len([c for c in claimed if c]) == 1


def test_enqueue_checks_permission(engine, counting_handler):
    from console.permissions import PermissionDenied

    with Session(engine) as s, pytest.raises(PermissionDenied):
        jobs.enqueue(s, actor=Actor(user_id=None, username="a", role="agent"), kind="test_count", params={"n": 1})


def test_command_writes_one_audit_row(engine, monkeypatch):
    monkeypatch.setitem(PERMISSIONS, "test.thing", frozenset({"admin"}))

    @command("test.thing")
    def do_thing(*, session, actor, value, password="x"):
        audit.note(entity="thing", entity_id=7, before={"v": 0}, after={"v": value}, counts={"moved": 3})
        return value * 2

    with Session(engine) as s:
        assert do_thing(session=s, actor=ADMIN, value=21) == 42
        s.commit()
        rows = s.exec(select(AuditLog)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.actor, row.action, row.entity, row.entity_id) == ("tester", "test.thing", "thing", "7")
    assert json.loads(row.params) == {"value": 21, "password": "***"}
    assert json.loads(row.counts) == {"moved": 3}
    assert json.loads(row.after) == {"v": 21}


def test_failed_command_leaves_no_audit_row(engine, monkeypatch):
    monkeypatch.setitem(PERMISSIONS, "test.fail", frozenset({"admin"}))

    @command("test.fail")
    def fail(*, session, actor):
        raise ValueError("no")

    with Session(engine) as s:
        with pytest.raises(ValueError):
            fail(session=s, actor=ADMIN)
        s.commit()
        assert s.exec(select(AuditLog)).all() == []


def test_translation_switch():
    set_language("zh")
    try:
        assert t("Log in") == "登录"
        assert t("{days} days", days=3) == "3 天"
        assert pick({"name_en": "Gold", "name_zh": "金卡"}, "name") == "金卡"
    finally:
        set_language("en")
    assert t("Log in") == "Log in"
    assert set(LANGUAGES) == {"en", "zh"}


def _literal_strings():
    pattern = re.compile(r"""\bt\(\s*(["'])((?:(?!\1).)+)\1""")
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "console").rglob("*.py")]
    found = set()
    for path in files:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(2))
    return found


def test_every_ui_string_has_a_chinese_translation():
    strings = _literal_strings()
    assert len(strings) > 50
    missing = sorted(s for s in strings if s not in ZH)
    assert missing == []


def test_placeholders_match_between_languages():
    for en, zh in ZH.items():
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), en
