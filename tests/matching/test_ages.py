"""Age and AOW age from a birth year and an optional birth month.

These dates are the law's (the AOW table per birth cohort), not the suite's clock: the engine is
pure and takes the meeting date as an argument.
"""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import applicable_income_limit
from app.matching.ages import (
    add_months,
    age_on,
    age_reading,
    birth_window,
    pension_reading,
    reached_aow_age,
)
from app.matching.rules import _cap_for
from app.matching.units import to_cents
from tests.matching.factories import LIMITS_2026, make_case, make_dwelling
from tests.matching.test_rules import detail, failing

AOW = LIMITS_2026.aow_ages
BETWEEN_THE_LIMITS = Decimal("29000")  # above the 2026 pension limit 28,775, below 29,400


def test_born_in_december_1959_is_not_at_pension_age_in_january_2026():
    case = make_case(birth_year=1959, birth_month=12, annual_taxable=BETWEEN_THE_LIMITS)
    january = date(2026, 1, 12)
    assert pension_reading(1959, 12, january, AOW).at_pension_age is False
    limit = applicable_income_limit(case, LIMITS_2026, january)
    assert (limit.pension_age_applied, limit.pension_age_basis) == (False, "birth_month")
    assert limit.limit_cents == to_cents(LIMITS_2026.income_limit_single)
    dwelling = make_dwelling(rent_base=Decimal("800.00"), available_from=january)
    assert failing(case, dwelling, meeting=january) == ["rent_above_cap"]


def test_born_in_december_1959_is_at_pension_age_once_december_2026_has_passed():
    case = make_case(birth_year=1959, birth_month=12, annual_taxable=BETWEEN_THE_LIMITS)
    later = date(2027, 1, 4)
    assert pension_reading(1959, 12, later, AOW).at_pension_age is True
    assert applicable_income_limit(case, LIMITS_2026, later).pension_age_applied is True


def test_in_the_month_the_aow_age_is_reached_the_day_is_unknown_and_the_strict_reading_holds():
    reading = pension_reading(1959, 12, date(2026, 12, 14), AOW)
    assert (reading.at_pension_age, reading.basis) == (None, "uncertain_strict")


def test_born_in_january_1959_is_at_pension_age_in_march_2026():
    case = make_case(birth_year=1959, birth_month=1, annual_taxable=BETWEEN_THE_LIMITS)
    march = date(2026, 3, 2)
    limit = applicable_income_limit(case, LIMITS_2026, march)
    assert (limit.pension_age_applied, limit.pension_age_basis) == (True, "birth_month")
    dwelling = make_dwelling(rent_base=Decimal("800.00"), available_from=march)
    assert failing(case, dwelling, meeting=march) == []


def test_without_birth_month_an_uncertain_pension_age_gets_the_limit_under_which_the_cap_applies():
    # Born in 1959: at pension age in March 2026 if born in January or February, not after.
    case = make_case(birth_year=1959, annual_taxable=BETWEEN_THE_LIMITS)
    march = date(2026, 3, 2)
    dwelling = make_dwelling(rent_base=Decimal("800.00"), available_from=march)
    assert failing(case, dwelling, meeting=march) == ["rent_above_cap"]
    found = detail(case, dwelling, "rent_above_cap", meeting=march)
    assert found["pension_age_applied"] is False
    assert found["pension_age_basis"] == "uncertain_strict"
    assert found["cap_kind"] == "low"


def test_without_birth_month_a_certain_pension_age_says_the_birth_year_decided():
    born_1950 = pension_reading(1950, None, date(2026, 3, 2), AOW)
    born_1980 = pension_reading(1980, None, date(2026, 3, 2), AOW)
    assert (born_1950.at_pension_age, born_1950.basis) == (True, "birth_year")
    assert (born_1980.at_pension_age, born_1980.basis) == (False, "birth_year")


def test_from_2028_the_aow_age_is_67_years_and_3_months():
    born = date(1961, 1, 15)
    assert reached_aow_age(born, date(2028, 4, 14), AOW) is False  # 67 years 2 months
    assert reached_aow_age(born, date(2028, 4, 15), AOW) is True


