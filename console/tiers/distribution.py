"""Tier distribution now and over time, all in SQL aggregates.

Now: counts and shares per tier (Member included), by region, by team of the managing client manager,
by client manager (current tier cached on Customer).

Over time: the monthly tier mix is reconstructed from the TierChange events. Each event holds its tier
from its time until the customer's next event (LEAD over the customer's events), so one pass over the
events gives, per month, how many customers entered and left each tier; a running sum gives the mix at
each month's end. Months are Asia/Shanghai calendar months (console.timeutil.shanghai_date). A customer
exists from their first event (customers without any event count as Member from their creation).
The department's completed months are cached in AppMeta and recomputed only when an event is written
into a month already cached (events are appended in time order, so that is rare).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import String, and_, cast, func, literal_column, or_
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from console.audit import query
from console.i18n import pick
from console.meta import get_meta
from console.permissions import Actor
from console.tiers.common import (
    TierRule,
    add_months,
    aggregate_scope,
    ladder_on,
    month_from_key,
    month_key,
    month_start,
    not_training,
    save_meta_quietly,
    units_by_rank,
)
from console.timeutil import local_date, local_midnight_utc, shanghai_date, utcnow
from models import Customer, Staff, Team, TierChange

CACHE_KEY = "tiers.history_cache"
RANKS = range(6)


def month_sql(column: Any) -> ColumnElement:
    """'YYYY-MM' of the Asia/Shanghai date of a UTC timestamp column (same on SQLite and PostgreSQL)."""
    return func.substr(cast(shanghai_date(column), String), literal_column("1"), literal_column("7"))


# ------------------------------------------------------------------------------------------- now


@dataclass
class NowDistribution:
    tiers: pd.DataFrame  # rank, code, name, color, count, share
    by_region: pd.DataFrame  # region, rank, tier, count
    by_team: pd.DataFrame  # team, rank, tier, count
    by_manager: pd.DataFrame  # manager_id, manager, level, team, r0..r5, vips, load, capacity, utilisation
    total: int
    scope: str  # "department" | "portfolio"


def _scoped(stmt: Any, scope: ColumnElement | None) -> Any:
    stmt = stmt.where(not_training())
    return stmt.where(scope) if scope is not None else stmt


@query("tiers.read")
def distribution_now(*, session: Session, actor: Actor, today: dt.date) -> NowDistribution:
    ladder = ladder_on(session, today)
    names = {r.rank: pick(r, "name") for r in ladder}
    scope = aggregate_scope(actor)
    counts = dict(
        session.exec(
            _scoped(select(Customer.tier_rank, func.count()).select_from(Customer), scope).group_by(Customer.tier_rank)
        ).all()
    )
    total = int(sum(counts.values()))
    tiers = pd.DataFrame(
        [
            {
                "rank": r.rank,
                "code": r.code,
                "name": names[r.rank],
                "color": r.color,
                "count": int(counts.get(r.rank, 0)),
                "share": (int(counts.get(r.rank, 0)) / total) if total else 0.0,
            }
            for r in ladder
        ]
    )
    region = func.coalesce(Customer.region, "")
    by_region = _long(
        session.exec(
            _scoped(select(region, Customer.tier_rank, func.count()).select_from(Customer), scope).group_by(
                region, Customer.tier_rank
            )
        ).all(),
        "region",
        names,
    )
    team_name = func.coalesce(Team.name, "")
    by_team = _long(
        session.exec(
            _scoped(
                select(team_name, Customer.tier_rank, func.count())
                .select_from(Customer)
                .outerjoin(Staff, Staff.id == Customer.manager_id)
                .outerjoin(Team, Team.id == Staff.team_id),
                scope,
            ).group_by(team_name, Customer.tier_rank)
        ).all(),
        "team",
        names,
    )
    by_manager = _by_manager(session, scope, ladder)
    return NowDistribution(
        tiers=tiers,
        by_region=by_region,
        by_team=by_team,
        by_manager=by_manager,
        total=total,
        scope="portfolio" if actor.role == "client_manager" else "department",
    )


def _long(rows: list[Any], label: str, names: dict[int, str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {label: key, "rank": int(rank), "tier": names.get(int(rank), str(rank)), "count": int(n)}
            for key, rank, n in rows
        ],
        columns=[label, "rank", "tier", "count"],
    )
    return frame.sort_values([label, "rank"]).reset_index(drop=True)


def _by_manager(session: Session, scope: ColumnElement | None, ladder: list[TierRule]) -> pd.DataFrame:
    units = units_by_rank(ladder)
    rows = session.exec(
        _scoped(
            select(Customer.manager_id, Customer.tier_rank, func.count())
            .select_from(Customer)
            .where(Customer.manager_id.is_not(None)),  # type: ignore[union-attr]
            scope,
        ).group_by(Customer.manager_id, Customer.tier_rank)
    ).all()
    per: dict[int, dict[int, int]] = {}
    for mid, rank, n in rows:
        per.setdefault(int(mid), {})[int(rank)] = int(n)
    columns = ["manager_id", "manager", "code", "level", "team", *[f"r{r}" for r in RANKS], "vips", "load", "capacity"]
    if not per:
        return pd.DataFrame(columns=[*columns, "utilisation"])
    staff = session.exec(
        select(Staff.id, Staff.name, Staff.code, Staff.manager_level, Team.name, Staff.capacity_units)
        .outerjoin(Team, Team.id == Staff.team_id)
        .where(Staff.id.in_(list(per)))  # type: ignore[union-attr]
    ).all()
    out = []
    for sid, name, code, level, team, capacity in staff:
        tiers = per.get(sid, {})
        load = sum(units.get(r, 0) * n for r, n in tiers.items())
        out.append(
            {
                "manager_id": sid,
                "manager": name,
                "code": code,
                "level": level or "",
                "team": team or "",
                **{f"r{r}": tiers.get(r, 0) for r in RANKS},
                "vips": sum(n for r, n in tiers.items() if r > 0),
                "load": load,
                "capacity": capacity,
            }
        )
    frame = pd.DataFrame(out, columns=columns)
    frame["utilisation"] = frame["load"] / frame["capacity"].where(frame["capacity"] > 0)
    return frame.sort_values(["utilisation", "manager"], ascending=[False, True]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------- over time


@dataclass
class HistoryData:
    """Month-end mix (index: 'YYYY-MM' -> counts per rank) and moves per month for every month with events."""

    mix: dict[str, list[int]] = field(default_factory=dict)
    moves: dict[str, list[list[Any]]] = field(default_factory=dict)  # month -> [[from, to, kind, n], ...]


def _event_scope(stmt: Any, scope: ColumnElement | None) -> Any:
    stmt = stmt.join(Customer, Customer.id == TierChange.customer_id).where(not_training())
    return stmt.where(scope) if scope is not None else stmt


def compute_history(
    session: Session,
    *,
    scope: ColumnElement | None = None,
    before: dt.datetime | None = None,
    through: dt.date | None = None,
) -> HistoryData:
    """Reconstruct month-end mixes and monthly moves from the events (only events before `before`),
    from the first month with a customer through the later of the last event's month and `through`."""
    at_filter = [TierChange.at < before] if before is not None else []  # type: ignore[operator]
    nxt = func.lead(TierChange.at).over(partition_by=TierChange.customer_id, order_by=(TierChange.at, TierChange.id))
    ev = _event_scope(
        select(
            TierChange.to_rank.label("rank"),  # type: ignore[attr-defined]
            month_sql(TierChange.at).label("m_from"),
            month_sql(nxt).label("m_to"),
        ).select_from(TierChange),
        scope,
    ).where(*at_filter)
    ev_sub = ev.subquery()
    spans = session.exec(
        select(ev_sub.c.m_from, ev_sub.c.m_to, ev_sub.c.rank, func.count()).group_by(
            ev_sub.c.m_from, ev_sub.c.m_to, ev_sub.c.rank
        )
    ).all()
    # Before their first event (or without any) a customer is a Member from their creation.
    first_ev = (
        select(TierChange.customer_id.label("cid"), func.min(TierChange.at).label("first_at"))  # type: ignore[attr-defined]
        .where(*at_filter)
        .group_by(TierChange.customer_id)
        .subquery()
    )
    created_filter = [Customer.created_at < before] if before is not None else []  # type: ignore[operator]
    pre = (
        select(month_sql(Customer.created_at), month_sql(first_ev.c.first_at), func.count())
        .select_from(Customer)
        .outerjoin(first_ev, first_ev.c.cid == Customer.id)
        .where(
            not_training(),
            *created_filter,
            or_(first_ev.c.first_at.is_(None), Customer.created_at < first_ev.c.first_at),
        )
    )
    if scope is not None:
        pre = pre.where(scope)
    silent = session.exec(pre.group_by(month_sql(Customer.created_at), month_sql(first_ev.c.first_at))).all()
    delta: dict[str, list[int]] = {}

    def bump(month: str | None, rank: int, n: int) -> None:
        if month is None:
            return
        delta.setdefault(month, [0] * 6)[rank] += n

    for m_from, m_to, rank, n in spans:
        bump(m_from, int(rank), int(n))
        bump(m_to, int(rank), -int(n))
    for m_created, m_first, n in silent:
        bump(m_created, 0, int(n))
        bump(m_first, 0, -int(n))
    moves_rows = session.exec(
        _event_scope(
            select(
                month_sql(TierChange.at), TierChange.from_rank, TierChange.to_rank, TierChange.kind, func.count()
            ).select_from(TierChange),
            scope,
        )
        .where(*at_filter)
        .group_by(month_sql(TierChange.at), TierChange.from_rank, TierChange.to_rank, TierChange.kind)
    ).all()
    data = HistoryData()
    for month, frm, to, kind, n in moves_rows:
        data.moves.setdefault(month, []).append([frm, int(to), kind, int(n)])
    if delta:
        first = month_from_key(min(delta))
        last = month_from_key(max(max(delta), max(data.moves) if data.moves else min(delta)))
        if through is not None:
            last = max(last, month_start(through))
        running = [0] * 6
        current = first
        while current <= last:
            key = month_key(current)
            for r, d in enumerate(delta.get(key, [0] * 6)):
                running[r] += d
            data.mix[key] = list(running)
            current = add_months(current, 1)
    return data


