"""Dates as the Netherlands sees them: 'today' is the date in Europe/Amsterdam."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.problems import Unprocessable

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def today() -> date:
    return datetime.now(AMSTERDAM).date()


def local_date(moment: datetime) -> date:
    """The day a moment falls on in Europe/Amsterdam (a stored UTC timestamp's date is the day
    before for anything between midnight and 01:00 or 02:00 local time)."""
    return moment.astimezone(AMSTERDAM).date()


HORIZON = timedelta(days=366)
"""How far from today a planned day may lie: a meeting, a viewing, an action's due date. A day
beyond it is taken for a typing error (2100 for 2026) rather than a plan."""


def within_horizon(name: str, value: date, *, back: bool = False) -> date:
    """`value` if it lies at most `HORIZON` after today (and, with `back`, at most `HORIZON`
    before it); else 400 on body field `name` (`date_too_far_ahead`, `date_too_far_back`)."""
    now = today()
    if value > now + HORIZON:
        raise Unprocessable(name, "lies more than a year ahead", "date_too_far_ahead")
    if back and value < now - HORIZON:
        raise Unprocessable(name, "lies more than a year back", "date_too_far_back")
    return value
