"""The code base passes ruff's lint and format checks (part of the one test command)."""

import subprocess
from pathlib import Path

import pytest

from tests.commands import installed

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_passes(command):
    ruff = installed("ruff")
    assert ruff, "ruff is part of the [test] extra"
    result = subprocess.run([ruff, *command, "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
