"""HTTP routes for what happens after the move: the tenancy, the aftercare agreement, the
follow-up checkpoints, the omklap and the end of the tenancy."""

import uuid
from typing import Any

from fastapi import APIRouter, Response
from pydantic import TypeAdapter

from app.access_log.deps import AccessContextDep, OrganisationContext
from app.aftercare import service
from app.aftercare.deps import (
    AgreementTenancyDep,
    CareProviderTenancyDep,
    KeptTenancyDep,
    TenancyDep,
)
from app.aftercare.models import (
    AftercareAgreement,
    AgreementPublic,
    AgreementWrite,
    Checkpoint,
    CheckpointCreate,
    CheckpointPublic,
    CheckpointState,
    Signal,
    TenancyPage,
    TenancyStatus,
    TenancyUpdate,
    TenancyView,
)
from app.cursors import encode_cursor
from app.db import SessionDep, SessionEndingRoute
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep
from app.if_match import IfMatch, IfNoneMatch
from app.pagination import PageDep
from app.problems import problem_responses
from app.tables.deps import TableDep
from app.versioning import etag

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1", tags=["aftercare"])
_TENANCY_VIEW: TypeAdapter[Any] = TypeAdapter(TenancyView)


def _tenancy(session: SessionDep, found: Any) -> Any:
    return _TENANCY_VIEW.validate_python(service.tenancy_document(session, *found))


def _agreement(agreement: AftercareAgreement) -> AgreementPublic:
    return AgreementPublic.model_validate(agreement, from_attributes=True)


@router.get(
    "/cases/{case_id}/tenancy",
    response_model=TenancyView,
    responses=problem_responses(401, 403, 404),
)
def get_tenancy(found: TenancyDep, session: SessionDep, response: Response) -> Any:
    """The tenancy of a housed case: lease, omklap, follow-up and end (the corporation: its
    tenant's lease, omklap, end and the landlord's signals). Its ETag is the version and a
    digest of what it shows (the checkpoints' states count from today); a write takes it in
    `If-Match` as well as the version's."""
    return _tenancy_answered(session, found, response)


def _tenancy_answered(session: SessionDep, found: Any, response: Response) -> Any:
    """The tenancy as the viewer sees it, with the ETag of that read (`tenancy_etag`)."""
    tenancy, viewer = found
    document = service.tenancy_document(session, tenancy, viewer)
    response.headers["ETag"] = service.tenancy_etag(tenancy, document)
    return _TENANCY_VIEW.validate_python(document)


@router.patch(
    "/cases/{case_id}/tenancy",
    response_model=TenancyView,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def update_tenancy(
    found: KeptTenancyDep,
    payload: TenancyUpdate,
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> Any:
    """Plan the omklap, record the transfer (corporation) or end the tenancy, with a date of
    record. `If-Match`: the version's ETag or the ETag the tenancy's read answered (412 for a
    copy that no longer reads so)."""
    tenancy = service.update_tenancy(
        session,
        context,
        found.tenancy,
        payload,
        if_match,
        if_none_match=if_none_match,
    )
    return _tenancy_answered(session, (tenancy, found.viewer), response)


@router.get(
    "/cases/{case_id}/aftercare-agreement",
    response_model=AgreementPublic,
    responses=problem_responses(401, 403, 404),
)
def get_agreement(
    found: AgreementTenancyDep, session: SessionDep, response: Response
) -> AgreementPublic:
    """The aftercare agreement (care provider, chair and municipalities; a corporation only
    sees in the tenancy that one exists). 404 `case_anonymised` once retention deleted it."""
    agreement = service.get_agreement(session, found.tenancy, found.viewer)
    response.headers["ETag"] = etag(agreement)
    return _agreement(agreement)


@router.put(
    "/cases/{case_id}/aftercare-agreement",
    response_model=AgreementPublic,
    status_code=200,
    responses={
        201: {"description": "The agreement was made", "model": AgreementPublic},
        **problem_responses(401, 403, 404, 409, 412),
    },
)
def put_agreement(
    found: CareProviderTenancyDep,
    payload: AgreementWrite,
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> AgreementPublic:
    """Make (201) or replace (200) the aftercare agreement of a housed case (its care
    provider). `If-None-Match: *` makes it only when there is none yet (412 otherwise)."""
    agreement, created = service.put_agreement(
        session, context, found.tenancy, payload, if_match, if_none_match
    )
    response.headers["ETag"] = etag(agreement)
    if created:
        response.status_code = 201
        response.headers["Location"] = f"/v1/cases/{agreement.case_id}/aftercare-agreement"
    return _agreement(agreement)


@router.post(
    "/cases/{case_id}/checkpoints",
    status_code=201,
    response_model=CheckpointPublic,
    responses={**REPLAY_RESPONSE, **problem_responses(401, 403, 404, 409)},
)
def record_checkpoint(
    found: CareProviderTenancyDep,
    payload: CheckpointCreate,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a follow-up checkpoint (the case's care provider). A retry with the first
    request's `Idempotency-Key` reads the recorded checkpoint (200); without a key, a retry of
    a recorded checkpoint answers 409 `checkpoint_recorded`."""
    case_id = found.tenancy.case_id
    location = {"Location": f"/v1/cases/{case_id}/tenancy"}

    def reread(checkpoint_id: uuid.UUID) -> tuple[CheckpointPublic, dict[str, str]]:
        # Codes and signals of a case: read again with the caller's access, and logged.
        checkpoint = service.get_checkpoint(session, context, case_id, checkpoint_id)
        return _checkpoint(checkpoint), location

    if replay := idempotency.replay(session, context.principal, payload, reread):
        return replay
    checkpoint = service.record_checkpoint(session, context, found.tenancy, payload)
    return idempotency.respond(_checkpoint(checkpoint), 201, location, resource_id=checkpoint.id)


def _checkpoint(checkpoint: Checkpoint) -> CheckpointPublic:
    return CheckpointPublic(
        months=checkpoint.months,
        due_on=checkpoint.due_on,
        state=CheckpointState.recorded,
        recorded_on=checkpoint.recorded_on,
        still_living_there=checkpoint.still_living_there,
        support_active=checkpoint.support_active,
        signals=[Signal(s) for s in checkpoint.signals],
    )


@router.get(
    "/tables/{table_id}/tenancies",
    response_model=TenancyPage,
    responses=problem_responses(401, 403, 404),
)
def list_tenancies(
    table: TableDep,
    context: OrganisationContext,
    session: SessionDep,
    page: PageDep,
    status: TenancyStatus | None = None,
) -> TenancyPage:
    """The table's tenancies the caller may see (chair and municipalities: all; a care
    provider: its cases'; a corporation: its dwellings', in its view); each is logged."""
    rows, viewer = service.list_tenancies(
        session, context, table, status=status, after=page.after, limit=page.limit
    )
    last = rows[page.limit - 1].case_id if len(rows) > page.limit else None
    next_cursor = page.tie(None if last is None else encode_cursor(last))
    items = [_tenancy(session, (t, viewer)) for t in rows[: page.limit]]
    return TenancyPage(items=items, next_cursor=next_cursor)
