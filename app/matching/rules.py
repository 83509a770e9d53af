# Size: the hard rules, one small class each (code, vectorised check, figures) in reason-code
# order, and their registry: the one place a rule is added. The machinery is in rule_base.py.
"""Hard rules: a dwelling is excluded for a case when any fails, each with a stable reason code.

One small object per rule (`app.matching.rule_base.Rule`): its code, its vectorised check over the
engine's arrays (`blocks`) and the figures that explain a failing pair (`explain`). `RULES` lists
them in REASON_CODES order; adding a rule is one class and one line there.

One loop over `RULES` decides which rules a pair fails, for the whole cases x dwellings matrix of
the agenda and for one pair asked about (`app.matching.failures`), so why-not and the agenda
cannot disagree.
"""

from collections.abc import Iterator

import numpy as np

from app.matching.areas import area_groups, first_containing_area
from app.matching.facts import (
    _cap_for,  # noqa: F401  (read here by tests/matching/test_ages.py)
    complex_full,
    latest_available_date,
    neighbourhood_full,
    test_rent,
)
from app.matching.results import Detail
from app.matching.rule_base import Batch, Block, Pair, Rule
from app.matching.units import format_cents


class RentAboveCap(Rule):
    """Passend toewijzen: the test rent above the household's cap (`facts.affordability`)."""

    code = "rent_above_cap"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        caps, rent = batch.prepared.cap_cents, batch.prepared.test_rent_cents
        for cap in np.unique(caps):
            yield caps == cap, rent > cap

    def explain(self, pair: Pair) -> Detail:
        afford = pair.facts.affordability
        rent, counted_service = test_rent(pair.dwelling, pair.limits)
        return {
            "test_rent": format_cents(rent),
            "counted_service_costs": format_cents(counted_service),
            "cap": format_cents(afford.cap_cents),
            "cap_kind": afford.cap_kind,
            "household_size": afford.household_size,
            "annual_taxable": format_cents(afford.income_cents),
            "income_limit": format_cents(afford.income_limit_cents),
            "pension_age_applied": afford.pension_age_applied,
            "pension_age_basis": afford.pension_age_basis,
        }


class SizeMismatch(Rule):
    """Rooms outside the policy's range for the household's size."""

    code = "size_mismatch"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        rooms = batch.of_dwellings([d.rooms for d in batch.dwellings], np.int64)
        ranges = [(f.rooms_min, f.rooms_max) for f in batch.prepared.facts]
        for low, high in set(ranges):
            too_big = rooms > high if high is not None else ~batch.every_dwelling
            yield batch.where_case(ranges, (low, high)), (rooms < low) | too_big

    def explain(self, pair: Pair) -> Detail:
        return {
            "rooms": pair.dwelling.rooms,
            "household_size": pair.facts.affordability.household_size,
            "rooms_min": pair.facts.rooms_min,
            "rooms_max": pair.facts.rooms_max,
        }


class NotWheelchairAccessible(Rule):
    code = "not_wheelchair_accessible"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        yield (
            batch.of_cases([c.wheelchair for c in batch.cases]),
            ~batch.of_dwellings([d.wheelchair_accessible for d in batch.dwellings]),
        )

    def explain(self, pair: Pair) -> Detail:
        return {"wheelchair_accessible": False}


class NotStepFree(Rule):
    """Step-free: the ground floor or a lift."""

    code = "not_step_free"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        yield (
            batch.of_cases([c.step_free for c in batch.cases]),
            batch.of_dwellings([d.floor != 0 and not d.has_lift for d in batch.dwellings]),
        )

    def explain(self, pair: Pair) -> Detail:
        return {"floor": pair.dwelling.floor, "has_lift": False}


class FloorTooHigh(Rule):
    code = "floor_too_high"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        floors = batch.of_dwellings([d.floor for d in batch.dwellings], np.int64)
        max_floors = [c.max_floor for c in batch.cases]
        for max_floor in {m for m in max_floors if m is not None}:
            yield batch.where_case(max_floors, max_floor), floors > max_floor

    def explain(self, pair: Pair) -> Detail:
        return {"floor": pair.dwelling.floor, "max_floor": pair.case.max_floor}


class PetsNotAllowed(Rule):
    code = "pets_not_allowed"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        yield (
            batch.of_cases([c.pets for c in batch.cases]),
            ~batch.of_dwellings([d.pets_allowed for d in batch.dwellings]),
        )

    def explain(self, pair: Pair) -> Detail:
        return {"pets_allowed": False}


