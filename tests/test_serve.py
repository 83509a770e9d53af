"""The real server process, as a user starts it: migrates an empty database and answers.

This is the Docker-free proof of the production setup: the same command the Dockerfile runs,
against SQLite and against the PostgreSQL server .ci/run starts.
"""

import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest

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
