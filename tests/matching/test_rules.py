"""Each hard rule at and around its boundary, through both the scalar and the vectorised path."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.matching import REASON_CODES, SpreadUsage, evaluate, explain_pair
from app.matching.units import full_months
from tests.matching.factories import (
    LIMITS_2025,
    LIMITS_2026,
    MEETING,
    MEETING_2025,
    NO_USAGE,
    make_case,
    make_dwelling,
    make_policy,
)


def failing(
    case, dwelling, policy=None, limits=LIMITS_2026, meeting=MEETING, usage=NO_USAGE
) -> list[str]:
    """Failing reason codes of one pair; both paths must agree."""
    policy = policy or make_policy()
    explained = explain_pair(case, dwelling, policy, limits, meeting, usage)
    evaluation = evaluate([case], [dwelling], policy, limits, meeting, usage)
    codes = [failure.code for failure in explained.reasons]
    assert evaluation.reasons(0, 0) == codes
    assert explained.feasible == (codes == [])
    return codes


def detail(case, dwelling, code, policy=None, limits=LIMITS_2026, meeting=MEETING, usage=NO_USAGE):
    explained = explain_pair(case, dwelling, policy or make_policy(), limits, meeting, usage)
    return next(f.detail for f in explained.reasons if f.code == code)


def test_reason_codes_are_stable_and_ordered():
    assert REASON_CODES[0] == "rent_above_cap"
    assert REASON_CODES[-2:] == ("complex_cap_reached", "neighbourhood_cap_reached")
    assert len(set(REASON_CODES)) == 19


def test_factory_pair_is_feasible():
    assert failing(make_case(), make_dwelling()) == []


# --- rent_above_cap -------------------------------------------------------------------------


def test_rent_equal_to_low_cap_is_allowed_for_single_person():
    assert failing(make_case(), make_dwelling(rent_base=Decimal("713.02"))) == []


def test_rent_above_low_cap_is_excluded_for_single_person():
    assert failing(make_case(), make_dwelling(rent_base=Decimal("713.03"))) == ["rent_above_cap"]


def test_two_person_household_uses_low_cap():
    couple = make_case(adults=2, annual_taxable=Decimal("30000"))
    assert failing(couple, make_dwelling(rent_base=Decimal("713.03"))) == ["rent_above_cap"]


def test_rent_equal_to_high_cap_is_allowed_for_household_of_three():
    family = make_case(adults=1, children=2, annual_taxable=Decimal("30000"))
    assert failing(family, make_dwelling(rooms=3, rent_base=Decimal("764.14"))) == []


def test_rent_above_high_cap_is_excluded_for_household_of_three():
    family = make_case(adults=1, children=2, annual_taxable=Decimal("30000"))
    dwelling = make_dwelling(rooms=3, rent_base=Decimal("764.15"))
    assert failing(family, dwelling) == ["rent_above_cap"]
    assert detail(family, dwelling, "rent_above_cap")["cap_kind"] == "high"


def test_income_equal_to_limit_keeps_the_low_cap():
    case = make_case(annual_taxable=Decimal("29400.00"))
    assert failing(case, make_dwelling(rent_base=Decimal("713.03"))) == ["rent_above_cap"]


def test_income_above_limit_allows_rent_up_to_the_daeb_rent_limit():
    case = make_case(annual_taxable=Decimal("29400.01"))
    assert failing(case, make_dwelling(rent_base=Decimal("932.93"))) == []
    assert failing(case, make_dwelling(rent_base=Decimal("932.94"))) == ["rent_above_cap"]


def test_single_at_pension_age_uses_the_pension_income_limit():
    income = Decimal("29000")  # above the 2026 pension limit 28,775, below the normal 29,400
    # Born in January: 67 (the AOW age of 2026) before the March meeting, or not yet 67.
    pensioner = make_case(birth_year=MEETING.year - 67, birth_month=1, annual_taxable=income)
    younger = make_case(birth_year=MEETING.year - 66, birth_month=1, annual_taxable=income)
    dwelling = make_dwelling(rent_base=Decimal("800.00"))
    assert failing(pensioner, dwelling) == []
    assert failing(younger, dwelling) == ["rent_above_cap"]
    found = detail(younger, dwelling, "rent_above_cap")
    assert found["pension_age_applied"] is False
    assert found["pension_age_basis"] == "birth_month"


def test_couple_at_pension_age_uses_the_multi_person_pension_limit():
    income = Decimal("39000")  # above 38,650 (pension, 2+), below 39,925 (2+)
    couple = make_case(adults=2, birth_year=MEETING.year - 70, annual_taxable=income)
    assert failing(couple, make_dwelling(rent_base=Decimal("800.00"))) == []


def dwelling_2025(base: str, service_costs: str):
    return make_dwelling(
        rent_base=Decimal(base),
        eligible_service_costs=Decimal(service_costs),
        available_from=MEETING_2025,
    )


def test_service_costs_count_up_to_the_maximum_in_2025():
    case = make_case(annual_taxable=Decimal("20000"))
    at_cap = dwelling_2025("634.96", "60.00")  # 634.96 + 48.00 = 682.96
    cent_over = dwelling_2025("634.97", "60.00")
    assert failing(case, at_cap, limits=LIMITS_2025, meeting=MEETING_2025) == []
    assert failing(case, cent_over, limits=LIMITS_2025, meeting=MEETING_2025) == ["rent_above_cap"]


def test_service_costs_below_the_maximum_count_in_full_in_2025():
    case = make_case(annual_taxable=Decimal("20000"))
    dwelling = dwelling_2025("660.00", "23.00")
    assert failing(case, dwelling, limits=LIMITS_2025, meeting=MEETING_2025) == ["rent_above_cap"]
    found = detail(case, dwelling, "rent_above_cap", limits=LIMITS_2025, meeting=MEETING_2025)
    assert found["test_rent"] == "683.00"
    assert found["counted_service_costs"] == "23.00"


def test_service_costs_do_not_count_in_2026():
    dwelling = make_dwelling(rent_base=Decimal("713.02"), eligible_service_costs=Decimal("80.00"))
    assert failing(make_case(), dwelling) == []


def test_rent_failure_reports_the_deciding_figures_as_strings():
    found = detail(make_case(), make_dwelling(rent_base=Decimal("713.03")), "rent_above_cap")
    assert found["test_rent"] == "713.03"
    assert found["cap"] == "713.02"
    assert found["cap_kind"] == "low"
    assert found["income_limit"] == "29400.00"
    assert found["household_size"] == 1


def test_money_with_sub_cent_precision_is_refused():
    with pytest.raises(ValueError, match="two decimals"):
        failing(make_case(), make_dwelling(rent_base=Decimal("713.021")))


# --- size_mismatch --------------------------------------------------------------------------


def test_single_person_fits_one_to_three_rooms():
    assert failing(make_case(), make_dwelling(rooms=1)) == []
    assert failing(make_case(), make_dwelling(rooms=3)) == []
    assert failing(make_case(), make_dwelling(rooms=4)) == ["size_mismatch"]


def test_couple_needs_at_least_two_rooms():
    assert failing(make_case(adults=2), make_dwelling(rooms=1)) == ["size_mismatch"]


def test_household_of_four_has_a_maximum_but_five_has_none():
    four = make_case(adults=2, children=2, annual_taxable=Decimal("30000"))
    five = make_case(adults=2, children=3, annual_taxable=Decimal("30000"))
    big = make_dwelling(rooms=6, rent_base=Decimal("700.00"))
    assert failing(four, big) == ["size_mismatch"]
    assert failing(five, big) == []


def test_household_of_six_uses_the_entry_for_five():
    six = make_case(adults=2, children=4, annual_taxable=Decimal("30000"))
    assert failing(six, make_dwelling(rooms=4, rent_base=Decimal("700.00"))) == []
    assert failing(six, make_dwelling(rooms=3, rent_base=Decimal("700.00"))) == ["size_mismatch"]
    assert failing(six, make_dwelling(rooms=9, rent_base=Decimal("700.00"))) == []


# --- access and house rules -----------------------------------------------------------------


def test_wheelchair_user_needs_a_wheelchair_accessible_dwelling():
    case = make_case(wheelchair=True)
    assert failing(case, make_dwelling()) == ["not_wheelchair_accessible"]
    assert failing(case, make_dwelling(wheelchair_accessible=True)) == []


def test_step_free_means_ground_floor_or_a_lift():
    case = make_case(step_free=True)
    assert failing(case, make_dwelling(floor=0)) == []
    assert failing(case, make_dwelling(floor=1)) == ["not_step_free"]
    assert failing(case, make_dwelling(floor=4, has_lift=True)) == []


def test_floor_above_maximum_is_excluded():
    case = make_case(max_floor=2)
    assert failing(case, make_dwelling(floor=2)) == []
    assert failing(case, make_dwelling(floor=3)) == ["floor_too_high"]
    assert failing(make_case(max_floor=None), make_dwelling(floor=12)) == []


def test_pets_need_a_dwelling_that_allows_them():
    assert failing(make_case(pets=True), make_dwelling(pets_allowed=False)) == ["pets_not_allowed"]
    assert failing(make_case(pets=False), make_dwelling(pets_allowed=False)) == []


def test_age_below_minimum_age_is_excluded():
    dwelling = make_dwelling(min_age=55)
    born_january = make_case(birth_year=MEETING.year - 55, birth_month=1)  # 55 in March
    born_december = make_case(birth_year=MEETING.year - 55, birth_month=12)  # still 54
    assert failing(born_january, dwelling) == []
    assert failing(born_december, dwelling) == ["age_restricted"]
    assert failing(make_case(birth_year=MEETING.year - 54, birth_month=1), dwelling) == [
        "age_restricted"
    ]


def test_without_birth_month_the_youngest_possible_age_decides_a_minimum_age():
    dwelling = make_dwelling(min_age=55)
    case = make_case(birth_year=MEETING.year - 55)  # 54 or 55 in March, depending on the month
    assert failing(case, dwelling) == ["age_restricted"]
    assert detail(case, dwelling, "age_restricted") == {
        "age": 54,
        "min_age": 55,
        "age_basis": "uncertain_strict",
    }
    assert failing(make_case(birth_year=MEETING.year - 56), dwelling) == []


# --- areas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("area", ["GM0034", "WK003401", "BU00340101"])
def test_excluded_area_contains_the_neighbourhood_by_cbs_nesting(area):
    assert failing(make_case(excluded_areas=(area,)), make_dwelling()) == ["excluded_area"]


@pytest.mark.parametrize("area", ["GM0003", "GM0340", "WK003402", "BU00340102"])
def test_excluded_area_elsewhere_does_not_exclude(area):
    assert failing(make_case(excluded_areas=(area,)), make_dwelling()) == []


def test_excluded_area_detail_names_the_area():
    case = make_case(excluded_areas=("GM0363", "WK003401"))
    assert detail(case, make_dwelling(), "excluded_area")["area"] == "WK003401"


# --- time, contract, support ----------------------------------------------------------------


def test_available_on_the_last_day_of_the_horizon_is_allowed():
    last_day = make_dwelling(available_from=MEETING + timedelta(days=56))
    day_after = make_dwelling(available_from=MEETING + timedelta(days=57))
    assert failing(make_case(), last_day) == []
    assert failing(make_case(), day_after) == ["not_available_in_horizon"]


def test_contract_form_must_be_accepted_by_the_dwelling():
    intermediate_only = make_dwelling(contract_forms=frozenset({"intermediate_lease"}))
    case = make_case(contract_form="own_lease")
    assert failing(case, intermediate_only) == ["contract_form_mismatch"]
    assert failing(make_case(contract_form="intermediate_lease"), intermediate_only) == []


def test_either_contract_form_needs_at_least_one_accepted_form():
    case = make_case(contract_form="either")
    assert failing(case, make_dwelling(contract_forms=frozenset())) == ["contract_form_mismatch"]
    assert failing(case, make_dwelling(contract_forms=frozenset({"own_lease"}))) == []


def test_needing_a_complex_manager_excludes_dwellings_without_one():
    case = make_case(needs_complex_manager=True)
    assert failing(case, make_dwelling(complex_manager=False)) == ["no_complex_manager"]
    assert failing(case, make_dwelling(complex_manager=True)) == []


# --- income, beschikking, arrears, registration ---------------------------------------------


def test_unstable_income_without_budget_management_is_excluded():
    case = make_case(income_stable=False, budget_management="none")
    assert failing(case, make_dwelling()) == ["no_stable_income"]


def test_unstable_income_with_budget_management_is_allowed():
    for management in ("budgetbeheer", "bewindvoering"):
        case = make_case(income_stable=False, budget_management=management)
        assert failing(case, make_dwelling()) == []


def test_unstable_income_is_allowed_when_policy_does_not_require_stability():
    case = make_case(income_stable=False)
    assert failing(case, make_dwelling(), policy=make_policy(require_stable_income=False)) == []


def test_beschikking_below_requirement_is_missing():
    none = make_case(beschikking_status="none", beschikking_valid_until=None)
    requested = make_case(beschikking_status="requested", beschikking_valid_until=None)
    assert failing(none, make_dwelling()) == ["beschikking_missing"]
    assert failing(requested, make_dwelling()) == []
    strict = make_policy(beschikking_required="granted")
    assert failing(requested, make_dwelling(), policy=strict) == ["beschikking_missing"]


def test_beschikking_rule_reads_the_status_not_the_end_date():
    ended = make_case(beschikking_valid_until=MEETING - timedelta(days=1))
    assert failing(ended, make_dwelling()) == []
    requested = make_case(beschikking_status="requested", beschikking_valid_until=None)
    strict = make_policy(beschikking_required="granted")
    assert detail(requested, make_dwelling(), "beschikking_missing", policy=strict)["status"] == (
        "requested"
    )


def test_nothing_is_required_when_policy_requires_no_beschikking():
    none = make_case(beschikking_status="none", beschikking_valid_until=None)
    assert failing(none, make_dwelling(), policy=make_policy(beschikking_required="none")) == []


def test_rent_arrears_with_the_dwellings_corporation_exclude_it():
    case = make_case(rent_arrears_corporation_ids=frozenset({"corp-a"}))
    assert failing(case, make_dwelling(corporation_id="corp-a")) == ["rent_arrears"]
    assert failing(case, make_dwelling(corporation_id="corp-b")) == []


def test_registration_of_exactly_the_minimum_full_months_is_enough():
    case = make_case(registration_date=date(2024, 3, 2))
    assert failing(case, make_dwelling()) == []


def test_registration_one_day_short_of_the_minimum_is_too_short():
    case = make_case(registration_date=date(2024, 3, 3))
    assert failing(case, make_dwelling()) == ["registration_too_short"]
    found = detail(case, make_dwelling(), "registration_too_short")
    assert found["months_registered"] == 23


def test_registration_months_count_at_month_ends():
    assert full_months(date(2023, 12, 31), date(2025, 12, 30)) == 23
    assert full_months(date(2023, 12, 31), date(2025, 12, 31)) == 24
    assert full_months(date(2024, 1, 31), date(2026, 2, 28)) == 24
    assert full_months(date(2024, 2, 29), date(2026, 2, 28)) == 23
    case = make_case(registration_date=date(2024, 1, 31))
    assert failing(case, make_dwelling(), meeting=date(2026, 1, 30)) == ["registration_too_short"]
    assert failing(case, make_dwelling(), meeting=date(2026, 1, 31)) == []


def test_no_registration_counts_as_zero_months():
    case = make_case(registration_date=None)
    assert failing(case, make_dwelling()) == ["registration_too_short"]


def test_contingent_dwelling_needs_no_registration_duration():
    case = make_case(registration_date=None)
    assert failing(case, make_dwelling(contingent=True)) == []


def test_urgency_needs_no_registration_duration():
    case = make_case(registration_date=date(2026, 1, 1), urgency=True)
    assert failing(case, make_dwelling()) == []


# --- spread caps ----------------------------------------------------------------------------


def test_complex_at_its_cap_is_excluded():
    usage = SpreadUsage(per_complex={"corp-a:complex-1": 2})
    assert failing(make_case(), make_dwelling(), usage=usage) == ["complex_cap_reached"]


def test_complex_below_its_cap_is_allowed():
    usage = SpreadUsage(per_complex={"corp-a:complex-1": 1})
    assert failing(make_case(), make_dwelling(), usage=usage) == []


def test_neighbourhood_at_its_cap_is_excluded():
    usage = SpreadUsage(per_neighbourhood={"BU00340101": 5})
    assert failing(make_case(), make_dwelling(), usage=usage) == ["neighbourhood_cap_reached"]
    usage = SpreadUsage(per_neighbourhood={"BU00340101": 4})
    assert failing(make_case(), make_dwelling(), usage=usage) == []


# --- all reasons ----------------------------------------------------------------------------


def test_every_failing_reason_is_reported_in_code_order():
    case = make_case(pets=True, wheelchair=True, beschikking_status="none")
    dwelling = make_dwelling(rent_base=Decimal("800.00"), pets_allowed=False)
    assert failing(case, dwelling) == [
        "rent_above_cap",
        "not_wheelchair_accessible",
        "pets_not_allowed",
        "beschikking_missing",
    ]


def test_unknown_enumeration_values_are_refused():
    with pytest.raises(ValueError, match="contract form"):
        failing(make_case(contract_form="sublet"), make_dwelling())
    with pytest.raises(ValueError, match="beschikking"):
        failing(make_case(beschikking_status="maybe"), make_dwelling())
