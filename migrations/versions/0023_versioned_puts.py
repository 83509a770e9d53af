"""Contingent agreements and yearly limits get a version (their ETag), so that a `PUT` can
carry `If-Match`: two municipalities at one table, or two operators, no longer overwrite each
other's figure unseen.

Revision ID: 0023_versioned_puts
Revises: 0022_email_per_organisation
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_versioned_puts"
down_revision: str | None = "0022_email_per_organisation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contingent_agreements", "yearly_limits")


def upgrade() -> None:
    for table in TABLES:
        # Every existing row starts at version 1; the ORM sets it on insert from then on.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("version", sa.Integer(), nullable=False, server_default="1")
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("version", server_default=None)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
