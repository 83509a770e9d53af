"""HTTP routes for organisations and API keys."""

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from app.auth import CurrentPrincipal, OperatorPrincipal
from app.db import SessionDep, SessionEndingRoute
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep
from app.organisations import service
from app.organisations.deps import (
    ManagedApiKeyDep,
    ManagedOrganisationDep,
    VisibleOrganisationDep,
)
from app.organisations.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPage,
    ApiKeyPublic,
    KeyIssuer,
    OrganisationCreate,
    OrganisationPage,
    OrganisationPublic,
)
from app.pagination import PageDep
from app.problems import problem_responses

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1", tags=["organisations"])


class Me(BaseModel):
    is_operator: bool = Field(
        description=(
            "True for the operator's key (manages organisations and tables; no organisation)."
        )
    )
    organisation: OrganisationPublic | None = Field(
        description="The organisation the request acts for; null for the operator."
    )
    api_key_id: uuid.UUID | None


@router.get("/me", response_model=Me, responses=problem_responses(401))
def who_am_i(principal: CurrentPrincipal, session: SessionDep) -> Me:
    """The organisation and key the request is authenticated as."""
    organisation = None
    if principal.organisation_id is not None:
        organisation = OrganisationPublic.model_validate(
            service.get_visible_organisation(session, principal, principal.organisation_id),
            from_attributes=True,
        )
    return Me(
        is_operator=principal.is_operator,
        organisation=organisation,
        api_key_id=principal.api_key_id,
    )


@router.post(
    "/organizations",
    status_code=201,
    response_model=OrganisationPublic,
    responses={**REPLAY_RESPONSE, **problem_responses(401, 403, 409)},
)
def create_organisation(
    payload: OrganisationCreate,
    principal: OperatorPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Register an organisation (operator only)."""
    if replay := idempotency.replay(session, principal, payload):
        return replay
    organisation = service.create_organisation(session, payload)
    body = OrganisationPublic.model_validate(organisation, from_attributes=True)
    return idempotency.respond(body, 201, {"Location": f"/v1/organizations/{organisation.id}"})


@router.get("/organizations", response_model=OrganisationPage, responses=problem_responses(401))
def list_organisations(
    principal: CurrentPrincipal, session: SessionDep, page: PageDep
) -> OrganisationPage:
    """Organisations the caller may see: all for the operator, else itself and its co-members."""
    rows = service.list_organisations(session, principal, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    items = [OrganisationPublic.model_validate(r, from_attributes=True) for r in rows]
    return OrganisationPage(items=items, next_cursor=next_cursor)


@router.get(
    "/organizations/{organisation_id}",
    response_model=OrganisationPublic,
    responses=problem_responses(401, 404),
)
def get_organisation(organisation: VisibleOrganisationDep) -> OrganisationPublic:
    """One organisation."""
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.post(
    "/organizations/{organisation_id}/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def create_api_key(
    payload: ApiKeyCreate,
    organisation: ManagedOrganisationDep,
    principal: CurrentPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Issue a key (operator, or the organisation itself); `key` is shown only in this answer.

    A retry with the same `Idempotency-Key` issues no second key: the key is never stored, so
    it cannot be shown again, and the retry answers 409 `api_key_issued` naming the key issued
    (`existing_id`, `Location`), to be used or revoked.
    """

    def issued_already(key_id: uuid.UUID) -> tuple[ApiKeyCreated, dict[str, str]]:
        raise service.ApiKeyIssued(organisation.id, key_id)

    if replay := idempotency.replay(session, principal, payload, issued_already):
        return replay
    issuer = KeyIssuer.operator if principal.is_operator else KeyIssuer.organisation
    key, raw = service.create_api_key(
        session,
        organisation,
        payload.label,
        issued_by=issuer,
        issuing_key_id=principal.api_key_id,
    )
    body = ApiKeyCreated.model_validate({**key.model_dump(), "key": raw})
    headers = {
        "Location": f"/v1/organizations/{organisation.id}/api-keys/{key.id}",
        "Cache-Control": "no-store",
    }
    # With `resource_id` the answer, the key in it, is not stored with the Idempotency-Key.
    return idempotency.respond(body, 201, headers, resource_id=key.id)


@router.get(
    "/organizations/{organisation_id}/api-keys",
    response_model=ApiKeyPage,
    responses=problem_responses(401, 403, 404),
)
def list_api_keys(
    organisation: ManagedOrganisationDep, session: SessionDep, page: PageDep
) -> ApiKeyPage:
    """An organisation's keys, without the keys themselves."""
    rows = service.list_api_keys(session, organisation, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    items = [ApiKeyPublic.model_validate(r, from_attributes=True) for r in rows]
    return ApiKeyPage(items=items, next_cursor=next_cursor)


@router.get(
    "/organizations/{organisation_id}/api-keys/{key_id}",
    response_model=ApiKeyPublic,
    responses=problem_responses(401, 403, 404),
)
def get_api_key(key: ManagedApiKeyDep) -> ApiKeyPublic:
    """One key as the list shows it (label, prefix, use, revocation), never the key itself: what
    the `Location` of an issuance, or of its retry's 409, names."""
    return ApiKeyPublic.model_validate(key, from_attributes=True)


@router.delete(
    "/organizations/{organisation_id}/api-keys/{key_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404),
)
def revoke_api_key(key: ManagedApiKeyDep, session: SessionDep) -> Response:
    """Revoke a key at once; revoking twice is harmless."""
    service.revoke_api_key(session, key)
    return Response(status_code=204)
