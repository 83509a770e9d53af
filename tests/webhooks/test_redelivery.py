"""Redelivering a failed delivery: a receiver that was down longer than the retries last gets
what it missed, once, with the same `webhook-id`."""

import dataclasses
import uuid
from datetime import timedelta
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.access_log.models import AccessLogEntry
from app.sqltypes import utcnow
from app.webhooks import outbox as outbox_service
from app.webhooks import service
from app.webhooks.models import WebhookDelivery
from app.webhooks.retention import DELIVERY_LOG_DAYS, forget_finished
from tests.conftest import generated_contract
from tests.locks import commit_after_it_waits
from tests.webhooks.conftest import FAST, Outbox, verify, wait_for

pytestmark = pytest.mark.usefixtures("no_deadlocks")


def only_delivery(outbox: Outbox) -> WebhookDelivery:
    with outbox.transaction() as session:
        [row] = session.exec(select(WebhookDelivery)).all()
        return row


def fail_it(outbox: Outbox, delivery_id: uuid.UUID, error: str = "HTTP 500") -> None:
    """The delivery's retries are used up (as the worker leaves it after the last attempt)."""
    with outbox.transaction() as session:
        row = session.get_one(WebhookDelivery, delivery_id)
        row.status, row.attempts, row.last_error = "failed", 12, error
        session.add(row)


def redeliver(outbox: Outbox, endpoint, delivery_id, headers=None):  # type: ignore[no-untyped-def]
    headers = headers or outbox.api_key(endpoint.organisation_id)
    with outbox.client() as client:
        return client.post(
            f"/v1/webhooks/{endpoint.id}/deliveries/{delivery_id}/redeliveries", headers=headers
        )


def test_a_failed_delivery_redelivered_reaches_the_receiver_once_with_the_same_webhook_id(
    outbox, receiver
):
    endpoint = outbox.endpoint(receiver.url)
    receiver.status = 500
    worker = outbox.worker(dataclasses.replace(FAST, max_attempts=2))
    event_id = str(outbox.emit(endpoint.organisation_id))
    wait_for(lambda: only_delivery(outbox).status == "failed", what="the delivery to fail")

    receiver.status = 200
    answer = redeliver(outbox, endpoint, only_delivery(outbox).id)

    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["attempts"]) == ("pending", 2)
    wait_for(lambda: only_delivery(outbox).status == "delivered", what="the redelivery")
    assert worker.stop()
    assert only_delivery(outbox).attempts == 3
    assert receiver.accepted() == {event_id: 1}
    assert [r.headers["webhook-id"] for r in receiver.received()] == [event_id] * 3
    assert len({r.body for r in receiver.received()}) == 1
    assert all(verify(endpoint.secret, r.headers, r.body) for r in receiver.received())


