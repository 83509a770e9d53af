"""The left-unhoused check's shortest paths and cap checks against their plain definitions: the
faster forms must name the very same paths and answers (the alternative named among equally
good ones follows them)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.solver import AssignmentProblem
from app.matching.unhoused import UNREACHABLE, _CapsUse, _keeps_caps, distances_to_source
from tests.properties import examples


def round_by_round(
    src: np.ndarray, dst: np.ndarray, cost: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Bellman-Ford in rounds from the previous round's distances; a node whose distance drops
    takes as next hop the head of its first arc (in arc order) offering the new distance. None
    on a negative cycle."""
    dist = [UNREACHABLE] * size
    dist[0] = 0
    next_hop = [-1] * size
    for _ in range(size + 1):
        offers: dict[int, tuple[int, int]] = {}
        for tail, head, c in zip(src.tolist(), dst.tolist(), cost.tolist(), strict=True):
            if dist[head] == UNREACHABLE:
                continue
            offer = dist[head] + c
            if tail not in offers or offer < offers[tail][0]:
                offers[tail] = (offer, head)
        improved = {n: o for n, o in offers.items() if o[0] < dist[n]}
        if not improved:
            return np.array(dist), np.array(next_hop)
        for node, (offer, head) in improved.items():
            dist[node], next_hop[node] = offer, head
    return None


@st.composite
def graphs(draw) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Up to 9 nodes, each (from, to) at most once, costs with many ties and zeros; half of them
    from node potentials (no negative cycle), half free (negative cycles too)."""
    size = draw(st.integers(2, 9))
    arcs = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
                lambda a: a[0] != a[1]
            ),
            unique=True,
            max_size=30,
        )
    )
    src = np.array([a for a, _ in arcs], dtype=np.int64)
    dst = np.array([b for _, b in arcs], dtype=np.int64)
    if draw(st.booleans()):
        potential = np.array(draw(st.lists(st.integers(-3, 3), min_size=size, max_size=size)))
        extra = np.array(draw(st.lists(st.integers(0, 2), min_size=len(arcs), max_size=len(arcs))))
        cost = (extra + potential[src] - potential[dst]).astype(np.int64)
    else:
        cost = np.array(
            draw(st.lists(st.integers(-2, 3), min_size=len(arcs), max_size=len(arcs))),
            dtype=np.int64,
        )
    return src, dst, cost, size


@settings(max_examples=examples(400), deadline=None)
@given(graphs())
def test_shortest_paths_to_the_source_take_the_round_by_round_next_hops(graph) -> None:  # type: ignore[no-untyped-def]
    expected = round_by_round(*graph)
    try:
        dist, next_hop = distances_to_source(*graph)
    except RuntimeError:
        assert expected is None, "a negative cycle was reported where there is none"
        return
    assert expected is not None, "a negative cycle went unreported"
    assert dist.tolist() == expected[0].tolist()
    assert next_hop.tolist() == expected[1].tolist()


@st.composite
def moved_assignments(draw) -> tuple[AssignmentProblem, dict[int, int], dict[int, int | None]]:
    """A few dwellings in complexes and neighbourhoods with small rooms, an assignment (possibly
    over a room already) and moves: cases leaving, arriving or changing dwelling."""
    n_dwellings = draw(st.integers(1, 7))
    n_complexes, n_hoods = draw(st.integers(1, 3)), draw(st.integers(1, 3))

    def ints(top: int, count: int) -> np.ndarray:
        return np.array(draw(st.lists(st.integers(0, top), min_size=count, max_size=count)))

    problem = AssignmentProblem(
        n_cases=6,
        n_dwellings=n_dwellings,
        edge_case=np.zeros(0, dtype=np.int64),
        edge_dwelling=np.zeros(0, dtype=np.int64),
        edge_score=np.zeros(0, dtype=np.int64),
        complex_of=ints(n_complexes - 1, n_dwellings),
        neighbourhood_of=ints(n_hoods - 1, n_dwellings),
        complex_room=ints(2, n_complexes),
        neighbourhood_room=ints(2, n_hoods),
    )
    dwelling = st.integers(0, n_dwellings - 1)
    pairs = draw(st.dictionaries(st.integers(0, 5), dwelling, max_size=5))
    moves = draw(st.dictionaries(st.integers(0, 5), st.none() | dwelling, max_size=4))
    return problem, pairs, moves


@settings(max_examples=examples(400), deadline=None)
@given(moved_assignments())
def test_caps_checked_on_the_moved_groups_agree_with_counting_them_all(drawn) -> None:  # type: ignore[no-untyped-def]
    problem, pairs, moves = drawn
    after = dict(pairs)
    for case, dwelling in moves.items():
        if dwelling is None:
            after.pop(case, None)
        else:
            after[case] = dwelling
    use = _CapsUse.of(problem, list(pairs.values()))
    assert use.keeps_caps_after(pairs, moves) == _keeps_caps(problem, list(after.values()))
