"""Run the `uitstroomtafel` CLI inside the test process: faster than a child process, on the
suite's clock already, and with the settings passed in rather than through the environment.
A test that needs what only a process shows (serving, exit codes) uses tests/clocked.py."""

import io
import sys
from contextlib import redirect_stdout

from app.cli import main
from app.settings import Settings, get_settings


def run_cli(database_url: str, *args: str, stdin: str = "") -> str:
    """`uitstroomtafel *args` against `database_url` (the rest of the test run's settings);
    returns what it printed. A command that exits raises SystemExit, as `sys.exit` does."""
    settings: Settings = get_settings().model_copy(update={"database_url": database_url})
    out = io.StringIO()
    saved_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with redirect_stdout(out):
            main(list(args), settings=settings)
    finally:
        sys.stdin = saved_stdin
    return out.getvalue()
