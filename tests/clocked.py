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

import time_machine

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


def follow_suite_clock(reading: str) -> time_machine.travel:
    """Move this process's clock to the suite's (`reading`, from `clock_env`), ticking; the
    travel is returned to be stopped."""
    instant, read_at = reading.split("|")
    # The child starts ticking only after its imports: add the real time they took, so
    # its clock agrees with the suite's instead of lagging by the start-up time.
    started = datetime.fromisoformat(instant) + timedelta(seconds=REAL_TIME() - float(read_at))
    travel = time_machine.travel(started, tick=True)
    travel.start()
    # time-machine ticks from the clock's first reading, not from start(): read it now, or it
    # stands still until the process first asks the time (a server: at its first claim or
    # request, seconds later under load) and lags the suite's clock by that long.
    time.time()
    return travel


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from app.cli import main

    reading = os.environ.get(CLOCK_VARIABLE)
    if reading:
        follow_suite_clock(reading)
    sys.argv = ["uitstroomtafel", *sys.argv[1:]]
    sys.exit(main())
