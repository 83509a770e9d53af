"""Dates as the Netherlands sees them: 'today' is the date in Europe/Amsterdam."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def today() -> date:
    return datetime.now(AMSTERDAM).date()
