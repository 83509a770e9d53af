"""The README's walk-through from nothing, run as written (bash, curl, python3) against a
served app: organisations, a key, a table and a case, answered as its last comment says."""

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.served import serving

ROOT = Path(__file__).resolve().parent.parent
OPERATOR_KEY = "readme-walkthrough-operator-key-0123456789"
ADDRESS = "localhost:8000"  # where the walk-through expects the server
README_TEXT = (ROOT / "README.md").read_text()


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


def _runnable(script: str, base: str) -> str:
    """`script` as run against the server at `base` (host:port), its last request reporting its
    status too. The key the service runs with comes from the environment, as the walk-through's
    first line says."""
    runnable = script.replace("export UITSTROOM_ADMIN_KEY=...", "").replace(ADDRESS, base)
    last = runnable.rindex("curl -s ")
    return runnable[:last] + "curl -s -w '\\n%{http_code}' " + runnable[last + 8 :]


def _shell(runnable: str, env: dict[str, str], *, check: bool = True, pasted: bool = False):  # type: ignore[no-untyped-def]
    """Run `runnable` as a script that stops at the first failure, or `pasted` as a terminal
    runs a block pasted into it: every line, whatever the one before it answered."""
    if not (shutil.which("bash") and shutil.which("curl")):
        pytest.skip("the walk-through needs bash and curl")
    result = subprocess.run(
        ["bash", "-c", runnable] if pasted else ["bash", "-e", "-o", "pipefail", "-c", runnable],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _env(databases) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.new_url(),
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",  # as `serve` does unless the suite says not to
    }


def _run(script: str, databases) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Run `script` against a served app on a new database: its last request's body and status."""
    env = _env(databases)
    with serving(env) as server:
        result = _shell(_runnable(script, server.base.removeprefix("http://")), env)
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


def test_a_second_run_of_the_walkthrough_says_why_it_stops(databases):
    """Run again on the same database, the walk-through stops at the first organisation, whose
    name is taken: the helper names the service's answer (status, code, detail), where it showed
    a `KeyError: 'id'` traceback that told a new user nothing (found walking the README)."""
    script = _blocks()[0]
    env = _env(databases)
    with serving(env) as server:
        runnable = _runnable(script, server.base.removeprefix("http://"))
        _shell(runnable, env)
        again = _shell(runnable, env, check=False)
    assert again.returncode != 0
    assert "Traceback" not in again.stderr and "KeyError" not in again.stderr, again.stderr
    assert (
        "409 duplicate_name: An organisation named 'Gemeente Utrecht' exists already."
        in again.stderr
    ), again.stderr
    assert "409 duplicate_name" in README_TEXT  # the README says what a second run prints


def test_a_second_run_pasted_into_a_terminal_answers_as_the_readme_says(databases):
    """Pasted again into a terminal (no `set -e`: every line runs), on the same database, the
    walk-through prints what the README says a second run prints. It promised `409
    duplicate_name` and `municipality_taken` for the table, where the table's request, sent
    without the chair's id, is a 400 (and with other names the table's name is taken first);
    found walking the README as a new user on the demo."""
    script = _blocks()[0]
    paragraph = README_TEXT.split("`pick` takes a field from an answer", 1)[1].split("\n\n", 1)[0]
    promised = re.findall(r"`(\d{3})\s+([a-z_]+)", paragraph)  # a line may end between
    assert promised, "the README says what a second run prints"
    env = _env(databases)
    with serving(env) as server:
        runnable = _runnable(script, server.base.removeprefix("http://"))
        _shell(runnable, env)
        again = _shell(runnable, env, check=False, pasted=True)
    # Each answer once, in the order printed (all three organisations are taken alike).
    printed = list(dict.fromkeys(re.findall(r"^(\d{3}) ([a-z_]+):", again.stderr, re.MULTILINE)))
    assert printed == promised, (printed, again.stderr)
    case = json.loads(again.stdout.rsplit("\n", 1)[0])
    assert case["status"] == 401 and f"`{case['status']}`" in paragraph, again.stdout


def test_the_walkthrough_without_a_server_says_so():
    """Started before the server (or on another port than the walk-through's), the first answer
    is empty: the helper says where it found no server, not `JSONDecodeError`."""
    script = _blocks()[0]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: nobody answers there
        result = _shell(
            _runnable(script, f"127.0.0.1:{port}"),
            {**os.environ, "UITSTROOM_ADMIN_KEY": OPERATOR_KEY},
            check=False,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert (
        f"no answer from 127.0.0.1:{port}: is uitstroomtafel serve running on that port?"
        in result.stderr
    ), result.stderr
