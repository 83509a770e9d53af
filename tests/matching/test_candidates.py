"""One case's or dwelling's whole candidate list is the agenda's list without its top-k cut:
the same pairs, scores, components and order, declines and spread usage included."""

import random

from hypothesis import given, settings

from app.matching import case_candidates, dwelling_candidates, match
from tests.matching.test_declines import declined_tables


@settings(max_examples=80, deadline=None)
@given(declined_tables())
def test_a_whole_list_is_the_agendas_list_without_the_cut(table):
    cases, dwellings, policy, limits, meeting, usage, declines = table
    every = len(cases) + len(dwellings) + 1
    result = match(cases, dwellings, policy, limits, meeting, usage, every, declines=declines)
    shuffled = random.Random(len(cases)).sample(dwellings, len(dwellings))
    for case in cases:
        whole = case_candidates(case, shuffled, policy, limits, meeting, usage, declines)
        assert whole == result.candidates_by_case[case.id]
    for dwelling in dwellings:
        whole = dwelling_candidates(dwelling, cases[::-1], policy, limits, meeting, usage, declines)
        assert whole == result.candidates_by_dwelling[dwelling.id]


@settings(max_examples=40, deadline=None)
@given(declined_tables())
def test_the_agendas_top_k_is_the_head_of_the_whole_list_even_without_components(table):
    cases, dwellings, policy, limits, meeting, usage, declines = table
    result = match(
        cases,
        dwellings,
        policy,
        limits,
        meeting,
        usage,
        2,
        declines=declines,
        candidate_components=False,
    )
    for case in cases:
        whole = case_candidates(case, dwellings, policy, limits, meeting, usage, declines)
        listed = result.candidates_by_case[case.id]
        assert [(c.dwelling_id, c.score) for c in listed.candidates] == [
            (c.dwelling_id, c.score) for c in whole.candidates[:2]
        ]
        assert all(c.components is None for c in listed.candidates)
        assert listed.feasible_count == whole.feasible_count
