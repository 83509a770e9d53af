"""Webhook test harness: a real receiver on loopback, committed databases, and fast workers.

Delivery runs in the worker's own transactions, so those tests use a fresh migrated database
per test (`outbox`) instead of the rolled-back `session`.
"""

import base64
import hashlib
import hmac
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from standardwebhooks import Webhook, WebhookVerificationError

from app.auth import Principal
from app.db import _sqlite_lock, build_engine
from app.main import create_app
from app.organisations.models import KeyIssuer, Organisation, OrganisationKind
from app.organisations.service import create_api_key
from app.settings import get_settings
from app.webhooks import service
from app.webhooks.models import EventType, WebhookEndpointCreate
from app.webhooks.worker import DeliveryPolicy, DeliveryWorker

# Apps built by the shared fixtures must not start a worker on the default database (as with
# UITSTROOM_MIGRATE_ON_START in tests/conftest.py); these tests start their own workers.
os.environ.setdefault("UITSTROOM_WEBHOOK_WORKER", "false")

FAST = DeliveryPolicy(
    retry_delays=(0.05, 0.1),
    max_attempts=50,
    jitter=0.0,
    timeout=2.0,
    # Generous beside the timeout: under CI's load a claim can take seconds, and an attempt whose
    # claim ate the margin is recorded unsent (correct, but not what these tests look at). Tests
    # of lease expiry set their own short leases.
    lease=30.0,
    concurrency=4,
    poll=0.02,
    allow_private_targets=True,  # the receivers run on loopback
)


def wait_for(condition: Callable[[], Any], timeout: float = 180.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy and return it; fail after `timeout` seconds. The limit
    is generous on purpose (a loaded 2-core CI machine): it bounds a hang, it is not a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


# --- an independent Standard Webhooks verifier -------------------------------------------


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Written from the spec, not from app code: HMAC-SHA256 over `id.timestamp.body`."""
    key = base64.b64decode(secret[len("whsec_") :])
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode()
    expected = base64.b64encode(hmac.new(key, signed + b"." + body, hashlib.sha256).digest())
    offered = [s.split(",", 1) for s in headers["webhook-signature"].split(" ")]
    return any(v == "v1" and hmac.compare_digest(sig.encode(), expected) for v, sig in offered)


def reference_library_accepts(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver using Standard Webhooks' own Python library (`standardwebhooks`) sees:
    a matching signature among those offered, and a timestamp within its five minutes of now
    (so a retry must be signed afresh, not with its first attempt's time)."""
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


# --- a real receiver on loopback -----------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = field(default_factory=time.monotonic)  # when the request had arrived


@dataclass
class Receiver:
    """An HTTP server in a thread that records every request and answers `status`.

    `secret` set: requests with a bad signature get 401 (and are recorded as such). `accepted`
    counts webhook-ids answered 2xx, which is what "received exactly once" means.
    """

    status: int = 200
    secret: str | None = None
    location: str | None = None  # sent as `Location` (with a 3xx `status`: a redirect)
    hold_first: threading.Event | None = None  # the first request waits for it to be set
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    in_progress: int = 0  # requests being handled right now
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived_at = time.monotonic()
                with receiver._lock:
                    receiver.in_progress += 1
                try:
                    self._handle(arrived_at)
                finally:
                    with receiver._lock:
                        receiver.in_progress -= 1

            def _handle(self, arrived_at: float) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    first = not receiver.arrived.is_set()
                    receiver.arrived.set()
                if first and receiver.hold_first is not None:
                    receiver.hold_first.wait(10)
                status = receiver.status
                if receiver.secret and not verify(receiver.secret, headers, body):
                    status = 401
                with receiver._lock:
                    receiver.requests.append(Received(headers, body, status, arrived_at))
                self.send_response(status)
                if receiver.location is not None:
                    self.send_header("location", receiver.location)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until `start()` binds it again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> Counter[str]:
        with self._lock:
            return Counter(r.headers["webhook-id"] for r in self.requests if 200 <= r.status < 300)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)


