"""Run the `uitstroomtafel` CLI in a child process on the suite's clock.

A server or CLI started by a test must agree with the test on what 'today' is, so it runs under
the same frozen, ticking clock: `cli_command(...)` starts this file, which moves the clock to the
instant in UITSTROOM_TEST_CLOCK (set by `clock_env()`) before it hands over to `app.cli.main`.
"""

import os
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_VARIABLE = "UITSTROOM_TEST_CLOCK"


def cli_command(*args: str) -> list[str]:
    """The argv that runs `uitstroomtafel *args` on the suite's clock."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def clock_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's environment) plus the current instant of the suite's
    clock, for a child started with `cli_command`."""
    from app.sqltypes import utcnow

    return {**(os.environ if env is None else env), CLOCK_VARIABLE: utcnow().isoformat()}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    import time_machine

    from app.cli import main

    instant = os.environ.get(CLOCK_VARIABLE)
    if instant:
        time_machine.travel(datetime.fromisoformat(instant), tick=True).start()
    sys.argv = ["uitstroomtafel", *sys.argv[1:]]
    sys.exit(main())
