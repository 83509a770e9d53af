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


def _blocks() -> list[str]:
    """The walk-through's two ```sh blocks: a table and a case, then the corporation's dwellings."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("A walk-through from nothing", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", after, re.DOTALL)
    assert len(blocks) >= 2, "the walk-through's ```sh blocks"
    return blocks[:2]


def _walkthrough() -> tuple[str, int, list[str]]:
    """The walk-through's shell block, the status and the warning codes its last line promises
    (`# -> 201, with "warnings": a, b, c`)."""
    script = _blocks()[0]
    promise = re.search(r'^# -> (\d{3}), with "warnings": (.*)$', script, re.MULTILINE)
    assert promise, "the walk-through ends with what the last request answers"
    return script, int(promise[1]), [code.strip() for code in promise[2].split(",")]


def _run(script: str, databases) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Run `script` against a served app on a new database: its last request's body and status."""
    if not (shutil.which("bash") and shutil.which("curl")):
        pytest.skip("the walk-through needs bash and curl")
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
    return body, int(code)


def test_the_readme_walkthrough_answers_as_it_says(databases):
    script, status, warnings = _walkthrough()
    assert script.count(ADDRESS) >= 4, "every request of the walk-through goes to the server"
    body, code = _run(script, databases)
    assert code == status, body
    case = json.loads(body)
    assert case["external_ref"] == "K-1"
    assert [w["code"] for w in case["warnings"]] == warnings


def test_the_readme_walkthrough_offers_a_dwelling_as_it_says(databases):
    """The corporation's block, run after the first in the same shell: a new user had no body
    of a dwelling to start from (the contract's example leaves it out for the linter)."""
    first, dwellings = _blocks()
    promise = re.search(r'^# -> (\d{3}), with "created": (\d+)', dwellings, re.MULTILINE)
    assert promise, "the corporation's block ends with what its last request answers"
    body, code = _run(first + dwellings, databases)
    assert code == int(promise[1]), body
    # The first block's case comes first on stdout, the batch's answer right after it.
    case, end = json.JSONDecoder().raw_decode(body)
    assert case["external_ref"] == "K-1"
    batch = json.loads(body[end:])
    assert (batch["created"], batch["updated"], batch["unchanged"]) == (int(promise[2]), 0, 0)
    assert [item["external_ref"] for item in batch["items"]] == ["V-2026-0815"]
