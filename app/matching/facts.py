"""What the hard rules read of a case, a dwelling and the year's limits: a household's rent cap
(passend toewijzen), rooms range and registration, computed once per case (`CaseFacts`), and the
per-case and per-dwelling columns the vectorised rules and scores broadcast against
(`PreparedArrays`). The rules themselves are in `app.matching.rules`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from app.matching.ages import age_reading, pension_reading
from app.matching.types import CaseProfile, Dwelling, Policy, SpreadUsage, YearLimits
from app.matching.units import months_registered, to_cents

BESCHIKKING_LEVEL = {"none": 0, "requested": 1, "granted": 2}
BUDGET_MANAGEMENT = frozenset({"none", "budgetbeheer", "bewindvoering"})
SUPPORT_INTENSITY = frozenset({"light", "moderate", "intensive"})
CASE_CONTRACT_FORMS = ("own_lease", "intermediate_lease", "either")
DWELLING_CONTRACT_FORMS = frozenset({"own_lease", "intermediate_lease"})


@dataclass(frozen=True, slots=True)
class IncomeLimit:
    """The passend-toewijzen income limit that applies to a household on a date, and why."""

    household_size: int
    limit_cents: int
    pension_age_applied: bool
    """Whether the limit is the one for households at pension age."""
    pension_age_basis: str
    """`birth_month`, `birth_year` or `uncertain_strict` (see `app.matching.ages`)."""


@dataclass(frozen=True, slots=True)
class Affordability:
    """Which rent cap passend toewijzen sets for a household, and why."""

    household_size: int
    age: int
    age_basis: str
    pension_age_applied: bool
    pension_age_basis: str
    income_cents: int
    income_limit_cents: int
    cap_kind: str
    cap_cents: int


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything the rules derive from a case alone, computed once per case."""

    affordability: Affordability
    rooms_min: int
    rooms_max: int | None
    effective_beschikking: str
    months_registered: int
    registration_short: bool
    unstable_income: bool
    beschikking_missing: bool


def _cap_for(size: int, income_cents: int, limit_cents: int, limits: YearLimits) -> tuple[str, int]:
    """Passend toewijzen: income at or under the limit -> the low (1-2 persons) or high (3+)
    aftoppingsgrens; above it -> the DAEB rent limit. Cents."""
    if income_cents <= limit_cents:
        if size <= 2:
            return "low", to_cents(limits.low_cap)
        return "high", to_cents(limits.high_cap)
    return "daeb_rent_limit", to_cents(limits.daeb_rent_limit)


def applicable_income_limit(
    case: CaseProfile, limits: YearLimits, meeting_date: date
) -> IncomeLimit:
    """The passend-toewijzen income limit for the household on `meeting_date`: single or more
    persons, below or at the AOW age (the AOW age per birth cohort: `limits.aow_ages`).

    The one place that decides which limit applies: the rules and the corporation's income
    category (`app.proposals.service.case_profile`) both call it.

    When the birth window cannot tell whether the AOW age is reached (no birth month, or the
    meeting falls in the month the AOW age is reached), both limits are possible. We apply the
    one under which passend toewijzen allows the least rent for this household's income: the
    law refuses a rent above the cap that applies, so the reading with the lower cap never lets
    a household in at a rent the law would refuse under the other reading. With the usual
    figures (the caps under the DAEB rent limit) that is the higher of the two income limits,
    because a higher limit only moves incomes from the DAEB rent limit to a cap; in 2025 and
    2026 that is the limit below pension age. When both readings give the same cap the choice
    does not matter and the limit below pension age is reported.
    """
    size = case.adults + case.children
    if size == 1:
        below, at = limits.income_limit_single, limits.income_limit_single_pension
    else:
        below, at = limits.income_limit_multi, limits.income_limit_multi_pension
    pension = pension_reading(case.birth_year, case.birth_month, meeting_date, limits.aow_ages)
    if pension.at_pension_age is not None:
        applied = pension.at_pension_age
    else:
        income = to_cents(case.annual_taxable)
        cap_below = _cap_for(size, income, to_cents(below), limits)[1]
        cap_at = _cap_for(size, income, to_cents(at), limits)[1]
        applied = cap_at < cap_below
    return IncomeLimit(size, to_cents(at if applied else below), applied, pension.basis)


def affordability(case: CaseProfile, limits: YearLimits, meeting_date: date) -> Affordability:
    """The rent cap for a household: low/high cap at or under its income limit, else the DAEB
    rent limit; with the age for minimum-age rules (the youngest reading, see `ages`)."""
    limit = applicable_income_limit(case, limits, meeting_date)
    age = age_reading(case.birth_year, case.birth_month, meeting_date)
    income = to_cents(case.annual_taxable)
    kind, cap = _cap_for(limit.household_size, income, limit.limit_cents, limits)
    return Affordability(
        limit.household_size,
        age.age,
        age.basis,
        limit.pension_age_applied,
        limit.pension_age_basis,
        income,
        limit.limit_cents,
        kind,
        cap,
    )


def test_rent(dwelling: Dwelling, limits: YearLimits) -> tuple[int, int]:
    """(test rent, counted service costs) in cents: base plus capped service costs if they count."""
    counted = 0
    if limits.service_costs_count:
        counted = to_cents(dwelling.eligible_service_costs)
        if limits.service_costs_max is not None:
            counted = min(counted, to_cents(limits.service_costs_max))
    return to_cents(dwelling.rent_base) + counted, counted


