"""A request waits for its slot (SQLite's write lock, one of PostgreSQL's pooled connections)
outside the thread pool the routes run in.

Waiting inside it (as a sync dependency, or a connection checkout, would) let the requests
waiting for a slot take every thread of the pool while the requests holding the slots waited for
one to run their routes: with more concurrent requests than threads the server stopped
answering. Here the pool has 4 threads, PostgreSQL 3 connections, and 12 requests arrive at
once; each must be answered.
"""

import asyncio
import threading

import anyio
import httpx

from app import database
from app.main import create_app
from tests.conftest import OPERATOR, case_body

THREADS = 4
REQUESTS = 3 * THREADS
GIVE_UP_SECONDS = 120  # a safety net against a hang, not a speed requirement


async def _organisation(client: httpx.AsyncClient, kind: str) -> tuple[str, dict[str, str]]:
    created = await client.post(
        "/v1/organizations", json={"name": f"{kind} A", "kind": kind}, headers=OPERATOR
    )
    org_id = created.json()["id"]
    key = await client.post(
        f"/v1/organizations/{org_id}/api-keys", json={"label": "t"}, headers=OPERATOR
    )
    return org_id, {"Authorization": f"Bearer {key.json()['key']}"}


async def _creations(app) -> list[int]:  # type: ignore[no-untyped-def]
    async def create(client, table_id, headers):  # type: ignore[no-untyped-def]
        return await client.post("/v1/cases", json=case_body(table_id), headers=headers)

    return await _at_once(app, create)


async def _monitor_reads(app) -> list[int]:  # type: ignore[no-untyped-def]
    # A care provider's figures are protected outside the transaction (`outside_transaction`),
    # and each request takes SQLite's lock back from a thread of the pool.
    async def read(client, table_id, headers):  # type: ignore[no-untyped-def]
        path = f"/v1/tables/{table_id}/monitor"
        return await client.get(path, params={"groupBy": "care_provider"}, headers=headers)

    return await _at_once(app, read)


async def _at_once(app, request) -> list[int]:  # type: ignore[no-untyped-def]
    """REQUESTS of `request(client, table_id, care provider's headers)` at once, on a pool of
    THREADS threads; their statuses."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS  # this loop's pool
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        chair, _ = await _organisation(client, "municipality")
        provider, headers = await _organisation(client, "care_provider")
        table = await client.post(
            "/v1/tables",
            json={
                "name": "Tafel",
                "municipality_codes": ["GM0344"],
                "chair_organisation_id": chair,
                "member_organisation_ids": [provider],
            },
            headers=OPERATOR,
        )
        table_id = table.json()["id"]
        answers = await asyncio.wait_for(
            asyncio.gather(*(request(client, table_id, headers) for _ in range(REQUESTS))),
            GIVE_UP_SECONDS,
        )
    return [answer.status_code for answer in answers]


def test_more_concurrent_requests_than_threads_and_connections_are_all_answered(
    databases, settings, monkeypatch
):
    monkeypatch.setattr(database, "POOL_SIZE", 2)
    monkeypatch.setattr(database, "POOL_OVERFLOW", 1)
    app = create_app(settings.model_copy(update={"database_url": databases.migrated_url()}))
    try:
        assert asyncio.run(_creations(app)) == [201] * REQUESTS
    finally:
        app.state.engine.dispose()


def test_more_concurrent_requests_computing_outside_the_lock_than_threads_are_all_answered(
    databases, settings, monkeypatch
):
    # With every thread of the pool waiting to take SQLite's lock back, the request holding it
    # found none to run in: the server stopped answering for good (44 monitor requests on 40
    # threads). At most OUTSIDE_MOST requests compute outside the lock; here 2 of 4 threads.
    monkeypatch.setattr(database, "_outside", threading.BoundedSemaphore(THREADS - 2))
    app = create_app(settings.model_copy(update={"database_url": databases.migrated_url()}))
    try:
        assert asyncio.run(_monitor_reads(app)) == [200] * REQUESTS
    finally:
        app.state.engine.dispose()
