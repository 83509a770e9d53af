"""Digests of the references retention took from case files (`anonymised_references`): a push of
such a reference answers 409 `external_ref_anonymised` instead of registering the long-closed
client again. Nothing to backfill: the references of files anonymised before are gone.

Revision ID: 0033_anonymised_references
Revises: 0032_action_transitions
Create Date: 2026-12-06 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_anonymised_references"
down_revision: str | None = "0032_action_transitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymised_references",
        sa.Column("care_provider_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["care_provider_id"],
            ["organisations.id"],
            name=op.f("fk_anonymised_references_care_provider_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "care_provider_id", "digest", name=op.f("pk_anonymised_references")
        ),
    )


def downgrade() -> None:
    op.drop_table("anonymised_references")
