"""The README's walk-through from nothing, run as written (bash, curl, python3) against a
served app: organisations, a key, a table and a case, answered as its last comment says."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.served import serving

ROOT = Path(__file__).resolve().parent.parent
OPERATOR_KEY = "readme-walkthrough-operator-key-0123456789"
ADDRESS = "localhost:8000"  # where the walk-through expects the server


def _walkthrough() -> tuple[str, int, list[str]]:
    """The walk-through's shell block, the status and the warning codes its last line promises
    (`# -> 201, with "warnings": a, b, c`)."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("A walk-through from nothing", 1)[1]
    script = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert script, "the walk-through's ```sh block"
    promise = re.search(r'^# -> (\d{3}), with "warnings": (.*)$', script[1], re.MULTILINE)
    assert promise, "the walk-through ends with what the last request answers"
    return script[1], int(promise[1]), [code.strip() for code in promise[2].split(",")]


def test_the_readme_walkthrough_answers_as_it_says(databases):
    if not (shutil.which("bash") and shutil.which("curl")):
        pytest.skip("the walk-through needs bash and curl")
    script, status, warnings = _walkthrough()
    assert script.count(ADDRESS) >= 4, "every request of the walk-through goes to the server"
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.new_url(),
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",  # as `serve` does unless the suite says not to
    }
    with serving(env) as server:
        base = server.base.removeprefix("http://")
        # The key the service runs with comes from the environment, as the walk-through's
        # first line says; the last request also reports its status.
        runnable = script.replace("export UITSTROOM_ADMIN_KEY=...", "").replace(ADDRESS, base)
        last = runnable.rindex("curl -s ")
        runnable = runnable[:last] + "curl -s -w '\\n%{http_code}' " + runnable[last + 8 :]
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", runnable],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    body, code = result.stdout.rsplit("\n", 1)
    assert int(code) == status, body
    case = json.loads(body)
    assert case["external_ref"] == "K-1"
    assert [w["code"] for w in case["warnings"]] == warnings
