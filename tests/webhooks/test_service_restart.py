"""The worker as the service runs it: started and stopped by the app, across a real restart.

The restart test runs the real `uitstroomtafel serve` process twice on one database, as a
deployment does, and emits events from the test process (another writer, as a request would be).
"""

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.served import serving
from tests.webhooks.conftest import wait_for

OPERATOR_KEY = "webhook-restart-operator-key-0123456789ab"


def test_the_app_runs_the_worker_in_its_lifespan(outbox, receiver):
    settings = Settings(
        database_url=outbox.url,
        webhook_worker=True,
        webhook_poll_seconds=0.1,
        webhook_allow_private_targets=True,
    )
    with TestClient(create_app(settings)) as client:
        assert any(t.name == "webhook-worker" for t in threading.enumerate())
        endpoint = outbox.endpoint(receiver.url)
        event_id = str(outbox.emit(endpoint.organisation_id))
        wait_for(lambda: receiver.accepted() == Counter({event_id: 1}), what="delivery")
        assert client.get("/openapi.json").status_code == 200
    assert not any(t.name == "webhook-worker" for t in threading.enumerate())


@contextmanager
def served(database_url: str) -> Iterator[str]:
    """`uitstroomtafel serve` with the delivery worker on, over the given database."""
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": database_url,
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
        "UITSTROOM_WEBHOOK_WORKER": "true",
        "UITSTROOM_WEBHOOK_POLL_SECONDS": "0.1",
        "UITSTROOM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    with serving(env) as served:
        yield served.base


def test_events_survive_a_service_restart_and_arrive_exactly_once(outbox, receiver):
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    with served(outbox.url) as base:
        org = httpx.post(
            f"{base}/v1/organizations",
            json={"name": "Gemeente Utrecht", "kind": "municipality"},
            headers=operator,
        ).json()
        key = httpx.post(
            f"{base}/v1/organizations/{org['id']}/api-keys",
            json={"label": "hooks"},
            headers=operator,
        ).json()["key"]
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(
            f"{base}/v1/webhooks",
            json={"url": receiver.url, "events": ["agenda.published"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        receiver.secret = endpoint["secret"]
        before = str(outbox.emit(uuid.UUID(org["id"])))
        wait_for(lambda: receiver.accepted()[before] == 1, what="delivery before the restart")

    # The service is down; changes that emit events are committed meanwhile.
    during = [str(outbox.emit(uuid.UUID(org["id"]))) for _ in range(3)]

    with served(outbox.url) as base:
        wait_for(lambda: len(receiver.accepted()) == 4, what="delivery after the restart")
        log = httpx.get(f"{base}/v1/webhooks/{endpoint['id']}/deliveries", headers=headers).json()

    # The receiver refuses bad signatures with 401, so `accepted` holds only verified requests.
    assert receiver.accepted() == Counter(dict.fromkeys([before, *during], 1))
    assert len(receiver.received()) == 4
    assert [(e["event_id"], e["status"], e["attempts"]) for e in log["items"]] == [
        (event_id, "delivered", 1) for event_id in [before, *during]
    ]
