"""Hardening: an attempt lease per webhook endpoint (one attempt in flight per endpoint); a
viewer is never an admin; the access log refuses REPLACE on SQLite and TRUNCATE on PostgreSQL.

Revision ID: 0008_hardening
Revises: 0007_rate_limits
Create Date: 2026-11-30 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

revision: str = "0008_hardening"
down_revision: str | None = "0007_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: UPDATE and DELETE are refused since 0001; INSERT OR REPLACE (and REPLACE INTO) would
# delete the old row to make room without firing the DELETE trigger (delete triggers fire on
# REPLACE only with recursive_triggers on), so an insert with an id that exists is refused
# before the conflict is resolved. A later migration that rebuilds access_log in batch mode
# drops its triggers and must create all three again.
SQLITE_NO_REPLACE = (
    "CREATE TRIGGER access_log_no_replace BEFORE INSERT ON access_log "
    "WHEN EXISTS (SELECT 1 FROM access_log WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
)
# PostgreSQL: row triggers refuse UPDATE and DELETE (and INSERT ... ON CONFLICT DO UPDATE,
# which updates); TRUNCATE fires no row trigger, so a statement trigger refuses it too.
POSTGRESQL_NO_TRUNCATE = (
    "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()"
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked_until", app.sqltypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("lease_token", sa.Uuid(), nullable=True))

    # Admin rights of viewers, which a viewer could never use for anything but writing, go.
    op.execute("UPDATE people SET is_admin = false WHERE role = 'viewer'")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "viewer_not_admin", sa.text("NOT (role = 'viewer' AND is_admin)")
        )

    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_NO_REPLACE)
    else:
        op.execute(POSTGRESQL_NO_TRUNCATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS access_log_no_replace")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint("viewer_not_admin", type_="check")

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("lease_token")
        batch_op.drop_column("locked_until")
