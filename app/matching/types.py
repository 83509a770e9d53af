"""The engine's inputs: plain frozen dataclasses the agenda service builds from the database.

Money is `Decimal` in EUR with at most two decimals; the engine compares it as integer cents.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AowCohort:
    """People born in [born_from, born_before) reach the AOW age (`years` + `months`) in the
    calendar year `reached_in` (Algemene Ouderdomswet art. 7a: who reaches the AOW age in a year
    gets that year's AOW age)."""

    born_from: date
    born_before: date
    reached_in: int
    years: int
    months: int


@dataclass(frozen=True, slots=True)
class AowAges:
    """The AOW age per birth cohort as published (data, with its source, in app/data).

    Cohorts are contiguous and in birth order. Someone born before the first cohort reached the
    AOW age before 1 January of the first cohort's year; for someone born after the last, the
    AOW age is not yet set, but it is at least the last cohort's (the law lets it rise, never
    fall) and is reached after the last cohort's year.
    """

    cohorts: tuple[AowCohort, ...]


@dataclass(frozen=True, slots=True)
class YearLimits:
    """The legal figures an agenda applies: one calendar year's limits (data per year, never
    literals in code) and the AOW-age table that decides who counts as at pension age.

    `daeb_rent_limit` is the DAEB rent limit (also the huurtoeslag rent limit): the most rent
    passend toewijzen allows a household above the income limit. It was called
    `liberalisation_limit` before; since the Wet betaalbare huur "liberalisatiegrens" names the
    top of the middle segment instead.
    """

    year: int
    low_cap: Decimal
    high_cap: Decimal
    daeb_rent_limit: Decimal
    income_limit_single: Decimal
    income_limit_multi: Decimal
    income_limit_single_pension: Decimal
    income_limit_multi_pension: Decimal
    service_costs_count: bool
    service_costs_max: Decimal | None
    aow_ages: AowAges


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Points per unit of each score component; table policy, waiting time dominant by default."""

    waiting_time: float = 10.0
    urgency: float = 5.0
    preferred_area: float = 2.0
    support_fit: float = 2.0
    registration: float = 0.5
    rent_headroom: float = 1.0


@dataclass(frozen=True, slots=True)
class Policy:
    """A table's editable matching policy; every agenda records the one it used."""

    rooms_by_household_size: Mapping[int, tuple[int, int | None]]
    horizon_days: int
    require_stable_income: bool
    beschikking_required: str
    min_registration_months: int
    max_per_complex: int
    max_per_neighbourhood: int
    spread_window_months: int
    weights: ScoreWeights = field(default_factory=ScoreWeights)
    corporation_decline_scope_days: Mapping[str, int] = field(default_factory=dict)
    """Decline reason -> days during which a corporation's decline with that reason excludes all
    of that corporation's dwellings for the case (`declined_by_corporation_earlier`)."""


@dataclass(frozen=True, slots=True)
class CaseProfile:
    """What the engine needs to know of one client ready to move on (pseudonymous)."""

    id: str
    ready_since: date
    birth_year: int
    adults: int
    children: int
    annual_taxable: Decimal
    income_stable: bool
    budget_management: str
    registration_date: date | None
    beschikking_status: str
    beschikking_valid_until: date | None
    support_intensity: str
    needs_complex_manager: bool
    urgency: bool
    rent_arrears_corporation_ids: frozenset[str]
    wheelchair: bool
    step_free: bool
    max_floor: int | None
    pets: bool
    preferred_areas: tuple[str, ...]
    excluded_areas: tuple[str, ...]
    contract_form: str
    birth_month: int | None = None
    """1-12 when the care provider recorded it; with it age and pension age are exact except in
    the month the birthday falls (see `app.matching.ages`)."""


@dataclass(frozen=True, slots=True)
class Dwelling:
    """One vacant dwelling on offer at the table."""

    id: str
    corporation_id: str
    municipality_code: str
    neighbourhood_code: str
    complex_key: str
    rooms: int
    floor: int
    has_lift: bool
    wheelchair_accessible: bool
    rent_base: Decimal
    eligible_service_costs: Decimal
    available_from: date
    contingent: bool
    complex_manager: bool
    pets_allowed: bool
    min_age: int | None
    contract_forms: frozenset[str]


@dataclass(frozen=True, slots=True)
class SpreadUsage:
    """Proposals and placements counted in the spread window, per complex and neighbourhood."""

    per_complex: Mapping[str, int] = field(default_factory=dict)
    per_neighbourhood: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EarlierDecline:
    """A proposal of this case for this dwelling that ended in a decline: `client_decline`,
    `corporation_decline` or the chair's explicit `withdraw` (never an automatic closure).

    `corporation_id` is the declined dwelling's corporation, so a widened corporation decline
    still applies when that dwelling is no longer on offer. `decided_on` is the date of the
    decision (Europe/Amsterdam).
    """

    case_id: str
    dwelling_id: str
    corporation_id: str
    decision: str
    reason: str | None
    decided_on: date
    proposal_id: str | None = None
    # Made at another table the case sat at: its proposal and dwelling are not this table's
    # to name, so the explanations leave both out (the rules still apply).
    elsewhere: bool = False
