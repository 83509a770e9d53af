"""The database goes away and comes back while the server keeps running: 503 with Retry-After
meanwhile, on a connection that stays usable, then service again without a restart and without
losing what was acknowledged before.

Uses a PostgreSQL server of its own (started with .ci/start-postgres on a free port), because
the shared one must never be stopped. Skipped without the server binaries.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.clock import TODAY, iso
from tests.conftest import ADMIN_KEY, PG_REQUIRED
from tests.postgresql import _server_user
from tests.served import free_port, serving
from tests.test_transient import exchange

pytestmark = pytest.mark.xdist_group("two_servers")
ROOT = Path(__file__).resolve().parents[2]


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if (Path(out) / "pg_ctl").exists():
            return Path(out)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


@dataclass
class OwnPostgres:
    """A throwaway server this test may stop and start."""

    bindir: Path
    data: Path
    port: int
    url: str

    def _pg_ctl(self, *args: str) -> None:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), *args]
        # PostgreSQL refuses root: as root, run as the user .ci/start-postgres made, the way
        # tests/postgresql.py does (`runuser`, in /usr/sbin, is not on every PATH).
        user = _server_user()
        ids = {} if user is None else {"user": user[0], "group": user[1], "extra_groups": []}
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.data, **ids)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.data / "server.log"), "-w", "-o", options, "start")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    bindir = _bindir()
    if bindir is None:
        if PG_REQUIRED:  # CI starts its PostgreSQL from these binaries: they must be there
            pytest.fail("UITSTROOM_REQUIRE_POSTGRESQL=1 but no PostgreSQL server binaries (pg_ctl)")
        pytest.skip("no PostgreSQL server binaries (pg_ctl) on this machine")
    port = free_port()
    # Not under pytest's tmp_path: the server's user must be able to reach its directory.
    data = Path(f"/tmp/uitstroom-outage-{uuid.uuid4().hex[:8]}")
    env = {**os.environ, "UITSTROOM_PG_PORT": str(port), "UITSTROOM_PG_DATA": str(data)}
    started = subprocess.run(
        [str(ROOT / ".ci" / "start-postgres")], env=env, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    server = OwnPostgres(bindir, data, port, started.stdout.strip())
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_the_database_stopping_and_starting_answers_503_then_recovers(own_postgres):
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": own_postgres.url,
        "UITSTROOM_ADMIN_KEY": ADMIN_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
        "UITSTROOM_WEBHOOK_WORKER": "false",
    }
    operator = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with (
        serving(env) as server,
        httpx.Client(base_url=server.base, headers=operator, timeout=60) as api,
    ):
        before = [f"Gemeente {i} {uuid.uuid4().hex[:6]}" for i in range(3)]
        for name in before:
            created = api.post("/v1/organizations", json={"name": name, "kind": "municipality"})
            assert created.status_code == 201, created.text

        own_postgres.stop()
        port = int(server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for path in ("/v1/organizations", "/v1/limits", f"/v1/limits/{TODAY.year}"):
                status, headers = exchange(sock, path, operator)  # one connection
                assert status == 503, path
                assert headers["content-type"] == "application/problem+json"
                assert headers["retry-after"] == "5"
                assert headers.get("connection") != "close"
        refused = api.post(
            "/v1/organizations", json={"name": "Tijdens de storing", "kind": "municipality"}
        )
        assert refused.status_code == 503
        assert refused.json()["code"] == "database_unavailable"

        own_postgres.start()
        listed = api.get("/v1/organizations", params={"limit": 100})
        assert listed.status_code == 200, listed.text
        names = [o["name"] for o in listed.json()["items"]]
        assert set(before) <= set(names)  # nothing acknowledged was lost
        assert "Tijdens de storing" not in names  # nothing refused was stored
        after = api.post("/v1/organizations", json={"name": f"Na {iso(0)}", "kind": "municipality"})
        assert after.status_code == 201, after.text
