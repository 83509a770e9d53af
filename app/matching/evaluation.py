"""All pairs at once (`evaluate`) and one pair explained (`explain_pair`)."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.matching import scoring
from app.matching.declines import decline_index
from app.matching.facts import case_facts, check_limits, prepare, test_rent
from app.matching.failures import batch_failures, rule_failures
from app.matching.nearest import Nearest, nearest
from app.matching.results import PairExplanation, RuleFailure, ScoreComponent
from app.matching.rule_base import Batch
from app.matching.rules import REASON_CODES
from app.matching.types import (
    CaseProfile,
    Dwelling,
    EarlierDecline,
    Policy,
    SpreadUsage,
    YearLimits,
)
from app.matching.units import output_score

CELLS_PER_CHUNK = 1 << 23
"""`evaluate` applies the rules to this many cells (cases x dwellings) at a time: the failure
bitmask of a chunk (4 bytes a cell) is dropped once its feasible pairs and counts are taken, so a
table's memory grows with its feasible pairs, not with its cells (a whole 16,000 x 5,333 mask
would be 340 MB)."""


@dataclass(frozen=True, slots=True, eq=False)
class Evaluation:
    """Rules and scores of every case x dwelling pair, rows and columns in input order.

    The feasible pairs are (`pair_case[k]`, `pair_dwelling[k]`), in case order then dwelling
    order (`INDEX_DTYPE` indexes: int32, as no table has 2**31 cases or dwellings), with their
    scores in integer micro-points `pair_units[k]` (int64): sparse, so a big table holds what
    its feasible pairs need, not a cases x dwellings matrix. Code that combines two indexes into
    one key (case * dwellings + dwelling) widens them to int64 first.
    `case_reason_counts[i, r]` is the number of dwellings for which case i fails
    REASON_CODES[r]; `dwelling_reason_counts[j, r]` the number of cases for which dwelling j
    fails it. The failure bits (bit r when REASON_CODES[r] fails) are not kept: the
    bottlenecks' summaries of them (`nearest.nearest`) are, for the blocked cases
    (`blocked_cases`: no feasible dwelling) and the dwellings without candidates
    (`idle_dwellings`); `reasons` and `fail_mask` decide the bits again from `batch`.
    """

    case_ids: tuple[str, ...]
    dwelling_ids: tuple[str, ...]
    pair_case: np.ndarray
    pair_dwelling: np.ndarray
    pair_units: np.ndarray
    case_reason_counts: np.ndarray
    dwelling_reason_counts: np.ndarray
    blocked_cases: np.ndarray  # (B,) case indexes
    blocked_nearest: list[Nearest]  # per blocked case
    idle_dwellings: np.ndarray  # (I,) dwelling indexes
    idle_nearest: list[Nearest]  # per idle dwelling
    columns: scoring.ScoreColumns
    weights: tuple[float, ...]
    batch: Batch

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.case_ids), len(self.dwelling_ids)

    @property
    def fail_mask(self) -> np.ndarray:
        """The whole (cases x dwellings) int32 failure bitmask, decided again on each call:
        dense, for small tables and checks, not for the agenda's path."""
        return batch_failures(self.batch).mask

    @property
    def feasible(self) -> np.ndarray:
        """Dense (cases x dwellings) bool: for small tables and checks."""
        feasible = np.zeros(self.shape, dtype=bool)
        feasible[self.pair_case, self.pair_dwelling] = True
        return feasible

    @property
    def feasible_pairs(self) -> int:
        return len(self.pair_units)

    def units_of(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Score in micro-points of the pairs (rows[k], cols[k]) as if they were feasible: the
        same figures as `pair_units` (the same elementwise expression)."""
        return scoring.pair_units(self.columns, rows, cols, self.weights)

    def score_matrix(self) -> np.ndarray:
        """The (cases x dwellings) int64 matrix of scores in micro-points, 0 where a pair is
        infeasible. Dense: for small tables and checks, not for the agenda's path."""
        matrix = np.zeros(self.shape, dtype=np.int64)
        matrix[self.pair_case, self.pair_dwelling] = self.pair_units
        return matrix

    def bits(self, i: int, j: int) -> int:
        """The failure bits of pair (i, j), decided on that pair alone (as in the whole)."""
        part = batch_failures(self.batch.part(np.array([i]), np.array([j])))
        return int(part.mask[0, 0])

    def case_index(self, case_id: str) -> int:
        return self.case_ids.index(case_id)

    def dwelling_index(self, dwelling_id: str) -> int:
        return self.dwelling_ids.index(dwelling_id)

    def reasons(self, i: int, j: int) -> list[str]:
        """Failing reason codes of pair (i, j) in REASON_CODES order."""
        bits = self.bits(i, j)
        return [code for r, code in enumerate(REASON_CODES) if bits >> r & 1]

    def score(self, i: int, j: int) -> float | None:
        """The 4-decimal score of a feasible pair, None if it is infeasible."""
        if self.bits(i, j):
            return None
        return output_score(int(self.units_of(np.array([i]), np.array([j]))[0]))

    def components(self, i: int, j: int) -> list[ScoreComponent]:
        """Score components of pair (i, j), as if it were feasible."""
        values = scoring.pair_values(self.columns, np.array([i]), np.array([j]))
        return scoring.components([v.tolist()[0] for v in values], self.weights)

    def components_of(self, rows: np.ndarray, cols: np.ndarray) -> list[list[ScoreComponent]]:
        """Score components of many pairs at once (for candidate lists): equal to `components`
        pair by pair, with equal components shared (`scoring.shared_components`)."""
        return scoring.shared_components(self.columns, rows, cols, self.weights)


def _check_unique(ids: Sequence[str], kind: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"{kind} ids must be unique")


def evaluate(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
    declines: Iterable[EarlierDecline] = (),
) -> Evaluation:
    """Apply every hard rule and score every pair, vectorised over the cases x dwellings matrix.

    `declines`: earlier declines of pairs (see `declines.py`); declines of cases or dwellings not
    given are ignored, except that a widened corporation decline still applies to the case.
    """
    usage = usage or SpreadUsage()
    case_ids = tuple(c.id for c in cases)
    dwelling_ids = tuple(d.id for d in dwellings)
    _check_unique(case_ids, "case")
    _check_unique(dwelling_ids, "dwelling")
    weights = scoring.weight_values(policy.weights)
    prepared = prepare(cases, dwellings, policy, limits, meeting_date)
    index = decline_index(declines, policy, meeting_date)
    batch = Batch(cases, dwellings, policy, meeting_date, usage, prepared, index)
    columns = scoring.score_columns(cases, dwellings, prepared, meeting_date)
    n_cases, n_dwellings = len(cases), len(dwellings)
    case_counts = np.zeros((n_cases, len(REASON_CODES)), dtype=np.int64)
    dwelling_counts = np.zeros((n_dwellings, len(REASON_CODES)), dtype=np.int64)
    rows, cols, blocked = [], [], []
    blocked_nearest: list[Nearest] = []
    single: np.ndarray | None = None
    every_dwelling = np.arange(n_dwellings)
    step = max(1, CELLS_PER_CHUNK // max(n_dwellings, 1))
    for start in range(0, n_cases, step):
        chunk = np.arange(start, min(start + step, n_cases))
        whole = len(chunk) == n_cases
        failures = batch_failures(batch if whole else batch.part(chunk, every_dwelling))
        feasible = failures.mask == 0
        chunk_rows, chunk_cols = np.nonzero(feasible)
        # Narrowed per chunk, so the joined indexes never exist as int64 (half the memory).
        rows.append(_narrow(chunk_rows + start))
        cols.append(_narrow(chunk_cols))
        del chunk_rows, chunk_cols
        case_counts[chunk] = failures.case_counts
        dwelling_counts += failures.dwelling_counts
        none = np.flatnonzero(~feasible.any(axis=1))
        blocked.append(none + start)
        blocked_nearest += nearest(failures.mask[none])
        if whole:  # one chunk (most tables): the idle dwellings' columns are in its mask
            single = failures.mask
    pair_case = _joined(rows)
    pair_dwelling = _joined(cols)
    del rows, cols  # the chunks' parts, as big as the joined arrays
    idle = np.flatnonzero(np.bincount(pair_dwelling, minlength=n_dwellings) == 0)
    # The columns of the dwellings nobody fits; over several chunks, decided again over every
    # case.
    idle_nearest: list[Nearest] = [] if single is None else nearest(single[:, idle].T)
    step = max(1, CELLS_PER_CHUNK // max(n_cases, 1))
    for start in range(0, len(idle) if single is None else 0, step):
        chunk = idle[start : start + step]
        part = batch_failures(batch.part(np.arange(n_cases), chunk))
        idle_nearest += nearest(part.mask.T)
    return Evaluation(
        case_ids,
        dwelling_ids,
        pair_case,
        pair_dwelling,
        scoring.pair_units(columns, pair_case, pair_dwelling, weights),
        case_counts,
        dwelling_counts,
        _joined(blocked),
        blocked_nearest,
        idle,
        idle_nearest,
        columns,
        weights,
        batch,
    )


INDEX_DTYPE = np.int32
"""The dtype of the feasible pairs' case and dwelling indexes: 4 bytes a pair instead of 8 on
each, which is a third of a big table's pair arrays (16,000 x 4,000 has 6.6 million pairs)."""


def _narrow(indexes: np.ndarray) -> np.ndarray:
    if len(indexes) and int(indexes.max()) > np.iinfo(INDEX_DTYPE).max:
        raise ValueError("a table is limited to 2**31 - 1 cases and dwellings")
    return indexes.astype(INDEX_DTYPE)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """Index arrays end to end, as `INDEX_DTYPE` (empty when there are none)."""
    if not parts:
        return np.zeros(0, dtype=INDEX_DTYPE)
    return np.concatenate(parts).astype(INDEX_DTYPE, copy=False)


def explain_pair(
    case: CaseProfile,
    dwelling: Dwelling,
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
    declines: Iterable[EarlierDecline] = (),
) -> PairExplanation:
    """Every failing rule with the figures that decided it, or the score and its components.

    `evaluate`'s rules for one pair on its own (the same loop, `failures.rule_failures`): it
    knows nothing of the other cases and dwellings, so it cannot say whether the pair is
    proposed (see `whynot.explain_in_agenda`).
    """
    usage = usage or SpreadUsage()
    check_limits(limits)
    facts = case_facts(case, policy, limits, meeting_date)
    index = decline_index(declines, policy, meeting_date)
    failures = rule_failures(case, dwelling, policy, limits, meeting_date, usage, facts, index)
    if failures:
        return PairExplanation(case.id, dwelling.id, False, failures, None, None)
    weights = scoring.weight_values(policy.weights)
    rent, _ = test_rent(dwelling, limits)
    values = scoring.component_values(case, dwelling, facts, rent, meeting_date)
    score = output_score(scoring.score_units(values, weights))
    return PairExplanation(
        case.id, dwelling.id, True, [], score, scoring.components(values, weights)
    )


def pair_failures(
    case: CaseProfile,
    dwelling: Dwelling,
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    only: Collection[str],
) -> list[RuleFailure]:
    """`explain_pair`'s failures among the rules `only` (the same loop, on those rules alone),
    without the other rules or a score: for a check that reads a few rules of every case saved
    (`app.registry.intake`)."""
    check_limits(limits)
    facts = case_facts(case, policy, limits, meeting_date)
    index = decline_index((), policy, meeting_date)
    usage = SpreadUsage()
    return rule_failures(
        case, dwelling, policy, limits, meeting_date, usage, facts, index, only=only
    )
