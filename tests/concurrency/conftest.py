"""Two real `uitstroomtafel serve` processes on one PostgreSQL database, as an operator runs
replicas, and clients that retry as the README tells them to.

Needs a PostgreSQL server (UITSTROOM_TEST_POSTGRESQL_URL); without one these tests are skipped
with that reason (or fail, under UITSTROOM_REQUIRE_POSTGRESQL=1). Every module marks itself
`xdist_group("two_servers")`, so they run on one xdist worker, which starts the two servers
once for the whole package.

No module may make PostgreSQL break a deadlock in the servers' database: the transient layer
runs the loser again (logged at info only), so the answers stay right, a second late, and
nothing a client or the warning-level log sees tells it. `cluster` counts them
(`pg_stat_database.deadlocks`, `deadlocks`, tests/deadlocks.py) around each module that uses it,
as `no_deadlocks` (tests/conftest.py) does for the modules that race in one test process.
"""

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.clock import TODAY, iso
from tests.conftest import (
    ADMIN_KEY,
    PG,
    PG_REQUIRED,
    DatabaseFactory,
    Org,
    case_body,
    vacancy_body,
)
from tests.deadlocks import STATS_MIN_INTERVAL, check
from tests.deadlocks import deadlocks as counted_deadlocks
from tests.served import Server, serving
from tests.webhooks.conftest import Receiver

MAX_TRIES = 8
RETRY_AFTER_CAP = 1.0  # seconds: a test client waits as told, but never longer than this


@dataclass
class Exchange:
    """One HTTP exchange a client made (every try, retried or not)."""

    method: str
    path: str
    status: int | None  # None: the connection failed
    code: str | None = None


@dataclass
class Journal:
    """Everything the clients saw, shared by their threads."""

    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def failures(self) -> list[Exchange]:
        """Server errors and broken connections: what a client must never see."""
        with self._lock:
            return [e for e in self.exchanges if e.status is None or e.status >= 500]


class Client:
    """One API client with its own keep-alive connection to one server. Retries a 503, and a
    409 that carries `Retry-After` (a key in progress, a concurrent insert), after the time
    the server asks for."""

    def __init__(self, base: str, org: Org | None, journal: Journal):
        headers = org.headers if org else {"Authorization": f"Bearer {ADMIN_KEY}"}
        self.http = httpx.Client(base_url=base, headers=headers, timeout=120)
        self.journal = journal

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(MAX_TRIES):
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError:
                self.journal.add(Exchange(method, path, None))
                continue
            code = None
            if response.headers.get("content-type", "").startswith("application/problem+json"):
                code = response.json().get("code")
            self.journal.add(Exchange(method, path, response.status_code, code))
            retry_after = response.headers.get("Retry-After")
            if response.status_code == 503 or (response.status_code == 409 and retry_after):
                time.sleep(min(float(retry_after or 1), RETRY_AFTER_CAP))
                continue
            return response
        raise AssertionError(f"{method} {path}: no answer after {MAX_TRIES} tries")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.http.close()


@dataclass
class Cluster:
    """The two servers, their database, and a webhook receiver per organisation that asks."""

    bases: list[str]
    engine: Engine
    servers: list[Server]
    journal: Journal = field(default_factory=Journal)
    deadlocks_counted: int | None = None  # `deadlocks` at the end of the last module

    def client(self, org: Org | None, server: int) -> Client:
        """A client of `org` (None: the operator) talking to server `server % 2`."""
        return Client(self.bases[server % len(self.bases)], org, self.journal)

    def server_log(self) -> str:
        """What the servers logged, while their logs are there (a failure in the package's last
        teardown is reported once the servers and their logs are gone)."""
        try:
            return "\n".join(
                f"[{i}] {line}"
                for i, server in enumerate(self.servers)
                for line in server.output().splitlines()
            )
        except FileNotFoundError:
            return "(the servers are stopped, their logs gone)"


def need_postgresql(what: str) -> None:
    """Skip the test without a PostgreSQL server (UITSTROOM_TEST_POSTGRESQL_URL), saying that
    `what` needs one; fail instead under UITSTROOM_REQUIRE_POSTGRESQL=1 (CI), so these tests
    can never be skipped there unnoticed."""
    if PG.url:
        return
    if PG_REQUIRED:
        pytest.fail(f"UITSTROOM_REQUIRE_POSTGRESQL=1 but no PostgreSQL: {PG.skip_reason}")
    pytest.skip(f"{what} need PostgreSQL: {PG.skip_reason}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test shows what the two servers logged (warnings and errors: reruns, 503s,
    tracebacks), which is where the cause of a client-side failure usually is."""
    report = yield
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if report.failed and isinstance(cluster, Cluster):
        report.sections.append(("two servers' log", cluster.server_log() or "(nothing logged)"))
    return report


def deadlocks(cluster: Cluster) -> int:
    """The deadlocks PostgreSQL broke in the servers' database so far, every one counted
    (tests/deadlocks.py): a deadlock is counted by the backend that lost it, which the
    transient layer rolled back and gave back to the pool, so one short transaction on each
    pooled connection of each server, a quiet second after its last one (`STATS_MIN_INTERVAL`:
    a request cannot ask for the flush), has each backend report what it still holds. A pool
    hands out its longest idle connection first: as many readiness probes as the database has
    backends besides ours reach each one."""

    def probe_every_backend() -> None:
        time.sleep(STATS_MIN_INTERVAL + 0.1)
        with cluster.engine.connect() as connection:
            backends = connection.execute(text(OTHER_BACKENDS)).scalar_one()

        def probe(base: str) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                for _ in range(backends + 1):
                    assert http.get("/health/ready").status_code == 200

        at_once([lambda base=base: probe(base) for base in cluster.bases])

    database = [cluster.engine.url.database or ""]
    return sum(counted_deadlocks(cluster.engine, database, probe_every_backend).values())


OTHER_BACKENDS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.fixture(scope="module")
def cluster(servers: Cluster, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The two servers (`servers`), for the tests of one module, which must not make PostgreSQL
    break a deadlock between the servers' transactions: checked once, after the module's last
    test (a module's deadlocks are its rounds' races, so that test does not name the round)."""
    # Nothing reaches the servers between two modules: the last module's count is this one's start.
    before = servers.deadlocks_counted
    if before is None:
        before = deadlocks(servers)
    yield servers
    servers.deadlocks_counted = deadlocks(servers)
    broken = servers.deadlocks_counted - before
    module = request.module.__name__.rsplit(".", 1)[-1]
    check(broken, module, "the two servers' transactions in this module")