def _fingerprint(session: Session) -> tuple[int, int]:
    max_id, count = session.exec(
        select(func.coalesce(func.max(TierChange.id), 0), func.count()).select_from(TierChange)
    ).one()
    return int(max_id), int(count)


def department_history(session: Session, *, today: dt.date, save: bool = True) -> HistoryData:
    """The department's completed months, from the cache when still valid (recomputed and saved if not)."""
    this_month = month_start(today)
    cutoff = local_midnight_utc(this_month)
    through = month_key(add_months(this_month, -1))
    max_id, count = _fingerprint(session)
    cached = get_meta(session, CACHE_KEY)
    if isinstance(cached, dict) and cached.get("through") == through:
        old_id, old_count = int(cached.get("max_id", -1)), int(cached.get("count", -1))
        valid = old_id == max_id and old_count == count
        if not valid and max_id > old_id and count - old_count == max_id - old_id:
            # Only new events since: the cache holds while none of them falls into a cached month.
            earliest = session.exec(select(func.min(TierChange.at)).where(TierChange.id > old_id)).one()
            valid = earliest is not None and earliest >= cutoff
        if valid:
            if (old_id, old_count) != (max_id, count) and save:
                _save_cache(session, {**cached, "max_id": max_id, "count": count})
            return HistoryData(mix=cached.get("mix", {}), moves=cached.get("moves", {}))
    data = compute_history(session, before=cutoff, through=add_months(this_month, -1))
    if save:
        _save_cache(
            session,
            {"through": through, "max_id": max_id, "count": count, "mix": data.mix, "moves": data.moves},
        )
    return data


