"""Test harness: every database test runs on SQLite and, when a server is given, PostgreSQL.

Set UITSTROOM_TEST_POSTGRESQL_URL (a server URL, e.g. the one .ci/start-postgres prints) to run
the PostgreSQL half; without it those tests are skipped with that reason. Each backend gets one
database migrated by Alembic; every test runs in a transaction that is rolled back.
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import time_machine

os.environ.setdefault("UITSTROOM_ADMIN_KEY", "test-operator-key-0123456789abcdefghij")
os.environ["UITSTROOM_MIGRATE_ON_START"] = "false"
# The delivery worker is started explicitly by the webhook tests that need it.
os.environ["UITSTROOM_WEBHOOK_WORKER"] = "false"
# Test receivers listen on loopback; the worker's own guard is set per test in its policy.
os.environ["UITSTROOM_WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
os.environ["UITSTROOM_RETENTION_JOB"] = "false"

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.db import build_engine, get_engine, get_session
from app.main import create_app
from app.migrate import upgrade_to_head
from app.settings import get_settings
from tests.clock import START

ADMIN_KEY = os.environ["UITSTROOM_ADMIN_KEY"]
PG_SERVER_URL = os.environ.get("UITSTROOM_TEST_POSTGRESQL_URL")
# CI sets this so that a missing PostgreSQL fails the run instead of skipping half of it.
PG_REQUIRED = os.environ.get("UITSTROOM_REQUIRE_POSTGRESQL") == "1"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def frozen_clock() -> Iterator[None]:
    """Every test sees the same 'today' (tests/clock.py), whatever the real date."""
    with time_machine.travel(START, tick=True):
        yield


class DatabaseFactory:
    """Creates empty databases on one backend and removes them afterwards."""

    def __init__(self, backend: str, tmp_path: Path):
        self.backend = backend
        self.tmp_path = tmp_path
        self.created: list[str] = []

    def new_url(self) -> str:
        name = f"uitstroom_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / name}.db"
        if not PG_SERVER_URL:
            pytest.skip("PostgreSQL: set UITSTROOM_TEST_POSTGRESQL_URL (see .ci/run)")
        admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created or not PG_SERVER_URL:
            return
        admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp(request.param))
    if request.param == "postgresql" and not PG_SERVER_URL:
        if PG_REQUIRED:
            pytest.fail("UITSTROOM_REQUIRE_POSTGRESQL=1 but UITSTROOM_TEST_POSTGRESQL_URL is unset")
        pytest.skip("PostgreSQL: set UITSTROOM_TEST_POSTGRESQL_URL (see .ci/run)")
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    url = databases.new_url()
    upgrade_to_head(url)
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
def app(session: Session):  # type: ignore[no-untyped-def]
    get_settings.cache_clear()
    application = create_app(get_settings())

    def test_session() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
def live_app(databases, monkeypatch) -> Iterator:  # type: ignore[no-untyped-def]
    """The app on its own committed database (no rolled-back test transaction), for tests in
    which several requests really run at once."""
    url = databases.new_url()
    upgrade_to_head(url)
    monkeypatch.setenv("UITSTROOM_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield create_app(get_settings())
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


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


def ensure_limits(client: TestClient, year: int) -> None:
    """The agenda needs the legal limits of its year; a clock set past the seeded years gets
    2026's figures under its own year (the figures do not matter to the tests that call this)."""
    if client.get(f"/v1/limits/{year}", headers=OPERATOR).status_code == 200:
        return
    known = client.get("/v1/limits/2026", headers=OPERATOR).json()
    body = {k: v for k, v in known.items() if k not in ("year", "updated_at")}
    client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR).raise_for_status()


@pytest.fixture
def region(client: TestClient) -> Region:
    chair = make_org(client, "municipality")
    municipality = make_org(client, "municipality")
    cp1, cp2 = make_org(client, "care_provider"), make_org(client, "care_provider")
    corp1, corp2 = make_org(client, "housing_corporation"), make_org(client, "housing_corporation")
    codes = ["GM0344", "GM0307"]
    table_id = make_table(client, chair, [municipality, cp1, cp2, corp1, corp2], codes)
    return Region(table_id, chair, municipality, cp1, cp2, corp1, corp2, codes)


@pytest.fixture
def other_region(client: TestClient) -> Region:
    """A second table with its own organisations, for cross-table isolation tests."""
    chair = make_org(client, "municipality")
    municipality = make_org(client, "municipality")
    cp1, cp2 = make_org(client, "care_provider"), make_org(client, "care_provider")
    corp1, corp2 = make_org(client, "housing_corporation"), make_org(client, "housing_corporation")
    codes = ["GM0363"]
    table_id = make_table(client, chair, [municipality, cp1, cp2, corp1, corp2], codes)
    return Region(table_id, chair, municipality, cp1, cp2, corp1, corp2, codes)


def case_body(table_id: str, **overrides: object) -> dict:
    body: dict = {
        "external_ref": f"K-{uuid.uuid4().hex[:10]}",
        "table_id": table_id,
        "facility": "beschermd_wonen",
        "ready_since": "2025-03-01",
        "birth_year": 1990,
        "household": {"adults": 1, "children": 0},
        "income": {
            "source": "participatiewet",
            "annual_taxable": "16250.00",
            "net_monthly": "1180.50",
            "stable": True,
            "budget_management": "none",
        },
        "registration_date": "2022-01-15",
        "beschikking": {"status": "granted", "valid_until": "2027-12-31"},
        "support": {"intensity": "moderate", "needs_complex_manager": False},
        "urgency": False,
        "needs": {"wheelchair": False, "step_free": False, "max_floor": None, "pets": False},
        "areas": {"preferred": ["GM0344"], "excluded": []},
        "contract_form": "either",
    }
    body.update(overrides)
    return body


def vacancy_body(municipality_code: str = "GM0344", **overrides: object) -> dict:
    digits = municipality_code[2:]
    body: dict = {
        "external_ref": f"V-{uuid.uuid4().hex[:10]}",
        "address": {
            "street": "Kastanjelaan",
            "house_number": "12A",
            "postcode": "3512AB",
            "municipality_code": municipality_code,
            "neighbourhood_code": f"BU{digits}0101",
        },
        "complex_ref": "CPX-1",
        "dwelling_type": "apartment",
        "rooms": 2,
        "floor": 1,
        "has_lift": True,
        "wheelchair_accessible": False,
        "rent": {"base": "650.00", "eligible_service_costs": "35.00"},
        "available_from": "2026-12-01",
        "respond_before": "2026-11-30",
        "contingent": True,
        "complex_manager": False,
        "pets_allowed": True,
        "min_age": None,
        "contract_forms": ["own_lease"],
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
