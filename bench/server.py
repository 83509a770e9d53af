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
from pathlib import Path

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


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MB; 0 where /proc does not tell."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, seconds) the process `pid` and its children (the workers of a
    `serve --workers N`) used so far; on a shared machine a steadier measure than wall time."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


@contextmanager
def running_server(
    database_url: str,
    workers: int = 1,
    code_dir: str | None = None,
    peak: dict[str, float] | None = None,
    started: dict[str, int] | None = None,
    environment: dict[str, str] | None = None,
) -> Iterator[str]:
    """Yield the base URL of a server migrated onto `database_url` (`workers` processes, more
    than one only on PostgreSQL); stop it afterwards.

    `code_dir`: run the service from that source tree instead (first on PYTHONPATH), e.g. an
    earlier commit's `git archive`, to measure before and after on the same data in one run.
    `peak`: filled with the server's peak memory (`peak["rss_mb"]`) when it stops. `started`:
    filled with the server's process id (`started["pid"]`, see `cpu_seconds`). `environment`:
    more settings for the server (`UITSTROOM_...`)."""
    port = free_port()
    paths = [code_dir] if code_dir else []
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": database_url,
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        # An earlier tree (`code_dir`) serves the rows the current one loaded and migrated; it
        # cannot migrate a database past its own newest revision, and need not.
        "UITSTROOM_MIGRATE_ON_START": "false" if code_dir else "true",
        # The benchmarks fire more agendas and batches per minute than any table would; they
        # measure speed, not the per-key limits.
        "UITSTROOM_RATE_LIMITS_ENABLED": "false",
        **(environment or {}),
    }
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "app.cli", "serve", "--port", str(port)),
            *("--log-level", "warning"),
            # Only when asked: a tree from before `--workers` (`code_dir`) refuses the option.
            *(("--workers", str(workers)) if workers != 1 else ()),
        ],
        env=env,
        # `python -m` puts the working directory first on sys.path: run in the chosen tree.
        cwd=code_dir,
    )
    if started is not None:
        started["pid"] = process.pid
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
        if peak is not None:
            peak["rss_mb"] = _peak_rss_mb(process.pid)
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