def test_born_in_december_1960_keeps_the_aow_age_of_67_reached_in_2027():
    born = date(1960, 12, 10)
    assert reached_aow_age(born, date(2027, 12, 9), AOW) is False
    assert reached_aow_age(born, date(2027, 12, 10), AOW) is True
    assert reached_aow_age(born, date(2028, 2, 1), AOW) is True  # 2028's age is higher


def test_the_aow_table_reproduces_the_published_cohort_bounds():
    # Rijksoverheid: 2028 for births after 31 Dec 1960 and before 1 Oct 1961, 2029 from then.
    assert add_months(date(1961, 9, 30), 67 * 12 + 3) == date(2028, 12, 30)
    assert reached_aow_age(date(1961, 9, 30), date(2028, 12, 30), AOW) is True
    assert reached_aow_age(date(1961, 10, 1), date(2028, 12, 31), AOW) is False
    assert reached_aow_age(date(1961, 10, 1), date(2029, 1, 1), AOW) is True
    assert reached_aow_age(date(1957, 2, 28), date(2024, 1, 1), AOW) is True  # reached in 2023


def test_an_aow_age_not_yet_set_is_not_reached_before_it_could_be_and_uncertain_after():
    last = AOW.cohorts[-1]
    born = last.born_before + timedelta(days=40)
    assert reached_aow_age(born, date(last.reached_in, 12, 31), AOW) is False
    far_later = add_months(born, 12 * 75)
    assert reached_aow_age(born, far_later, AOW) is None


def test_age_with_a_month_is_exact_outside_the_birth_month():
    assert age_reading(1971, 3, date(2026, 3, 2)).basis == "uncertain_strict"
    assert age_reading(1971, 3, date(2026, 4, 1)) == age_reading(1971, 3, date(2026, 4, 30))
    assert age_reading(1971, 3, date(2026, 4, 1)).age == 55
    assert age_reading(1971, 4, date(2026, 3, 31)).age == 54
    assert age_reading(1971, 4, date(2026, 3, 31)).basis == "birth_month"


def _every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@settings(deadline=None)
@given(
    birth_year=st.integers(1940, 1990),
    birth_month=st.none() | st.integers(1, 12),
    meeting=st.dates(date(2025, 1, 1), date(2036, 12, 31)),
    adults=st.integers(1, 2),
    children=st.integers(0, 3),
    income=st.sampled_from(["20000", "28775", "28775.01", "29000", "29400", "38700", "60000"]),
)
def test_the_strict_reading_never_allows_more_rent_or_a_younger_age_than_any_real_birth_date(
    birth_year, birth_month, meeting, adults, children, income
):
    """Brute force over every birth date the window allows: the cap the rules apply is at most
    the cap of each one whose pension status the table decides, and the age at most its age."""
    case = make_case(
        birth_year=birth_year,
        birth_month=birth_month,
        adults=adults,
        children=children,
        annual_taxable=Decimal(income),
    )
    size, cents = adults + children, to_cents(Decimal(income))
    limit = applicable_income_limit(case, LIMITS_2026, meeting)
    applied_cap = _cap_for(size, cents, limit.limit_cents, LIMITS_2026)[1]
    below = LIMITS_2026.income_limit_single if size == 1 else LIMITS_2026.income_limit_multi
    at = (
        LIMITS_2026.income_limit_single_pension
        if size == 1
        else LIMITS_2026.income_limit_multi_pension
    )
    age = age_reading(birth_year, birth_month, meeting).age
    for birth in _every_day(*birth_window(birth_year, birth_month)):
        assert age <= age_on(birth, meeting)
        reached = reached_aow_age(birth, meeting, AOW)
        readings = [True, False] if reached is None else [reached]
        for pension in readings:
            cap = _cap_for(size, cents, to_cents(at if pension else below), LIMITS_2026)[1]
            assert applied_cap <= cap
