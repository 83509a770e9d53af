"""Lifecycles in the database: statuses checked against their enums, and at most one open
proposal per case and per dwelling (partial unique indexes).

Before the indexes are built, open proposals that break the rule (left by concurrent publishes on
PostgreSQL before this version) are closed as `superseded`, keeping the oldest open proposal of
each case and of each dwelling; cases and dwellings left marked as proposed without an open
proposal are released. Each such change is recorded with the table's chair as actor. The
downgrade removes the constraints and indexes; the closed duplicates stay closed.

Revision ID: 0013_lifecycle
Revises: 0012_housed_after_ready
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.ids import uuid7
from app.timeutil import today as today_in_nl

revision: str = "0013_lifecycle"
down_revision: str | None = "0012_housed_after_ready"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The enums as they are at this revision (a migration must not change with later code).
CASE_STORED = ("registered", "proposed", "nominated", "housed", "on_hold", "withdrawn")
CASE_SHOWN = ("registered", "ready", "proposed", "nominated", "housed", "on_hold", "withdrawn")
PROPOSAL = (
    "proposed",
    "nominated",
    "accepted",
    "viewing_planned",
    "tenancy_signed",
    "housed",
    "declined_by_corporation",
    "declined_by_client",
    "withdrawn",
    "superseded",
)
OPEN_PROPOSAL = ("proposed", "nominated", "accepted", "viewing_planned", "tenancy_signed")
DECISION = (
    "nominate",
    "corporation_accept",
    "corporation_decline",
    "plan_viewing",
    "client_decline",
    "sign_tenancy",
    "house",
    "withdraw",
)
VACANCY = ("available", "proposed", "let", "withdrawn")
ACTION = ("open", "done", "cancelled")
MEETING = ("draft", "published")

# table -> [(constraint name, column, allowed values)]
CHECKS: dict[str, list[tuple[str, str, Sequence[str]]]] = {
    "cases": [("status", "status", CASE_STORED)],
    "case_transitions": [
        ("from_status", "from_status", CASE_SHOWN),
        ("to_status", "to_status", CASE_SHOWN),
    ],
    "proposals": [("status", "status", PROPOSAL)],
    "proposal_decisions": [
        ("decision", "decision", DECISION),
        ("from_status", "from_status", PROPOSAL),
        ("to_status", "to_status", PROPOSAL),
    ],
    "vacancies": [("status", "status", VACANCY)],
    "actions": [("status", "status", ACTION)],
    "meetings": [("status", "status", MEETING)],
}


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


OPEN_WHERE = _in("status", OPEN_PROPOSAL)
INDEXES = (("uq_proposals_open_case", "case_id"), ("uq_proposals_open_vacancy", "vacancy_id"))

proposals = sa.table(
    "proposals",
    sa.column("id", sa.Uuid()),
    sa.column("table_id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("vacancy_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("status_reason", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("closed_at", sa.DateTime(timezone=True)),
)
decisions = sa.table(
    "proposal_decisions",
    sa.column("id", sa.Uuid()),
    sa.column("proposal_id", sa.Uuid()),
    sa.column("decision", sa.String()),
    sa.column("from_status", sa.String()),
    sa.column("to_status", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("actor_organisation_id", sa.Uuid()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("automatic", sa.Boolean()),
)
cases = sa.table(
    "cases",
    sa.column("id", sa.Uuid()),
    sa.column("table_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("ready_since", sa.Date()),
    sa.column("version", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
transitions = sa.table(
    "case_transitions",
    sa.column("id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("from_status", sa.String()),
    sa.column("to_status", sa.String()),
    sa.column("actor_organisation_id", sa.Uuid()),
)
vacancies = sa.table(
    "vacancies",
    sa.column("id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
tables = sa.table(
    "outflow_tables", sa.column("id", sa.Uuid()), sa.column("chair_organisation_id", sa.Uuid())
)


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    connection.execute(sa.text("UPDATE cases SET status = 'registered' WHERE status = 'ready'"))
    _close_duplicate_open_proposals(connection, now)
    _release_orphans(connection, now)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, values in checks:
                batch_op.create_check_constraint(name, _in(column, values))
    for name, column in INDEXES:
        op.create_index(
            name,
            "proposals",
            [column],
            unique=True,
            sqlite_where=sa.text(OPEN_WHERE),
            postgresql_where=sa.text(OPEN_WHERE),
        )


def downgrade() -> None:
    for name, _column in INDEXES:
        op.drop_index(name, table_name="proposals")
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _values in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")


def _chairs(connection: sa.Connection) -> dict:  # type: ignore[type-arg]
    return dict(connection.execute(sa.select(tables.c.id, tables.c.chair_organisation_id)).all())


def _close_duplicate_open_proposals(connection: sa.Connection, now: datetime) -> None:
    """Keep the oldest open proposal of each case, then of each dwelling; supersede the rest."""
    chairs = _chairs(connection)
    for column in (proposals.c.case_id, proposals.c.vacancy_id):
        rows = connection.execute(
            sa.select(proposals.c.id, column, proposals.c.status, proposals.c.table_id)
            .where(proposals.c.status.in_(OPEN_PROPOSAL))
            .order_by(column, proposals.c.id)
        ).all()
        kept: set = set()  # type: ignore[type-arg]
        for proposal_id, owner, status, table_id in rows:
            if owner not in kept:
                kept.add(owner)
                continue
            connection.execute(
                proposals.update()
                .where(proposals.c.id == proposal_id)
                .values(
                    status="superseded",
                    status_reason=None,
                    closed_at=now,
                    updated_at=now,
                    version=proposals.c.version + 1,
                )
            )
            connection.execute(
                decisions.insert().values(
                    id=uuid7(),
                    proposal_id=proposal_id,
                    decision="withdraw",
                    from_status=status,
                    to_status="superseded",
                    reason=None,
                    actor_organisation_id=chairs[table_id],
                    at=now,
                    automatic=True,
                )
            )


def _release_orphans(connection: sa.Connection, now: datetime) -> None:
    """Cases and dwellings marked proposed that no open proposal holds any more are free."""
    open_cases = sa.select(proposals.c.case_id).where(proposals.c.status.in_(OPEN_PROPOSAL))
    open_vacancies = sa.select(proposals.c.vacancy_id).where(proposals.c.status.in_(OPEN_PROPOSAL))
    connection.execute(
        vacancies.update()
        .where(vacancies.c.status == "proposed", vacancies.c.id.not_in(open_vacancies))
        .values(status="available", updated_at=now, version=vacancies.c.version + 1)
    )
    chairs = _chairs(connection)
    orphans = connection.execute(
        sa.select(cases.c.id, cases.c.table_id, cases.c.status, cases.c.ready_since).where(
            cases.c.status.in_(("proposed", "nominated")), cases.c.id.not_in(open_cases)
        )
    ).all()
    today = today_in_nl()
    for case_id, table_id, status, ready_since in orphans:
        connection.execute(
            cases.update()
            .where(cases.c.id == case_id)
            .values(status="registered", updated_at=now, version=cases.c.version + 1)
        )
        connection.execute(
            transitions.insert().values(
                id=uuid7(),
                case_id=case_id,
                at=now,
                from_status=status,
                to_status="ready" if ready_since <= today else "registered",
                actor_organisation_id=chairs[table_id],
            )
        )
