"""HTTP routes for case files."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.access_log.deps import AccessContextDep
from app.access_log.models import AccessAction
from app.cases import service
from app.cases.deps import CaseDep, CaseHistoryDep, CaseReadDep, CaseTimelineDep
from app.cases.models import (
    CaseCreate,
    CasePage,
    CasePublic,
    CaseStatus,
    CaseTransitionPage,
    CaseTransitionPublic,
    CaseUpdate,
    case_public_dict,
)
from app.db import SessionDep
from app.idempotency import IdempotencyDep
from app.pagination import PageDep
from app.problems import problem_responses
from app.schemas import ExternalRef
from app.timeline.models import Timeline
from app.timeline.service import case_timeline
from app.versioning import etag

router = APIRouter(prefix="/v1/cases", tags=["cases"])
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description="ETag from a GET; 412 if it is stale."),
]


def _public(case) -> CasePublic:  # type: ignore[no-untyped-def]
    return CasePublic.model_validate(case_public_dict(case))


@router.post(
    "",
    status_code=201,
    response_model=CasePublic,
    responses={
        200: {"description": "Replay of an earlier request with the same Idempotency-Key"},
        **problem_responses(401, 403, 409),
    },
)
def create_case(
    payload: CaseCreate,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Register a client's case file (care providers). A known `external_ref` answers 409."""

    def reread(case_id: uuid.UUID) -> tuple[CasePublic, dict[str, str]]:
        # A replay shows the case as it is now, read (and logged) like any read: the
        # idempotency record keeps no copy of the case file.
        case = service.get_case(session, context, case_id, AccessAction.read)
        return _public(case), {"ETag": etag(case)}

    if replay := idempotency.replay(payload, reread):
        return replay
    case = service.create_case(session, context, payload)
    headers = {"Location": f"/v1/cases/{case.id}", "ETag": etag(case)}
    return idempotency.respond(_public(case), 201, headers, resource_id=case.id)


@router.get("", response_model=CasePage, responses=problem_responses(401, 403))
def list_cases(
    context: AccessContextDep,
    session: SessionDep,
    page: PageDep,
    table_id: Annotated[
        uuid.UUID | None, Query(alias="tableId", description="Only cases at this table.")
    ] = None,
    status: CaseStatus | None = None,
    external_ref: Annotated[
        ExternalRef | None,
        Query(alias="externalRef", description="Only the case with this own reference."),
    ] = None,
) -> CasePage:
    """Cases the caller may see, oldest first."""
    rows = service.list_cases(
        session,
        context,
        table_id=table_id,
        status=status,
        external_ref=external_ref,
        after=page.after,
        limit=page.limit,
    )
    rows, next_cursor = page.cut(rows)
    return CasePage(items=[_public(c) for c in rows], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CasePublic, responses=problem_responses(401, 403, 404))
def get_case(case: CaseReadDep, response: Response) -> CasePublic:
    """One case file, with its ETag."""
    response.headers["ETag"] = etag(case)
    return _public(case)


@router.patch(
    "/{case_id}",
    response_model=CasePublic,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def update_case(
    case: CaseDep,
    payload: CaseUpdate,  # type: ignore[valid-type]
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> CasePublic:
    """Update a case file (merge patch), or put it on hold, resume or withdraw it."""
    case = service.update_case(session, context, case, payload, if_match)
    response.headers["ETag"] = etag(case)
    return _public(case)


@router.get(
    "/{case_id}/transitions",
    response_model=CaseTransitionPage,
    responses=problem_responses(401, 403, 404),
)
def list_transitions(
    case: CaseHistoryDep,
    context: AccessContextDep,
    session: SessionDep,
    page: PageDep,
) -> CaseTransitionPage:
    """The status history of a case: every transition with time and actor."""
    rows = service.list_transitions(session, case, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    items = [CaseTransitionPublic.model_validate(r, from_attributes=True) for r in rows]
    return CaseTransitionPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{case_id}/timeline", response_model=Timeline, responses=problem_responses(401, 403, 404)
)
def get_timeline(case: CaseTimelineDep, context: AccessContextDep, session: SessionDep) -> Timeline:
    """Everything that happened to the case: status changes, proposals, decisions, actions."""
    return Timeline.model_validate({"items": case_timeline(session, case.id)})