def _save_cache(session: Session, value: dict[str, Any]) -> None:
    save_meta_quietly(session, CACHE_KEY, value)


def refresh_mix_cache(engine: Engine, today: dt.date | None = None) -> None:
    """Called after an evaluation wrote events: revalidate (and if needed rebuild) the department cache."""
    with Session(engine) as s:
        department_history(s, today=today or local_date(utcnow()))
        s.commit()


@dataclass
class History:
    months: list[str]
    mix: pd.DataFrame  # month, rank, count (month-end mix; the current month = now)
    moves: pd.DataFrame  # month, from_rank, to_rank, kind, count
    partial_month: str | None  # the current month, shown up to now


def _current_month(session: Session, scope: ColumnElement | None, today: dt.date) -> tuple[list[int], list[list[Any]]]:
    counts = dict(
        session.exec(
            _scoped(select(Customer.tier_rank, func.count()).select_from(Customer), scope).group_by(Customer.tier_rank)
        ).all()
    )
    mix = [int(counts.get(r, 0)) for r in RANKS]
    start = local_midnight_utc(month_start(today))
    rows = session.exec(
        _event_scope(
            select(TierChange.from_rank, TierChange.to_rank, TierChange.kind, func.count()).select_from(TierChange),
            scope,
        )
        .where(TierChange.at >= start)  # type: ignore[operator]
        .group_by(TierChange.from_rank, TierChange.to_rank, TierChange.kind)
    ).all()
    return mix, [[f, int(t), k, int(n)] for f, t, k, n in rows]


