"""Claiming due deliveries: a lease gives each delivery to one worker at a time."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.sqltypes import utcnow
from app.webhooks import service
from app.webhooks.models import WebhookDelivery

LEASE = timedelta(seconds=60)


def claim(session: Session, limit: int = 10, lease: timedelta = LEASE, now=None):  # type: ignore[no-untyped-def]
    return service.claim_due_deliveries(session, now=now or utcnow(), limit=limit, lease=lease)


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
    endpoint = outbox.endpoint("https://x.example/h")
    event_ids = [outbox.emit(endpoint.organisation_id) for _ in range(5)]
    with outbox.transaction() as session:
        first = claim(session, limit=2)
    with outbox.transaction() as session:
        rest = claim(session, limit=10)
    assert len(first) == 2
    assert [c.event_id for c in first + rest] == event_ids


def test_a_delivery_is_claimed_only_when_due_and_pending(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        [claimed] = claim(session)
        assert service.record_failure(
            session,
            claimed,
            status_code=500,
            error="HTTP 500",
            retry_at=utcnow() + timedelta(minutes=10),
        )
    with outbox.transaction() as session:
        assert claim(session) == []
        [retry] = claim(session, now=utcnow() + timedelta(minutes=11))
        assert service.record_delivered(session, retry, status_code=204, now=utcnow())
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
    endpoint = outbox.endpoint("https://x.example/h")
    for _ in range(5):
        outbox.emit(endpoint.organisation_id)
    other_engine = outbox.engine()
    with outbox.transaction() as first_session:
        first = claim(first_session, limit=2)  # its row locks are held until commit
        with outbox.transaction(other_engine) as second_session:
            second = claim(second_session)
    assert len(first) == 2 and len(second) == 3
    assert {c.delivery_id for c in first}.isdisjoint({c.delivery_id for c in second})


def test_a_paused_endpoints_deliveries_are_not_claimed(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    with outbox.transaction() as session:
        stored = session.get_one(service.WebhookEndpoint, endpoint.id)
        stored.active = False
        session.add(stored)
    with outbox.transaction() as session:
        assert claim(session) == []
