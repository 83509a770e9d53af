"""The proposal solver against brute force on small random problems, with and without nesting."""

import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_bipartite_matching

from app.matching import solver as solver_module
from app.matching import tradeoffs
from app.matching.forced import CountBounds
from app.matching.solver import (
    AssignmentProblem,
    capacity_tree,
    check_assignment,
    lift_implied_caps,
    prune,
    prune_rankings,
    solve,
)
from app.matching.straddling import Infeasible, certified_optimum
from app.matching.tradeoffs import passed_over, solve_with_pair
from app.matching.unhoused import best_alternatives
from tests.matching.brute import assignments, best
from tests.properties import examples


@st.composite
def problems(draw, nested: bool | None = None, max_score: int = 6) -> AssignmentProblem:
    """Up to 6 cases x 5 dwellings, random edges, scores with many ties, tight random caps.

    nested=True puts every complex inside one neighbourhood; False makes complex 0 straddle two
    tight neighbourhoods (the caps do not nest); None draws freely.
    """
    n_cases = draw(st.integers(1, 6))
    n_dwellings = draw(st.integers(1, 5))
    pairs = [(c, v) for c in range(n_cases) for v in range(n_dwellings)]
    present = draw(st.lists(st.integers(0, 9), min_size=len(pairs), max_size=len(pairs)))
    cutoff = draw(st.sampled_from([3, 5, 8]))
    edges = [pair for pair, roll in zip(pairs, present, strict=True) if roll < cutoff]
    scores = draw(st.lists(st.integers(0, max_score), min_size=len(edges), max_size=len(edges)))
    complexes = draw(st.lists(st.integers(0, 2), min_size=n_dwellings, max_size=n_dwellings))
    complex_room = draw(st.lists(st.sampled_from([0, 1, 1, 2, 2]), min_size=3, max_size=3))
    hood_room = draw(st.lists(st.sampled_from([0, 1, 2, 2, 3]), min_size=2, max_size=2))
    if nested:
        hood_of_complex = draw(st.lists(st.integers(0, 1), min_size=3, max_size=3))
        hoods = [hood_of_complex[x] for x in complexes]
    elif nested is False:
        complexes = [0 if v < 3 else x for v, x in enumerate(complexes)]
        hoods = [v % 2 for v in range(n_dwellings)]
        complex_room[0], hood_room = 1, [1, 1]
    else:
        hoods = draw(st.lists(st.integers(0, 1), min_size=n_dwellings, max_size=n_dwellings))
    return AssignmentProblem(
        n_cases=n_cases,
        n_dwellings=n_dwellings,
        edge_case=np.array([c for c, _ in edges], dtype=np.int64),
        edge_dwelling=np.array([v for _, v in edges], dtype=np.int64),
        edge_score=np.array(scores, dtype=np.int64),
        complex_of=np.array(complexes, dtype=np.int64),
        neighbourhood_of=np.array(hoods, dtype=np.int64),
        complex_room=np.array(complex_room, dtype=np.int64),
        neighbourhood_room=np.array(hood_room, dtype=np.int64),
    )


@st.composite
def contested(draw, nested: bool | None = None) -> AssignmentProblem:
    """A seeded random problem in which flexible cases (several dwellings) score higher than cases
    with one option, so the optimum often passes a higher-scoring case over to house one more."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_cases, n_dwellings = int(rng.integers(3, 7)), int(rng.integers(2, 6))
    cases, dwellings, scores = [], [], []
    for c in range(n_cases):
        size = int(rng.integers(1, min(3, n_dwellings) + 1))
        for v in sorted(rng.choice(n_dwellings, size=size, replace=False).tolist()):
            cases.append(c)
            dwellings.append(v)
            scores.append(int(rng.integers(0, 5)) + (5 if size > 1 else 0))
    complexes = rng.integers(0, 3, n_dwellings)
    hoods = rng.integers(0, 2, 3)[complexes] if nested else rng.integers(0, 2, n_dwellings)
    return AssignmentProblem(
        n_cases,
        n_dwellings,
        np.array(cases, dtype=np.int64),
        np.array(dwellings, dtype=np.int64),
        np.array(scores, dtype=np.int64),
        complexes.astype(np.int64),
        hoods.astype(np.int64),
        rng.integers(1, 3, 3),
        rng.integers(1, 4, 2),
    )


@st.composite
def straddled(draw) -> AssignmentProblem:
    """A seeded random problem with two complexes spread over three tight neighbourhoods, so
    the caps rarely nest."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_cases, n_dwellings = int(rng.integers(2, 6)), int(rng.integers(3, 6))
    cases, dwellings, scores = [], [], []
    for c in range(n_cases):
        size = int(rng.integers(1, min(3, n_dwellings) + 1))
        for v in sorted(rng.choice(n_dwellings, size=size, replace=False).tolist()):
            cases.append(c)
            dwellings.append(v)
            scores.append(int(rng.integers(0, 10)))
    return AssignmentProblem(
        n_cases,
        n_dwellings,
        np.array(cases, dtype=np.int64),
        np.array(dwellings, dtype=np.int64),
        np.array(scores, dtype=np.int64),
        rng.integers(0, 2, n_dwellings),
        rng.integers(0, 3, n_dwellings),
        rng.integers(1, 3, 2),
        np.ones(3, dtype=np.int64),
    )


