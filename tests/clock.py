"""The suite's clock: every test runs on one frozen 'today', never on the real date.

`UITSTROOM_TEST_TODAY` (ISO date, default 2026-11-30) sets it; `.ci/run` also runs the suite with
the clock in another year, so a test that writes a date must write it relative to `TODAY`.
The clock keeps ticking from 10:00 Europe/Amsterdam on that day (timeouts and leases still run).
"""

import os
from datetime import date, datetime, time, timedelta

from app.timeutil import AMSTERDAM

TODAY = date.fromisoformat(os.environ.get("UITSTROOM_TEST_TODAY") or "2026-11-30")
START = datetime.combine(TODAY, time(10, 0), tzinfo=AMSTERDAM)


def day(offset: int = 0) -> date:
    """The date `offset` days from TODAY (negative: in the past)."""
    return TODAY + timedelta(days=offset)


def iso(offset: int = 0) -> str:
    """`day(offset)` as the API writes it (YYYY-MM-DD)."""
    return day(offset).isoformat()
