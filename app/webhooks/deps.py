"""The webhook endpoint a route names by `endpoint_id`, loaded and authorised for the caller
before the body is validated (the HTTP edge of `app.webhooks.service.get_endpoint`): another
organisation's endpoint answers 404, as one that does not exist, whatever the body; a body
naming it was judged first (400), so the caller was told which fields were wrong of an
endpoint it may not change at all."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth import CurrentPrincipal
from app.db import SessionDep
from app.json_body import BodyMembers
from app.problems import Forbidden
from app.webhooks import outbox, service
from app.webhooks.models import WebhookEndpoint


def managed_endpoint(
    endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookEndpoint:
    """The endpoint if the caller manages it (the operator any, an organisation its own);
    404 otherwise."""
    return service.get_endpoint(session, principal, endpoint_id)


EndpointDep = Annotated[WebhookEndpoint, Depends(managed_endpoint)]


def endpoint_to_change(
    endpoint: EndpointDep, principal: CurrentPrincipal, body: BodyMembers
) -> WebhookEndpoint:
    """As `managed_endpoint`, then 403 for the operator sending the endpoint's url or events,
    before the body is validated: the operator pauses, resumes or describes an organisation's
    endpoint, but its URL and events are the organisation's, as a URL the operator chose would
    receive the organisation's events, case ids among them, which the operator may not read."""
    if principal.is_operator and body.keys() & {"url", "events"}:
        raise Forbidden(
            "The operator may pause, resume, describe or delete an organisation's endpoint; "
            "its url and events are the organisation's to change."
        )
    return endpoint


def endpoint_to_rotate(
    endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookEndpoint:
    """The endpoint whose secret the caller's organisation rotates: 403 for the operator (of
    any endpoint, known or not), then as `managed_endpoint`."""
    if principal.is_operator:
        raise Forbidden(
            "The endpoint's organisation rotates its secret: the new one signs events its "
            "receiver trusts. The operator may pause or delete the endpoint."
        )
    return managed_endpoint(endpoint_id, principal, session)


ChangeableEndpointDep = Annotated[WebhookEndpoint, Depends(endpoint_to_change)]
RotatableEndpointDep = Annotated[WebhookEndpoint, Depends(endpoint_to_rotate)]


def endpoint_to_redeliver(
    endpoint: EndpointDep, delivery_id: uuid.UUID, session: SessionDep
) -> WebhookEndpoint:
    """As `managed_endpoint`, then 404 when it has no such delivery, before the query is
    judged: a redelivery of what is not there (another organisation's endpoint, a delivery
    that left the log) answered 400 to a query key the route does not take, and 404 only
    without it."""
    outbox.require_delivery(session, endpoint, delivery_id)
    return endpoint


RedeliveredEndpointDep = Annotated[WebhookEndpoint, Depends(endpoint_to_redeliver)]
