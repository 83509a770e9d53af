"""A request waits for the SQLite write lock outside the thread pool the routes run in.

Waiting inside it (as a sync dependency would) let the requests waiting for the lock take every
thread of the pool while the request holding the lock waited for one to run its route: with more
concurrent requests than threads the server stopped answering for good. Here the pool has 4
threads and 12 requests arrive at once; each must be answered.
"""

import asyncio

import anyio
import httpx
import pytest

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
            asyncio.gather(
                *(
                    client.post("/v1/cases", json=case_body(table_id), headers=headers)
                    for _ in range(REQUESTS)
                )
            ),
            GIVE_UP_SECONDS,
        )
    return [answer.status_code for answer in answers]


def test_more_concurrent_requests_than_threads_are_all_answered(live_app, databases):
    if databases.backend != "sqlite":
        pytest.skip("PostgreSQL has no process write lock")
    assert asyncio.run(_creations(live_app)) == [201] * REQUESTS
