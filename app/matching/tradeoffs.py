"""Passed over: higher-scoring cases a proposed dwelling did not go to, because that houses fewer.

For a proposed pair (c, v) and a case c2 scoring higher on v, h(c2, v) is the most people housed
with (c2, v) forced. Dropping (c, v) and c2's own pair and adding (c2, v) keeps every cap (v's
complex and neighbourhood count the same), so h >= housed - 1; c2 is passed over iff h < housed.

Exact test when the caps nest (they form a flow network source -> case -> dwelling -> [complex]
-> [neighbourhood] -> sink): a maximum flow using arc c2 -> v exists iff that arc lies on a cycle
of the residual graph of the proposal (the difference of two flows of equal value is a sum of
residual cycles; pushing one unit round a cycle keeps the value). So h = housed iff c2 and v are in
the same strongly connected component: one SCC pass decides every pair at once. The graph is the
pruned edges plus the tested pairs, which keeps h (see `solver.prune`).

When a complex straddles capped neighbourhoods, the solver's branch and bound leaves nested
variants that together cover every solution (see `solver.solve`): h < housed is proven when no
variant housing as many lets c2 and v share a component; h = housed when a variant whose
solutions are all real solutions does. Pairs neither settles, and pairs after a MILP solve without
nesting, are tried on a stricter graph of the problem itself (a cycle may only enter the sink from a
(complex, neighbourhood) pair with room in both, which proves h = housed), then bounded by the
count's linear relaxation (`forced.CountBounds`: a bound below housed proves h = housed - 1),
then by that relaxation re-run with the pair held at 1 (its duals fit the pair and bound the pairs
after it; its optimum, when integral, is a proposal holding the pair and proves h = housed), then
re-solved exactly with the pair forced (`housed_with_pair`), up to a limit beyond which the result
says it is incomplete. Re-solves also stop at the solver's time budget (`deadline`), flagged the
same way.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from app.matching.forced import CountBounds
from app.matching.solver import (
    Assignment,
    AssignmentProblem,
    CapacityTree,
    capacity_tree,
    distinct,
    solve,
)
from app.matching.straddling import NotSettled, remaining

FEWER_HOUSED = "fewer_housed"
LOWER_TOTAL_SCORE = "lower_total_score"
EQUAL_ALTERNATIVE = "equal_alternative"
TRADE_OFFS = (FEWER_HOUSED, LOWER_TOTAL_SCORE, EQUAL_ALTERNATIVE)
"""Why an alternative that houses a passed-over case was not chosen."""
BOUND_FROM = 1
"""Pairs left open after the residual graphs from which the count's linear program bounds them
first (`forced.CountBounds`). One pair is enough: the program and one run with the pair held at
1 take a few ms where a re-solve takes tens (800 x 300 with scattered complexes: 6 ms against
25 ms for the one pair left open)."""


@dataclass(frozen=True, slots=True)
class PassedOverCheck:
    """Passed-over pairs as edge indices with h, and whether every candidate pair was settled."""

    by_edge: dict[int, int]  # tested edge (c2, v) -> housed if given
    complete: bool
    resolves: int
    tested: int


def _conservative_tree(
    problem: AssignmentProblem, active: np.ndarray, used: np.ndarray
) -> CapacityTree:
    """One group per (complex, neighbourhood) pair; its arc to the sink has room for one more only
    if both its complex and its neighbourhood have room left."""
    complexes, hoods = problem.complex_of[active], problem.neighbourhood_of[active]
    pairs, group = np.unique(
        complexes.astype(np.int64) * len(problem.neighbourhood_room) + hoods, return_inverse=True
    )
    used_active = used[active]
    complex_used = np.bincount(complexes[used_active], minlength=len(problem.complex_room))
    hood_used = np.bincount(hoods[used_active], minlength=len(problem.neighbourhood_room))
    spare = (complex_used < problem.complex_room)[complexes] & (
        hood_used < problem.neighbourhood_room
    )[hoods]
    flow = np.bincount(group[used_active], minlength=len(pairs))
    spare_by_group = np.zeros(len(pairs), dtype=bool)
    spare_by_group[group] = spare
    dwelling_parent = np.full(problem.n_dwellings, -1)
    dwelling_parent[active] = group
    return CapacityTree(
        dwelling_parent=dwelling_parent,
        group_parent=np.full(len(pairs), -1),
        group_room=(flow + spare_by_group).astype(np.int64),
        group_members=[active[group == g] for g in range(len(pairs))],
        group_is_complex=np.zeros(len(pairs), dtype=bool),
    )


def _group_flow(tree: CapacityTree, used: np.ndarray) -> np.ndarray:
    """Per group of `tree` how many of its dwellings `used` marks, in one pass over all members.

    Why: the unhoused check builds a residual graph per variant view and priced flow (21 with
    five complex refs at 800 x 300); counting group by group, with `np.isin`'s sort for the
    chosen edges, was over half of each."""
    sizes = np.fromiter((len(m) for m in tree.group_members), dtype=np.int64)
    if len(sizes) == 0:
        return sizes
    taken = np.zeros(int(sizes.sum()) + 1, dtype=np.int64)
    np.cumsum(used[np.concatenate(tree.group_members)], out=taken[1:])
    ends = np.cumsum(sizes)
    flow: np.ndarray = taken[ends] - taken[ends - sizes]
    return flow


def residual_arcs(
    problem: AssignmentProblem,
    edges: np.ndarray,
    chosen: np.ndarray,
    tree: CapacityTree,
    used: np.ndarray,
    active: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Arcs (from, to, cost) of the residual graph of the flow `chosen` over `edges`, and its
    number of nodes (0 source, 1 sink, 2+i case, then dwellings and groups). `active`: the
    dwellings that get their arcs to and from their groups (default: those of `edges`).

    Cost in micro-points: -score on an unused case -> dwelling arc, +score on a used pair
    reversed, 0 elsewhere, so a cycle's cost is what pushing one unit round it loses. Each
    (from, to) occurs at most once.
    """
    n_cases, n_dwellings = problem.n_cases, problem.n_dwellings
    case_node = 2 + np.arange(n_cases)
    dwelling_node = 2 + n_cases + np.arange(n_dwellings)
    group_node = 2 + n_cases + n_dwellings + np.arange(len(tree.group_parent))
    sink = 1

    def node_of_parent(parent: np.ndarray) -> np.ndarray:
        nodes: np.ndarray = np.append(group_node, sink)[parent]  # parent -1 (the sink): the last
        return nodes

    housed_case = np.zeros(n_cases, dtype=bool)
    housed_case[problem.edge_case[chosen]] = True
    chosen_mask = np.zeros(problem.edges, dtype=bool)
    chosen_mask[chosen] = True
    is_chosen = chosen_mask[edges]
    del chosen_mask
    cases = distinct(problem.edge_case[edges], n_cases)
    if active is None:
        active = distinct(problem.edge_dwelling[edges], n_dwellings)
    e_case = case_node[problem.edge_case[edges]]
    e_dwelling = dwelling_node[problem.edge_dwelling[edges]]
    d_parent = node_of_parent(tree.dwelling_parent[active])
    flow = _group_flow(tree, used)
    g_parent = node_of_parent(tree.group_parent)
    g_forward = flow < tree.group_room
    g_backward = flow > 0
    sources = [
        np.where(housed_case[cases], case_node[cases], 0),
        np.where(is_chosen, e_dwelling, e_case),
        np.where(used[active], d_parent, dwelling_node[active]),
        group_node[g_forward],
        g_parent[g_backward],
    ]
    targets = [
        np.where(housed_case[cases], 0, case_node[cases]),
        np.where(is_chosen, e_case, e_dwelling),
        np.where(used[active], dwelling_node[active], d_parent),
        g_parent[g_forward],
        group_node[g_backward],
    ]
    score = problem.edge_score[edges].astype(np.int64)
    costs = [
        np.zeros(len(cases), dtype=np.int64),
        np.where(is_chosen, score, -score),
        np.zeros(
            len(active) + np.count_nonzero(g_forward) + np.count_nonzero(g_backward), np.int64
        ),
    ]
    size = 2 + n_cases + n_dwellings + len(tree.group_parent)
    return np.concatenate(sources), np.concatenate(targets), np.concatenate(costs), size


