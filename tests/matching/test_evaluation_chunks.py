"""`evaluate` applies the rules a chunk of cases at a time and keeps only the feasible pairs,
the counts and the bottlenecks' summaries: in any chunk size it gives what one pass over the
whole cases x dwellings matrix gives."""

from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import evaluate, evaluation, failures, find_bottlenecks
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


@settings(max_examples=examples(80))
@given(st.integers(0, 2**32 - 1))
def test_a_failure_block_marks_exactly_its_cells_and_counts_them(seed):
    """`FailureMatrix.fail` writes blocks of any shape (a few columns cell by cell, more as
    whole rows, the rows in slices): the mask gets the bit on the block's cells only, the
    other bits stay, and the counts are the block's (one block per reason, as the rules'
    blocks never overlap)."""
    rng = np.random.default_rng(seed)
    cases, dwellings = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    matrix = failures.FailureMatrix(cases, dwellings, 6)
    expected = np.zeros((cases, dwellings), dtype=np.int32)
    with mock.patch.object(failures, "ROWS_PER_PASS", int(rng.integers(1, 8))):
        for r in rng.permutation(6).tolist():
            case_rows = rng.random(cases) < rng.uniform(0, 1)
            dwelling_cols = rng.random(dwellings) < rng.uniform(0, 1)
            if rng.random() < 0.2:  # a rule on the case alone, or the dwelling alone
                (case_rows if rng.random() < 0.5 else dwelling_cols)[:] = True
            matrix.fail(r, case_rows, dwelling_cols)
            expected |= np.where(np.outer(case_rows, dwelling_cols), np.int32(1 << r), 0)
    matrix.finish()
    assert np.array_equal(matrix.mask, expected)
    for r in range(6):
        cells = (expected & (1 << r)) != 0
        assert np.array_equal(matrix.case_counts[:, r], cells.sum(axis=1))
        assert np.array_equal(matrix.dwelling_counts[:, r], cells.sum(axis=0))
