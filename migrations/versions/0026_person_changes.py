"""The trail of changes to people's accounts (`app.people.changes`): who made, renamed, gave a
role, an admin flag, access or a new password to whom, and when. Append-only, as the access
log: the database refuses UPDATE and DELETE, and with them their disguises, as 0008 does for
the access log (SQLite: an INSERT that reuses an id, which `INSERT OR REPLACE` would use to
delete a row unseen; PostgreSQL: `TRUNCATE`, which fires no row trigger).

Revision ID: 0026_person_changes
Revises: 0025_email_normal_form
Create Date: 2026-12-04 22:34:39
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.sqltypes

revision: str = "0026_person_changes"
down_revision: str | None = "0025_email_normal_form"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", app.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("change", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("by_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("by_api_key_id", sa.Uuid(), nullable=True),
        sa.Column("by_person_id", sa.Uuid(), nullable=True),
        sa.Column("endpoint", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_changes_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_changes")),
    )
    with op.batch_alter_table("person_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_changes_person_id"), ["person_id"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER person_changes_no_{verb.lower()} BEFORE {verb} ON person_changes "
                "BEGIN SELECT RAISE(ABORT, 'person_changes is append-only'); END"
            )
        op.execute(
            "CREATE TRIGGER person_changes_no_replace BEFORE INSERT ON person_changes "
            "WHEN EXISTS (SELECT 1 FROM person_changes WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'person_changes is append-only'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION person_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'person_changes is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER person_changes_append_only BEFORE UPDATE OR DELETE ON "
            "person_changes FOR EACH ROW EXECUTE FUNCTION person_changes_append_only()"
        )
        op.execute(
            "CREATE TRIGGER person_changes_no_truncate BEFORE TRUNCATE ON person_changes "
            "FOR EACH STATEMENT EXECUTE FUNCTION person_changes_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS person_changes_no_update")
        op.execute("DROP TRIGGER IF EXISTS person_changes_no_delete")
        op.execute("DROP TRIGGER IF EXISTS person_changes_no_replace")
    else:
        op.execute("DROP TRIGGER IF EXISTS person_changes_no_truncate ON person_changes")
        op.execute("DROP TRIGGER IF EXISTS person_changes_append_only ON person_changes")
        op.execute("DROP FUNCTION IF EXISTS person_changes_append_only()")
    with op.batch_alter_table("person_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_changes_person_id"))
    op.drop_table("person_changes")
