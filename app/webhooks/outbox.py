# Size: one lease, read whole: the claim that takes it and every write that ends it (outcomes,
# redelivery) share its rules; split apart, a change to one would miss the others.
"""The outbox as the delivery worker sees it: leasing due deliveries fairly (`claim_due_deliveries`)
and recording each attempt's outcome; and as its organisation reads it, the delivery log
(`list_deliveries`). `app.webhooks.service.emit` writes what it reads."""

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from app.database import WEBHOOK_CLAIMS, lock_number, take_advisory_lock
from app.problems import Conflict, NotFound
from app.sqltypes import utcnow
from app.versioning import lock
from app.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookDeliveryPublic,
    WebhookEndpoint,
    WebhookEvent,
)
from app.webhooks.service import log_disclosure, wake_workers_after_commit


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to one worker: everything needed to send it without the database."""

    delivery_id: uuid.UUID
    lease_token: uuid.UUID
    attempt: int
    event_id: uuid.UUID
    url: str
    secrets: tuple[str, ...]  # the current one, and the replaced one while it still signs
    body: bytes
    endpoint_id: uuid.UUID
    organisation_id: uuid.UUID


def event_body(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """The Standard Webhooks payload; the same bytes on every attempt."""
    timestamp = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    document = {"type": event_type, "timestamp": timestamp.replace("+00:00", "Z"), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The secrets an attempt at `now` is signed with: the endpoint's own and, until
    `previous_secret_until` passes, the one a rotation replaced."""
    until = endpoint.previous_secret_until
    if endpoint.previous_secret is not None and until is not None and now < until:
        return endpoint.secret, endpoint.previous_secret
    return (endpoint.secret,)


def _lease_free(model: type[WebhookDelivery] | type[WebhookEndpoint], now: datetime) -> Any:
    return or_(col(model.locked_until).is_(None), col(model.locked_until) < now)


def _due(now: datetime) -> tuple[Any, ...]:
    return (
        WebhookDelivery.status == DeliveryStatus.pending.value,
        WebhookDelivery.next_attempt_at <= now,
        _lease_free(WebhookDelivery, now),
    )


def fair_order(
    candidates: Iterable[tuple[uuid.UUID, uuid.UUID, datetime]],
    in_flight: dict[uuid.UUID, int],
    max_per_organisation: int | None,
) -> list[uuid.UUID]:
    """Endpoint ids in the order their attempts should start: round-robin over organisations.

    `candidates` are (endpoint id, organisation id, oldest due time); `in_flight` counts each
    organisation's attempts already running. An organisation's n-th endpoint gets turn
    `in_flight + n`, and turns are served lowest first (oldest due time breaking ties), so an
    organisation with many slow endpoints never keeps another's first endpoint waiting; one
    whose turn would exceed `max_per_organisation` waits for its own attempts to end.
    """
    by_organisation: dict[uuid.UUID, list[tuple[datetime, uuid.UUID]]] = {}
    for endpoint_id, organisation_id, due in candidates:
        by_organisation.setdefault(organisation_id, []).append((due, endpoint_id))
    turns = []
    for organisation_id, endpoints in by_organisation.items():
        busy = in_flight.get(organisation_id, 0)
        for position, (due, endpoint_id) in enumerate(sorted(endpoints), start=1):
            turn = busy + position
            if max_per_organisation is not None and turn > max_per_organisation:
                break
            turns.append((turn, due, endpoint_id))
    return [endpoint_id for _, _, endpoint_id in sorted(turns)]


