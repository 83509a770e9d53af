"""A child process on the suite's clock (tests/clocked.py) keeps time with the suite."""

import time
from datetime import datetime, timedelta

from app.sqltypes import utcnow
from tests.clocked import CLOCK_VARIABLE, REAL_TIME, clock_env, follow_suite_clock


def test_a_childs_clock_ticks_from_its_start_not_from_its_first_reading() -> None:
    """time-machine's ticking clock starts ticking when it is first read, not when it is
    started: a server stood still until its first claim or request, and lagged the suite by
    as long (40 s under load), so the webhooks a test queued were not due there for 40 s."""
    reading = clock_env({})[CLOCK_VARIABLE]
    instant, read_at = reading.split("|")
    travel = follow_suite_clock(reading)
    try:
        time.sleep(1.0)  # the child imports and starts; nothing reads the clock meanwhile
        lag = datetime.fromisoformat(instant) + timedelta(seconds=REAL_TIME() - float(read_at))
        lag -= utcnow()
    finally:
        travel.stop()
    assert abs(lag) < timedelta(seconds=0.5)
