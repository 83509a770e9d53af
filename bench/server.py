"""Start the real service (`uitstroomtafel serve`) on a fresh database for a benchmark, and
load a generated region into it through the API."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.regions import Region, case_payloads, vacancy_payloads

OPERATOR_KEY = "bench-operator-key-0123456789abcdefghijkl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgresql_server() -> str | None:
    """The PostgreSQL server a benchmark may use (UITSTROOM_BENCH_POSTGRESQL_URL, else the
    suite's UITSTROOM_TEST_POSTGRESQL_URL), or None."""
    return os.environ.get("UITSTROOM_BENCH_POSTGRESQL_URL") or os.environ.get(
        "UITSTROOM_TEST_POSTGRESQL_URL"
    )


@contextmanager
def postgresql_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server `server_url`; dropped
    afterwards."""
    name = f"uitstroom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def running_server(database_url: str, workers: int = 1) -> Iterator[str]:
    """Yield the base URL of a server migrated onto `database_url` (`workers` processes, more
    than one only on PostgreSQL); stop it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": database_url,
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
        # The benchmarks fire more agendas and batches per minute than any table would; they
        # measure speed, not the per-key limits.
        "UITSTROOM_RATE_LIMITS_ENABLED": "false",
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "app.cli", "serve", "--port", str(port)),
            *("--log-level", "warning", "--workers", str(workers)),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def operator_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR_KEY}"}


def create_org(client: httpx.Client, name: str, kind: str) -> tuple[str, dict[str, str]]:
    """Register an organisation and return its id and auth headers."""
    org = client.post(
        "/v1/organizations", json={"name": name, "kind": kind}, headers=operator_headers()
    )
    org.raise_for_status()
    org_id = org.json()["id"]
    key = client.post(
        f"/v1/organizations/{org_id}/api-keys", json={"label": "bench"}, headers=operator_headers()
    )
    key.raise_for_status()
    return org_id, {"Authorization": f"Bearer {key.json()['key']}"}


@dataclass
class LoadedRegion:
    """A region registered through the API: its table and each organisation's headers."""

    table_id: str
    chair: dict[str, str]
    care_provider: dict[str, str]
    corporations: list[dict[str, str]]
    case_ids: list[str]


def load_region(client: httpx.Client, region: Region, index: int) -> LoadedRegion:
    """Register one region's organisations, table, cases and vacancies."""
    chair_id, chair = create_org(client, f"Gemeente {index}", "municipality")
    provider_id, provider = create_org(client, f"Zorgaanbieder {index}", "care_provider")
    corporations = [
        create_org(client, f"Corporatie {index}-{c}", "housing_corporation")
        for c in range(len(region.corporations))
    ]
    table = client.post(
        "/v1/tables",
        json={
            "name": f"Tafel {index}",
            "municipality_codes": region.municipality_codes,
            "chair_organisation_id": chair_id,
            "member_organisation_ids": [provider_id] + [c[0] for c in corporations],
        },
        headers=operator_headers(),
    )
    table.raise_for_status()
    table_id = table.json()["id"]
    case_ids = []
    for payload in case_payloads(region, table_id, [c[0] for c in corporations]):
        created = client.post("/v1/cases", json=payload, headers=provider)
        created.raise_for_status()
        case_ids.append(created.json()["id"])
    per_corporation: dict[int, list[dict]] = {}
    for corporation, vacancy in vacancy_payloads(region):
        per_corporation.setdefault(corporation, []).append(vacancy)
    for corporation, items in per_corporation.items():
        for start in range(0, len(items), 1000):
            client.post(
                "/v1/vacancies/batch",
                json={"items": items[start : start + 1000]},
                headers=corporations[corporation][1],
            ).raise_for_status()
    return LoadedRegion(table_id, chair, provider, [c[1] for c in corporations], case_ids)
