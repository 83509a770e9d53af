"""Calendar periods (month, quarter, year) cut to a date range."""

from datetime import date, timedelta

from app.monitor.models import Period


def periods(start: date, end: date, period: Period) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each period overlapping [start, end], clipped to it.

    Labels: `2026-01` (month), `2026-Q1` (quarter), `2026` (year).
    """
    result = []
    cursor = start
    while cursor <= end:
        if period == Period.month:
            label = f"{cursor.year}-{cursor.month:02d}"
            first_month, months = cursor.month, 1
        elif period == Period.quarter:
            quarter = (cursor.month - 1) // 3
            label = f"{cursor.year}-Q{quarter + 1}"
            first_month, months = quarter * 3 + 1, 3
        else:
            label = f"{cursor.year}"
            first_month, months = 1, 12
        next_month = first_month + months
        next_start = date(cursor.year + (next_month - 1) // 12, (next_month - 1) % 12 + 1, 1)
        last = min(end, next_start - timedelta(days=1))
        result.append((label, cursor, last))
        cursor = next_start
    return result


def calendar_year(year: int) -> tuple[list[tuple[str, date, date]], dict[str, list[str]]]:
    """The periods of one calendar year's table: its twelve months, then the four quarters and
    the year, as (label, first day, last day); and for each quarter and the year, the labels of
    its months (each is their sum)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    months = periods(first, last, Period.month)
    coarse = periods(first, last, Period.quarter) + periods(first, last, Period.year)
    parts = {
        label: [m for m, m_first, m_last in months if c_first <= m_first and m_last <= c_last]
        for label, c_first, c_last in coarse
    }
    return months + coarse, parts
