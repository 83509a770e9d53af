"""The suite's `xdist_group` marks hold: the tests of a group run in one worker process."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

GROUPED = """
import os

import pytest

@pytest.mark.xdist_group("one")
@pytest.mark.parametrize("n", range(8))
def test_grouped(n):
    with open(f"{n}.worker", "w") as worker:
        worker.write(os.environ["PYTEST_XDIST_WORKER"])

@pytest.mark.parametrize("n", range(8))
def test_not_grouped(n):
    pass
"""


def run_grouped(tmp_path: Path, *plugins: str) -> set[str]:
    """The workers the grouped tests ran in, with `plugins` loaded and nothing else of ours."""
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    options = [option for plugin in plugins for option in ("-p", plugin)]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            "--basetemp",
            str(tmp_path / "base"),
            "-n",
            "2",
            "--dist",
            "loadgroup",
            *options,
            str(tmp_path / "test_grouped.py"),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {path.read_text() for path in tmp_path.glob("*.worker")}


def test_the_tests_of_one_group_run_in_one_worker(tmp_path: Path) -> None:
    assert len(run_grouped(tmp_path, "tests.xdist_groups")) == 1
