"""Run the `uitstroomtafel` CLI in a child process on the suite's clock.

A server or CLI started by a test must agree with the test on what 'today' is, so it runs under
the same frozen, ticking clock: `cli_command(...)` starts this file, which moves the clock to the
instant in UITSTROOM_TEST_CLOCK (set by `clock_env()`) before it hands over to `app.cli.main`.
"""

import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_VARIABLE = "UITSTROOM_TEST_CLOCK"
# CLOCK_MONOTONIC: one clock for every process on the machine, and not moved by time-machine.
REAL_TIME = time.monotonic


def cli_command(*args: str) -> list[str]:
    """The argv that runs `uitstroomtafel *args` on the suite's clock."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def clock_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's environment) plus the current instant of the suite's
    clock and the monotonic time it was read at, for a child started with `cli_command`."""
    from app.sqltypes import utcnow

    reading = f"{utcnow().isoformat()}|{REAL_TIME()}"
    return {**(os.environ if env is None else env), CLOCK_VARIABLE: reading}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    import time_machine

    from app.cli import main

    reading = os.environ.get(CLOCK_VARIABLE)
    if reading:
        instant, read_at = reading.split("|")
        # The child starts ticking only after its imports: add the real time they took, so
        # its clock agrees with the suite's instead of lagging by the start-up time.
        started = datetime.fromisoformat(instant) + timedelta(seconds=REAL_TIME() - float(read_at))
        time_machine.travel(started, tick=True).start()
    sys.argv = ["uitstroomtafel", *sys.argv[1:]]
    sys.exit(main())
