"""Open proposals come back: every proposal of a table's earlier meetings that is still open,
with its status, the days in it, whose turn it is and whether it is stalled (the table policy's
`stalled_after_days`), for the agenda, the minutes and the `proposal.stalled` webhook.

Entries are JSON-ready dicts in the shape of `app.agenda.models.OpenProposalOut`; the views
cut them down with `for_care_provider` and `for_corporation`.
"""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.meetings.models import Meeting
from app.proposals.lifecycle import TURN
from app.proposals.models import OPEN_PROPOSAL, Proposal, ProposalDecision, ProposalStallAlert
from app.sqltypes import table_of, utcnow
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.timeutil import local_date, today
from app.vacancies.models import Vacancy

CORPORATION_FIELDS = (
    "proposal_id",
    "meeting_id",
    "meeting_date",
    "case_id",
    "vacancy_id",
    "vacancy_ref",
    "status",
    "since",
    "days_in_status",
    "as_of",
    "turn",
    "limit_days",
    "stalled",
)
"""What a corporation sees of an open proposal of its dwelling: no score."""


def open_proposals(
    session: Session, table: OutflowTable, before: date | None = None
) -> list[dict[str, Any]]:
    """The table's open proposals of meetings before `before` (all meetings when None), oldest
    meeting first, days counted on today (`app.timeutil.today`).

    `since` is the day of the last decision that led to the status, or the day the proposal was
    made, but not before its meeting's day; `stalled` is `days_in_status` > the policy's
    `stalled_after_days[status]`.
    """
    policy = TablePolicy.model_validate(table.policy)
    last_decision = (
        select(ProposalDecision.proposal_id, func.max(ProposalDecision.at).label("at"))
        .group_by(col(ProposalDecision.proposal_id))
        .subquery()
    )
    query = (
        select(Proposal, col(Meeting.date), last_decision.c.at, col(Vacancy.external_ref))
        .join(Meeting, col(Meeting.id) == col(Proposal.meeting_id))
        .join(Vacancy, col(Vacancy.id) == col(Proposal.vacancy_id))
        .outerjoin(last_decision, last_decision.c.proposal_id == col(Proposal.id))
        .where(Proposal.table_id == table.id, col(Proposal.status).in_(OPEN_PROPOSAL))
        .order_by(col(Meeting.date), col(Proposal.id))
    )
    if before is not None:
        query = query.where(col(Meeting.date) < before)
    on = today()
    entries = []
    for proposal, meeting_date, decided_at, vacancy_ref in session.exec(query).all():
        # The parties decide from the meeting's day on (`app.proposals.service`): a proposal
        # published before its meeting waits in `proposed` from that day, not from publication.
        since = max(local_date(decided_at or proposal.created_at), meeting_date)
        days = max(0, (on - since).days)
        limit = policy.stalled_after_days.get(proposal.status.value)
        entries.append(
            {
                "proposal_id": str(proposal.id),
                "meeting_id": str(proposal.meeting_id),
                "meeting_date": meeting_date.isoformat(),
                "case_id": str(proposal.case_id),
                "vacancy_id": str(proposal.vacancy_id),
                "vacancy_ref": vacancy_ref,
                "care_provider_id": str(proposal.care_provider_id),
                "corporation_id": str(proposal.corporation_id),
                "status": proposal.status.value,
                "since": since.isoformat(),
                "days_in_status": days,
                "as_of": on.isoformat(),
                "turn": TURN[proposal.status],
                "limit_days": limit,
                "stalled": limit is not None and days > limit,
                "score": proposal.score,
            }
        )
    return entries


def for_care_provider(entries: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A care provider's share: the proposals of its own cases."""
    return [e for e in entries if e["care_provider_id"] == me]


def for_corporation(entries: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A corporation's share: the proposals of its own dwellings, without score."""
    return [
        {key: e[key] for key in CORPORATION_FIELDS} for e in entries if e["corporation_id"] == me
    ]


def record_stalls(session: Session, table: OutflowTable) -> int:
    """Record every open proposal of the table that is stalled now and send `proposal.stalled`
    for each that was not recorded yet; returns how many were new.

    Once per crossing, however many processes look at once: the alert's primary key (proposal,
    status) takes one row, `INSERT ... ON CONFLICT DO NOTHING` tells who inserted it, and only
    that transaction emits the event (through the webhook outbox, so it is sent when it
    commits). A proposal that moves on and stalls in its next status is a new crossing.
    """
    from app.webhooks.service import emit

    stalled = [e for e in open_proposals(session, table) if e["stalled"]]
    if not stalled:
        return 0
    # Held until the stalls are recorded, and read again (PostgreSQL): a decision committed
    # after the read above found no stalled notice to expire (none was committed yet), and the
    # one recorded then said the proposal still waited in a status it had left. A decision
    # made meanwhile is seen here, a later one waits and then expires the notice, and a
    # proposal being decided right now is skipped (its next status is a new crossing).
    still = dict(
        session.exec(
            select(col(Proposal.id), col(Proposal.status))
            .where(col(Proposal.id).in_([uuid.UUID(e["proposal_id"]) for e in stalled]))
            .with_for_update(read=True, skip_locked=True)
        ).all()
    )
    stalled = [e for e in stalled if still.get(uuid.UUID(e["proposal_id"])) == e["status"]]
    alerts = table_of(ProposalStallAlert)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new = 0
    for entry in stalled:
        inserted = session.execute(
            insert(alerts)
            .values(
                proposal_id=uuid.UUID(entry["proposal_id"]),
                status=entry["status"],
                days_in_status=entry["days_in_status"],
                limit_days=entry["limit_days"],
                at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(alerts.c.proposal_id)
        ).first()
        if inserted is None:
            continue
        new += 1
        emit(
            session,
            event_type="proposal.stalled",
            organisation_ids={
                table.chair_organisation_id,
                uuid.UUID(entry["care_provider_id"]),
                uuid.UUID(entry["corporation_id"]),
            },
            data={
                key: entry[key]
                for key in (
                    "proposal_id",
                    "meeting_id",
                    "case_id",
                    "vacancy_id",
                    "status",
                    "since",
                    "days_in_status",
                    "limit_days",
                    "turn",
                )
            }
            | {"table_id": str(table.id)},
        )
    return new
