"""HTTP routes for webhook endpoints and their delivery log."""

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from sqlmodel import Session

from app.auth import CurrentPrincipal, OrganisationPrincipal
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep
from app.ids import Id
from app.if_match import IfMatch, IfNoneMatch
from app.pagination import PageDep
from app.principal import Principal
from app.problems import problem_responses
from app.versioning import etag
from app.webhooks import outbox, service
from app.webhooks.deps import (
    ChangeableEndpointDep,
    EndpointDep,
    RedeliveredEndpointDep,
    RotatableEndpointDep,
)
from app.webhooks.models import (
    DeliveryStatus,
    WebhookDeliveryPage,
    WebhookDeliveryPublic,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointPage,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
    WebhookRedelivery,
    WebhookSecretRotation,
)

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointCreated,
    responses={**REPLAY_RESPONSE, **problem_responses(401, 403, 409)},
)
def create_endpoint(
    principal: OrganisationPrincipal,
    payload: WebhookEndpointCreate,
    session: SessionDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Register an endpoint of the caller's organisation; `secret` is shown only in this answer
    and in its replay for the same `Idempotency-Key`."""

    if replay := idempotency.replay(session, principal, payload, _reread(session, principal)):
        replay.headers["Cache-Control"] = "no-store"
        return replay
    endpoint, _ = service.create_endpoint(
        session,
        principal,
        payload,
        allow_private_targets=settings.webhook_allow_private_targets,
    )
    headers = {
        "Location": f"/v1/webhooks/{endpoint.id}",
        "ETag": etag(endpoint),
        "Cache-Control": "no-store",
    }
    body = _created(endpoint)
    return idempotency.respond(body, 201, headers, resource_id=endpoint.id)


def _reread(
    session: Session, principal: Principal
) -> Callable[[uuid.UUID], tuple[WebhookEndpointCreated, dict[str, str]]]:
    """The replay of a registration or a rotation: the record keeps no copy of the secret, so
    it reads the endpoint as it is now, with the caller's access (404 once deleted). The key
    only gives back what its own organisation's API key may already change (the URL the
    events go to)."""

    def reread(endpoint_id: uuid.UUID) -> tuple[WebhookEndpointCreated, dict[str, str]]:
        endpoint = service.get_endpoint(session, principal, endpoint_id)
        return _created(endpoint), {"ETag": etag(endpoint)}

    return reread


def _created(endpoint: WebhookEndpoint) -> WebhookEndpointCreated:
    """The registration's answer: the endpoint with its stored signing secret."""
    public = service.endpoint_public(endpoint).model_dump()
    return WebhookEndpointCreated(**public, secret=endpoint.secret)


@router.get("", response_model=WebhookEndpointPage, responses=problem_responses(401))
def list_endpoints(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    organisation_id: Annotated[
        Id | None,
        Query(alias="organisationId", description="Only this organisation's endpoints."),
    ] = None,
) -> WebhookEndpointPage:
    """The caller's endpoints (all for the operator), without their secrets."""
    rows = service.list_endpoints(
        session,
        principal,
        organisation_id=organisation_id,
        after=page.after,
        limit=page.fetch,
    )
    rows, next_cursor = page.cut(rows)
    return WebhookEndpointPage(
        items=[service.endpoint_public(e) for e in rows], next_cursor=next_cursor
    )


@router.get(
    "/{endpoint_id}",
    response_model=WebhookEndpointPublic,
    responses=problem_responses(401, 404),
)
def get_endpoint(endpoint: EndpointDep, response: Response) -> WebhookEndpointPublic:
    """One endpoint, without its secret."""
    response.headers["ETag"] = etag(endpoint)
    return service.endpoint_public(endpoint)