def restricted(problem: AssignmentProblem, keep: np.ndarray) -> AssignmentProblem:
    return AssignmentProblem(
        problem.n_cases,
        problem.n_dwellings,
        problem.edge_case[keep],
        problem.edge_dwelling[keep],
        problem.edge_score[keep],
        problem.complex_of,
        problem.neighbourhood_of,
        problem.complex_room,
        problem.neighbourhood_room,
    )


@settings(max_examples=examples(300))
@given(st.one_of(problems(), problems(nested=False)))
def test_proposal_houses_as_many_and_scores_as_high_as_brute_force(problem):
    result = solve(problem)
    check_assignment(problem, result.edges)
    assert (result.count, result.total_score) == best(problem)


@settings(max_examples=examples(300))
@given(problems(nested=True))
def test_nested_caps_take_the_exact_assignment_route(problem):
    result = solve(problem)
    assert result.nested
    if problem.edges and result.count:
        assert result.method == "assignment"
    assert (result.count, result.total_score) == best(problem)


@settings(max_examples=examples(150))
@given(problems(max_score=10**7))
def test_milp_route_agrees_with_brute_force(problem):
    result = solve(problem, method="milp")
    check_assignment(problem, result.edges)
    assert (result.count, result.total_score) == best(problem)


@settings(max_examples=examples(300))
@given(problems())
def test_pruning_keeps_the_optimum(problem):
    keep, bound = prune(problem)
    optimum = best(problem)
    assert bound >= optimum[0]
    assert best(restricted(problem, keep)) == optimum


@settings(max_examples=examples(300))
@given(st.one_of(problems(), problems(nested=False)), st.integers(0, 2**32 - 1))
def test_straddlers_are_cut_into_one_part_per_neighbourhood_of_their_active_dwellings(
    problem, seed
):
    """`_straddlers` against its definition, complex by complex: each straddler's parts are its
    active dwellings' neighbourhoods in order, numbered after the complexes, each dwelling of
    the complex in such a neighbourhood (active or not) gets its part, the rest keep the
    complex."""
    rng = np.random.default_rng(seed)
    active = np.flatnonzero(rng.random(problem.n_dwellings) < 0.8)
    _, _, pair_complex, _, how = solver_module._overlaps(problem, active)
    expected_of = problem.complex_of.copy()
    expected = []
    next_id = len(problem.complex_room)
    for x in np.unique(pair_complex[how == 0]).tolist():
        here = active[problem.complex_of[active] == x]
        touched, sizes = np.unique(problem.neighbourhood_of[here], return_counts=True)
        for hood in touched.tolist():
            in_part = (problem.complex_of == x) & (problem.neighbourhood_of == hood)
            expected_of[in_part] = next_id
            next_id += 1
        ids = list(range(next_id - len(touched), next_id))
        expected.append((int(problem.complex_room[x]), sizes.tolist(), ids))
    straddlers, complex_of = solver_module._straddlers(problem, active)
    assert [(s.room, s.part_sizes, s.part_ids) for s in straddlers] == expected
    assert complex_of.tolist() == expected_of.tolist()


@settings(max_examples=examples(200))
@given(problems(), st.integers(0, 2**32 - 1))
def test_pruning_with_the_rankings_of_other_rooms_keeps_the_same_edges(problem, seed):
    # The unhoused check prunes every split of the straddlers with the rankings of the first
    # (`unhoused._Splits`): the same edges, scores and parts, other rooms.
    rng = np.random.default_rng(seed)
    other = replace(
        problem,
        complex_room=rng.integers(0, 4, len(problem.complex_room)),
        neighbourhood_room=rng.integers(0, 4, len(problem.neighbourhood_room)),
    )
    for bound in (None, int(rng.integers(0, 4))):
        plain, plain_bound = prune(problem, bound)
        kept, kept_bound = prune(problem, bound, rankings=prune_rankings(other))
        assert kept_bound == plain_bound
        assert kept.tolist() == plain.tolist()


