"""The real server process, as a user starts it: migrates an empty database and answers.

This is the Docker-free proof of the production setup: the same command the Dockerfile runs,
against SQLite and against the PostgreSQL server .ci/run starts.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

OPERATOR_KEY = "serve-test-operator-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.new_url(),
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"server exited early:\n{output}")
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not answer within 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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