def claim_due_deliveries(
    session: Session,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    max_per_organisation: int | None = None,
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries, at most one per endpoint, to a new token.

    The lease is taken on the endpoint as well as on the delivery, and an endpoint whose lease
    is live is not claimed: so each endpoint has at most one attempt in flight across every
    worker and process, and the same delivery is never sent twice at once. Endpoints are
    served round-robin over organisations (`fair_order`), at most `max_per_organisation` of
    one organisation in flight at once, counted under a lock on the organisation
    (`_counted_again`). Every lease is a conditional UPDATE that re-checks the
    lease is still free; on PostgreSQL the endpoint rows are first locked with SKIP LOCKED, so
    concurrent claims pass each other instead of waiting; on SQLite write transactions run one
    at a time. The attempt is counted here, so a worker that dies mid-send still uses one up.
    The caller sends within `lease` (its attempt deadline being shorter) or loses the lease.
    """
    in_flight = _in_flight(session, now)
    candidates = session.exec(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.organisation_id,
            func.min(WebhookDelivery.next_attempt_at),
        )
        .join(WebhookDelivery, col(WebhookDelivery.endpoint_id) == col(WebhookEndpoint.id))
        .where(col(WebhookEndpoint.active).is_(True), _lease_free(WebhookEndpoint, now), *_due(now))
        .group_by(col(WebhookEndpoint.id), col(WebhookEndpoint.organisation_id))
    ).all()
    chosen = fair_order(candidates, in_flight, max_per_organisation)[:limit]
    if chosen and max_per_organisation is not None and session.get_bind().dialect.name != "sqlite":
        limits = (max_per_organisation, limit)
        chosen = _counted_again(session, now, candidates, chosen, in_flight, limits)
    if not chosen:
        return []
    lockable = session.exec(
        select(WebhookEndpoint.id)
        .where(col(WebhookEndpoint.id).in_(chosen), _lease_free(WebhookEndpoint, now))
        .with_for_update(skip_locked=True)
    ).all()
    if not lockable:
        return []
    token = uuid.uuid4()
    session.exec(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id).in_(lockable), _lease_free(WebhookEndpoint, now))
        # The lease is the worker's bookkeeping, not a change of the endpoint: keep its
        # `updated_at` (the column's onupdate would move it) and its version (the ETag).
        .values(locked_until=now + lease, lease_token=token, updated_at=WebhookEndpoint.updated_at)
        .execution_options(synchronize_session=False)
    )
    # Oldest first; at one due time (a pause makes every pending delivery wait from one
    # moment) by when the event was made: ids of two servers within one millisecond are
    # unordered, so an event made just after another server's was sent before it.
    due_rows = session.exec(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookEndpoint.lease_token == token, *_due(now))
        .order_by(
            col(WebhookDelivery.next_attempt_at),
            col(WebhookEvent.occurred_at),
            col(WebhookDelivery.id),
        )
    ).all()
    oldest: dict[uuid.UUID, uuid.UUID] = {}
    for delivery_id, endpoint_id in due_rows:
        oldest.setdefault(endpoint_id, delivery_id)
    if oldest:
        session.exec(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(list(oldest.values())), *_due(now))
            .values(
                locked_until=now + lease,
                lease_token=token,
                attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    rows = session.exec(
        select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(WebhookDelivery.lease_token == token)
        .execution_options(populate_existing=True)
    ).all()
    claimed = {
        endpoint.id: ClaimedDelivery(
            delivery_id=delivery.id,
            lease_token=token,
            attempt=delivery.attempts,
            event_id=webhook_event.id,
            url=endpoint.url,
            secrets=signing_secrets(endpoint, now),
            body=event_body(webhook_event.type, webhook_event.occurred_at, webhook_event.data),
            endpoint_id=endpoint.id,
            organisation_id=endpoint.organisation_id,
        )
        for delivery, webhook_event, endpoint in rows
    }
    if len(claimed) < len(lockable):  # an endpoint whose due delivery went meanwhile: free it
        _release_endpoints(session, token, keep=list(claimed))
    position = {endpoint_id: i for i, endpoint_id in enumerate(chosen)}
    return sorted(claimed.values(), key=lambda c: position[c.endpoint_id])


def _in_flight(
    session: Session, now: datetime, organisations: list[uuid.UUID] | None = None
) -> dict[uuid.UUID, int]:
    """Attempts in flight (live endpoint leases) per organisation, of `organisations` if given."""
    query = select(WebhookEndpoint.organisation_id, func.count()).where(
        col(WebhookEndpoint.locked_until) >= now
    )
    if organisations is not None:
        query = query.where(col(WebhookEndpoint.organisation_id).in_(organisations))
    rows = session.exec(query.group_by(col(WebhookEndpoint.organisation_id))).all()
    return dict(rows)


def _claims_lock(organisation_id: uuid.UUID) -> int:
    """The advisory lock (PostgreSQL) a claim holds on an organisation."""
    return lock_number(WEBHOOK_CLAIMS, organisation_id.bytes)


def _counted_again(
    session: Session,
    now: datetime,
    candidates: Sequence[tuple[uuid.UUID, uuid.UUID, datetime]],
    chosen: list[uuid.UUID],
    in_flight: dict[uuid.UUID, int],
    limits: tuple[int, int],
) -> list[uuid.UUID]:
    """The endpoints to claim once the organisations of those first chosen are locked for
    this transaction and their attempts in flight counted again (PostgreSQL).

    The first count was a statement of its own: another process's claim committed after it
    was not counted, and that claim's endpoints were no longer candidates, so both claims went
    up to `max_per_organisation` (twice the share with two servers). Under the organisation's
    advisory lock, held until commit, a claim counts every other claim of that organisation,
    committed before it took the lock; those after it wait for its commit and count it. Only
    the first choice's organisations are locked (at most `limit` locks), in one order for
    every claim; an organisation the second choice would add waits for the next claim."""
    owner = {endpoint_id: organisation_id for endpoint_id, organisation_id, _ in candidates}
    organisations = sorted({owner[endpoint_id] for endpoint_id in chosen})
    for key in sorted(_claims_lock(organisation_id) for organisation_id in organisations):
        take_advisory_lock(session.connection(), key, shared=False, wait=True)
    counted = dict.fromkeys(organisations, 0) | _in_flight(session, now, organisations)
    max_per_organisation, limit = limits
    again = fair_order(candidates, in_flight | counted, max_per_organisation)[:limit]
    return [endpoint_id for endpoint_id in again if owner[endpoint_id] in counted]


def _release_endpoints(
    session: Session,
    token: uuid.UUID,
    keep: list[uuid.UUID] | None = None,
    only: uuid.UUID | None = None,
) -> None:
    """End the endpoint leases of the claim `token`: all, all but `keep`, or `only` one. One
    claim leases several endpoints under its token, so an attempt that ends frees its own
    endpoint only: the others' attempts are still on their way (and counted in flight)."""
    statement = update(WebhookEndpoint).where(col(WebhookEndpoint.lease_token) == token)
    if keep:
        statement = statement.where(col(WebhookEndpoint.id).not_in(keep))
    if only is not None:
        statement = statement.where(col(WebhookEndpoint.id) == only)
    session.exec(
        statement.values(
            locked_until=None, lease_token=None, updated_at=WebhookEndpoint.updated_at
        ).execution_options(synchronize_session=False)
    )


def record_delivered(
    session: Session, claimed: ClaimedDelivery, *, status_code: int, now: datetime
) -> bool:
    """Mark delivered; False when the lease was lost (expired and taken, or endpoint deleted)."""
    return _finish(
        session,
        claimed,
        status=DeliveryStatus.delivered.value,
        delivered_at=now,
        last_status_code=status_code,
        last_error=None,
    )


def record_failure(
    session: Session,
    claimed: ClaimedDelivery,
    *,
    status_code: int | None,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Schedule the next attempt at `retry_at`, or mark failed when there is none."""
    values: dict[str, Any] = {"last_status_code": status_code, "last_error": error[:200]}
    if retry_at is None:
        values["status"] = DeliveryStatus.failed.value
    else:
        values["next_attempt_at"] = retry_at
    return _finish(session, claimed, **values)


def _url_changed(session: Session, claimed: ClaimedDelivery) -> bool:
    current = session.exec(
        select(WebhookEndpoint.url).where(WebhookEndpoint.id == claimed.endpoint_id)
    ).first()
    return current is not None and current != claimed.url


def _finish(session: Session, claimed: ClaimedDelivery, **values: Any) -> bool:
    """Record the outcome and end the attempt's lease on delivery and endpoint, if still ours.

    The endpoint's row first, as the claim, `emit` and `delete_endpoint` lock it before its
    deliveries: in the other order an endpoint deleted meanwhile deadlocked with this."""
    _release_endpoints(session, claimed.lease_token, only=claimed.endpoint_id)
    if values.get("last_error") and _url_changed(session, claimed):
        # The URL was changed while this attempt went to the old one: the PATCH made the
        # waiting deliveries due now (`service._due_now`), and this one is tried now as well,
        # also when it was the last (a next failure, at the new URL, ends it as failed).
        # Read after the endpoint's row above, which waits for that PATCH to commit.
        values.pop("status", None)
        values["next_attempt_at"] = utcnow()
    # A failure tells nothing new about a delivery that ended while it was on its way (its
    # event type taken off the endpoint): that end and its reason stay; the lease is let go.
    failure = bool(values.get("last_error"))
    recorded = _end_lease(session, claimed, pending_only=failure, **values)
    if failure and not recorded:
        recorded = _end_lease(session, claimed)
    return recorded


def _end_lease(
    session: Session, claimed: ClaimedDelivery, *, pending_only: bool = False, **values: Any
) -> bool:
    """End the attempt's lease on its delivery, writing `values`; False when the lease is not
    ours (or, `pending_only`, the delivery is no longer pending)."""
    statement = update(WebhookDelivery).where(
        col(WebhookDelivery.id) == claimed.delivery_id,
        col(WebhookDelivery.lease_token) == claimed.lease_token,
    )
    if pending_only:
        statement = statement.where(col(WebhookDelivery.status) == DeliveryStatus.pending.value)
    ended = statement.values(locked_until=None, lease_token=None, **values)
    return session.exec(ended.execution_options(synchronize_session=False)).rowcount == 1


NO_SUCH_DELIVERY = "This webhook endpoint has no such delivery."


def require_delivery(session: Session, endpoint: WebhookEndpoint, delivery_id: uuid.UUID) -> None:
    """NotFound (404) when the endpoint has no such delivery (`redeliver` looks again, under
    the endpoint's lock)."""
    found = session.exec(
        select(WebhookDelivery.id).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    ).first()
    if found is None:
        raise NotFound(NO_SUCH_DELIVERY)


def redeliver(
    session: Session, endpoint: WebhookEndpoint, delivery_id: uuid.UUID
) -> WebhookDeliveryPublic:
    """Make a `failed` delivery of the endpoint pending and due now, for one more attempt with
    the same event (the same `webhook-id` and body): a receiver that was down longer than the
    retries last (about 58 hours) gets what it missed once it is back. Its attempts go on
    counting, so the next failure ends it as failed again (one ended unsent because its type was
    dropped gets the attempts it had left); redelivering it again is allowed.

    404 when the endpoint has no such delivery (or it left the log, also while this ran); 409
    `delivery_not_failed` for one pending or delivered (a delivered one may have been processed
    already) or made pending by a concurrent redelivery (a conditional UPDATE decides); 409
    `event_not_subscribed` when the endpoint no longer takes the event's type. The case id the
    payload names is handed to the organisation again, so it is logged again (`notification`).

    Source: GitHub's 'Redeliver a delivery for a repository webhook' (`POST
    .../hooks/{hook_id}/deliveries/{delivery_id}/attempts`), which likewise makes one attempt."""
    # The endpoint's row first (as `_finish`, `update_endpoint` and `delete_endpoint` take it):
    # an event type dropped or the endpoint deleted meanwhile is seen here, not after.
    locked = lock(session, WebhookEndpoint, [endpoint.id], no_key=True)
    if not locked:
        raise NotFound("No such webhook endpoint.")
    endpoint = locked[0]
    row = session.exec(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
    ).first()
    if row is None:
        raise NotFound(NO_SUCH_DELIVERY)
    delivery, webhook_event = row
    if webhook_event.type not in endpoint.events:
        raise Conflict(
            f"The endpoint no longer subscribes to {webhook_event.type}; add it to its events "
            "first.",
            code="event_not_subscribed",
        )
    now = utcnow()
    made_pending = session.exec(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery.id,
            col(WebhookDelivery.status) == DeliveryStatus.failed.value,
        )
        # The redelivery takes the lease from an attempt still on its way from before the
        # delivery ended (its type was taken off and put back): that attempt's late outcome
        # changes nothing (`_finish`), as it ended the redelivery, unsent, when it failed.
        # The endpoint's lease stays that attempt's until it ends: one attempt at a time.
        .values(
            status=DeliveryStatus.pending.value,
            next_attempt_at=now,
            locked_until=None,
            lease_token=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if made_pending != 1:
        # Read again: the retention round may have deleted it since it was read above (30
        # days after it ended), and a delivery gone from the log is 404, not "not failed".
        if session.get(WebhookDelivery, delivery.id, populate_existing=True) is None:
            raise NotFound("This webhook endpoint has no such delivery.")
        raise Conflict(
            "Only a failed delivery is redelivered; this one is pending or was delivered.",
            code="delivery_not_failed",
        )
    session.refresh(delivery)
    log_disclosure(session, webhook_event.type, webhook_event.data, {endpoint.organisation_id})
    wake_workers_after_commit(session)
    return _delivery_public(delivery, webhook_event.type, endpoint.active)


def list_deliveries(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    status: DeliveryStatus | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[WebhookDeliveryPublic]:
    """The endpoint's delivery log, oldest first, `limit` after the id `after`; the next try
    shown for pending ones only, and not while the endpoint is paused (they wait for its resume,
    whatever time their row holds: `retention.start_pause_clock`)."""
    query = (
        select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    if after is not None:
        query = query.where(WebhookDelivery.id > after)
    rows = session.exec(query.order_by(col(WebhookDelivery.id)).limit(limit))
    return [
        _delivery_public(delivery, event_type, endpoint.active) for delivery, event_type in rows
    ]


def _delivery_public(
    delivery: WebhookDelivery, event_type: str, endpoint_active: bool
) -> WebhookDeliveryPublic:
    pending = delivery.status == DeliveryStatus.pending and endpoint_active
    return WebhookDeliveryPublic(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=EventType(event_type),
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        last_attempt_at=delivery.last_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at if pending else None,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )
