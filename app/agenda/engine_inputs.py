"""A table's stored rows as the matching engine's types: its policy, a case, a dwelling.

Plain conversions, no database; apart from `app.agenda.inputs` so that other services (the
case profile of a proposal) convert a case exactly as the agenda does without importing the
agenda, which imports them.
"""

from typing import Any

from app import matching
from app.tables.policy import TablePolicy


def engine_policy(policy: TablePolicy) -> matching.Policy:
    rooms = {int(size): (low, high) for size, (low, high) in policy.rooms_by_household_size.items()}
    return matching.Policy(
        rooms_by_household_size=rooms,
        horizon_days=policy.horizon_days,
        require_stable_income=policy.require_stable_income,
        beschikking_required=policy.beschikking_required.value,
        min_registration_months=policy.min_registration_months,
        max_per_complex=policy.max_per_complex,
        max_per_neighbourhood=policy.max_per_neighbourhood,
        spread_window_months=policy.spread_window_months,
        weights=matching.ScoreWeights(**policy.score_weights.model_dump()),
        corporation_decline_scope_days=dict(policy.corporation_decline_scope_days),
    )


def case_profile(row: Any) -> matching.CaseProfile:
    return matching.CaseProfile(
        id=str(row.id),
        ready_since=row.ready_since,
        birth_year=row.birth_year,
        birth_month=row.birth_month,
        adults=row.household_adults,
        children=row.household_children,
        annual_taxable=row.income_annual_taxable,
        income_stable=row.income_stable,
        budget_management=row.income_budget_management,
        registration_date=row.registration_date,
        beschikking_status=row.beschikking_status,
        beschikking_valid_until=row.beschikking_valid_until,
        support_intensity=row.support_intensity,
        needs_complex_manager=row.support_needs_complex_manager,
        urgency=row.urgency,
        rent_arrears_corporation_ids=frozenset(row.debts_rent_arrears_corporation_ids),
        wheelchair=row.needs_wheelchair,
        step_free=row.needs_step_free,
        max_floor=row.needs_max_floor,
        pets=row.needs_pets,
        preferred_areas=tuple(row.areas_preferred),
        excluded_areas=tuple(row.areas_excluded),
        contract_form=row.contract_form,
    )


def dwelling(row: Any) -> matching.Dwelling:
    # Complex references are the corporation's own; a dwelling without one is its own complex.
    complex_key = f"{row.corporation_id}:{row.complex_ref or f'#{row.id}'}"
    return matching.Dwelling(
        id=str(row.id),
        corporation_id=str(row.corporation_id),
        municipality_code=row.address_municipality_code,
        neighbourhood_code=row.address_neighbourhood_code,
        complex_key=complex_key,
        rooms=row.rooms,
        floor=row.floor,
        has_lift=row.has_lift,
        wheelchair_accessible=row.wheelchair_accessible,
        rent_base=row.rent_base,
        eligible_service_costs=row.rent_eligible_service_costs,
        available_from=row.available_from,
        contingent=row.contingent,
        complex_manager=row.complex_manager,
        pets_allowed=row.pets_allowed,
        min_age=row.min_age,
        contract_forms=frozenset(row.contract_forms),
    )
