"""Endpoints are registered by organisations, so delivery refuses addresses inside our network
(loopback, private, link-local) unless explicitly allowed (development and these tests)."""

import asyncio
import dataclasses
import socket
import uuid

import httpx
import pytest
from sqlmodel import select

from app.webhooks import targets
from app.webhooks.models import WebhookDelivery
from app.webhooks.outbox import ClaimedDelivery
from app.webhooks.targets import TargetRefused, pin_public_target
from app.webhooks.worker import DeliveryWorker
from tests.conftest import make_org
from tests.webhooks.conftest import FAST, wait_for

PUBLIC = "93.184.215.14"


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
def test_internal_addresses_are_refused(url):
    with pytest.raises(TargetRefused, match="not a public internet address"):
        pin_public_target(url)


def test_a_public_address_is_called_as_it_is():
    assert pin_public_target(f"https://{PUBLIC}/hook").url == f"https://{PUBLIC}/hook"


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


class RebindingResolver:
    """A DNS answer that turns inward after the first lookup, as in a DNS rebinding attack."""

    def __init__(self, *answers: str):
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.lookups.append(host)
        answer = self.answers[min(len(self.lookups), len(self.answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]


def test_a_name_is_looked_up_once_and_the_checked_address_is_the_one_called(monkeypatch):
    resolver = RebindingResolver(PUBLIC, "127.0.0.1")
    monkeypatch.setattr(targets.socket, "getaddrinfo", resolver)
    target = pin_public_target("https://hooks.example.org:8443/hook?x=1")
    assert target.url == f"https://{PUBLIC}:8443/hook?x=1"
    assert target.headers == {"host": "hooks.example.org:8443", "connection": "close"}
    assert target.extensions == {"sni_hostname": "hooks.example.org"}
    assert resolver.lookups == ["hooks.example.org"]


def test_a_name_with_any_inward_address_is_refused(monkeypatch):
    def mixed(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(targets.socket, "getaddrinfo", mixed)
    with pytest.raises(TargetRefused, match="not allowed"):
        pin_public_target("http://hooks.example.org/hook")


def test_an_unresolvable_name_fails_the_attempt_with_the_reason(monkeypatch):
    def nothing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(targets.socket, "getaddrinfo", nothing)
    with pytest.raises(TargetRefused, match="could not be resolved"):
        pin_public_target("http://hooks.example.org/hook")


def _delivery(url: str) -> ClaimedDelivery:
    return ClaimedDelivery(
        delivery_id=uuid.uuid4(),
        lease_token=uuid.uuid4(),
        attempt=1,
        event_id=uuid.uuid4(),
        url=url,
        secrets=("whsec_" + "a" * 32,),
        body=b"{}",
        endpoint_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
    )


async def _send(worker: DeliveryWorker, delivery: ClaimedDelivery, handler=None):  # type: ignore[no-untyped-def]
    transport = httpx.MockTransport(handler) if handler else None
    async with httpx.AsyncClient(transport=transport) as client:
        return await worker._send(client, delivery)


def _guarded_worker() -> DeliveryWorker:
    """A worker with the guard on; sending one attempt needs no database."""
    policy = dataclasses.replace(FAST, allow_private_targets=False)
    return DeliveryWorker(None, policy)  # type: ignore[arg-type]


def test_the_worker_posts_to_the_checked_address_under_the_original_name(monkeypatch):
    monkeypatch.setattr(targets.socket, "getaddrinfo", RebindingResolver(PUBLIC, "::1"))
    sent: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    worker = _guarded_worker()
    outcome = asyncio.run(_send(worker, _delivery("https://hooks.example.org/hook"), receiver))
    assert outcome == (204, None)
    [request] = sent
    assert request.url.host == PUBLIC
    assert request.headers["host"] == "hooks.example.org"
    assert request.extensions["sni_hostname"] == "hooks.example.org"
    assert "webhook-signature" in request.headers


def test_a_real_connection_to_the_pinned_address_carries_the_original_host(monkeypatch, receiver):
    # Loopback stands in for a public address here, so the receiver on 127.0.0.1 can answer.
    monkeypatch.setattr(targets, "is_public_address", lambda address, allow_private=False: True)
    resolver = RebindingResolver("127.0.0.1")
    monkeypatch.setattr(targets.socket, "getaddrinfo", resolver)
    worker = _guarded_worker()
    outcome = asyncio.run(_send(worker, _delivery(f"http://hooks.test:{receiver.port}/hook")))
    assert outcome == (200, None)
    [received] = receiver.received()
    assert received.headers["host"] == f"hooks.test:{receiver.port}"
    assert resolver.lookups.count("hooks.test") == 1  # the connection did not look it up again


# The production default, which the test run otherwise switches off for its receivers.
REFUSE_PRIVATE_TARGETS = pytest.mark.settings(webhook_allow_private_targets=False)


@REFUSE_PRIVATE_TARGETS
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://api.localhost/hook",
        "https://10.0.0.7/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_registering_an_internal_url_is_refused_at_once(client, url):
    response = client.post(
        "/v1/webhooks",
        json={"url": url, "events": ["case.housed"]},
        headers=make_org(client, "care_provider").headers,
    )
    assert response.status_code == 400, response.text
    [param] = response.json()["invalidParams"]
    assert (param["name"], param["code"]) == ("url", "target_not_allowed")


@REFUSE_PRIVATE_TARGETS
def test_moving_an_endpoint_to_an_internal_url_is_refused(client):
    headers = make_org(client, "care_provider").headers
    created = client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.org/hook", "events": ["case.housed"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    moved = client.patch(
        created.headers["Location"],
        json={"url": "http://127.0.0.1/hook"},
        headers={**headers, "If-Match": created.headers["ETag"]},
    )
    assert moved.status_code == 400, moved.text
    assert moved.json()["invalidParams"][0]["name"] == "url"
    again = client.get(created.headers["Location"], headers=headers).json()
    assert again["url"] == "https://hooks.example.org/hook"


@REFUSE_PRIVATE_TARGETS
def test_a_public_name_is_accepted_at_registration_and_checked_at_delivery(client):
    response = client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.org/hook", "events": ["case.housed"]},
        headers=make_org(client, "care_provider").headers,
    )
    assert response.status_code == 201, response.text
