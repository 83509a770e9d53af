"""A client who returns to the table: a case may follow a closed one (`previous_case_id`).

A reference is unique among an organisation's open cases only (a partial unique index), so a
closed case's reference can be registered again by the case that follows it; each closed case
is followed at most once (unique `previous_case_id`). A plain index on the pair keeps finding
every case under a reference (the unique constraint's index did that before).

Downgrade: the reference becomes unique among all cases again, so a followed case's reference
is rewritten to `returned:` and its id (a form no client can register, as `anonymised:`); the
link itself is dropped.

Revision ID: 0027_returning_client
Revises: 0026_person_changes
Create Date: 2026-12-05 16:52:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_returning_client"
down_revision: str | None = "0026_person_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_case_id", sa.Uuid(), nullable=True))
        batch_op.drop_constraint(
            batch_op.f("uq_cases_care_provider_id_external_ref"), type_="unique"
        )
        batch_op.create_index(
            "uq_cases_open_external_ref",
            ["care_provider_id", "external_ref"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
        batch_op.create_index(
            "ix_cases_care_provider_id_external_ref", ["care_provider_id", "external_ref"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_cases_previous_case_id"), ["previous_case_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_previous_case_id_cases"), "cases", ["previous_case_id"], ["id"]
        )


def downgrade() -> None:
    hex_id = (
        "replace(CAST(id AS TEXT), '-', '')" if op.get_bind().dialect.name == "postgresql" else "id"
    )
    op.execute(
        f"UPDATE cases SET external_ref = 'returned:' || {hex_id} "
        "WHERE id IN (SELECT previous_case_id FROM cases WHERE previous_case_id IS NOT NULL)"
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_previous_case_id_cases"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_cases_previous_case_id"), type_="unique")
        batch_op.drop_index("ix_cases_care_provider_id_external_ref")
        batch_op.drop_index("uq_cases_open_external_ref", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_unique_constraint(
            batch_op.f("uq_cases_care_provider_id_external_ref"),
            ["care_provider_id", "external_ref"],
        )
        batch_op.drop_column("previous_case_id")
