"""HTTP routes for proposals, their decisions and the corporation's minimal case profile."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.access_log.deps import AccessContextDep, ProposalsContext
from app.db import SessionDep, SessionEndingRoute
from app.idempotency import IdempotencyDep
from app.ids import Id
from app.if_match import IfMatch
from app.pagination import PageDep
from app.problems import problem_responses
from app.proposals import service
from app.proposals.deps import DecidingProposalDep, ProfileProposalDep, ProposalDep
from app.proposals.models import (
    CaseProfile,
    DecisionCreate,
    ProposalPage,
    ProposalPublic,
    ProposalStatus,
)
from app.tables.deps import TableDep

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1", tags=["proposals"])


@router.get(
    "/tables/{table_id}/proposals",
    response_model=ProposalPage,
    responses=problem_responses(401, 403, 404),
)
def list_proposals(
    table: TableDep,
    context: ProposalsContext,
    session: SessionDep,
    page: PageDep,
    meeting_id: Annotated[
        Id | None, Query(alias="meetingId", description="Only this meeting's proposals.")
    ] = None,
    status: ProposalStatus | None = None,
) -> ProposalPage:
    """Proposals of the table the caller takes part in (all for chair and municipalities)."""
    rows = service.list_proposals(
        session,
        context,
        table,
        meeting_id=meeting_id,
        status=status.value if status else None,
        after=page.after,
        limit=page.limit,
    )
    rows, next_cursor = page.cut(rows)
    items = [
        service.proposal_public(
            session,
            p,
            service.role_of(context, p, table) or "corporation",
            context.principal.organisation_id,
        )
        for p in rows
    ]
    return ProposalPage(items=items, next_cursor=next_cursor)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalPublic,
    responses=problem_responses(401, 403, 404),
)
def get_proposal(
    found: ProposalDep, context: AccessContextDep, session: SessionDep, response: Response
) -> ProposalPublic:
    """One proposal with every decision taken on it. Its ETag is the version and a digest of
    what the caller's read shows (the corporation's leaves out the score)."""
    proposal, _, role = found
    public = service.show(session, context, proposal, role)
    response.headers["ETag"] = service.proposal_etag(proposal, public)
    return public


@router.post(
    "/proposals/{proposal_id}/decisions",
    response_model=ProposalPublic,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def decide(
    found: DecidingProposalDep,
    payload: DecisionCreate,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response:
    """Record a decision: nominate, corporation_accept/decline, plan_viewing, client_decline,
    sign_tenancy, house, withdraw. Illegal transitions and lost races answer 409. `If-Match`:
    the version's ETag or the one the caller's read of the proposal answered (412 when stale);
    the answer's ETag is the one that read then answers."""

    def reread(stored_id: uuid.UUID) -> tuple[ProposalPublic, dict[str, str]]:
        # The answer holds score components derived from the case file: not kept in the
        # idempotency record, read again with the caller's access on replay, and logged as
        # that read of the case.
        proposal, _, role = service.get_proposal(session, context, stored_id)
        public = service.show(session, context, proposal, role)
        return public, {"ETag": service.proposal_etag(proposal, public)}

    if replay := idempotency.replay(session, context.principal, payload, reread):
        return replay
    proposal, table, role = found
    proposal = service.decide(session, context, proposal, table, role, payload, if_match)
    body = service.proposal_public(session, proposal, role, context.principal.organisation_id)
    headers = {"ETag": service.proposal_etag(proposal, body)}
    return idempotency.respond(body, 200, headers, resource_id=proposal.id)


@router.get(
    "/proposals/{proposal_id}/case-profile",
    response_model=CaseProfile,
    responses=problem_responses(401, 403, 404),
)
def get_case_profile(
    found: ProfileProposalDep, context: AccessContextDep, session: SessionDep
) -> CaseProfile:
    """What the corporation may know of the proposed case: household size, support intensity,
    complex-manager need, income category and contract form. Logged as a case-file access.
    404 `case_anonymised` once retention removed the details it is made of."""
    proposal, _, role = found
    return service.case_profile(session, context, proposal, role)