@st.composite
def dense(draw, nested: bool = True) -> AssignmentProblem:
    """A seeded random problem of up to 40 cases x 30 dwellings where most pairs fit (so that
    `_upper_bound` matches a sample first), with caps from tight to loose, nested or not;
    sometimes crowded on a few dwellings, so that the maximum matching is the least bound."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_cases, n_dwellings = int(rng.integers(20, 41)), int(rng.integers(16, 31))
    fits = rng.random((n_cases, n_dwellings)) < rng.uniform(0.6, 1.0)
    if draw(st.booleans()):  # crowded: all but a few cases fit only the first dwellings
        fits[int(rng.integers(0, 5)) :, int(rng.integers(16, n_dwellings + 1)) :] = False
    cases, dwellings = np.nonzero(fits)
    n_complexes, n_hoods = int(rng.integers(2, 8)), int(rng.integers(1, 4))
    complexes = rng.integers(0, n_complexes, n_dwellings)
    hoods = (
        rng.integers(0, n_hoods, n_complexes)[complexes]
        if nested
        else rng.integers(0, n_hoods, n_dwellings)
    )
    return AssignmentProblem(
        n_cases,
        n_dwellings,
        cases.astype(np.int64),
        dwellings.astype(np.int64),
        rng.integers(0, 10**6, len(cases)).astype(np.int64),
        complexes.astype(np.int64),
        hoods.astype(np.int64),
        rng.integers(0, 31, n_complexes).astype(np.int64),
        rng.integers(0, 31, n_hoods).astype(np.int64),
    )


@settings(max_examples=examples(100))
@given(dense())
def test_upper_bound_is_the_least_of_sizes_caps_and_maximum_matching(problem):
    dwellings = np.unique(problem.edge_dwelling)
    graph = sp.csr_array(
        (np.ones(problem.edges), (problem.edge_case, problem.edge_dwelling)),
        shape=(problem.n_cases, problem.n_dwellings),
    )
    per_complex = np.bincount(problem.complex_of[dwellings], minlength=len(problem.complex_room))
    per_hood = np.bincount(
        problem.neighbourhood_of[dwellings], minlength=len(problem.neighbourhood_room)
    )
    expected = min(
        len(np.unique(problem.edge_case)),
        len(dwellings),
        int(np.minimum(per_complex, problem.complex_room).sum()),
        int(np.minimum(per_hood, problem.neighbourhood_room).sum()),
        int(np.count_nonzero(maximum_bipartite_matching(graph) >= 0)),
    )
    keep = np.ones(problem.edges, dtype=bool)
    assert solver_module._upper_bound(problem, keep, problem.complex_room) == expected


def test_the_upper_bounds_sample_takes_about_one_pair_in_step_of_every_case():
    """The sample `_upper_bound` matches first is spread over the cases whatever the step: a
    linear key modulo a step sharing a factor with its multipliers took every third case with
    all its pairs, whose matching fell short where an even sample's did not (the big city's
    whole matching then ran on every solve)."""
    n_cases, n_dwellings = 300, 60
    cases = np.repeat(np.arange(n_cases), n_dwellings)
    dwellings = np.tile(np.arange(n_dwellings), n_cases)
    key = solver_module._mixed(cases, dwellings)
    for step in range(2, 16):
        sample = key % np.uint64(step) == 0
        assert abs(int(sample.sum()) - len(cases) / step) < 0.1 * len(cases) / step
        without = np.count_nonzero(np.bincount(cases[sample], minlength=n_cases) == 0)
        # Independent picks leave a case without any with probability (1 - 1/step)^60.
        assert without <= 2 * n_cases * (1 - 1 / step) ** n_dwellings + 0.02 * n_cases
        per_dwelling = np.bincount(dwellings[sample], minlength=n_dwellings)
        assert per_dwelling.min() > 0.5 * n_cases / step


@settings(max_examples=examples(60))
@given(st.one_of(dense(), dense(nested=False)))
def test_larger_problems_reach_the_same_optimum_as_highs_milp(problem):
    result = solve(problem)
    check_assignment(problem, result.edges)
    peer = solve(problem, method="milp")
    assert (result.count, result.total_score) == (peer.count, peer.total_score)


def expected_passed_over(problem: AssignmentProblem, chosen: np.ndarray) -> dict[int, int]:
    """Brute force: pairs (c2, v) scoring above v's holder whose forcing houses fewer."""
    housed = len(chosen)
    holder = {int(problem.edge_dwelling[e]): int(problem.edge_score[e]) for e in chosen}
    expected = {}
    for e in range(problem.edges):
        v = int(problem.edge_dwelling[e])
        if v in holder and problem.edge_score[e] > holder[v]:
            forced_count, _ = best(problem, forced=e)
            if forced_count < housed:
                expected[e] = forced_count
    return expected


@settings(max_examples=examples(200))
@given(st.one_of(problems(), problems(nested=False)))
def test_passed_over_matches_brute_force(problem):
    result = solve(problem)
    check = passed_over(problem, result, resolve_limit=1000)
    assert check.complete
    assert check.by_edge == expected_passed_over(problem, result.edges)


@settings(max_examples=examples(300))
@given(contested())
def test_contested_dwellings_match_brute_force_with_their_passed_over_cases(problem):
    result = solve(problem)
    assert (result.count, result.total_score) == best(problem)
    check = passed_over(problem, result, resolve_limit=1000)
    assert check.complete
    assert check.by_edge == expected_passed_over(problem, result.edges)


@settings(max_examples=examples(200))
@given(contested(nested=True))
def test_passed_over_needs_no_resolves_when_caps_nest(problem):
    result = solve(problem)
    check = passed_over(problem, result, resolve_limit=0)
    assert check.complete
    assert check.resolves == 0
    assert check.by_edge == expected_passed_over(problem, result.edges)


def test_a_higher_scoring_case_is_passed_over_to_house_one_more():
    # case 0 scores highest on dwelling 0 but can also take dwelling 1; case 1 fits dwelling 0 only
    problem = AssignmentProblem(
        n_cases=2,
        n_dwellings=2,
        edge_case=np.array([0, 0, 1]),
        edge_dwelling=np.array([0, 1, 0]),
        edge_score=np.array([9, 1, 5]),
        complex_of=np.array([0, 1]),
        neighbourhood_of=np.array([0, 0]),
        complex_room=np.array([2, 2]),
        neighbourhood_room=np.array([5]),
    )
    result = solve(problem)
    assert sorted(result.edges.tolist()) == [1, 2]
    assert passed_over(problem, result, resolve_limit=0).by_edge == {0: 1}


