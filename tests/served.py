"""The real `uitstroomtafel serve` process for tests: started as a user starts it, on a free
loopback port, and stopped with SIGTERM (a graceful shutdown)."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.clocked import cli_command, clock_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve until it answers `/openapi.json`; yields the base URL and the process, whose
    output (at log level warning, so the pipe stays quiet) the caller may read."""
    port = free_port()
    command = cli_command("serve", "--port", str(port), *args)
    process = subprocess.Popen(
        [*command, "--log-level", "warning"],
        env=clock_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts slowly
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"server exited early:\n{output}")
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("server did not answer within 120 s")
                time.sleep(0.05)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)
