"""A housed case's move-in is never before its ready date (a CHECK on `cases`).

Rows that break it (a case whose `ready_since` was moved past its move-in before the API refused
that) get the move-in as their ready date: the client was housed then, so ready at the latest.

Revision ID: 0012_housed_after_ready
Revises: 0011_idempotency_claims
Create Date: 2026-11-30 12:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_housed_after_ready"
down_revision: str | None = "0011_idempotency_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONDITION = "status <> 'housed' OR (exit_date IS NOT NULL AND exit_date >= ready_since)"


def upgrade() -> None:
    op.execute(
        "UPDATE cases SET exit_date = (SELECT MAX(p.housed_on) FROM proposals p "
        "WHERE p.case_id = cases.id AND p.status = 'housed') "
        "WHERE status = 'housed' AND exit_date IS NULL"
    )
    op.execute(
        "UPDATE cases SET ready_since = exit_date "
        "WHERE status = 'housed' AND exit_date IS NOT NULL AND exit_date < ready_since"
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_cases_housed_after_ready"), sa.text(CONDITION))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cases_housed_after_ready"), type_="check")
