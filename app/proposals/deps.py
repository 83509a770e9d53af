"""The proposal a route names by `proposal_id`, loaded and authorised for the caller, with its
table and the caller's role in it (the HTTP edge of `app.proposals.service.get_proposal`)."""

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.db import SessionDep
from app.proposals import service
from app.proposals.models import Proposal
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
