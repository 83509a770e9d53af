"""The legal figures shipped with the service, as data with their sources (`app/data/*.json`):
the yearly limits (`limits.json`) and the AOW age per birth cohort (`aow_age.json`).

Both files are read once and checked on load, so a malformed edit fails the start (and the
suite) instead of an agenda.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from app.limits.models import FIGURES, YearLimitsFields
from app.matching import AowAges, AowCohort
from app.matching.ages import add_months
from app.problems import Unprocessable

DATA = Path(__file__).resolve().parent.parent / "data"
LIMITS_FILE = DATA / "limits.json"
AOW_FILE = DATA / "aow_age.json"


@dataclass(frozen=True, slots=True)
class ShippedYear:
    year: int
    figures: dict[str, Any]
    """Column name -> value (Decimal money, bool), exactly the FIGURES columns."""
    source: str


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


ORDERED = (
    ("low_cap", "high_cap"),
    ("high_cap", "daeb_rent_limit"),
    ("income_limit_single", "income_limit_multi"),
    ("income_limit_single_pension", "income_limit_multi_pension"),
    ("daeb_income_limit_single", "daeb_income_limit_multi"),
    ("income_limit_single", "daeb_income_limit_single"),
    ("income_limit_multi", "daeb_income_limit_multi"),
    ("income_limit_single_pension", "daeb_income_limit_single"),
    ("income_limit_multi_pension", "daeb_income_limit_multi"),
)
"""(lower, higher): figures the law orders. The two aftoppingsgrenzen lie below the huurtoeslag
rent limit (Wet op de huurtoeslag art. 20), the low one below the high one; every income limit
of a household of two or more is above that of one person (the same notices, docs/domain.md);
the passend-toewijzen income limits (the households passend toewijzen protects) lie below the
DAEB income limit of the same household (the target group of social housing they belong to):
the two rows of the notice typed in each other's place gave the low caps to incomes up to the
DAEB limit.
A figure typed in the wrong field would otherwise have passed every household or none for a
whole year's agendas without a word."""


def check_consistent(figures: dict[str, Any]) -> None:
    """400 `limits_out_of_order` on the higher figure of the first pair in `ORDERED` that a
    year's figures (Decimal euros) reverse; 400 `limit_not_positive` on a cap, rent limit or
    income limit of 0 (no legal limit is 0: such a year would pass no household, or none of its
    dwellings, under the rule)."""
    for name in FIGURES:
        if name not in ("service_costs_count", "service_costs_max") and figures[name] <= 0:
            raise Unprocessable(
                name,
                f"{name} is 0; a legal limit is above 0. Check the figure.",
                "limit_not_positive",
            )
    for lower, higher in ORDERED:
        if figures[lower] > figures[higher]:
            raise Unprocessable(
                higher,
                f"{higher} ({figures[higher]}) is below {lower} ({figures[lower]}); the law "
                f"puts it above. Check both figures.",
                "limits_out_of_order",
            )


@cache
def shipped_limits() -> tuple[ShippedYear, ...]:
    """Every year in limits.json, validated like a PUT body, in year order.

    Raises ValueError when a year lacks its source, repeats, or fails validation, the law's
    order of the figures included (`check_consistent`, as for a PUT)."""
    years = []
    for entry in _read(LIMITS_FILE)["years"]:
        entry = dict(entry)
        year, source = entry.pop("year"), entry.get("source")
        if not source:
            raise ValueError(f"{LIMITS_FILE.name}: {year} has no source")
        fields = YearLimitsFields.model_validate(entry)
        figures = fields.model_dump(include=set(FIGURES))
        if fields.daeb_rent_limit is None:
            raise ValueError(f"{LIMITS_FILE.name}: {year} has no daeb_rent_limit")
        try:
            check_consistent(figures)
        except Unprocessable as refused:
            raise ValueError(f"{LIMITS_FILE.name}: {year}: {refused}") from refused
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise ValueError(
                f"{LIMITS_FILE.name}: year {year!r} is not a calendar year 2000-2100 (as the "
                "API's /v1/limits/{year} takes)"
            )
        years.append(ShippedYear(year, figures, str(source)))
    numbers = [y.year for y in years]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{LIMITS_FILE.name}: a year appears twice")
    return tuple(sorted(years, key=lambda y: y.year))


def _check_cohorts(cohorts: list[AowCohort]) -> None:
    """Cohorts must be contiguous month ranges, one per year, with an AOW age that never falls,
    and everyone in a cohort must reach its age within its year (that is what defines it)."""
    for cohort in cohorts:
        name = f"{AOW_FILE.name}: cohort {cohort.reached_in}"
        if cohort.born_from.day != 1 or cohort.born_before.day != 1:
            raise ValueError(f"{name}: bounds must be the first of a month")
        if not cohort.born_from < cohort.born_before:
            raise ValueError(f"{name}: empty birth range")
        if not 0 <= cohort.months < 12:
            raise ValueError(f"{name}: months must be 0-11")
        months = cohort.years * 12 + cohort.months
        first_reach = add_months(cohort.born_from, months)
        last_reach = add_months(cohort.born_before - timedelta(days=1), months)
        if first_reach.year != cohort.reached_in or last_reach.year != cohort.reached_in:
            raise ValueError(f"{name}: its births do not reach the AOW age in {cohort.reached_in}")
    for earlier, later in pairwise(cohorts):
        if earlier.born_before != later.born_from or later.reached_in != earlier.reached_in + 1:
            raise ValueError(f"{AOW_FILE.name}: cohorts {earlier.reached_in}, {later.reached_in}")
        if (later.years, later.months) < (earlier.years, earlier.months):
            raise ValueError(f"{AOW_FILE.name}: the AOW age falls in {later.reached_in}")


@cache
def aow_ages() -> AowAges:
    """The AOW age per birth cohort (Algemene Ouderdomswet art. 7a), each row with its source in
    aow_age.json. Raises ValueError when the table is inconsistent."""
    cohorts = [
        AowCohort(
            born_from=date.fromisoformat(row["born_from"]),
            born_before=date.fromisoformat(row["born_before"]),
            reached_in=int(row["reached_in"]),
            years=int(row["years"]),
            months=int(row["months"]),
        )
        for row in _read(AOW_FILE)["cohorts"]
        if row.get("source")
    ]
    if len(cohorts) != len(_read(AOW_FILE)["cohorts"]):
        raise ValueError(f"{AOW_FILE.name}: every cohort needs its source")
    _check_cohorts(cohorts)
    return AowAges(tuple(cohorts))


def aow_age_in_year(year: int) -> tuple[int, int] | None:
    """(years, months) of the AOW age of those who reach it in `year`; None if not in the table."""
    for cohort in aow_ages().cohorts:
        if cohort.reached_in == year:
            return cohort.years, cohort.months
    return None
