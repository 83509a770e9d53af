"""An email is unique per organisation, not across organisations.

A refusal of an email that another organisation uses told one organisation who has an account
at another. Sign-in checks the password against each account of the email.

Revision ID: 0022_email_per_organisation
Revises: 0021_job_leases
Create Date: 2026-11-30 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022_email_per_organisation"
down_revision: str | None = "0021_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_people_email"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_people_organisation_id_email"), ["organisation_id", "email"]
        )
        batch_op.create_index(batch_op.f("ix_people_email"), ["email"], unique=False)


def downgrade() -> None:
    # Fails, as it should, while one email has accounts in two organisations.
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_email"))
        batch_op.drop_constraint(batch_op.f("uq_people_organisation_id_email"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_people_email"), ["email"])