@pytest.fixture(scope="package")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need_postgresql("two server processes")
    databases = DatabaseFactory("postgresql", tmp_path_factory.mktemp("two_servers"))
    url = databases.migrated_url()
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": url,
        "UITSTROOM_ADMIN_KEY": ADMIN_KEY,
        "UITSTROOM_MIGRATE_ON_START": "false",
        "UITSTROOM_WEBHOOK_WORKER": "true",
        "UITSTROOM_WEBHOOK_POLL_SECONDS": "0.1",
        "UITSTROOM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "UITSTROOM_RETENTION_JOB": "false",
        "UITSTROOM_STALL_SWEEP": "false",
    }
    engine = create_engine(url)
    try:
        with ExitStack() as servers:
            running = [servers.enter_context(serving(env, log_level="warning")) for _ in range(2)]
            yield Cluster([server.base for server in running], engine, running)
    finally:
        engine.dispose()
        databases.drop_all()


# --- setting up a table over HTTP ------------------------------------------------------------


@dataclass
class Table:
    id: str
    chair: Org
    care_provider: Org
    corporation: Org


def new_org(cluster: Cluster, kind: str) -> Org:
    operator = cluster.client(None, 0)
    name = f"{kind} {uuid.uuid4().hex[:8]}"
    created = operator.post("/v1/organizations", json={"name": name, "kind": kind})
    assert created.status_code == 201, created.text
    org_id = created.json()["id"]
    key = operator.post(f"/v1/organizations/{org_id}/api-keys", json={"label": "concurrency"})
    assert key.status_code == 201, key.text
    operator.close()
    return Org(org_id, name, kind, key.json()["key"])


def new_table(cluster: Cluster, code: str, seated: Table | None = None) -> Table:
    """A table for one municipality `code` with a chair, a care provider and a corporation;
    with `seated`, the same organisations as that table at a table of their own."""
    if seated is None:
        chair = new_org(cluster, "municipality")
        provider = new_org(cluster, "care_provider")
        corporation = new_org(cluster, "housing_corporation")
    else:
        chair, provider, corporation = seated.chair, seated.care_provider, seated.corporation
    operator = cluster.client(None, 1)
    created = operator.post(
        "/v1/tables",
        json={
            "name": f"Table {uuid.uuid4().hex[:8]}",
            "municipality_codes": [code],
            "chair_organisation_id": chair.id,
            "member_organisation_ids": [provider.id, corporation.id],
        },
    )
    assert created.status_code == 201, created.text
    operator.close()
    return Table(created.json()["id"], chair, provider, corporation)


def case_file(table_id: str, **overrides: Any) -> dict[str, Any]:
    """A ready single adult's case file (tests/conftest.py's), every date relative to TODAY."""
    dated = {
        "ready_since": iso(-200),
        "birth_year": TODAY.year - 35,
        "registration_date": iso(-1500),
        "beschikking": {"status": "granted", "valid_until": iso(400)},
        "areas": {"preferred": [], "excluded": []},
    }
    return case_body(table_id, **{**dated, **overrides})


def dwelling(code: str, **overrides: Any) -> dict[str, Any]:
    """A vacant apartment in municipality `code` (tests/conftest.py's), on offer from next
    week, in a complex of its own."""
    dated = {
        "available_from": iso(7),
        "respond_before": iso(3),
        "complex_ref": f"CPX-{uuid.uuid4().hex[:6]}",
    }
    return vacancy_body(code, **{**dated, **overrides})


def at_once(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Run every task in its own thread, released together; their results in order (an
    exception is returned, not raised, so one failure does not hide the others)."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)

    def run(index: int, task: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = task()
        except Exception as exc:  # reported by the caller
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


@pytest.fixture
def receivers() -> Iterator[Callable[[], Receiver]]:
    """Loopback webhook receivers, stopped after the test."""
    started: list[Receiver] = []

    def start() -> Receiver:
        receiver = Receiver().start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
