"""Database failures that are not the request's fault: a lost race runs again, what still fails
is a 409 or 503 with Retry-After, an unreachable database a 503, and no error drops the client's
keep-alive connection without saying so."""

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from app.database import CommitInterrupted, build_engine, open_session
from app.db import LostRace
from app.main import create_app
from app.settings import Settings
from app.transient import Failure, classify
from tests.conftest import OPERATOR
from tests.deadlocks import lose_a_deadlock
from tests.served import free_port

# --- what counts as which failure, from real driver errors ----------------------------------


def test_a_postgresql_deadlock_is_a_lost_race(databases):
    if databases.backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no deadlock to lose")
    engine = create_engine(databases.new_url())
    errors = lose_a_deadlock(engine)
    engine.dispose()
    assert len(errors) == 1  # PostgreSQL picks one victim
    assert classify(errors[0]) is Failure.contention


def test_a_postgresql_lock_timeout_is_a_lost_race(databases):
    if databases.backend != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout")
    engine = create_engine(databases.new_url())
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE one (id int primary key)"))
        setup.execute(text("INSERT INTO one VALUES (1)"))
    with engine.connect() as holder, engine.connect() as waiter:
        holder.begin()
        holder.execute(text("SELECT * FROM one FOR UPDATE"))
        waiter.begin()
        waiter.execute(text("SET LOCAL lock_timeout = '50ms'"))
        with pytest.raises(OperationalError) as raised:
            waiter.execute(text("SELECT * FROM one FOR UPDATE"))
    engine.dispose()
    assert classify(raised.value) is Failure.contention


def test_a_unique_key_stored_first_by_another_request_is_a_duplicate(databases):
    engine = create_engine(databases.new_url())
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE refs (ref varchar(10) primary key)"))
        setup.execute(text("INSERT INTO refs VALUES ('A')"))
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        connection.execute(text("INSERT INTO refs VALUES ('A')"))
    engine.dispose()
    assert classify(raised.value) is Failure.duplicate


def test_a_postgresql_server_that_refuses_connections_is_unavailable():
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(OperationalError) as raised, engine.connect():
        pass
    assert classify(raised.value) is Failure.unavailable


