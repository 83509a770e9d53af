"""Idempotency keys are claimed before the effect (a record without an answer yet), and answers
with case data are read again on replay instead of stored (`resource_id`).

Stored copies of case files and proposals become references: their body is dropped and the
resource's id kept, which is exactly what the new code writes for them. The downgrade deletes
the records the old code could not replay (references and claims).

Revision ID: 0011_idempotency_claims
Revises: 0010_limits
Create Date: 2026-11-30 10:00:00.000000

"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_idempotency_claims"
down_revision: str | None = "0010_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fields only a case file's answer has, and only a proposal's answer has.
CASE_FIELDS = {"facility", "household", "income", "beschikking"}
PROPOSAL_FIELDS = {"components", "decisions", "case_id", "vacancy_id"}

records = sa.table(
    "idempotency_records",
    sa.column("id", sa.Uuid()),
    sa.column("status_code", sa.Integer()),
    sa.column("response_body", sa.JSON()),
    sa.column("resource_id", sa.Uuid()),
)


def _holds_case_data(body: object) -> bool:
    return isinstance(body, dict) and (body.keys() >= CASE_FIELDS or body.keys() >= PROPOSAL_FIELDS)


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resource_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("status_code", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("response_body", existing_type=sa.JSON(), nullable=True)

    connection = op.get_bind()
    for record_id, body in connection.execute(sa.select(records.c.id, records.c.response_body)):
        if _holds_case_data(body):
            assert isinstance(body, dict)
            connection.execute(
                records.update()
                .where(records.c.id == record_id)
                .values(response_body=sa.null(), resource_id=uuid.UUID(body["id"]))
            )


def downgrade() -> None:
    op.execute(
        records.delete().where(
            sa.or_(
                records.c.resource_id.is_not(None),
                records.c.status_code.is_(None),
                records.c.response_body.is_(None),
            )
        )
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.alter_column("response_body", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("status_code", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("resource_id")
