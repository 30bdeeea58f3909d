"""The demo-data generator: determinism across processes, refusal, scenarios and consistency (SPEC §6)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

import models
from console.checklists import compute_due
from console.db import make_engine
from console.migrate import upgrade
from console.scoring import Answer, ItemSpec, SectionSpec, ViolationSpec, compute_score
from console.timeutil import add_working_days
from seed.demo import KEPT_TABLES, generate, reset_and_generate
from seed.scales import SCALES

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 20)
SEED = 7
SMALL = SCALES["small"]
LEVEL_MAX = {"junior": 2, "senior": 4, "enterprise": 5}


def _ts(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _local_day(value: str) -> dt.date:
    return (dt.datetime.fromisoformat(value) + dt.timedelta(hours=8)).date()


def _year_before(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


def _seed_cli(db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "seed",
            "--scale",
            "small",
            "--seed",
            str(SEED),
            "--as-of",
            AS_OF.isoformat(),
            "--database-url",
            f"sqlite:///{db}",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _content_hash(db: Path) -> str:
    """A hash of every generated table (reference data, jobs and the audit log excluded), ignoring the two
    values that are real-time by design: the salted password hash and seeded_at in the demo marker."""
    digest = hashlib.sha256()
    con = sqlite3.connect(db)
    try:
        for table in models.metadata.sorted_tables:
            if table.name in KEPT_TABLES:
                continue
            cols = [c.name for c in table.columns if not (table.name == "user" and c.name == "password_hash")]
            pk = ", ".join(c.name for c in table.primary_key.columns)
            quoted = ", ".join(f'"{c}"' for c in cols)
            for row in con.execute(f'SELECT {quoted} FROM "{table.name}" ORDER BY {pk}'):
                values = list(row)
                if table.name == "appmeta":
                    marker = json.loads(values[cols.index("value")])
                    marker.pop("seeded_at", None)
                    values[cols.index("value")] = json.dumps(marker, sort_keys=True)
                digest.update(repr((table.name, values)).encode())
    finally:
        con.close()
    return digest.hexdigest()


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return {
            t.name: con.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0] for t in models.metadata.sorted_tables
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, sqlite3.Connection]]:
    db = tmp_path_factory.mktemp("seed") / "small.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    counts = generate(engine, scale="small", seed=SEED, as_of=AS_OF)
    engine.dispose()
    assert counts["customer"] == SMALL.customers
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    yield db, con
    con.close()


# -- the command line and determinism -------------------------------------------------------------------------


def test_two_processes_give_identical_data_and_a_second_run_is_refused(
    seeded: tuple[Path, sqlite3.Connection], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for db in (first, second):
        done = _seed_cli(db)
        assert done.returncode == 0, done.stderr
        assert "customers" in done.stdout
        assert "customer" in done.stderr  # progress lines: phase, rows, elapsed
    assert _content_hash(first) == _content_hash(second) == _content_hash(seeded[0])  # and == in-process

    before_counts, before_hash = _counts(first), _content_hash(first)
    refused = _seed_cli(first)
    assert refused.returncode == 2
    assert "already has" in refused.stderr and "--reset" in refused.stderr
    assert _counts(first) == before_counts and _content_hash(first) == before_hash

    skipped = _seed_cli(first, "--if-empty")
    assert skipped.returncode == 0
    assert "already has data" in skipped.stdout
    assert _counts(first) == before_counts and _content_hash(first) == before_hash


def test_reset_keeps_jobs_and_audit_and_regenerates(tmp_path: Path) -> None:
    db = tmp_path / "reset.db"
    engine: Engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    generate(engine, scale="small", seed=SEED, as_of=AS_OF)
    reference_before = {t: n for t, n in _counts(db).items() if t in KEPT_TABLES}
    with engine.begin() as conn:
        conn.execute(insert(models.Job).values(kind="demo_reset", status="done", params="{}"))
        conn.execute(insert(models.AuditLog).values(actor="admin", action="demo.reset"))
    fresh_hash = _content_hash(db)
    counts = reset_and_generate(engine, scale="small", seed=SEED, as_of=AS_OF)
    engine.dispose()
    after = _counts(db)
    assert after["job"] == 1 and after["auditlog"] == 1
    assert {t: n for t, n in after.items() if t in KEPT_TABLES - {"job", "auditlog"}} == {
        t: n for t, n in reference_before.items() if t not in ("job", "auditlog")
    }
    assert counts["customer"] == after["customer"] == SMALL.customers
    assert _content_hash(db) == fresh_hash


# -- scenarios ------------------------------------------------------------------------------------------------


def _loads(con: sqlite3.Connection) -> dict[int, tuple[int, int, str]]:
    """manager id -> (load in units, capacity, level)."""
    rows = con.execute(
        "SELECT s.id, s.capacity_units, s.manager_level, COALESCE(SUM(t.units), 0) AS load FROM staff s"
        " LEFT JOIN customer c ON c.manager_id = s.id LEFT JOIN tierlevel t ON t.rank = c.tier_rank"
        " WHERE s.role = 'client_manager' GROUP BY s.id"
    ).fetchall()
    return {r["id"]: (r["load"], r["capacity_units"], r["manager_level"]) for r in rows}


def test_two_managers_over_capacity_and_everyone_else_within(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    loads = _loads(con)
    over = [m for m, (load, cap, _) in loads.items() if load > cap]
    assert len(over) == 2
    assert sum(1 for m in loads.values() if m[2] == "enterprise") == SMALL.managers[0]
    # the over-capacity managers were pushed over by upgrades after the customers were assigned
    for m in over:
        upgraded = con.execute(
            "SELECT COUNT(*) FROM customer c JOIN tierchange t ON t.customer_id = c.id AND t.at = c.tier_since"
            " WHERE c.manager_id = ? AND t.kind = 'upgrade' AND c.assigned_at < t.at",
            (m,),
        ).fetchone()[0]
        assert upgraded > 0


def test_levels_hold_their_tiers_except_the_junior_with_a_platinum(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    rows = con.execute(
        "SELECT c.id, c.tier_rank, s.manager_level FROM customer c JOIN staff s ON s.id = c.manager_id"
    ).fetchall()
    breaking = [r for r in rows if r["tier_rank"] > LEVEL_MAX[r["manager_level"]]]
    assert len(breaking) == 1
    (jp,) = breaking
    assert jp["manager_level"] == "junior" and jp["tier_rank"] == 3
    last = con.execute(
        "SELECT from_rank, to_rank, kind, at FROM tierchange WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT 1",
        (jp["id"],),
    ).fetchone()
    assert (last["from_rank"], last["to_rank"], last["kind"]) == (2, 3, "upgrade")
    first_assignment = con.execute("SELECT MIN(at) FROM assignment WHERE customer_id = ?", (jp["id"],)).fetchone()[0]
    assert first_assignment < last["at"]  # assigned while Gold, then upgraded
    manager = con.execute("SELECT staff_id FROM user WHERE username = 'manager'").fetchone()[0]
    assert con.execute("SELECT manager_id FROM customer WHERE id = ?", (jp["id"],)).fetchone()[0] == manager
    assert not con.execute(
        "SELECT COUNT(*) FROM customer WHERE tier_rank = 5 AND manager_id IN "
        "(SELECT id FROM staff WHERE manager_level != 'enterprise')"
    ).fetchone()[0]


def test_unassigned_new_vips_with_partly_breached_binding(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    rows = con.execute(
        "SELECT id, waiting_since, binding_due, vip_since, tier_since FROM customer"
        " WHERE tier_rank >= 1 AND manager_id IS NULL"
    ).fetchall()
    assert len(rows) == SMALL.unassigned_new_vips
    breached = 0
    for r in rows:
        assert r["waiting_since"] is not None and r["binding_due"] is not None
        day0 = _local_day(r["waiting_since"])
        assert dt.date.fromisoformat(r["binding_due"]) == add_working_days(day0, 3)
        assert day0 < AS_OF
        breached += dt.date.fromisoformat(r["binding_due"]) < AS_OF
    assert 0 < breached < len(rows)
    assert not con.execute("SELECT COUNT(*) FROM customer WHERE tier_rank = 0 AND manager_id IS NOT NULL").fetchone()[0]


def test_leave_with_cover_and_an_exit(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    on_leave = con.execute(
        "SELECT id FROM staff WHERE role = 'client_manager' AND leave_start <= ? AND leave_end >= ?",
        (AS_OF.isoformat(), AS_OF.isoformat()),
    ).fetchall()
    assert len(on_leave) == 1
    leave_id = on_leave[0]["id"]
    covers = con.execute(
        "SELECT a.customer_id, a.to_manager_id, c.manager_id FROM assignment a JOIN customer c ON c.id = a.customer_id"
        " WHERE a.reason = 'cover' AND a.from_manager_id = ?",
        (leave_id,),
    ).fetchall()
    assert covers and all(r["to_manager_id"] == r["manager_id"] != leave_id for r in covers)
    still_held = con.execute("SELECT COUNT(*) FROM customer WHERE manager_id = ?", (leave_id,)).fetchone()[0]
    assert still_held > 0  # part of the portfolio, not all
    batch = con.execute(
        "SELECT DISTINCT b.kind FROM assignment a JOIN assignmentbatch b ON b.id = a.batch_id WHERE a.reason = 'cover'"
    ).fetchall()
    assert [r[0] for r in batch] == ["leave_cover"]
    exiting = con.execute(
        "SELECT COUNT(*) FROM staff WHERE role = 'client_manager' AND exit_date > ? AND active", (AS_OF.isoformat(),)
    ).fetchone()[0]
    assert exiting == 1


def test_disputes_calibration_and_training(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    lead_staff = con.execute(
        "SELECT s.id, s.team_id FROM user u JOIN staff s ON s.id = u.staff_id WHERE u.username = 'lead'"
    ).fetchone()
    team_open = con.execute(
        "SELECT COUNT(*) FROM dispute d JOIN evaluation e ON e.id = d.evaluation_id JOIN staff s ON s.id = e.evaluatee_id"
        " WHERE d.status = 'open' AND e.status = 'disputed' AND s.team_id = ? AND e.evaluator_id = ?",
        (lead_staff["team_id"], lead_staff["id"]),
    ).fetchone()[0]
    assert team_open >= 1
    agent = con.execute("SELECT staff_id FROM user WHERE username = 'agent'").fetchone()[0]
    awaiting = con.execute(
        "SELECT submitted_at FROM evaluation WHERE evaluatee_id = ? AND status = 'submitted' AND kind = 'regular'",
        (agent,),
    ).fetchall()
    assert awaiting
    window_start = dt.datetime.combine(AS_OF - dt.timedelta(days=7), dt.time()) - dt.timedelta(hours=8)
    assert all(_utc(r[0]) > window_start for r in awaiting)
    cal = con.execute(
        "SELECT id FROM calibrationsession WHERE kind = 'calibration' AND deadline > ?",
        ((dt.datetime.combine(AS_OF, dt.time()) - dt.timedelta(hours=8)).isoformat(" "),),
    ).fetchall()
    assert cal
    sid = cal[0]["id"]
    assert (
        con.execute("SELECT COUNT(*) FROM evaluation WHERE session_id = ? AND kind = 'expert_key'", (sid,)).fetchone()[
            0
        ]
        == 1
    )
    parts = con.execute(
        "SELECT staff_id, evaluation_id FROM calibrationparticipant WHERE session_id = ?", (sid,)
    ).fetchall()
    assert any(p["evaluation_id"] for p in parts) and any(p["evaluation_id"] is None for p in parts)
    trainee = con.execute("SELECT staff_id FROM user WHERE username = 'trainee'").fetchone()[0]
    assert (
        con.execute(
            "SELECT COUNT(*) FROM calibrationparticipant p JOIN calibrationsession s ON s.id = p.session_id"
            " WHERE s.kind = 'training' AND p.staff_id = ?",
            (trainee,),
        ).fetchone()[0]
        >= 1
    )


def test_upcoming_l1_visit_and_a_failed_critical_item_with_open_follow_up(
    seeded: tuple[Path, sqlite3.Connection],
) -> None:
    _, con = seeded
    start = (dt.datetime.combine(AS_OF, dt.time()) - dt.timedelta(hours=8)).isoformat(" ")
    end = (dt.datetime.combine(AS_OF + dt.timedelta(days=14), dt.time()) - dt.timedelta(hours=8)).isoformat(" ")
    l1 = con.execute(
        "SELECT COUNT(*) FROM visit WHERE level = 1 AND status = 'planned' AND arrival_at BETWEEN ? AND ?", (start, end)
    ).fetchone()[0]
    assert l1 >= 1
    blocked = con.execute(
        "SELECT r.status FROM followup f JOIN runitem i ON i.id = f.run_item_id JOIN run r ON r.id = i.run_id"
        " WHERE f.status = 'open' AND i.critical AND i.state = 'failed'"
    ).fetchall()
    assert blocked and all(r[0] != "signed_off" for r in blocked)
    reception = con.execute(
        "SELECT s.department FROM user u JOIN staff s ON s.id = u.staff_id WHERE u.username = 'reception'"
    ).fetchone()[0]
    assert reception == "security"


def test_demo_logins(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    rows = con.execute(
        "SELECT u.username, u.role, s.role AS staff_role, u.must_change_password, u.password_hash"
        " FROM user u JOIN staff s ON s.id = u.staff_id ORDER BY u.id"
    ).fetchall()
    assert [r["username"] for r in rows] == ["admin", "supervisor", "lead", "manager", "agent", "reception", "trainee"]
    expected = ["admin", "supervisor", "team_lead", "client_manager", "agent", "reception", "trainee"]
    assert [r["role"] for r in rows] == [r["staff_role"] for r in rows] == expected
    assert not any(r["must_change_password"] for r in rows)
    assert len({r["password_hash"] for r in rows}) == 1  # hashed once
    from console.auth import verify_password

    assert verify_password(rows[0]["password_hash"], "demo")
    marker = json.loads(con.execute("SELECT value FROM appmeta WHERE key = 'demo'").fetchone()[0])
    assert (marker["scale"], marker["seed"], marker["as_of"]) == ("small", SEED, AS_OF.isoformat())
    for team_id, stream in con.execute("SELECT id, stream FROM team").fetchall():
        leads = con.execute("SELECT COUNT(*) FROM staff WHERE team_id = ? AND role = 'team_lead'", (team_id,))
        assert leads.fetchone()[0] == 1
        assert stream in ("maintenance", "ob")
    depts = {r[0] for r in con.execute("SELECT DISTINCT department FROM staff WHERE role = 'reception'")}
    assert {"security", "fnb", "front_office", "engineering", "admin_hr", "marketing"} <= depts


# -- consistency ----------------------------------------------------------------------------------------------


def test_tiers_are_justified_by_purchases_and_match_the_events(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    tiers = {r["rank"]: r for r in con.execute("SELECT * FROM tierlevel")}

    def qualified(n: int, spend: int) -> int:
        best = 0
        for rank, t in tiers.items():
            if rank == 0 or t["designation_only"]:
                continue
            conds = [
                c
                for c in (
                    (spend >= t["min_spend_fen"]) if t["min_spend_fen"] is not None else None,
                    (n >= t["min_purchases"]) if t["min_purchases"] is not None else None,
                )
                if c is not None
            ]
            if conds and (all(conds) if t["require_both"] else any(conds)):
                best = max(best, rank)
        return best

    window: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for cid, at, amount in con.execute("SELECT customer_id, at, amount_fen FROM purchase"):
        day = _local_day(at)
        if _year_before(AS_OF) < day <= AS_OF:
            window[cid][0] += 1
            window[cid][1] += amount
    events: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for ev in con.execute("SELECT * FROM tierchange ORDER BY at, id"):
        events[ev["customer_id"]].append(ev)
    checked = 0
    refs = set()
    for c in con.execute("SELECT * FROM customer"):
        n, spend = window[c["id"]]
        q = qualified(n, spend)
        if c["supreme"]:
            assert c["tier_rank"] == 5
        elif c["override_rank"] is not None:
            assert c["tier_rank"] == c["override_rank"] > q
        else:
            assert q == c["tier_rank"], (c["id"], n, spend, c["tier_rank"])
            checked += 1
        evs = events[c["id"]]
        assert evs[0]["kind"] == "initial"
        assert evs[-1]["to_rank"] == c["tier_rank"] and evs[-1]["at"] == c["tier_since"]
        if c["tier_rank"] >= 1:
            assert c["vip_since"] == next(e["at"] for e in evs if e["to_rank"] >= 1)
        for prev, nxt in zip(evs, evs[1:], strict=False):
            assert nxt["from_rank"] == prev["to_rank"]
            assert nxt["at"] <= (dt.datetime.combine(AS_OF, dt.time()) - dt.timedelta(hours=8)).isoformat(" ")
        if c["supreme"]:
            assert any(e["kind"] == "designation" for e in evs)
    assert checked > SMALL.customers * 0.9
    for (ref,) in con.execute("SELECT reference FROM purchase"):
        refs.add(ref)
    assert len(refs) == con.execute("SELECT COUNT(*) FROM purchase").fetchone()[0]
    # some customers are at risk at the next review, some near the next threshold
    quarter = (AS_OF.month - 1) // 3 + 1
    review = dt.date(AS_OF.year + 1, 1, 1) if quarter == 4 else dt.date(AS_OF.year, 3 * quarter + 1, 1)
    late: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for cid, at, amount in con.execute("SELECT customer_id, at, amount_fen FROM purchase"):
        if _year_before(review) < _local_day(at) <= AS_OF:
            late[cid][0] += 1
            late[cid][1] += amount
    at_risk = [
        c
        for c in con.execute(
            "SELECT id, tier_rank FROM customer WHERE NOT supreme AND override_rank IS NULL"
            " AND tier_rank BETWEEN 1 AND 4"
        )
        if qualified(*late[c["id"]]) < c["tier_rank"]
    ]
    assert at_risk


def test_assignment_history_matches_the_customers(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    history: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for a in con.execute("SELECT * FROM assignment ORDER BY at, id"):
        history[a["customer_id"]].append(a)
    reasons = set()
    for c in con.execute("SELECT id, manager_id, assignment_version, assigned_at FROM customer"):
        rows = history.get(c["id"], [])
        assert c["assignment_version"] == len(rows)
        if rows:
            assert rows[-1]["to_manager_id"] == c["manager_id"]
            for prev, nxt in zip(rows, rows[1:], strict=False):
                assert nxt["from_manager_id"] == prev["to_manager_id"]
            reasons.update(r["reason"] for r in rows)
        else:
            assert c["manager_id"] is None
    assert {"new_vip", "cover", "tier_change"} <= reasons
    batches = con.execute(
        "SELECT b.id, b.moves, COUNT(a.id) FROM assignmentbatch b"
        " LEFT JOIN assignment a ON a.batch_id = b.id GROUP BY b.id"
    ).fetchall()
    assert batches and all(r[1] == r[2] for r in batches)


def test_evaluations_recompute_with_compute_score(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    cards: dict[int, tuple[list[SectionSpec], list[ItemSpec], list[ViolationSpec], float]] = {}
    for v in con.execute("SELECT id, pass_mark FROM scorecardversion"):
        secs = con.execute(
            "SELECT id, code, weight FROM scorecardsection WHERE version_id = ? ORDER BY position", (v["id"],)
        ).fetchall()
        code = {s["id"]: s["code"] for s in secs}
        items = [
            ItemSpec(i["id"], code[i["section_id"]], i["max_points"], i["kind"], bool(i["na_allowed"]))
            for i in con.execute(
                "SELECT * FROM scorecarditem WHERE section_id IN (SELECT id FROM scorecardsection"
                " WHERE version_id = ?)",
                (v["id"],),
            )
        ]
        vios = [
            ViolationSpec(x["id"], x["rule"], code.get(x["section_id"]))
            for x in con.execute("SELECT * FROM scorecardviolation WHERE version_id = ?", (v["id"],))
        ]
        cards[v["id"]] = ([SectionSpec(s["code"], s["weight"]) for s in secs], items, vios, v["pass_mark"])
    answers: dict[int, dict[int, Answer]] = defaultdict(dict)
    for a in con.execute("SELECT evaluation_id, item_id, points, na FROM evaluationanswer"):
        answers[a["evaluation_id"]][a["item_id"]] = Answer(a["points"], bool(a["na"]))
    marks: dict[int, set[int]] = defaultdict(set)
    for m in con.execute("SELECT evaluation_id, violation_id FROM evaluationviolationmark"):
        marks[m["evaluation_id"]].add(m["violation_id"])
    n = 0
    for e in con.execute(
        "SELECT e.*, c.outcome, c.stream, c.transcript FROM evaluation e JOIN call c ON c.id = e.call_id"
    ):
        secs, items, vios, pass_mark = cards[e["version_id"]]
        assert set(answers[e["id"]]) == {i.item_id for i in items}  # every item of the version answered
        res = compute_score(secs, items, answers[e["id"]], vios, marks[e["id"]], pass_mark)
        assert res.total == e["total"]
        assert res.passed == (None if e["passed"] is None else bool(e["passed"]))
        assert res.fatal == bool(e["fatal"])
        assert e["outcome"] == "connected" and e["transcript"]
        n += 1
    assert n >= SMALL.evaluations
    assert con.execute("SELECT COUNT(*) FROM evaluationviolationmark").fetchone()[0] >= 1
    # contacts: one per call; results only on connected calls
    assert (
        con.execute("SELECT COUNT(*) FROM call").fetchone()[0]
        == con.execute("SELECT COUNT(*) FROM contact WHERE kind = 'call' AND call_id IS NOT NULL").fetchone()[0]
    )
    assert con.execute("SELECT COUNT(*) FROM contact WHERE kind = 'sms'").fetchone()[0] > 0
    assert con.execute("SELECT COUNT(*) FROM contact WHERE kind = 'visit'").fetchone()[0] > 0
    assert not con.execute(
        "SELECT COUNT(*) FROM evaluation e JOIN staff s ON s.id = e.evaluatee_id JOIN staff l"
        " ON l.id = e.evaluator_id WHERE e.kind = 'regular' AND s.role = 'agent'"
        " AND (l.role != 'team_lead' OR l.team_id != s.team_id)"
    ).fetchone()[0]


def test_run_items_are_due_by_compute_due(seeded: tuple[Path, sqlite3.Connection]) -> None:
    _, con = seeded
    rows = con.execute(
        "SELECT i.timing, i.anchor, i.offset_minutes, i.due_at, i.state, i.na_reason, v.arrival_at, v.departure_at"
        " FROM runitem i JOIN run r ON r.id = i.run_id JOIN visit v ON v.id = r.visit_id"
    ).fetchall()
    assert rows
    for r in rows:
        due = compute_due(
            r["timing"],
            r["anchor"],
            r["offset_minutes"],
            _utc(r["arrival_at"]),
            _utc(r["departure_at"]),
        )
        assert due == _ts(r["due_at"])
        assert r["state"] != "na" or r["na_reason"]
    visits = con.execute("SELECT COUNT(*) FROM visit").fetchone()[0]
    assert visits == SMALL.visits == con.execute("SELECT COUNT(*) FROM run").fetchone()[0]


# -- compute_due ----------------------------------------------------------------------------------------------

ARRIVAL = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
DEPARTURE = dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("timing", "anchor", "offset", "expected"),
    [
        ("offset", "arrival", -1440, ARRIVAL - dt.timedelta(days=1)),
        ("offset", "arrival", 0, ARRIVAL),
        ("offset", "departure", 240, DEPARTURE + dt.timedelta(hours=4)),
        ("offset", "departure", -30, DEPARTURE - dt.timedelta(minutes=30)),
        ("during_stay", None, None, ARRIVAL),
        ("per_shift", None, None, ARRIVAL),
        ("optional", None, None, None),
    ],
)
def test_compute_due(timing: str, anchor: str | None, offset: int | None, expected: dt.datetime | None) -> None:
    assert compute_due(timing, anchor, offset, ARRIVAL, DEPARTURE) == expected


@pytest.mark.parametrize(
    ("timing", "anchor", "offset"), [("offset", None, 10), ("offset", "arrival", None), ("sometimes", None, None)]
)
def test_compute_due_rejects_incomplete_items(timing: str, anchor: str | None, offset: int | None) -> None:
    with pytest.raises(ValueError):
        compute_due(timing, anchor, offset, ARRIVAL, DEPARTURE)
