"""After the move: tenancies (one per housing), aftercare agreements, follow-up checkpoints and
the notices that a checkpoint came due. Every case housed before this revision gets its tenancy
here, from its housed proposal, so the follow-up and the sustainment figures cover it too.

Revision ID: 0016_aftercare
Revises: 0015_area_names
Create Date: 2026-11-30 10:55:44
"""

import json
import uuid
from calendar import monthrange
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016_aftercare"
down_revision: str | None = "0015_area_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# As the code is at this revision (a migration must not change with later code).
DEFAULT_TRANSFER_MONTHS = 12


def _add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, monthrange(year, month + 1)[1]))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _backfill_tenancies() -> None:
    """A tenancy for every housed proposal: running, or awaiting its omklap (planned by the
    table's `lease_transfer_months`, default 12) for an intermediate lease."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT p.id, p.case_id, p.table_id, p.care_provider_id, p.corporation_id, "
            "p.housed_on, p.lease_form, t.policy FROM proposals p "
            "JOIN outflow_tables t ON t.id = p.table_id "
            "WHERE p.status = 'housed' AND p.housed_on IS NOT NULL"
        )
    ).all()
    if not rows:
        return
    tenancies = sa.table(
        "tenancies",
        sa.column("case_id", sa.Uuid()),
        sa.column("proposal_id", sa.Uuid()),
        sa.column("table_id", sa.Uuid()),
        sa.column("care_provider_id", sa.Uuid()),
        sa.column("corporation_id", sa.Uuid()),
        sa.column("moved_in", sa.Date()),
        sa.column("lease_form", sa.String()),
        sa.column("status", sa.String()),
        sa.column("transfer_planned_on", sa.Date()),
        sa.column("transfer_open_conditions", sa.JSON()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    values = []
    for (
        proposal_id,
        case_id,
        table_id,
        care_provider,
        corporation,
        housed_on,
        lease,
        policy,
    ) in rows:
        policy = json.loads(policy) if isinstance(policy, str) else (policy or {})
        moved_in = _as_date(housed_on)
        intermediate = lease == "intermediate_lease"
        months = int(policy.get("lease_transfer_months", DEFAULT_TRANSFER_MONTHS))
        values.append(
            {
                "case_id": uuid.UUID(str(case_id)),
                "proposal_id": uuid.UUID(str(proposal_id)),
                "table_id": uuid.UUID(str(table_id)),
                "care_provider_id": uuid.UUID(str(care_provider)),
                "corporation_id": uuid.UUID(str(corporation)),
                "moved_in": moved_in,
                "lease_form": lease,
                "status": "awaiting_transfer" if intermediate else "running",
                "transfer_planned_on": _add_months(moved_in, months) if intermediate else None,
                "transfer_open_conditions": [],
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    op.bulk_insert(tenancies, values)


def upgrade() -> None:
    op.create_table(
        "tenancies",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("table_id", sa.Uuid(), nullable=False),
        sa.Column("care_provider_id", sa.Uuid(), nullable=False),
        sa.Column("corporation_id", sa.Uuid(), nullable=False),
        sa.Column("moved_in", sa.Date(), nullable=False),
        sa.Column("lease_form", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("transfer_planned_on", sa.Date(), nullable=True),
        sa.Column("transfer_open_conditions", sa.JSON(), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=True),
        sa.Column("transferred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "end_reason IN ('moved_on', 'evicted', 'returned_to_care', 'deceased', 'other')",
            name=op.f("ck_tenancies_end_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_transfer', 'running', 'ended')", name=op.f("ck_tenancies_status")
        ),
        sa.CheckConstraint(
            "(ended_on IS NULL) = (end_reason IS NULL)", name=op.f("ck_tenancies_end_with_reason")
        ),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= moved_in",
            name=op.f("ck_tenancies_ended_after_move_in"),
        ),
        sa.CheckConstraint(
            "transferred_on IS NULL OR transferred_on >= moved_in",
            name=op.f("ck_tenancies_transferred_after_move_in"),
        ),
        sa.ForeignKeyConstraint(
            ["care_provider_id"],
            ["organisations.id"],
            name=op.f("fk_tenancies_care_provider_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_tenancies_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["corporation_id"],
            ["organisations.id"],
            name=op.f("fk_tenancies_corporation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_tenancies_proposal_id_proposals")
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["outflow_tables.id"], name=op.f("fk_tenancies_table_id_outflow_tables")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_tenancies")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_tenancies_proposal_id")),
    )
    with op.batch_alter_table("tenancies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenancies_care_provider_id"), ["care_provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tenancies_corporation_id"), ["corporation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tenancies_moved_in"), ["moved_in"], unique=False)
        batch_op.create_index(batch_op.f("ix_tenancies_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_tenancies_table_id"), ["table_id"], unique=False)

    op.create_table(
        "aftercare_agreements",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("support_intensity", sa.String(length=16), nullable=False),
        sa.Column("support_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("contact_frequency", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("planned_end_on", sa.Date(), nullable=True),
        sa.Column("action_signals", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "contact_frequency IN ('weekly', 'fortnightly', 'monthly', 'quarterly')",
            name=op.f("ck_aftercare_agreements_contact_frequency"),
        ),
        sa.CheckConstraint(
            "planned_end_on IS NULL OR planned_end_on >= starts_on",
            name=op.f("ck_aftercare_agreements_end_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tenancies.case_id"],
            name=op.f("fk_aftercare_agreements_case_id_tenancies"),
        ),
        sa.ForeignKeyConstraint(
            ["support_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_aftercare_agreements_support_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_aftercare_agreements")),
    )
    op.create_table(
        "aftercare_checkpoint_notices",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tenancies.case_id"],
            name=op.f("fk_aftercare_checkpoint_notices_case_id_tenancies"),
        ),
        sa.PrimaryKeyConstraint("case_id", "months", name=op.f("pk_aftercare_checkpoint_notices")),
    )
    op.create_table(
        "aftercare_checkpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("table_id", sa.Uuid(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("still_living_there", sa.Boolean(), nullable=False),
        sa.Column("support_active", sa.Boolean(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("recorded_by_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tenancies.case_id"],
            name=op.f("fk_aftercare_checkpoints_case_id_tenancies"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_aftercare_checkpoints_recorded_by_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["outflow_tables.id"],
            name=op.f("fk_aftercare_checkpoints_table_id_outflow_tables"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aftercare_checkpoints")),
        sa.UniqueConstraint(
            "case_id", "months", name=op.f("uq_aftercare_checkpoints_case_id_months")
        ),
    )
    with op.batch_alter_table("aftercare_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_aftercare_checkpoints_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_aftercare_checkpoints_recorded_on"), ["recorded_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_aftercare_checkpoints_table_id"), ["table_id"], unique=False
        )

    _backfill_tenancies()


def downgrade() -> None:
    with op.batch_alter_table("aftercare_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aftercare_checkpoints_table_id"))
        batch_op.drop_index(batch_op.f("ix_aftercare_checkpoints_recorded_on"))
        batch_op.drop_index(batch_op.f("ix_aftercare_checkpoints_case_id"))

    op.drop_table("aftercare_checkpoints")
    op.drop_table("aftercare_checkpoint_notices")
    op.drop_table("aftercare_agreements")
    with op.batch_alter_table("tenancies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenancies_table_id"))
        batch_op.drop_index(batch_op.f("ix_tenancies_status"))
        batch_op.drop_index(batch_op.f("ix_tenancies_moved_in"))
        batch_op.drop_index(batch_op.f("ix_tenancies_corporation_id"))
        batch_op.drop_index(batch_op.f("ix_tenancies_care_provider_id"))

    op.drop_table("tenancies")
