# Size: one check (the best alternative of every unhoused case) with its exact routes: nested
# variants by shortest paths, and where complexes straddle, Lagrangian bounds beside them; they
# share the residual graph and the per-case segments, so split they would pass all of it around.
"""Cases the proposal leaves unhoused although some dwelling fits them, each with its best
alternative: the best proposal (most housed, then highest total score) in which the case is
housed. The table sees what housing that case would cost (`fewer_housed`, `lower_total_score` or
`equal_alternative`) and which proposals it would change.

Why this is a separate list: an unhoused case c never scores higher on a proposed dwelling v than
v's holder (swapping them would keep every count and cap and raise the total), so it never shows
in `passed_over` on the dwelling itself. What keeps c out is the room of a full complex or
neighbourhood, or a chain of moves; the best alternative names it.

Housed count. For a feasible (c, v), h(c, v) >= housed - 1: add (c, v) to the proposal; only v's
complex and v's neighbourhood can overflow, and dropping one proposal from each restores them.

Residual graph (see `tradeoffs.residual_arcs`) of a nested problem and its optimum M: c is
unhoused, so the only arc into c is source -> c, and a cycle through the arc c -> v is c -> v ~>
source -> c. So h(c, v) = housed iff v reaches the source, and then the best total with (c, v) is
total + score(c, v) - d(v), d(v) the shortest distance from v to the source (M has the highest
total among proposals housing as many, so the residual graph has no negative cycle, and the
difference of two such proposals is a sum of residual cycles). One shortest-path pass to the
source serves every unhoused case; pushing one unit round the cycle gives the alternative itself.
The graph holds the pruned edges plus every edge of an unhoused case: pruning keeps the optimum
with a pair forced (`solver.prune`), and extra edges of unhoused cases never lie on a path to the
source.

Caps that do not nest: the branch and bound's variants cover every solution housing as many
(`solver.solve`); each nests, and gives per case the best total of its own solutions housing the
case (the variant's own total when its optimum houses the case, else the formula above), an upper
bound on the real one. The best bound is exact when the variant's alternative reaching it keeps
the real caps (always so for a variant whose straddlers are all split). After the component or
MILP route (no variants), the proposal's own split of each straddling complex gives an exact
variant and dropping those caps a bounding one (`_own_variants`). When that relaxation houses
more than the proposal it bounds nothing; the bounds then come from linear programming
(`_lagrangian_bounds`, `forced.ForcedOptimum`), and a case whose bound the exact variant does not
reach gets the LP re-solved with the case forced in. Each such re-solve serves the cases after
it too: its duals bound every case at once (`ForcedOptimum.shared_bounds`), and when no variant
reached its alternative, the restriction to that alternative's split joins the exact variants
(`_split_variant`). The priced flow's own solution is a witness where it keeps the caps
(`_priced_witness`); so is the proposal round one cycle of a second priced flow, in which the
complexes keep their caps and the neighbourhoods crossing them are priced instead
(`_neighbourhood_bounds`: a few full complexes over many neighbourhoods). Where variants were
at hand but a case is left unsettled by them (the split search keeps only leaves housing as
many, some relaxed, so a case whose every
alternative houses fewer, or whose relaxed value breaks a cap, was settled pair by pair: half
of the 60-200 x 25-80 tables with scattered complexes went past the default re-solve limit),
the same linear programs are built at that case and settle it and the cases after it. Cases
still unsettled are re-solved with each of their pairs forced (`tradeoffs.solve_with_pair`),
up to the re-solve limit and the solver's deadline.
"""

import time
from dataclasses import dataclass, replace

import numpy as np

from app.matching.forced import ForcedOptimum
from app.matching.ranking import Ranking
from app.matching.solver import (
    Alternative,
    Assignment,
    AssignmentProblem,
    BlockerLayout,
    CapacityTree,
    _overlaps,
    _solve_blockers,
    _Straddler,
    _straddlers,
    _variant,
    blocker_layout,
    capacity_tree,
    prune,
    prune_rankings,
)
from app.matching.straddling import NotSettled, remaining
from app.matching.tradeoffs import residual_arcs, solve_with_pair, used_dwellings

SOURCE = 0
UNREACHABLE = np.iinfo(np.int64).max // 4
NONE = np.iinfo(np.int64).min // 4
LAGRANGE_SCALE = 1024
"""Scores times this in `_lagrangian_bounds`, so the multipliers rounded to integers stay
within a point of the linear program's."""


@dataclass(frozen=True, slots=True, eq=False)
class BestAlternative:
    """The best proposal in which unhoused case `case` is housed (on `dwelling`, pair `edge`): its
    people housed, total score (micro-points), and `moves`: every case whose dwelling differs
    from the proposal's, with its dwelling in the alternative (None: unhoused), `case` included."""

    case: int
    dwelling: int
    edge: int
    housed: int
    total: int
    moves: dict[int, int | None]


@dataclass(frozen=True, slots=True, eq=False)
class UnhousedCheck:
    """Best alternatives in case order, and whether every unhoused case with a feasible dwelling
    got one (False when the re-solve limit was reached)."""

    alternatives: list[BestAlternative]
    complete: bool
    resolves: int


