"""One case's or one dwelling's whole candidate list, ranked as the agenda ranks it, without
solving the table: what a page fetches when the agenda's top `k` is not enough.

Feasibility and score are properties of the pair alone (the rules, the declines and the spread
usage of one case and one dwelling), so evaluating one row or one column of the table's matrix
gives exactly that row or column of `match`'s evaluation; the order is the agenda's (score
descending, then partner id, `ranking.order_within`), so the agenda's list is this list's head.
"""

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from app.matching.bottlenecks import excluded_counts_rows
from app.matching.evaluation import Evaluation, evaluate
from app.matching.ranking import order_within
from app.matching.results import (
    CaseCandidates,
    DwellingCandidates,
    RankedCase,
    RankedDwelling,
    ScoreComponent,
)
from app.matching.scoring import output_scores
from app.matching.types import (
    CaseProfile,
    Dwelling,
    EarlierDecline,
    Policy,
    SpreadUsage,
    YearLimits,
)


def _ranked(
    evaluation: Evaluation, row: np.ndarray, col: np.ndarray
) -> tuple[list[int], list[float], list[list[ScoreComponent]]]:
    """The feasible pairs among (row[k], col[k]) best first: (their indexes into row/col, the
    4-decimal scores, the components). `row`/`col` are in partner id order."""
    feasible = np.flatnonzero(evaluation.feasible[row, col])
    units = evaluation.units_of(row[feasible], col[feasible])
    order, _ = order_within(np.zeros(len(feasible), dtype=np.int64), units)
    chosen = feasible[order]
    parts = evaluation.components_of(row[chosen], col[chosen])
    indexes: list[int] = chosen.tolist()
    return indexes, output_scores(units[order]), parts


def case_candidates(
    case: CaseProfile,
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
    declines: Iterable[EarlierDecline] = (),
) -> CaseCandidates:
    """Every dwelling open to `case`, best first (as `match`'s `candidates_by_case` entry with
    no top-k cut), with the dwellings excluded per reason. Raises ValueError as `evaluate`."""
    ordered = sorted(dwellings, key=lambda d: d.id)
    evaluation = evaluate([case], ordered, policy, limits, meeting_date, usage, declines)
    cols = np.arange(len(ordered))
    chosen, scores, parts = _ranked(evaluation, np.zeros(len(ordered), dtype=np.int64), cols)
    ranked = [
        RankedDwelling(ordered[j].id, score, part)
        for j, score, part in zip(chosen, scores, parts, strict=True)
    ]
    excluded = excluded_counts_rows(evaluation.case_reason_counts)[0]
    return CaseCandidates(case.id, len(ranked), ranked, excluded)


def dwelling_candidates(
    dwelling: Dwelling,
    cases: Sequence[CaseProfile],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
    declines: Iterable[EarlierDecline] = (),
) -> DwellingCandidates:
    """Every case `dwelling` is open to, best first (as `match`'s `candidates_by_dwelling`
    entry with no top-k cut), with the cases excluded per reason."""
    ordered = sorted(cases, key=lambda c: c.id)
    evaluation = evaluate(ordered, [dwelling], policy, limits, meeting_date, usage, declines)
    rows = np.arange(len(ordered))
    chosen, scores, parts = _ranked(evaluation, rows, np.zeros(len(ordered), dtype=np.int64))
    ranked = [
        RankedCase(ordered[i].id, score, part)
        for i, score, part in zip(chosen, scores, parts, strict=True)
    ]
    excluded = excluded_counts_rows(evaluation.dwelling_reason_counts)[0]
    return DwellingCandidates(dwelling.id, len(ranked), ranked, excluded)
