"""Limits say what they are: the DAEB rent limit is named so (was `liberalisation_limit`), each
year records its source and whether it came from the shipped data or the operator; the AOW age
moves from a whole number per year to a table per birth cohort (shipped data), and a case may
carry its birth month.

Revision ID: 0010_limits
Revises: 0009_remembered_declines
Create Date: 2026-11-30 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_limits"
down_revision: str | None = "0009_remembered_declines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("yearly_limits", schema=None) as batch_op:
        batch_op.alter_column("liberalisation_limit", new_column_name="daeb_rent_limit")
        batch_op.drop_column("pension_age")
        batch_op.add_column(sa.Column("source", sa.String(length=2000), nullable=True))
        # Rows from before this revision count as the operator's until the shipped data, loaded
        # after every upgrade, finds the same figures and adopts them (app.limits.service).
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), nullable=False, server_default="operator")
        )
    with op.batch_alter_table("yearly_limits", schema=None) as batch_op:
        batch_op.alter_column("origin", server_default=None)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_month", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("birth_month")
    with op.batch_alter_table("yearly_limits", schema=None) as batch_op:
        batch_op.drop_column("origin")
        batch_op.drop_column("source")
        # The whole years of the AOW age are 67 in every year the AOW table holds (2024-2031).
        batch_op.add_column(
            sa.Column("pension_age", sa.Integer(), nullable=False, server_default="67")
        )
        batch_op.alter_column("daeb_rent_limit", new_column_name="liberalisation_limit")
    with op.batch_alter_table("yearly_limits", schema=None) as batch_op:
        batch_op.alter_column("pension_age", server_default=None)