def test_neighbourhood_cap_limits_the_proposal():
    # three cases, three dwellings in one neighbourhood with room for two
    problem = AssignmentProblem(
        n_cases=3,
        n_dwellings=3,
        edge_case=np.array([0, 1, 2]),
        edge_dwelling=np.array([0, 1, 2]),
        edge_score=np.array([3, 2, 1]),
        complex_of=np.array([0, 1, 2]),
        neighbourhood_of=np.array([0, 0, 0]),
        complex_room=np.array([2, 2, 2]),
        neighbourhood_room=np.array([2]),
    )
    result = solve(problem)
    assert result.count == 2
    assert result.total_score == 5


def straddling_problem() -> AssignmentProblem:
    """Complex 0 straddles two neighbourhoods with room for one each; the caps do not nest."""
    return AssignmentProblem(
        n_cases=3,
        n_dwellings=3,
        edge_case=np.array([0, 0, 1, 2]),
        edge_dwelling=np.array([0, 1, 0, 2]),
        edge_score=np.array([9, 1, 5, 4]),
        complex_of=np.array([0, 0, 1]),
        neighbourhood_of=np.array([0, 1, 1]),
        complex_room=np.array([1, 1]),
        neighbourhood_room=np.array([1, 1]),
    )


def test_straddling_complex_is_solved_by_splitting_its_room():
    problem = straddling_problem()
    result = solve(problem)
    assert not result.nested
    assert result.method == "assignment_split"
    assert (result.count, result.total_score) == best(problem)


@settings(max_examples=examples(200))
@given(straddled())
def test_straddling_complexes_match_brute_force_with_their_passed_over_cases(problem):
    result = solve(problem)
    assert (result.count, result.total_score) == best(problem)
    check = passed_over(problem, result, resolve_limit=1000)
    assert check.complete
    assert check.by_edge == expected_passed_over(problem, result.edges)


@settings(max_examples=examples(150))
@given(straddled())
def test_passed_over_after_the_component_route_matches_brute_force(problem):
    result = solve(problem, split_limit=0)
    assert result.method in ("components", "assignment", "none")
    check = passed_over(problem, result, resolve_limit=1000)
    assert check.complete
    assert check.by_edge == expected_passed_over(problem, result.edges)


def unsettled_problem() -> AssignmentProblem:
    """Found by search: the stricter graph cannot settle edge 4, a re-solve must."""
    return AssignmentProblem(
        n_cases=5,
        n_dwellings=3,
        edge_case=np.array([0, 1, 2, 3, 4, 4]),
        edge_dwelling=np.array([1, 0, 1, 0, 1, 2]),
        edge_score=np.array([8, 5, 3, 0, 9, 4]),
        complex_of=np.array([1, 1, 0]),
        neighbourhood_of=np.array([0, 2, 0]),
        complex_room=np.array([2, 1]),
        neighbourhood_room=np.array([1, 1, 1]),
    )


def test_unsettled_passed_over_checks_beyond_the_limit_are_flagged(monkeypatch):
    problem = unsettled_problem()
    result = solve(problem, split_limit=0)
    assert result.method == "components"
    # The count's linear program settles edge 4 without a re-solve; the limit is about
    # re-solves, so here it bounds nothing.
    assert passed_over(problem, result, resolve_limit=0).complete
    monkeypatch.setattr(tradeoffs, "BOUND_FROM", 10**9)
    full = passed_over(problem, result, resolve_limit=10)
    assert (full.complete, full.resolves) == (True, 1)
    assert full.by_edge == expected_passed_over(problem, result.edges) == {4: 1}
    limited = passed_over(problem, result, resolve_limit=0)
    assert not limited.complete
    assert limited.by_edge == {}


def bounded_problem() -> AssignmentProblem:
    """Found by search: after the component route the graphs leave two passed-over pairs open
    (edges 2 and 5, each houses 2 of 3); the count's linear program proves one of them."""
    return AssignmentProblem(
        n_cases=3,
        n_dwellings=5,
        edge_case=np.array([0, 0, 0, 1, 2, 2]),
        edge_dwelling=np.array([0, 2, 3, 4, 3, 4]),
        edge_score=np.array([3, 6, 9, 4, 5, 7]),
        complex_of=np.array([1, 0, 1, 0, 0]),
        neighbourhood_of=np.array([1, 0, 0, 0, 2]),
        complex_room=np.array([2, 1]),
        neighbourhood_room=np.array([1, 1, 1]),
    )


def test_passed_over_pairs_the_graphs_leave_open_are_bounded_before_any_resolve(monkeypatch):
    problem = bounded_problem()
    result = solve(problem, split_limit=0)
    assert result.method == "components"
    check = passed_over(problem, result, resolve_limit=10)
    assert check.by_edge == expected_passed_over(problem, result.edges) == {2: 2, 5: 2}
    # The proposal's duals prove one pair, the relaxation with the other pair held at 1 the
    # other (`CountBounds.with_pair`): no re-solve.
    assert (check.complete, check.resolves) == (True, 0)
    monkeypatch.setattr(CountBounds, "with_pair", lambda self, edge: (problem.n_cases, -1))
    assert passed_over(problem, result, resolve_limit=10).resolves == 1
    monkeypatch.setattr(tradeoffs, "BOUND_FROM", 10**9)  # without the linear program
    assert passed_over(problem, result, resolve_limit=10).resolves == 2


