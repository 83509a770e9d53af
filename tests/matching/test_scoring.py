"""Score components: each value, its weight, and the sum; scalar and vectorised agree."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.matching import COMPONENT_NAMES, ScoreWeights, evaluate, explain_pair
from tests.matching.factories import (
    LIMITS_2026,
    MEETING,
    NO_USAGE,
    make_case,
    make_dwelling,
    make_policy,
)


def components(case, dwelling, policy=None) -> dict[str, tuple[float, float, float]]:
    policy = policy or make_policy()
    explained = explain_pair(case, dwelling, policy, LIMITS_2026, MEETING, NO_USAGE)
    assert explained.feasible
    evaluation = evaluate([case], [dwelling], policy, LIMITS_2026, MEETING, NO_USAGE)
    assert evaluation.score(0, 0) == explained.score
    assert evaluation.components(0, 0) == explained.components
    return {c.name: (c.value, c.weight, c.points) for c in explained.components}


def score(case, dwelling, policy=None) -> float:
    policy = policy or make_policy()
    return explain_pair(case, dwelling, policy, LIMITS_2026, MEETING, NO_USAGE).score


def test_components_are_listed_in_fixed_order():
    explained = explain_pair(make_case(), make_dwelling(), make_policy(), LIMITS_2026, MEETING)
    assert tuple(c.name for c in explained.components) == COMPONENT_NAMES


def test_waiting_time_is_years_since_ready():
    case = make_case(ready_since=MEETING - timedelta(days=730))
    value, weight, points = components(case, make_dwelling())["waiting_time"]
    assert value == pytest.approx(730 / 365.25, abs=1e-4)
    assert points == pytest.approx(10 * 730 / 365.25, abs=1e-4)
    assert weight == 10.0


def test_waiting_time_is_never_negative():
    case = make_case(ready_since=MEETING + timedelta(days=10))
    assert components(case, make_dwelling())["waiting_time"][0] == 0.0


def test_urgency_adds_its_weight():
    with_urgency = score(make_case(urgency=True), make_dwelling())
    without = score(make_case(urgency=False), make_dwelling())
    assert with_urgency - without == pytest.approx(5.0, abs=1e-4)


@pytest.mark.parametrize("area", ["GM0034", "WK003401", "BU00340101"])
def test_preferred_area_counts_when_it_contains_the_neighbourhood(area):
    case = make_case(preferred_areas=(area,))
    assert components(case, make_dwelling())["preferred_area"] == (1.0, 2.0, 2.0)


def test_preferred_area_elsewhere_does_not_count():
    case = make_case(preferred_areas=("WK003402",))
    assert components(case, make_dwelling())["preferred_area"][0] == 0.0


def test_support_fit_needs_intensive_support_and_a_complex_manager():
    intensive = make_case(support_intensity="intensive")
    assert components(intensive, make_dwelling(complex_manager=True))["support_fit"][0] == 1.0
    assert components(intensive, make_dwelling(complex_manager=False))["support_fit"][0] == 0.0
    moderate = make_case(support_intensity="moderate")
    assert components(moderate, make_dwelling(complex_manager=True))["support_fit"][0] == 0.0


def test_registration_counts_full_months_up_to_ten_years():
    two_years = make_case(registration_date=date(2024, 3, 2))
    assert components(two_years, make_dwelling())["registration"][0] == 2.0
    long_ago = make_case(registration_date=date(2001, 1, 1))
    assert components(long_ago, make_dwelling())["registration"][0] == 10.0
    contingent = make_dwelling(contingent=True)
    assert components(make_case(registration_date=None), contingent)["registration"][0] == 0.0


def test_rent_headroom_is_share_of_the_applicable_cap_left():
    dwelling = make_dwelling(rent_base=Decimal("570.42"))
    value = components(make_case(), dwelling)["rent_headroom"][0]
    assert value == pytest.approx((713.02 - 570.42) / 713.02, abs=1e-4)
    at_cap = make_dwelling(rent_base=Decimal("713.02"))
    assert components(make_case(), at_cap)["rent_headroom"][0] == 0.0


def test_rent_headroom_uses_the_daeb_rent_limit_above_the_income_limit():
    case = make_case(annual_taxable=Decimal("35000"))
    value = components(case, make_dwelling(rent_base=Decimal("800.00")))["rent_headroom"][0]
    assert value == pytest.approx((932.93 - 800) / 932.93, abs=1e-4)


def test_score_is_the_sum_of_points():
    case = make_case(urgency=True, preferred_areas=("GM0034",), support_intensity="intensive")
    parts = components(case, make_dwelling(complex_manager=True))
    assert score(case, make_dwelling(complex_manager=True)) == pytest.approx(
        sum(points for _, _, points in parts.values()), abs=1e-3
    )


def test_weights_are_policy():
    policy = make_policy(weights=replace(ScoreWeights(), waiting_time=0.0, urgency=100.0))
    case = make_case(urgency=True)
    assert score(case, make_dwelling(), policy) == pytest.approx(
        100.0 + 0.5 * 37 / 12 + 1.0 * (713.02 - 600) / 713.02, abs=1e-4
    )


def test_infeasible_pair_has_no_score():
    explained = explain_pair(
        make_case(pets=True), make_dwelling(pets_allowed=False), make_policy(), LIMITS_2026, MEETING
    )
    assert explained.score is None
    assert explained.components is None