class AgeRestricted(Rule):
    """Below the dwelling's minimum age (the youngest possible age, `app.matching.ages`)."""

    code = "age_restricted"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        ages = batch.of_cases([f.affordability.age for f in batch.prepared.facts], np.int64)
        min_ages = [d.min_age for d in batch.dwellings]
        for min_age in {a for a in min_ages if a is not None}:
            yield ages < min_age, batch.where_dwelling(min_ages, min_age)

    def explain(self, pair: Pair) -> Detail:
        afford = pair.facts.affordability
        return {"age": afford.age, "min_age": pair.dwelling.min_age, "age_basis": afford.age_basis}


class ExcludedArea(Rule):
    """The dwelling's neighbourhood lies in an area the case excludes (CBS nesting)."""

    code = "excluded_area"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        prepared = batch.prepared
        areas = [c.excluded_areas for c in batch.cases]
        for case_rows, hoods in area_groups(areas, prepared.neighbourhoods):
            yield case_rows, hoods[prepared.neighbourhood_index]

    def explain(self, pair: Pair) -> Detail:
        hood = pair.dwelling.neighbourhood_code
        return {
            "neighbourhood": hood,
            "area": first_containing_area(pair.case.excluded_areas, hood),
        }


class NotAvailableInHorizon(Rule):
    code = "not_available_in_horizon"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        latest = latest_available_date(batch.policy, batch.meeting_date)
        yield (
            batch.every_case,
            batch.of_dwellings([d.available_from > latest for d in batch.dwellings]),
        )

    def explain(self, pair: Pair) -> Detail:
        latest = latest_available_date(pair.policy, pair.meeting_date)
        return {
            "available_from": pair.dwelling.available_from.isoformat(),
            "latest": latest.isoformat(),
        }


class ContractFormMismatch(Rule):
    """The dwelling accepts none of the lease forms the case can take (`either`: any form)."""

    code = "contract_form_mismatch"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        dwellings = batch.dwellings
        own = batch.of_dwellings(["own_lease" in d.contract_forms for d in dwellings])
        intermediate = batch.of_dwellings(
            ["intermediate_lease" in d.contract_forms for d in dwellings]
        )
        forms = [c.contract_form for c in batch.cases]
        for form, refused in (
            ("own_lease", ~own),
            ("intermediate_lease", ~intermediate),
            ("either", ~own & ~intermediate),
        ):
            yield batch.where_case(forms, form), refused

    def explain(self, pair: Pair) -> Detail:
        return {
            "contract_form": pair.case.contract_form,
            "accepted": ",".join(sorted(pair.dwelling.contract_forms)),
        }


class NoComplexManager(Rule):
    code = "no_complex_manager"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        yield (
            batch.of_cases([c.needs_complex_manager for c in batch.cases]),
            ~batch.of_dwellings([d.complex_manager for d in batch.dwellings]),
        )

    def explain(self, pair: Pair) -> Detail:
        return {"complex_manager": False}


class NoStableIncome(Rule):
    code = "no_stable_income"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        yield (
            batch.of_cases([f.unstable_income for f in batch.prepared.facts]),
            batch.every_dwelling,
        )

    def explain(self, pair: Pair) -> Detail:
        return {
            "income_stable": pair.case.income_stable,
            "budget_management": pair.case.budget_management,
        }


class BeschikkingMissing(Rule):
    code = "beschikking_missing"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        missing = [f.beschikking_missing for f in batch.prepared.facts]
        yield batch.of_cases(missing), batch.every_dwelling

    def explain(self, pair: Pair) -> Detail:
        valid_until = pair.case.beschikking_valid_until
        return {
            "status": pair.case.beschikking_status,
            "effective_status": pair.facts.effective_beschikking,
            "required": pair.policy.beschikking_required,
            "valid_until": valid_until.isoformat() if valid_until else None,
        }


class RentArrears(Rule):
    """Rent arrears with the dwelling's corporation."""

    code = "rent_arrears"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        corporations = [d.corporation_id for d in batch.dwellings]
        for corporation in sorted(set(corporations)):
            yield (
                batch.of_cases(
                    [corporation in c.rent_arrears_corporation_ids for c in batch.cases]
                ),
                batch.where_dwelling(corporations, corporation),
            )

    def explain(self, pair: Pair) -> Detail:
        return {"corporation_id": pair.dwelling.corporation_id}


class RegistrationTooShort(Rule):
    """Registered for fewer months than the policy asks, without urgency, for a dwelling outside
    the contingent."""

    code = "registration_too_short"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        yield (
            batch.of_cases([f.registration_short for f in batch.prepared.facts]),
            ~batch.of_dwellings([d.contingent for d in batch.dwellings]),
        )

    def explain(self, pair: Pair) -> Detail:
        registered = pair.case.registration_date
        return {
            "months_registered": pair.facts.months_registered,
            "required_months": pair.policy.min_registration_months,
            "registration_date": registered.isoformat() if registered else None,
            "contingent": False,
            "urgency": False,
        }