def test_a_pair_the_relaxation_houses_as_many_with_is_not_re_solved(monkeypatch):
    # Found by search: the graphs leave the pair (case 1, dwelling 1) open and houses 2 with it
    # (case 0 moves to dwelling 3); the count's relaxation with the pair held at 1 finds that
    # proposal itself, so it is not passed over without a re-solve.
    problem = AssignmentProblem(
        n_cases=2,
        n_dwellings=4,
        edge_case=np.array([0, 0, 1, 1, 1]),
        edge_dwelling=np.array([1, 3, 0, 1, 2]),
        edge_score=np.array([4, 0, 2, 5, 1]),
        complex_of=np.array([0, 0, 1, 1]),
        neighbourhood_of=np.array([1, 0, 1, 2]),
        complex_room=np.array([1, 1]),
        neighbourhood_room=np.array([1, 1, 1]),
    )
    result = solve(problem, split_limit=0)
    assert result.method == "components"
    check = passed_over(problem, result, resolve_limit=10)
    assert check.by_edge == expected_passed_over(problem, result.edges) == {}
    assert (check.complete, check.tested, check.resolves) == (True, 1, 0)
    with_pair = CountBounds.with_pair
    monkeypatch.setattr(CountBounds, "with_pair", lambda self, edge: (with_pair(self, edge)[0], -1))
    assert passed_over(problem, result, resolve_limit=10).resolves == 1


def test_a_pairs_run_bounds_the_open_pairs_after_it(monkeypatch):
    # Found by search: the graphs and the proposal's duals leave the pairs of edges 3 and 5
    # open, and each houses 2 of 3; the relaxation run with edge 3 held at 1 proves both.
    problem = AssignmentProblem(
        n_cases=3,
        n_dwellings=6,
        edge_case=np.array([0, 0, 1, 2, 2, 2]),
        edge_dwelling=np.array([1, 5, 2, 2, 3, 5]),
        edge_score=np.array([6, 7, 0, 5, 4, 8]),
        complex_of=np.array([1, 1, 1, 1, 1, 0]),
        neighbourhood_of=np.array([2, 2, 0, 1, 0, 2]),
        complex_room=np.array([1, 2]),
        neighbourhood_room=np.array([1, 1, 1]),
    )
    result = solve(problem, split_limit=0)
    assert result.method == "components"
    runs = []
    with_pair = CountBounds.with_pair
    monkeypatch.setattr(
        CountBounds, "with_pair", lambda self, edge: runs.append(edge) or with_pair(self, edge)
    )
    check = passed_over(problem, result, resolve_limit=10)
    assert check.by_edge == expected_passed_over(problem, result.edges) == {3: 2, 5: 2}
    assert (check.complete, check.resolves, runs) == (True, 0, [3])


@settings(max_examples=examples(150))
@given(st.one_of(straddled(), problems(nested=False)))
def test_the_count_bound_of_a_pair_is_at_least_the_most_housed_with_it(problem):
    """`CountBounds` proves pairs passed over, so it must never fall below the truth."""
    assume(problem.edges > 0)  # the check asks only with pairs left open
    edges = np.arange(problem.edges)
    bounds = CountBounds(problem, edges, solve(problem).edges, None).bounds
    for edge in edges.tolist():
        assert bounds[edge] >= best(problem, forced=edge)[0]  # -1: nothing holds the pair


@settings(max_examples=examples(150))
@given(st.one_of(straddled(), problems(nested=False)))
def test_the_count_bound_with_a_pair_held_is_at_least_the_most_housed_with_it(problem):
    """`CountBounds.with_pair` proves pairs passed over, so its bound must never fall below the
    truth (nor may the bounds of the other pairs it tightens), and the proposal it finds with
    the pair must never exceed it."""
    assume(problem.edges > 0)
    edges = np.arange(problem.edges)
    counts = CountBounds(problem, edges, solve(problem).edges, None)
    most = [best(problem, forced=edge)[0] for edge in edges.tolist()]
    for edge in edges.tolist():
        try:
            upper, found = counts.with_pair(edge)
        except Infeasible:  # the pair's complex or neighbourhood has no room
            assert most[edge] == -1
            continue
        # The proposal it finds holding the pair proves pairs house as many: never above.
        assert upper >= most[edge] >= found
        # Each run's duals tighten the bounds of every pair.
        assert np.all(counts.bounds >= most)


def expected_best_alternatives(problem: AssignmentProblem, chosen: np.ndarray) -> dict:
    """Brute force: per unhoused case with a pair that fits within the caps, the best (housed,
    total) over every assignment that houses it."""
    housed = {int(c) for c in problem.edge_case[chosen]}
    expected: dict[int, tuple[int, int]] = {}
    for e in range(problem.edges):
        case = int(problem.edge_case[e])
        if case not in housed and best(problem, forced=e)[0] > 0:
            expected[case] = max(expected.get(case, (-1, 0)), best(problem, forced=e))
    return expected


def assert_is_an_assignment_housing(problem, result, alternative) -> None:
    """The reported alternative (the proposal with its moves) is a real assignment housing its
    case, as good as it says; its moves list only real changes."""
    before = {
        int(problem.edge_case[e]): int(problem.edge_dwelling[e]) for e in result.edges.tolist()
    }
    pairs = dict(before)
    for case, dwelling in alternative.moves.items():
        assert before.get(case) != dwelling
        if dwelling is None:
            pairs.pop(case)
        else:
            pairs[case] = dwelling
    assert pairs[alternative.case] == alternative.dwelling
    lookup = {
        (int(c), int(d)): e
        for e, (c, d) in enumerate(zip(problem.edge_case, problem.edge_dwelling, strict=True))
    }
    chosen = np.array(sorted(lookup[pair] for pair in pairs.items()), dtype=np.int64)
    check_assignment(problem, chosen)
    assert len(chosen) == alternative.housed
    assert int(problem.edge_score[chosen].sum()) == alternative.total


