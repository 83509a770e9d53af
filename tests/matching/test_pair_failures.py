"""`pair_failures` on some rules names exactly the failures `explain_pair` names among them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import REASON_CODES, explain_pair, pair_failures
from tests.matching.strategies import case_profiles, dwellings, meetings, policies


@st.composite
def pairs_and_rules(draw):  # type: ignore[no-untyped-def]
    limits, meeting = draw(meetings())
    case = draw(case_profiles(meeting, "case"))
    dwelling = draw(dwellings(meeting, "dwelling"))
    only = draw(st.sets(st.sampled_from(REASON_CODES), min_size=1))
    return case, dwelling, draw(policies()), limits, meeting, only


@settings(max_examples=200, deadline=None)
@given(pairs_and_rules())
def test_the_failures_among_some_rules_are_explain_pairs_among_them(drawn):
    case, dwelling, policy, limits, meeting, only = drawn
    explained = explain_pair(case, dwelling, policy, limits, meeting)
    expected = [failure for failure in explained.reasons if failure.code in only]
    assert pair_failures(case, dwelling, policy, limits, meeting, only) == expected
