# Size: one algorithm read in order (prune, nested caps as an assignment, MILP fallback); its
# steps share the problem's arrays and the proofs in their docstrings refer to each other.
"""Optimal one-to-one proposal under the spread caps: first most people housed, then most points.

The problem: feasible case-dwelling edges with integer scores (micro-points); each case and each
dwelling used at most once; per complex and per neighbourhood at most its remaining room
(cap - usage) of dwellings used. Lexicographic objective (count, then total score).

Route taken (`Assignment.method`):
0. Lift every cap the others imply (`lift_implied_caps`): one complex over neighbourhoods that
   could never fill crosses no cap that can bind, and takes step 2.
1. Prune edges that provably cannot be needed (`prune`, proof in its docstring).
2. If the binding caps nest (every binding complex lies inside one binding neighbourhood, or
   touches none), the caps become "blocker" rows of a plain rectangular assignment problem, solved
   exactly by LAPJVsp (`scipy.sparse.csgraph.min_weight_full_bipartite_matching`): "assignment".
3. If a binding complex straddles neighbourhoods, a short branch and bound over splits of its
   room r over its parts (a + b + ... = r, one part per neighbourhood): a node drops the caps of
   the straddlers it has not split yet (a relaxation that nests, so its optimum is an upper
   bound), and branches on the first straddler its solution overfills: "assignment_split". Every
   solution fits some split and every split is stricter than the complex cap, so it is exact.
   When the root overfills half as many straddlers as `split_limit` allows nodes, the search is
   not begun (it could not settle them in time).
4. Beyond `split_limit` nodes the problem is cut into connected components (cases, dwellings
   and the binding caps that tie them); each is solved on its own and exactly: by the assignment
   route when its caps nest, else relaxation (straddlers uncapped) and restriction (each
   straddler's room split as the relaxation used it) by the assignment route, which settles it
   when both agree, else by linear programming with a checked bound and, where the relaxation is
   fractional, branch and cut (`straddling.certified_optimum`): "components".
5. `deadline` (time.monotonic) bounds step 4. A component not settled by then keeps its
   restriction solution: feasible (every cap holds) but not proven optimal; `Assignment.optimal`
   is then False and `count_bound` / `score_bound` say how far from optimal it can be at most.
   Components settled before the deadline stay exact. A HiGHS status that settles nothing
   (Unknown, an iteration limit, numerics calling a feasible model infeasible; see
   `straddling.NotSettled`) falls back the same way, with `reason` "solver_status". The
   fallback depends only on the input, so the same input and budget give the same proposal
   unless the solve ends right at the budget.
6. `method="milp"` forces a two-phase HiGHS MILP over the whole problem (cross-checks, the
   benchmark's peer; also used when scores are too large for exact float arithmetic). It gets
   the time left until `deadline` too; past it, or when HiGHS ends in another status than
   optimal, the best feasible solution at hand is kept, flagged as in step 5 with HiGHS's
   bounds (`_solve_milp`).
The result is checked in integer arithmetic before it is returned.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import (
    connected_components,
    maximum_bipartite_matching,
    min_weight_full_bipartite_matching,
)

from app.matching.ranking import Ranking, top_within
from app.matching.straddling import (
    NotSettled,
    OutOfTime,
    SolverStatus,
    certified_optimum,
    remaining,
)

EXACT_FLOAT_LIMIT = 2**52
"""Integer costs and their sums stay below this, so float64 arithmetic on them is exact."""
SPLIT_LIMIT = 8
"""Most branch-and-bound nodes over splits of straddling complexes before the component route
(each node is one assignment solve over the whole table)."""
SPLIT_EDGE_LIMIT = 20_000
"""Above this many pruned edges a node costs too much: only the root is tried (it settles the
table when its solution happens to fit every straddler)."""


@dataclass(frozen=True, slots=True, eq=False)
class AssignmentProblem:
    """Feasible edges and the spread-cap structure, all as integer arrays.

    Edges are sorted by (case, dwelling) index and indices follow id order, so every tie broken
    by position is broken by id.
    """

    n_cases: int
    n_dwellings: int
    edge_case: np.ndarray  # (E,) case index
    edge_dwelling: np.ndarray  # (E,) dwelling index
    edge_score: np.ndarray  # (E,) int64 micro-points
    complex_of: np.ndarray  # (V,) complex index
    neighbourhood_of: np.ndarray  # (V,) neighbourhood index
    complex_room: np.ndarray  # (X,) int64, cap - usage, at least 0
    neighbourhood_room: np.ndarray  # (N,) int64

    @property
    def edges(self) -> int:
        return len(self.edge_case)


@dataclass(frozen=True, slots=True, eq=False)
class Alternative:
    """A nested variant of the problem with a maximum-count solution of it.

    `exact`: the variant's solutions are all solutions of the problem (its straddlers are split);
    otherwise it relaxes some caps and only bounds the problem from above.
    """

    problem: "AssignmentProblem"
    solution: np.ndarray
    exact: bool


@dataclass(frozen=True, slots=True, eq=False)
class Assignment:
    """Chosen edges (indices into the problem's edges) and how they were found.

    `alternatives`: nested variants whose feasible sets together cover the problem's, each with a
    maximum-count solution; only those reaching `count` are kept. Empty when the caps do not nest
    and the component or MILP route was used.

    `optimal`: the optimum is proven. When False (the time budget ran out), `count_bound` is an
    upper bound on the number housed and `score_bound` one on the total score at `count` (None
    when the count itself is not proven); `reason` says why.
    """

    edges: np.ndarray
    count: int
    total_score: int
    method: str
    nested: bool
    kept: np.ndarray  # bool (E,): edges that survived pruning
    alternatives: list[Alternative]
    subproblems: int
    optimal: bool = True
    count_bound: int | None = None
    score_bound: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class CapacityTree:
    """The binding caps as a forest: dwelling -> [inner group] -> [outer group] -> sink, the
    inner group usually a complex and the outer its neighbourhood (see `capacity_tree`).

    Node ids 0..G-1 are groups (binding complexes first, then binding neighbourhoods); -1 is the
    sink. Caps that cannot bind on the given dwellings are left out: they restrict nothing.
    """

    dwelling_parent: np.ndarray  # (V,) group id or -1; only meaningful for active dwellings
    group_parent: np.ndarray  # (G,) group id or -1
    group_room: np.ndarray  # (G,) int64
    group_members: list[np.ndarray]  # active dwellings under each group (directly or not)
    group_is_complex: np.ndarray  # (G,) bool


def lift_implied_caps(problem: AssignmentProblem) -> AssignmentProblem:
    """The same problem with every cap that the others imply lifted (its room raised to its
    number of dwellings with edges, so it never binds); the problem itself when none is.

    Why: a complex spread over neighbourhoods makes the caps cross (the slow routes), but often
    one side is redundant: one complex of room 2 over neighbourhoods of room 2 or more can never
    fill any of them. Over the dwellings with edges, with n(x, h) of them in complex x and
    neighbourhood h, a neighbourhood h holds at most sum_x min(n(x, h), room x) under the
    complex caps; when that is at most its room, its cap is implied. Then a complex x holds at
    most sum_h min(n(x, h), room h) under the neighbourhood caps still kept (a lifted one
    counts as no cap); when that is at most its room, its cap is implied by caps that are kept.
    So the kept caps imply every lifted one and the feasible sets are equal. Every subset of the
    edges keeps the implications (the sums only shrink), and so does forcing one pair in
    (`tradeoffs.solve_with_pair`: the pair's complex and neighbourhood each lose one room, and
    each sum through them shrinks by one). Rooms of 0 stay: they also mark pairs without room.
    """
    # Counted, not sorted: this runs on every solve (and the engine's problem), over every edge.
    active = np.flatnonzero(np.bincount(problem.edge_dwelling, minlength=problem.n_dwellings))
    if len(active) == 0:
        return problem
    hoods = len(problem.neighbourhood_room)
    groups, sizes = np.unique(
        problem.complex_of[active].astype(np.int64) * hoods + problem.neighbourhood_of[active],
        return_counts=True,
    )
    group_complex, group_hood = groups // hoods, groups % hoods
    complex_room = problem.complex_room.astype(np.int64)
    hood_room = problem.neighbourhood_room.astype(np.int64)
    per_complex = np.bincount(group_complex, sizes, minlength=len(complex_room)).astype(np.int64)
    per_hood = np.bincount(group_hood, sizes, minlength=hoods).astype(np.int64)
    reach = np.bincount(
        group_hood, np.minimum(sizes, complex_room[group_complex]), minlength=hoods
    ).astype(np.int64)
    lift_hood = (reach <= hood_room) & (hood_room > 0) & (per_hood > hood_room)
    hood_room = np.where(lift_hood, per_hood, hood_room)
    reach = np.bincount(
        group_complex, np.minimum(sizes, hood_room[group_hood]), minlength=len(complex_room)
    ).astype(np.int64)
    lift_complex = (reach <= complex_room) & (complex_room > 0) & (per_complex > complex_room)
    if not lift_hood.any() and not lift_complex.any():
        return problem
    return replace(
        problem,
        complex_room=np.where(lift_complex, per_complex, complex_room),
        neighbourhood_room=hood_room,
    )


def distinct(indexes: np.ndarray, size: int) -> np.ndarray:
    """`np.unique(indexes)` for indexes in [0, size) (of cases, of dwellings): the sorted
    distinct values, found by counting. np.unique sorts or hashes: 15 ms on a big city's
    360,000 edges, several times per agenda in the solver and the passed-over check, where
    counting takes 1 ms."""
    if indexes.size == 0:
        return np.unique(indexes)
    counted = np.bincount(indexes, minlength=size)
    return np.flatnonzero(counted).astype(indexes.dtype, copy=False)


def _spanning_complexes(problem: AssignmentProblem) -> np.ndarray:
    """Bool per complex: its dwellings with edges lie in more than one neighbourhood."""
    active = distinct(problem.edge_dwelling, problem.n_dwellings)
    pairs = np.unique(
        problem.complex_of[active].astype(np.int64) * len(problem.neighbourhood_room)
        + problem.neighbourhood_of[active]
    )
    hoods_per_complex = np.bincount(
        pairs // len(problem.neighbourhood_room), minlength=len(problem.complex_room)
    )
    return hoods_per_complex > 1


SAMPLE_DEGREE = 8
"""Edges per case, on average, in the sample `_upper_bound` matches first."""
SAMPLE_GROWTH = 4
"""How much larger each next sample `_upper_bound` matches is, while one is left smaller than
the whole."""


def _upper_bound(problem: AssignmentProblem, keep: np.ndarray, complex_room: np.ndarray) -> int:
    """An upper bound on the number housed: sizes, capacities and the uncapped maximum matching.

    The matching lowers the bound only where it is smaller than the other terms, and
    Hopcroft-Karp over a big table's millions of edges takes seconds (1.9 s on one table of
    16,000 x 5,333, whose neighbourhoods' rooms bound 426 against a matching of 2,418). So a
    sample of the edges (about `SAMPLE_DEGREE` per case, chosen by a fixed hash, `_mixed`) is
    matched first: a matching of the sample is one of the whole graph, so when it reaches the
    other terms, the maximum matching cannot lower the bound, and the bound is the same either
    way. A sample that falls short is followed by one `SAMPLE_GROWTH` times larger, while that
    is still smaller than the whole.
    """
    cases, dwellings = problem.edge_case[keep], problem.edge_dwelling[keep]
    if len(cases) == 0:
        return 0
    active = distinct(dwellings, problem.n_dwellings)
    per_complex = np.bincount(problem.complex_of[active], minlength=len(complex_room))
    per_hood = np.bincount(
        problem.neighbourhood_of[active], minlength=len(problem.neighbourhood_room)
    )
    distinct_cases = distinct(cases, problem.n_cases).size
    others = int(
        min(
            distinct_cases,
            active.size,
            np.minimum(per_complex, complex_room).sum(),
            np.minimum(per_hood, problem.neighbourhood_room).sum(),
        )
    )
    step = len(cases) // (SAMPLE_DEGREE * distinct_cases)
    spread = None
    while step > 1:
        if spread is None:
            spread = _mixed(cases, dwellings)
        sample = spread % np.uint64(step) == 0
        if _matched(problem, cases[sample], dwellings[sample]) >= others:
            return others
        step //= SAMPLE_GROWTH
    return min(others, _matched(problem, cases, dwellings))


def _mixed(cases: np.ndarray, dwellings: np.ndarray) -> np.ndarray:
    """A fixed hash of each pair (uint64, wrapping arithmetic; SplitMix64's finaliser), so
    that `hash % step == 0` picks about one pair in `step` whatever `step` is.

    Why not a linear key: `case * 9973 + dwelling * 40503` modulo a step sharing a factor with a
    multiplier (40503 = 3 x 13501) picked whole cases, with all their edges (at step 3, every
    third case): on the big city that sample matched 448 pairs where one of the same size picked
    evenly matches 546, and the whole graph's matching then ran needlessly."""
    key = cases.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    key += dwellings.astype(np.uint64)
    key ^= key >> np.uint64(30)
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(27)
    key *= np.uint64(0x94D049BB133111EB)
    key ^= key >> np.uint64(31)
    return key


def _matched(problem: AssignmentProblem, cases: np.ndarray, dwellings: np.ndarray) -> int:
    """Size of a maximum matching of the pairs (`cases[i]`, `dwellings[i]`) (Hopcroft-Karp)."""
    graph = sp.csr_array(
        (np.ones(len(cases), dtype=np.int8), (cases, dwellings)),
        shape=(problem.n_cases, problem.n_dwellings),
    )
    return int(np.count_nonzero(maximum_bipartite_matching(graph, perm_type="column") >= 0))


def prune_rankings(problem: AssignmentProblem) -> tuple[Ranking, Ranking]:
    """The two rankings `prune` sorts the edges by: per (complex, neighbourhood, case) group
    and per dwelling, best score first. They depend on the edges, scores, complexes and
    neighbourhoods, not on the rooms."""
    group_of = (
        problem.complex_of.astype(np.int64) * len(problem.neighbourhood_room)
        + problem.neighbourhood_of
    )
    group = group_of[problem.edge_dwelling]
    group *= problem.n_cases
    group += problem.edge_case
    return Ranking.of(group, problem.edge_score), Ranking.of(
        problem.edge_dwelling, problem.edge_score
    )


def prune(
    problem: AssignmentProblem,
    bound: int | None = None,
    rankings: tuple[Ranking, Ranking] | None = None,
) -> tuple[np.ndarray, int]:
    """Edges some optimal proposal can do without removed; returns (kept mask, upper bound U).
    `bound`: an upper bound on the number housed the caller already knows (used as U, sparing
    its computation). `rankings`: `prune_rankings` of a problem with the same edges, scores,
    complexes and neighbourhoods (its rooms may differ), sparing the sorts.

    Each step keeps an optimal solution of the graph before it, and the smaller graph cannot do
    better, so the lexicographic optimum (count, score) is unchanged. Ties use the id order.

    (B) Per case and per group g = (complex, neighbourhood), keep the case's best r_g dwellings of
    g, r_g = min(room of the complex, room of the neighbourhood). Proof: if an optimal solution
    gives case c a dwelling v of g outside c's best r_g in g, at most r_g - 1 other dwellings of g
    are used (the caps), so one of c's best r_g in g is free. Moving c there keeps every count per
    complex and neighbourhood, keeps the number housed and does not lower the score. Each move
    replaces a removed edge by a kept one and changes nothing else, so repeating ends with an
    optimal solution using kept edges only.

    (A) Per dwelling, keep its best K cases, K = U >= the maximum number housed. Proof: if an
    optimal solution gives v to c outside v's best K, at most (housed - 1) <= K - 1 of those K are
    housed elsewhere, so one is free; giving v to it keeps the caps (same dwelling), the count, and
    does not lower the score. Same termination argument.

    Both arguments only swap the case or dwelling of one pair, so they also hold with one pair
    forced into the solution (the forced pair is never moved): the maximum housed with a pair
    forced is the same on the kept edges plus that pair (used for passed-over checks).

    A complex spread over several neighbourhoods is pruned as if it had no cap (r_g is then the
    neighbourhood's room, U ignores its cap), so both arguments hold as well for every split or
    relaxation of it that the branch and bound in `solve` looks at.
    """
    score = problem.edge_score
    cases, dwellings = problem.edge_case, problem.edge_dwelling
    complex_room = np.where(
        _spanning_complexes(problem), np.iinfo(np.int64).max // 4, problem.complex_room
    )
    # Per dwelling first, then one gather per edge: a big table has millions of edges.
    group_of = (
        problem.complex_of.astype(np.int64) * len(problem.neighbourhood_room)
        + problem.neighbourhood_of
    )
    room_of = np.minimum(
        complex_room[problem.complex_of], problem.neighbourhood_room[problem.neighbourhood_of]
    )
    # A case has at most n_dwellings edges in a group, so no rank reaches it and a larger room
    # keeps the same edges: clipped, the per-edge limits fit int32 like the ranks they are
    # compared with (`ranking.order_within`), half the memory of int64 on millions of edges.
    room_of = np.minimum(room_of, problem.n_dwellings)
    room_of = room_of.astype(np.int32 if problem.n_dwellings < 2**31 else np.int64)
    if rankings is not None:
        keep = rankings[0].top(room_of[dwellings])
        if bound is None:
            bound = _upper_bound(problem, keep, complex_room)
        # The best `bound` per dwelling among the kept edges, as the sort below ranks them.
        return keep & rankings[1].top(bound, among=keep), bound
    group = group_of[dwellings]
    group *= problem.n_cases
    group += cases
    keep = top_within(group, score, room_of[dwellings])
    del group
    if bound is None:
        bound = _upper_bound(problem, keep, complex_room)
    kept = np.flatnonzero(keep)
    if len(kept) < 2**31:  # half the memory of the int64 positions on a big table
        kept = kept.astype(np.int32)
    keep[kept[~top_within(dwellings[kept], score[kept], bound)]] = False
    return keep, bound


def _grouped(values: np.ndarray, keys: np.ndarray, ids: np.ndarray) -> list[np.ndarray]:
    """Per id of `ids` the values whose key it is, in their order (one sort, not one pass per
    id)."""
    order = np.argsort(keys, kind="stable")
    ordered_keys, ordered = keys[order], values[order]
    starts = np.searchsorted(ordered_keys, ids, side="left").tolist()
    ends = np.searchsorted(ordered_keys, ids, side="right").tolist()
    return [ordered[a:b] for a, b in zip(starts, ends, strict=True)]


def _overlaps(
    problem: AssignmentProblem, active: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How the binding caps on the `active` dwellings overlap: (binding complex per complex,
    binding per neighbourhood, and per pair of a binding complex and a binding neighbourhood
    that share a dwelling: its complex, its neighbourhood, and how they lie: 1 the complex
    inside the neighbourhood, 2 the neighbourhood inside the complex, 0 they cross)."""
    complexes = problem.complex_of[active]
    hoods = problem.neighbourhood_of[active]
    binding_complex = (
        np.bincount(complexes, minlength=len(problem.complex_room)) > problem.complex_room
    )
    binding_hood = (
        np.bincount(hoods, minlength=len(problem.neighbourhood_room)) > problem.neighbourhood_room
    )
    n_hoods = len(problem.neighbourhood_room)
    pairs = np.unique(complexes.astype(np.int64) * n_hoods + hoods)
    pair_complex, pair_hood = pairs // n_hoods, pairs % n_hoods
    hoods_of_complex = np.bincount(pair_complex, minlength=len(problem.complex_room))
    complexes_of_hood = np.bincount(pair_hood, minlength=n_hoods)
    both = binding_complex[pair_complex] & binding_hood[pair_hood]
    pair_complex, pair_hood = pair_complex[both], pair_hood[both]
    how = np.where(
        hoods_of_complex[pair_complex] == 1, 1, np.where(complexes_of_hood[pair_hood] == 1, 2, 0)
    )
    return binding_complex, binding_hood, pair_complex, pair_hood, how


def capacity_tree(problem: AssignmentProblem, active: np.ndarray) -> CapacityTree | None:
    """The binding caps on the `active` dwellings as a forest, or None if they do not nest.

    They nest when every binding complex and binding neighbourhood that share a dwelling lie
    one inside the other (over the active dwellings): usually the complex inside the
    neighbourhood, but a neighbourhood whose dwellings all belong to one complex (one complex
    spread over the whole region) goes under that complex."""
    complexes = problem.complex_of[active]
    hoods = problem.neighbourhood_of[active]
    binding_complex, binding_hood, pair_complex, pair_hood, how = _overlaps(problem, active)
    if np.any(how == 0):
        return None
    complex_ids = np.flatnonzero(binding_complex)
    hood_ids = np.flatnonzero(binding_hood)
    complex_node = np.full(len(problem.complex_room), -1)
    complex_node[complex_ids] = np.arange(len(complex_ids))
    hood_node = np.full(len(problem.neighbourhood_room), -1)
    hood_node[hood_ids] = len(complex_ids) + np.arange(len(hood_ids))

    group_parent = np.full(len(complex_ids) + len(hood_ids), -1)
    inside = how == 1
    group_parent[complex_node[pair_complex[inside]]] = hood_node[pair_hood[inside]]
    group_parent[hood_node[pair_hood[~inside]]] = complex_node[pair_complex[~inside]]
    hood_in_complex = np.zeros(len(problem.neighbourhood_room), dtype=bool)
    hood_in_complex[pair_hood[~inside]] = True

    dwelling_parent = np.full(problem.n_dwellings, -1)
    dwelling_parent[active] = np.where(
        (complex_node[complexes] >= 0) & ~hood_in_complex[hoods],
        complex_node[complexes],
        np.where(hood_node[hoods] >= 0, hood_node[hoods], complex_node[complexes]),
    )
    members = _grouped(active, complexes, complex_ids) + _grouped(active, hoods, hood_ids)
    return CapacityTree(
        dwelling_parent=dwelling_parent,
        group_parent=group_parent,
        group_room=np.concatenate(
            [problem.complex_room[complex_ids], problem.neighbourhood_room[hood_ids]]
        ).astype(np.int64),
        group_members=members,
        group_is_complex=np.arange(len(group_parent)) < len(complex_ids),
    )


def _blocker_sets(tree: CapacityTree) -> list[tuple[int, np.ndarray]]:
    """(number of blockers, dwellings they may occupy) per binding group.

    A group without binding groups inside (most complexes) of d usable dwellings and room r gets
    d - r blockers on its dwellings, leaving at most r to people. A group with groups inside (a
    neighbourhood, or a complex holding whole neighbourhoods) gets enough blockers to bring what
    those leave down to its room. Any placement of people that respects the caps leaves space
    for all blockers, so the capped problem is exactly the assignment problem with every
    blocker placed. Groups inside come first, so each parent knows its children's blockers.
    """
    sets: list[tuple[int, np.ndarray]] = []
    blocked_inside = np.zeros(len(tree.group_parent), dtype=np.int64)
    has_inside = np.zeros(len(tree.group_parent), dtype=bool)
    has_inside[tree.group_parent[tree.group_parent >= 0]] = True
    outer_complex = tree.group_is_complex & has_inside
    order = [*np.flatnonzero(~outer_complex).tolist(), *np.flatnonzero(outer_complex).tolist()]
    for g in order:
        members = tree.group_members[g]
        count = max(0, len(members) - int(blocked_inside[g]) - int(tree.group_room[g]))
        if tree.group_parent[g] >= 0:
            blocked_inside[tree.group_parent[g]] += count
        if count > 0:
            sets.append((count, members))
    return sets


@dataclass(slots=True, eq=False)
class BlockerLayout:
    """What `_solve_blockers` builds from the edges and the tree alone, whatever the scores:
    the assignment's rows and columns, and the sparse matrix's layout once a second solve on
    the same edges and tree asks for it (`reuse`).

    Why: the unhoused check solves the same edges under the same caps with other prices
    several times per table (`unhoused._priced_flow`); the rows, columns and the sort into a
    sparse matrix were over half of each of those solves."""

    edges: np.ndarray
    ordered: bool  # edges ascend, so (case, row) keys ascend with them
    case_col: np.ndarray  # per edge: its case's column
    pair_row: np.ndarray  # per edge: its dwelling's row
    n_rows: int
    n_cases: int
    n_columns: int
    all_rows: np.ndarray
    all_cols: np.ndarray
    reuse: bool = False
    order: np.ndarray | None = None  # per stored entry of the matrix: its place in all_rows
    indices: np.ndarray | None = None
    indptr: np.ndarray | None = None

    def graph(self, costs: np.ndarray) -> sp.csr_array:
        """The cost matrix with `costs` in the order of `all_rows`/`all_cols`: as
        `sp.csr_array((costs, (all_rows, all_cols)))` builds it (the same arrays: no entry
        repeats, so its sort into rows and columns depends on the positions alone)."""
        shape = (self.n_rows, self.n_columns)
        if self.order is not None:
            return sp.csr_array((costs[self.order], self.indices, self.indptr), shape=shape)
        if not self.reuse:
            return sp.csr_array((costs, (self.all_rows, self.all_cols)), shape=shape)
        marker = np.arange(len(costs), dtype=np.float64)
        placed = sp.csr_array((marker, (self.all_rows, self.all_cols)), shape=shape)
        if placed.nnz != len(costs):  # repeated entries were summed: no layout to keep
            self.reuse = False
            return sp.csr_array((costs, (self.all_rows, self.all_cols)), shape=shape)
        self.order = placed.data.astype(np.int64)
        self.indices, self.indptr = placed.indices, placed.indptr
        return sp.csr_array((costs[self.order], self.indices, self.indptr), shape=shape)


def blocker_layout(
    problem: AssignmentProblem, edges: np.ndarray, tree: CapacityTree, reuse: bool = False
) -> BlockerLayout:
    """`_solve_blockers`' rows and columns for `edges` under `tree`; `reuse`: the caller will
    solve it again with other scores (the matrix's layout is then kept)."""
    cases, dwellings = problem.edge_case[edges], problem.edge_dwelling[edges]
    # Edges in (case, dwelling) order (every caller's, checked): the cases' columns by one pass
    # instead of np.unique's sort, and each edge found again by its (case, row) key in that
    # same order instead of an argsort (a sixth of each priced flow's solve went to the sorts).
    ordered = len(edges) < 2 or bool(np.all(edges[1:] > edges[:-1]))
    if ordered:
        new_case = np.empty(len(cases), dtype=bool)
        new_case[:1] = True
        np.not_equal(cases[1:], cases[:-1], out=new_case[1:])
        n_cases, case_col = int(np.count_nonzero(new_case)), np.cumsum(new_case) - 1
    else:
        case_ids, case_col = np.unique(cases, return_inverse=True)
        n_cases = len(case_ids)
    blockers = _blocker_sets(tree)
    dwelling_ids = distinct(
        np.concatenate([dwellings, *(members for _, members in blockers)]), problem.n_dwellings
    )
    n_rows = len(dwelling_ids)
    row_of = np.full(problem.n_dwellings, -1)
    row_of[dwelling_ids] = np.arange(n_rows)
    block_rows, block_cols = [], []
    column = n_cases
    for count, members in blockers:
        rows = row_of[members]
        block_rows.append(np.tile(rows, count))
        block_cols.append(np.repeat(np.arange(column, column + count), len(rows)))
        column += count
    pair_row = row_of[dwellings]
    all_rows = np.concatenate([pair_row, np.arange(n_rows), *block_rows])
    all_cols = np.concatenate([case_col, column + np.arange(n_rows), *block_cols])
    return BlockerLayout(
        edges,
        ordered,
        case_col,
        pair_row,
        n_rows,
        n_cases,
        column + n_rows,
        all_rows,
        all_cols.astype(np.int64),
        reuse,
    )


def _solve_blockers(
    problem: AssignmentProblem,
    edges: np.ndarray,
    tree: CapacityTree,
    bound: int,
    weighted: bool = False,
    layout: BlockerLayout | None = None,
) -> np.ndarray | None:
    """Exact lexicographic optimum as one rectangular assignment (LAPJVsp); None if the numbers
    would not be exact in float64.

    Rows: the dwellings (of `edges` and of the blocker sets). Columns: the cases, the blockers
    and one private "stays vacant" column per dwelling. Every row must be matched. With s the
    pair's score shifted to [0, S] and BIG = S * U + 1 > any total score, a dwelling gains
    BIG + s from a case, nothing from staying vacant and R = BIG + S + 1 from a blocker of its
    group; costs are (R + 1) minus the gain, so all are at least 1, as LAPJVsp needs.
    `weighted`: the highest total score instead, whatever the count (BIG = 0, s not shifted;
    a pair scoring 0 or less is not worth taking).

    Every blocker is placed: a blocker that is not can be placed by moving blockers along an
    alternating path (a placement of all exists) and evicting at most one case, which gains R
    and loses at most BIG + S < R. With all blockers placed the caps hold (`_blocker_sets`),
    so the optimum houses the most people, then scores highest. Why dwellings are the rows:
    with the cases as rows (as before) each case that ends unhoused searched the whole graph
    for a cheaper column before settling on its own: 3.6 s of LAPJVsp on one table of
    16,000 x 5,333, against 0.65 s this way, where free columns (cases) are near.
    `layout`: `blocker_layout(problem, edges, tree)` kept from an earlier solve (the scores
    may differ).
    """
    if layout is None:
        layout = blocker_layout(problem, edges, tree)
    score = problem.edge_score[edges].astype(np.int64)
    if weighted:
        gain, top, big = score, max(int(score.max()), 0), 0
    else:
        gain = score - score.min()
        top = int(gain.max())
        big = top * max(bound, 1) + 1
        gain += big
    reward = big + top + 1  # a blocker placed beats any case its dwelling could take
    base = reward + 1  # the vacant column's cost; every cost is at least 1
    n_rows, n_cases = layout.n_rows, layout.n_cases
    if n_rows * (base + max(0, -int(gain.min()))) >= EXACT_FLOAT_LIMIT:
        return None
    costs = np.concatenate(
        [
            (base - gain).astype(np.float64),
            np.full(n_rows, float(base)),
            np.ones(len(layout.all_rows) - len(edges) - n_rows),
        ]
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(layout.graph(costs))
    housed = col_ind < n_cases
    if layout.ordered:
        # Rows follow the dwellings' order, so (case, row) ascends with the edges.
        key = layout.case_col * n_rows + layout.pair_row
        wanted = col_ind[housed].astype(np.int64) * n_rows + row_ind[housed]
        return np.sort(edges[np.searchsorted(key, wanted)])
    key = layout.pair_row.astype(np.int64) * n_cases + layout.case_col
    order = np.argsort(key)
    wanted = row_ind[housed].astype(np.int64) * n_cases + col_ind[housed]
    return np.sort(edges[order[np.searchsorted(key[order], wanted)]])


def _constraints(problem: AssignmentProblem, edges: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """One row per case, dwelling, complex and neighbourhood touched: A x <= room."""
    cases, dwellings = problem.edge_case[edges], problem.edge_dwelling[edges]
    families = [
        (cases, np.ones(problem.n_cases)),
        (dwellings, np.ones(problem.n_dwellings)),
        (problem.complex_of[dwellings], problem.complex_room),
        (problem.neighbourhood_of[dwellings], problem.neighbourhood_room),
    ]
    blocks, rooms = [], []
    column = np.arange(len(edges))
    for members, room in families:
        ids, row = np.unique(members, return_inverse=True)
        blocks.append(
            sp.csr_array((np.ones(len(edges)), (row, column)), shape=(len(ids), len(edges)))
        )
        rooms.append(np.asarray(room, dtype=np.float64)[ids])
    return sp.vstack(blocks, format="csr"), np.concatenate(rooms)


@dataclass(frozen=True, slots=True)
class _MilpAnswer:
    """The MILP route's answer: the chosen edges, and when they are not proven optimal (the time
    budget ran out, or HiGHS ended in a status that settles nothing) why and the bounds."""

    edges: np.ndarray
    optimal: bool = True
    count_bound: int | None = None
    score_bound: int | None = None
    reason: str | None = None


def _run_milp(
    cost: np.ndarray,
    constraints: list[LinearConstraint],
    deadline: float | None,
) -> tuple[np.ndarray | None, float | None, str | None]:
    """One HiGHS MILP run over binary columns with the time left until `deadline`: (x of the
    best solution found or None, HiGHS's bound on the minimum or None, why it is not proven
    optimal or None). Raises OutOfTime when no time is left before it starts."""
    left = remaining(deadline)
    if left <= 0:
        raise OutOfTime
    options: dict[str, float] = {"mip_rel_gap": 0.0}
    if np.isfinite(left):
        options["time_limit"] = float(left)
    result = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(len(cost)),
        bounds=Bounds(0, 1),
        options=options,
    )
    x = None if result.x is None else np.asarray(result.x)
    bound = getattr(result, "mip_dual_bound", None)
    bound = None if bound is None or not np.isfinite(bound) else float(bound)
    if result.status == 0:
        return x, bound, None
    # scipy's status 1 is "iteration or time limit"; only the time limit is set here.
    return x, bound, OutOfTime.reason if result.status == 1 else SolverStatus.reason


def _best_scores_bound(problem: AssignmentProblem, edges: np.ndarray, count: int) -> int:
    """An upper bound on the total score of `count` people on `edges`: the `count` best of the
    cases' own best scores (each housed case scores at most its best edge)."""
    cases, score = problem.edge_case[edges], problem.edge_score[edges].astype(np.int64)
    best = np.full(problem.n_cases, np.iinfo(np.int64).min)
    np.maximum.at(best, cases, score)
    best = np.sort(best[np.unique(cases)])[::-1]
    return int(best[:count].sum())


def _solve_milp(
    problem: AssignmentProblem, edges: np.ndarray, deadline: float | None = None
) -> _MilpAnswer:
    """Two phases with integer objectives: max count, then max score with the count fixed, each
    with the time left until `deadline`.

    Past the deadline, or when HiGHS ends a phase in a status that settles nothing, the answer
    is the best feasible solution at hand (HiGHS's incumbent, the count phase's solution, or
    nobody), flagged with `reason` "time_budget" or "solver_status" and with the bounds HiGHS
    proved (else the trivial ones: every case housed; each its best score)."""
    if len(edges) == 0:
        return _MilpAnswer(np.array([], dtype=np.int64))
    matrix, room = _constraints(problem, edges)
    caps = LinearConstraint(matrix, -np.inf, room)
    cases = len(distinct(problem.edge_case[edges], problem.n_cases))
    try:
        x, bound, reason = _run_milp(-np.ones(len(edges)), [caps], deadline)
    except OutOfTime:
        x, bound, reason = None, None, OutOfTime.reason
    if reason is not None:
        chosen = np.array([], dtype=np.int64) if x is None else np.sort(edges[x > 0.5])
        count_bound = cases if bound is None else min(cases, math.floor(-bound + 1e-6))
        return _MilpAnswer(chosen, False, max(count_bound, len(chosen)), None, reason)
    assert x is not None, "an optimal MILP run has a solution"
    counted = np.sort(edges[x > 0.5])
    count = len(counted)
    ones = sp.csr_array(np.ones((1, len(edges))))
    weight = problem.edge_score[edges].astype(np.float64)
    try:
        fixed = LinearConstraint(ones, count, count)
        x, bound, reason = _run_milp(-weight, [caps, fixed], deadline)
    except OutOfTime:
        x, bound, reason = None, None, OutOfTime.reason
    if reason is None:
        assert x is not None, "an optimal MILP run has a solution"
        return _MilpAnswer(np.sort(edges[x > 0.5]))
    chosen = counted
    if x is not None and np.count_nonzero(x > 0.5) == count:
        found = np.sort(edges[x > 0.5])
        if _score(problem, found) > _score(problem, counted):
            chosen = found
    score_bound = _best_scores_bound(problem, edges, count)
    if bound is not None:
        score_bound = min(score_bound, math.floor(-bound + 1e-6))
    return _MilpAnswer(chosen, False, count, max(score_bound, _score(problem, chosen)), reason)


def check_assignment(problem: AssignmentProblem, chosen: np.ndarray) -> None:
    """Integer check of one-to-one use and every cap; raises if the solver returned nonsense."""
    if not keeps_rules(problem, chosen):
        raise RuntimeError("solver returned an assignment that breaks a rule or cap")


def keeps_rules(problem: AssignmentProblem, chosen: np.ndarray) -> bool:
    """Whether `chosen` (edge indices) gives each case and each dwelling at most once and keeps
    every complex's and neighbourhood's room, in integers."""
    cases, dwellings = problem.edge_case[chosen], problem.edge_dwelling[chosen]
    return bool(
        np.unique(cases).size == len(chosen)
        and np.unique(dwellings).size == len(chosen)
        and np.all(
            np.bincount(problem.complex_of[dwellings], minlength=len(problem.complex_room))
            <= problem.complex_room
        )
        and np.all(
            np.bincount(
                problem.neighbourhood_of[dwellings], minlength=len(problem.neighbourhood_room)
            )
            <= problem.neighbourhood_room
        )
    )


def _compositions(total: int, limits: list[int]) -> list[tuple[int, ...]]:
    """Ways to write `total` as a sum of parts, part k at most limits[k]."""
    if not limits:
        return [()] if total == 0 else []
    return [
        (first, *rest)
        for first in range(min(total, limits[0]) + 1)
        for rest in _compositions(total - first, limits[1:])
    ]


@dataclass(frozen=True, slots=True, eq=False)
class _Straddler:
    """A binding complex over several neighbourhoods, one of them binding."""

    room: int
    part_sizes: list[int]
    part_ids: list[int]  # complex index each part gets in a variant


def _straddlers(
    problem: AssignmentProblem, active: np.ndarray
) -> tuple[list[_Straddler], np.ndarray]:
    """The straddling complexes (binding, and crossing a binding neighbourhood: neither lies
    inside the other) and the complex index of every dwelling with straddlers cut into parts
    (one per neighbourhood of its active dwellings, numbered in complex, then neighbourhood
    order; a dwelling of a straddler in none of those keeps the complex's index).

    All parts at once, by their (complex, neighbourhood) keys: complex by complex this took
    2.5% of `match` with scattered complexes at 800 x 300 (a pass over every dwelling per
    straddler, nearly every complex there)."""
    complexes = problem.complex_of[active]
    hoods = problem.neighbourhood_of[active]
    _, _, pair_complex, _, how = _overlaps(problem, active)
    complex_of = problem.complex_of.copy()
    is_straddler = np.zeros(len(problem.complex_room), dtype=bool)
    is_straddler[pair_complex[how == 0]] = True
    if not is_straddler.any():
        return [], complex_of
    n_hoods = len(problem.neighbourhood_room)
    here = is_straddler[complexes]
    parts, sizes = np.unique(
        complexes[here].astype(np.int64) * n_hoods + hoods[here], return_counts=True
    )
    ids = len(problem.complex_room) + np.arange(len(parts))
    members = np.flatnonzero(is_straddler[problem.complex_of])
    keys = problem.complex_of[members].astype(np.int64) * n_hoods
    keys += problem.neighbourhood_of[members]
    at = np.minimum(np.searchsorted(parts, keys), len(parts) - 1)
    inside = parts[at] == keys
    complex_of[members[inside]] = ids[at[inside]]
    owner = parts // n_hoods
    bounds = [*np.flatnonzero(np.append(True, owner[1:] != owner[:-1])).tolist(), len(parts)]
    part_sizes, part_ids, rooms = sizes.tolist(), ids.tolist(), problem.complex_room[owner]
    found = [
        _Straddler(int(rooms[a]), part_sizes[a:b], part_ids[a:b])
        for a, b in itertools.pairwise(bounds)
    ]
    return found, complex_of


def _variant(
    problem: AssignmentProblem,
    complex_of: np.ndarray,
    straddlers: list[_Straddler],
    shares: Sequence[tuple[int, ...] | None],
) -> AssignmentProblem:
    """The problem with each straddler cut into parts: split shares where given, else unlimited
    parts (its cap relaxed)."""
    rooms = [
        share if share is not None else tuple(s.part_sizes)
        for s, share in zip(straddlers, shares, strict=True)
    ]
    return AssignmentProblem(
        problem.n_cases,
        problem.n_dwellings,
        problem.edge_case,
        problem.edge_dwelling,
        problem.edge_score,
        complex_of,
        problem.neighbourhood_of,
        np.concatenate(
            [problem.complex_room, np.array([r for part in rooms for r in part], dtype=np.int64)]
        ),
        problem.neighbourhood_room,
    )


def _split_search(
    problem: AssignmentProblem,
    edges: np.ndarray,
    active: np.ndarray,
    bound: int,
    limit: int,
    roots: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, list[Alternative], int] | None:
    """Branch and bound over splits of straddling complexes (exact), or None beyond `limit`
    nodes or when a node's numbers are too large for the exact assignment route.

    Depth first, trying first the split nearest to how the relaxed solution used the parts.
    The root's solution (every straddler uncapped) is appended to `roots` when given.
    """
    straddlers, complex_of = _straddlers(problem, active)
    best: tuple[tuple[int, int], np.ndarray] | None = None
    leaves: list[Alternative] = []
    nodes = 0

    def solve_node(shares: list[tuple[int, ...] | None]) -> tuple[Alternative, list[int]] | None:
        nonlocal nodes
        nodes += 1
        variant = _variant(problem, complex_of, straddlers, shares)
        tree = capacity_tree(variant, active)
        assert tree is not None, "cutting every straddler into parts nests the caps"
        chosen = _solve_blockers(variant, edges, tree, bound)
        if chosen is None:
            return None
        used = np.bincount(
            complex_of[problem.edge_dwelling[chosen]], minlength=len(variant.complex_room)
        )
        exact = all(share is not None for share in shares)
        if roots is not None and nodes == 1:
            roots.append(chosen)
        return Alternative(variant, chosen, exact), used.tolist()

    def key(leaf: Alternative) -> tuple[int, int]:
        return len(leaf.solution), int(problem.edge_score[leaf.solution].sum())

    stack: list[list[tuple[int, ...] | None]] = [[None] * len(straddlers)]
    while stack:
        if straddlers and nodes >= limit:
            return None
        shares = stack.pop()
        solved = solve_node(shares)
        if solved is None:
            return None
        leaf, used = solved
        if best is not None and key(leaf) <= best[0]:
            leaves.append(leaf)
            continue
        parts = [[used[i] for i in s.part_ids] for s in straddlers]
        overfilled = [
            k for k, s in enumerate(straddlers) if shares[k] is None and sum(parts[k]) > s.room
        ]
        if not overfilled:
            best = (key(leaf), leaf.solution)
            leaves.append(leaf)
            continue
        if nodes == 1 and len(overfilled) >= max(2, limit // 2):
            # Each overfilled straddler needs a node of its own, mostly several: a search this
            # short would end unsettled after `limit` assignment solves (a third of the solve
            # at 800 x 300 with complexes scattered over neighbourhoods), so it is not begun.
            return None
        k = overfilled[0]
        splits = _compositions(straddlers[k].room, straddlers[k].part_sizes)
        splits.sort(key=lambda split: sum(abs(a - u) for a, u in zip(split, parts[k], strict=True)))
        for split in reversed(splits):
            child = list(shares)
            child[k] = split
            stack.append(child)
    assert best is not None, "the all-relaxed root always has a solution"
    count = best[0][0]
    return best[1], [leaf for leaf in leaves if len(leaf.solution) == count], nodes


def _components(problem: AssignmentProblem, edges: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Component label per edge: cases, dwellings and binding caps linked by edges and membership
    (a cap that cannot bind restricts nothing, so it links nothing)."""
    complexes, hoods = problem.complex_of[active], problem.neighbourhood_of[active]
    binding_complex = (
        np.bincount(complexes, minlength=len(problem.complex_room)) > problem.complex_room
    )
    binding_hood = (
        np.bincount(hoods, minlength=len(problem.neighbourhood_room)) > problem.neighbourhood_room
    )
    n_cases, n_dwellings = problem.n_cases, problem.n_dwellings
    complex_node = n_cases + n_dwellings + problem.complex_of
    hood_node = n_cases + n_dwellings + len(problem.complex_room) + problem.neighbourhood_of
    in_complex = active[binding_complex[complexes]]
    in_hood = active[binding_hood[hoods]]
    src = np.concatenate([problem.edge_case[edges], n_cases + in_complex, n_cases + in_hood])
    dst = np.concatenate(
        [n_cases + problem.edge_dwelling[edges], complex_node[in_complex], hood_node[in_hood]]
    )
    size = n_cases + n_dwellings + len(problem.complex_room) + len(problem.neighbourhood_room)
    graph = sp.csr_array((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
    labels: np.ndarray  # scipy publishes no types
    _, labels = connected_components(graph, directed=False)
    per_edge: np.ndarray = labels[problem.edge_case[edges]]  # numpy types fancy indexing Any
    return per_edge


@dataclass(frozen=True, slots=True)
class _Part:
    """One component's solution: proven optimal, or a feasible fallback with its upper bounds."""

    edges: np.ndarray
    optimal: bool
    count_bound: int
    score_bound: int | None
    certified: bool
    reason: str | None = None  # why not optimal (`straddling.NotSettled.reason`)


def _score(problem: AssignmentProblem, chosen: np.ndarray) -> int:
    return int(problem.edge_score[chosen].sum())


def _solve_component(
    problem: AssignmentProblem,
    edges: np.ndarray,
    bound: int,
    deadline: float | None,
    count_only: bool,
    relaxed_solution: np.ndarray | None = None,
) -> _Part:
    """The optimum of one component (see `solve`, step 4), or its restriction past `deadline`."""
    active = distinct(problem.edge_dwelling[edges], problem.n_dwellings)
    tree = capacity_tree(problem, active)
    if tree is not None:
        chosen = _solve_blockers(problem, edges, tree, bound)
        if chosen is not None:
            return _Part(chosen, True, len(chosen), _score(problem, chosen), False)
        return _certified_or_nothing(problem, edges, count_only)
    straddlers, complex_of = _straddlers(problem, active)
    relaxed_problem = _variant(problem, complex_of, straddlers, [None] * len(straddlers))
    relaxed_tree = capacity_tree(relaxed_problem, active)
    assert relaxed_tree is not None, "cutting every straddler into parts nests the caps"
    relaxed = (
        relaxed_solution
        if relaxed_solution is not None
        else _solve_blockers(relaxed_problem, edges, relaxed_tree, bound)
    )
    if relaxed is None:
        return _certified_or_nothing(problem, edges, count_only)
    used = np.bincount(
        complex_of[problem.edge_dwelling[relaxed]], minlength=len(relaxed_problem.complex_room)
    )
    shares = [_share(s, [int(used[i]) for i in s.part_ids]) for s in straddlers]
    strict = _variant(problem, complex_of, straddlers, shares)
    strict_tree = capacity_tree(strict, active)
    assert strict_tree is not None
    restricted = _solve_blockers(strict, edges, strict_tree, bound)
    assert restricted is not None, "the restriction has the relaxation's numbers"
    upper = (len(relaxed), _score(problem, relaxed))
    if (len(restricted), _score(problem, restricted)) == upper or (
        count_only and len(restricted) == upper[0]
    ):
        return _Part(restricted, True, upper[0], upper[1], False)
    try:
        found = certified_optimum(problem, edges, [relaxed, restricted], deadline, count_only)
    except NotSettled as stop:  # out of time, or HiGHS ended in a status it cannot act on
        return _Part(
            restricted,
            False,
            upper[0],
            upper[1] if upper[0] == len(restricted) else None,
            True,
            stop.reason,
        )
    return _Part(found.edges, True, found.count, found.score, True)


def _certified_or_nothing(problem: AssignmentProblem, edges: np.ndarray, count_only: bool) -> _Part:
    """A component whose numbers are too large for the assignment routes, by linear programming
    without a deadline; when HiGHS cannot settle it, nobody of it is proposed (empty is the one
    feasible answer at hand), flagged with the count bound of its cases."""
    try:
        found = certified_optimum(problem, edges, [], None, count_only)
    except NotSettled as stop:
        cases = len(distinct(problem.edge_case[edges], problem.n_cases))
        return _Part(np.zeros(0, dtype=np.int64), False, cases, None, True, stop.reason)
    return _Part(found.edges, True, found.count, found.score, True)


def _share(straddler: "_Straddler", used: list[int]) -> tuple[int, ...]:
    """A split of the straddler's room that follows how a relaxed solution used its parts:
    parts by use (most first, then part order) get what they used while room is left."""
    left = straddler.room
    share = [0] * len(used)
    for k in sorted(range(len(used)), key=lambda k: (-used[k], k)):
        share[k] = min(used[k], left)
        left -= share[k]
    return tuple(share)


def _solve_components(
    problem: AssignmentProblem,
    edges: np.ndarray,
    active: np.ndarray,
    bound: int,
    deadline: float | None,
    count_only: bool,
    relaxed: np.ndarray | None = None,
) -> tuple[np.ndarray, list[_Part]]:
    """Every component solved on its own (in order of its first edge); the union and the parts.

    `relaxed`: an optimum of the whole problem with every straddler uncapped (the split search's
    root), if known. Each component is a union of the relaxation's components, so its edges of
    that optimum are the component's relaxed optimum, and the solve need not be repeated."""
    labels = _components(problem, edges, active)
    _, first = np.unique(labels, return_index=True)
    parts = []
    for label in labels[np.sort(first)]:
        mine = edges[labels == label]
        own = None if relaxed is None else relaxed[np.isin(relaxed, mine)]
        parts.append(_solve_component(problem, mine, bound, deadline, count_only, own))
    chosen = np.sort(np.concatenate([part.edges for part in parts]).astype(np.int64))
    return chosen, parts


def solve(
    problem: AssignmentProblem,
    method: str = "auto",
    split_limit: int = SPLIT_LIMIT,
    deadline: float | None = None,
    count_only: bool = False,
) -> Assignment:
    """The lexicographic optimum (most housed, then highest total score).

    `method` "auto" takes the assignment routes when it can; "milp" forces HiGHS (tests use it
    to cross-check the routes). `split_limit` bounds the branch-and-bound nodes over splits.
    `deadline` (a time.monotonic value) bounds the component and MILP routes; past it the
    result may be a feasible proposal with `optimal` False (see the module docstring).
    `count_only`: only the count must be optimal (the score is that of some maximum-count solution).
    """
    if method not in ("auto", "milp"):
        raise ValueError(f"unknown method {method!r}")
    given, problem = problem, lift_implied_caps(problem)
    keep, bound = prune(problem)
    edges = np.flatnonzero(keep)
    active = distinct(problem.edge_dwelling[edges], problem.n_dwellings)
    tree = capacity_tree(problem, active)
    if len(edges) == 0:
        empty = np.array([], dtype=np.int64)
        return Assignment(empty, 0, 0, "none", True, keep, [Alternative(problem, empty, True)], 0)
    found = None
    roots: list[np.ndarray] = []
    if method == "auto" and (tree is not None or remaining(deadline) > 0):
        limit = split_limit if len(edges) <= SPLIT_EDGE_LIMIT else min(split_limit, 1)
        found = _split_search(problem, edges, active, bound, limit, roots)
    optimal, count_bound, score_bound, reason = True, None, None, None
    if found is not None:
        chosen, alternatives, subproblems = found
        used = "assignment" if tree is not None else "assignment_split"
    elif method == "auto" and tree is None:
        chosen, parts = _solve_components(
            problem, edges, active, bound, deadline, count_only, roots[0] if roots else None
        )
        alternatives, subproblems, used = [], len(parts), "components"
        optimal = all(part.optimal for part in parts)
        if not optimal:
            count_bound = sum(part.count_bound for part in parts)
            scores = [part.score_bound for part in parts if part.score_bound is not None]
            exact_count = count_bound == len(chosen)
            score_bound = sum(scores) if exact_count and len(scores) == len(parts) else None
            reasons = {part.reason for part in parts if not part.optimal}
            reason = "time_budget" if "time_budget" in reasons else "solver_status"
    else:
        answer = _solve_milp(problem, edges, deadline)
        chosen, subproblems, used = answer.edges, 0, "milp"
        optimal, count_bound, reason = answer.optimal, answer.count_bound, answer.reason
        score_bound = answer.score_bound
        proven = tree is not None and optimal
        alternatives = [Alternative(problem, chosen, True)] if proven else []
    check_assignment(given, chosen)  # the caps as given, not only those left after lifting
    return Assignment(
        edges=chosen,
        count=len(chosen),
        total_score=int(problem.edge_score[chosen].sum()),
        method=used,
        nested=tree is not None,
        kept=keep,
        alternatives=alternatives,
        subproblems=subproblems,
        optimal=optimal,
        count_bound=count_bound,
        score_bound=score_bound,
        reason=reason,
    )
