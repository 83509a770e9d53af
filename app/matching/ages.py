"""Age and AOW (pension) age on a meeting date, from a birth year and, when known, a birth month.

No birth date is recorded, so a birth is a window of dates: the whole year, or one month of it.
When every date in the window gives the same answer, the answer is certain. When it does not,
the rules take the reading that cannot admit too much:
- `age` is the lowest age anyone born in the window has on the date, so a minimum age never
  admits someone too young;
- for pension age, the caller (`facts.applicable_income_limit`) picks the reading under which
  passend toewijzen allows the least rent.

`basis` says which it was: `birth_month` (decided by year and month), `birth_year` (decided by
the year alone: the month was not recorded and does not matter on this date) or
`uncertain_strict` (the window holds both answers; the strict reading was used).
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from app.matching.types import AowAges, AowCohort

BIRTH_MONTH = "birth_month"
BIRTH_YEAR = "birth_year"
UNCERTAIN_STRICT = "uncertain_strict"


def birth_window(birth_year: int, birth_month: int | None) -> tuple[date, date]:
    """The first and the last possible birth date."""
    if birth_month is None:
        return date(birth_year, 1, 1), date(birth_year, 12, 31)
    if not 1 <= birth_month <= 12:
        raise ValueError(f"birth month must be 1-12, got {birth_month}")
    return date(birth_year, birth_month, 1), date(
        birth_year, birth_month, monthrange(birth_year, birth_month)[1]
    )


def add_months(start: date, months: int) -> date:
    """`start` plus whole months; a day the target month lacks becomes its last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, monthrange(year, month + 1)[1]))


def age_on(birth: date, on: date) -> int:
    """Full years: the age goes up on the birthday."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _certain_basis(birth_month: int | None) -> str:
    return BIRTH_MONTH if birth_month is not None else BIRTH_YEAR


@dataclass(frozen=True, slots=True)
class AgeReading:
    age: int
    """The lowest age anyone born in the window has on the date (years)."""
    basis: str


READINGS_KEPT = 4096
"""Readings kept per process (a table's cases share a few hundred birth windows; the readings
are a pure function of their arguments, so a kept one is never stale)."""


@lru_cache(maxsize=READINGS_KEPT)
def age_reading(birth_year: int, birth_month: int | None, on: date) -> AgeReading:
    """The client's age on `on` for minimum-age rules: the youngest reading of the window."""
    earliest, latest = birth_window(birth_year, birth_month)
    youngest, oldest = age_on(latest, on), age_on(earliest, on)
    basis = _certain_basis(birth_month) if youngest == oldest else UNCERTAIN_STRICT
    return AgeReading(youngest, basis)


def _cohort_of(birth: date, table: AowAges) -> AowCohort | None:
    for cohort in table.cohorts:
        if cohort.born_from <= birth < cohort.born_before:
            return cohort
    return None


def _aow_months(cohort: AowCohort) -> int:
    return cohort.years * 12 + cohort.months


def reached_aow_age(birth: date, on: date, table: AowAges) -> bool | None:
    """Whether someone born on `birth` has reached the AOW age on `on`; None when the table
    cannot tell (born after its last cohort, or a date before its first year)."""
    if not table.cohorts:
        return None
    first, last = table.cohorts[0], table.cohorts[-1]
    if birth < first.born_from:
        return True if on >= date(first.reached_in, 1, 1) else None
    cohort = _cohort_of(birth, table)
    if cohort is not None:
        return on >= add_months(birth, _aow_months(cohort))
    # Not yet set: at least the last cohort's age, and reached after the last cohort's year.
    earliest = max(add_months(birth, _aow_months(last)), date(last.reached_in + 1, 1, 1))
    return False if on < earliest else None


@dataclass(frozen=True, slots=True)
class PensionReading:
    at_pension_age: bool | None
    """True or False when certain; None when the birth window holds both answers."""
    basis: str


@lru_cache(maxsize=READINGS_KEPT)
def pension_reading(
    birth_year: int, birth_month: int | None, on: date, table: AowAges
) -> PensionReading:
    """Whether the client has reached the AOW age on `on`.

    The AOW date moves later (never earlier) with a later birth date, so the window's last date
    decides "certainly reached" and its first date "certainly not reached".
    """
    earliest, latest = birth_window(birth_year, birth_month)
    if reached_aow_age(latest, on, table) is True:
        return PensionReading(True, _certain_basis(birth_month))
    if reached_aow_age(earliest, on, table) is False:
        return PensionReading(False, _certain_basis(birth_month))
    return PensionReading(None, UNCERTAIN_STRICT)
