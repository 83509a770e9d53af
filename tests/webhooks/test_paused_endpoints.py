"""A paused endpoint: its pending deliveries wait until it is resumed, but not for ever, and the
delivery log does not call them overdue meanwhile."""

import uuid
from datetime import datetime, timedelta

import time_machine
from sqlmodel import select

from app.cases.retention import RetentionJob
from app.sqltypes import utcnow
from app.webhooks import outbox as outbox_service
from app.webhooks.models import WebhookDelivery, WebhookEvent
from app.webhooks.retention import DELIVERY_LOG_DAYS
from tests.other_server import another_server, next_millisecond
from tests.webhooks.conftest import Endpoint, Outbox

PAUSED_TOO_LONG = f"not sent: the endpoint was paused for {DELIVERY_LOG_DAYS} days"


def set_active(outbox: Outbox, endpoint: Endpoint, active: bool) -> None:
    with outbox.client() as client:
        changed = client.patch(
            f"/v1/webhooks/{endpoint.id}",
            json={"active": active},
            headers=outbox.api_key(endpoint.organisation_id),
        )
    assert changed.status_code == 200, changed.text


def daily_round_at(outbox: Outbox, moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        RetentionJob(outbox.engine(), retention_days=730).run_once()


def stored(outbox: Outbox) -> tuple[dict[uuid.UUID, WebhookDelivery], set[uuid.UUID]]:
    """The deliveries by event id, and the ids of the events kept."""
    with outbox.transaction() as session:
        deliveries = {d.event_id: d for d in session.exec(select(WebhookDelivery)).all()}
        events = {e.id for e in session.exec(select(WebhookEvent)).all()}
    return deliveries, events


def test_a_delivery_waiting_on_a_paused_endpoint_ends_failed_after_the_delivery_log_days(outbox):
    """Pending deliveries of a paused endpoint were never ended nor forgotten: they and their
    events (case ids, dates, signal codes) outlived the 30-day delivery log and the cases'
    anonymisation. One that waited `DELIVERY_LOG_DAYS` since the pause ends as failed, saying
    why, and can be redelivered once the endpoint is resumed, as any failed delivery."""
    endpoint = outbox.endpoint("https://x.example/h")
    queued_earlier = outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:  # due long before the pause (the worker was down)
        [row] = session.exec(select(WebhookDelivery)).all()
        row.created_at = row.next_attempt_at = utcnow() - timedelta(days=20)
        session.add(row)
    paused_at = utcnow()
    set_active(outbox, endpoint, False)

    daily_round_at(outbox, paused_at + timedelta(days=DELIVERY_LOG_DAYS - 1))
    deliveries, _ = stored(outbox)
    assert deliveries[queued_earlier].status == "pending"  # counted from the pause

    daily_round_at(outbox, paused_at + timedelta(days=DELIVERY_LOG_DAYS, hours=1))
    deliveries, events = stored(outbox)
    ended = deliveries[queued_earlier]
    assert (ended.status, ended.last_error, ended.attempts) == ("failed", PAUSED_TOO_LONG, 0)
    assert queued_earlier in events

    with time_machine.travel(paused_at + timedelta(days=DELIVERY_LOG_DAYS + 2), tick=False):
        set_active(outbox, endpoint, True)
        headers = outbox.api_key(endpoint.organisation_id)
        with outbox.client() as client:
            answer = client.post(
                f"/v1/webhooks/{endpoint.id}/deliveries/{ended.id}/redeliveries", headers=headers
            )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"


def test_a_pause_that_also_changes_the_url_starts_the_wait_as_well(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    event_id = outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:  # due long before the pause (the worker was down)
        [row] = session.exec(select(WebhookDelivery)).all()
        row.created_at = row.next_attempt_at = utcnow() - timedelta(days=20)
        session.add(row)
    paused_at = utcnow()
    with outbox.client() as client:
        changed = client.patch(
            f"/v1/webhooks/{endpoint.id}",
            json={"url": "https://y.example/h", "active": False},
            headers=outbox.api_key(endpoint.organisation_id),
        )
    assert changed.status_code == 200, changed.text

    daily_round_at(outbox, paused_at + timedelta(days=DELIVERY_LOG_DAYS - 1))
    assert stored(outbox)[0][event_id].status == "pending"
    daily_round_at(outbox, paused_at + timedelta(days=DELIVERY_LOG_DAYS, hours=1))
    assert stored(outbox)[0][event_id].last_error == PAUSED_TOO_LONG


def test_a_delivery_ended_by_a_long_pause_is_forgotten_with_its_event_a_log_later(outbox):
    """Ended, it stays in the log `DELIVERY_LOG_DAYS` from its end (not from its queuing or
    its last attempt, which lie longer back), then goes with its event, as any finished one."""
    endpoint = outbox.endpoint("https://x.example/h")
    event_id = outbox.emit(endpoint.organisation_id)
    paused_at = utcnow()
    set_active(outbox, endpoint, False)
    ended_at = paused_at + timedelta(days=DELIVERY_LOG_DAYS, hours=1)

    daily_round_at(outbox, ended_at)
    daily_round_at(outbox, ended_at + timedelta(days=DELIVERY_LOG_DAYS - 1))
    deliveries, events = stored(outbox)
    assert deliveries[event_id].status == "failed"
    assert events == {event_id}

    daily_round_at(outbox, ended_at + timedelta(days=DELIVERY_LOG_DAYS, hours=1))
    assert stored(outbox) == ({}, set())


def test_a_delivery_in_the_log_of_a_paused_endpoint_shows_no_next_attempt(outbox):
    """The log showed a pending delivery of a paused endpoint with `next_attempt_at` in the
    past, which reads as overdue, though nothing is tried until the endpoint is resumed: it is
    null while paused (a redelivery's answer included), and a time again once resumed."""
    endpoint = outbox.endpoint("https://x.example/h")
    waiting = outbox.emit(endpoint.organisation_id)
    failed = outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        row = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == failed)).one()
        row.status, row.attempts, row.last_error = "failed", 12, "HTTP 500"
        session.add(row)
    set_active(outbox, endpoint, False)
    headers = outbox.api_key(endpoint.organisation_id)
    log_url = f"/v1/webhooks/{endpoint.id}/deliveries"

    def next_attempts(client) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
        log = client.get(log_url, headers=headers)
        assert log.status_code == 200, log.text
        return {entry["event_id"]: entry["next_attempt_at"] for entry in log.json()["items"]}

    with outbox.client() as client:
        redelivered = client.post(f"{log_url}/{row.id}/redeliveries", headers=headers)
        assert redelivered.status_code == 202, redelivered.text
        assert redelivered.json()["next_attempt_at"] is None
        assert next_attempts(client) == {str(waiting): None, str(failed): None}
    set_active(outbox, endpoint, True)
    with outbox.client() as client:
        resumed = next_attempts(client)
    assert None not in resumed.values()


