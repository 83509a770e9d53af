"""The table's memory of declines: every proposal a client or corporation declined, or the chair
withdrew, becomes an `EarlierDecline` for the matching engine, which never proposes that pair
again (and, by table policy, keeps the case from all of a declining corporation's dwellings for a
period). Closures the service made itself (`automatic`) are not declines.

The memory is the client's case's, not the table's: a case that moved to another table brings its
declines along (its declined dwelling may have moved there too), and so does a returning client's
new case those of the closed cases it follows (`previous_case_id`): withdrawing a case and
registering the client again would otherwise lift a corporation's decline scope at once."""

import uuid

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.cases.models import CLOSED_STATUSES, Case
from app.matching import DECLINE_DECISIONS, EarlierDecline
from app.proposals.models import Proposal, ProposalDecision
from app.timeutil import local_date


def _followed(session: Session, table_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """The closed cases the table's open cases follow (`previous_case_id`, back to the first of
    each client), each mapped to the open case that follows it."""
    frontier = {
        previous: case_id
        for case_id, previous in session.exec(
            select(Case.id, Case.previous_case_id).where(
                Case.table_id == table_id,
                col(Case.status).not_in(sorted(CLOSED_STATUSES)),
                col(Case.previous_case_id).is_not(None),
            )
        ).all()
        if previous is not None
    }
    followed: dict[uuid.UUID, uuid.UUID] = {}
    while frontier:
        followed |= frontier
        rows = session.exec(
            select(Case.id, Case.previous_case_id).where(
                col(Case.id).in_(sorted(frontier)), col(Case.previous_case_id).is_not(None)
            )
        ).all()
        frontier = {
            previous: frontier[case_id]
            for case_id, previous in rows
            if previous is not None and previous not in followed
        }
    return followed


def earlier_declines(session: Session, table_id: uuid.UUID) -> list[EarlierDecline]:
    """The declines of the table's open cases, and of the closed cases a returning client's
    case follows (as that case's), made at this table or another, oldest first;
    `decided_on` is the decision's date in Europe/Amsterdam. A decline made at another table
    has no `proposal_id` and is marked `elsewhere` (its explanations name no dwelling): this
    table's members may not read that table's proposals or dwellings."""
    followed = _followed(session, table_id)
    own_cases = and_(
        col(Case.table_id) == table_id, col(Case.status).not_in(sorted(CLOSED_STATUSES))
    )
    rows = session.exec(
        select(  # type: ignore[call-overload]  # SQLModel types select() for at most 4 columns
            ProposalDecision.decision,
            ProposalDecision.reason,
            ProposalDecision.at,
            Proposal.id,
            Proposal.table_id,
            Proposal.case_id,
            Proposal.vacancy_id,
            Proposal.corporation_id,
        )
        .join(Proposal, Proposal.id == ProposalDecision.proposal_id)
        .join(Case, Case.id == Proposal.case_id)
        .where(
            or_(own_cases, col(Case.id).in_(sorted(followed))) if followed else own_cases,
            col(ProposalDecision.decision).in_(sorted(DECLINE_DECISIONS)),
            col(ProposalDecision.automatic).is_(False),
        )
        .order_by(ProposalDecision.id)
    ).all()
    return [
        EarlierDecline(
            case_id=str(followed.get(case_id, case_id)),
            dwelling_id=str(vacancy_id),
            corporation_id=str(corporation_id),
            decision=decision,
            reason=reason,
            decided_on=local_date(at),
            proposal_id=str(proposal_id) if at_table == table_id else None,
            elsewhere=at_table != table_id,
        )
        for decision, reason, at, proposal_id, at_table, case_id, vacancy_id, corporation_id in rows
    ]