def rooms_range(household_size: int, policy: Policy) -> tuple[int, int | None]:
    """The policy's [min, max] rooms for a household; sizes above 5 use the entry for 5."""
    key = min(household_size, 5)
    if key not in policy.rooms_by_household_size:
        raise ValueError(f"policy has no rooms range for household size {key}")
    low, high = policy.rooms_by_household_size[key]
    return int(low), None if high is None else int(high)


def effective_beschikking(case: CaseProfile, meeting_date: date) -> str:
    """The status as the care provider reports it.

    domain.md defines the rule on the status alone; `valid_until` is shown in the explanation
    but does not decide (the care provider updates the status when a beschikking ends).
    """
    if case.beschikking_status not in BESCHIKKING_LEVEL:
        raise ValueError(f"unknown beschikking status {case.beschikking_status!r}")
    return case.beschikking_status


def case_facts(
    case: CaseProfile, policy: Policy, limits: YearLimits, meeting_date: date
) -> CaseFacts:
    if case.budget_management not in BUDGET_MANAGEMENT:
        raise ValueError(f"unknown budget management {case.budget_management!r}")
    if case.support_intensity not in SUPPORT_INTENSITY:
        raise ValueError(f"unknown support intensity {case.support_intensity!r}")
    if case.contract_form not in CASE_CONTRACT_FORMS:
        raise ValueError(f"unknown contract form {case.contract_form!r}")
    afford = affordability(case, limits, meeting_date)
    rooms_min, rooms_max = rooms_range(afford.household_size, policy)
    beschikking = effective_beschikking(case, meeting_date)
    months = months_registered(case.registration_date, meeting_date)
    return CaseFacts(
        affordability=afford,
        rooms_min=rooms_min,
        rooms_max=rooms_max,
        effective_beschikking=beschikking,
        months_registered=months,
        registration_short=not case.urgency and months < policy.min_registration_months,
        unstable_income=policy.require_stable_income
        and not case.income_stable
        and case.budget_management == "none",
        beschikking_missing=BESCHIKKING_LEVEL[beschikking]
        < BESCHIKKING_LEVEL[policy.beschikking_required],
    )


def latest_available_date(policy: Policy, meeting_date: date) -> date:
    return meeting_date + timedelta(days=policy.horizon_days)


def complex_full(dwelling: Dwelling, policy: Policy, usage: SpreadUsage) -> bool:
    return usage.per_complex.get(dwelling.complex_key, 0) >= policy.max_per_complex


def neighbourhood_full(dwelling: Dwelling, policy: Policy, usage: SpreadUsage) -> bool:
    return (
        usage.per_neighbourhood.get(dwelling.neighbourhood_code, 0) >= policy.max_per_neighbourhood
    )


def check_policy(policy: Policy) -> None:
    if policy.beschikking_required not in BESCHIKKING_LEVEL:
        raise ValueError(f"unknown required beschikking {policy.beschikking_required!r}")


def check_limits(limits: YearLimits) -> None:
    """Caps must be positive: rent headroom divides by the applicable cap."""
    if min(limits.low_cap, limits.high_cap, limits.daeb_rent_limit) <= 0:
        raise ValueError(f"rent caps for {limits.year} must be positive")


def check_dwelling(dwelling: Dwelling) -> None:
    unknown = dwelling.contract_forms - DWELLING_CONTRACT_FORMS
    if unknown:
        raise ValueError(f"dwelling {dwelling.id}: unknown contract forms {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class PreparedArrays:
    """Per-case and per-dwelling columns the vectorised rules and scores broadcast against."""

    facts: list[CaseFacts]
    cap_cents: np.ndarray  # (C,) int64
    test_rent_cents: np.ndarray  # (V,) int64
    months_registered: np.ndarray  # (C,) int64
    neighbourhood_index: np.ndarray  # (V,) index into `neighbourhoods`
    neighbourhoods: list[str]

    def part(self, rows: np.ndarray, cols: np.ndarray) -> "PreparedArrays":
        """The columns of the cases `rows` and the dwellings `cols` (index arrays), as `prepare`
        gives them for those cases and dwellings alone (the neighbourhood list kept whole, so
        the indexes into it stay valid)."""
        return PreparedArrays(
            facts=[self.facts[i] for i in rows.tolist()],
            cap_cents=self.cap_cents[rows],
            test_rent_cents=self.test_rent_cents[cols],
            months_registered=self.months_registered[rows],
            neighbourhood_index=self.neighbourhood_index[cols],
            neighbourhoods=self.neighbourhoods,
        )


def _column(values: Sequence[Any], dtype: type) -> np.ndarray:
    return np.fromiter(values, dtype=dtype, count=len(values))


def prepare(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    facts: list[CaseFacts] | None = None,
) -> PreparedArrays:
    """The columns of `cases` and `dwellings` (`facts`: the cases' facts, if known already).
    Raises ValueError for an unknown policy, case or dwelling value and for rent caps that are
    not positive."""
    check_policy(policy)
    check_limits(limits)
    for dwelling in dwellings:
        check_dwelling(dwelling)
    if facts is None:
        facts = [case_facts(case, policy, limits, meeting_date) for case in cases]
    neighbourhoods = sorted({d.neighbourhood_code for d in dwellings})
    position = {code: index for index, code in enumerate(neighbourhoods)}
    return PreparedArrays(
        facts=facts,
        cap_cents=_column([f.affordability.cap_cents for f in facts], np.int64),
        test_rent_cents=_column([test_rent(d, limits)[0] for d in dwellings], np.int64),
        months_registered=_column([f.months_registered for f in facts], np.int64),
        neighbourhood_index=_column([position[d.neighbourhood_code] for d in dwellings], np.intp),
        neighbourhoods=neighbourhoods,
    )
