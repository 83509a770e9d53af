"""Test harness: every database test runs on SQLite and on PostgreSQL.

The PostgreSQL half runs on the server in UITSTROOM_TEST_POSTGRESQL_URL if that is set, else on
a throwaway server the suite starts itself from the machine's PostgreSQL binaries
(tests/postgresql.py; one for all xdist workers, stopped at the end). Without either, those tests
are skipped, and the end of the run says so and why (UITSTROOM_REQUIRE_POSTGRESQL=1 makes that an
error instead).
Each backend gets one database migrated by Alembic; every test runs in a transaction that is
rolled back.
"""

import copy
import functools
import gc
import json
import os
import re
import sqlite3
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import time_machine
from argon2 import PasswordHasher

os.environ.setdefault("UITSTROOM_ADMIN_KEY", "test-operator-key-0123456789abcdefghij")
os.environ["UITSTROOM_MIGRATE_ON_START"] = "false"
# The delivery worker is started explicitly by the webhook tests that need it.
os.environ["UITSTROOM_WEBHOOK_WORKER"] = "false"
# Test receivers listen on loopback; the worker's own guard is set per test in its policy.
os.environ["UITSTROOM_WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
os.environ["UITSTROOM_RETENTION_JOB"] = "false"
# The stall sweep is started by the tests that switch it on (@pytest.mark.settings).
os.environ["UITSTROOM_STALL_SWEEP"] = "false"
# The mail worker runs only in the tests that start their own (tests/mail).
os.environ["UITSTROOM_MAIL_WORKER"] = "false"

from fastapi import FastAPI
from fastapi.dependencies import models as fastapi_dependency_models
from fastapi.dependencies import utils as fastapi_dependency_utils
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.agenda import engine_cache
from app.auth import HELD_KEY
from app.db import build_engine, get_session
from app.main import create_app
from app.migrate import upgrade_to_head
from app.openapi_examples import CASE_EXAMPLE, VACANCY_EXAMPLE
from app.people import security as password_security
from app.people.service import HELD_PAGE_SESSION
from app.settings import Settings, get_settings
from tests import postgresql
from tests.clock import START, TODAY, iso
from tests.deadlocks import check, deadlocks, this_process_reports
from tests.properties import PROFILE as HYPOTHESIS_PROFILE
from tests.xdist_groups import pytest_collection_modifyitems  # noqa: F401 (a hook)

ADMIN_KEY = os.environ["UITSTROOM_ADMIN_KEY"]
PRODUCTION_PASSWORD_HASHER = password_security._hasher
# CI sets this so that a missing PostgreSQL fails the run instead of skipping half of it.
PG_REQUIRED = os.environ.get("UITSTROOM_REQUIRE_POSTGRESQL") == "1"
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class PostgreSQLHalf:
    """Where this run's PostgreSQL tests go: `url`, or why they are skipped."""

    url: str | None = None
    source: str = ""
    skip_reason: str = ""
    server: postgresql.Server | None = None


PG = PostgreSQLHalf()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "settings(**changes): run the test's app with these settings changed"
    )
    given = getattr(config, "workerinput", {}).get("uitstroom_postgresql")
    if given is not None:  # an xdist worker: the controller decided
        PG.url, PG.skip_reason = given


