"""An operator's mistakes on the command line: each is refused with one line that says which
setting or argument is wrong and a non-zero exit status, never a traceback, and nothing is
changed."""

import os
import subprocess

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.clocked import cli_command, clock_env


@pytest.mark.parametrize(
    "url", ["", "nonsense", "mysql://user:pw@db/uitstroom", "postgresql+asyncpg://u@db/x"]
)
def test_a_database_url_the_service_cannot_use_is_refused_at_start(url):
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=url)
    assert "UITSTROOM_DATABASE_URL" in str(refused.value)


def test_migrate_with_a_malformed_database_url_says_so_in_one_line(tmp_path):
    env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": "uitstroom.db"})
    result = subprocess.run(
        cli_command("migrate"), env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Invalid configuration: database_url")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