def test_a_sqlite_database_locked_past_the_busy_timeout_is_busy(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (n int)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with pytest.raises(OperationalError) as raised, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    holder.close()
    engine.dispose()
    assert classify(raised.value) is Failure.busy


def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    with pytest.raises(OperationalError) as raised, engine.connect():
        pass
    assert classify(raised.value) is Failure.unavailable


def _close_every_connection(url: str) -> None:
    """What a database restart does to a server's pooled connections: each is closed by the
    server (waiting until each backend has ended)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    admin.dispose()


def test_a_pooled_connection_the_server_closed_is_a_lost_connection(databases):
    if databases.backend != "postgresql":
        pytest.skip("SQLite has no server to close a connection")
    url = databases.new_url()
    engine = build_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    _close_every_connection(url)
    with pytest.raises(OperationalError) as raised, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    assert raised.value.connection_invalidated
    assert classify(raised.value) is Failure.disconnected


def test_a_connection_lost_during_commit_is_interrupted_and_never_run_again(databases):
    if databases.backend != "postgresql":
        pytest.skip("SQLite has no server to close a connection")
    url = databases.new_url()
    engine = build_engine(url)
    session = open_session(engine, None)
    session.execute(text("CREATE TABLE IF NOT EXISTS kept (n int)"))
    session.execute(text("INSERT INTO kept VALUES (1)"))

    @event.listens_for(engine, "commit")
    def _server_goes_away(connection) -> None:  # type: ignore[no-untyped-def]
        _close_every_connection(url)  # right before COMMIT is sent

    with pytest.raises(CommitInterrupted) as raised:
        session.commit()
    session.close()
    engine.dispose()
    assert classify(raised.value) is Failure.interrupted


def test_a_row_that_appeared_meanwhile_is_a_lost_race():
    assert classify(LostRace("a new reference was inserted concurrently")) is Failure.contention


def test_an_ordinary_error_is_no_database_failure():
    assert classify(ValueError("bug")) is None


# --- the rerun, through the application -----------------------------------------------------


def _deadlock() -> OperationalError:
    return OperationalError("UPDATE x", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def _duplicate() -> IntegrityError:
    return IntegrityError("INSERT x", {}, psycopg.errors.UniqueViolation("duplicate key"))


def _refused() -> OperationalError:
    return OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


def _closed() -> OperationalError:
    """A pooled connection the server had closed, as SQLAlchemy raises it."""
    error = OperationalError(
        "SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly")
    )
    error.connection_invalidated = True
    return error


@dataclass
class Flaky:
    """A route that fails with `error` for its first `failures` runs."""

    error: Exception | None
    failures: int
    runs: int = 0


@pytest.fixture
def flaky(settings) -> Iterator[tuple[TestClient, Flaky]]:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    state = Flaky(None, 0)

    @app.post("/v1/test/flaky")
    async def run(request: Request) -> dict:
        state.runs += 1
        body = await request.json()
        if state.error is not None and state.runs <= state.failures:
            raise state.error
        return {"echo": body, "runs": state.runs}

    with TestClient(app) as client:
        yield client, state


def test_a_request_that_lost_a_race_runs_again_with_its_body(flaky):
    client, state = flaky
    state.error, state.failures = _deadlock(), 2
    response = client.post("/v1/test/flaky", json={"items": [1, 2, 3]})
    assert response.status_code == 200
    assert response.json() == {"echo": {"items": [1, 2, 3]}, "runs": 3}


def test_a_request_that_keeps_losing_answers_503_busy_with_retry_after(flaky):
    client, state = flaky
    state.error, state.failures = _deadlock(), 100
    response = client.post("/v1/test/flaky", json={})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "database_busy"
    assert state.runs == Settings().db_retry_attempts


def test_a_key_another_request_keeps_inserting_first_answers_409_with_retry_after(flaky):
    client, state = flaky
    state.error, state.failures = _duplicate(), 100
    response = client.post("/v1/test/flaky", json={})
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "concurrent_conflict"


def test_a_database_that_refuses_connections_is_answered_503_at_once(flaky):
    # No new connection can be made: running again would only keep the client waiting.
    client, state = flaky
    state.error, state.failures = _refused(), 100
    response = client.post("/v1/test/flaky", json={})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "database_unavailable"
    assert state.runs == 1


def test_a_request_that_found_its_connection_closed_runs_again(flaky):
    client, state = flaky
    state.error, state.failures = _closed(), 1
    response = client.post("/v1/test/flaky", json={"n": 1})
    assert response.status_code == 200
    assert response.json() == {"echo": {"n": 1}, "runs": 2}


def test_a_connection_lost_during_commit_is_answered_503_and_not_run_again(flaky):
    # Saved or not is unknown: only the client may retry, and its Idempotency-Key makes that
    # safe.
    client, state = flaky
    state.error, state.failures = CommitInterrupted("lost during COMMIT"), 100
    response = client.post("/v1/test/flaky", json={})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "database_unavailable"
    assert "may or may not have been saved" in response.json()["detail"]
    assert state.runs == 1


def test_a_restarted_database_answers_the_next_request_on_new_connections(databases, settings):
    if databases.backend != "postgresql":
        pytest.skip("SQLite has no server to close a connection")
    url = databases.migrated_url()
    app = create_app(settings.model_copy(update={"database_url": url}))
    with TestClient(app, headers=OPERATOR) as client:
        for n in range(3):  # several pooled connections
            body = {"name": f"Gemeente {n}", "kind": "municipality"}
            assert client.post("/v1/organizations", json=body).status_code == 201
        _close_every_connection(url)
        after = client.post("/v1/organizations", json={"name": "Na", "kind": "municipality"})
        assert after.status_code == 201, after.text
        listed = client.get("/v1/organizations", params={"limit": 100}).json()["items"]
    assert [o["name"] for o in listed].count("Na") == 1


def test_an_unexpected_error_is_a_500_problem(flaky):
    client, state = flaky
    state.error, state.failures = RuntimeError("bug"), 1
    response = client.post("/v1/test/flaky", json={})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert state.runs == 1


# --- an unreachable database ------------------------------------------------------------------


@pytest.fixture
def no_database(tmp_path, settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app on a SQLite file in a directory that does not exist."""
    gone = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'gone' / 'x.db'}"})
    with TestClient(create_app(gone)) as client:
        yield client


def test_an_unreachable_database_answers_503_problem_with_retry_after(no_database):
    response = no_database.get("/v1/me", headers={"Authorization": f"Bearer ust_{'x' * 43}"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "database_unavailable"


def test_an_unreachable_database_shows_people_a_dutch_page(no_database):
    no_database.cookies.set("__Host-uitstroom_sessie", "x" * 43)
    response = no_database.get("/overzicht", follow_redirects=False)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "5"
    assert "Even niet beschikbaar" in response.text


# --- keep-alive connections survive error answers ---------------------------------------------


@contextmanager
def uvicorn_serving(app: FastAPI) -> Iterator[int]:
    """`app` behind a real uvicorn (as `serve` runs it) in a thread; yields the port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(30)


def exchange(
    sock: socket.socket, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    """One GET on an open keep-alive socket: (status, headers); the body is read and dropped.
    Raises ConnectionError when the server closed the connection instead of answering."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed without an answer")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    answer = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(answer.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of an answer")
        body += chunk
    return int(lines[0].split()[1]), answer


def closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_a_500_keeps_the_keep_alive_connection_for_the_next_request(settings):
    app = create_app(settings)

    @app.get("/v1/test/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with uvicorn_serving(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        status, headers = exchange(sock, "/v1/test/broken")
        assert status == 500
        assert headers.get("connection") != "close"
        status, _ = exchange(sock, "/openapi.json")  # the same connection answers again
        assert status == 200


def test_an_error_answer_that_ends_the_connection_says_so(settings):
    # An error in the outermost layer, past the app's own handling: the answer must announce
    # that the connection closes, and then it does.
    app = create_app(settings)

    @app.middleware("http")
    async def outermost(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.url.path == "/v1/test/outer":
            raise RuntimeError("a bug outside the routes")
        return await call_next(request)

    with uvicorn_serving(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        status, headers = exchange(sock, "/v1/test/outer")
        assert status == 500
        assert headers["connection"] == "close"
        assert closed(sock)
