"""Decisions say whether the service closed the proposal itself (automatic), so that the agenda
can remember real declines (client, corporation, the chair's withdrawal) and forget automatic
closures.

Revision ID: 0009_remembered_declines
Revises: 0008_hardening
Create Date: 2026-11-30 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_remembered_declines"
down_revision: str | None = "0008_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposal_decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("automatic", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Existing closures by the service: a superseded proposal, and a withdrawal for a changed
    # case or dwelling recorded by someone other than the table's chair (the care provider that
    # put the case on hold, the corporation that withdrew the dwelling). The chair's own
    # withdrawals were decisions and stay remembered.
    op.execute(
        sa.text(
            "UPDATE proposal_decisions SET automatic = :yes "
            "WHERE decision = 'withdraw' AND (to_status = 'superseded' OR ("
            "reason IN ('case_changed', 'dwelling_changed') AND actor_organisation_id <> ("
            "SELECT t.chair_organisation_id FROM proposals p "
            "JOIN outflow_tables t ON t.id = p.table_id "
            "WHERE p.id = proposal_decisions.proposal_id)))"
        ).bindparams(yes=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("proposal_decisions", schema=None) as batch_op:
        batch_op.drop_column("automatic")
