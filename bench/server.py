"""Start the real service (`uitstroomtafel serve`) on a fresh database for a benchmark."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

OPERATOR_KEY = "bench-operator-key-0123456789abcdefghijkl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(database_url: str) -> Iterator[str]:
    """Yield the base URL of a server migrated onto `database_url`; stop it afterwards."""
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
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--log-level", "warning"],
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
