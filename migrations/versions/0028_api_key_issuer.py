"""Who issued an API key (`issued_by`): the operator, the organisation itself, or the command
line on the server. The operator can issue a key for any organisation, and that key acts as the
organisation; its organisation now sees which of its keys the operator issued.

Keys issued before keep null: who issued them was not recorded, and no guess is written.

Revision ID: 0028_api_key_issuer
Revises: 0027_returning_client
Create Date: 2026-12-06 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_api_key_issuer"
down_revision: str | None = "0027_returning_client"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_by", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("issued_by")
