"""A table's own area names get a version (their ETag), so that the chair's `PUT` and the
areas page can carry `If-Match`: two people of the chair, or the page and the chair's system,
no longer replace each other's name unseen.

Revision ID: 0030_versioned_area_names
Revises: 0029_versioned_notice_choices
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_versioned_area_names"
down_revision: str | None = "0029_versioned_notice_choices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing name starts at version 1; the ORM sets it on insert from then on.
    with op.batch_alter_table("table_area_names", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("table_area_names", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("table_area_names", schema=None) as batch_op:
        batch_op.drop_column("version")
