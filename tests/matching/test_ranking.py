"""Candidate lists: the vectorised ranking lists exactly what ranking each case's and each
dwelling's feasible pairs one by one lists (the engine's way before it was vectorised, kept here
as the reference)."""

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import evaluate, match
from app.matching.bottlenecks import excluded_counts
from app.matching.ranking import Ranking, order_within, top_within
from app.matching.results import CaseCandidates, DwellingCandidates, RankedCase, RankedDwelling
from app.matching.scoring import output_scores
from app.matching.units import output_score
from tests.matching.factories import LIMITS_2026, MEETING, make_case, make_dwelling, make_policy
from tests.matching.strategies import tables
from tests.properties import examples


def reference_candidates(cases, dwellings, policy, limits, meeting, usage, top_k):
    """Per case and per dwelling: every feasible partner sorted by (score desc, id), the first
    `top_k`, each pair's components computed on its own."""
    cases, dwellings = sorted(cases, key=lambda c: c.id), sorted(dwellings, key=lambda d: d.id)
    evaluation = evaluate(cases, dwellings, policy, limits, meeting, usage)
    feasible = evaluation.feasible
    units = evaluation.score_matrix()

    def ranked(pairs):
        return sorted(pairs, key=lambda p: (-int(units[p]), p))[: max(top_k, 0)]

    by_case = {}
    for i, case in enumerate(cases):
        pairs = ranked([(i, j) for j in range(len(dwellings)) if feasible[i, j]])
        by_case[case.id] = CaseCandidates(
            case.id,
            int(feasible[i].sum()),
            [
                RankedDwelling(
                    dwellings[j].id, output_score(int(units[i, j])), evaluation.components(i, j)
                )
                for i, j in pairs
            ],
            excluded_counts(evaluation.case_reason_counts[i]),
        )
    by_dwelling = {}
    for j, dwelling in enumerate(dwellings):
        # Sorted by (-score, (j, i)) would order equal scores by case: the same as by (i, j).
        pairs = sorted(
            [(i, j) for i in range(len(cases)) if feasible[i, j]],
            key=lambda p: (-int(units[p]), p[0]),
        )[: max(top_k, 0)]
        by_dwelling[dwelling.id] = DwellingCandidates(
            dwelling.id,
            int(feasible[:, j].sum()),
            [
                RankedCase(cases[i].id, output_score(int(units[i, j])), evaluation.components(i, j))
                for i, j in pairs
            ],
            excluded_counts(evaluation.dwelling_reason_counts[j]),
        )
    return by_case, by_dwelling


@settings(max_examples=examples(150))
@given(tables(max_cases=8, max_dwellings=7), st.integers(0, 6))
def test_vectorised_candidate_lists_equal_ranking_pair_by_pair(table, top_k):
    assert_lists_equal_the_reference(table, top_k)


def assert_lists_equal_the_reference(table, top_k):
    cases, dwellings, policy, limits, meeting, usage = table
    result = match(cases, dwellings, policy, limits, meeting, usage, top_k=top_k)
    by_case, by_dwelling = reference_candidates(
        cases, dwellings, policy, limits, meeting, usage, top_k
    )
    assert result.candidates_by_case == by_case
    assert result.candidates_by_dwelling == by_dwelling
    assert list(result.candidates_by_case) == list(by_case)
    assert list(result.candidates_by_dwelling) == list(by_dwelling)


@settings(max_examples=examples(60))
@given(tables(max_cases=8, max_dwellings=7, feasible_heavy=True), st.integers(1, 4))
def test_candidate_lists_equal_the_reference_when_most_pairs_fit(table, top_k):
    assert_lists_equal_the_reference(table, top_k)


def test_equal_scores_rank_by_id_on_both_sides():
    # Identical cases and dwellings: every pair scores the same, so only the ids order them.
    cases = [make_case(id=f"case-{i}") for i in (3, 1, 2)]
    homes = [make_dwelling(id=f"home-{j}", complex_key=f"c{j}") for j in (2, 0, 1)]
    result = match(cases, homes, make_policy(), LIMITS_2026, MEETING, top_k=2)
    assert [c.dwelling_id for c in result.candidates_by_case["case-2"].candidates] == [
        "home-0",
        "home-1",
    ]
    assert [c.case_id for c in result.candidates_by_dwelling["home-2"].candidates] == [
        "case-1",
        "case-2",
    ]


