"""Hypothesis strategies for engine inputs, drawn close to the rule boundaries on purpose."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from app.matching import CaseProfile, Dwelling, Policy, SpreadUsage, YearLimits
from tests.matching.factories import (
    LIMITS_2025,
    LIMITS_2026,
    MEETING,
    MEETING_2025,
    make_case,
    make_policy,
)

NEIGHBOURHOODS = ("BU00340101", "BU00340102", "BU00340201", "BU03630101")
AREAS = ("GM0034", "GM0363", "WK003401", "WK003402", "BU00340101", "BU03630101", "GM0003")
COMPLEXES = ("corp-a:c1", "corp-a:c2", "corp-b:c1")
# fmt: off
RENTS = (
    "451.10", "600.00", "634.96", "634.97", "682.96", "682.97", "713.02", "713.03", "731.93",
    "764.14", "764.15", "900.07", "932.93", "932.94",
)
INCOMES = (
    "15000.00", "27775.00", "27775.01", "28375.00", "28375.01", "28775.00", "29400.00",
    "29400.01", "37350.00", "38500.00", "38650.01", "39925.00", "39925.01", "52000.00",
)
# fmt: on
SERVICE_COSTS = ("0.00", "12.50", "48.00", "48.01", "75.00")


@st.composite
def meetings(draw) -> tuple[YearLimits, date]:
    """A meeting in 2025 (service costs count) or 2026 (they do not), with that year's limits."""
    return draw(st.sampled_from([(LIMITS_2025, MEETING_2025), (LIMITS_2026, MEETING)]))


def near(day: date, spread: int) -> st.SearchStrategy[date]:
    return st.integers(-spread, spread).map(lambda d: day + timedelta(days=d))


@st.composite
def case_profiles(draw, meeting: date, case_id: str) -> CaseProfile:
    status = draw(st.sampled_from(["none", "requested", "granted"]))
    return CaseProfile(
        id=case_id,
        ready_since=draw(near(meeting - timedelta(days=400), 420)),
        birth_year=meeting.year - draw(st.sampled_from([20, 40, 54, 55, 66, 67, 70])),
        birth_month=draw(st.none() | st.integers(1, 12)),
        adults=draw(st.integers(1, 2)),
        children=draw(st.sampled_from([0, 0, 1, 2, 3, 4])),
        annual_taxable=Decimal(draw(st.sampled_from(INCOMES))),
        income_stable=draw(st.booleans()),
        budget_management=draw(st.sampled_from(["none", "budgetbeheer", "bewindvoering"])),
        registration_date=draw(st.none() | near(meeting - timedelta(days=730), 40)),
        beschikking_status=status,
        beschikking_valid_until=draw(st.none() | near(meeting, 2)),
        support_intensity=draw(st.sampled_from(["light", "moderate", "intensive"])),
        needs_complex_manager=draw(st.booleans()),
        urgency=draw(st.booleans()),
        rent_arrears_corporation_ids=frozenset(
            draw(st.sets(st.sampled_from(["corp-a", "corp-b"])))
        ),
        wheelchair=draw(st.booleans()),
        step_free=draw(st.booleans()),
        max_floor=draw(st.none() | st.integers(0, 3)),
        pets=draw(st.booleans()),
        preferred_areas=tuple(draw(st.lists(st.sampled_from(AREAS), max_size=2))),
        excluded_areas=tuple(draw(st.lists(st.sampled_from(AREAS), max_size=2))),
        contract_form=draw(st.sampled_from(["own_lease", "intermediate_lease", "either"])),
    )


@st.composite
def dwellings(draw, meeting: date, dwelling_id: str) -> Dwelling:
    neighbourhood = draw(st.sampled_from(NEIGHBOURHOODS))
    complex_key = draw(st.sampled_from(COMPLEXES))
    return Dwelling(
        id=dwelling_id,
        corporation_id=complex_key.split(":")[0],
        municipality_code="GM" + neighbourhood[2:6],
        neighbourhood_code=neighbourhood,
        complex_key=complex_key,
        rooms=draw(st.integers(1, 6)),
        floor=draw(st.integers(0, 4)),
        has_lift=draw(st.booleans()),
        wheelchair_accessible=draw(st.booleans()),
        rent_base=Decimal(draw(st.sampled_from(RENTS))),
        eligible_service_costs=Decimal(draw(st.sampled_from(SERVICE_COSTS))),
        available_from=draw(near(meeting + timedelta(days=56), 2)),
        contingent=draw(st.booleans()),
        complex_manager=draw(st.booleans()),
        pets_allowed=draw(st.booleans()),
        min_age=draw(st.sampled_from([None, None, 55])),
        contract_forms=frozenset(
            draw(st.sets(st.sampled_from(["own_lease", "intermediate_lease"])))
        ),
    )


@st.composite
def policies(draw) -> Policy:
    return make_policy(
        require_stable_income=draw(st.booleans()),
        beschikking_required=draw(st.sampled_from(["none", "requested", "granted"])),
        min_registration_months=draw(st.sampled_from([0, 12, 24])),
        max_per_complex=draw(st.integers(1, 2)),
        max_per_neighbourhood=draw(st.integers(1, 3)),
    )


@st.composite
def usages(draw) -> SpreadUsage:
    return SpreadUsage(
        per_complex=draw(st.dictionaries(st.sampled_from(COMPLEXES), st.integers(0, 2))),
        per_neighbourhood=draw(st.dictionaries(st.sampled_from(NEIGHBOURHOODS), st.integers(0, 3))),
    )


def lenient(case: CaseProfile, dwelling_list: list[Dwelling], meeting: date):
    """Drop the rarely met needs so that small random tables have enough feasible pairs."""
    case = replace(
        case,
        wheelchair=False,
        step_free=False,
        pets=False,
        needs_complex_manager=False,
        excluded_areas=(),
        rent_arrears_corporation_ids=frozenset(),
        beschikking_status="granted",
        beschikking_valid_until=None,
        contract_form="either",
        income_stable=True,
        adults=1,
        children=0,
    )
    homes = [
        replace(
            d,
            available_from=meeting,
            contract_forms=frozenset({"own_lease"}),
            min_age=None,
            rooms=1 + d.rooms % 3,
        )
        for d in dwelling_list
    ]
    return case, homes


@st.composite
def tables(draw, max_cases: int = 6, max_dwellings: int = 5, feasible_heavy: bool = False):
    """A whole small table: (cases, dwellings, policy, limits, meeting date, usage).

    feasible_heavy drops the rarely met needs so that most pairs hinge on rent, size, areas,
    registration and the caps, which gives the solver something to choose between.
    """
    limits, meeting = draw(meetings())
    smallest = 2 if feasible_heavy else 0
    n_cases = draw(st.integers(smallest, max_cases))
    n_dwellings = draw(st.integers(smallest, max_dwellings))
    cases = [draw(case_profiles(meeting, f"case-{i}")) for i in range(n_cases)]
    homes = [draw(dwellings(meeting, f"home-{j}")) for j in range(n_dwellings)]
    if feasible_heavy:
        cases = [lenient(case, [], meeting)[0] for case in cases]
        homes = lenient(make_case(), homes, meeting)[1]
    return cases, homes, draw(policies()), limits, meeting, draw(usages())
