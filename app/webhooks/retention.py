"""How long the outbox keeps what it holds: the delivery log, the events, and the deliveries a
paused endpoint holds. The retention job (`app.cases.retention`) runs `forget_finished` daily."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, update
from sqlmodel import Session, col, select

from app.versioning import lock
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

DELIVERY_LOG_DAYS = 30
"""Delivered and failed deliveries are kept this long after they ended as the endpoint's delivery
log (as the mail outbox keeps its send log), then deleted with the events no endpoint is still to
receive: the events name cases (ids, dates, signal codes) and must not outlive the log, nor their
cases' anonymisation. So a paused endpoint holds its pending deliveries this long at most."""

PAUSED_TOO_LONG = f"not sent: the endpoint was paused for {DELIVERY_LOG_DAYS} days"
"""`last_error` of a delivery ended unsent because its endpoint stayed paused that long."""

_PENDING = DeliveryStatus.pending.value


def start_pause_clock(session: Session, endpoint_id: uuid.UUID, now: datetime) -> None:
    """The endpoint is paused at `now`: its pending deliveries wait from then. Their
    `next_attempt_at` becomes `now`, as the day the wait started (the log shows none while the
    endpoint is paused, and a resume makes them all due at once, so no schedule is lost); one
    in flight gets its next time, if any, from its attempt's outcome."""
    session.exec(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
        .where(col(WebhookDelivery.status) == _PENDING)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def end_paused_too_long(session: Session, now: datetime) -> int:
    """End as failed (`PAUSED_TOO_LONG`) the pending deliveries that waited `DELIVERY_LOG_DAYS`
    on a paused endpoint (from the pause, or from falling due after it); returns how many.
    They can be redelivered once the endpoint is resumed, as any failed delivery, and leave the
    log `DELIVERY_LOG_DAYS` after this end. Their `next_attempt_at` becomes the moment they
    ended. The endpoints are locked first (as a PATCH locks one), so one resumed meanwhile
    keeps its deliveries pending."""
    cutoff = now - timedelta(days=DELIVERY_LOG_DAYS)
    waiting = (
        col(WebhookDelivery.status) == _PENDING,
        col(WebhookDelivery.next_attempt_at) < cutoff,
        or_(col(WebhookDelivery.locked_until).is_(None), col(WebhookDelivery.locked_until) < now),
    )
    held_by = session.exec(
        select(WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookEndpoint.active).is_(False), *waiting)
        .distinct()
    ).all()
    paused = [e.id for e in lock(session, WebhookEndpoint, held_by, no_key=True) if not e.active]
    if not paused:
        return 0
    return session.exec(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.endpoint_id).in_(paused), *waiting)
        .values(status=DeliveryStatus.failed.value, last_error=PAUSED_TOO_LONG, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def forget_finished(session: Session, now: datetime) -> int:
    """End the deliveries a paused endpoint held too long (`end_paused_too_long`), then delete
    the finished deliveries that ended `DELIVERY_LOG_DAYS` back, then the events of that age
    that have no delivery left; returns how many deliveries were deleted. A pending delivery of
    an active endpoint stays (the worker will still try it), and so does its event.

    A delivery ended at its last attempt (or, never tried, when it was queued), or, ended
    without one, at its `next_attempt_at` (set when it ended): counted from the end, not the
    queuing, a delivery redelivered weeks later, or held by a paused endpoint, stays as long
    after it ended as any other."""
    end_paused_too_long(session, now)
    cutoff = now - timedelta(days=DELIVERY_LOG_DAYS)
    ended = func.coalesce(col(WebhookDelivery.last_attempt_at), col(WebhookDelivery.created_at))
    deleted = session.exec(
        delete(WebhookDelivery).where(
            col(WebhookDelivery.status) != _PENDING,
            ended < cutoff,
            col(WebhookDelivery.next_attempt_at) < cutoff,
        )
    ).rowcount
    session.exec(
        delete(WebhookEvent).where(
            col(WebhookEvent.occurred_at) < cutoff,
            ~exists().where(col(WebhookDelivery.event_id) == col(WebhookEvent.id)),
        )
    )
    return deleted