def test_listed_pairs_share_equal_components_yet_equal_pair_by_pair():
    cases = [make_case(id=f"case-{i}") for i in range(4)]
    homes = [make_dwelling(id=f"home-{j}", complex_key=f"c{j}") for j in range(3)]
    result = match(cases, homes, make_policy(), LIMITS_2026, MEETING, top_k=3)
    evaluation = evaluate(cases, homes, make_policy(), LIMITS_2026, MEETING)
    for i, case in enumerate(cases):
        for candidate in result.candidates_by_case[case.id].candidates:
            j = int(candidate.dwelling_id.removeprefix("home-"))
            assert candidate.components == evaluation.components(i, j)


def test_ranking_keeps_position_order_for_equal_scores_within_a_group():
    order, rank = order_within(np.array([1, 0, 1, 0, 1]), np.array([5, 7, 5, 7, 9]))
    assert order.tolist() == [1, 3, 4, 0, 2]
    assert rank.tolist() == [0, 1, 0, 1, 2]


@settings(max_examples=examples(200))
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(0, 3), st.integers(0, 70_000)),
            st.one_of(st.integers(0, 2), st.integers(-(10**9), 10**9)),
        ),
        max_size=300,
    ),
    st.booleans(),
)
def test_ranking_is_group_then_score_descending_then_position_for_any_groups(items, grouped):
    # Few groups and scores (many ties, in arrays long enough that an unstable sort would
    # reorder them), groups past 65,535 (no 16-bit presort), groups given in order or
    # shuffled: the order is always np.lexsort's over (position, -score, group).
    if grouped:
        items = sorted(items, key=lambda item: item[0])
    group = np.array([g for g, _ in items], dtype=np.int64)
    score = np.array([s for _, s in items], dtype=np.int64)
    order, rank = order_within(group, score)
    expected = np.lexsort((np.arange(len(items)), -score, group))
    assert order.tolist() == expected.tolist()
    sorted_group = group[expected]
    assert rank.tolist() == [
        k - int(np.searchsorted(sorted_group, sorted_group[k])) for k in range(len(items))
    ]


@settings(max_examples=examples(200))
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.booleans()), max_size=200),
    st.integers(0, 4),
)
def test_a_kept_ranking_takes_the_same_best_among_any_subset_as_sorting_it_again(items, limit):
    # Many ties, so a subset ranked in another order than its own stable sort would differ.
    group = np.array([g for g, _, _ in items], dtype=np.int64)
    score = np.array([s for _, s, _ in items], dtype=np.int64)
    among = np.array([a for _, _, a in items], dtype=bool)
    ranking = Ranking.of(group, score)
    assert ranking.top(limit).tolist() == top_within(group, score, limit).tolist()
    expected = np.zeros(len(items), dtype=bool)
    expected[np.flatnonzero(among)] = top_within(group[among], score[among], limit)
    assert ranking.top(limit, among=among).tolist() == expected.tolist()


def test_a_negative_weight_keeps_negative_zero_points_apart_from_zero():
    # 0.0 and -0.0 round to different floats; sharing components must not merge them.
    policy = make_policy()
    policy = replace(policy, weights=replace(policy.weights, urgency=-5.0))
    cases = [make_case(id="case-0", urgency=False), make_case(id="case-1", urgency=True)]
    homes = [make_dwelling(id="home-0")]
    by_case, _ = reference_candidates(cases, homes, policy, LIMITS_2026, MEETING, None, 1)
    result = match(cases, homes, policy, LIMITS_2026, MEETING, top_k=1)
    assert result.candidates_by_case == by_case


def test_vectorised_output_scores_equal_rounding_one_by_one():
    rng = np.random.default_rng(7)
    units = np.concatenate(
        [
            np.arange(-300_000, 300_000, 7),
            np.arange(-1_000, 1_000),
            np.arange(50, 3_000_000, 100),  # every exact tie of the 4th decimal
            rng.integers(-(10**11), 10**11, 20_000),
        ]
    )
    vectorised = output_scores(units)
    expected = [output_score(u) for u in units.tolist()]
    assert [repr(v) for v in vectorised] == [repr(v) for v in expected]
