"""Run the Alembic migrations of the top-level `migrations/` folder, then load the reference
data shipped with the package (the yearly limits of app/data/limits.json).

A wheel (`pip install .`, the Dockerfile) carries that folder as `app/migrations` (see setup.py);
a source checkout, installed editable or not, has it next to `app/`.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

_PACKAGE = Path(__file__).resolve().parent


def migrations_dir() -> Path:
    """The folder with `env.py` and `versions/`: the installed copy, else the checkout's."""
    for candidate in (_PACKAGE / "migrations", _PACKAGE.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"no Alembic migrations in {_PACKAGE / 'migrations'} or beside it")


# pg_advisory_lock key held while migrating: any fixed 64-bit number unique to this purpose.
MIGRATION_LOCK = 0x75697473_6D696772  # "uits" "migr"
log = logging.getLogger(__name__)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
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


class DatabaseTooNew(RuntimeError):
    """The database is at a migration this version does not ship: a newer version migrated it."""


def _known_revisions(database_url: str) -> tuple[set[str], ScriptDirectory]:
    """The revisions the database records, and the shipped migrations; raises `DatabaseTooNew`
    when the database records one `migrations/versions` lacks, before Alembic does so with a
    traceback; nothing is changed."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(database_url))
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(set(current) - known)
    if unknown:
        raise DatabaseTooNew(
            f"The database is at migration {', '.join(unknown)}, which this version of "
            f"uitstroomtafel does not know (its latest is {', '.join(script.get_heads())}): a "
            "newer version migrated it. Run that version; nothing was changed."
        )
    return current, script


def not_migrated(database_url: str) -> tuple[str, str] | None:
    """None when the database is at the latest shipped migration; else the migration it is at
    (`none` when it never was migrated) and the latest. Raises `DatabaseTooNew` when the
    database records a revision `migrations/versions` lacks, before Alembic does so with a
    traceback; nothing is changed."""
    current, script = _known_revisions(database_url)
    heads = set(script.get_heads())
    if current == heads:
        return None
    return ", ".join(sorted(current)) or "none", ", ".join(sorted(heads))


def upgrade_to_head(database_url: str) -> tuple[str, str] | None:
    """Migrate to the latest migration and load the reference data. Returns where the database
    was, as `not_migrated` says it (read under the migration lock, so not another migrator's
    work): None when it was at the latest migration already."""
    with _one_migrator(database_url):
        behind = not_migrated(database_url)  # raises DatabaseTooNew before Alembic does
        command.upgrade(alembic_config(database_url), "heads")
        load_reference_data(database_url)
    return behind


def load_reference_data(database_url: str) -> None:
    """Bring the shipped yearly limits into the database (see `sync_from_data_file`).

    Several server processes may start at once: a year another one inserted first is a conflict
    here, so the load runs again once and then finds that year present. Years without limits
    are warned about by `serve` (`app.cli.missing_limits`), not here.
    """
    from app.db import build_engine
    from app.limits.service import sync_from_data_file

    engine = build_engine(database_url)
    try:
        for attempt in (1, 2):
            with Session(engine) as session:
                try:
                    report = sync_from_data_file(session)
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
            return
    finally:
        engine.dispose()


def downgrade_to_base(database_url: str) -> None:
    with _one_migrator(database_url):
        command.downgrade(alembic_config(database_url), "base")


# --- PostgreSQL: the application's role is not the owner of what it must not change ---------

# The runtime role reads and writes rows, but never owns a table: an owner (or a superuser)
# could drop or disable the triggers that keep the access log append-only, or drop the log.
# On access_log and person_changes it may only SELECT and INSERT; on alembic_version only SELECT.
RUNTIME_ROLE_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON access_log FROM {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON person_changes FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
)
# Letters (capitals kept: the grant quotes the name), digits, `_`, and the `-` and `.` of names
# such as `uitstroom-app`, which `serve` names in "migrate --grant-to <role>"; nothing a shell
# or SQL reads otherwise.
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")


def check_grantable(database_url: str, role: str) -> None:
    """Refuse (ValueError), without connecting, a grant `grant_runtime_role` could never make:
    a role name that is no plain name, or a database other than PostgreSQL (SQLite has no
    roles). `migrate --grant-to` asks this first, so it does not migrate and then say no."""
    if not _ROLE_NAME.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    if make_url(database_url).get_backend_name() != "postgresql":
        raise ValueError("roles exist on PostgreSQL only")


def grant_runtime_role(database_url: str, role: str) -> None:
    """Give the role the service runs as what it needs on every table of the migrated schema,
    and no more on the access log. Run it (as the owner that migrates) after each migration.

    Refuses (ValueError) a role that is a superuser or owns the access log, or is a member of
    its owner: each could switch the append-only guard off. PostgreSQL only; SQLite has no roles.
    """
    check_grantable(database_url, role)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            found = connection.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
            ).first()
            if found is None:
                raise ValueError(f"no role {role!r}: create it first (CREATE ROLE ... LOGIN)")
            # A member of the owner (a group role owning the tables) has the owner's rights too,
            # or takes them with SET ROLE when it does not inherit them: MEMBER, not USAGE.
            owns = connection.execute(
                text(
                    "SELECT pg_has_role(:role, tableowner, 'MEMBER') FROM pg_tables"
                    " WHERE tablename = 'access_log'"
                ),
                {"role": role},
            ).scalar_one()
            if found.rolsuper or owns:
                raise ValueError(
                    f"{role!r} is a superuser or owns the tables (or is a member of their owner): "
                    "the service must run as a role "
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
                "SELECT r.rolsuper OR pg_has_role(current_user, t.tableowner, 'MEMBER')"
                " FROM pg_tables t, pg_roles r"
                " WHERE t.tablename = 'access_log' AND r.rolname = current_user"
            )
        ).first()
    if row is None or not row[0]:
        return None
    return (
        "the service connects to PostgreSQL as the owner of access_log or a superuser, which "
        "can disable its append-only triggers; run it as a separate role "
        "(uitstroomtafel migrate --grant-to ROLE, see the README)"
    )


def role_that_may_not_migrate(database_url: str) -> str | None:
    """On PostgreSQL, the role the URL connects as when it may not migrate the database: no
    superuser, and not the owner of the tables (of `alembic_version`), or while there are none
    not the database's owner, who creates them (README, Database roles); a member of the owner
    (a group role owning them) may, as PostgreSQL lets it. None when it may, and on SQLite,
    which has no roles."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return None
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT current_user AS role, r.rolsuper OR COALESCE("
                    "  (SELECT pg_has_role(current_user, t.tableowner, 'USAGE') FROM pg_tables t"
                    "   WHERE t.tablename = 'alembic_version' AND t.schemaname = current_schema()),"
                    "  pg_has_role(current_user, d.datdba, 'USAGE')) AS may"
                    " FROM pg_roles r, pg_database d"
                    " WHERE r.rolname = current_user AND d.datname = current_database()"
                )
            ).one()
    finally:
        engine.dispose()
    return None if row.may else str(row.role)
