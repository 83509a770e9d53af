"""A throwaway PostgreSQL server from the machine's own binaries (Debian's postgresql-15).

The test suite starts one for its PostgreSQL half when no server is given (tests/conftest.py),
and `.ci/start-postgres` starts one for people (it runs this file with `start`).
PostgreSQL refuses to run as root, so as root the server runs as the dedicated system user
`uitstroom_pg` (created when missing). Only the standard library: the script runs before any
package is installed.
"""

import argparse
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "uitstroom_pg"
# A test server: no durability, room for several server processes per test and xdist workers.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=300"
)
START_SECONDS = 300  # pg_ctl's wait for the server to accept connections (a loaded machine)


class Unavailable(Exception):
    """No server could be started; the message says why."""


def find_bindir() -> Path | None:
    """The folder with initdb and pg_ctl: pg_config's, else the newest /usr/lib/postgresql/*."""
    candidates = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda path: [int(n) for n in re.findall(r"\d+", path)], reverse=True)
    candidates += versions
    for candidate in candidates:
        if candidate and all(os.access(Path(candidate) / b, os.X_OK) for b in ("initdb", "pg_ctl")):
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def url_for(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


@dataclass
class Server:
    """A server this process started (or found running); `stop()` ends it and removes its data."""

    bindir: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return url_for(self.port)

    def version(self) -> str:
        found = subprocess.run(
            [str(self.bindir / "postgres"), "--version"], capture_output=True, text=True
        )
        return found.stdout.strip()

    def log(self) -> str:
        try:
            return (self.data / "server.log").read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"

    def stop(self) -> None:
        _run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            self.data,
        )
        shutil.rmtree(self.data, ignore_errors=True)


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server's commands as: None for ourselves, or as root the dedicated
    system user."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        # useradd is in /usr/sbin, which not every PATH (a cron job's, a CI step's) holds.
        found = shutil.which("useradd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        useradd = [
            found or "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
        ]
        subprocess.run(
            [*useradd, SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        user = pwd.getpwnam(SYSTEM_USER)
    return user.pw_uid, user.pw_gid


def _run(command: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    """Run a server command as the server's user, in the data folder (which that user owns)."""
    user = _server_user()
    if user is None:
        return subprocess.run(command, capture_output=True, text=True, cwd=data)
    uid, gid = user
    return subprocess.run(
        command, capture_output=True, text=True, cwd=data, user=uid, group=gid, extra_groups=[]
    )


def is_ready(bindir: Path, port: int) -> bool:
    ready = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(ready, capture_output=True).returncode == 0


def start(port: int | None = None, data: Path | None = None) -> Server:
    """Initialise a new cluster in `data` (default: a new temporary folder; an existing one is
    emptied) and start it on `port` (default: a free one), trusting local TCP connections.
    Raises Unavailable without server binaries, or with the server's log when it fails."""
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's "
            "postgresql package, or set UITSTROOM_TEST_POSTGRESQL_URL to a server"
        )
    port = port or free_port()
    if data is None:
        data = Path(tempfile.mkdtemp(prefix="uitstroom-pg-"))
    else:
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
    server = Server(bindir, data, port)
    user = _server_user()
    if user is not None:
        os.chown(data, *user)
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w"]
    options = f"-p {port} -k {data} {SERVER_OPTIONS}"
    steps = [
        [*initdb, "--no-sync", "-E", "UTF8"],
        [*pg_ctl, "-t", str(START_SECONDS), "-o", options, "start"],
    ]
    for step in steps:
        done = _run(step, data)
        if done.returncode != 0:
            log = server.log()
            shutil.rmtree(data, ignore_errors=True)
            raise Unavailable(
                f"{Path(step[0]).name} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                f"server log:\n{log}"
            )
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Start a throwaway PostgreSQL; print its URL.")
    parser.add_argument("command", choices=["start"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    bindir = find_bindir()
    # Like `.ci/start-postgres` always did: a server already on that port is used as it is.
    if bindir is None or not is_ready(bindir, args.port):
        try:
            start(args.port, args.data)
        except Unavailable as exc:
            sys.exit(str(exc))
    print(url_for(args.port))


if __name__ == "__main__":
    main()
