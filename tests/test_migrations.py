"""Migrations match the models and run up and down cleanly, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import app.all_models  # noqa: F401
from app.migrate import downgrade_to_base, upgrade_to_head


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_agree(databases):
    url = databases.new_url()
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == [], "run `alembic revision --autogenerate` and review it"


def test_upgrade_downgrade_upgrade_leaves_a_complete_schema(databases):
    url = databases.new_url()
    upgrade_to_head(url)
    assert set(SQLModel.metadata.tables) <= _tables(url)
    downgrade_to_base(url)
    assert _tables(url) <= {"alembic_version"}
    upgrade_to_head(url)
    assert set(SQLModel.metadata.tables) <= _tables(url)


def test_migration_history_is_linear():
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several heads {heads}: set down_revision so history is one line"
