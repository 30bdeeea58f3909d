"""Upgrades never lose data: a database built at every earlier revision, with data in it, upgrades to head."""

import datetime as dt

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, insert, select

from console.db import make_engine
from console.migrate import MIGRATIONS, upgrade

SAMPLE_AT = dt.datetime(2026, 1, 2, 3, 4, 5)


def _revisions() -> list[str]:
    """Every revision, oldest first (a head revision makes the upgrade a no-op, still checked)."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _sample(conn) -> None:
    meta = MetaData()
    meta.reflect(conn)
    t = meta.tables
    conn.execute(insert(t["team"]).values(id=1, code="M1", name="Maintenance 1", stream="maintenance"))
    conn.execute(
        insert(t["staff"]).values(
            id=1,
            code="CM001",
            name="王芳",
            role="client_manager",
            team_id=1,
            stream="maintenance",
            manager_level="senior",
            capacity_units=1000,
            active=True,
            is_training=False,
            created_at=SAMPLE_AT,
        )
    )
    conn.execute(
        insert(t["customer"]).values(
            id=1,
            code="V0001",
            name="李雷",
            phone="13812345678",
            tier_rank=2,
            manager_id=1,
            assignment_version=1,
            supreme=False,
            is_training=False,
            created_at=SAMPLE_AT,
        )
    )
    conn.execute(insert(t["purchase"]).values(id=1, customer_id=1, at=SAMPLE_AT, amount_fen=1234567, reference="P-1"))
    conn.execute(insert(t["assignment"]).values(id=1, customer_id=1, to_manager_id=1, at=SAMPLE_AT, reason="new_vip"))
    conn.execute(insert(t["tierchange"]).values(id=1, customer_id=1, to_rank=2, kind="initial", at=SAMPLE_AT))


def _check(conn) -> None:
    meta = MetaData()
    meta.reflect(conn)
    t = meta.tables
    assert conn.execute(
        select(
            t["customer"].c.code,
            t["customer"].c.name,
            t["customer"].c.phone,
            t["customer"].c.tier_rank,
            t["customer"].c.manager_id,
        )
    ).all() == [("V0001", "李雷", "13812345678", 2, 1)]
    assert conn.execute(select(t["purchase"].c.amount_fen, t["purchase"].c.reference)).all() == [(1234567, "P-1")]
    assert conn.execute(select(t["assignment"].c.reason)).scalar_one() == "new_vip"
    assert conn.execute(select(t["tierchange"].c.kind)).scalar_one() == "initial"
    assert conn.execute(select(t["staff"].c.name)).scalar_one() == "王芳"


@pytest.mark.parametrize("revision", _revisions())
def test_upgrade_from_every_earlier_revision_keeps_data(tmp_path, revision):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, revision, reference=False)
    with engine.begin() as conn:
        _sample(conn)
    upgrade(engine)
    with engine.connect() as conn:
        _check(conn)
    engine.dispose()


@pytest.mark.postgres
def test_upgrade_from_every_earlier_revision_keeps_data_on_postgres(pg_engine):
    """The same on PostgreSQL: downgrade to base, build at each revision, fill, upgrade."""
    from console.migrate import downgrade

    engine = pg_engine
    for revision in _revisions():
        downgrade(engine, "base")
        upgrade(engine, revision, reference=False)
        with engine.begin() as conn:
            _sample(conn)
        upgrade(engine)
        with engine.connect() as conn:
            _check(conn)