def assert_best_alternatives_match_brute_force(problem, result, resolve_limit=1000) -> None:
    check = best_alternatives(problem, result, resolve_limit)
    assert check.complete
    found = {a.case: (a.housed, a.total) for a in check.alternatives}
    assert found == expected_best_alternatives(problem, result.edges)
    for alternative in check.alternatives:
        assert_is_an_assignment_housing(problem, result, alternative)
        assert alternative.housed >= result.count - 1  # the bound the docstring proves


@settings(max_examples=200, deadline=None)
@given(st.one_of(problems(), problems(nested=True), contested(nested=True)))
def test_unhoused_cases_get_their_best_alternative_without_resolves_when_all_caps_nest(problem):
    result = solve(problem)
    if capacity_tree(problem, np.unique(problem.edge_dwelling)) is not None:
        assert best_alternatives(problem, result, resolve_limit=0).complete
    assert_best_alternatives_match_brute_force(problem, result)


@settings(max_examples=200, deadline=None)
@given(st.one_of(problems(nested=False), straddled(), contested()))
def test_unhoused_cases_get_their_best_alternative_when_complexes_straddle(problem):
    assert_best_alternatives_match_brute_force(problem, solve(problem))


@settings(max_examples=100, deadline=None)
@given(straddled())
def test_unhoused_best_alternatives_after_the_component_route_match_brute_force(problem):
    assert_best_alternatives_match_brute_force(problem, solve(problem, split_limit=0))


@settings(max_examples=60, deadline=None)
@given(straddled())
def test_unhoused_best_alternatives_after_the_milp_route_match_brute_force(problem):
    assert_best_alternatives_match_brute_force(problem, solve(problem, method="milp"))


def test_a_higher_scoring_case_is_left_unhoused_so_that_two_others_are_housed():
    # case 0 fits only dwelling 0, which shares complex 0 with dwelling 1 and neighbourhood 0
    # with dwelling 2, both with room for one: housing case 0 blocks cases 1 and 2
    problem = AssignmentProblem(
        n_cases=3,
        n_dwellings=3,
        edge_case=np.array([0, 1, 2]),
        edge_dwelling=np.array([0, 1, 2]),
        edge_score=np.array([10, 5, 5]),
        complex_of=np.array([0, 0, 1]),
        neighbourhood_of=np.array([0, 1, 0]),
        complex_room=np.array([1, 1]),
        neighbourhood_room=np.array([1, 1]),
    )
    result = solve(problem)
    assert sorted(result.edges.tolist()) == [1, 2]
    assert passed_over(problem, result, resolve_limit=10).by_edge == {}
    [alternative] = best_alternatives(problem, result, resolve_limit=10).alternatives
    assert (alternative.case, alternative.housed, alternative.total) == (0, 1, 10)
    assert alternative.moves == {0: 0, 1: None, 2: None}


def test_solve_with_pair_returns_the_best_assignment_containing_the_pair():
    problem = straddling_problem()
    for edge in range(problem.edges):
        count, total, chosen = solve_with_pair(problem, edge)
        assert (count, total) == best(problem, forced=edge)
        check_assignment(problem, chosen)
        assert edge in chosen.tolist()