class DeclinedEarlier(Rule):
    """The pair was declined before: the latest decision, reason and date, and how many times."""

    code = "declined_earlier"
    cells = True

    def blocks(self, batch: Batch) -> Iterator[Block]:
        case_row = {case.id: i for i, case in enumerate(batch.cases)}
        dwelling_col = {dwelling.id: j for j, dwelling in enumerate(batch.dwellings)}
        cells = [
            (case_row[c], dwelling_col[d])
            for c, d in batch.declines.pairs
            if c in case_row and d in dwelling_col
        ]
        yield (
            np.array([i for i, _ in cells], dtype=np.intp),
            np.array([j for _, j in cells], dtype=np.intp),
        )

    def explain(self, pair: Pair) -> Detail:
        decline, times = pair.declines.pairs[(pair.case.id, pair.dwelling.id)]
        return {
            "decision": decline.decision,
            "reason": decline.reason,
            "decided_on": decline.decided_on.isoformat(),
            "proposal_id": decline.proposal_id,
            "times": times,
        }


class DeclinedByCorporationEarlier(Rule):
    """A corporation's decline the policy widens to all its dwellings, in force on the meeting
    date; one block per corporation (as `rent_arrears`)."""

    code = "declined_by_corporation_earlier"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        corporations = [d.corporation_id for d in batch.dwellings]
        widened = batch.declines.widened
        for corporation in sorted({corp for _, corp in widened}):
            yield (
                batch.of_cases([(c.id, corporation) in widened for c in batch.cases]),
                batch.where_dwelling(corporations, corporation),
            )

    def explain(self, pair: Pair) -> Detail:
        widened = pair.declines.widened[(pair.case.id, pair.dwelling.corporation_id)]
        decline = widened.decline
        return {
            "corporation_id": decline.corporation_id,
            "reason": decline.reason,
            "decided_on": decline.decided_on.isoformat(),
            "until": widened.until.isoformat(),
            "vacancy_id": None if decline.elsewhere else decline.dwelling_id,
            "proposal_id": decline.proposal_id,
        }


class ComplexCapReached(Rule):
    """The complex has had its share of placements in the spread window."""

    code = "complex_cap_reached"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        full = [complex_full(d, batch.policy, batch.usage) for d in batch.dwellings]
        yield batch.every_case, batch.of_dwellings(full)

    def explain(self, pair: Pair) -> Detail:
        complex_key = pair.dwelling.complex_key
        return {
            "complex": complex_key,
            "usage": pair.usage.per_complex.get(complex_key, 0),
            "cap": pair.policy.max_per_complex,
            "window_months": pair.policy.spread_window_months,
        }


class NeighbourhoodCapReached(Rule):
    """The neighbourhood has had its share of placements in the spread window."""

    code = "neighbourhood_cap_reached"

    def blocks(self, batch: Batch) -> Iterator[Block]:
        full = [neighbourhood_full(d, batch.policy, batch.usage) for d in batch.dwellings]
        yield batch.every_case, batch.of_dwellings(full)

    def explain(self, pair: Pair) -> Detail:
        hood = pair.dwelling.neighbourhood_code
        return {
            "neighbourhood": hood,
            "usage": pair.usage.per_neighbourhood.get(hood, 0),
            "cap": pair.policy.max_per_neighbourhood,
            "window_months": pair.policy.spread_window_months,
        }


RULES: tuple[Rule, ...] = (
    RentAboveCap(),
    SizeMismatch(),
    NotWheelchairAccessible(),
    NotStepFree(),
    FloorTooHigh(),
    PetsNotAllowed(),
    AgeRestricted(),
    ExcludedArea(),
    NotAvailableInHorizon(),
    ContractFormMismatch(),
    NoComplexManager(),
    NoStableIncome(),
    BeschikkingMissing(),
    RentArrears(),
    RegistrationTooShort(),
    DeclinedEarlier(),
    DeclinedByCorporationEarlier(),
    ComplexCapReached(),
    NeighbourhoodCapReached(),
)
"""Every hard rule, in the order of their reason codes (and bits, and of a pair's failures)."""

REASON_CODES: tuple[str, ...] = tuple(rule.code for rule in RULES)
REASON_BIT: dict[str, int] = {code: 1 << index for index, code in enumerate(REASON_CODES)}
CAP_REASONS: tuple[str, ...] = (ComplexCapReached.code, NeighbourhoodCapReached.code)
