"""Claiming due deliveries: a lease gives each delivery, and its endpoint, to one worker at a
time; organisations take turns."""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from app.cases.retention import RetentionJob
from app.sqltypes import utcnow
from app.webhooks import outbox as outbox_service
from app.webhooks import service
from app.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecretRotation,
)
from app.webhooks.retention import DELIVERY_LOG_DAYS
from tests.locks import backend_pid
from tests.webhooks.conftest import wait_for

pytestmark = pytest.mark.usefixtures("no_deadlocks")

LEASE = timedelta(seconds=60)


def claim(session: Session, limit: int = 10, lease: timedelta = LEASE, now=None, **kwargs):  # type: ignore[no-untyped-def]
    return outbox_service.claim_due_deliveries(
        session, now=now or utcnow(), limit=limit, lease=lease, **kwargs
    )


def test_a_leased_delivery_is_not_claimed_again_until_the_lease_expires(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [first] = claim(session)
    with outbox.transaction() as session:
        assert claim(session) == []
    with outbox.transaction() as session:
        [again] = claim(session, now=utcnow() + LEASE + timedelta(seconds=1))
    assert again.delivery_id == first.delivery_id
    assert again.lease_token != first.lease_token
    assert (first.attempt, again.attempt) == (1, 2)


def test_a_claim_takes_at_most_limit_deliveries_oldest_first(outbox):
    endpoints = [outbox.endpoint("https://x.example/h") for _ in range(5)]
    event_ids = [outbox.emit(endpoint.organisation_id) for endpoint in endpoints]
    with outbox.transaction() as session:
        first = claim(session, limit=2)
    with outbox.transaction() as session:
        rest = claim(session, limit=10)
    assert len(first) == 2
    assert [c.event_id for c in first + rest] == event_ids


def test_an_endpoint_has_one_attempt_in_flight_and_gets_its_events_in_order(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    event_ids = [outbox.emit(endpoint.organisation_id) for _ in range(3)]
    with outbox.transaction() as session:
        [first] = claim(session)
    with outbox.transaction() as session:
        assert claim(session) == []  # the endpoint is busy, though two more are due
    with outbox.transaction() as session:
        assert outbox_service.record_delivered(session, first, status_code=200, now=utcnow())
    with outbox.transaction() as session:
        [second] = claim(session)
    assert [first.event_id, second.event_id] == event_ids[:2]
    assert first.endpoint_id == second.endpoint_id == endpoint.id


def test_an_attempt_that_ends_keeps_the_leases_of_the_others_claimed_with_it(outbox):
    """One claim leases several endpoints under one token. The first of its attempts to end
    released every endpoint of that token: the others' requests were still open, yet no longer
    counted in flight, so the next claim sent a second attempt to such an endpoint (its next
    event before the one on its way) and went past the organisation's share (5 and 6 of 4
    seen at a receiver with two servers under load)."""
    organisation = outbox.organisation()
    endpoints = [outbox.endpoint("https://x.example/h", organisation) for _ in range(2)]
    for endpoint in endpoints:
        for _ in range(2):
            outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        first, still_on_its_way = claim(session, max_per_organisation=2)
    assert first.lease_token == still_on_its_way.lease_token
    with outbox.transaction() as session:
        assert outbox_service.record_delivered(session, first, status_code=200, now=utcnow())
    with outbox.transaction() as session:
        again = claim(session, max_per_organisation=2)
    # Only the endpoint whose attempt ended, and only its share's one free place, is taken.
    assert [c.endpoint_id for c in again] == [first.endpoint_id]


def test_a_failed_delivery_waiting_for_its_retry_does_not_hold_up_the_endpoint(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    failing, later = (outbox.emit(endpoint.organisation_id) for _ in range(2))
    with outbox.transaction() as session:
        [first] = claim(session)
        outbox_service.record_failure(
            session, first, status_code=500, error="HTTP 500", retry_at=utcnow() + LEASE
        )
    with outbox.transaction() as session:
        [second] = claim(session)
    assert (first.event_id, second.event_id) == (failing, later)


def test_claims_serve_organisations_in_turn(outbox):
    busy_org, quiet_org = outbox.organisation(), outbox.organisation()
    busy = [outbox.endpoint("https://x.example/h", busy_org) for _ in range(3)]
    outbox.endpoint("https://y.example/h", quiet_org)
    for endpoint in busy:
        outbox.emit(endpoint.organisation_id)
    quiet_event = outbox.emit(quiet_org)  # the newest of all

    with outbox.transaction() as session:
        first = claim(session, limit=2)
    assert [c.organisation_id for c in first] == [busy_org, quiet_org]
    assert first[1].event_id == quiet_event


def test_an_organisation_with_attempts_in_flight_waits_behind_one_without(outbox):
    busy_org, quiet_org = outbox.organisation(), outbox.organisation()
    busy = [outbox.endpoint("https://x.example/h", busy_org) for _ in range(3)]
    for endpoint in busy:
        outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [in_flight] = claim(session, limit=1)
    outbox.endpoint("https://y.example/h", quiet_org)
    outbox.emit(quiet_org)
    with outbox.transaction() as session:
        [next_one] = claim(session, limit=1)
    assert (in_flight.organisation_id, next_one.organisation_id) == (busy_org, quiet_org)


def test_an_organisation_has_at_most_its_share_of_attempts_in_flight(outbox):
    greedy = outbox.organisation()
    for _ in range(5):
        outbox.emit(outbox.endpoint("https://x.example/h", greedy).organisation_id)
    with outbox.transaction() as session:
        first = outbox_service.claim_due_deliveries(
            session, now=utcnow(), limit=10, lease=LEASE, max_per_organisation=2
        )
    with outbox.transaction() as session:
        second = outbox_service.claim_due_deliveries(
            session, now=utcnow(), limit=10, lease=LEASE, max_per_organisation=2
        )
    assert (len(first), len(second)) == (2, 0)


def test_fair_order_takes_turns_by_organisation_then_oldest_first():
    a, b, c = (uuid.UUID(int=n) for n in (1, 2, 3))
    t = utcnow()
    candidates = [
        ("a1", a, t),
        ("a2", a, t + timedelta(seconds=1)),
        ("a3", a, t + timedelta(seconds=2)),
        ("b1", b, t + timedelta(seconds=5)),
        ("c1", c, t + timedelta(seconds=3)),
        ("c2", c, t + timedelta(seconds=4)),
    ]
    assert outbox_service.fair_order(candidates, {}, None) == ["a1", "c1", "b1", "a2", "c2", "a3"]  # type: ignore[arg-type]
    assert outbox_service.fair_order(candidates, {a: 2}, 3) == ["c1", "b1", "c2", "a1"]  # type: ignore[arg-type]


def test_a_delivery_is_claimed_only_when_due_and_pending(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [claimed] = claim(session)
        assert outbox_service.record_failure(
            session,
            claimed,
            status_code=500,
            error="HTTP 500",
            retry_at=utcnow() + timedelta(minutes=10),
        )
    with outbox.transaction() as session:
        assert claim(session) == []
        [retry] = claim(session, now=utcnow() + timedelta(minutes=11))
        assert outbox_service.record_delivered(session, retry, status_code=204, now=utcnow())
    with outbox.transaction() as session:
        assert claim(session, now=utcnow() + timedelta(days=30)) == []
        row = session.get_one(WebhookDelivery, claimed.delivery_id)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "delivered",
        2,
        204,
        None,
    )


def test_concurrent_claims_on_postgresql_take_disjoint_deliveries(outbox):
    if outbox.main.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time; there is nothing to interleave")
    for _ in range(5):
        outbox.emit(outbox.endpoint("https://x.example/h").organisation_id)
    other_engine = outbox.engine()
    with outbox.transaction() as first_session:
        first = claim(first_session, limit=2)  # its row locks are held until commit
        with outbox.transaction(other_engine) as second_session:
            second = claim(second_session)
    assert len(first) == 2 and len(second) == 3
    assert {c.delivery_id for c in first}.isdisjoint({c.delivery_id for c in second})
    assert {c.endpoint_id for c in first}.isdisjoint({c.endpoint_id for c in second})


def test_two_claims_at_once_keep_an_organisation_to_its_share_of_attempts_in_flight(outbox):
    """The README: one organisation has at most 4 attempts in flight over all workers. A claim
    counted the organisation's attempts in flight, then chose and leased endpoints in later
    statements: another server's claim committed in between was not counted, and its endpoints
    were no longer candidates, so each claim went up to the limit (8 in flight of 4 with two
    servers). Here the other claim runs right after this claim's first statement."""
    if outbox.main.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time; there is nothing to interleave")
    organisation = outbox.organisation()
    for _ in range(4):
        outbox.emit(outbox.endpoint("https://x.example/h", organisation).organisation_id)
    other_engine, checker = outbox.engine(), outbox.engine()
    theirs: list[outbox_service.ClaimedDelivery] = []
    their_pid: list[int] = []

    def their_claim() -> None:
        with outbox.transaction(other_engine) as session:
            their_pid.append(backend_pid(session))
            theirs.extend(claim(session, max_per_organisation=2))

    other = threading.Thread(target=their_claim)

    def waits_or_ended() -> bool:
        if not other.is_alive():
            return True
        if not their_pid:
            return False
        with checker.connect() as connection:
            waiting = connection.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                {"p": their_pid[0]},
            ).scalar_one_or_none()
        return waiting == "Lock"

    def after_first_statement(*_: object) -> None:
        if other.ident is None:  # once: the other server claims now, before this one goes on
            other.start()
            wait_for(waits_or_ended, what="the other claim to end or wait for this one")

    with outbox.transaction() as session:
        backend_pid(session)  # the transaction has begun: the next statement is the claim's
        event.listen(outbox.main, "after_cursor_execute", after_first_statement)
        try:
            mine = claim(session, max_per_organisation=2)
        finally:
            event.remove(outbox.main, "after_cursor_execute", after_first_statement)
    other.join(timeout=120)

    assert len(mine) + len(theirs) == 2
    with outbox.transaction() as session:
        leased = session.exec(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(col(WebhookEndpoint.locked_until) > utcnow())
        ).one()
    assert leased == 2


def test_a_paused_endpoints_deliveries_are_not_claimed(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        stored = session.get_one(service.WebhookEndpoint, endpoint.id)
        stored.active = False
        session.add(stored)
    with outbox.transaction() as session:
        assert claim(session) == []


def rotate(outbox, endpoint_id: uuid.UUID, hours: int) -> str:  # type: ignore[no-untyped-def]
    with outbox.transaction() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        return service.rotate_secret(
            session, row, WebhookSecretRotation(previous_secret_hours=hours), None
        ).secret


def test_after_a_rotation_both_secrets_sign_until_the_hours_pass(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    new = rotate(outbox, endpoint.id, 2)
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [within] = claim(session, now=utcnow() + timedelta(hours=1, minutes=59))
    with outbox.transaction() as session:
        [after] = claim(session, now=utcnow() + timedelta(hours=2, minutes=1) + LEASE)
    assert within.secrets == (new, endpoint.secret)
    assert after.secrets == (new,)


def test_a_second_rotation_leaves_only_the_secret_it_replaced_signing(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    first = rotate(outbox, endpoint.id, 24)
    second = rotate(outbox, endpoint.id, 24)
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [claimed] = claim(session)
    assert claimed.secrets == (second, first)


def test_a_pending_delivery_of_an_event_type_the_endpoint_dropped_is_not_sent(outbox):
    """An organisation that takes an event type off its endpoint no longer wants it: the
    retries already queued of that type were still sent (found by breaker 38). They end as
    failed, saying why, and the types it kept are still sent."""
    endpoint = outbox.endpoint("https://x.example/h", events=["agenda.published", "case.housed"])
    dropped = outbox.emit(endpoint.organisation_id, "agenda.published")
    kept = outbox.emit(endpoint.organisation_id, "case.housed")
    outbox.subscribe(endpoint, ["case.housed"])

    with outbox.transaction() as session:
        claimed = claim(session, now=utcnow() + timedelta(days=1))
        rows = {
            row.event_id: row
            for row in session.exec(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            )
        }
    assert [c.delivery_id for c in claimed] == [rows[kept].id]
    assert (rows[dropped].status, rows[dropped].last_error) == (
        "failed",
        "not sent: the endpoint no longer subscribes to this event type",
    )


def test_an_attempt_in_flight_when_its_event_type_is_dropped_does_not_overwrite_its_end(outbox):
    """Taking an event type off the endpoint ends its pending deliveries as failed, "not sent:
    the endpoint no longer subscribes to this event type", the one in flight too. That attempt
    then failed and wrote over it: `last_error` became "HTTP 500" and the failed delivery got a
    next attempt hours ahead (its end, for the log's 30 days, moved with it). A failure no
    longer changes a delivery that ended meanwhile; it only lets go of the lease."""
    endpoint = outbox.endpoint("https://x.example/h", events=["agenda.published", "case.housed"])
    outbox.emit(endpoint.organisation_id, "agenda.published")
    with outbox.transaction() as session:
        [in_flight] = claim(session)
    outbox.subscribe(endpoint, ["case.housed"])

    later = utcnow() + timedelta(hours=6)
    with outbox.transaction() as session:  # the attempt fails; the worker would retry it later
        failed = dict(status_code=500, error="HTTP 500", retry_at=later)
        assert outbox_service.record_failure(session, in_flight, **failed)  # type: ignore[arg-type]

    with outbox.transaction() as session:
        row = session.get_one(WebhookDelivery, in_flight.delivery_id)
    assert (row.status, row.last_error, row.last_status_code, row.lease_token) == (
        "failed",
        "not sent: the endpoint no longer subscribes to this event type",
        None,
        None,
    )
    assert row.next_attempt_at <= utcnow()


def test_a_fixed_url_or_a_resume_makes_the_deliveries_waiting_between_retries_due_now(outbox):
    """After a few failures a delivery waits hours for its next attempt; the organisation that
    fixes its receiver's URL (or resumes the endpoint) wants it tried now (breaker 32)."""
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    later = utcnow() + timedelta(hours=6)
    with outbox.transaction() as session:
        [delivery] = session.exec(select(WebhookDelivery)).all()
        delivery.attempts, delivery.next_attempt_at = 6, later
        session.add(delivery)
    headers = outbox.api_key(endpoint.organisation_id)
    url = f"/v1/webhooks/{endpoint.id}"

    def patch(client, body):  # type: ignore[no-untyped-def]
        etag = client.get(url, headers=headers).headers["etag"]
        changed = client.patch(url, json=body, headers={**headers, "If-Match": etag})
        assert changed.status_code == 200, changed.text

    def due() -> list[int]:
        with outbox.transaction() as session:
            return [c.attempt for c in claim(session)]

    with outbox.client() as client:
        patch(client, {"description": "not the receiver"})
        assert due() == []
        patch(client, {"url": "https://y.example/h"})
    assert due() == [7]  # its attempts so far still count
    with outbox.transaction() as session:
        [delivery] = session.exec(select(WebhookDelivery)).all()
        delivery.next_attempt_at, delivery.locked_until, delivery.lease_token = later, None, None
        session.add(delivery)
        held = session.get(WebhookEndpoint, endpoint.id)
        assert held is not None
        held.locked_until = held.lease_token = None  # the first attempt ended (not sent here)
        session.add(held)
    with outbox.client() as client:
        patch(client, {"active": False})
        patch(client, {"active": True})
    assert len(due()) == 1


def test_an_attempt_in_flight_to_the_old_url_when_the_url_is_fixed_is_retried_now(outbox):
    """The attempt the worker was making when the organisation fixed its receiver's URL went
    to the old URL and failed: it then waited its backoff (hours, after a few failures) while
    the README says a new URL makes the waiting deliveries due at once."""
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [in_flight] = claim(session)
    assert in_flight.url == "https://x.example/h"
    headers = outbox.api_key(endpoint.organisation_id)
    url = f"/v1/webhooks/{endpoint.id}"
    with outbox.client() as client:
        etag = client.get(url, headers=headers).headers["etag"]
        changed = client.patch(
            url, json={"url": "https://y.example/h"}, headers={**headers, "If-Match": etag}
        )
        assert changed.status_code == 200, changed.text
    with outbox.transaction() as session:
        assert outbox_service.record_failure(
            session,
            in_flight,
            status_code=None,
            error="connection refused",
            retry_at=utcnow() + timedelta(hours=6),
        )

    with outbox.transaction() as session:
        [again] = claim(session)

    assert (again.delivery_id, again.url, again.attempt) == (
        in_flight.delivery_id,
        "https://y.example/h",
        2,
    )


def test_a_last_attempt_in_flight_to_the_old_url_when_the_url_is_fixed_is_retried_now(outbox):
    """The same, when that attempt was the delivery's last: it ended as failed, sent only to
    the URL its organisation had just replaced, so the fixed receiver never got it unless the
    organisation noticed and redelivered it; the README says such an attempt is tried again at
    once."""
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [in_flight] = claim(session)
    headers = outbox.api_key(endpoint.organisation_id)
    url = f"/v1/webhooks/{endpoint.id}"
    with outbox.client() as client:
        etag = client.get(url, headers=headers).headers["etag"]
        changed = client.patch(
            url, json={"url": "https://y.example/h"}, headers={**headers, "If-Match": etag}
        )
        assert changed.status_code == 200, changed.text
    with outbox.transaction() as session:
        assert outbox_service.record_failure(
            session, in_flight, status_code=None, error="connection refused", retry_at=None
        )

    with outbox.transaction() as session:
        [again] = claim(session)

    assert (again.delivery_id, again.url) == (in_flight.delivery_id, "https://y.example/h")


def test_an_attempt_the_old_url_accepted_when_the_url_is_fixed_is_not_sent_again(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [in_flight] = claim(session)
    headers = outbox.api_key(endpoint.organisation_id)
    url = f"/v1/webhooks/{endpoint.id}"
    with outbox.client() as client:
        changed = client.patch(url, json={"url": "https://y.example/h"}, headers=headers)
        assert changed.status_code == 200, changed.text
    with outbox.transaction() as session:
        assert outbox_service.record_delivered(session, in_flight, status_code=200, now=utcnow())

    with outbox.transaction() as session:
        assert claim(session, now=utcnow() + timedelta(days=1)) == []
        [delivery] = session.exec(select(WebhookDelivery)).all()
    assert delivery.status == "delivered"


def test_a_last_attempt_that_fails_at_the_url_it_was_sent_to_ends_the_delivery(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [in_flight] = claim(session)
        assert outbox_service.record_failure(
            session, in_flight, status_code=500, error="HTTP 500", retry_at=None
        )

    with outbox.transaction() as session:
        assert claim(session, now=utcnow() + timedelta(days=1)) == []
        [delivery] = session.exec(select(WebhookDelivery)).all()
    assert (delivery.status, delivery.last_error) == ("failed", "HTTP 500")


def test_finished_deliveries_and_their_events_are_forgotten_after_the_delivery_log_days(outbox):
    """Events were kept for ever (only with their endpoint): case ids, dates and signal codes
    of every case, long after it was anonymised. Delivered and failed deliveries are a log kept
    `DELIVERY_LOG_DAYS` (as the mail's send log), then deleted by the retention job with the
    events nobody is still to receive; a pending one stays, with its event."""
    endpoint = outbox.endpoint("https://x.example/h")
    old, recent, waiting = (outbox.emit(endpoint.organisation_id) for _ in range(3))
    long_ago = utcnow() - timedelta(days=DELIVERY_LOG_DAYS + 1)
    with outbox.transaction() as session:
        for delivery in session.exec(select(WebhookDelivery)).all():
            if delivery.event_id != recent:
                delivery.created_at = delivery.next_attempt_at = long_ago
            if delivery.event_id != waiting:
                delivery.status = "delivered" if delivery.event_id == old else "failed"
            session.add(delivery)
        for event in session.exec(select(WebhookEvent)).all():
            if event.id != recent:
                event.occurred_at = long_ago
                session.add(event)
    RetentionJob(outbox.engine(), retention_days=730).run_once()  # its daily round
    with outbox.transaction() as session:
        kept = {d.event_id for d in session.exec(select(WebhookDelivery)).all()}
        events = {e.id for e in session.exec(select(WebhookEvent)).all()}
    assert kept == events == {recent, waiting}


def test_a_delivery_is_kept_in_the_log_for_the_delivery_log_days_after_its_last_attempt(outbox):
    """The log was cut by the day a delivery was queued, not the day it ended: one redelivered
    on its 29th day (or held 40 days by a paused endpoint, then sent) left the log at the next
    daily round, so its organisation could not see how it ended, nor redeliver it again,
    though the README keeps a failed delivery visible for 30 days."""
    endpoint = outbox.endpoint("https://x.example/h")
    ended_lately = outbox.emit(endpoint.organisation_id)
    outbox.emit(endpoint.organisation_id)  # its last attempt long ago
    long_ago = utcnow() - timedelta(days=DELIVERY_LOG_DAYS + 10)
    with outbox.transaction() as session:
        for delivery in session.exec(select(WebhookDelivery)).all():
            delivery.created_at, delivery.status, delivery.attempts = long_ago, "failed", 13
            delivery.last_attempt_at = (
                utcnow() - timedelta(days=1)
                if delivery.event_id == ended_lately
                else long_ago + timedelta(days=3)
            )
            delivery.next_attempt_at = delivery.last_attempt_at  # when it was last due
            session.add(delivery)
        for event in session.exec(select(WebhookEvent)).all():
            event.occurred_at = long_ago
            session.add(event)
    RetentionJob(outbox.engine(), retention_days=730).run_once()  # its daily round
    with outbox.transaction() as session:
        kept = {d.event_id for d in session.exec(select(WebhookDelivery)).all()}
        events = {e.id for e in session.exec(select(WebhookEvent)).all()}
    assert kept == events == {ended_lately}