def distances_to_source(
    src: np.ndarray, dst: np.ndarray, cost: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest distance from every node to node 0 (UNREACHABLE where there is no path) and the
    next node on one such path (-1 where none), in exact integers.

    Bellman-Ford in rounds over all arcs at once; it stops when a round changes nothing, which
    takes as many rounds as the longest shortest path has arcs. The next hop of a node is the
    first arc (in arc order) that was tight in the round of its last improvement: a node's next
    hop changes only when its distance strictly drops, so the next hops form a tree. Raises
    RuntimeError on a negative cycle (the flow it was built from would not be optimal).

    The next hops are found once, after the last round (`_next_hops`), not in every round: the
    arcs tight in a node's last round are exactly those tight for the final distances whose head
    settled one round before it (half of each call's time went to finding them per round: 20
    calls per check with five complex refs at 800 x 300).
    """
    dist = np.full(size, UNREACHABLE, dtype=np.int64)
    dist[SOURCE] = 0
    settled_in = np.zeros(size, dtype=np.int64)  # the round of each node's last improvement
    for round_ in range(1, size + 2):
        # In place: a big table's residual graph has millions of arcs.
        offer = dist[dst].astype(np.result_type(cost, dist), copy=False)
        unknown = offer == UNREACHABLE
        offer += cost
        np.putmask(offer, unknown, UNREACHABLE)
        del unknown
        best = np.full(size, UNREACHABLE, dtype=np.int64)
        np.minimum.at(best, src, offer)
        del offer
        improved = best < dist
        if not improved.any():
            return dist, _next_hops(src, dst, cost, dist, settled_in)
        settled_in[improved] = round_
        np.minimum(dist, best, out=dist)
    raise RuntimeError("the residual graph has a negative cycle: the proposal is not optimal")


def _next_hops(
    src: np.ndarray, dst: np.ndarray, cost: np.ndarray, dist: np.ndarray, settled_in: np.ndarray
) -> np.ndarray:
    """`distances_to_source`'s next hops from its final distances and the round each node last
    improved in: per node the head of its first arc that is tight (head's distance plus cost is
    the node's) with a head settled one round before the node.

    Why these are the arcs the round-by-round search would pick: after round r each distance is
    the best over paths of at most r arcs, so a node settles in the round of the fewest arcs on
    a shortest path of it. In a node's last round r the offers come from the distances after
    round r - 1: an arc's offer equals the node's final distance exactly when the arc is tight
    and its head has settled by then, and the head of a tight arc settles no earlier than
    r - 1 (its shortest paths, one arc longer, are the node's)."""
    reached = (dist[src] != UNREACHABLE) & (dist[dst] != UNREACHABLE)
    arcs = np.flatnonzero(reached)
    del reached
    heads, tails = dst[arcs], src[arcs]
    is_tight = settled_in[heads] == settled_in[tails] - 1
    is_tight &= dist[heads] + cost[arcs] == dist[tails]
    tight = arcs[is_tight]
    next_hop = np.full(len(dist), -1, dtype=np.int64)
    nodes, first = np.unique(src[tight], return_index=True)
    next_hop[nodes] = dst[tight[first]]
    return next_hop


def pairs_of(problem: AssignmentProblem, chosen: np.ndarray) -> dict[int, int]:
    """Chosen edges as case -> dwelling."""
    cases, dwellings = problem.edge_case[chosen].tolist(), problem.edge_dwelling[chosen].tolist()
    return {int(c): int(d) for c, d in zip(cases, dwellings, strict=True)}


def moves_between(proposal: dict[int, int], pairs: dict[int, int]) -> dict[int, int | None]:
    """The cases whose dwelling differs between two assignments (case -> dwelling), with their
    dwelling in `pairs` (None: unhoused there)."""
    moves: dict[int, int | None] = {c: d for c, d in pairs.items() if proposal.get(c) != d}
    return moves | {c: None for c in proposal if c not in pairs}


def _segment_best(values: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per segment (values[starts[k]:starts[k+1]]), its maximum and the first position of it."""
    top = np.maximum.reduceat(values, starts)
    is_top = values == np.repeat(top, np.diff(np.append(starts, len(values))))
    # Every segment holds its maximum, so the first hit at or after a segment's start is in it;
    # no per-value segment numbers (a big table has millions of values).
    hits = np.flatnonzero(is_top)
    del is_top
    return top, hits[np.searchsorted(hits, starts)]


@dataclass(frozen=True, slots=True, eq=False)
class _Variant:
    """One nested variant's view: per unhoused case its best value and candidate edge, and what
    is needed to build and check the alternative reaching it."""

    alternative: Alternative
    best: np.ndarray  # per case segment: best value (NONE: no solution houses the case)
    best_edge: np.ndarray  # per case segment: the candidate edge reaching it
    values: list[int]  # `best` as a list (the check reads it case by case, every variant)
    next_hop: np.ndarray
    pairs: dict[int, int]  # case -> dwelling of the variant's solution
    keeps_caps: bool  # the variant's own solution keeps the real caps
    is_proposal: bool  # the variant's solution is the proposal itself


def _variant_view(
    problem: AssignmentProblem,
    alternative: Alternative,
    edges: np.ndarray,
    active: np.ndarray,
    candidates: np.ndarray,
    starts: np.ndarray,
    proposal: dict[int, int],
) -> _Variant | None:
    """None when the variant's caps do not nest over `active` (then it bounds nothing)."""
    tree = capacity_tree(alternative.problem, active)
    if tree is None:
        return None
    solution = alternative.solution
    arcs = _arcs_to_source(alternative.problem, edges, solution, tree, active)
    dist, next_hop = distances_to_source(*arcs)
    del arcs
    total = int(problem.edge_score[solution].sum())
    in_solution = np.zeros(problem.edges, dtype=bool)
    in_solution[solution] = True
    housed_case = np.zeros(problem.n_cases, dtype=bool)
    housed_case[problem.edge_case[solution]] = True
    # total + score - back where the dwelling reaches the source, else NONE; in place, as a big
    # table has millions of candidates.
    back = dist[2 + problem.n_cases + problem.edge_dwelling[candidates]]
    unreached = back == UNREACHABLE
    np.putmask(back, unreached, 0)
    values = problem.edge_score[candidates]
    values += total
    values -= back
    del back
    np.putmask(values, unreached, NONE)
    # A case the variant's own optimum houses: that optimum is the variant's best with the case
    # housed (on its own pair); its other pairs can do no better.
    own = housed_case[problem.edge_case[candidates]]
    np.copyto(values, np.where(in_solution[candidates], total, NONE), where=own)
    best, position = _segment_best(values, starts)
    pairs = pairs_of(problem, solution)
    return _Variant(
        alternative,
        best,
        candidates[position],
        best.tolist(),
        next_hop,
        pairs,
        _keeps_caps(problem, list(pairs.values())),
        pairs == proposal,
    )


def _arcs_to_source(
    problem: AssignmentProblem,
    edges: np.ndarray,
    solution: np.ndarray,
    tree: CapacityTree,
    active: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The arcs of the residual graph of `solution` (a flow over `edges`, caps as in `tree`)
    that a path to the source can use, numbered as in `tradeoffs.residual_arcs`.

    Why: most edges of the check's graph belong to cases the solution leaves unhoused (every
    edge of an unhoused case joins it), and the only arc into such a case comes from the
    source, so no path to the source passes through one: leaving their edges out changes no
    distance and roughly halves the graph. Every dwelling of `active` keeps its arcs, so the
    distance of a dwelling only such cases want is still known."""
    housed = np.zeros(problem.n_cases, dtype=bool)
    housed[problem.edge_case[solution]] = True
    needed = edges[housed[problem.edge_case[edges]]]
    used = used_dwellings(problem, solution)
    return residual_arcs(problem, needed, solution, tree, used, active)


def _keeps_caps(problem: AssignmentProblem, dwellings: list[int]) -> bool:
    used = np.array(dwellings, dtype=np.int64)
    complexes = np.bincount(problem.complex_of[used], minlength=len(problem.complex_room))
    hoods = np.bincount(problem.neighbourhood_of[used], minlength=len(problem.neighbourhood_room))
    return bool(
        np.all(complexes <= problem.complex_room) and np.all(hoods <= problem.neighbourhood_room)
    )


def _push_round(
    problem: AssignmentProblem, next_hop: np.ndarray | list[int], edge: int
) -> dict[int, int | None]:
    """The moves (relative to the variant's solution) of pushing one unit round the cycle
    case -> dwelling ~> source -> case of `edge`, the path following the next hops."""
    n_cases, n_dwellings = problem.n_cases, problem.n_dwellings
    moves: dict[int, int | None] = {int(problem.edge_case[edge]): int(problem.edge_dwelling[edge])}
    node = 2 + n_cases + int(problem.edge_dwelling[edge])
    for _ in range(len(next_hop)):
        if node == SOURCE:
            return moves
        after = int(next_hop[node])
        if 2 <= node < 2 + n_cases:
            if after == SOURCE:
                moves[node - 2] = None
            elif 2 + n_cases <= after < 2 + n_cases + n_dwellings:
                moves[node - 2] = after - 2 - n_cases
        node = after
    raise RuntimeError("the next hops do not lead to the source")


def _apply(pairs: dict[int, int], moves: dict[int, int | None]) -> None:
    """Apply moves (case -> dwelling, None: unhoused) to an assignment, in place."""
    for moved, dwelling in moves.items():
        if dwelling is None:
            pairs.pop(moved, None)
        else:
            pairs[moved] = dwelling


def _witness(
    problem: AssignmentProblem, variant: _Variant, edge: int, proposal: dict[int, int]
) -> dict[int, int | None] | None:
    """The variant's alternative housing the edge's case, as moves relative to the proposal, or
    None when it breaks a real cap (a relaxed variant's solutions need not keep them)."""
    case = int(problem.edge_case[edge])
    if variant.is_proposal and variant.alternative.exact and case not in variant.pairs:
        # The cycle's moves are the changes, and an exact variant keeps the real caps.
        return _push_round(problem, variant.next_hop, edge)
    pairs = dict(variant.pairs)
    if case not in pairs:
        _apply(pairs, _push_round(problem, variant.next_hop, edge))
        if not variant.alternative.exact and not _keeps_caps(problem, list(pairs.values())):
            return None
    elif not variant.alternative.exact and not variant.keeps_caps:
        return None
    return moves_between(proposal, pairs)


def _restriction(
    problem: AssignmentProblem, chosen: np.ndarray, active: np.ndarray
) -> tuple[Alternative, AssignmentProblem]:
    """The problem restricted to the split of every straddling complex that the solution
    `chosen` (edges) uses (exact: stricter than the problem; for the proposal, which is optimal
    for it, with its caps nested), and the relaxation without those complexes' caps."""
    restriction, relaxed = _split_of(problem, chosen, active, relaxed=True)
    assert relaxed is not None
    return Alternative(restriction, chosen, True), relaxed


def _split_of(
    problem: AssignmentProblem,
    chosen: np.ndarray,
    active: np.ndarray,
    relaxed: bool,
    cut: tuple[list[_Straddler], np.ndarray] | None = None,
) -> tuple[AssignmentProblem, AssignmentProblem | None]:
    """`_restriction`'s two problems; the relaxation only when `relaxed`. `cut`:
    `solver._straddlers(problem, active)`, when the caller has it."""
    straddlers, complex_of = _straddlers(problem, active) if cut is None else cut
    parts = len(problem.complex_room) + sum(len(s.part_ids) for s in straddlers)
    used = np.bincount(complex_of[problem.edge_dwelling[chosen]], minlength=parts)
    shares = [tuple(int(used[i]) for i in s.part_ids) for s in straddlers]
    restriction = _variant(problem, complex_of, straddlers, shares)
    if not relaxed:
        return restriction, None
    return restriction, _variant(problem, complex_of, straddlers, [None] * len(straddlers))


@dataclass(slots=True, eq=False)
class _Splits:
    """What every split variant of one check shares: the straddlers over its dwellings
    (`solver._straddlers`) and, once the first split is pruned, the rankings pruning sorts by
    (`solver.prune_rankings`: the splits differ only in their rooms)."""

    cut: tuple[list[_Straddler], np.ndarray]
    rankings: tuple[Ranking, Ranking] | None = None


def _split_variant(
    problem: AssignmentProblem,
    chosen: np.ndarray,
    kept: np.ndarray,
    active: np.ndarray,
    splits: _Splits,
) -> Alternative | None:
    """The restriction to the split an alternative (`chosen`, found by a re-solve) uses, with
    its own optimum (None when the numbers are too large for the assignment route), solved on
    the edges pruning `kept` (they hold an optimum of every split, `solver.prune`, at half the
    size of the check's graph).

    Why: where the best alternatives shift a straddler's room between neighbourhoods (five
    complex refs per corporation), the proposal's own split reaches almost none of them, but
    one re-solve's split reaches those of every case that needs the same shift: one
    shortest-path pass instead of one linear program per case. `splits`: the same for every
    re-solve of a check."""
    split = _split_of(problem, chosen, active, relaxed=False, cut=splits.cut)[0]
    # Pruned again under the split's own rooms (most parts of a straddler get little or none):
    # still an optimum of the split (`solver.prune`), on a fraction of the edges and blockers.
    narrowed = replace(
        split,
        edge_case=split.edge_case[kept],
        edge_dwelling=split.edge_dwelling[kept],
        edge_score=split.edge_score[kept],
    )
    if splits.rankings is None:
        splits.rankings = prune_rankings(narrowed)
    # A restriction houses at most as many as the problem's optimum, which `chosen` houses.
    edges = kept[prune(narrowed, bound=len(chosen), rankings=splits.rankings)[0]]
    if len(edges) == 0:
        return None
    tree = capacity_tree(split, np.unique(problem.edge_dwelling[edges]))
    assert tree is not None, "a split of every straddler nests the caps"
    solution = _solve_blockers(split, edges, tree, len(chosen))
    return None if solution is None else Alternative(split, solution, True)


def _own_variants(
    problem: AssignmentProblem, assignment: Assignment, edges: np.ndarray, active: np.ndarray
) -> list[Alternative]:
    """Variants made from the proposal itself, for when the solver left none that nest over
    `active` (the component and MILP routes, or more dwellings than it looked at): the problem
    itself when its caps nest over them. Otherwise the restriction to the proposal's own split
    (`_restriction`) and the relaxation without the straddlers' caps (the upper bounds); empty
    when that relaxation houses more than the proposal (then it bounds nothing)."""
    if capacity_tree(problem, active) is not None:
        return [Alternative(problem, assignment.edges, True)]
    restriction, relaxed = _restriction(problem, assignment.edges, active)
    tree = capacity_tree(relaxed, active)
    assert tree is not None, "cutting every straddler into parts nests the caps"
    bound = len(np.unique(problem.edge_case[edges]))
    solution = _solve_blockers(relaxed, edges, tree, bound)
    if solution is None or len(solution) != assignment.count:
        return []
    return [restriction, Alternative(relaxed, solution, False)]


@dataclass(frozen=True, slots=True, eq=False)
class _Priced:
    """`_lagrangian_bounds`' answer: per case segment the bound and the candidate edge of the
    priced flow's best solution housing the case, with what rebuilds that solution."""

    bounds: np.ndarray  # per case segment, micro-points (NONE: no solution houses the case)
    best_edge: np.ndarray  # per case segment
    next_hop: np.ndarray
    pairs: dict[int, int]  # case -> dwelling of the priced flow's optimum
    caps: "_CapsUse"  # how that optimum fills the real caps
    hops: list[int]  # next_hop as a list (the witnesses walk it node by node)
    total: int  # its total score (micro-points, unpriced)


@dataclass(slots=True, eq=False)
class _Repricing:
    """What every priced flow of `_lagrangian_bounds` in one check shares (the same relaxed
    caps over the same edges; only the prices differ): the caps' tree and the assignment's
    layout (`solver.blocker_layout`), built on the first.

    Why: the check reprices after confirmed re-solves (six times with five complex refs at
    800 x 300), and rebuilding those took over half of each priced flow."""

    tree: CapacityTree | None = None
    layout: BlockerLayout | None = None


def _lagrangian_bounds(
    problem: AssignmentProblem,
    forced: ForcedOptimum,
    relaxed: AssignmentProblem,
    housed: int,
    edges: np.ndarray,
    active: np.ndarray,
    candidates: np.ndarray,
    starts: np.ndarray,
    duals: np.ndarray | None = None,
    kept: _Repricing | None = None,
) -> _Priced | None:
    """Per case segment of `candidates` an upper bound (micro-points) on the total score of any
    proposal housing `housed` people and the case (NONE: none houses it); None when the numbers
    are too large for the exact assignment route.

    With multipliers lam >= 0 on the straddling complexes' caps and mu on the count (the score
    linear program's duals, rounded; any values give a valid bound), every such proposal y has
    s.y <= lam.r + mu * housed + s''.y with s'' = s - lam[complex] - mu, and y keeps the caps of
    `relaxed` (the straddlers uncapped, nested). The best s''.y on `relaxed` with the case housed
    is a flow question: the max-weight optimum when it houses the case, else that optimum plus
    s''(c, v) - d(v), d the distance from v to the source in its residual graph, where an arc
    sink -> source lets the count change. With the LP's duals this bound is nearly always tight,
    unlike the reduced costs alone (`ForcedOptimum.score_bounds`). `duals`: a re-solve's
    (`ForcedOptimum.shared_duals`) instead of the proposal's linear program's. `kept`: what the
    check's earlier priced flows over `relaxed` built (filled in here).
    """
    prices, count_dual = forced.complex_prices(duals)
    # Scores are scaled so the rounded multipliers lose less than a point in the bound.
    prices = np.rint(prices * LAGRANGE_SCALE).astype(np.int64)
    split = relaxed.complex_of >= len(problem.complex_room)
    price = np.where(split, prices[problem.complex_of], 0)
    straddling = np.unique(problem.complex_of[split])
    constant = int((prices[straddling] * problem.complex_room[straddling]).sum())
    return _priced_flow(
        problem,
        relaxed,
        price,
        constant,
        count_dual,
        housed,
        edges,
        active,
        candidates,
        starts,
        kept=kept,
    )


def _neighbourhood_bounds(
    problem: AssignmentProblem,
    forced: ForcedOptimum,
    proposal: np.ndarray,
    edges: np.ndarray,
    active: np.ndarray,
    candidates: np.ndarray,
    starts: np.ndarray,
) -> _Priced | None:
    """As `_lagrangian_bounds`, with the other side of the crossing caps priced: every
    neighbourhood that crosses a binding complex loses its cap (the complexes keep theirs, so
    the caps nest) and pays its dual instead. `proposal`: the proposal's edges, the priced flow's
    solution where it is one of its optima (then each witness is the proposal changed round one
    cycle).

    Why: with a few large complexes over many neighbourhoods (five complex refs per
    corporation), the complexes are full and few neighbourhoods bind: pricing the complexes
    left every witness breaking a complex's cap (none settled at 300 x 150, 18 re-solves with
    a split variant each), where pricing the neighbourhoods settles 187 of 200 cases."""
    *_, pair_hood, how = _overlaps(problem, active)
    crossing = np.zeros(len(problem.neighbourhood_room), dtype=bool)
    crossing[pair_hood[how == 0]] = True
    if not crossing.any():
        return None
    prices, count_dual = forced.complex_prices(neighbourhoods=True)
    prices = np.where(crossing, np.rint(prices * LAGRANGE_SCALE), 0).astype(np.int64)
    price = prices[problem.neighbourhood_of]
    constant = int((prices * problem.neighbourhood_room).sum())
    lifted = np.bincount(problem.neighbourhood_of, minlength=len(problem.neighbourhood_room))
    relaxed = replace(
        problem,
        neighbourhood_room=np.where(crossing, lifted, problem.neighbourhood_room),
    )
    return _priced_flow(
        problem,
        relaxed,
        price,
        constant,
        count_dual,
        len(proposal),
        edges,
        active,
        candidates,
        starts,
        proposal,
    )


def _priced_flow(
    problem: AssignmentProblem,
    relaxed: AssignmentProblem,
    price: np.ndarray,
    constant: int,
    count_dual: float,
    housed: int,
    edges: np.ndarray,
    active: np.ndarray,
    candidates: np.ndarray,
    starts: np.ndarray,
    proposal: np.ndarray | None = None,
    kept: _Repricing | None = None,
) -> _Priced | None:
    """The bounds of `_lagrangian_bounds` from `relaxed` (its caps nested) with `price` per
    dwelling (the multipliers of the caps it lifts, scaled) and `constant` (their rooms times
    them, scaled). `proposal`: edges to take as the priced flow's solution when they are worth
    as much as the optimum it finds. `kept`: the tree and layout of earlier priced flows over
    the same `relaxed` and `edges` (filled in on the first)."""
    mu = int(np.rint(count_dual * LAGRANGE_SCALE))
    constant += mu * housed
    score = problem.edge_score * LAGRANGE_SCALE - price[problem.edge_dwelling] - mu
    priced = replace(relaxed, edge_score=score)
    # The tree and layout depend on the caps and edges only, not on the scores.
    tree = (
        kept.tree if kept is not None and kept.tree is not None else capacity_tree(priced, active)
    )
    assert tree is not None, "the relaxed caps nest"
    layout = None
    if kept is not None:
        if kept.layout is None:
            kept.tree, kept.layout = tree, blocker_layout(priced, edges, tree, reuse=True)
        layout = kept.layout
    solution = _solve_blockers(priced, edges, tree, len(edges), weighted=True, layout=layout)
    if solution is None:
        return None
    if proposal is not None and int(score[proposal].sum()) == int(score[solution].sum()):
        solution = proposal
    src, dst, cost, size = _arcs_to_source(priced, edges, solution, tree, active)
    try:
        dist, next_hop = distances_to_source(
            np.append(src, 1), np.append(dst, SOURCE), np.append(cost, 0), size
        )
    except RuntimeError:
        return None
    total = int(score[solution].sum())
    housed_case = np.zeros(problem.n_cases, dtype=bool)
    housed_case[problem.edge_case[solution]] = True
    back = dist[2 + problem.n_cases + problem.edge_dwelling[candidates]]
    reaches = back < UNREACHABLE
    values = np.where(reaches, total + score[candidates] - np.where(reaches, back, 0), NONE)
    values = np.where(housed_case[problem.edge_case[candidates]], total, values)
    best, position = _segment_best(values, starts)
    bounds = np.where(best == NONE, NONE, (constant + best) // LAGRANGE_SCALE)
    pairs = pairs_of(problem, solution)
    return _Priced(
        bounds,
        candidates[position],
        next_hop,
        pairs,
        _CapsUse.of(problem, list(pairs.values())),
        next_hop.tolist(),
        int(problem.edge_score[solution].sum()),
    )


@dataclass(frozen=True, slots=True, eq=False)
class _CapsUse:
    """How an assignment fills the real caps (per complex and neighbourhood its dwellings, and
    the groups over their room), with the problem's groups and rooms as lists: an assignment
    changed by a few moves is then checked on the groups they touch (`keeps_caps_after`)
    instead of counted again whole (`_keeps_caps`).

    Why: the unhoused check asks this of hundreds of witnesses per priced flow (762 with five
    complex refs at 800 x 300), and the whole count took a third of each."""

    complex_of: list[int]
    hood_of: list[int]
    complex_room: list[int]
    hood_room: list[int]
    per_complex: list[int]
    per_hood: list[int]
    over: bool  # some complex or neighbourhood holds more than its room

    @classmethod
    def of(cls, problem: AssignmentProblem, dwellings: list[int]) -> "_CapsUse":
        used = np.array(dwellings, dtype=np.int64)
        per_complex = np.bincount(problem.complex_of[used], minlength=len(problem.complex_room))
        per_hood = np.bincount(
            problem.neighbourhood_of[used], minlength=len(problem.neighbourhood_room)
        )
        return cls(
            problem.complex_of.tolist(),
            problem.neighbourhood_of.tolist(),
            problem.complex_room.tolist(),
            problem.neighbourhood_room.tolist(),
            per_complex.tolist(),
            per_hood.tolist(),
            bool(
                np.any(per_complex > problem.complex_room)
                or np.any(per_hood > problem.neighbourhood_room)
            ),
        )

    def keeps_caps_after(self, pairs: dict[int, int], moves: dict[int, int | None]) -> bool:
        """`_keeps_caps` of `pairs` (the assignment this was built from) with `moves` applied."""
        complexes: dict[int, int] = {}
        hoods: dict[int, int] = {}
        complex_of, hood_of = self.complex_of, self.hood_of
        for moved, dwelling in moves.items():
            before = pairs.get(moved)
            if before is not None:
                x, h = complex_of[before], hood_of[before]
                complexes[x] = complexes.get(x, 0) - 1
                hoods[h] = hoods.get(h, 0) - 1
            if dwelling is not None:
                x, h = complex_of[dwelling], hood_of[dwelling]
                complexes[x] = complexes.get(x, 0) + 1
                hoods[h] = hoods.get(h, 0) + 1
        if self.over:
            # Some group was over its room: count again (a priced flow's optimum seldom is).
            per_complex, per_hood = list(self.per_complex), list(self.per_hood)
            for x, change in complexes.items():
                per_complex[x] += change
            for h, change in hoods.items():
                per_hood[h] += change
            return all(
                used <= room for used, room in zip(per_complex, self.complex_room, strict=True)
            ) and all(used <= room for used, room in zip(per_hood, self.hood_room, strict=True))
        return all(
            self.per_complex[x] + change <= self.complex_room[x] for x, change in complexes.items()
        ) and all(self.per_hood[h] + change <= self.hood_room[h] for h, change in hoods.items())


def _priced_witness(
    problem: AssignmentProblem, priced: _Priced, k: int, housed: int, bound: int, keys: np.ndarray
) -> tuple[dict[int, int], int, int] | None:
    """The priced flow's best solution housing segment k's case, as (pairs, edge of the case,
    total score), when it keeps every real cap, houses `housed` and reaches `bound` (then it is
    the case's best alternative: nothing housing as many does better); else None.

    Why: where the proposal's own split of the straddlers cannot reach an alternative's value
    (five complex refs per corporation: most cases), the priced flow's solution often does; by
    complementary slackness it is optimal whenever it fills every priced straddler to its
    room."""
    edge = int(priced.best_edge[k])
    case = int(problem.edge_case[edge])
    pairs = dict(priced.pairs)
    moves: dict[int, int | None] = {}
    if case not in pairs:
        moves = _push_round(problem, priced.hops, edge)
        _apply(pairs, moves)
    # The caps and the total from the flow's own, changed by the moves alone: the check asks
    # this of hundreds of cases per flow (762 witnesses with five complex refs at 800 x 300),
    # and counting and looking up every pair again was most of each.
    if (
        case not in pairs
        or len(pairs) != housed
        or not priced.caps.keeps_caps_after(priced.pairs, moves)
    ):
        return None
    added = [(c, d) for c, d in moves.items() if d is not None]
    dropped = [(c, priced.pairs[c]) for c in moves if c in priced.pairs]
    # The case's own pair first (for its edge), then what the moves add and take away.
    looked_up = edges_at(problem, [(case, pairs[case]), *added, *dropped], keys)
    scores = problem.edge_score[looked_up].tolist()
    total = priced.total + sum(scores[1 : 1 + len(added)]) - sum(scores[1 + len(added) :])
    if total < bound:
        return None
    return pairs, int(looked_up[0]), total


def _known(
    problem: AssignmentProblem,
    variants: list[_Variant],
    k: int,
    reached: int,
    proposal: dict[int, int],
    keys: np.ndarray,
) -> np.ndarray | None:
    """The edges of an alternative of value `reached` housing segment k's case and as many as
    the proposal, from the first exact variant that reaches it (None when none gives one): the
    start from which `ForcedOptimum.best_with_case` proves or improves it. It is checked here
    (the case housed, the count, every cap), as it may be returned as the case's best."""
    for variant in variants:
        if variant.values[k] != reached or not variant.alternative.exact:
            continue
        edge = int(variant.best_edge[k])
        moves = _witness(problem, variant, edge, proposal)
        if moves is None:
            continue
        pairs = dict(proposal)
        _apply(pairs, moves)
        fits = int(problem.edge_case[edge]) in pairs and len(pairs) == len(proposal)
        if fits and _keeps_caps(problem, list(pairs.values())):
            chosen = edges_of(problem, pairs, keys)
            if int(problem.edge_score[chosen].sum()) == reached:
                return chosen
    return None


def _certifies(variants: list[_Variant], old: np.ndarray, new: np.ndarray, k: int) -> bool:
    """Whether bounds `new` reach some variant's value for a case segment after k that bounds
    `old` left above it (a case a variant may now settle without a re-solve)."""
    if not variants:
        return False
    reached = np.max([v.best[k + 1 :] for v in variants], axis=0)
    return bool(np.any((reached >= new[k + 1 :]) & (reached < old[k + 1 :])))


def _confirmed(found: tuple[int, int, np.ndarray] | None, housed: int, reached: int) -> bool:
    """Whether a re-solve's answer is the alternative already reached (same count and total)."""
    return found is not None and found[0] == housed and found[1] == reached


def _narrow(edges: np.ndarray, count: int) -> np.ndarray:
    """Edge indexes as int32 where the problem's edge count allows (half the memory of a big
    table's millions of candidates)."""
    return edges.astype(np.int32) if count < 2**31 else edges


def pair_keys(problem: AssignmentProblem) -> np.ndarray:
    """Each edge's (case, dwelling) as one sorted int64 key (edges are in that order), which
    `edges_of` searches."""
    keys: np.ndarray = problem.edge_case.astype(np.int64) * problem.n_dwellings
    keys += problem.edge_dwelling
    return keys


def edges_of(
    problem: AssignmentProblem, pairs: dict[int, int], keys: np.ndarray | None = None
) -> np.ndarray:
    """The edge indices of case -> dwelling pairs (every pair feasible), in edge order. `keys`:
    `pair_keys(problem)`, when the caller has it (the unhoused check looks up hundreds of
    alternatives, and building the keys took most of each lookup: 5% of `match` with five
    complex refs at 800 x 300)."""
    if keys is None:
        keys = pair_keys(problem)
    wanted = np.sort(
        np.array([c * problem.n_dwellings + d for c, d in pairs.items()], dtype=np.int64)
    )
    found = np.searchsorted(keys, wanted)
    assert np.array_equal(keys[found], wanted), "every pair is a feasible edge"
    return found


def edges_at(
    problem: AssignmentProblem, pairs: list[tuple[int, int]], keys: np.ndarray
) -> np.ndarray:
    """The edge indices of (case, dwelling) pairs (every pair feasible), in the order given.
    `keys`: `pair_keys(problem)`."""
    wanted = np.array([c * problem.n_dwellings + d for c, d in pairs], dtype=np.int64)
    found = np.searchsorted(keys, wanted)
    assert np.array_equal(keys[found], wanted), "every pair is a feasible edge"
    return found


def best_alternatives(
    problem: AssignmentProblem,
    assignment: Assignment,
    resolve_limit: int,
    deadline: float | None = None,
    until_case: int | None = None,
) -> UnhousedCheck:
    """The best alternative of every unhoused case that has a feasible dwelling, exactly (or
    flagged incomplete once `resolve_limit` re-solves are spent or `deadline`, a
    time.monotonic value, has passed).

    `until_case` (a case index): stop after that case, for why-not (`whynot.explain_in_agenda`).
    The cases before it are still checked, in the same order over the same graph: their
    re-solves tighten the bounds and add the variants the later cases use, so among
    alternatives of equal worth the case gets the very one the whole check names."""
    proposal = pairs_of(problem, assignment.edges)
    # Pairs in a complex or neighbourhood without room can never be given (the engine's cap
    # rules exclude them before; bare problems may hold them).
    dwelling_of = problem.edge_dwelling
    has_room = (problem.complex_room[problem.complex_of[dwelling_of]] > 0) & (
        problem.neighbourhood_room[problem.neighbourhood_of[dwelling_of]] > 0
    )
    unhoused = np.ones(problem.n_cases, dtype=bool)
    unhoused[list(proposal)] = False
    candidates = _narrow(np.flatnonzero(unhoused[problem.edge_case] & has_room), problem.edges)
    del has_room
    if len(candidates) == 0:
        return UnhousedCheck([], True, 0)
    # Edges are in (case, dwelling) order, so each case's candidates are one segment.
    case_of = problem.edge_case[candidates]
    starts = np.flatnonzero(np.append(True, case_of[1:] != case_of[:-1]))
    cases = case_of[starts]  # per segment
    del case_of
    kept = np.flatnonzero(assignment.kept)
    in_graph = assignment.kept.copy()
    in_graph[candidates] = True
    edges = _narrow(np.flatnonzero(in_graph), problem.edges)
    del in_graph
    active = np.unique(problem.edge_dwelling[edges])
    alternatives = assignment.alternatives
    forced: ForcedOptimum | None = None
    if not alternatives or any(capacity_tree(a.problem, active) is None for a in alternatives):
        if remaining(deadline) <= 0:
            # The variants and bounds below cost as much as a re-solve on a big table; with no
            # time left they could settle nothing before the first case that needs one.
            return UnhousedCheck([], False, 0)
        alternatives = _own_variants(problem, assignment, edges, active)
        if not alternatives:
            # No nested relaxation bounds the alternatives: the linear programs do
            # (`forced.py`), and the proposal's own split gives the witnesses.
            restriction, relaxed = _restriction(problem, assignment.edges, active)
            alternatives = [restriction]
            try:
                forced = ForcedOptimum(problem, edges, assignment.edges, assignment.count, deadline)
            except NotSettled:  # out of time, or HiGHS could not solve the proposal's LP
                return UnhousedCheck([], False, 0)
    found = [
        _variant_view(problem, alternative, edges, active, candidates, starts, proposal)
        for alternative in alternatives
    ]
    variants = [v for v in found if v is not None] if found and None not in found else []
    bounds = None
    priced = hooded = None
    repricing = _Repricing()
    if forced is not None:
        bounds = forced.score_bounds(candidates, starts)
        priced = _lagrangian_bounds(
            problem,
            forced,
            relaxed,
            assignment.count,
            edges,
            active,
            candidates,
            starts,
            kept=repricing,
        )
        if priced is not None:
            bounds = np.minimum(bounds, priced.bounds)
        hooded = _neighbourhood_bounds(
            problem, forced, assignment.edges, edges, active, candidates, starts
        )
        if hooded is not None:
            bounds = np.minimum(bounds, hooded.bounds)
        bounds = np.minimum(bounds, forced.shared_bounds(candidates, starts))
    result: list[BestAlternative] = []
    resolves = exact = 0
    last = 0.0  # seconds the previous exact re-solve took
    shared = None if forced is None else forced.shared_duals
    # Confirmed re-solves to let pass before the next repricing, and how many are left.
    reprice_gap = reprice_wait = 0
    # Straddlers left only relaxed variants to bound a case by (the split search's leaves, or
    # the proposal's split beside its relaxation): where their witnesses break a cap, the
    # linear programs settle the case before any per-pair re-solve (`forced.py`).
    lazy = forced is None and capacity_tree(problem, active) is None
    splits = None  # the straddlers over `active`, once a re-solve needs them
    keys = None  # `pair_keys(problem)`, once an alternative is looked up by its pairs
    for k, start in enumerate(starts.tolist()):
        case = int(cases[k])
        if until_case is not None and case > until_case:
            break
        reached = max((v.values[k] for v in variants), default=NONE)
        bound = reached if bounds is None else int(bounds[k])
        settled = None
        for variant in variants:
            if reached == NONE or variant.values[k] < bound:
                continue
            edge = int(variant.best_edge[k])
            moves = _witness(problem, variant, edge, proposal)
            if moves is not None:
                dwelling = int(problem.edge_dwelling[edge])
                settled = BestAlternative(case, dwelling, edge, assignment.count, reached, moves)
                break
        for flow in (priced, hooded):
            if settled is None and flow is not None and bound != NONE:
                keys = pair_keys(problem) if keys is None else keys
                witness = _priced_witness(problem, flow, k, assignment.count, bound, keys)
                if witness is not None:
                    pairs, edge, total = witness
                    moves = moves_between(proposal, pairs)
                    dwelling = int(problem.edge_dwelling[edge])
                    settled = BestAlternative(case, dwelling, edge, assignment.count, total, moves)
        if settled is None and lazy:
            lazy = False
            try:
                forced = ForcedOptimum(problem, edges, assignment.edges, assignment.count, deadline)
            except NotSettled:  # the per-pair re-solves below, each within the deadline
                forced = None
        if settled is None and forced is not None:
            if remaining(deadline) <= 0:
                return UnhousedCheck(result, False, resolves)
            resolves += 1
            # Only an exact variant's value is a real proposal housing as many and the case.
            reached = max((v.values[k] for v in variants if v.alternative.exact), default=NONE)
            keys = pair_keys(problem) if keys is None else keys
            known = (
                None if reached == NONE else _known(problem, variants, k, reached, proposal, keys)
            )
            try:
                found_case = forced.best_with_case(case, reached != NONE, known)
            except NotSettled:
                return UnhousedCheck(result, False, resolves)
            if bounds is not None and forced.shared_duals is not shared:
                # The re-solve's duals often certify the cases after it too (see
                # `ForcedOptimum.shared_bounds`).
                shared = forced.shared_duals
                bounds = np.minimum(bounds, forced.shared_bounds(candidates, starts))
                confirmed = _confirmed(found_case, assignment.count, reached)
                if priced is not None and confirmed and reprice_wait > 0:
                    reprice_wait -= 1
                elif priced is not None and confirmed:
                    # The re-solve only proved the known alternative, so the bounds were loose
                    # there; the Lagrangian bounds priced with its duals settle many of the
                    # cases after it (scattered complexes at 800 x 300: 27 re-solves -> 11).
                    repriced = _lagrangian_bounds(
                        problem,
                        forced,
                        relaxed,
                        assignment.count,
                        edges,
                        active,
                        candidates,
                        starts,
                        shared,
                        repricing,
                    )
                    if repriced is not None:
                        tighter = np.minimum(bounds, repriced.bounds)
                        # Each repricing costs about a re-solve (a weighted assignment over
                        # every edge), and late in the check most certify nothing new (3,000 x
                        # 1,000 scattered: 16 of the last 19), so after one that certifies no
                        # later case's reached value, the next ones are spaced out, doubling.
                        if _certifies(variants, bounds, tighter, k):
                            reprice_gap = 0
                        else:
                            reprice_gap = max(1, 2 * reprice_gap)
                        reprice_wait = reprice_gap
                        bounds = tighter
                        priced = repriced
            if found_case is not None:
                count, score, chosen = found_case
                # A split variant pays only where no variant reached this alternative: then
                # the cases after it likely need the same shift of a straddler's room.
                if splits is None:
                    splits = _Splits(_straddlers(problem, active))
                split = (
                    _split_variant(problem, chosen, kept, active, splits)
                    if count == assignment.count and score > reached
                    else None
                )
                view = (
                    None
                    if split is None
                    else _variant_view(problem, split, edges, active, candidates, starts, proposal)
                )
                if view is not None and len(view.alternative.solution) == count:
                    variants.append(view)
                edge = int(chosen[problem.edge_case[chosen] == case][0])
                moves = moves_between(proposal, pairs_of(problem, chosen))
                dwelling = int(problem.edge_dwelling[edge])
                settled = BestAlternative(case, dwelling, edge, count, score, moves)
        if settled is not None:
            result.append(settled)
            continue
        end = int(starts[k + 1]) if k + 1 < len(starts) else len(candidates)
        best: BestAlternative | None = None
        for edge in candidates[start:end].tolist():
            # Not begun when the previous re-solve would not have fitted (see
            # `tradeoffs.passed_over`).
            if exact >= resolve_limit or remaining(deadline) <= last:
                return UnhousedCheck(result, False, resolves)
            resolves += 1
            exact += 1
            started = time.monotonic()
            found_pair = solve_with_pair(problem, edge, deadline)
            last = time.monotonic() - started
            if found_pair is None:
                return UnhousedCheck(result, False, resolves)
            count, score, chosen = found_pair
            if best is None or (count, score) > (best.housed, best.total):
                moves = moves_between(proposal, pairs_of(problem, chosen))
                dwelling = int(problem.edge_dwelling[edge])
                best = BestAlternative(case, dwelling, edge, count, score, moves)
        assert best is not None
        result.append(best)
    return UnhousedCheck(result, True, resolves)
