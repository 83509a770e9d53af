"""The real `uitstroomtafel serve` process for tests: started as a user starts it, on a free
loopback port, and stopped with SIGTERM (a graceful shutdown).

A loaded machine can take long to start a server (a demo hashes passwords, migrations import a
lot), so readiness has a generous limit, not a short deadline: UITSTROOM_TEST_SERVER_START_SECONDS
(default 300). Everything the server writes goes to a log file, which a failure shows in full.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.clocked import cli_command, clock_env

START_SECONDS = float(os.environ.get("UITSTROOM_TEST_SERVER_START_SECONDS") or 300)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running server: its base URL, process and log (stdout and stderr together)."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _wait_until_ready(server: Server) -> None:
    started = time.monotonic()
    while True:
        if server.process.poll() is not None:
            pytest.fail(
                f"the server exited with {server.process.returncode} before it answered; "
                f"its log:\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.base}/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        waited = time.monotonic() - started
        if waited > START_SECONDS:
            pytest.fail(
                f"the server did not answer within {waited:.0f} s "
                f"(UITSTROOM_TEST_SERVER_START_SECONDS); its log:\n{server.output()}"
            )
        time.sleep(0.1)


@contextmanager
def serving(env: dict[str, str], *args: str, log_level: str = "info") -> Iterator[Server]:
    """Serve until it is ready (`/health/ready`: the database answers at the migrations' head;
    not `/openapi.json`, whose first answer builds the contract, 1-2 s), then yield the server;
    stopped afterwards.

    On the suite's clock (tests/clocked.py); `env` is the whole environment of the process.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="uitstroom-serve-") as folder:
        log = Path(folder) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*cli_command("serve", "--port", str(port), *args), "--log-level", log_level],
                env=clock_env(env),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_until_ready(server)
            try:
                yield server
            except BaseException:
                # pytest shows what a failing test wrote to stderr: the server's side of it.
                sys.stderr.write(f"--- log of the server at {server.base} ---\n{server.output()}")
                raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
