"""Every change of an action, kept (`action_transitions`), as a case's are: its hand-out with the
due date it was given, each closing, reopening and due-date change, with time and actor. Before
it an action kept only its current due date and its latest closing, without an actor.

The backfill records what is known: one `created` row per action (its hand-out by the chair,
at `created_at`; its due date only when the action never changed since, version 1, for a later
change may have moved it) and one closing row per closed action (at `completed_at`, done or
cancelled, its actor and what it closed from not known).

Revision ID: 0032_action_transitions
Revises: 0031_cancel_left_behind_actions
Create Date: 2026-12-06 10:47:06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes
from app.ids import uuid7

revision: str = "0032_action_transitions"
down_revision: str | None = "0031_cancel_left_behind_actions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

actions = sa.table(
    "actions",
    sa.column("id", sa.Uuid()),
    sa.column("due_date", sa.Date()),
    sa.column("status", sa.String()),
    sa.column("created_by_organisation_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", app.sqltypes.UTCDateTime(timezone=True)),
    sa.column("completed_at", app.sqltypes.UTCDateTime(timezone=True)),
)
transitions = sa.table(
    "action_transitions",
    sa.column("id", sa.Uuid()),
    sa.column("action_id", sa.Uuid()),
    sa.column("at", app.sqltypes.UTCDateTime(timezone=True)),
    sa.column("change", sa.String()),
    sa.column("from_status", sa.String()),
    sa.column("to_status", sa.String()),
    sa.column("to_due_date", sa.Date()),
    sa.column("actor_organisation_id", sa.Uuid()),
)
CLOSINGS = {"done": "complete", "cancelled": "cancel"}
BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "action_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("at", app.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("from_due_date", sa.Date(), nullable=True),
        sa.Column("to_due_date", sa.Date(), nullable=True),
        sa.Column("actor_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("actor_api_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_person_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "change IN ('created', 'complete', 'cancel', 'reopen', 'move_due_date', 'case_moved')",
            name=op.f("ck_action_transitions_change"),
        ),
        sa.CheckConstraint(
            "from_status IN ('open', 'done', 'cancelled')",
            name=op.f("ck_action_transitions_from_status"),
        ),
        sa.CheckConstraint(
            "to_status IN ('open', 'done', 'cancelled')",
            name=op.f("ck_action_transitions_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_action_transitions_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["actor_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_action_transitions_actor_api_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_action_transitions_actor_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_person_id"],
            ["people.id"],
            name=op.f("fk_action_transitions_actor_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_transitions")),
    )
    with op.batch_alter_table("action_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_transitions_action_id"), ["action_id"], unique=False
        )
    _backfill()


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(actions).order_by(actions.c.created_at, actions.c.id)).all()
    values: list[dict[str, object]] = []
    for action in rows:
        values.append(
            {
                "id": uuid7(),
                "action_id": action.id,
                "at": action.created_at,
                "change": "created",
                "from_status": None,
                "to_status": "open",
                "to_due_date": action.due_date if action.version == 1 else None,
                "actor_organisation_id": action.created_by_organisation_id,
            }
        )
        if action.status in CLOSINGS and action.completed_at is not None:
            values.append(
                {
                    "id": uuid7(),
                    "action_id": action.id,
                    "at": action.completed_at,
                    "change": CLOSINGS[action.status],
                    "from_status": None,
                    "to_status": action.status,
                    "to_due_date": None,
                    "actor_organisation_id": None,
                }
            )
    for start in range(0, len(values), BATCH):
        connection.execute(transitions.insert(), values[start : start + BATCH])


def downgrade() -> None:
    with op.batch_alter_table("action_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_transitions_action_id"))
    op.drop_table("action_transitions")
