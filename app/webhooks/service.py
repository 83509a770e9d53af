"""Webhook endpoints and `emit` (the durable outbox); the worker's queries are in `outbox.py`.

`emit` writes the event and its deliveries in the caller's transaction, so an event exists if and
only if the change that caused it was committed. The worker (`worker.py`) claims due deliveries
with a lease, sends them, and records the outcome here.
"""

import json
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import delete, event, func, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.mail.service import queue_event_notices
from app.organisations.models import Organisation
from app.principal import Principal
from app.problems import Conflict, NotFound, Unprocessable
from app.sqltypes import utcnow
from app.versioning import check_if_match, etag, flush, lock, lock_checked
from app.webhooks.models import (
    UNSUBSCRIBED,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointPublic,
    WebhookEndpointUpdate,
    WebhookEvent,
    WebhookSecretRotation,
)
from app.webhooks.retention import start_pause_clock
from app.webhooks.signing import new_secret
from app.webhooks.targets import TargetRefused, refuse_internal_url

EVENT_TYPES = (
    "agenda.published",
    "proposal.decided",
    "action.assigned",
    "case.housed",
    "proposal.stalled",
    "aftercare.checkpoint_due",
    "aftercare.signal_raised",
)

# Bounds the fan-out of one event and the work one organisation can put on the worker.
MAX_ENDPOINTS_PER_ORGANISATION = 20


# --- emitting events -----------------------------------------------------------------------

_EMITTED = "webhooks.emitted"
_wake_events: set[threading.Event] = set()
_wake_lock = threading.Lock()


def register_wake_event(wake: threading.Event) -> None:
    """A worker in this process wants to hear at once when events are committed."""
    with _wake_lock:
        _wake_events.add(wake)


def unregister_wake_event(wake: threading.Event) -> None:
    with _wake_lock:
        _wake_events.discard(wake)


def wake_workers_after_commit(session: Session) -> None:
    """Wake this process's workers when `session` commits: it queued something due now."""
    session.info[_EMITTED] = True


@event.listens_for(OrmSession, "after_commit")
def _wake_workers_after_commit(session: OrmSession) -> None:
    if session.info.pop(_EMITTED, False):
        with _wake_lock:
            for wake in _wake_events:
                wake.set()


@event.listens_for(OrmSession, "after_rollback")
def _forget_rolled_back_emits(session: OrmSession) -> None:
    session.info.pop(_EMITTED, None)