@query("tiers.read")
def tier_history(
    *, session: Session, actor: Actor, start_month: dt.date, end_month: dt.date, today: dt.date
) -> History:
    """The monthly mix, moves and the months between start_month and end_month (inclusive)."""
    start_month, end_month = month_start(start_month), month_start(min(end_month, today))
    if start_month > end_month:
        start_month, end_month = end_month, start_month
    scope = aggregate_scope(actor)
    this_month = month_start(today)
    if scope is None:
        data = department_history(session, today=today)
    else:
        data = compute_history(
            session, scope=scope, before=local_midnight_utc(this_month), through=add_months(this_month, -1)
        )
    months: list[str] = []
    current = start_month
    while current <= end_month:
        months.append(month_key(current))
        current = add_months(current, 1)
    mix_rows: list[dict[str, Any]] = []
    move_rows: list[dict[str, Any]] = []
    known = sorted(data.mix)
    for key in months:
        if key == month_key(this_month):
            mix, moves = _current_month(session, scope, today)
        else:
            mix = data.mix.get(key) or _carry(data.mix, known, key)
            moves = data.moves.get(key, [])
        for rank, n in enumerate(mix):
            mix_rows.append({"month": key, "rank": rank, "count": int(n)})
        for frm, to, kind, n in moves:
            move_rows.append({"month": key, "from_rank": frm, "to_rank": int(to), "kind": kind, "count": int(n)})
    return History(
        months=months,
        mix=pd.DataFrame(mix_rows, columns=["month", "rank", "count"]),
        moves=pd.DataFrame(move_rows, columns=["month", "from_rank", "to_rank", "kind", "count"]),
        partial_month=month_key(this_month) if month_key(this_month) in months else None,
    )


def _carry(mix: dict[str, list[int]], known: list[str], key: str) -> list[int]:
    """A month without any event keeps the previous month's mix (zeros before the first event)."""
    earlier = [k for k in known if k < key]
    return list(mix[earlier[-1]]) if earlier else [0] * 6


# ------------------------------------------------------------------------------------------- derived views


def movement_matrix(moves: pd.DataFrame) -> pd.DataFrame:
    """from_rank x to_rank counts of tier changes (initial records and unchanged pins left out)."""
    real = moves[moves["from_rank"].notna()]
    real = real[real["from_rank"].astype(int) != real["to_rank"]]
    if real.empty:
        return pd.DataFrame(columns=["from_rank", "to_rank", "count"])
    out = (
        real.assign(from_rank=real["from_rank"].astype(int))
        .groupby(["from_rank", "to_rank"], as_index=False)["count"]
        .sum()
    )
    return out.sort_values(["from_rank", "to_rank"]).reset_index(drop=True)


