"""A receiver that answers slowly cannot hold up anyone else: every attempt ends at its deadline
however steadily the receiver trickles, an endpoint has one attempt in flight at a time, the
organisations take turns for the worker's slots, and an event is never sent twice at once.

The trickling receiver is a raw socket server on loopback that answers one header byte per
second, the way a hostile receiver keeps a per-read timeout from ever firing.
"""

import dataclasses
import select
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlmodel import select as sql_select

from app.webhooks.models import WebhookDelivery
from app.webhooks.worker import DEADLINE_EXCEEDED, DeliveryPolicy
from tests.webhooks.conftest import FAST, Outbox, wait_for

pytestmark = pytest.mark.usefixtures("no_deadlocks")

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-padding: " + b"." * 40 + b"\r\n\r\n"
# A worker whose attempts end after 1.5 s; the trickled answer would take about 70 s.
SLOW_TEST = dataclasses.replace(FAST, timeout=1.5, lease=5.0, concurrency=4)


@dataclass
class Connection:
    path: str
    webhook_id: str
    opened: float
    closed: float | None = None
    bytes_sent: int = 0
    closed_by_client: bool = False


@dataclass
class Trickler:
    """Accepts every request, then sends its answer one byte per `interval` seconds, until the
    client hangs up; records each connection's path, webhook-id and lifetime."""

    interval: float = 1.0
    connections: list[Connection] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _sock: socket.socket | None = None
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def start(self) -> "Trickler":
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            self._sock.close()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            head, _, body = request.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:])
            length = int(headers.get("content-length", "0"))
            while len(body) < length:
                body += conn.recv(65536)
            record = Connection(lines[0].split(" ")[1], headers["webhook-id"], time.monotonic())
            with self._lock:
                self.connections.append(record)
            for byte in ANSWER:
                readable, _, _ = select.select([conn], [], [], self.interval)
                if readable and conn.recv(1) == b"":
                    record.closed_by_client = True
                    break
                if self._stopping.is_set():
                    break
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    record.closed_by_client = True
                    break
                record.bytes_sent += 1
            record.closed = time.monotonic()

    def snapshot(self) -> list[Connection]:
        with self._lock:
            return [dataclasses.replace(c) for c in self.connections]


@pytest.fixture
def trickler():  # type: ignore[no-untyped-def]
    t = Trickler().start()
    yield t
    t.stop()


def open_at(connections: list[Connection], moment: float) -> list[Connection]:
    return [
        c for c in connections if c.opened <= moment and (c.closed is None or c.closed > moment)
    ]


# The receiver notes when a connection opened and closed from its own threads, which a loaded
# machine can run late: a hang-up followed at once by the next attempt (retries 0.05 s apart) can
# look like a short overlap. A real parallel attempt (a lease outlived by its attempt) overlaps
# by at least lease - timeout (3.5 s here), so connections count as open at once only if both
# are still open this long after the later one opened.
RECEIVER_LAG = 0.5


def most_open_at_once(connections: list[Connection], key) -> int:  # type: ignore[no-untyped-def]
    """The largest number of connections with the same key open at one moment, as the receiver
    saw them (with `RECEIVER_LAG`)."""
    worst = 0
    for c in connections:
        overlapping = Counter(key(o) for o in open_at(connections, c.opened + RECEIVER_LAG))
        worst = max(worst, overlapping[key(c)])
    return worst


def attempts(outbox: Outbox) -> list[WebhookDelivery]:
    with outbox.transaction() as session:
        return list(session.exec(sql_select(WebhookDelivery)))


def all_closed(connections: list[Connection]) -> list[Connection] | None:
    """The connections, once every one of them is closed (else None)."""
    return connections if all(c.closed is not None for c in connections) else None


def test_a_trickling_receiver_is_cut_off_at_the_deadline_and_retried_one_attempt_at_a_time(
    outbox, trickler
):
    organisation = outbox.organisation()
    slow = outbox.endpoint(trickler.url("slow"), organisation)
    events = {str(outbox.emit(organisation)) for _ in range(2)}
    worker = outbox.worker(SLOW_TEST)

    wait_for(lambda: len(trickler.snapshot()) >= 3, what="three attempts")
    assert worker.stop()
    # The receiver notes a hang-up when its wait for the next byte wakes (up to `interval`
    # later, more on a loaded machine): the attempt the stop cut off could still look open. A
    # connection our side never closed trickles on for about 70 s and then fails below.
    connections = wait_for(
        lambda: all_closed(trickler.snapshot()), what="the receiver to see every hang-up"
    )

    # Every attempt ended by our hanging up, long before the answer's headers were complete.
    assert all(c.closed_by_client and c.bytes_sent < len(ANSWER) // 2 for c in connections)
    # One attempt at a time to the endpoint, whatever else was due for it.
    assert most_open_at_once(connections, key=lambda c: c.path) == 1
    assert {c.webhook_id for c in connections} <= events
    for row in attempts(outbox):
        assert row.endpoint_id == slow.id and row.status == "pending"
        if row.attempts:
            assert row.last_error == DEADLINE_EXCEEDED


def test_slow_receivers_of_one_organisation_leave_room_for_another_organisations_event(
    outbox, trickler, receiver
):
    hostile = outbox.organisation()
    for n in range(6):
        outbox.endpoint(trickler.url(f"slow-{n}"), hostile)
    for _ in range(2):
        outbox.emit(hostile)  # every slow endpoint has two events waiting
    fast = outbox.endpoint(receiver.url)
    worker = outbox.worker(SLOW_TEST)
    wait_for(
        lambda: len(open_at(trickler.snapshot(), time.monotonic())) >= 2,
        timeout=30,
        what="the slow receivers to hold attempts",
    )

    event_id = str(outbox.emit(fast.organisation_id))
    wait_for(lambda: receiver.accepted()[event_id] == 1, what="the fast event")
    [arrival] = receiver.received()
    assert open_at(trickler.snapshot(), arrival.at), "the fast event waited for the slow ones"
    assert worker.stop()

    connections = trickler.snapshot()
    # The hostile organisation never had more than its share of the worker's slots.
    assert most_open_at_once(connections, key=lambda c: "hostile") <= (SLOW_TEST.organisation_limit)
    assert most_open_at_once(connections, key=lambda c: c.path) == 1


def test_two_workers_never_send_an_event_twice_at_once_to_a_trickling_receiver(outbox, trickler):
    organisation = outbox.organisation()
    for n in range(3):
        outbox.endpoint(trickler.url(f"slow-{n}"), organisation)
    for _ in range(2):
        outbox.emit(organisation)
    # Two workers on their own engines, as two server processes have; short leases, so a
    # lease outlived by its attempt would show as a parallel duplicate.
    policy = dataclasses.replace(SLOW_TEST, max_per_organisation=6)
    workers = [outbox.worker(policy), outbox.worker(policy)]

    wait_for(lambda: len(trickler.snapshot()) >= 9, what="nine attempts")
    assert all(worker.stop() for worker in workers)
    connections = trickler.snapshot()
    # A delivery is one event for one endpoint (the event goes to all three).
    assert most_open_at_once(connections, key=lambda c: (c.path, c.webhook_id)) == 1
    assert most_open_at_once(connections, key=lambda c: c.path) == 1
    assert len({c.path for c in connections}) == 3


def test_a_lease_shorter_than_an_attempt_is_refused():
    with pytest.raises(ValueError, match="lease must outlast an attempt"):
        DeliveryPolicy(timeout=10.0, lease=12.0)