def _running_receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    if r.hold_first is not None:
        r.hold_first.set()
    r.stop()


receiver = pytest.fixture(_running_receiver, name="receiver")
other_receiver = pytest.fixture(_running_receiver, name="other_receiver")


# --- committed databases and workers ------------------------------------------------------


@dataclass
class Endpoint:
    id: uuid.UUID
    organisation_id: uuid.UUID
    secret: str


class Outbox:
    """A fresh migrated database; `engine()` gives a new engine, as a restarted process has."""

    def __init__(self, url: str):
        self.url = url
        self._engines: list[Engine] = []
        self._workers: list[DeliveryWorker] = []
        self.main = self.engine()

    def engine(self) -> Engine:
        engine = build_engine(self.url)
        self._engines.append(engine)
        return engine

    @contextmanager
    def transaction(self, engine: Engine | None = None) -> Iterator[Session]:
        """A committed transaction, serialised with the worker's like a request's would be."""
        engine = engine or self.main
        lock = _sqlite_lock if engine.dialect.name == "sqlite" else nullcontext()
        with lock, Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    def organisation(self, kind: str = "municipality") -> uuid.UUID:
        with self.transaction() as session:
            org = Organisation(name=f"org {uuid.uuid4().hex[:8]}", kind=kind)
            session.add(org)
            session.flush()
            return org.id

    def endpoint(
        self,
        url: str,
        organisation_id: uuid.UUID | None = None,
        events: list[str] | None = None,
    ) -> Endpoint:
        organisation_id = organisation_id or self.organisation()
        principal = Principal(
            is_operator=False,
            organisation_id=organisation_id,
            organisation_kind=OrganisationKind.municipality,
        )
        payload = WebhookEndpointCreate(url=url, events=events or list(EventType))  # type: ignore[arg-type]
        with self.transaction() as session:
            # The test receivers listen on loopback.
            endpoint, secret = service.create_endpoint(
                session, principal, payload, allow_private_targets=True
            )
        return Endpoint(endpoint.id, organisation_id, secret)

    def emit(self, organisation_id: uuid.UUID, event_type: str = "agenda.published") -> uuid.UUID:
        with self.transaction() as session:
            return service.emit(
                session,
                event_type=event_type,
                organisation_ids=[organisation_id],
                data={"meeting_id": str(uuid.uuid4()), "table_id": str(uuid.uuid4())},
            )

    def worker(self, policy: DeliveryPolicy = FAST, *, start: bool = True) -> DeliveryWorker:
        """A worker on a fresh engine, as a newly started process would have."""
        worker = DeliveryWorker(self.engine(), policy)
        self._workers.append(worker)
        return worker.start() if start else worker

    def api_key(self, organisation_id: uuid.UUID) -> dict[str, str]:
        with self.transaction() as session:
            organisation = session.get_one(Organisation, organisation_id)
            _, raw = create_api_key(session, organisation, "t", issued_by=KeyIssuer.command_line)
        return {"Authorization": f"Bearer {raw}"}

    def subscribe(self, endpoint: Endpoint, events: list[str]) -> None:
        """Change the endpoint's event types through the API, as its organisation would."""
        headers = self.api_key(endpoint.organisation_id)
        with self.client() as client:
            url = f"/v1/webhooks/{endpoint.id}"
            etag = client.get(url, headers=headers).headers["etag"]
            changed = client.patch(
                url, json={"events": events}, headers={**headers, "If-Match": etag}
            )
        assert changed.status_code == 200, changed.text

    @contextmanager
    def client(self) -> Iterator[TestClient]:
        """The HTTP API on this database, committing per request like production."""
        app = create_app(get_settings(), engine=self.main)
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        for engine in self._engines:
            engine.dispose()


@pytest.fixture
def outbox(databases) -> Iterator[Outbox]:  # type: ignore[no-untyped-def]
    url = databases.migrated_url()
    box = Outbox(url)
    yield box
    box.close()