def net_flow(moves: pd.DataFrame) -> pd.DataFrame:
    """Per tier: customers moving in, moving out, and the net flow over the period."""
    matrix = movement_matrix(moves)
    rows = []
    for rank in RANKS:
        inflow = int(matrix.loc[matrix["to_rank"] == rank, "count"].sum()) if not matrix.empty else 0
        outflow = int(matrix.loc[matrix["from_rank"] == rank, "count"].sum()) if not matrix.empty else 0
        rows.append({"rank": rank, "in": inflow, "out": outflow, "net": inflow - outflow})
    return pd.DataFrame(rows)


def ups_and_downs(moves: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Upgrades and downgrades per month (any kind of event that raised or lowered a tier)."""
    real = moves[moves["from_rank"].notna()]
    frm = real["from_rank"].astype(int) if not real.empty else real["from_rank"]
    ups = real[real["to_rank"] > frm].groupby("month")["count"].sum() if not real.empty else pd.Series(dtype=int)
    downs = real[real["to_rank"] < frm].groupby("month")["count"].sum() if not real.empty else pd.Series(dtype=int)
    return pd.DataFrame(
        [{"month": m, "upgrades": int(ups.get(m, 0)), "downgrades": int(downs.get(m, 0))} for m in months]
    )


def month_bounds(months: list[str], today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC [start, end) of a run of months (the current month ends now)."""
    first = month_from_key(months[0])
    last = month_from_key(months[-1])
    end = local_midnight_utc(add_months(last, 1))
    return local_midnight_utc(first), min(end, max(utcnow(), local_midnight_utc(today)))


def reconstructed_counts(session: Session, cutoff: dt.datetime, scope: ColumnElement | None = None) -> list[int]:
    """The tier mix at an instant straight from the events (one correlated look-up per customer).

    Used for drill-downs and to check the cached reconstruction; the same population rule as compute_history.
    """
    rank_at = (
        select(TierChange.to_rank)
        .where(TierChange.customer_id == Customer.id, TierChange.at < cutoff)  # type: ignore[operator]
        .order_by(TierChange.at.desc(), TierChange.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    inner = (
        select(rank_at.label("rank"), Customer.created_at.label("created")).select_from(Customer).where(not_training())
    )
    if scope is not None:
        inner = inner.where(scope)
    sub = inner.subquery()
    rank = func.coalesce(sub.c.rank, 0)
    rows = session.exec(
        select(rank, func.count()).where(or_(sub.c.rank.is_not(None), sub.c.created < cutoff)).group_by(rank)
    ).all()
    out = [0] * 6
    for rank, n in rows:
        out[int(rank)] += int(n)
    return out


def rank_at_expr(cutoff: dt.datetime) -> Any:
    """SQL: a customer's tier at an instant (NULL before their first event)."""
    return (
        select(TierChange.to_rank)
        .where(TierChange.customer_id == Customer.id, TierChange.at < cutoff)  # type: ignore[operator]
        .order_by(TierChange.at.desc(), TierChange.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )


def tier_at_condition(cutoff: dt.datetime, rank: int) -> ColumnElement:
    """SQL condition: the customer was in `rank` at the instant (Member also before a first event)."""
    rank_at = rank_at_expr(cutoff)
    if rank == 0:
        return or_(rank_at == 0, and_(rank_at.is_(None), Customer.created_at < cutoff))  # type: ignore[operator]
    return rank_at == rank


@query("tiers.read")
def data_version(*, session: Session, actor: Actor) -> tuple[int, int, int]:
    """A cheap fingerprint of what the distribution depends on (newest event, assignment and customer ids),
    so a page may cache its figures and still show a change at once."""
    from models import Assignment

    return (
        int(session.exec(select(func.coalesce(func.max(TierChange.id), 0))).one()),
        int(session.exec(select(func.coalesce(func.max(Assignment.id), 0))).one()),
        int(session.exec(select(func.coalesce(func.max(Customer.id), 0))).one()),
    )
