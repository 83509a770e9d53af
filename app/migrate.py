"""Run the Alembic migrations shipped inside the package (so a plain `pip install` works), then
load the reference data shipped with it (the yearly limits of app/data/limits.json)."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "heads")
    load_reference_data(database_url)


def load_reference_data(database_url: str) -> None:
    """Bring the shipped yearly limits into the database (see `sync_from_data_file`).

    Several server processes may start at once: a year another one inserted first is a conflict
    here, so the load runs again once and then finds that year present.
    """
    from app.db import build_engine
    from app.limits.service import missing_years, sync_from_data_file
    from app.timeutil import today

    engine = build_engine(database_url)
    try:
        for attempt in (1, 2):
            with Session(engine) as session:
                try:
                    report = sync_from_data_file(session)
                    missing = missing_years(session, through=today().year + 1)
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    if attempt == 2:
                        raise
                    continue
            if report.added or report.corrected:
                log.info(
                    "shipped limits loaded: added %s, corrected %s", report.added, report.corrected
                )
            for gap in missing:
                log.warning(
                    "no legal limits for %s: agendas in it use those of %s until they are added "
                    "(PUT /v1/limits/%s)",
                    gap.year,
                    gap.falls_back_to,
                    gap.year,
                )
            return
    finally:
        engine.dispose()


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")
