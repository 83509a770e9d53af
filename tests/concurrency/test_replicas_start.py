"""Replicas that start together on an empty database each migrate it on start: they must take
turns, not fail on each other's tables."""

import os
import subprocess

import pytest
from sqlalchemy import create_engine, text

from tests.clocked import cli_command, clock_env
from tests.concurrency.conftest import need_postgresql
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.xdist_group("two_servers")


def test_replicas_migrating_one_database_at_once_both_succeed(tmp_path):
    need_postgresql("replicas migrating one database")
    databases = DatabaseFactory("postgresql", tmp_path)
    url = databases.new_url()
    try:
        env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": url})
        processes = [
            subprocess.Popen(
                cli_command("migrate"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=300)[0].decode() for process in processes]
        assert [process.returncode for process in processes] == [0, 0], outputs
        engine = create_engine(url)
        with engine.connect() as connection:
            heads = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        engine.dispose()
        assert len(heads) == 1
    finally:
        databases.drop_all()
