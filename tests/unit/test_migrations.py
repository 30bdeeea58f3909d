"""Migrations: empty -> head, downgrade to base, upgrade again; reference data on any empty database."""

from sqlalchemy import inspect
from sqlmodel import Session, func, select

import models
from console.db import make_engine
from console.migrate import current_revisions, downgrade, head_revisions, upgrade
from models import ChecklistTemplate, DisciplineRule, ReceptionLevel, Scorecard, TemplateItem, TierLevel


def _tables(engine):
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_empty_to_head_down_and_up(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    assert current_revisions(engine) == set()
    upgrade(engine)
    assert current_revisions(engine) == head_revisions()
    assert _tables(engine) == set(models.metadata.tables)
    downgrade(engine, "base")
    assert _tables(engine) == set()
    upgrade(engine)
    assert _tables(engine) == set(models.metadata.tables)


def test_head_matches_models(engine):
    """No model change without a migration: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.metadata)
    assert diff == []


def test_reference_data_loaded_once(engine):
    with Session(engine) as s:
        counts = {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (TierLevel, Scorecard, ReceptionLevel, ChecklistTemplate, TemplateItem, DisciplineRule)
        }
    assert counts["TierLevel"] == 6
    assert counts["Scorecard"] == 2
    assert counts["ReceptionLevel"] == 3
    assert counts["ChecklistTemplate"] == 4
    assert counts["TemplateItem"] == 26 + 50 + 23 + 19
    assert counts["DisciplineRule"] >= 28
    upgrade(engine)  # migrating again adds nothing
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(TierLevel)).one() == 6
        assert s.exec(select(func.count()).select_from(TemplateItem)).one() == counts["TemplateItem"]