def test_a_delivery_ended_by_dropping_its_event_type_stays_in_the_log_a_log_after_that(outbox):
    """One held by a pause for weeks and then ended by taking its event type off the endpoint
    left the log at the first round `DELIVERY_LOG_DAYS` after the pause (it had no attempt to
    count from), days after it ended, not the 30 days any ended delivery is kept."""
    endpoint = outbox.endpoint("https://x.example/h", events=["agenda.published", "case.housed"])
    event_id = outbox.emit(endpoint.organisation_id)
    set_active(outbox, endpoint, False)
    ended_at = utcnow() + timedelta(days=25)
    with time_machine.travel(ended_at, tick=False):
        outbox.subscribe(endpoint, ["case.housed"])

    daily_round_at(outbox, ended_at + timedelta(days=DELIVERY_LOG_DAYS - 1))
    deliveries, events = stored(outbox)
    assert (deliveries[event_id].status, deliveries[event_id].last_error) == (
        "failed",
        "not sent: the endpoint no longer subscribes to this event type",
    )
    assert events == {event_id}

    daily_round_at(outbox, ended_at + timedelta(days=DELIVERY_LOG_DAYS, hours=1))
    assert stored(outbox) == ({}, set())


def test_a_resumed_endpoint_gets_its_events_in_the_order_they_were_made(outbox):
    """A pause makes every pending delivery wait from one moment, so the claim ordered them by
    id alone: two servers' ids within one millisecond are unordered, and a resumed endpoint got
    an event made just after another server's before it (a decline before the nomination it
    follows), though it 'receives its events in order'."""
    endpoint = outbox.endpoint("https://x.example/h")
    moment = next_millisecond()
    with time_machine.travel(moment, tick=False), another_server():
        first = outbox.emit(endpoint.organisation_id)
    with time_machine.travel(moment + timedelta(microseconds=300), tick=False):  # the same ms
        second = outbox.emit(endpoint.organisation_id)
    set_active(outbox, endpoint, False)
    set_active(outbox, endpoint, True)

    claimed = []
    for _ in range(2):
        with outbox.transaction() as session:
            [delivery] = outbox_service.claim_due_deliveries(
                session, now=utcnow(), limit=10, lease=timedelta(seconds=60)
            )
            outbox_service.record_delivered(session, delivery, status_code=200, now=utcnow())
        claimed.append(delivery.event_id)
    assert claimed == [first, second]
