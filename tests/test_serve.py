"""The real server process, as a user starts it: migrates an empty database and answers.

This is the Docker-free proof of the production setup: the same command the Dockerfile runs,
against SQLite and against the PostgreSQL server .ci/run starts.
"""

import contextlib
import http.server
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests import served
from tests.clock import iso
from tests.clocked import cli_command, clock_env
from tests.served import serving
from tests.webhooks.conftest import Receiver, wait_for

OPERATOR_KEY = "serve-test-operator-key-0123456789abcdef"


@pytest.fixture(scope="module")
def server(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """One served app per backend for the two tests below (a start takes 5-20 s): the one that
    registers an organisation expects it alone in the list, and the other writes nothing."""
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.new_url(),
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
    }
    with serving(env) as served:
        yield served.base


def test_served_app_migrates_on_start_and_registers_an_organisation(server):
    headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    created = httpx.post(
        f"{server}/v1/organizations",
        json={"name": "Gemeente Utrecht", "kind": "municipality"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.headers["api-version"]
    listed = httpx.get(f"{server}/v1/organizations", headers=headers).json()
    assert [o["name"] for o in listed["items"]] == ["Gemeente Utrecht"]


def test_served_app_refuses_requests_without_a_key(server):
    response = httpx.get(f"{server}/v1/cases")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_request_head_that_does_not_end_is_cut_off_instead_of_read(server):
    # A client that keeps sending one header must not fill the server's memory: the server
    # stops reading at its limit (app.cli.MAX_REQUEST_HEAD_BYTES), answers 400 and closes.
    address = urlsplit(server)
    sent, answer = 0, b""
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sock.sendall(f"GET /v1/cases HTTP/1.1\r\nHost: {address.netloc}\r\nX-Filler: ".encode())
        with contextlib.suppress(OSError):  # the server closed the connection: sending stops
            while sent < 10 * 2**20:
                sock.sendall(b"a" * 16384)
                sent += 16384
            sock.sendall(b"\r\n\r\n")
        with contextlib.suppress(OSError):
            answer = sock.recv(1024)
    assert sent < 2 * 2**20, f"the server read {sent} bytes of one header"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer
    assert httpx.get(f"{server}/health/live").status_code == 200


SECRET = "ust_" + "NotForTheLog0123456789" * 2


def _websocket_handshake(base: str, target: str, key: str) -> bytes:
    """The first bytes the server answers a WebSocket handshake on `target` carrying `key` with
    (the app has no WebSocket route, so uvicorn refuses it and logs the target, and at debug
    level the websockets library logs every header)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nAuthorization: Bearer {key}\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        return sock.recv(1024)


def test_the_server_log_keeps_query_keys_but_never_their_values(tmp_path):
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
    }
    # At uvicorn's most talkative level, which also prints every request's scope.
    with serving(env, log_level="trace") as served:
        base = served.base
        # A key in the query is refused (no key in the header: 401; with one, an unknown query
        # key), yet uvicorn logs the target.
        refused = httpx.get(f"{base}/v1/cases?apiKey={SECRET}&limit=5")
        assert refused.status_code == 401
        assert httpx.get(f"{base}/v1/cases?{SECRET}").status_code == 401
        assert httpx.get(f"{base}/v1/organizations?token={OPERATOR_KEY}").status_code == 401
        # A page sends the whole target, query included, on to the sign-in page.
        page = httpx.get(f"{base}/dossiers?sleutel={SECRET}", follow_redirects=True)
        assert page.status_code == 200 and "volgende=" in str(page.url)
        assert _websocket_handshake(base, f"/v1/cases?access_token={SECRET}", SECRET).startswith(
            b"HTTP/1.1 403"
        )
        output = served.output()
    assert SECRET not in output and OPERATOR_KEY not in output, output
    assert "NotForTheLog" not in output, output
    assert '"GET /v1/cases?apiKey=***&limit=*** HTTP/1.1" 401' in output, output
    assert '"GET /v1/cases?*** HTTP/1.1" 401' in output, output
    assert '"GET /aanmelden?volgende=*** HTTP/1.1" 200' in output, output
    assert '"WebSocket /v1/cases?access_token=***" 403' in output, output
    assert "'query_string': b'apiKey=***&limit=***'" in output, output
    assert "< GET /v1/cases?access_token=*** HTTP/1.1" in output, output
    assert "< authorization: ***" in output.lower(), output


def _demo_key(output: str, organisation: str) -> str:
    for line in output.splitlines():
        if organisation in line and line.split()[-1].startswith("ust_"):
            return line.split()[-1]
    raise AssertionError(f"no key for {organisation} in:\n{output}")


def test_the_demo_delivers_webhooks_to_a_receiver_on_the_same_machine(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "UITSTROOM_WEBHOOK_ALLOW_PRIVATE_TARGETS"}
    env |= {
        "UITSTROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "UITSTROOM_WEBHOOK_WORKER": "true",
        "UITSTROOM_WEBHOOK_POLL_SECONDS": "0.1",
        "UITSTROOM_MIGRATE_ON_START": "true",
    }
    env.pop("UITSTROOM_ADMIN_KEY", None)
    receiver = Receiver().start()
    try:
        with serving(env, "--demo") as served:
            # The demo printed its keys before it started serving.
            base, output = served.base, served.output()
            assert "Serving on" in output
            assert "Demo: webhooks may go to loopback" in output
            chair = {"Authorization": f"Bearer {_demo_key(output, 'Gemeente Amersfoort')}"}
            me = httpx.get(f"{base}/v1/me", headers=chair).json()
            [table] = httpx.get(f"{base}/v1/tables", headers=chair).json()["items"]
            registered = httpx.post(
                f"{base}/v1/webhooks",
                json={"url": receiver.url, "events": ["action.assigned"]},
                headers=chair,
            )
            assert registered.status_code == 201, registered.text
            action = httpx.post(
                f"{base}/v1/tables/{table['id']}/actions",
                json={
                    "kind": "request_beschikking",
                    "owner_organisation_id": me["organisation"]["id"],
                    "due_date": iso(7),
                },
                headers=chair,
            )
            assert action.status_code == 201, action.text
            wait_for(lambda: len(receiver.received()) == 1, what="the webhook")
            [delivery] = receiver.received()
            assert delivery.status == 200
            assert b"action.assigned" in delivery.body
    finally:
        receiver.stop()


def test_serve_refuses_several_workers_on_sqlite_before_it_starts(tmp_path):
    env = {**os.environ, "UITSTROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}
    finished = subprocess.run(
        cli_command("serve", "--workers", "2", "--port", "0"),
        env=clock_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    assert "several server processes need PostgreSQL" in finished.stderr
    assert not (tmp_path / "one.db").exists()


class _Squatter(http.server.BaseHTTPRequestHandler):
    """Another process's server on the port ours was given: it answers everything with 200."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_a_server_whose_port_another_took_first_serves_on_another(tmp_path, monkeypatch):
    squatter = http.server.HTTPServer(("127.0.0.1", 0), _Squatter)
    threading.Thread(target=squatter.serve_forever, daemon=True).start()
    taken = squatter.server_address[1]
    ports = iter([taken, served.free_port()])
    monkeypatch.setattr(served, "free_port", lambda: next(ports))
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
    }
    try:
        with serving(env) as server:
            assert urlsplit(server.base).port != taken
            listed = httpx.get(
                f"{server.base}/v1/organizations",
                headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
            )
            assert listed.status_code == 200 and listed.json()["items"] == []
    finally:
        squatter.shutdown()
        squatter.server_close()


def test_a_server_without_an_operator_key_says_the_operator_api_is_off(tmp_path):
    """Without `UITSTROOM_ADMIN_KEY` (and without `--demo`, which makes one) nobody can create
    organisations, tables or keys over HTTP; a newcomer following the walk-through got 401s and
    did not learn why. The server says so when it starts."""
    env = {k: v for k, v in os.environ.items() if k != "UITSTROOM_ADMIN_KEY"}
    env |= {
        "UITSTROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'no-operator.db'}",
        "UITSTROOM_MIGRATE_ON_START": "true",
    }
    with serving(env) as served:
        refused = httpx.get(
            f"{served.base}/v1/organizations", headers={"Authorization": "Bearer x"}
        )
        output = served.output()
    assert refused.status_code == 401
    assert "UITSTROOM_ADMIN_KEY is not set: the operator API is off" in output, output
