"""A person's choice of e-mail notices gets a version (its ETag), so that its `PUT` and the
page `/account/meldingen` can carry `If-Match`: an admin's change and the person's own, or two
tabs, no longer undo each other unseen.

Revision ID: 0029_versioned_notice_choices
Revises: 0028_api_key_issuer
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_versioned_notice_choices"
down_revision: str | None = "0028_api_key_issuer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing choice starts at version 1 (0 is the defaults, no row); the ORM sets it
    # on insert from then on.
    with op.batch_alter_table("notice_preferences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("notice_preferences", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("notice_preferences", schema=None) as batch_op:
        batch_op.drop_column("version")
