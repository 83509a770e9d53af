"""Area names: the CBS list of municipalities, districts and neighbourhoods the operator loads,
and names a table's chair gives to codes that list lacks.

Revision ID: 0015_area_names
Revises: 0014_minutes
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_area_names"
down_revision: str | None = "0014_minutes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The enum as it is at this revision (a migration must not change with later code).
AREA_KINDS = ("municipality", "district", "neighbourhood")


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in AREA_KINDS)
    op.create_table(
        "area_names",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_area_names")),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_area_names_kind")),
    )
    op.create_table(
        "table_area_names",
        sa.Column("table_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("named_by_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["outflow_tables.id"],
            name=op.f("fk_table_area_names_table_id_outflow_tables"),
        ),
        sa.ForeignKeyConstraint(
            ["named_by_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_table_area_names_named_by_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("table_id", "code", name=op.f("pk_table_area_names")),
    )


def downgrade() -> None:
    op.drop_table("table_area_names")
    op.drop_table("area_names")
