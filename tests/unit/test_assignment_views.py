"""Reads behind the Assignment page: workload flags, VIP search and masking, history filters, scoping of a
client manager to their own portfolio, the SLA overview and the Home tiles."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from console.assignment import (
    apply_leave,
    batches,
    history,
    history_export,
    home_tiles,
    preview_leave,
    reassign,
    sla_items,
    sla_overview,
    vip_list,
    workload,
    workload_options,
)
from console.assignment.views import clear_tile_cache
from console.permissions import Actor, PermissionDenied
from console.timeutil import local_to_utc
from models import Customer, Staff, Team
from tests.unit import factories_assignment as f

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        team = Team(code="MT01", name="维护一组", stream="maintenance")
        s.add(team)
        s.flush()
        sup = f.login(s, "sup", "supervisor")
        over = f.manager(s, "CM001", level="junior", capacity=4, region="广州")
        held = f.manager(s, "CM002", level="senior", capacity=20, region="深圳")
        away = f.manager(
            s, "CM003", level="senior", capacity=20, leave=(TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=5))
        )
        gone = f.manager(s, "CM004", level="senior", capacity=20, exit_date=TODAY + dt.timedelta(days=10))
        for m in (over, held, away, gone):
            m.team_id = team.id
            s.add(m)
        f.vip(s, "V001", 2, mgr=over, phone="13812345678")
        f.vip(s, "V002", 3, mgr=over)  # a junior holding a Platinum
        f.vip(s, "V003", 1, mgr=held)
        f.vip(s, "V004", 1, mgr=away)
        f.vip(s, "V005", 1, mgr=gone)
        f.vip(
            s,
            "N001",
            2,
            binding_due=TODAY - dt.timedelta(days=1),
            waiting_since=local_to_utc(TODAY - dt.timedelta(days=6), dt.time(9)),
        )
        f.vip(s, "N002", 1, binding_due=TODAY + dt.timedelta(days=2), waiting_since=local_to_utc(TODAY, dt.time(9)))
        me = f.login(s, "cm", "client_manager", held)
        s.commit()
        ids = {"over": over.id, "held": held.id, "away": away.id, "gone": gone.id, "team": team.id}
    return engine, sup, me, ids


def test_workload_rows_statuses_and_flags(world):
    engine, sup, _, ids = world
    with Session(engine) as s:
        view = workload(session=s, actor=sup, today=TODAY, limit=None)
    rows = {r["code"]: r for _, r in view.rows.iterrows()}
    assert (rows["CM001"]["load"], rows["CM001"]["capacity"], rows["CM001"]["tier_2"], rows["CM001"]["tier_3"]) == (
        5,
        4,
        1,
        1,
    )
    assert rows["CM001"]["utilisation"] == pytest.approx(1.25)
    assert "Over capacity by 1 units" in rows["CM001"]["flags"]
    assert "Holds 1 Platinum that a junior manager may not hold" in rows["CM001"]["flags"]
    assert rows["CM003"]["status"] == "on_leave" and "On leave with 1 VIPs not covered" in rows["CM003"]["flags"]
    assert rows["CM003"]["status_detail"].startswith("On leave 2026-11-23 – 2026-11-30")
    assert rows["CM004"]["status"] == "exiting" and "Leaving on 2026-12-05" in rows["CM004"]["flags"]
    assert rows["CM002"]["flags"] == "" and not rows["CM002"]["flagged"]
    assert view.over_cap == 1 and view.flagged == 3
    assert (
        list(view.rows["code"]) == ["CM001", "CM002", "CM003", "CM004"]
        or view.rows["utilisation"].is_monotonic_decreasing
    )
    with Session(engine) as s:
        assert workload(session=s, actor=sup, today=TODAY, tier=3).total == 3  # seniors may hold Platinum
        assert workload(session=s, actor=sup, today=TODAY, flagged_only=True).total == 3
        assert workload(session=s, actor=sup, today=TODAY, status="on_leave").total == 1
        assert workload(session=s, actor=sup, today=TODAY, region="深圳").total == 1
        assert workload(session=s, actor=sup, today=TODAY, team_id=ids["team"], limit=2).rows.shape[0] == 2
        assert workload_options(session=s, actor=sup) == ([(ids["team"], "维护一组")], ["广州", "深圳"])


def test_a_covered_leave_is_not_flagged_and_shows_who_covers(world):
    engine, sup, _, ids = world
    with Session(engine) as s:
        a = s.get(Staff, ids["away"])
        a.leave_start = a.leave_end = None
        s.add(a)
        s.commit()
        plan = preview_leave(
            session=s, actor=sup, manager_id=ids["away"], start=TODAY, end=TODAY + dt.timedelta(days=3), today=TODAY
        )
        apply_leave(session=s, actor=sup, plan=plan, today=TODAY)
        s.commit()
        rows = {r["code"]: r for _, r in workload(session=s, actor=sup, today=TODAY, limit=None).rows.iterrows()}
    assert "covered by CM002" in rows["CM003"]["status_detail"] and "not covered" not in rows["CM003"]["flags"]
    assert "covering for CM003" in rows["CM002"]["status_detail"]


def test_vip_search_by_code_name_and_full_phone_stays_masked(world):
    engine, sup, _, _ = world
    with Session(engine) as s:
        by_phone = vip_list(session=s, actor=sup, today=TODAY, search="138 1234 5678")
        by_part = vip_list(session=s, actor=sup, today=TODAY, search="1381234")
        by_code = vip_list(session=s, actor=sup, today=TODAY, search="v00")
        by_name = vip_list(session=s, actor=sup, today=TODAY, search="客户N")
        unassigned = vip_list(session=s, actor=sup, today=TODAY, unassigned=True)
        breached = vip_list(session=s, actor=sup, today=TODAY, sla_state="breached")
    assert list(by_phone.rows["code"]) == ["V001"] and list(by_phone.rows["phone"]) == ["138****5678"]
    assert by_part.total == 0  # only a full number finds a customer
    assert by_code.total == 5 and by_name.total == 2
    assert list(unassigned.rows["code"]) == ["N001", "N002"]  # highest tier, then longest waiting
    assert unassigned.rows["waiting_since"].notna().all()
    assert "N001" in set(breached.rows["code"]) and "N002" not in set(breached.rows["code"])
    with Session(engine) as s:
        assert all("****" in p for p in vip_list(session=s, actor=sup, today=TODAY).rows["phone"])


def test_client_manager_sees_only_their_portfolio(world):
    engine, sup, me, ids = world
    with Session(engine) as s:
        reassign(
            session=s,
            actor=sup,
            customer_ids=[s.exec(select(Customer).where(Customer.code == "V004")).one().id],
            to_manager_id=ids["held"],
            reason="manager_leave",
            versions={},
            today=TODAY,
        )
        s.commit()
        mine = vip_list(session=s, actor=me, today=TODAY, manager_id=ids["over"], unassigned=True)
        assert set(mine.rows["code"]) == {"V003", "V004"}  # filters for others are ignored
        assert workload(session=s, actor=me, today=TODAY).total == 1
        assert set(history(session=s, actor=me, manager_id=ids["over"]).rows["vip_code"]) == {"V004"}
        assert batches(session=s, actor=me).total == 1
        overview = sla_overview(session=s, actor=me, today=TODAY)
        assert list(overview.per_manager["manager_id"]) == [ids["held"]] and overview.unassigned == 0
        assert set(sla_items(session=s, actor=me, today=TODAY, which="due_soon").rows["manager"]) <= {"CM002"}
    with Session(engine) as s, pytest.raises(PermissionDenied):
        workload(session=s, actor=Actor(user_id=None, username="x", role="client_manager"), today=TODAY)
    with Session(engine) as s, pytest.raises(PermissionDenied):
        vip_list(session=s, actor=Actor(user_id=None, username="l", role="team_lead"), today=TODAY)


def test_history_filters_and_export(world):
    engine, sup, _, ids = world
    with Session(engine) as s:
        spare = f.manager(s, "CM009", capacity=50).id
        v3 = s.exec(select(Customer).where(Customer.code == "V003")).one()
        first = reassign(
            session=s,
            actor=sup,
            customer_ids=[v3.id],
            to_manager_id=spare,
            reason="performance",
            versions={v3.id: 0},
            note="=cmd|' /C calc'!A0",
            today=TODAY,
        )
        s.commit()
        reassign(
            session=s,
            actor=sup,
            customer_ids=[v3.id],
            to_manager_id=ids["held"],
            reason="customer_request",
            versions={v3.id: 1},
            today=TODAY,
        )
        s.commit()
        all_rows = history(session=s, actor=sup)
        assert all_rows.total == 2 and list(all_rows.rows["reason"]) == ["customer_request", "performance"]
        assert history(session=s, actor=sup, reason="performance").total == 1
        assert history(session=s, actor=sup, batch_id=first.batch_id).total == 1
        assert history(session=s, actor=sup, customer_code="v003").total == 2
        assert history(session=s, actor=sup, date_from=TODAY + dt.timedelta(days=400)).total == 0
        assert history(session=s, actor=sup, manager_id=ids["away"]).total == 0
        frame = history_export(session=s, actor=sup)
    assert list(frame["reason"]) == ["Customer request", "Performance"]
    assert frame["by"].tolist() == ["sup", "sup"]
    from console.assignment.exports import to_csv_bytes

    assert b"'=cmd" in to_csv_bytes(frame)  # the note cannot run as a formula in Excel


def test_sla_overview_counts_unassigned_binding(world):
    engine, sup, _, _ = world
    with Session(engine) as s:
        overview = sla_overview(session=s, actor=sup, today=TODAY)
        items = sla_items(session=s, actor=sup, today=TODAY, which="breached", kind="binding")
    assert (overview.unassigned, overview.unassigned_breached, overview.unassigned_soon) == (2, 1, 1)
    assert list(items.rows["code"]) == ["N001"] and items.rows["days"].iloc[0] == 1
    assert items.rows["manager"].iloc[0] == "(unassigned)"


def test_home_tiles_per_role(world):
    engine, sup, me, _ = world
    clear_tile_cache()
    with Session(engine) as s:
        tiles = {t.label: t for t in home_tiles(session=s, actor=sup, today=TODAY)}
        assert tiles["Unassigned VIPs past binding due"].value == "1" and tiles["SLA breaches"].alert
        assert tiles["SLA breaches"].page == "assignment"
        mine = {t.label: t.value for t in home_tiles(session=s, actor=me, today=TODAY)}
        assert set(mine) == {"My contacts due (7 days)", "My SLA breaches"}
        assert home_tiles(session=s, actor=Actor(user_id=None, username="a", role="agent"), today=TODAY) == []
