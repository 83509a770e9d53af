"""`serve --workers N`: several server processes on one port and one PostgreSQL database, each
with the periodic jobs, whose rounds the database hands to one process at a time."""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.concurrency.conftest import need_postgresql
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.served import Server, serving

pytestmark = pytest.mark.xdist_group("two_servers")


def _workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn's supervisor `pid` started (spawned multiprocessing
    children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_serve_with_two_workers_answers_and_runs_each_round_of_a_job_once(tmp_path):
    need_postgresql("several workers")
    databases = DatabaseFactory("postgresql", tmp_path)
    url = databases.migrated_url()
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": url,
        "UITSTROOM_ADMIN_KEY": ADMIN_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
        "UITSTROOM_STALL_SWEEP": "true",
        "UITSTROOM_STALL_SWEEP_SECONDS": "3600",
        "UITSTROOM_RETENTION_JOB": "true",
    }
    engine = create_engine(url)
    try:
        with serving(env, "--workers", "2") as served:
            workers = _workers_of(served.process.pid)
            assert len(workers) == 2, served.output()
            headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            with httpx.Client(base_url=served.base, headers=headers, timeout=30) as client:
                for n in range(20):
                    created = client.post(
                        "/v1/organizations", json={"name": f"Gemeente {n}", "kind": "municipality"}
                    )
                    assert created.status_code == 201, created.text
            # Both workers started both jobs; each job's first round was claimed once.
            deadline = time.monotonic() + 120
            while True:
                with engine.connect() as conn:
                    leases = conn.execute(text("SELECT name, holder FROM job_leases")).all()
                if len(leases) == 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert sorted(name for name, _ in leases) == ["retention", "stall-sweep"]
            assert all(holder for _, holder in leases)
            assert served.output().count("run failed") == 0
        # Stopping the server stops its workers.
        for worker in workers:
            assert not Path(f"/proc/{worker}").exists() or _is_zombie(worker)
    finally:
        engine.dispose()
        databases.drop_all()


def _all_started(served: Server, workers: int) -> None:
    """Wait until each of `served`'s `workers` has started its application."""
    deadline = time.monotonic() + 60
    while served.output().count("Application startup complete") < workers:
        assert time.monotonic() < deadline, served.output()
        time.sleep(0.2)


def _is_zombie(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True


def test_serve_with_two_workers_warns_of_an_unknown_variable_once(tmp_path):
    """Each worker read the settings again and logged the warning about a misspelt variable
    again: the operator saw it once per process, as if it came from several places."""
    need_postgresql("several workers")
    databases = DatabaseFactory("postgresql", tmp_path)
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.migrated_url(),
        "UITSTROOM_ADMIN_KEY": ADMIN_KEY,
        # Built, so that the repository's own variables (test_operator_mistakes) skip it.
        "UITSTROOM_" + "RETENTON_DAYS": "400",
    }
    try:
        with serving(env, "--workers", "2") as served:
            _all_started(served, 2)
            warned = "UITSTROOM_" + "RETENTON_DAYS (in the environment) is not a setting"
            assert served.output().count(warned) == 1, served.output()
    finally:
        databases.drop_all()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_ends_serve_with_130_whatever_its_workers(tmp_path, workers):
    """Ctrl-C to `serve` ended it with status 130 (as a shell reports a command SIGINT ended),
    but `serve --workers 2` with 0: uvicorn's supervisor stopped its workers and returned, so
    a script or supervisor told an interrupted server from one that had finished by the
    number of workers. Both now end with 130 and no line of ours."""
    need_postgresql("several workers")
    databases = DatabaseFactory("postgresql", tmp_path)
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.migrated_url(),
        "UITSTROOM_ADMIN_KEY": ADMIN_KEY,
    }
    # A server started from a shell in the background inherits SIGINT ignored, and then no
    # server ends on it; Ctrl-C reaches one started in the foreground.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with serving(env, "--workers", workers) as served:
            _all_started(served, int(workers))
            served.process.send_signal(signal.SIGINT)
            assert served.process.wait(timeout=60) == 130, served.output()
            assert "Stopped by Ctrl-C" not in served.output()
            assert "Traceback" not in served.output()
    finally:
        signal.signal(signal.SIGINT, previous)
        databases.drop_all()


def test_serve_with_two_workers_warns_of_the_owner_role_once_as_a_warning(tmp_path):
    """Each worker warned that the service connects as the owner of the tables or a
    superuser, without the `WARNING:` the other warnings of the start carry: the operator saw
    it once per process, as if it came from several places, and not as a warning."""
    need_postgresql("several workers")
    databases = DatabaseFactory("postgresql", tmp_path)
    env = {  # the suite's database role is a superuser
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.migrated_url(),
        "UITSTROOM_ADMIN_KEY": ADMIN_KEY,
    }
    try:
        with serving(env, "--workers", "2") as served:
            _all_started(served, 2)
            warned = "connects to PostgreSQL as the owner of access_log or a superuser"
            assert served.output().count(warned) == 1, served.output()
            assert f"WARNING: the service {warned}" in served.output(), served.output()
    finally:
        databases.drop_all()
