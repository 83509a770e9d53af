"""The real `uitstroomtafel serve` process for tests: started as a user starts it, on a free
loopback port, and stopped with SIGTERM (a graceful shutdown).

A free port is only free when it is asked for: between `free_port()` and the server's bind,
another test's server (the other pytest worker) can take it, and our server then exits while
the other one answers our requests (in CI a browser test set up its scenario in another test's
database). So the server counts as ready only once its own process listens on the port
(psutil), and a server that lost its port is started again on another.

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
import psutil
import pytest

from tests.clocked import cli_command, clock_env

START_SECONDS = float(os.environ.get("UITSTROOM_TEST_SERVER_START_SECONDS") or 300)
PORT_ATTEMPTS = 5  # ports tried before a server that keeps losing its port fails the test
PORT_TAKEN = "Address already in use"  # how `serve` says it lost the port (app.cli.bind)


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


class PortTaken(Exception):
    """The server exited because another process bound its port first."""


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` has a listening TCP socket on `port`."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)


def _wait_until_ready(server: Server, port: int) -> None:
    started = time.monotonic()
    while True:
        if server.process.poll() is not None:
            if PORT_TAKEN in server.output():
                raise PortTaken(server.output())
            pytest.fail(
                f"the server exited with {server.process.returncode} before it answered; "
                f"its log:\n{server.output()}"
            )
        try:
            # Only our process's answer counts: whoever else holds the port is not it.
            if (
                _listens(server.process.pid, port)
                and httpx.get(f"{server.base}/health/ready", timeout=5).status_code == 200
            ):
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
    stopped afterwards. A server whose port another process took first is started again on a
    new port, up to PORT_ATTEMPTS times.

    On the suite's clock (tests/clocked.py); `env` is the whole environment of the process.
    """
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            with _serving_on(free_port(), env, args, log_level) as server:
                yield server
            return
        except PortTaken as taken:
            if attempt == PORT_ATTEMPTS:
                pytest.fail(
                    f"{PORT_ATTEMPTS} ports were taken before the server bound them; "
                    f"the last log:\n{taken}"
                )


@contextmanager
def _serving_on(
    port: int, env: dict[str, str], args: tuple[str, ...], log_level: str
) -> Iterator[Server]:
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
            _wait_until_ready(server, port)
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