@pytest.hookimpl(tryfirst=True)  # before xdist starts its workers
def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return
    given = os.environ.get("UITSTROOM_TEST_POSTGRESQL_URL")
    if given:
        PG.url, PG.source = given, "the server in UITSTROOM_TEST_POSTGRESQL_URL"
        return
    try:
        PG.server = postgresql.start()
    except postgresql.Unavailable as unavailable:
        PG.skip_reason = str(unavailable)
        if PG_REQUIRED:
            raise pytest.UsageError(
                f"UITSTROOM_REQUIRE_POSTGRESQL=1, but {PG.skip_reason}"
            ) from unavailable
        return
    PG.url = PG.server.url
    PG.source = (
        f"a throwaway server the suite started ({PG.server.version()}, "
        f"port {PG.server.port}, stopped at the end)"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Once every test module (and so the app) is imported, move what exists into the garbage
    collector's permanent generation: those objects live until the end anyway, and each full
    collection would otherwise walk them all again."""
    gc.collect()
    gc.freeze()


def pytest_configure_node(node) -> None:  # type: ignore[no-untyped-def]
    """xdist: every worker uses the controller's server (or skips for its reason)."""
    node.workerinput["uitstroom_postgresql"] = (PG.url, PG.skip_reason)


def pytest_unconfigure(config: pytest.Config) -> None:
    if PG.server is not None:
        PG.server.stop()
        PG.server = None


def _on_postgresql(nodeid: str) -> bool:
    return re.search(r"\[(.*-)?postgresql(-.*)?\]", nodeid) is not None


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Say on which clock and profile the run went, what ran on PostgreSQL, and what was
    skipped and why."""
    if hasattr(config, "workerinput"):
        return
    stats = terminalreporter.stats
    ran = sum(
        1
        for outcome in ("passed", "failed")
        for report in stats.get(outcome, [])
        if report.when == "call" and _on_postgresql(report.nodeid)
    )
    reasons = Counter(
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in stats.get("skipped", [])
        if isinstance(report.longrepr, tuple)
    )
    write = terminalreporter.write_line
    terminalreporter.section("what this run covered", sep="-")
    write(f"Clock: today is {TODAY} (UITSTROOM_TEST_TODAY).")
    write(f"Hypothesis profile: {HYPOTHESIS_PROFILE} (UITSTROOM_HYPOTHESIS_PROFILE).")
    if PG.url:
        write(f"PostgreSQL: {ran} tests ran on {PG.source or 'the given server'}.")
    else:
        skipped = sum(n for reason, n in reasons.items() if reason.startswith("PostgreSQL"))
        write(f"PostgreSQL: NOT TESTED, {skipped} tests skipped: {PG.skip_reason}", red=True)
    for reason, count in reasons.most_common():
        if PG.url or not reason.startswith("PostgreSQL"):
            write(f"skipped {count:>4}: {reason}", yellow=True)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """Passwords hashed in the test process take argon2id's least work instead of the service's
    (argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes, 0.15-0.9 s for every hash and every
    check, on both cores), because the page tests make a person and sign in for nearly every
    test. A check costs what the stored hash says, so an unknown email still costs the service's
    time. Served processes hash as the service does; a test of the parameters themselves asks
    for `production_password_hashing`."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(password_security, "_hasher", cheap)
        yield


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's own password hasher in this test (see `_cheap_password_hashes`)."""
    monkeypatch.setattr(password_security, "_hasher", PRODUCTION_PASSWORD_HASHER)


@pytest.fixture(scope="session", autouse=True)
def frozen_clock() -> Iterator[None]:
    """Every test sees the same 'today' (tests/clock.py), whatever the real date."""
    with time_machine.travel(START, tick=True):
        yield


POSTGRESQL_DATABASES: set[str] = set()
"""The PostgreSQL databases this test process made (each xdist worker makes its own) and has not
dropped yet."""


class DatabaseFactory:
    """Creates empty databases on one backend and removes them afterwards."""

    def __init__(self, backend: str, tmp_path: Path):
        self.backend = backend
        self.tmp_path = tmp_path
        self.created: list[str] = []
        self._template: str | None = None

    def migrated_url(self) -> str:
        """A new database at the latest migration with the shipped reference data: a copy of
        one this factory migrated once (migrating took a second or more per database, copying
        takes a tenth of that). Tests of migrating itself use `new_url`."""
        if self._template is None:
            self._template = self.new_url()
            upgrade_to_head(self._template)
        url = self.new_url() if self.backend == "sqlite" else self._copy_of_template()
        if self.backend == "sqlite":
            # sqlite3's backup API: a consistent copy whatever the WAL holds.
            with (
                closing(sqlite3.connect(make_url(self._template).database)) as source,
                closing(sqlite3.connect(make_url(url).database)) as target,
            ):
                source.backup(target)
        return url

    def _copy_of_template(self) -> str:
        assert self._template is not None
        name = f"uitstroom_test_{uuid.uuid4().hex[:12]}"
        template = make_url(self._template).database
        admin = create_engine(self._server(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        self.created.append(name)
        POSTGRESQL_DATABASES.add(name)
        return make_url(self._server()).set(database=name).render_as_string(hide_password=False)

    def new_url(self) -> str:
        name = f"uitstroom_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / name}.db"
        server = self._server()
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        POSTGRESQL_DATABASES.add(name)
        return make_url(server).set(database=name).render_as_string(hide_password=False)

    @staticmethod
    def _server() -> str:
        if not PG.url:
            pytest.skip(f"PostgreSQL: {PG.skip_reason}")
        return PG.url

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(self._server(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                POSTGRESQL_DATABASES.discard(name)
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    """Fresh databases on one backend (a server URL with a new database for PostgreSQL, which
    any number of processes, such as served apps, may connect to)."""
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp(request.param))
    if request.param == "postgresql":
        factory._server()  # skips, with the reason, when there is no server
    yield factory
    factory.drop_all()


@pytest.fixture(scope="module")
def no_deadlocks(request: pytest.FixtureRequest) -> Iterator[None]:
    """For a module whose tests run transactions at once on PostgreSQL (threads, concurrent
    requests; it says `pytestmark = pytest.mark.usefixtures("no_deadlocks")`): fails it when
    PostgreSQL broke a deadlock meanwhile in a database of this test process, checked after its
    last test (tests/deadlocks.py). The transient layer runs a deadlock's loser again, and so
    do the race harnesses, so no answer a test checks shows one. A database dropped before the
    end (`databases` switching backend halfway, which pytest's ordering of its parameters
    avoids) takes its count with it: a warning says so."""
    if not PG.url:
        yield
        return
    admin = create_engine(PG.url)

    def count() -> "Counter[str]":
        names = set(POSTGRESQL_DATABASES)
        return deadlocks(admin, names, this_process_reports(admin, names))

    try:
        before = count()
        yield
        if dropped := set(before) - POSTGRESQL_DATABASES:
            warnings.warn(
                f"{len(dropped)} PostgreSQL database(s) were dropped during this module: "
                "deadlocks in them are not counted",
                stacklevel=1,
            )
        broken = sum((count() - before).values())
    finally:
        admin.dispose()
    check(broken, request.module.__name__.rsplit(".", 1)[-1], "this module's transactions")


@pytest.fixture(scope="session")
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    url = databases.migrated_url()  # a later clock's years fall back to the latest shipped limits
    engine = build_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    """The test run's settings (the environment set above), changed by a test's
    `@pytest.mark.settings(name=value, ...)`."""
    marker = request.node.get_closest_marker("settings")
    return get_settings().model_copy(update=marker.kwargs if marker else {})


class AppsOfThisWorker:
    """The apps this worker built, one per engine and settings, reused by the tests that ask
    for the same.

    FastAPI (0.142) builds an app's routes lazily, on the first request that matches them, and
    `AllowedMethods` matches every route on a path's first request: building them took
    0.2-0.3 s per app, a sixth of the suite's time when each test built its own. An app keeps
    no data between requests (that is in the database, rolled back per test), so a test gets
    the app of its engine and settings with only its own session override. A test that changes
    the app itself (adds a route, middleware, a handler or state) gets a fresh one, which is
    not kept.
    """

    KEPT = 8

    def __init__(self) -> None:
        self._apps: dict[tuple[int, str], FastAPI] = {}

    def get(self, engine: Engine, settings: Settings) -> FastAPI:
        key = (id(engine), settings.model_dump_json())
        application = self._apps.pop(key, None) or create_app(settings, engine=engine)
        application.dependency_overrides.clear()
        self._apps[key] = application  # the most recently used last
        while len(self._apps) > self.KEPT:
            del self._apps[next(iter(self._apps))]
        return application

    @staticmethod
    def shape(application: FastAPI) -> tuple[object, ...]:
        """What a test may change on an app beyond its session override."""
        return (
            len(application.router.routes),
            len(application.user_middleware),
            len(application.exception_handlers),
            tuple(sorted(vars(application.state)["_state"])),
            application.openapi,
        )

    def forget_if_changed(self, application: FastAPI, shape: tuple[object, ...]) -> None:
        if self.shape(application) != shape:
            self._apps = {k: a for k, a in self._apps.items() if a is not application}


APPS = AppsOfThisWorker()


@pytest.fixture
def app(session: Session, engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    application = APPS.get(engine, settings)

    def test_session() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:  # a server's session ends with its request, and with it the key it held
            session.info.pop(HELD_KEY, None)
            session.info.pop(HELD_PAGE_SESSION, None)

    application.dependency_overrides[get_session] = test_session
    shape = APPS.shape(application)
    yield application
    APPS.forget_if_changed(application, shape)


@functools.cache
def _contract_of_the_default_app() -> str:
    return json.dumps(create_app().openapi())


def generated_contract() -> dict[str, Any]:
    """The contract `create_app()` generates with the suite's settings, as JSON reads it: built
    once per test process (2 s each time, and a dozen tests read it), a fresh copy per call that
    the caller may change. What a running app serves is read from that app, not from here."""
    return json.loads(_contract_of_the_default_app())


@pytest.fixture
def live_app(databases: DatabaseFactory, settings: Settings) -> FastAPI:
    """The app on its own committed database (no rolled-back test transaction), for tests in
    which several requests really run at once; it disposes of its engine when its TestClient
    shuts it down."""
    url = databases.migrated_url()
    return create_app(settings.model_copy(update={"database_url": url}))


@pytest.fixture
def committed_postgresql(live_app: FastAPI) -> Iterator[tuple[TestClient, Engine]]:
    """A client of `live_app` and its engine, on PostgreSQL only: for tests in which another
    transaction commits between a request's read and its write. Skipped on SQLite, where one
    writer runs at a time, so nothing comes in between."""
    if live_app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no change comes between read and write")
    with TestClient(live_app) as client:
        yield client, live_app.state.engine


@pytest.fixture(autouse=True)
def _engine_results_start_empty() -> Iterator[None]:
    """Each test computes its agendas afresh: a result kept from another test with equal inputs
    (the same generated rows, ids included) would hide what that test patches or counts."""
    engine_cache.clear()
    yield


class DependantsOfThisTest:
    """`fastapi.dependencies.utils.get_dependant`, remembered per argument for one test.

    With any `dependency_overrides` set (this suite always sets one: the session of the test's
    transaction), FastAPI (0.142) rebuilds every dependency of every request from its
    callable's signature, overridden or not: a sixth to a quarter of a test request's time
    (`GET /v1/cases` 9.8 ms, 7.3 ms without), none in a server, which sets no override
    (fastapi/fastapi#16342 and #14441 propose reusing what is not overridden). Setting this
    fails loudly if FastAPI renames the function. The result depends on the arguments
    only, and FastAPI shares the graph it builds at start-up between requests just so, so the
    graph built for an argument the first time is given again. Arguments that cannot be keys
    (an unhashable callable) are built every time. Forgotten after each test, with FastAPI's
    own caches (`_fastapi_forgets_this_tests_apps`).
    """

    def __init__(self) -> None:
        self.original = fastapi_dependency_utils.get_dependant
        self.built: dict[tuple[object, ...], Any] = {}

    def __call__(
        self,
        *,
        path: str,
        call: Any,
        name: str | None = None,
        own_oauth_scopes: list[str] | None = None,
        parent_oauth_scopes: list[str] | None = None,
        use_cache: bool = True,
        scope: Any = None,
    ) -> Any:
        arguments = {
            "path": path,
            "call": call,
            "name": name,
            "own_oauth_scopes": own_oauth_scopes,
            "parent_oauth_scopes": parent_oauth_scopes,
            "use_cache": use_cache,
            "scope": scope,
        }
        key = tuple(
            tuple(value) if isinstance(value, list) else value for value in arguments.values()
        )
        try:
            return self.built[key]
        except TypeError:
            return self.original(**arguments)
        except KeyError:
            built = self.built[key] = self.original(**arguments)
            return built


DEPENDANTS = DependantsOfThisTest()


@pytest.fixture(scope="session", autouse=True)
def _dependencies_built_once_per_test() -> Iterator[None]:
    """See `DependantsOfThisTest`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fastapi_dependency_utils, "get_dependant", DEPENDANTS)
        yield


@pytest.fixture(autouse=True)
def _fastapi_forgets_this_tests_apps() -> Iterator[None]:
    """Clear FastAPI's module-level caches of endpoint and dependency callables after a test.

    FastAPI (0.142) classifies each callable once and keeps it in an `lru_cache` of 4,096 entries
    keyed by the callable itself. An app's closures (the docs routes, this suite's session
    override) are new callables per `create_app`, so every app a worker built stayed alive with
    its routes, schemas and session: 100 tests kept 100 apps, a worker grew to gigabytes, and
    full garbage collections over millions of objects stalled tests for 20-30 s. A server
    builds one app, so only the suite needs this.
    """
    yield
    DEPENDANTS.built.clear()
    for cached in vars(fastapi_dependency_models).values():
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def writable_limits(figures: dict[str, Any]) -> dict[str, Any]:
    """A `GET /v1/limits/{year}` answer as a PUT body for another year: only the fields a PUT
    takes, without the deprecated ones (`pension_age` must match the AOW table of the year it
    is put for; `liberalisation_limit` is the DAEB rent limit's old name)."""
    from app.limits.models import YearLimitsFields

    deprecated = {"pension_age", "liberalisation_limit"}
    return {
        k: v
        for k, v in figures.items()
        if k in YearLimitsFields.model_fields and k not in deprecated
    }


# --- small factories -----------------------------------------------------------------------


@dataclass
class Org:
    id: str
    name: str
    kind: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}


def make_org(client: TestClient, kind: str, name: str | None = None) -> Org:
    name = name or f"{kind} {uuid.uuid4().hex[:8]}"
    response = client.post("/v1/organizations", json={"name": name, "kind": kind}, headers=OPERATOR)
    assert response.status_code == 201, response.text
    org_id = response.json()["id"]
    key = client.post(
        f"/v1/organizations/{org_id}/api-keys", json={"label": "test"}, headers=OPERATOR
    )
    assert key.status_code == 201, key.text
    return Org(id=org_id, name=name, kind=kind, key=key.json()["key"])


@dataclass
class Region:
    """One outflow table with a chair municipality, a member municipality, and two of each
    other kind; `outsider_*` organisations sit at another table."""

    table_id: str
    chair: Org
    municipality: Org
    care_provider: Org
    other_care_provider: Org
    corporation: Org
    other_corporation: Org
    municipality_codes: list[str] = field(default_factory=list)


def make_table(
    client: TestClient, chair: Org, members: list[Org], codes: list[str], **extra: object
) -> str:
    body = {
        "name": f"Table {uuid.uuid4().hex[:8]}",
        "municipality_codes": codes,
        "chair_organisation_id": chair.id,
        "member_organisation_ids": [m.id for m in members],
        **extra,
    }
    response = client.post("/v1/tables", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def region(client: TestClient, session: Session) -> Region:
    return seed_region(session, ["GM0344", "GM0307"])


def make_region(client: TestClient) -> Region:
    """A table in GM0344 and GM0307 with a chair municipality and its members, made through
    the API (for tests with their own client, such as a committed database's)."""
    org, table = functools.partial(make_org, client), functools.partial(make_table, client)
    return _region(org, table, ["GM0344", "GM0307"])


def _region(
    org: Callable[[str], Org], table: Callable[[Org, list[Org], list[str]], str], codes: list[str]
) -> Region:
    """The organisations and table of a `Region`, made by `org(kind)` and `table(chair,
    members, codes)`: through the API or through the services."""
    chair, municipality = org("municipality"), org("municipality")
    cp1, cp2 = org("care_provider"), org("care_provider")
    corp1, corp2 = org("housing_corporation"), org("housing_corporation")
    table_id = table(chair, [municipality, cp1, cp2, corp1, corp2], codes)
    return Region(table_id, chair, municipality, cp1, cp2, corp1, corp2, codes)


@pytest.fixture
def other_region(client: TestClient, session: Session) -> Region:
    """A second table with its own organisations, for cross-table isolation tests."""
    return seed_region(session, ["GM0363"])


def seed_region(session: Session, codes: list[str]) -> Region:
    """A `make_region` written by the services the API's routes call, in the test's session:
    the same rows without 13 requests (120-200 ms per region, and some 500 tests ask for
    one). The routes themselves are tested in tests/api/test_organisations.py and
    tests/api/test_tables.py."""
    org, table = functools.partial(seed_org, session), functools.partial(seed_table, session)
    return _region(org, table, codes)


def seed_org(session: Session, kind: str) -> Org:
    """`make_org` through the service, in the test's session (see `seed_region`)."""
    from app.organisations import service
    from app.organisations.models import KeyIssuer, OrganisationCreate

    name = f"{kind} {uuid.uuid4().hex[:8]}"
    created = service.create_organisation(
        session, OrganisationCreate.model_validate({"name": name, "kind": kind})
    )
    _, key = service.create_api_key(session, created, "test", issued_by=KeyIssuer.command_line)
    session.commit()
    return Org(id=str(created.id), name=name, kind=kind, key=key)


def seed_table(session: Session, chair: Org, members: list[Org], codes: list[str]) -> str:
    """`make_table` through the service, in the test's session (see `seed_region`)."""
    from app.tables import service
    from app.tables.models import TableCreate

    body = {
        "name": f"Table {uuid.uuid4().hex[:8]}",
        "municipality_codes": codes,
        "chair_organisation_id": chair.id,
        "member_organisation_ids": [m.id for m in members],
    }
    table = service.create_table(session, TableCreate.model_validate(body))
    session.commit()
    return str(table.id)


def case_body(table_id: str, **overrides: object) -> dict:
    """The contract's example case (app/openapi_examples.py, so the example is one the service
    accepts) with a fresh reference, `table_id` and dates relative to the suite's today."""
    body: dict = copy.deepcopy(CASE_EXAMPLE) | {
        "external_ref": f"K-{uuid.uuid4().hex[:10]}",
        "table_id": table_id,
        "ready_since": iso(-639),  # ready for about 21 months
        "registration_date": iso(-1780),  # registered for almost five years
        "beschikking": {"status": "granted", "valid_until": iso(396)},
    }
    body.update(overrides)
    return body


def vacancy_body(municipality_code: str = "GM0344", **overrides: object) -> dict:
    """The contract's example vacancy in `municipality_code`, with a fresh reference and dates
    relative to the suite's today."""
    digits = municipality_code[2:]
    body: dict = copy.deepcopy(VACANCY_EXAMPLE) | {
        "external_ref": f"V-{uuid.uuid4().hex[:10]}",
        "available_from": iso(1),
        "respond_before": iso(0),
    }
    body["address"] |= {
        "municipality_code": municipality_code,
        "neighbourhood_code": f"BU{digits}0101",
    }
    body.update(overrides)
    return body


def create_case(client: TestClient, org: Org, table_id: str, **overrides: object) -> dict:
    response = client.post("/v1/cases", json=case_body(table_id, **overrides), headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


def create_vacancy(
    client: TestClient, org: Org, municipality_code: str = "GM0344", **overrides: object
) -> dict:
    response = client.post(
        "/v1/vacancies", json=vacancy_body(municipality_code, **overrides), headers=org.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def push_again(
    client: TestClient,
    org: Org,
    vacancy: dict,
    municipality_code: str | None = None,
    **changes: object,
) -> dict:
    """Push a dwelling again (an upsert by its reference) as read, with `changes` and, given
    `municipality_code`, in a neighbourhood of that municipality; asserts it stays the same
    dwelling (200) and returns it."""
    body = {k: v for k, v in vacancy.items() if k in vacancy_body()} | changes
    if municipality_code is not None:
        digits = municipality_code[2:]
        body["address"] = body["address"] | {
            "municipality_code": municipality_code,
            "neighbourhood_code": f"BU{digits}0101",
        }
    pushed = client.post("/v1/vacancies", json=body, headers=org.headers)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["id"] == vacancy["id"]
    return pushed.json()
