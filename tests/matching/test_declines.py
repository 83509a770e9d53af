"""Earlier declines as a hard rule: a declined pair never comes back, and a corporation's decline
for some reasons keeps the case from all its dwellings for a period (table policy)."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import REASON_CODES, EarlierDecline, evaluate, explain_pair, match
from tests.matching.factories import (
    LIMITS_2026,
    MEETING,
    NO_USAGE,
    make_case,
    make_dwelling,
    make_policy,
)
from tests.matching.strategies import tables

WIDENING = {"failed_reference_check": 365, "rent_arrears": 365}


def decline(decision="client_decline", reason="location", days_ago=7, **overrides):
    values = {
        "case_id": "case-1",
        "dwelling_id": "dwelling-1",
        "corporation_id": "corp-a",
        "decision": decision,
        "reason": reason,
        "decided_on": MEETING - timedelta(days=days_ago),
        "proposal_id": "proposal-1",
    }
    return EarlierDecline(**(values | overrides))


def failing(case, dwelling, declines, policy=None, meeting=MEETING):
    """Failing codes of one pair; the scalar and the vectorised path must agree."""
    policy = policy or make_policy(corporation_decline_scope_days=WIDENING)
    explained = explain_pair(case, dwelling, policy, LIMITS_2026, meeting, NO_USAGE, declines)
    evaluation = evaluate([case], [dwelling], policy, LIMITS_2026, meeting, NO_USAGE, declines)
    codes = [f.code for f in explained.reasons]
    assert evaluation.reasons(0, 0) == codes
    return codes, {f.code: f.detail for f in explained.reasons}


def test_decline_codes_sit_before_the_spread_caps():
    assert REASON_CODES[-4:-2] == ("declined_earlier", "declined_by_corporation_earlier")


def test_declined_pair_is_not_proposed_again():
    case, home = make_case(), make_dwelling()
    first = match([case], [home], make_policy(), LIMITS_2026, MEETING)
    assert [(p.case_id, p.dwelling_id) for p in first.proposals] == [("case-1", "dwelling-1")]
    again = match(
        [case], [home], make_policy(), LIMITS_2026, MEETING, declines=[decline(days_ago=7)]
    )
    assert again.proposals == []
    assert again.candidates_by_case["case-1"].excluded_counts == {"declined_earlier": 1}


@pytest.mark.parametrize(
    ("decision", "reason"),
    [
        ("client_decline", "location"),
        ("client_decline", "no_show"),
        ("corporation_decline", "income_insufficient"),
        ("withdraw", "table_decision"),
    ],
)
def test_every_kind_of_decline_excludes_the_pair_with_its_decision_reason_and_date(
    decision, reason
):
    codes, details = failing(
        make_case(), make_dwelling(), [decline(decision, reason, days_ago=400)]
    )
    assert codes == ["declined_earlier"]
    assert details["declined_earlier"] == {
        "decision": decision,
        "reason": reason,
        "decided_on": (MEETING - timedelta(days=400)).isoformat(),
        "proposal_id": "proposal-1",
        "times": 1,
    }


def test_a_pair_declined_twice_names_the_latest_decline_and_counts_both():
    declines = [
        decline("client_decline", "location", days_ago=14, proposal_id="p-1"),
        decline("corporation_decline", "other", days_ago=7, proposal_id="p-2"),
    ]
    _, details = failing(make_case(), make_dwelling(), declines)
    assert details["declined_earlier"]["proposal_id"] == "p-2"
    assert details["declined_earlier"]["reason"] == "other"
    assert details["declined_earlier"]["times"] == 2


def test_a_decline_of_another_case_or_dwelling_does_not_exclude_this_pair():
    declines = [decline(case_id="case-2"), decline(dwelling_id="dwelling-2")]
    assert failing(make_case(), make_dwelling(), declines)[0] == []


def test_corporation_decline_for_a_widening_reason_excludes_all_its_dwellings():
    declined = decline("corporation_decline", "failed_reference_check", days_ago=30)
    sibling = make_dwelling(id="dwelling-2", complex_key="corp-a:other")
    codes, details = failing(make_case(), sibling, [declined])
    assert codes == ["declined_by_corporation_earlier"]
    assert details["declined_by_corporation_earlier"] == {
        "corporation_id": "corp-a",
        "reason": "failed_reference_check",
        "decided_on": (MEETING - timedelta(days=30)).isoformat(),
        "until": (MEETING + timedelta(days=335)).isoformat(),
        "vacancy_id": "dwelling-1",
        "proposal_id": "proposal-1",
    }
    # The declined dwelling itself fails both: the pair stays declined after the period too.
    assert failing(make_case(), make_dwelling(), [declined])[0] == [
        "declined_earlier",
        "declined_by_corporation_earlier",
    ]


def test_widened_decline_leaves_other_corporations_alone():
    declined = decline("corporation_decline", "rent_arrears", days_ago=30)
    elsewhere = make_dwelling(id="dwelling-3", corporation_id="corp-b", complex_key="corp-b:x")
    assert failing(make_case(), elsewhere, [declined])[0] == []


def test_widened_decline_ends_when_its_period_has_passed():
    sibling = make_dwelling(id="dwelling-2")
    last_day = decline("corporation_decline", "failed_reference_check", days_ago=364)
    over = decline("corporation_decline", "failed_reference_check", days_ago=365)
    assert failing(make_case(), sibling, [last_day])[0] == ["declined_by_corporation_earlier"]
    assert failing(make_case(), sibling, [over])[0] == []


def test_only_reasons_the_policy_lists_widen_a_corporation_decline():
    sibling = make_dwelling(id="dwelling-2")
    other_reason = decline("corporation_decline", "unsuitable_for_dwelling", days_ago=1)
    assert failing(make_case(), sibling, [other_reason])[0] == []
    narrow = make_policy(corporation_decline_scope_days={"failed_reference_check": 0})
    reference = decline("corporation_decline", "failed_reference_check", days_ago=1)
    assert failing(make_case(), sibling, [reference], policy=narrow)[0] == []


def test_client_decline_and_chair_withdrawal_never_widen():
    sibling = make_dwelling(id="dwelling-2")
    for declined in (
        decline("client_decline", "location", days_ago=1),
        decline("withdraw", "table_decision", days_ago=1),
    ):
        assert failing(make_case(), sibling, [declined])[0] == []


def test_widened_decline_still_applies_when_the_declined_dwelling_is_gone():
    declined = decline("corporation_decline", "failed_reference_check", days_ago=10)
    result = match(
        [make_case()],
        [make_dwelling(id="dwelling-2"), make_dwelling(id="dwelling-3", corporation_id="corp-b")],
        make_policy(corporation_decline_scope_days=WIDENING),
        LIMITS_2026,
        MEETING,
        declines=[declined],
    )
    assert [p.dwelling_id for p in result.proposals] == ["dwelling-3"]
    assert result.candidates_by_case["case-1"].excluded_counts == {
        "declined_by_corporation_earlier": 1
    }


def test_a_case_blocked_only_by_its_declines_shows_in_the_bottlenecks():
    homes = [make_dwelling(id="dwelling-1"), make_dwelling(id="dwelling-2", complex_key="c2")]
    declines = [decline(dwelling_id="dwelling-1"), decline(dwelling_id="dwelling-2")]
    result = match([make_case()], homes, make_policy(), LIMITS_2026, MEETING, declines=declines)
    [blocked] = result.bottlenecks.blocked_cases
    assert blocked.unblocked_by == ["declined_earlier"]
    assert blocked.excluded_counts == {"declined_earlier": 2}
    [reason] = result.bottlenecks.by_reason
    assert (reason.code, reason.cases_blocked_only_by) == ("declined_earlier", 1)
    assert result.bottlenecks.groups[0].reasons == ["declined_earlier"]


def test_an_unknown_decision_is_refused():
    with pytest.raises(ValueError, match="not a decline"):
        failing(make_case(), make_dwelling(), [decline("nominate", None)])


@st.composite
def declined_tables(draw):
    """A random small table with random declines over its pairs (and a few outside it)."""
    cases, dwellings, policy, limits, meeting, usage = draw(tables(max_cases=5, max_dwellings=5))
    ids = [c.id for c in cases] + ["case-gone"]
    homes = [(d.id, d.corporation_id) for d in dwellings] + [("home-gone", "corp-a")]
    declines = []
    for k in range(draw(st.integers(0, 6))):
        dwelling_id, corporation = draw(st.sampled_from(homes))
        decision = draw(st.sampled_from(["client_decline", "corporation_decline", "withdraw"]))
        declines.append(
            EarlierDecline(
                case_id=draw(st.sampled_from(ids)),
                dwelling_id=dwelling_id,
                corporation_id=corporation,
                decision=decision,
                reason=draw(st.sampled_from(["failed_reference_check", "rent_arrears", "other"])),
                decided_on=meeting - timedelta(days=draw(st.sampled_from([0, 10, 364, 365, 900]))),
                proposal_id=f"proposal-{k}",
            )
        )
    scope = draw(st.sampled_from([{}, WIDENING, {"failed_reference_check": 30}]))
    policy = make_policy(
        max_per_complex=policy.max_per_complex,
        max_per_neighbourhood=policy.max_per_neighbourhood,
        corporation_decline_scope_days=scope,
    )
    return cases, dwellings, policy, limits, meeting, usage, declines


@settings(max_examples=120, deadline=None)
@given(declined_tables())
def test_vectorised_decline_rules_agree_with_the_scalar_rules(table):
    cases, dwellings, policy, limits, meeting, usage, declines = table
    evaluation = evaluate(cases, dwellings, policy, limits, meeting, usage, declines)
    for i, case in enumerate(cases):
        for j, dwelling in enumerate(dwellings):
            explained = explain_pair(case, dwelling, policy, limits, meeting, usage, declines)
            assert evaluation.reasons(i, j) == [f.code for f in explained.reasons]
            pair_declined = any(
                (d.case_id, d.dwelling_id) == (case.id, dwelling.id) for d in declines
            )
            assert ("declined_earlier" in evaluation.reasons(i, j)) == pair_declined
    for r, code in enumerate(REASON_CODES):
        failing_bits = (evaluation.fail_mask >> r) & 1
        assert (failing_bits.sum(axis=1) == evaluation.case_reason_counts[:, r]).all(), code
        assert (failing_bits.sum(axis=0) == evaluation.dwelling_reason_counts[:, r]).all(), code
    result = match(cases, dwellings, policy, limits, meeting, usage, declines=declines)
    declined_pairs = {(d.case_id, d.dwelling_id) for d in declines}
    assert not {(p.case_id, p.dwelling_id) for p in result.proposals} & declined_pairs
