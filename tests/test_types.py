"""mypy passes on `app`: strict on the matching engine and the services, default elsewhere
(`[tool.mypy]` in pyproject.toml).

The errors that existed when the checker came in are listed, counted per file and error code, in
`tests/mypy_known_errors.json`: a new error fails this test, and so does a fixed one until its
count there is lowered (`python -m tests.test_types --update` rewrites the file), so the list only
shrinks.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent
KNOWN = Path(__file__).with_name("mypy_known_errors.json")
ERROR = re.compile(r"^(?P<path>[^:]+):\d+: error: .*\[(?P<code>[a-z-]+)\]$")


def run_mypy() -> tuple[Counter[str], str]:
    """(errors counted as `path [code]`, mypy's report)."""
    limit = sys.getrecursionlimit()
    try:
        stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    finally:
        # mypy raises the limit to 2**14 for itself; left so, this worker's later tests would
        # parse JSON nested thousands deep that a server refuses (tests/api/test_errors.py).
        sys.setrecursionlimit(limit)
    assert status in (0, 1), stdout + stderr  # 2: mypy itself failed
    errors = Counter(
        f"{m['path']} [{m['code']}]" for m in map(ERROR.match, stdout.splitlines()) if m
    )
    return errors, stdout


def test_mypy_finds_no_new_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    errors, report = run_mypy()
    known = Counter(json.loads(KNOWN.read_text()))
    new = errors - known
    assert not new, f"new mypy errors: {dict(new)}\n{report}"
    fixed = known - errors
    assert not fixed, f"fixed, lower their count in {KNOWN.name}: {dict(fixed)}"


@pytest.mark.parametrize(
    "line, counted",
    [
        ('app/x.py:3: error: Name "y" is not defined  [name-defined]', "app/x.py [name-defined]"),
        ("app/x.py:3: note: See https://mypy.rtfd.io", None),
    ],
)
def test_errors_are_counted_per_file_and_code(line, counted):
    match = ERROR.match(line)
    assert (f"{match['path']} [{match['code']}]" if match else None) == counted


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    import os

    os.chdir(ROOT)
    found, _ = run_mypy()
    KNOWN.write_text(json.dumps(dict(sorted(found.items())), indent=1) + "\n")
