"""A request waits for its slot (SQLite's write lock, one of PostgreSQL's pooled connections)
outside the thread pool the routes run in.

Waiting inside it (as a sync dependency, or a connection checkout, would) let the requests
waiting for a slot take every thread of the pool while the requests holding the slots waited for
one to run their routes: with more concurrent requests than threads the server stopped
answering. Here the pool has 4 threads, PostgreSQL 3 connections, and 12 requests arrive at
once; each must be answered.
"""

import asyncio
import logging
import threading

import anyio
import httpx
import pytest

from app import database
from app.agenda import service as agenda_service
from app.main import create_app
from tests.conftest import OPERATOR, case_body

pytestmark = pytest.mark.usefixtures("no_deadlocks")

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


async def _table(client: httpx.AsyncClient) -> tuple[str, dict[str, str], dict[str, str]]:
    """A table of a municipality (its chair) and one care provider: the table's id, the chair's
    headers and the care provider's."""
    chair, chair_headers = await _organisation(client, "municipality")
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
    return table.json()["id"], chair_headers, headers


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
        table_id, _, headers = await _table(client)
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


async def _creation_while_an_agenda_computes(
    app, computing: threading.Event, go_on: threading.Event
):  # type: ignore[no-untyped-def]
    """The chair asks for the agenda, whose computation waits for `go_on`; meanwhile the care
    provider creates a case. The creation's status, answered before the agenda goes on."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        table_id, chair_headers, headers = await _table(client)
        agenda = asyncio.ensure_future(
            client.get(f"/v1/tables/{table_id}/agenda", headers=chair_headers)
        )
        try:
            assert await asyncio.to_thread(computing.wait, GIVE_UP_SECONDS)
            created = await asyncio.wait_for(
                client.post("/v1/cases", json=case_body(table_id), headers=headers),
                GIVE_UP_SECONDS,
            )
        finally:
            go_on.set()
        assert (await agenda).status_code == 200
    return created.status_code


def test_a_request_computing_outside_its_transaction_lets_the_next_request_in(
    databases, settings, monkeypatch
):
    # One slot (PostgreSQL) or SQLite's one lock: the agenda's computation gives it back, so a
    # long agenda or monitor answer does not hold up the requests behind it.
    computing, go_on = threading.Event(), threading.Event()
    compute = agenda_service.compute_loaded

    def slow_compute(*args, **kwargs):  # type: ignore[no-untyped-def]
        computing.set()
        go_on.wait(GIVE_UP_SECONDS)
        return compute(*args, **kwargs)

    monkeypatch.setattr(agenda_service, "compute_loaded", slow_compute)
    update = {"database_url": databases.migrated_url(), "request_slots": 1}
    app = create_app(settings.model_copy(update=update))
    try:
        created = asyncio.run(_creation_while_an_agenda_computes(app, computing, go_on))
        assert created == 201
    finally:
        go_on.set()
        app.state.engine.dispose()


FORM = "application/x-www-form-urlencoded"


def _post_scope(
    path: str, content_type: str, length: int, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> dict[str, object]:
    """The ASGI scope of a POST to `path` announcing a body of `length` bytes."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(length).encode()),
            *headers,
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }


async def _sign_in_page_while_a_form_arrives(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A sign-in form whose sender stops halfway (its body arrives when `arrived` is set) and,
    meanwhile, the sign-in page asked for by someone else: the page's status, answered while
    the form still arrives, and then the form's."""
    halfway, arrived = asyncio.Event(), asyncio.Event()
    chunks = [b"email=a%40b.nl&", b"wachtwoord=geen"]

    async def receive():  # type: ignore[no-untyped-def]
        if len(chunks) == 1:
            halfway.set()
            await arrived.wait()
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    form: list[int] = []

    async def send(message):  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            form.append(message["status"])

    scope = _post_scope("/aanmelden", FORM, sum(map(len, chunks)))
    sending = asyncio.ensure_future(app(scope, receive, send))
    transport = httpx.ASGITransport(app=app)
    try:
        await asyncio.wait_for(halfway.wait(), GIVE_UP_SECONDS)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            page = await asyncio.wait_for(client.get("/aanmelden"), GIVE_UP_SECONDS)
    finally:
        arrived.set()
        await sending
    return page.status_code, form[0]


def test_a_form_that_arrives_slowly_holds_no_slot_while_it_arrives(databases, settings):
    # The sign-in form is read after its request took its slot (SQLite's one write lock; here
    # PostgreSQL's one slot too): a sender who stopped halfway kept every other request out for
    # as long as the connection stayed open, the sign-in page itself included.
    update = {"database_url": databases.migrated_url(), "request_slots": 1}
    app = create_app(settings.model_copy(update=update))
    try:
        assert asyncio.run(_sign_in_page_while_a_form_arrives(app)) == (
            200,
            403,
        )  # the form: no sign-in token
    finally:
        app.state.engine.dispose()


async def _sent_halfway(app, path: str, content_type: str, headers=()) -> list[dict]:  # type: ignore[no-untyped-def]
    """The messages the app sends for a POST to `path` whose client goes away halfway through
    its body (ASGI `http.disconnect`)."""
    messages = [
        {"type": "http.request", "body": b"email=a%40b.nl&", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():  # type: ignore[no-untyped-def]
        return messages.pop(0) if len(messages) > 1 else messages[0]

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    await app(_post_scope(path, content_type, 40, headers), receive, send)
    return sent


@pytest.mark.parametrize(
    ("path", "content_type", "headers"),
    [
        ("/aanmelden", FORM, ()),
        ("/v1/cases", "application/json", ((b"authorization", b"Bearer nobody"),)),
    ],
)
def test_a_client_that_goes_away_halfway_through_its_body_is_no_server_error(
    databases, settings, caplog, path, content_type, headers
):
    # Anyone could fill the error log with tracebacks ('unhandled error on page POST ...',
    # starlette's ClientDisconnect) by opening a POST and closing it halfway: nothing failed
    # on the server's side, and there is no one left to answer.
    app = create_app(settings.model_copy(update={"database_url": databases.migrated_url()}))
    try:
        with caplog.at_level(logging.INFO):
            sent = asyncio.run(_sent_halfway(app, path, content_type, headers))
    finally:
        app.state.engine.dispose()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert 500 not in [m.get("status") for m in sent]
