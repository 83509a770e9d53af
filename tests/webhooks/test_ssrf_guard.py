"""Endpoints are registered by organisations, so delivery refuses addresses inside our network
(loopback, private, link-local) unless explicitly allowed (development and these tests)."""

import dataclasses

import pytest
from sqlmodel import select

from app.webhooks.models import WebhookDelivery
from app.webhooks.worker import public_target
from tests.webhooks.conftest import FAST, wait_for


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ],
)
def test_internal_addresses_are_not_public_targets(url):
    assert public_target(url) is False


def test_a_public_address_is_a_target():
    assert public_target("https://93.184.215.14/hook") is True


def test_a_loopback_receiver_gets_nothing_when_private_targets_are_refused(outbox, receiver):
    endpoint = outbox.endpoint(receiver.url)
    outbox.emit(endpoint.organisation_id)
    worker = outbox.worker(dataclasses.replace(FAST, allow_private_targets=False, max_attempts=1))

    def failed() -> bool:
        with outbox.transaction() as session:
            rows = session.exec(select(WebhookDelivery)).all()
        return bool(rows) and all(r.status == "failed" for r in rows)

    wait_for(failed, what="the delivery to fail")
    assert worker.stop()
    assert receiver.received() == []
    with outbox.transaction() as session:
        [row] = session.exec(select(WebhookDelivery)).all()
    assert "not allowed" in row.last_error
