"""All pairs at once (`evaluate`) and one pair explained (`explain_pair`)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.matching import scoring
from app.matching.declines import decline_index
from app.matching.facts import case_facts, check_limits, prepare, test_rent
from app.matching.failures import failure_matrix, rule_failures
from app.matching.results import PairExplanation, ScoreComponent
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


@dataclass(frozen=True, slots=True, eq=False)
class Evaluation:
    """Rules and scores of every case x dwelling pair, rows and columns in input order.

    `fail_mask[i, j]` has bit r set when REASON_CODES[r] fails. The feasible pairs are
    (`pair_case[k]`, `pair_dwelling[k]`), in case order then dwelling order (int64 indexes), with
    their scores in integer micro-points `pair_units[k]`: sparse, so a big table holds one score
    per feasible pair rather than a cases x dwellings matrix of them. `case_reason_counts[i, r]`
    is the number of dwellings for which case i fails REASON_CODES[r]; `dwelling_reason_counts[j,
    r]` the number of cases for which dwelling j fails it.
    """

    case_ids: tuple[str, ...]
    dwelling_ids: tuple[str, ...]
    fail_mask: np.ndarray
    pair_case: np.ndarray
    pair_dwelling: np.ndarray
    pair_units: np.ndarray
    case_reason_counts: np.ndarray
    dwelling_reason_counts: np.ndarray
    columns: scoring.ScoreColumns
    weights: tuple[float, ...]

    @property
    def feasible(self) -> np.ndarray:
        feasible: np.ndarray = self.fail_mask == 0  # numpy types this comparison Any
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
        matrix = np.zeros(self.fail_mask.shape, dtype=np.int64)
        matrix[self.pair_case, self.pair_dwelling] = self.pair_units
        return matrix

    def case_index(self, case_id: str) -> int:
        return self.case_ids.index(case_id)

    def dwelling_index(self, dwelling_id: str) -> int:
        return self.dwelling_ids.index(dwelling_id)

    def reasons(self, i: int, j: int) -> list[str]:
        """Failing reason codes of pair (i, j) in REASON_CODES order."""
        bits = int(self.fail_mask[i, j])
        return [code for r, code in enumerate(REASON_CODES) if bits >> r & 1]

    def score(self, i: int, j: int) -> float | None:
        """The 4-decimal score of a feasible pair, None if it is infeasible."""
        if self.fail_mask[i, j]:
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
    failures = failure_matrix(cases, dwellings, policy, meeting_date, usage, prepared, index)
    mask = failures.mask
    columns = scoring.score_columns(cases, dwellings, prepared, meeting_date)
    rows, cols = (index.astype(np.int64, copy=False) for index in np.nonzero(mask == 0))
    return Evaluation(
        case_ids,
        dwelling_ids,
        mask,
        rows,
        cols,
        scoring.pair_units(columns, rows, cols, weights),
        failures.case_counts,
        failures.dwelling_counts,
        columns,
        weights,
    )


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