@router.patch(
    "/{endpoint_id}",
    response_model=WebhookEndpointPublic,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def update_endpoint(
    endpoint: ChangeableEndpointDep,
    payload: WebhookEndpointUpdate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> WebhookEndpointPublic:
    """Change the URL, events, description or `active` (false pauses deliveries). A new URL
    or a resume makes the deliveries waiting between retries due now. The operator changes
    `active` and the description only (403 for `url` or `events`)."""
    endpoint = service.update_endpoint(
        session,
        endpoint,
        payload,
        if_match,
        allow_private_targets=settings.webhook_allow_private_targets,
        if_none_match=if_none_match,
    )
    response.headers["ETag"] = etag(endpoint)
    return service.endpoint_public(endpoint)


@router.post(
    "/{endpoint_id}/secret-rotations",
    response_model=WebhookEndpointCreated,
    responses={**REPLAY_RESPONSE, **problem_responses(401, 403, 404, 412)},
)
def rotate_secret(
    endpoint: RotatableEndpointDep,
    principal: CurrentPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
    payload: Annotated[WebhookSecretRotation, Body(default_factory=WebhookSecretRotation)],
    if_match: IfMatch = None,
) -> Response:
    """Give the endpoint a new signing secret, shown only in this answer (and its replay for
    the same `Idempotency-Key`, which rotates nothing again). The replaced secret signs beside
    it for `previous_secret_hours` (default 24): each delivery then carries both signatures.
    With `If-Match` (the endpoint's ETag) refused with 412 when it changed meanwhile."""

    if replay := idempotency.replay(session, principal, payload, _reread(session, principal)):
        replay.headers["Cache-Control"] = "no-store"
        return replay
    endpoint = service.rotate_secret(session, endpoint, payload, if_match)
    headers = {"ETag": etag(endpoint), "Cache-Control": "no-store"}
    return idempotency.respond(_created(endpoint), 200, headers, resource_id=endpoint.id)


@router.delete("/{endpoint_id}", status_code=204, responses=problem_responses(401, 404, 412))
def delete_endpoint(
    endpoint: EndpointDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Response:
    """Delete an endpoint with its secret and delivery log; pending deliveries are dropped.
    With `If-Match` (the ETag of a GET) it is refused with 412 when the endpoint changed
    meanwhile."""
    service.delete_endpoint(session, endpoint, if_match)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=WebhookDeliveryPage,
    responses=problem_responses(401, 404),
)
def list_deliveries(
    endpoint: EndpointDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status.")] = None,
) -> WebhookDeliveryPage:
    """The delivery log of an endpoint, oldest first: one entry per event, with its attempts.
    Delivered and failed entries are kept 30 days, then deleted with their events."""
    rows = outbox.list_deliveries(
        session, endpoint, status=status, after=page.after, limit=page.fetch
    )
    rows, next_cursor = page.cut(rows)
    return WebhookDeliveryPage(items=rows, next_cursor=next_cursor)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliveries",
    status_code=202,
    response_model=WebhookDeliveryPublic,
    # No REPLAY_RESPONSE: a retry with the key answers 202, as the first request did.
    responses=problem_responses(401, 404, 409),
)
def redeliver(
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID,
    endpoint: RedeliveredEndpointDep,
    principal: CurrentPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Send a `failed` delivery once more (202: the worker tries it now, or once a paused
    endpoint is resumed, with the same `webhook-id`; a new failure ends it as failed again).
    409 `delivery_not_failed` for one pending or delivered, 409 `event_not_subscribed` when
    the endpoint dropped its type.
    A retry with the same `Idempotency-Key` answers as the first request did, while the
    endpoint and the delivery are there (404 once either is deleted, as without the key)."""
    # `endpoint_id` and `delivery_id` named here too: the contract lists the path's parameters
    # in the order of the signature, a dependency's after the route's own.
    if replay := idempotency.replay(session, principal, WebhookRedelivery()):
        return replay
    delivery = outbox.redeliver(session, endpoint, delivery_id)
    return idempotency.respond(delivery, 202, {"Cache-Control": "no-store"})
