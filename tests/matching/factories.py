"""Small plain factories for engine inputs: a feasible single-person case and a dwelling that
fits it, with the real 2025 and 2026 limits. Override only what a test is about."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from app.limits.data import aow_ages
from app.matching import CaseProfile, Dwelling, Policy, ScoreWeights, SpreadUsage, YearLimits

MEETING = date(2026, 3, 2)
MEETING_2025 = date(2025, 3, 3)

LIMITS_2025 = YearLimits(
    year=2025,
    low_cap=Decimal("682.96"),
    high_cap=Decimal("731.93"),
    daeb_rent_limit=Decimal("900.07"),
    income_limit_single=Decimal("28375"),
    income_limit_multi=Decimal("38500"),
    income_limit_single_pension=Decimal("27775"),
    income_limit_multi_pension=Decimal("37350"),
    service_costs_count=True,
    service_costs_max=Decimal("48.00"),
    aow_ages=aow_ages(),
)
LIMITS_2026 = YearLimits(
    year=2026,
    low_cap=Decimal("713.02"),
    high_cap=Decimal("764.14"),
    daeb_rent_limit=Decimal("932.93"),
    income_limit_single=Decimal("29400"),
    income_limit_multi=Decimal("39925"),
    income_limit_single_pension=Decimal("28775"),
    income_limit_multi_pension=Decimal("38650"),
    service_costs_count=False,
    service_costs_max=None,
    aow_ages=aow_ages(),
)


def make_policy(**overrides: Any) -> Policy:
    """The domain's default policy for a new table."""
    policy = Policy(
        rooms_by_household_size={1: (1, 3), 2: (2, 3), 3: (3, 4), 4: (3, 5), 5: (4, None)},
        horizon_days=56,
        require_stable_income=True,
        beschikking_required="requested",
        min_registration_months=24,
        max_per_complex=2,
        max_per_neighbourhood=5,
        spread_window_months=24,
        weights=ScoreWeights(),
    )
    return replace(policy, **overrides)


def make_case(**overrides: Any) -> CaseProfile:
    case = CaseProfile(
        id="case-1",
        ready_since=date(2025, 3, 2),
        birth_year=1990,
        adults=1,
        children=0,
        annual_taxable=Decimal("18000.00"),
        income_stable=True,
        budget_management="none",
        registration_date=date(2023, 1, 15),
        beschikking_status="granted",
        beschikking_valid_until=date(2027, 1, 1),
        support_intensity="light",
        needs_complex_manager=False,
        urgency=False,
        rent_arrears_corporation_ids=frozenset(),
        wheelchair=False,
        step_free=False,
        max_floor=None,
        pets=False,
        preferred_areas=(),
        excluded_areas=(),
        contract_form="either",
    )
    return replace(case, **overrides)


def make_dwelling(**overrides: Any) -> Dwelling:
    dwelling = Dwelling(
        id="dwelling-1",
        corporation_id="corp-a",
        municipality_code="GM0034",
        neighbourhood_code="BU00340101",
        complex_key="corp-a:complex-1",
        rooms=2,
        floor=0,
        has_lift=False,
        wheelchair_accessible=False,
        rent_base=Decimal("600.00"),
        eligible_service_costs=Decimal("0.00"),
        available_from=MEETING,
        contingent=False,
        complex_manager=False,
        pets_allowed=True,
        min_age=None,
        contract_forms=frozenset({"own_lease"}),
    )
    return replace(dwelling, **overrides)


NO_USAGE = SpreadUsage()
