"""Hard rules: a dwelling is excluded for a case when any fails, each with a stable reason code.

Two paths share the per-case and per-dwelling facts below: `failure_mask` applies every rule to a
whole cases x dwellings matrix with numpy (one bit per reason), and `rule_failures` applies them to
one pair in plain Python with the figures that decided each failure. Tests hold the two equal.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from app.matching.ages import age_reading, pension_reading
from app.matching.areas import area_groups, first_containing_area
from app.matching.declines import NO_DECLINES, DeclineIndex
from app.matching.results import RuleFailure
from app.matching.types import CaseProfile, Dwelling, Policy, SpreadUsage, YearLimits
from app.matching.units import format_cents, months_registered, to_cents

REASON_CODES: tuple[str, ...] = (
    "rent_above_cap",
    "size_mismatch",
    "not_wheelchair_accessible",
    "not_step_free",
    "floor_too_high",
    "pets_not_allowed",
    "age_restricted",
    "excluded_area",
    "not_available_in_horizon",
    "contract_form_mismatch",
    "no_complex_manager",
    "no_stable_income",
    "beschikking_missing",
    "rent_arrears",
    "registration_too_short",
    "declined_earlier",
    "declined_by_corporation_earlier",
    "complex_cap_reached",
    "neighbourhood_cap_reached",
)
REASON_BIT: dict[str, int] = {code: 1 << index for index, code in enumerate(REASON_CODES)}
CAP_REASONS: tuple[str, ...] = ("complex_cap_reached", "neighbourhood_cap_reached")

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


def rule_failures(
    case: CaseProfile,
    dwelling: Dwelling,
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage,
    facts: CaseFacts | None = None,
    declines: DeclineIndex = NO_DECLINES,
) -> list[RuleFailure]:
    """Every failing rule of one pair, in REASON_CODES order, with its deciding figures."""
    check_policy(policy)
    check_dwelling(dwelling)
    facts = facts or case_facts(case, policy, limits, meeting_date)
    afford = facts.affordability
    failures: list[RuleFailure] = []

    def fail(code: str, **detail: str | int | bool | None) -> None:
        failures.append(RuleFailure(code, detail))

    rent, counted_service = test_rent(dwelling, limits)
    if rent > afford.cap_cents:
        fail(
            "rent_above_cap",
            test_rent=format_cents(rent),
            counted_service_costs=format_cents(counted_service),
            cap=format_cents(afford.cap_cents),
            cap_kind=afford.cap_kind,
            household_size=afford.household_size,
            annual_taxable=format_cents(afford.income_cents),
            income_limit=format_cents(afford.income_limit_cents),
            pension_age_applied=afford.pension_age_applied,
            pension_age_basis=afford.pension_age_basis,
        )
    too_small = dwelling.rooms < facts.rooms_min
    too_big = facts.rooms_max is not None and dwelling.rooms > facts.rooms_max
    if too_small or too_big:
        fail(
            "size_mismatch",
            rooms=dwelling.rooms,
            household_size=afford.household_size,
            rooms_min=facts.rooms_min,
            rooms_max=facts.rooms_max,
        )
    if case.wheelchair and not dwelling.wheelchair_accessible:
        fail("not_wheelchair_accessible", wheelchair_accessible=False)
    if case.step_free and dwelling.floor != 0 and not dwelling.has_lift:
        fail("not_step_free", floor=dwelling.floor, has_lift=False)
    if case.max_floor is not None and dwelling.floor > case.max_floor:
        fail("floor_too_high", floor=dwelling.floor, max_floor=case.max_floor)
    if case.pets and not dwelling.pets_allowed:
        fail("pets_not_allowed", pets_allowed=False)
    if dwelling.min_age is not None and afford.age < dwelling.min_age:
        fail("age_restricted", age=afford.age, min_age=dwelling.min_age, age_basis=afford.age_basis)
    excluded_by = first_containing_area(case.excluded_areas, dwelling.neighbourhood_code)
    if excluded_by is not None:
        fail("excluded_area", neighbourhood=dwelling.neighbourhood_code, area=excluded_by)
    latest = latest_available_date(policy, meeting_date)
    if dwelling.available_from > latest:
        fail(
            "not_available_in_horizon",
            available_from=dwelling.available_from.isoformat(),
            latest=latest.isoformat(),
        )
    if case.contract_form == "either":
        form_ok = bool(dwelling.contract_forms)
    else:
        form_ok = case.contract_form in dwelling.contract_forms
    if not form_ok:
        fail(
            "contract_form_mismatch",
            contract_form=case.contract_form,
            accepted=",".join(sorted(dwelling.contract_forms)),
        )
    if case.needs_complex_manager and not dwelling.complex_manager:
        fail("no_complex_manager", complex_manager=False)
    if facts.unstable_income:
        fail(
            "no_stable_income",
            income_stable=case.income_stable,
            budget_management=case.budget_management,
        )
    if facts.beschikking_missing:
        fail(
            "beschikking_missing",
            status=case.beschikking_status,
            effective_status=facts.effective_beschikking,
            required=policy.beschikking_required,
            valid_until=(
                case.beschikking_valid_until.isoformat() if case.beschikking_valid_until else None
            ),
        )
    if dwelling.corporation_id in case.rent_arrears_corporation_ids:
        fail("rent_arrears", corporation_id=dwelling.corporation_id)
    if facts.registration_short and not dwelling.contingent:
        fail(
            "registration_too_short",
            months_registered=facts.months_registered,
            required_months=policy.min_registration_months,
            registration_date=(
                case.registration_date.isoformat() if case.registration_date else None
            ),
            contingent=False,
            urgency=False,
        )
    failures += decline_failures(case, dwelling, declines)
    if complex_full(dwelling, policy, usage):
        fail(
            "complex_cap_reached",
            complex=dwelling.complex_key,
            usage=usage.per_complex.get(dwelling.complex_key, 0),
            cap=policy.max_per_complex,
            window_months=policy.spread_window_months,
        )
    if neighbourhood_full(dwelling, policy, usage):
        fail(
            "neighbourhood_cap_reached",
            neighbourhood=dwelling.neighbourhood_code,
            usage=usage.per_neighbourhood.get(dwelling.neighbourhood_code, 0),
            cap=policy.max_per_neighbourhood,
            window_months=policy.spread_window_months,
        )
    return failures


def decline_failures(
    case: CaseProfile, dwelling: Dwelling, declines: DeclineIndex
) -> list[RuleFailure]:
    """`declined_earlier` (the pair was declined: the latest decision, reason and date, and how
    many times) and `declined_by_corporation_earlier` (a corporation decline the policy widens to
    all its dwellings, in force on the meeting date)."""
    failures = []
    earlier = declines.pairs.get((case.id, dwelling.id))
    if earlier is not None:
        decline, times = earlier
        failures.append(
            RuleFailure(
                "declined_earlier",
                {
                    "decision": decline.decision,
                    "reason": decline.reason,
                    "decided_on": decline.decided_on.isoformat(),
                    "proposal_id": decline.proposal_id,
                    "times": times,
                },
            )
        )
    widened = declines.widened.get((case.id, dwelling.corporation_id))
    if widened is not None:
        decline = widened.decline
        failures.append(
            RuleFailure(
                "declined_by_corporation_earlier",
                {
                    "corporation_id": decline.corporation_id,
                    "reason": decline.reason,
                    "decided_on": decline.decided_on.isoformat(),
                    "until": widened.until.isoformat(),
                    "vacancy_id": decline.dwelling_id,
                    "proposal_id": decline.proposal_id,
                },
            )
        )
    return failures


@dataclass(frozen=True, slots=True)
class PreparedArrays:
    """Per-case and per-dwelling columns the vectorised rules and scores broadcast against."""

    facts: list[CaseFacts]
    cap_cents: np.ndarray  # (C,) int64
    test_rent_cents: np.ndarray  # (V,) int64
    months_registered: np.ndarray  # (C,) int64
    neighbourhood_index: np.ndarray  # (V,) index into `neighbourhoods`
    neighbourhoods: list[str]


def _column(values: Sequence, dtype: type) -> np.ndarray:
    return np.fromiter(values, dtype=dtype, count=len(values))


def prepare(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
) -> PreparedArrays:
    check_policy(policy)
    check_limits(limits)
    for dwelling in dwellings:
        check_dwelling(dwelling)
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


class FailureMatrix:
    """The (cases x dwellings) failure bitmask and, per case and per dwelling, how many pairs fail
    each reason.

    Every rule is written as a union of blocks "these cases fail on these dwellings", one block per
    distinct value on the case side (cap, rooms range, excluded areas...) or the dwelling side
    (minimum age, corporation). The blocks of one rule never overlap, so counts add up exactly and
    the work is proportional to the failing pairs, not to the whole matrix per rule.
    """

    def __init__(self, cases: int, dwellings: int) -> None:
        self.mask = np.zeros((cases, dwellings), dtype=np.int32)
        self.case_counts = np.zeros((cases, len(REASON_CODES)), dtype=np.int64)
        self.dwelling_counts = np.zeros((dwellings, len(REASON_CODES)), dtype=np.int64)
        self._case_bits = np.zeros(cases, dtype=np.int32)
        self._dwelling_bits = np.zeros(dwellings, dtype=np.int32)

    def fail(self, code: str, case_rows: np.ndarray, dwelling_cols: np.ndarray) -> None:
        """Cases selected by `case_rows` fail `code` on dwellings selected by `dwelling_cols`."""
        rows, cols = np.flatnonzero(case_rows), np.flatnonzero(dwelling_cols)
        if rows.size == 0 or cols.size == 0:
            return
        bit = np.int32(REASON_BIT[code])
        cases, dwellings = self.mask.shape
        if cols.size == dwellings:  # a rule on the case alone
            self._case_bits[rows] |= bit
        elif rows.size == cases:  # a rule on the dwelling alone
            self._dwelling_bits[cols] |= bit
        elif rows.size * cols.size * 8 > cases * dwellings:
            # a big block: one streaming pass beats gathering and scattering its cells
            outer = case_rows[:, None] & dwelling_cols[None, :]
            np.bitwise_or(self.mask, bit, out=self.mask, where=outer)
        else:
            self.mask[np.ix_(rows, cols)] |= bit
        r = REASON_CODES.index(code)
        self.case_counts[rows, r] += cols.size
        self.dwelling_counts[cols, r] += rows.size

    def fail_cells(self, code: str, rows: np.ndarray, cols: np.ndarray) -> None:
        """The pairs (rows[k], cols[k]) fail `code`; the pairs must be distinct."""
        if rows.size == 0:
            return
        cases, dwellings = self.mask.shape
        self.mask[rows, cols] |= np.int32(REASON_BIT[code])
        r = REASON_CODES.index(code)
        self.case_counts[:, r] += np.bincount(rows, minlength=cases)
        self.dwelling_counts[:, r] += np.bincount(cols, minlength=dwellings)

    def finish(self) -> "FailureMatrix":
        """Fold the case-only and dwelling-only rules into the mask in one pass."""
        self.mask |= self._case_bits[:, None] | self._dwelling_bits[None, :]
        return self


def failure_matrix(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    meeting_date: date,
    usage: SpreadUsage,
    prepared: PreparedArrays,
    declines: DeclineIndex = NO_DECLINES,
) -> FailureMatrix:
    """Every rule over all pairs: the vectorised twin of `rule_failures`."""
    facts = prepared.facts
    out = FailureMatrix(len(cases), len(dwellings))
    every_case = np.ones(len(cases), dtype=bool)
    every_dwelling = np.ones(len(dwellings), dtype=bool)

    def of_cases(values: Sequence, dtype: type = bool) -> np.ndarray:
        return _column(values, dtype)

    def of_dwellings(values: Sequence, dtype: type = bool) -> np.ndarray:
        return _column(values, dtype)

    rent = prepared.test_rent_cents
    for cap in np.unique(prepared.cap_cents):
        out.fail("rent_above_cap", prepared.cap_cents == cap, rent > cap)

    rooms = of_dwellings([d.rooms for d in dwellings], np.int64)
    ranges = [(f.rooms_min, f.rooms_max) for f in facts]
    for low, high in set(ranges):
        too_big = rooms > high if high is not None else np.zeros(len(dwellings), dtype=bool)
        out.fail(
            "size_mismatch",
            np.array([r == (low, high) for r in ranges], dtype=bool),
            (rooms < low) | too_big,
        )

    out.fail(
        "not_wheelchair_accessible",
        of_cases([c.wheelchair for c in cases]),
        ~of_dwellings([d.wheelchair_accessible for d in dwellings]),
    )
    out.fail(
        "not_step_free",
        of_cases([c.step_free for c in cases]),
        of_dwellings([d.floor != 0 and not d.has_lift for d in dwellings]),
    )
    floors = of_dwellings([d.floor for d in dwellings], np.int64)
    max_floors = [c.max_floor for c in cases]
    for max_floor in {m for m in max_floors if m is not None}:
        out.fail(
            "floor_too_high",
            np.array([m == max_floor for m in max_floors], dtype=bool),
            floors > max_floor,
        )
    out.fail(
        "pets_not_allowed",
        of_cases([c.pets for c in cases]),
        ~of_dwellings([d.pets_allowed for d in dwellings]),
    )
    ages = of_cases([f.affordability.age for f in facts], np.int64)
    min_ages = [d.min_age for d in dwellings]
    for min_age in {a for a in min_ages if a is not None}:
        out.fail(
            "age_restricted",
            ages < min_age,
            np.array([a == min_age for a in min_ages], dtype=bool),
        )
    for case_rows, hoods in area_groups([c.excluded_areas for c in cases], prepared.neighbourhoods):
        out.fail("excluded_area", case_rows, hoods[prepared.neighbourhood_index])
    latest = latest_available_date(policy, meeting_date)
    out.fail(
        "not_available_in_horizon",
        every_case,
        of_dwellings([d.available_from > latest for d in dwellings]),
    )
    own = of_dwellings(["own_lease" in d.contract_forms for d in dwellings])
    intermediate = of_dwellings(["intermediate_lease" in d.contract_forms for d in dwellings])
    forms = [c.contract_form for c in cases]
    for form, refused in (
        ("own_lease", ~own),
        ("intermediate_lease", ~intermediate),
        ("either", ~own & ~intermediate),
    ):
        out.fail("contract_form_mismatch", np.array([f == form for f in forms]), refused)
    out.fail(
        "no_complex_manager",
        of_cases([c.needs_complex_manager for c in cases]),
        ~of_dwellings([d.complex_manager for d in dwellings]),
    )
    out.fail("no_stable_income", of_cases([f.unstable_income for f in facts]), every_dwelling)
    out.fail(
        "beschikking_missing", of_cases([f.beschikking_missing for f in facts]), every_dwelling
    )
    corporations = [d.corporation_id for d in dwellings]
    for corporation in sorted(set(corporations)):
        out.fail(
            "rent_arrears",
            of_cases([corporation in c.rent_arrears_corporation_ids for c in cases]),
            np.array([corp == corporation for corp in corporations], dtype=bool),
        )
    out.fail(
        "registration_too_short",
        of_cases([f.registration_short for f in facts]),
        ~of_dwellings([d.contingent for d in dwellings]),
    )
    _fail_declines(out, cases, dwellings, declines)
    out.fail(
        "complex_cap_reached",
        every_case,
        of_dwellings([complex_full(d, policy, usage) for d in dwellings]),
    )
    out.fail(
        "neighbourhood_cap_reached",
        every_case,
        of_dwellings([neighbourhood_full(d, policy, usage) for d in dwellings]),
    )
    return out.finish()


def _fail_declines(
    out: FailureMatrix,
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    declines: DeclineIndex,
) -> None:
    """The vectorised twin of `decline_failures`: declined pairs cell by cell, widened
    corporation declines as one block per corporation (like `rent_arrears`)."""
    case_row = {case.id: i for i, case in enumerate(cases)}
    dwelling_col = {dwelling.id: j for j, dwelling in enumerate(dwellings)}
    cells = [
        (case_row[c], dwelling_col[d])
        for c, d in declines.pairs
        if c in case_row and d in dwelling_col
    ]
    out.fail_cells(
        "declined_earlier",
        np.array([i for i, _ in cells], dtype=np.intp),
        np.array([j for _, j in cells], dtype=np.intp),
    )
    corporations = [d.corporation_id for d in dwellings]
    for corporation in sorted({corp for _, corp in declines.widened}):
        out.fail(
            "declined_by_corporation_earlier",
            _column([(c.id, corporation) in declines.widened for c in cases], bool),
            np.array([corp == corporation for corp in corporations], dtype=bool),
        )
