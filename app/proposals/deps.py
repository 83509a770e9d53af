"""The proposal a route names by `proposal_id`, loaded and authorised for the caller, with its
table and the caller's role in it (the HTTP edge of `app.proposals.service.get_proposal`)."""

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.db import SessionDep
from app.json_body import BodyMembers
from app.problems import Forbidden
from app.proposals import service
from app.proposals.models import Decision, Proposal
from app.tables.models import OutflowTable


class ProposalAtTable(NamedTuple):
    proposal: Proposal
    table: OutflowTable
    role: str
    """The caller's part in the proposal: `chair`, `care_provider`, `corporation`, ..."""


def valid_proposal(
    proposal_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> ProposalAtTable:
    """The proposal, its table and the caller's role; 404 outside the caller's reach."""
    return ProposalAtTable(*service.get_proposal(session, context, proposal_id))


ProposalDep = Annotated[ProposalAtTable, Depends(valid_proposal)]


def proposal_to_decide(found: ProposalDep, body: BodyMembers) -> ProposalAtTable:
    """The proposal, for a decision on it: 404 (or the operator's 403) as `valid_proposal`,
    then 403 for a member that takes no decision (a municipality that does not chair the
    table) and for a decision the body names that is not the caller's, before the body is
    validated. The member was told which fields of its decision were wrong first, and only
    once it had fixed them that the decision is not its to take."""
    if not any(service.may_decide(found.role, decision) for decision in Decision):
        raise Forbidden(
            "The chair and the proposal's corporation and care provider decide on it; the "
            "other members of the table follow it."
        )
    named = body.get("decision")
    if isinstance(named, str) and named in {d.value for d in Decision}:
        service.refuse_decision(found.role, Decision(named))
    return found


DecidingProposalDep = Annotated[ProposalAtTable, Depends(proposal_to_decide)]


def proposal_of_profile(
    found: ProposalDep, context: AccessContextDep, session: SessionDep
) -> ProposalAtTable:
    """The proposal, for a read of its case profile: 404 (or the operator's 403) as
    `valid_proposal`, then 403 where the profile is not the caller's to read now (`refuse_profile`)
    before the query is judged: the landlord of a closed proposal was told the route's query keys
    first (400), and 403 only without them."""
    service.refuse_profile(session, context, found.proposal, found.role)
    return found


ProfileProposalDep = Annotated[ProposalAtTable, Depends(proposal_of_profile)]
