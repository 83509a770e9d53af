"""Hardening: an attempt lease per webhook endpoint (one attempt in flight per endpoint).

Revision ID: 0007_hardening
Revises: 0006_monitor
Create Date: 2026-11-30 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

revision: str = "0007_hardening"
down_revision: str | None = "0006_monitor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked_until", app.sqltypes.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("lease_token", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("lease_token")
        batch_op.drop_column("locked_until")