def emit(
    session: Session,
    *,
    event_type: str,
    organisation_ids: Iterable[uuid.UUID],
    data: dict[str, Any],
    views: Mapping[uuid.UUID, dict[str, Any]] | None = None,
) -> uuid.UUID:
    """Record the event and queue one delivery per active endpoint of those organisations
    subscribed to event_type, in the caller's transaction (durable outbox: committed with the
    change or not at all). Returns the event id (used as `webhook-id`). `data` holds ids and
    codes only, never personal data.

    A recipient sees in the payload what the API shows it: `views` maps an organisation to its
    own version of `data` (a corporation's without the case id, say). Each distinct version is
    an event of its own (its own `webhook-id`); the returned id is that of `data` itself."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    views = views or {}
    audiences: dict[str, tuple[dict[str, Any], set[uuid.UUID]]] = {}
    main_key = ""
    for organisation_id in [None, *organisation_ids]:
        view = data if organisation_id is None else views.get(organisation_id, data)
        payload = to_jsonable_python(view)
        if not isinstance(payload, dict):
            raise TypeError("webhook event data must be a JSON object")
        key = json.dumps(payload, sort_keys=True)
        if organisation_id is None:
            main_key = key
        audience = audiences.setdefault(key, (payload, set()))[1]
        if organisation_id is not None:
            audience.add(organisation_id)
    now = utcnow()
    ids = {
        key: _record_event(session, event_type, payload, organisations, now)
        for key, (payload, organisations) in audiences.items()
    }
    # People's e-mail notices are queued from the same events, in the same transaction; a mail
    # carries only the event's codes, so one notice per event serves every organisation.
    queue_event_notices(
        session,
        event_type=event_type,
        event_id=ids[main_key],
        organisation_ids={o for _, organisations in audiences.values() for o in organisations},
        data=audiences[main_key][0],
    )
    wake_workers_after_commit(session)
    return ids[main_key]


def _record_event(
    session: Session,
    event_type: str,
    payload: dict[str, Any],
    organisations: set[uuid.UUID],
    now: datetime,
) -> uuid.UUID:
    webhook_event = WebhookEvent(type=event_type, occurred_at=now, data=payload)
    session.add(webhook_event)
    session.flush()  # before its deliveries: no relationship orders them (under no_autoflush)
    endpoints: Sequence[tuple[uuid.UUID, uuid.UUID, Sequence[str]]] = []
    if organisations:
        # FOR KEY SHARE (PostgreSQL): an endpoint being deleted is waited for and then left
        # out, instead of read here and gone when its delivery is inserted (a foreign-key
        # violation, a 500); `delete_endpoint` in turn waits for this transaction's deliveries.
        endpoints = session.exec(
            select(WebhookEndpoint.id, WebhookEndpoint.organisation_id, WebhookEndpoint.events)
            .where(
                col(WebhookEndpoint.organisation_id).in_(organisations),
                col(WebhookEndpoint.active).is_(True),
            )
            .order_by(col(WebhookEndpoint.id))
            .with_for_update(read=True, key_share=True)
        ).all()
    told, event_id = set(), webhook_event.id
    for endpoint_id, organisation_id, events in endpoints:
        if event_type in events:
            told.add(organisation_id)
            row = WebhookDelivery(event_id=event_id, endpoint_id=endpoint_id, next_attempt_at=now)
            session.add(row)
    session.flush()
    log_disclosure(session, event_type, payload, told)
    return webhook_event.id


def log_disclosure(
    session: Session, event_type: str, payload: dict[str, Any], told: set[uuid.UUID]
) -> None:
    """An event naming a case hands that case id to each organisation it is queued for."""
    case_id, table_id = payload.get("case_id"), payload.get("table_id")
    if not (case_id and table_id):
        return
    case = (uuid.UUID(case_id), uuid.UUID(table_id))
    for organisation_id in sorted(told):
        access_log.record_disclosure(
            session, organisation_id, AccessAction.notification, [case], f"webhook {event_type}"
        )


# --- endpoints -----------------------------------------------------------------------------


def _check_target(url: str, allow_private_targets: bool) -> None:
    try:
        refuse_internal_url(url, allow_private_targets)
    except TargetRefused as refused:
        raise Unprocessable("url", str(refused), "target_not_allowed") from refused


def create_endpoint(
    session: Session,
    principal: Principal,
    data: WebhookEndpointCreate,
    *,
    allow_private_targets: bool,
) -> tuple[WebhookEndpoint, str]:
    """Returns the endpoint and its secret, which the API shows only once. A URL that names a
    loopback or private address is refused (400) unless `allow_private_targets`; a link-local
    or cloud metadata address always is."""
    organisation_id = principal.require_organisation()
    _check_target(data.url, allow_private_targets)
    # The organisation's row first (FOR NO KEY UPDATE: rows that merely refer to it pass), so
    # a concurrent registration waits and then counts this one: without it two registrations
    # both counted one short of the limit and both went in (PostgreSQL).
    lock(session, Organisation, [organisation_id], no_key=True)
    count = session.exec(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.organisation_id == organisation_id)
    ).one()
    if count >= MAX_ENDPOINTS_PER_ORGANISATION:
        raise Conflict(
            f"An organisation may register at most {MAX_ENDPOINTS_PER_ORGANISATION} endpoints.",
            code="endpoint_limit_reached",
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        organisation_id=organisation_id,
        url=data.url,
        description=data.description,
        events=[e.value for e in data.events],
        secret=secret,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def list_endpoints(
    session: Session,
    principal: Principal,
    *,
    organisation_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint)
    if not principal.is_operator:
        query = query.where(WebhookEndpoint.organisation_id == principal.require_organisation())
    if organisation_id is not None:
        query = query.where(WebhookEndpoint.organisation_id == organisation_id)
    if after is not None:
        query = query.where(WebhookEndpoint.id > after)
    return list(session.exec(query.order_by(col(WebhookEndpoint.id)).limit(limit)))


def get_endpoint(session: Session, principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The endpoint if the caller manages it: the operator any, an organisation its own."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not (
        principal.is_operator or endpoint.organisation_id == principal.organisation_id
    ):
        raise NotFound("No such webhook endpoint.")
    return endpoint


def update_endpoint(
    session: Session,
    endpoint: WebhookEndpoint,
    data: WebhookEndpointUpdate,
    if_match: str | None,
    *,
    allow_private_targets: bool,
    if_none_match: str | None = None,
) -> WebhookEndpoint:
    """Apply the merge patch (400 for a null field or a refused target, 412 on a stale
    `if_match`); an event type taken off ends its pending deliveries, a new URL or a resume
    makes the waiting ones due now, a pause starts their wait (`retention.start_pause_clock`).
    What the operator may change the route decided (`app.webhooks.deps.endpoint_to_change`)."""
    endpoint = lock_checked(session, endpoint, "webhook endpoint", if_match, if_none_match)
    changes = data.model_fields_set
    for name in changes - {"description"}:
        if getattr(data, name) is None:
            raise Unprocessable(name, "cannot be null; leave it out to keep the current value")
    # A receiver fixed (a new URL) or deliveries resumed: what waits in its backoff (up to
    # 12 h between attempts) is tried now rather than hours after the fix.
    fixed = data.url not in (None, endpoint.url) or (data.active is True and not endpoint.active)
    if fixed:
        _due_now(session, endpoint.id)
    if data.active is False and endpoint.active:
        start_pause_clock(session, endpoint.id, utcnow())
    if data.url is not None:
        _check_target(data.url, allow_private_targets)
        endpoint.url = data.url
    if data.events is not None:
        if dropped := set(endpoint.events) - {e.value for e in data.events}:
            _end_unsubscribed(session, endpoint.id, dropped)
        endpoint.events = [e.value for e in data.events]
    if "description" in changes:
        endpoint.description = data.description
    if data.active is not None:
        endpoint.active = data.active
    session.add(endpoint)
    flush(session, if_match, "webhook endpoint")
    return endpoint


def _due_now(session: Session, endpoint_id: uuid.UUID) -> None:
    """Make the endpoint's pending deliveries due now; their attempts so far still count. One
    in flight keeps its lease (`outbox.claim` takes only free ones) and its attempt's outcome
    schedules what follows."""
    now = utcnow()
    session.exec(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
        .where(col(WebhookDelivery.status) == DeliveryStatus.pending.value)
        .where(col(WebhookDelivery.next_attempt_at) > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def _end_unsubscribed(session: Session, endpoint_id: uuid.UUID, dropped: set[str]) -> None:
    """End the endpoint's pending deliveries of the event types its organisation `dropped`, as
    failed and saying so, now (`next_attempt_at`, from which their 30 days in the log count:
    `retention.forget_finished`); one in flight keeps this end when its attempt fails (the
    failure changes nothing, `outbox._finish`) and is delivered when it is accepted."""
    dropped_events = select(WebhookEvent.id).where(col(WebhookEvent.type).in_(sorted(dropped)))
    session.exec(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
        .where(col(WebhookDelivery.status) == DeliveryStatus.pending.value)
        .where(col(WebhookDelivery.event_id).in_(dropped_events))
        .values(
            status=DeliveryStatus.failed.value, last_error=UNSUBSCRIBED, next_attempt_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )


def delete_endpoint(
    session: Session, endpoint: WebhookEndpoint, if_match: str | None = None
) -> None:
    """Remove the endpoint, its secret and its delivery log; its pending deliveries stop.
    `if_match`: 412 unless it names the endpoint's current ETag (checked on the locked row).

    The endpoint is locked first: a transaction queuing a delivery for it (`emit`, which holds
    it FOR KEY SHARE) commits before its deliveries are deleted, so none is left referring to
    a deleted endpoint (a foreign-key violation, a 500)."""
    locked = lock(session, WebhookEndpoint, [endpoint.id])
    if not locked:  # deleted by a concurrent request meanwhile
        raise NotFound("No such webhook endpoint.")
    check_if_match(if_match, etag(locked[0]), "webhook endpoint")
    session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id))
    session.delete(locked[0])
    session.flush()


def rotate_secret(
    session: Session,
    endpoint: WebhookEndpoint,
    data: WebhookSecretRotation,
    if_match: str | None,
) -> WebhookEndpoint:
    """Give the endpoint a new signing secret (returned once, by the route); the replaced one
    signs beside it for `data.previous_secret_hours` (0: not at all), so a receiver switching
    over refuses no delivery. The endpoint row is locked first (412 on a stale `if_match`), so
    two rotations at once come one after the other: the later one replaces the earlier's
    secret, which then signs as the previous one. A secret replaced earlier still signing
    stops at once: at most two signatures per delivery.

    Source: Standard Webhooks (https://www.standardwebhooks.com), 'Signature scheme': several
    space-separated signatures in `webhook-signature`, for zero-downtime secret rotation."""
    endpoint = lock_checked(session, endpoint, "webhook endpoint", if_match)
    hours = data.previous_secret_hours
    endpoint.previous_secret = endpoint.secret if hours else None
    endpoint.previous_secret_until = utcnow() + timedelta(hours=hours) if hours else None
    endpoint.secret = new_secret()
    session.add(endpoint)
    flush(session, if_match, "webhook endpoint")
    return endpoint


def endpoint_public(endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic.model_validate(endpoint, from_attributes=True)