def _components(
    problem: AssignmentProblem,
    edges: np.ndarray,
    chosen: np.ndarray,
    tree: CapacityTree,
    used: np.ndarray,
) -> np.ndarray:
    """SCC label per node of the residual graph (numbered as in `residual_arcs`)."""
    src, dst, _, size = residual_arcs(problem, edges, chosen, tree, used)
    graph = sp.csr_array((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
    labels: np.ndarray  # scipy publishes no types
    _, labels = connected_components(graph, directed=True, connection="strong")
    return labels


def passed_over(
    problem: AssignmentProblem,
    assignment: Assignment,
    resolve_limit: int,
    deadline: float | None = None,
) -> PassedOverCheck:
    """Every passed-over pair of the proposal, exactly (or flagged incomplete beyond the limit or
    past `deadline`, a time.monotonic value)."""
    chosen = assignment.edges
    holder_score = np.full(problem.n_dwellings, np.iinfo(np.int64).max)
    holder_score[problem.edge_dwelling[chosen]] = problem.edge_score[chosen]
    tests = np.flatnonzero(problem.edge_score > holder_score[problem.edge_dwelling])
    if len(tests) == 0:
        return PassedOverCheck({}, True, 0, 0)
    in_graph = assignment.kept.copy()
    in_graph[tests] = True
    edges = np.flatnonzero(in_graph)  # np.union1d of the kept edges and `tests`, by a mask
    active = distinct(problem.edge_dwelling[edges], problem.n_dwellings)
    case_node = 2 + problem.edge_case[tests]
    dwelling_node = 2 + problem.n_cases + problem.edge_dwelling[tests]
    proven_fewer = np.ones(len(tests), dtype=bool)
    proven_as_many = np.zeros(len(tests), dtype=bool)
    for alternative in assignment.alternatives:
        tree = capacity_tree(alternative.problem, active)
        assert tree is not None, "alternatives nest"
        solution = alternative.solution
        labels = _components(
            alternative.problem, edges, solution, tree, used_dwellings(problem, solution)
        )
        reaches = (labels[case_node] == labels[dwelling_node]) | np.isin(tests, solution)
        proven_fewer &= ~reaches
        if alternative.exact:
            proven_as_many |= reaches
    if not assignment.alternatives:
        proven_fewer[:] = False
    by_edge = {int(e): assignment.count - 1 for e in tests[proven_fewer]}
    open_tests = tests[~proven_fewer & ~proven_as_many]
    if len(open_tests) == 0:
        return PassedOverCheck(by_edge, True, 0, len(tests))

    used = used_dwellings(problem, chosen)
    tree = _conservative_tree(problem, active, used)
    labels = _components(problem, edges, chosen, tree, used)
    open_case = labels[2 + problem.edge_case[open_tests]]
    open_dwelling = labels[2 + problem.n_cases + problem.edge_dwelling[open_tests]]
    unsettled = open_tests[open_case != open_dwelling]
    counts = None
    if len(unsettled) >= BOUND_FROM:
        try:
            counts = CountBounds(problem, edges, chosen, deadline)
        except NotSettled:  # out of time or unsettled: the re-solves below decide
            counts = None
        if counts is not None:
            # h >= housed - 1 for every pair (module docstring), so a bound below housed
            # gives h exactly.
            fewer = counts.bounds[np.searchsorted(edges, unsettled)] < assignment.count
            by_edge.update(dict.fromkeys(unsettled[fewer].tolist(), assignment.count - 1))
            unsettled = unsettled[~fewer]
    last = 0.0  # seconds the previous re-solve took
    resolves = 0
    for edge in unsettled:
        if counts is not None:
            # The runs for the pairs before it tighten `bounds` (`CountBounds.with_pair`).
            if counts.bounds[np.searchsorted(edges, edge)] < assignment.count:
                by_edge[int(edge)] = assignment.count - 1
                continue
            # The relaxation with the pair held at 1 often proves it houses fewer, in a few
            # ms where the re-solve takes tens (`forced.CountBounds.with_pair`).
            try:
                upper, found = counts.with_pair(int(edge))
            except NotSettled:  # the re-solve below decides
                upper, found = assignment.count, -1
            if upper < assignment.count:
                by_edge[int(edge)] = assignment.count - 1
                continue
            if found >= assignment.count:  # a proposal holding the pair houses as many
                continue
        # A re-solve is not begun when the one before it would not have fitted in the time
        # left: its assignment solves cannot be interrupted, so it would overrun `deadline`.
        if resolves >= resolve_limit or remaining(deadline) <= last:
            return PassedOverCheck(by_edge, False, resolves, len(tests))
        resolves += 1
        started = time.monotonic()
        housed = housed_with_pair(problem, int(edge), deadline)
        last = time.monotonic() - started
        if housed is None:
            return PassedOverCheck(by_edge, False, resolves, len(tests))
        if housed < assignment.count:
            by_edge[int(edge)] = housed
    return PassedOverCheck(by_edge, True, resolves, len(tests))


def housed_with_pair(
    problem: AssignmentProblem, edge: int, deadline: float | None = None
) -> int | None:
    """Most people housed with `edge` forced; None when the re-solve could not prove its count
    before `deadline` (see `solve_with_pair`)."""
    found = solve_with_pair(problem, edge, deadline, count_only=True)
    return None if found is None else found[0]


def solve_with_pair(
    problem: AssignmentProblem,
    edge: int,
    deadline: float | None = None,
    count_only: bool = False,
) -> tuple[int, int, np.ndarray] | None:
    """The best proposal with `edge` forced: (people housed, total score, chosen edges including
    `edge`), or None when the re-solve could not prove its optimum before `deadline`. It is the
    pair plus the optimum without its case and dwelling and with one less room in the dwelling's
    complex and neighbourhood (re-solved exactly; with `count_only` only the count is optimal)."""
    case, dwelling = problem.edge_case[edge], problem.edge_dwelling[edge]
    rest = np.flatnonzero((problem.edge_case != case) & (problem.edge_dwelling != dwelling))
    complex_room = problem.complex_room.copy()
    hood_room = problem.neighbourhood_room.copy()
    complex_room[problem.complex_of[dwelling]] -= 1
    hood_room[problem.neighbourhood_of[dwelling]] -= 1
    if complex_room.min() < 0 or hood_room.min() < 0:
        raise ValueError("the pair's complex or neighbourhood has no room")
    reduced = AssignmentProblem(
        problem.n_cases,
        problem.n_dwellings,
        problem.edge_case[rest],
        problem.edge_dwelling[rest],
        problem.edge_score[rest],
        problem.complex_of,
        problem.neighbourhood_of,
        complex_room,
        hood_room,
    )
    result = solve(reduced, deadline=deadline, count_only=count_only)
    if not result.optimal:
        return None
    chosen = np.sort(np.append(rest[result.edges], edge))
    return 1 + result.count, int(problem.edge_score[edge]) + result.total_score, chosen


def used_dwellings(problem: AssignmentProblem, chosen: np.ndarray) -> np.ndarray:
    used = np.zeros(problem.n_dwellings, dtype=bool)
    used[problem.edge_dwelling[chosen]] = True
    return used
