"""An open action about a case belongs to the case's table: those a move left open at a table
the case had left before the rule (fd63c3a) are cancelled, as a move cancels them now
(`app.actions.service.cancel_left_behind`): kept as history, off that table's agenda, lists,
digests and overdue notices, which named a client the table no longer handles. An overdue
notice of one still waiting in the outbox is not sent, and gives up its key.

Downgrade: nothing to undo (the actions stay cancelled, as a move leaves them).

Revision ID: 0031_cancel_left_behind_actions
Revises: 0030_versioned_area_names
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.sqltypes import UTCDateTime

revision: str = "0031_cancel_left_behind_actions"
down_revision: str | None = "0030_versioned_area_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

actions = sa.table(
    "actions",
    sa.column("id", sa.Uuid()),
    sa.column("table_id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("completed_at", UTCDateTime()),
)
cases = sa.table("cases", sa.column("id", sa.Uuid()), sa.column("table_id", sa.Uuid()))
mail = sa.table(
    "mail_messages",
    sa.column("dedupe_key", sa.String()),
    sa.column("status", sa.String()),
    sa.column("last_error", sa.String()),
)


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    left_behind = [
        row[0]
        for row in connection.execute(
            sa.select(actions.c.id)
            .join(cases, cases.c.id == actions.c.case_id)
            .where(actions.c.status == "open", actions.c.table_id != cases.c.table_id)
        )
    ]
    for action_id in left_behind:
        connection.execute(
            actions.update()
            .where(actions.c.id == action_id)
            .values(
                status="cancelled",
                completed_at=now,
                updated_at=now,
                version=actions.c.version + 1,
            )
        )
        key = f"action.overdue:{action_id}"
        connection.execute(
            mail.update()
            .where(mail.c.dedupe_key == key, mail.c.status == "pending")
            .values(
                status="expired", last_error="the action was closed or moved before it was sent"
            )
        )
        connection.execute(
            mail.update()
            .where(mail.c.dedupe_key == key)
            .values(dedupe_key=f"{key}@{now.isoformat()}")
        )


def downgrade() -> None:
    pass
