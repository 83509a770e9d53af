"""Delivery to a real receiver on loopback: each event once, signed, through outages and restarts.

"Received once" means one 2xx-answered request per `webhook-id`; a receiver that is down or
answers 5xx gets the same id again later. Workers use millisecond retry delays here.
"""

import dataclasses
import json
import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from app.sqltypes import utcnow
from app.webhooks import outbox as outbox_service
from app.webhooks import service
from app.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecretRotation,
)
from tests.webhooks.conftest import FAST, Outbox, reference_library_accepts, verify, wait_for

pytestmark = pytest.mark.usefixtures("no_deadlocks")


def deliveries(outbox: Outbox) -> list[WebhookDelivery]:
    with outbox.transaction() as session:
        return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def all_delivered(outbox: Outbox, count: int) -> bool:
    rows = deliveries(outbox)
    return len(rows) == count and all(row.status == "delivered" for row in rows)


def each_tried(outbox: Outbox, times: int) -> bool:
    rows = deliveries(outbox)
    return bool(rows) and all(row.attempts >= times and row.locked_until is None for row in rows)


def test_each_event_arrives_once_signed_in_the_standard_webhooks_shape(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.secret = endpoint.secret
    worker = outbox.worker()
    event_ids = [outbox.emit(endpoint.organisation_id) for _ in range(5)]

    wait_for(lambda: all_delivered(outbox, 5), what="5 deliveries")
    assert worker.stop()

    assert receiver.accepted() == Counter({str(event_id): 1 for event_id in event_ids})
    for request in receiver.received():
        assert verify(endpoint.secret, request.headers, request.body)
        assert reference_library_accepts(endpoint.secret, request.headers, request.body)
        assert request.headers["webhook-timestamp"].isdigit()
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.body)
        assert set(body) == {"type", "timestamp", "data"}
        assert body["type"] == "agenda.published"
        assert set(body["data"]) == {"meeting_id", "table_id"}
    assert all(row.attempts == 1 and row.last_status_code == 200 for row in deliveries(outbox))