@st.composite
def crossing(draw) -> AssignmentProblem:
    """A seeded random problem whose complexes and neighbourhoods cross freely (every room 1 or
    2): the general, NP-hard case, where the linear relaxation is often fractional."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return random_crossing(rng, int(rng.integers(2, 6)), int(rng.integers(3, 7)), 3)


def random_crossing(
    rng: np.random.Generator, n_cases: int, n_dwellings: int, groups: int, micro: bool = False
) -> AssignmentProblem:
    """`n_cases` x `n_dwellings`, pairs at random, over `groups` complexes and as many
    neighbourhoods that cross freely (rooms 1 or 2); scores 0-5, or with `micro` 0-5 thousand
    plus up to 999."""
    pairs = [(c, v) for c in range(n_cases) for v in range(n_dwellings) if rng.random() < 0.45]
    scores = rng.integers(0, 6, len(pairs))
    if micro:
        scores = scores * 1000 + rng.integers(0, 1000, len(pairs))
    return AssignmentProblem(
        n_cases,
        n_dwellings,
        np.array([c for c, _ in pairs], dtype=np.int64),
        np.array([v for _, v in pairs], dtype=np.int64),
        scores,
        rng.integers(0, groups, n_dwellings),
        rng.integers(0, groups, n_dwellings),
        rng.integers(1, 3, groups),
        rng.integers(1, 3, groups),
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(problems(nested=False), straddled(), crossing()))
def test_component_route_houses_as_many_and_scores_as_high_as_brute_force(problem):
    result = solve(problem, split_limit=0)
    check_assignment(problem, result.edges)
    assert result.optimal
    assert (result.count, result.total_score) == best(problem)


@settings(max_examples=300, deadline=None)
@given(st.one_of(straddled(), crossing()))
def test_certified_linear_programming_matches_brute_force(problem):
    # Every edge, no pruning and no assignment shortcut: the relaxation, its checked bound and,
    # where the relaxation is fractional, branch and cut must reach the optimum by themselves.
    found = certified_optimum(problem, np.arange(problem.edges), [], None)
    check_assignment(problem, found.edges)
    assert (found.count, found.score) == best(problem)


def test_a_fractional_relaxation_is_settled_by_branch_and_cut():
    # found by search: the count relaxation's optimum is 1.5 (an odd cycle through the caps),
    # so every optimal vertex is fractional whichever simplex HiGHS runs; one case is housed
    problem = AssignmentProblem(
        n_cases=5,
        n_dwellings=5,
        edge_case=np.array([0, 0, 0, 1, 3, 3]),
        edge_dwelling=np.array([2, 3, 4, 1, 0, 1]),
        edge_score=np.array([1, 3, 2, 1, 0, 1]),
        complex_of=np.array([0, 0, 1, 1, 0]),
        neighbourhood_of=np.array([0, 0, 0, 0, 1]),
        complex_room=np.array([1, 1, 1]),
        neighbourhood_room=np.array([1, 1]),
    )
    found = certified_optimum(problem, np.arange(problem.edges), [], None)
    assert found.used_milp
    assert (found.count, found.score) == best(problem) == (1, 3)


def large_straddling_problem(seed: int = 7) -> AssignmentProblem:
    """400 cases x 160 dwellings; complexes of three to six dwellings spread over random
    neighbourhoods, rooms 2 per complex and 3 per neighbourhood."""
    rng = np.random.default_rng(seed)
    n_cases, n_dwellings = 400, 160
    mask = rng.random((n_cases, n_dwellings)) < 0.15
    cases, dwellings = np.nonzero(mask)
    return AssignmentProblem(
        n_cases,
        n_dwellings,
        cases.astype(np.int64),
        dwellings.astype(np.int64),
        rng.integers(0, 1000, len(cases)),
        np.repeat(np.arange(40), 4)[rng.permutation(n_dwellings)],
        rng.integers(0, 30, n_dwellings),
        np.full(40, 2),
        np.full(30, 3),
    )


def test_budget_run_out_gives_a_feasible_proposal_flagged_not_optimal():
    problem = large_straddling_problem()
    fallback = solve(problem, split_limit=0, deadline=time.monotonic())
    check_assignment(problem, fallback.edges)
    assert not fallback.optimal
    assert fallback.reason == "time_budget"
    exact = solve(problem, split_limit=0)
    assert exact.optimal and exact.reason is None
    assert fallback.count <= exact.count <= fallback.count_bound
    if fallback.score_bound is not None:
        assert exact.count == fallback.count
        assert fallback.total_score <= exact.total_score <= fallback.score_bound


def test_budget_fallback_is_the_same_proposal_every_time():
    problem = large_straddling_problem(seed=11)
    first = solve(problem, split_limit=0, deadline=time.monotonic())
    again = solve(problem, split_limit=0, deadline=time.monotonic())
    assert not first.optimal
    assert first.edges.tolist() == again.edges.tolist()


def test_components_solved_in_time_stay_exact_when_the_budget_runs_out():
    # two independent tables in one problem: a nested one (settled exactly by the assignment
    # route whatever the budget) and a straddling one (left to the fallback)
    nested = AssignmentProblem(
        3, 2, np.array([0, 1, 2]), np.array([0, 1, 1]), np.array([5, 9, 1]),
        np.array([0, 0]), np.array([0, 0]), np.array([1]), np.array([1]),
    )  # fmt: skip
    hard = large_straddling_problem()
    problem = AssignmentProblem(
        nested.n_cases + hard.n_cases,
        nested.n_dwellings + hard.n_dwellings,
        np.concatenate([nested.edge_case, nested.n_cases + hard.edge_case]),
        np.concatenate([nested.edge_dwelling, nested.n_dwellings + hard.edge_dwelling]),
        np.concatenate([nested.edge_score, hard.edge_score]),
        np.concatenate([nested.complex_of, 1 + hard.complex_of]),
        np.concatenate([nested.neighbourhood_of, 1 + hard.neighbourhood_of]),
        np.concatenate([nested.complex_room, hard.complex_room]),
        np.concatenate([nested.neighbourhood_room, hard.neighbourhood_room]),
    )
    result = solve(problem, split_limit=0, deadline=time.monotonic())
    assert not result.optimal
    in_nested = result.edges[problem.edge_case[result.edges] < nested.n_cases]
    assert in_nested.tolist() == [1]  # the nested part's optimum: case 1 on dwelling 1 (9 points)


def test_passed_over_resolves_stop_at_the_deadline_and_say_so():
    problem = unsettled_problem()
    result = solve(problem, split_limit=0)
    late = passed_over(problem, result, resolve_limit=10, deadline=time.monotonic() - 1)
    assert not late.complete
    assert late.by_edge == {}


def test_milp_route_past_the_budget_keeps_a_feasible_proposal_flagged_not_optimal():
    problem = large_straddling_problem()
    late = solve(problem, method="milp", deadline=time.monotonic() - 1)
    check_assignment(problem, late.edges)
    assert not late.optimal
    assert late.reason == "time_budget"
    assert late.alternatives == []
    exact = solve(problem, split_limit=0)
    assert late.count <= exact.count <= late.count_bound


def milp_reporting(monkeypatch, phase: int, status: int) -> None:
    """Let HiGHS MILP run `phase` (1 count, 2 score) of the MILP route end in scipy's `status`
    (1: time or iteration limit, 4: other), keeping the solution it found."""
    real = solver_module.milp
    runs = []

    def reporting(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        runs.append(result)
        if len(runs) == phase:
            result.status, result.success = status, False
        return result

    monkeypatch.setattr(solver_module, "milp", reporting)


def test_milp_route_stopped_in_the_score_phase_keeps_the_count_and_bounds_the_score(monkeypatch):
    problem = large_straddling_problem(seed=3)
    exact = solve(problem, method="milp")
    milp_reporting(monkeypatch, phase=2, status=1)
    stopped = solve(problem, method="milp", deadline=time.monotonic() + 60)
    check_assignment(problem, stopped.edges)
    assert (stopped.optimal, stopped.reason) == (False, "time_budget")
    assert stopped.count == exact.count == stopped.count_bound
    assert stopped.total_score <= exact.total_score <= stopped.score_bound


def test_milp_route_says_when_highs_settles_nothing(monkeypatch):
    problem = large_straddling_problem(seed=5)
    exact = solve(problem, method="milp")
    milp_reporting(monkeypatch, phase=1, status=4)
    unsettled = solve(problem, method="milp")
    check_assignment(problem, unsettled.edges)
    assert (unsettled.optimal, unsettled.reason) == (False, "solver_status")
    assert unsettled.score_bound is None
    assert unsettled.count <= exact.count <= unsettled.count_bound


@settings(max_examples=300, deadline=None)
@given(problems())
def test_lifting_implied_caps_keeps_every_assignment(problem):
    lifted = lift_implied_caps(problem)
    assert sorted(assignments(lifted)) == sorted(assignments(problem))
    for edge in range(problem.edges):
        has_room = (
            problem.complex_room[problem.complex_of[problem.edge_dwelling[edge]]] > 0
            and problem.neighbourhood_room[problem.neighbourhood_of[problem.edge_dwelling[edge]]]
            > 0
        )
        if has_room:  # forcing a pair in keeps the lifted caps implied
            found = solve_with_pair(lifted, edge)
            assert found is not None
            assert found[:2] == best(problem, forced=edge)


def test_neighbourhoods_the_complex_caps_cannot_fill_take_the_assignment_route():
    # two complexes of room 1 cross two neighbourhoods of room 2 (two dwellings of each complex
    # in each): the caps cross, but no neighbourhood can ever hold more than 1 + 1
    problem = AssignmentProblem(
        4, 8, np.array([0, 0, 1, 1, 2, 3, 3]), np.array([0, 4, 1, 6, 2, 5, 7]),
        np.array([5, 4, 3, 9, 2, 1, 6]), np.array([0, 0, 1, 1, 0, 0, 1, 1]),
        np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([1, 1]), np.array([2, 2]),
    )  # fmt: skip
    assert capacity_tree(problem, np.arange(8)) is None
    result = solve(problem)
    assert result.method == "assignment"
    assert (result.count, result.total_score) == best(problem)


@st.composite
def one_complex_over_tight_neighbourhoods(draw) -> AssignmentProblem:
    """Up to 6 cases x 6 dwellings, complex 0 holding every dwelling of neighbourhoods 0 and 1
    (a few dwellings may sit in other complexes of neighbourhood 2), rooms drawn tight: the
    neighbourhoods lie inside the complex, so the caps nest the other way round."""
    problem = draw(problems())
    n = problem.n_dwellings
    hoods = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64)
    others = np.array(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)), dtype=np.int64)
    complexes = np.where(hoods < 2, 0, others)
    return AssignmentProblem(
        problem.n_cases,
        n,
        problem.edge_case,
        problem.edge_dwelling,
        problem.edge_score,
        complexes,
        hoods,
        np.array(draw(st.lists(st.integers(0, 3), min_size=3, max_size=3)), dtype=np.int64),
        np.array(draw(st.lists(st.integers(0, 2), min_size=3, max_size=3)), dtype=np.int64),
    )


@settings(max_examples=examples(300), deadline=None)
@given(one_complex_over_tight_neighbourhoods())
def test_neighbourhoods_inside_one_complex_nest_and_match_brute_force(problem):
    assert capacity_tree(problem, np.unique(problem.edge_dwelling)) is not None
    result = solve(problem)
    assert result.nested
    assert (result.count, result.total_score) == best(problem)
    check = passed_over(problem, result, resolve_limit=0)
    assert check.complete
    assert check.by_edge == expected_passed_over(problem, result.edges)
    assert best_alternatives(problem, result, resolve_limit=0).complete
    assert_best_alternatives_match_brute_force(problem, result)


def test_a_tight_neighbourhood_inside_one_complex_takes_the_assignment_route():
    # complex 0 (room 2) holds every dwelling; neighbourhood 0 (three dwellings) has room 1,
    # neighbourhood 1 (three dwellings) room 3: the best pairs (9, 8, 7) all lie in neighbourhood
    # 0, so the best two people are the 9 there and the best of neighbourhood 1, 3
    problem = AssignmentProblem(
        3, 6, np.array([0, 0, 1, 1, 2, 2]), np.array([0, 3, 1, 4, 2, 5]),
        np.array([9, 1, 8, 2, 7, 3]), np.zeros(6, dtype=np.int64), np.array([0, 0, 0, 1, 1, 1]),
        np.array([2]), np.array([1, 3]),
    )  # fmt: skip
    result = solve(problem)
    assert result.method == "assignment"
    assert (result.count, result.total_score) == best(problem) == (2, 9 + 3)
