"""Run the Alembic migrations shipped inside the package (so a plain `pip install` works)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock key held while migrating: any fixed 64-bit number unique to this purpose.
MIGRATION_LOCK = 0x75697473_6D696772  # "uits" "migr"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@contextmanager
def _one_migrator(database_url: str) -> Iterator[None]:
    """On PostgreSQL, one migrating process at a time: replicas that start together with
    `UITSTROOM_MIGRATE_ON_START` take turns, and all but the first find nothing to do."""
    if make_url(database_url).get_backend_name() != "postgresql":
        yield  # SQLite serialises writers itself, and runs in one process
        return
    engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()


def upgrade_to_head(database_url: str) -> None:
    with _one_migrator(database_url):
        command.upgrade(alembic_config(database_url), "heads")


def downgrade_to_base(database_url: str) -> None:
    with _one_migrator(database_url):
        command.downgrade(alembic_config(database_url), "base")
