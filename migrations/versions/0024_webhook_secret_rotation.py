"""Webhook endpoints keep the secret a rotation replaced, and until when it still signs
(beside the new one), so an organisation can change a leaked or old secret without deleting
the endpoint (which drops its pending deliveries and its log) and without the receiver
refusing a delivery while it switches.

Revision ID: 0024_webhook_secret_rotation
Revises: 0023_versioned_puts
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.sqltypes

revision: str = "0024_webhook_secret_rotation"
down_revision: str | None = "0023_versioned_puts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "previous_secret", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "previous_secret_until", app.sqltypes.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_secret")
