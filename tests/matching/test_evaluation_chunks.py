"""`evaluate` applies the rules a chunk of cases at a time and keeps only the feasible pairs,
the counts and the bottlenecks' summaries: in any chunk size it gives what one pass over the
whole cases x dwellings matrix gives."""

from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import evaluate, evaluation, find_bottlenecks
from app.matching.nearest import nearest
from tests.matching.strategies import tables
from tests.properties import examples


@settings(max_examples=examples(80))
@given(tables(max_cases=8, max_dwellings=6), st.integers(1, 30))
def test_evaluation_in_chunks_is_the_whole_matrix(table, cells_per_chunk):
    cases, dwellings, policy, limits, meeting, usage = table
    whole = evaluate(cases, dwellings, policy, limits, meeting, usage)
    with mock.patch.object(evaluation, "CELLS_PER_CHUNK", cells_per_chunk):
        chunked = evaluate(cases, dwellings, policy, limits, meeting, usage)
    mask = whole.fail_mask
    rows, cols = np.nonzero(mask == 0)
    for ev in (whole, chunked):
        assert np.array_equal(ev.pair_case, rows) and np.array_equal(ev.pair_dwelling, cols)
        assert np.array_equal(ev.pair_units, whole.score_matrix()[rows, cols])
        assert np.array_equal(ev.case_reason_counts, whole.case_reason_counts)
        assert np.array_equal(ev.dwelling_reason_counts, whole.dwelling_reason_counts)
        blocked = np.flatnonzero((mask != 0).all(axis=1))
        idle = np.flatnonzero((mask != 0).all(axis=0))
        assert np.array_equal(ev.blocked_cases, blocked)
        assert ev.blocked_nearest == nearest(mask[blocked])
        assert np.array_equal(ev.idle_dwellings, idle)
        assert ev.idle_nearest == nearest(mask[:, idle].T)
    assert find_bottlenecks(chunked) == find_bottlenecks(whole)
