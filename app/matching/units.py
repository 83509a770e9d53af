"""Exact money and calendar arithmetic shared by the vectorised and the scalar rules."""

from datetime import date
from decimal import Decimal
from functools import lru_cache

SCORE_SCALE = 1_000_000
"""Scores are compared and optimised as integer micro-points, so results do not depend on float
summation order or platform."""


@lru_cache(maxsize=4096)
def to_cents(amount: Decimal) -> int:
    """Convert EUR to integer cents; refuse sub-cent amounts rather than round a boundary away.

    Kept per amount: a table's every case converts the year's few rent caps and income limits
    again (equal amounts give equal cents, so a kept one is never stale)."""
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"money must have at most two decimals, got {amount}")
    return int(cents)


def format_cents(cents: int) -> str:
    """Cents as a plain EUR string with two decimals, e.g. 71302 -> '713.02'."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def full_months(start: date, end: date) -> int:
    """Full months from `start` to `end`: a month counts once its day number is reached."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months - (1 if end.day < start.day else 0)


def months_registered(registration_date: date | None, meeting_date: date) -> int:
    """Full months of house-seeker registration at the meeting; none (or in the future) is 0."""
    if registration_date is None:
        return 0
    return max(0, full_months(registration_date, meeting_date))


def to_score_units(score: float) -> int:
    """Round a float score to integer micro-points (half to even, as numpy.rint does)."""
    return round(score * SCORE_SCALE)


def output_score(units: int) -> float:
    """Integer micro-points as the 4-decimal float shown to people and written to JSON."""
    return round(units / SCORE_SCALE, 4)
