"""The salted hash of a secret a keyed request gave (`idempotency_records.secret_hash`): a
person created with a `password` keeps the argon2 hash the person's row got, so that the key's
retry is checked against the password of the first request, not the person's current one (a
new password since made the identical retry a 422, and the key an oracle for the new one).
Nothing to backfill: a record without it is checked as before, and expires within the TTL.

Revision ID: 0034_idempotency_secret_hash
Revises: 0033_anonymised_references
Create Date: 2026-12-07 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_idempotency_secret_hash"
down_revision: str | None = "0033_anonymised_references"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "idempotency_records", sa.Column("secret_hash", sa.String(length=255), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("idempotency_records", "secret_hash")