def test_a_redelivery_that_fails_again_is_failed_after_that_one_attempt(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    receiver.status = 503
    outbox.emit(endpoint.organisation_id)
    delivery_id = only_delivery(outbox).id
    fail_it(outbox, delivery_id)
    worker = outbox.worker(dataclasses.replace(FAST, max_attempts=12))

    assert redeliver(outbox, endpoint, delivery_id).status_code == 202
    wait_for(lambda: only_delivery(outbox).status == "failed", what="the one attempt to fail")
    assert worker.stop()
    assert (only_delivery(outbox).attempts, len(receiver.received())) == (13, 1)


def test_only_a_failed_delivery_is_redelivered(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    delivery_id = only_delivery(outbox).id

    pending = redeliver(outbox, endpoint, delivery_id)
    assert pending.status_code == 409, pending.text
    assert pending.headers["content-type"] == "application/problem+json"
    assert pending.json()["code"] == "delivery_not_failed"

    fail_it(outbox, delivery_id)
    headers = outbox.api_key(endpoint.organisation_id)
    assert redeliver(outbox, endpoint, delivery_id, headers).status_code == 202
    twice = redeliver(outbox, endpoint, delivery_id, headers)
    assert twice.status_code == 409
    assert twice.json()["code"] == "delivery_not_failed"


def test_a_redelivery_retried_with_its_idempotency_key_gives_the_first_answer(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    delivery_id = only_delivery(outbox).id
    fail_it(outbox, delivery_id)
    headers = {**outbox.api_key(endpoint.organisation_id), "Idempotency-Key": "again-1"}

    first = redeliver(outbox, endpoint, delivery_id, headers)
    retry = redeliver(outbox, endpoint, delivery_id, headers)

    assert (first.status_code, retry.status_code) == (202, 202), retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


def test_the_contract_documents_the_redelivery_replay_as_the_202_it_is():
    """A retry with the key answers 202 as the first request did (above); the contract listed
    a 200 "Replay of an earlier request" that never comes, so a client coded against it took
    the replay for an unexpected status."""
    operation = generated_contract()["paths"][
        "/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliveries"
    ]["post"]
    assert "200" not in operation["responses"]
    assert "Idempotent-Replayed" in operation["responses"]["202"]["headers"]


def test_a_delivery_of_an_event_type_the_endpoint_dropped_is_not_redelivered(outbox):
    endpoint = outbox.endpoint("https://x.example/h", events=["agenda.published", "case.housed"])
    outbox.emit(endpoint.organisation_id, "agenda.published")
    delivery_id = only_delivery(outbox).id
    fail_it(outbox, delivery_id)
    outbox.subscribe(endpoint, ["case.housed"])

    refused = redeliver(outbox, endpoint, delivery_id)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "event_not_subscribed"
    assert only_delivery(outbox).status == "failed"


def test_another_organisation_cannot_redeliver_or_learn_of_a_delivery(outbox):
    endpoint = outbox.endpoint("https://x.example/h")
    other = outbox.endpoint("https://y.example/h")
    outbox.emit(endpoint.organisation_id)
    delivery_id = only_delivery(outbox).id
    fail_it(outbox, delivery_id)
    stranger = outbox.api_key(other.organisation_id)

    through_its_endpoint = redeliver(outbox, endpoint, delivery_id, stranger)
    through_own_endpoint = redeliver(outbox, other, delivery_id, stranger)
    unknown = redeliver(outbox, other, uuid.uuid4(), stranger)

    assert [through_its_endpoint.status_code, through_own_endpoint.status_code] == [404, 404]
    assert through_own_endpoint.json() == {**unknown.json(), "instance": ANY}
    assert only_delivery(outbox).status == "failed"


def test_a_redelivered_event_naming_a_case_is_logged_as_handed_to_the_organisation_again(
    outbox,
):
    endpoint = outbox.endpoint("https://x.example/h")
    case_id, table_id = uuid.uuid4(), uuid.uuid4()
    with outbox.transaction() as session:
        service.emit(
            session,
            event_type="case.housed",
            organisation_ids=[endpoint.organisation_id],
            data={"case_id": str(case_id), "table_id": str(table_id)},
        )
    delivery_id = only_delivery(outbox).id
    fail_it(outbox, delivery_id)

    def told() -> int:
        with outbox.transaction() as session:
            return session.exec(
                select(func.count()).where(
                    AccessLogEntry.case_id == case_id,
                    AccessLogEntry.organisation_id == endpoint.organisation_id,
                    AccessLogEntry.action == "notification",
                )
            ).one()

    assert told() == 1
    assert redeliver(outbox, endpoint, delivery_id).status_code == 202
    assert told() == 2


def test_a_delivery_ended_unsent_by_a_dropped_type_gets_the_attempts_it_had_left(outbox, receiver):
    """The README promised a redelivery one more attempt, ended as failed by its failure; a
    delivery ended before its first attempt because its type was taken off the endpoint (and
    put back since) never used its retries, and gets them: the README now says so."""
    endpoint = outbox.endpoint(receiver.url, events=["agenda.published", "case.housed"])
    receiver.status = 503
    outbox.emit(endpoint.organisation_id, "agenda.published")
    outbox.subscribe(endpoint, ["case.housed"])
    outbox.subscribe(endpoint, ["agenda.published", "case.housed"])
    delivery = only_delivery(outbox)
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    worker = outbox.worker(dataclasses.replace(FAST, max_attempts=3))

    assert redeliver(outbox, endpoint, delivery.id).status_code == 202
    wait_for(lambda: only_delivery(outbox).status == "failed", what="the attempts it had left")
    assert worker.stop()
    assert (only_delivery(outbox).attempts, len(receiver.received())) == (3, 3)


def test_a_redelivery_is_not_ended_by_the_attempt_that_was_in_flight_before_it(outbox):
    """The last attempt was on its way when the organisation took the event type off the
    endpoint (ending the delivery as failed), put it back and redelivered it (202, pending and
    due now). That old attempt then failed and, still holding the delivery's lease, ended it as
    failed again: the redelivery was lost before it was tried. A redelivery takes the lease from
    the attempt before it, whose late outcome then changes nothing."""
    endpoint = outbox.endpoint("https://x.example/h", events=["agenda.published", "case.housed"])
    outbox.emit(endpoint.organisation_id, "agenda.published")
    with outbox.transaction() as session:
        row = session.exec(select(WebhookDelivery)).one()
        row.attempts = 11
        session.add(row)
    with outbox.transaction() as session:
        [in_flight] = outbox_service.claim_due_deliveries(
            session, now=utcnow(), limit=1, lease=timedelta(seconds=60)
        )
    assert in_flight.attempt == 12  # the last one the worker makes
    outbox.subscribe(endpoint, ["case.housed"])
    outbox.subscribe(endpoint, ["agenda.published", "case.housed"])
    assert redeliver(outbox, endpoint, in_flight.delivery_id).status_code == 202

    with outbox.transaction() as session:  # the old attempt ends, failed, without a retry
        outbox_service.record_failure(
            session, in_flight, status_code=500, error="HTTP 500", retry_at=None
        )

    delivery = only_delivery(outbox)
    assert (delivery.status, delivery.next_attempt_at <= utcnow()) == ("pending", True)
    with outbox.transaction() as session:
        [again] = outbox_service.claim_due_deliveries(
            session, now=utcnow(), limit=1, lease=timedelta(seconds=60)
        )
    assert (again.delivery_id, again.attempt) == (in_flight.delivery_id, 13)


def test_a_redelivery_of_a_delivery_the_log_drops_meanwhile_is_404_not_409(outbox):
    """The retention round deleted the failed delivery (30 days after it ended) while a
    redelivery of it was under way: the redelivery had read it as failed, then its conditional
    UPDATE found no row and it answered 409 `delivery_not_failed`, "pending or was delivered",
    neither of which the delivery was. A delivery that left the log is 404, as the README says
    of one the endpoint no longer has (read again after the UPDATE)."""
    if outbox.main.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: a request and the retention round queue")
    endpoint = outbox.endpoint("https://x.example/h")
    outbox.emit(endpoint.organisation_id)
    delivery_id = only_delivery(outbox).id
    fail_it(outbox, delivery_id)
    headers = outbox.api_key(endpoint.organisation_id)
    answers: list[httpx.Response] = []

    def clean_up(session: Session) -> Any:  # its daily round, 30 days and a bit after the end
        return forget_finished(session, utcnow() + timedelta(days=DELIVERY_LOG_DAYS, hours=1))

    commit_after_it_waits(
        outbox.main,
        clean_up,
        lambda: answers.append(redeliver(outbox, endpoint, delivery_id, headers)),
    )

    [answer] = answers
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert redeliver(outbox, endpoint, delivery_id, headers).json() == {
        **answer.json(),
        "instance": ANY,
    }