def test_a_receiver_answering_500_gets_the_event_again_until_it_accepts_it_once(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.status = 500
    worker = outbox.worker()
    event_ids = [str(outbox.emit(endpoint.organisation_id)) for _ in range(3)]

    wait_for(lambda: each_tried(outbox, 2), what="two failed attempts each")
    receiver.status = 200
    wait_for(lambda: all_delivered(outbox, 3), what="delivery after the outage")
    assert worker.stop()

    assert receiver.accepted() == Counter(dict.fromkeys(event_ids, 1))
    sent = Counter(r.headers["webhook-id"] for r in receiver.received())
    for row in deliveries(outbox):
        assert row.attempts == sent[str(row.event_id)] >= 3
        assert (row.last_status_code, row.last_error) == (200, None)


def test_a_redirect_is_not_followed_but_counted_as_a_failed_attempt_and_retried(
    outbox, receiver, other_receiver
):
    # Following it would post the signed event to an address nobody registered or checked
    # (the registration's SSRF guard covers the registered URL only); the receiver that moved
    # must have its endpoint updated instead.
    endpoint = outbox.endpoint(receiver.url)
    receiver.status, receiver.location = 307, other_receiver.url
    worker = outbox.worker()
    event_id = str(outbox.emit(endpoint.organisation_id))

    wait_for(lambda: each_tried(outbox, 2), what="two redirected attempts")
    [row] = deliveries(outbox)
    assert (row.status, row.last_status_code, row.last_error) == ("pending", 307, "HTTP 307")
    assert other_receiver.received() == []

    receiver.status, receiver.location = 200, None
    wait_for(lambda: all_delivered(outbox, 1), what="delivery once it answers 200")
    assert worker.stop()
    assert receiver.accepted() == Counter({event_id: 1})
    assert other_receiver.received() == []


def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.stop()
    worker = outbox.worker()
    event_id = str(outbox.emit(endpoint.organisation_id))

    wait_for(lambda: each_tried(outbox, 2), what="two refused attempts")
    [row] = deliveries(outbox)
    assert row.status == "pending" and row.last_status_code is None
    assert row.last_error is not None and "ConnectError" in row.last_error

    receiver.start()
    wait_for(lambda: all_delivered(outbox, 1), what="delivery after the receiver is back")
    assert worker.stop()
    assert receiver.accepted() == Counter({event_id: 1})


def test_after_a_restart_a_new_worker_delivers_what_was_pending_exactly_once(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.status = 503
    first = outbox.worker()
    before = [str(outbox.emit(endpoint.organisation_id)) for _ in range(3)]
    wait_for(lambda: each_tried(outbox, 1), what="a failed attempt each")
    assert first.stop()
    first.engine.dispose()
    # The service is down: new events are still recorded, by whichever process emits them.
    during = [str(outbox.emit(endpoint.organisation_id)) for _ in range(2)]
    assert all(row.status == "pending" for row in deliveries(outbox))

    receiver.status = 200
    second = outbox.worker()
    wait_for(lambda: all_delivered(outbox, 5), what="delivery by the restarted worker")
    assert second.stop()

    assert receiver.accepted() == Counter(dict.fromkeys(before + during, 1))


def test_stopping_lets_a_delivery_in_flight_finish_so_the_next_worker_does_not_repeat_it(
    outbox, receiver
):
    endpoint = outbox.endpoint(receiver.url)
    receiver.hold_first = threading.Event()
    first = outbox.worker()
    event_id = str(outbox.emit(endpoint.organisation_id))
    wait_for(receiver.arrived.is_set, what="the request to arrive")

    stopping = threading.Thread(target=first.stop)
    stopping.start()
    receiver.hold_first.set()
    stopping.join(10)
    assert not stopping.is_alive()
    assert all_delivered(outbox, 1)

    second = outbox.worker()
    marker = str(outbox.emit(endpoint.organisation_id))
    wait_for(lambda: all_delivered(outbox, 2), what="the next event")
    assert second.stop()
    assert receiver.accepted() == Counter({event_id: 1, marker: 1})


def test_a_worker_that_died_holding_a_lease_is_covered_once_the_lease_expires(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    event_id = str(outbox.emit(endpoint.organisation_id))
    with outbox.transaction() as session:  # claimed, then the process died before sending
        [claimed] = outbox_service.claim_due_deliveries(
            session, now=utcnow(), limit=10, lease=timedelta(milliseconds=200)
        )

    worker = outbox.worker()
    wait_for(lambda: all_delivered(outbox, 1), what="delivery after the lease expired")
    assert worker.stop()
    assert receiver.accepted() == Counter({event_id: 1})
    [row] = deliveries(outbox)
    assert row.attempts == 2  # the lost attempt counts
    with outbox.transaction() as session:  # the dead worker's late report changes nothing
        assert not outbox_service.record_delivered(session, claimed, status_code=200, now=utcnow())


def test_a_timed_out_attempt_the_receiver_did_process_comes_again_with_the_same_id(
    outbox, receiver
):
    """Where at-least-once shows: the receiver deduplicates on `webhook-id` (and can)."""
    endpoint = outbox.endpoint(receiver.url)
    receiver.hold_first = threading.Event()
    worker = outbox.worker(dataclasses.replace(FAST, timeout=0.5))
    event_id = str(outbox.emit(endpoint.organisation_id))

    wait_for(lambda: all_delivered(outbox, 1), what="a retry to succeed")
    [row] = deliveries(outbox)
    receiver.hold_first.set()  # the first, timed-out request now completes at the receiver too
    wait_for(lambda: receiver.in_progress == 0, what="the first request to end")
    assert worker.stop()

    # On a loaded machine an attempt may even end before its request is out: at least once.
    requests = receiver.received()
    assert row.attempts >= len(requests) >= 2
    assert receiver.accepted() == Counter({event_id: len(requests)})
    assert len({r.body for r in requests}) == 1
    assert all(verify(endpoint.secret, r.headers, r.body) for r in requests)
    assert all(reference_library_accepts(endpoint.secret, r.headers, r.body) for r in requests)


def test_two_workers_never_send_the_same_delivery(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    workers = [outbox.worker(), outbox.worker()]
    event_ids = [str(outbox.emit(endpoint.organisation_id)) for _ in range(20)]

    wait_for(lambda: all_delivered(outbox, 20), what="20 deliveries")
    assert all(worker.stop() for worker in workers)
    assert Counter(r.headers["webhook-id"] for r in receiver.received()) == Counter(
        dict.fromkeys(event_ids, 1)
    )


def test_after_the_last_attempt_a_delivery_fails_and_the_log_shows_it(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.status = 500
    worker = outbox.worker(dataclasses.replace(FAST, max_attempts=3))
    event_id = str(outbox.emit(endpoint.organisation_id))

    wait_for(lambda: deliveries(outbox)[0].status == "failed", what="the delivery to fail")
    assert worker.stop()
    assert [r.headers["webhook-id"] for r in receiver.received()] == [event_id] * 3

    with outbox.client() as client:
        log = client.get(
            f"/v1/webhooks/{endpoint.id}/deliveries",
            headers=outbox.api_key(endpoint.organisation_id),
        )
    assert log.status_code == 200, log.text
    [entry] = log.json()["items"]
    assert entry["event_id"] == event_id
    assert entry["event_type"] == "agenda.published"
    assert entry["status"] == "failed"
    assert entry["attempts"] == 3
    assert entry["last_status_code"] == 500
    assert entry["last_error"] == "HTTP 500"
    assert entry["next_attempt_at"] is None
    assert entry["delivered_at"] is None


def test_a_paused_endpoint_holds_its_deliveries_until_it_is_resumed(
    outbox, receiver, other_receiver
):
    paused = outbox.endpoint(receiver.url)
    marker_receiver = other_receiver
    markers = outbox.endpoint(marker_receiver.url)

    def deliver_marker() -> None:
        # One worker claims in turn, oldest due first: once a marker emitted now is delivered,
        # every claim begun before has been committed, and every earlier due row was offered.
        marker = str(outbox.emit(markers.organisation_id))
        wait_for(lambda: marker_receiver.accepted()[marker] == 1, what="a marker")

    receiver.status = 500
    worker = outbox.worker()
    held = str(outbox.emit(paused.organisation_id))
    wait_for(lambda: each_tried(outbox, 1), what="a failed attempt")

    headers = outbox.api_key(paused.organisation_id)
    with outbox.client() as client:
        response = client.patch(
            f"/v1/webhooks/{paused.id}", json={"active": False}, headers=headers
        )
        assert response.status_code == 200
        not_queued = outbox.emit(paused.organisation_id)
        deliver_marker()
        wait_for(lambda: each_tried(outbox, 1), what="an attempt begun before the pause to end")
        receiver.status = 200
        due = next(row for row in deliveries(outbox) if str(row.event_id) == held).next_attempt_at
        wait_for(lambda: utcnow() > due, what="the held delivery to fall due")
        deliver_marker()
        assert receiver.accepted() == Counter()

        response = client.patch(f"/v1/webhooks/{paused.id}", json={"active": True}, headers=headers)
        assert response.status_code == 200
        wait_for(lambda: receiver.accepted() == Counter({held: 1}), what="the held event")
        log = client.get(f"/v1/webhooks/{paused.id}/deliveries", headers=headers).json()
    assert worker.stop()
    assert [entry["event_id"] for entry in log["items"]] == [held]
    assert not_queued not in {row.event_id for row in deliveries(outbox)}


def test_deleting_an_endpoint_drops_its_pending_deliveries(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.status = 500
    worker = outbox.worker()
    outbox.emit(endpoint.organisation_id)
    wait_for(lambda: each_tried(outbox, 1), what="a failed attempt")

    with outbox.client() as client:
        headers = outbox.api_key(endpoint.organisation_id)
        assert client.delete(f"/v1/webhooks/{endpoint.id}", headers=headers).status_code == 204
    assert deliveries(outbox) == []
    assert worker.stop()


def test_the_worker_survives_a_database_error_and_carries_on(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    worker = outbox.worker(start=False)
    claim = worker._claim
    failures = []

    def claim_failing_twice(limit: int):  # type: ignore[no-untyped-def]
        if len(failures) < 2:
            failures.append(limit)
            raise RuntimeError("database unavailable")
        return claim(limit)

    worker._claim = claim_failing_twice  # type: ignore[method-assign]
    worker.start()
    event_id = str(outbox.emit(endpoint.organisation_id))
    wait_for(lambda: all_delivered(outbox, 1), what="delivery after the errors")
    assert worker.stop()
    assert len(failures) == 2
    assert receiver.accepted() == Counter({event_id: 1})


def test_emitting_wakes_a_waiting_worker(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    # It would not poll again within the wait, so only the wake-up can deliver in time.
    worker = outbox.worker(dataclasses.replace(FAST, poll=3600.0))
    event_id = str(outbox.emit(endpoint.organisation_id))
    wait_for(lambda: receiver.accepted() == Counter({event_id: 1}), what="delivery")
    assert worker.stop()


def test_unknown_ids_are_not_in_the_log(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    with outbox.client() as client:
        headers = outbox.api_key(endpoint.organisation_id)
        response = client.get(f"/v1/webhooks/{uuid.uuid4()}/deliveries", headers=headers)
    assert response.status_code == 404


def test_delivering_leaves_the_endpoints_etag_and_updated_at_as_they_were(outbox, receiver):
    """The attempt lease on the endpoint is the worker's bookkeeping, not an edit: a client
    holding the endpoint's ETag can still PATCH it after deliveries."""
    endpoint = outbox.endpoint(receiver.url)
    receiver.secret = endpoint.secret
    with outbox.transaction() as session:
        before = session.get_one(WebhookEndpoint, endpoint.id)
        version, updated_at = before.version, before.updated_at
    worker = outbox.worker()
    outbox.emit(endpoint.organisation_id)
    wait_for(lambda: all_delivered(outbox, 1), what="the delivery")
    assert worker.stop()
    with outbox.transaction() as session:
        after = session.get_one(WebhookEndpoint, endpoint.id)
        assert (after.version, after.updated_at) == (version, updated_at)
        assert after.locked_until is None


def test_during_a_rotation_a_receiver_holding_either_secret_accepts_the_delivery(outbox, receiver):
    """Standard Webhooks' rotation: the replaced secret signs beside the new one, so a
    receiver that has not switched yet (or has) refuses nothing."""
    endpoint = outbox.endpoint(receiver.url)
    with outbox.transaction() as session:
        row = session.get(WebhookEndpoint, endpoint.id)
        assert row is not None
        new = service.rotate_secret(session, row, WebhookSecretRotation(), None).secret
    worker = outbox.worker()
    outbox.emit(endpoint.organisation_id)

    wait_for(lambda: all_delivered(outbox, 1), what="the delivery")
    assert worker.stop()

    [request] = receiver.received()
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(endpoint.secret, request.headers, request.body)
    assert verify(new, request.headers, request.body)
    assert reference_library_accepts(endpoint.secret, request.headers, request.body)
    assert reference_library_accepts(new, request.headers, request.body)


def test_an_event_delivered_an_hour_late_is_signed_at_its_attempt_so_receivers_accept_it(
    outbox, receiver
):
    """Receivers' Standard Webhooks libraries refuse a timestamp more than five minutes from
    their clock (replay protection): a delivery that waited for a paused endpoint or a long
    backoff must carry the time of its attempt, not of the event."""
    endpoint = outbox.endpoint(receiver.url)
    event_id = outbox.emit(endpoint.organisation_id)
    an_hour_ago = utcnow() - timedelta(hours=1)
    with outbox.transaction() as session:
        event = session.get_one(WebhookEvent, event_id)
        event.occurred_at = an_hour_ago
        session.add(event)
        for row in session.exec(select(WebhookDelivery)):
            row.created_at = row.next_attempt_at = an_hour_ago
            session.add(row)
    worker = outbox.worker()

    wait_for(lambda: all_delivered(outbox, 1), what="the delivery")
    assert worker.stop()

    [request] = receiver.received()
    assert reference_library_accepts(endpoint.secret, request.headers, request.body)
