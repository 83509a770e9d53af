"""Run the Alembic migrations shipped inside the package (so a plain `pip install` works)."""

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "heads")


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")


# --- PostgreSQL: the application's role is not the owner of what it must not change ---------

# The runtime role reads and writes rows, but never owns a table: an owner (or a superuser)
# could drop or disable the triggers that keep the access log append-only, or drop the log.
# On access_log it may only SELECT and INSERT; on alembic_version only SELECT.
RUNTIME_ROLE_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON access_log FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
)
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def grant_runtime_role(database_url: str, role: str) -> None:
    """Give the role the service runs as what it needs on every table of the migrated schema,
    and no more on the access log. Run it (as the owner that migrates) after each migration.

    Refuses (ValueError) a role that is a superuser or owns the access log: either could switch
    the append-only guard off. PostgreSQL only; SQLite has no roles.
    """
    if not _ROLE_NAME.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    engine = create_engine(database_url)
    try:
        if engine.dialect.name != "postgresql":
            raise ValueError("roles exist on PostgreSQL only")
        with engine.begin() as connection:
            found = connection.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
            ).first()
            if found is None:
                raise ValueError(f"no role {role!r}: create it first (CREATE ROLE ... LOGIN)")
            owner = connection.execute(
                text("SELECT tableowner FROM pg_tables WHERE tablename = 'access_log'")
            ).scalar_one()
            if found.rolsuper or owner == role:
                raise ValueError(
                    f"{role!r} is a superuser or owns the tables: the service must run as a role "
                    "that can neither drop nor disable the access log's triggers"
                )
            quoted = engine.dialect.identifier_preparer.quote(role)
            for statement in RUNTIME_ROLE_GRANTS:
                connection.execute(text(statement.format(role=quoted)))
    finally:
        engine.dispose()


def owner_warning(engine: Engine) -> str | None:
    """On PostgreSQL, a warning when the service connects as a role that could rewrite the
    access log (its owner or a superuser); None when it cannot, and on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT r.rolsuper OR t.tableowner = current_user FROM pg_tables t, pg_roles r "
                "WHERE t.tablename = 'access_log' AND r.rolname = current_user"
            )
        ).first()
    if row is None or not row[0]:
        return None
    return (
        "the service connects to PostgreSQL as the owner of access_log or a superuser, which "
        "can disable its append-only triggers; run it as a separate role "
        "(uitstroomtafel migrate --grant-to ROLE, see the README)"
    )
