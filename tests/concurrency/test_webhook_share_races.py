"""Two real servers deliver one organisation's webhooks: the README's share of attempts in
flight (4 per organisation, over all workers) and its one attempt per endpoint at a time, in
order, hold across both processes."""

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import Session

from app.webhooks import service
from tests.concurrency.conftest import Cluster, new_org

pytestmark = pytest.mark.xdist_group("two_servers")

ENDPOINTS = 10
EVENTS = 6


class SlowReceiver:
    """Answers a delivery to /hook<n> after 0.15 s x (1 + n % 4), so the attempts one claim
    started end apart; notes how many requests it was handling at most, in all and per
    endpoint, and the order each endpoint's events came in."""

    def __init__(self) -> None:
        self.busy, self.most, self.received = 0, 0, 0
        self.busy_per_path: dict[str, int] = {}
        self.most_per_path = 0
        self.order: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                path = self.path
                with receiver.lock:
                    receiver.busy += 1
                    receiver.most = max(receiver.most, receiver.busy)
                    receiver.busy_per_path[path] = receiver.busy_per_path.get(path, 0) + 1
                    receiver.most_per_path = max(
                        receiver.most_per_path, receiver.busy_per_path[path]
                    )
                    receiver.order.setdefault(path, []).append(self.headers["webhook-id"])
                time.sleep(0.15 * (1 + int(path.removeprefix("/hook")) % 4))
                # Counted out before the answer is sent: the worker's attempt (and its lease)
                # ends only after it has the answer, so a request counted here is in flight.
                with receiver.lock:
                    receiver.busy -= 1
                    receiver.busy_per_path[path] -= 1
                    receiver.received += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def slow_receiver() -> Iterator[SlowReceiver]:
    receiver = SlowReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_one_organisation_has_at_most_4_attempts_in_flight_over_two_servers(
    cluster: Cluster, slow_receiver: SlowReceiver
) -> None:
    """Each server's worker counted the organisation's attempts in flight and then claimed in
    later statements, so the two together had up to 8 in flight (found by brk-hooks). And one
    claim leases several endpoints under one token: the first of its attempts to end released
    them all, so the next claim started more while the others' requests were still open (5 and
    6 of 4 in flight under load, and a second attempt to an endpoint whose first was on its
    way; found by brk-hooks2)."""
    org = new_org(cluster, "municipality")
    client = cluster.client(org, 0)
    for n in range(ENDPOINTS):
        body = {"url": f"{slow_receiver.url}/hook{n}", "events": ["agenda.published"]}
        assert client.post("/v1/webhooks", json=body).status_code == 201
    client.close()
    events = []
    with Session(cluster.engine) as session:  # as publishing agendas would queue them
        for _ in range(EVENTS):
            data = {"meeting_id": str(uuid.uuid4()), "table_id": str(uuid.uuid4())}
            events.append(
                service.emit(
                    session,
                    event_type="agenda.published",
                    organisation_ids=[uuid.UUID(org.id)],
                    data=data,
                )
            )
        session.commit()

    deadline = time.monotonic() + 300  # bounds a hang on a loaded machine; not a timing check
    while slow_receiver.received < ENDPOINTS * EVENTS and time.monotonic() < deadline:
        time.sleep(0.1)

    assert slow_receiver.received == ENDPOINTS * EVENTS
    assert slow_receiver.most <= 4
    assert slow_receiver.most_per_path == 1
    in_order = [str(event_id) for event_id in events]
    assert all(order == in_order for order in slow_receiver.order.values())
    assert "Traceback" not in cluster.server_log()
