"""Why cases find no dwelling (and dwellings no case), and which single change would help most.

A blocked case is one with no feasible dwelling at all. For it, `unblocked_by` lists the reasons
r such that some dwelling fails on r alone: waiving r opens that dwelling. Cases that no single
reason unblocks are grouped by the reason set their closest dwellings (fewest failing reasons)
most often share. Ties between reason sets go to the one earliest in REASON_CODES order.

The spread caps (`complex_cap_reached`, `neighbourhood_cap_reached`) are counted like any other
reason. They are hard rules with their own codes, and leaving them out would show a case blocked
only by a full complex as blocked by nothing; a table that reads "5 cases blocked only by
complex_cap_reached" learns that its spreading policy, not the case file, is what holds them.
"""

from itertools import pairwise
from typing import Literal

import numpy as np

from app.matching.evaluation import Evaluation
from app.matching.results import (
    BlockedCase,
    BottleneckGroup,
    Bottlenecks,
    DwellingWithoutCandidates,
    ReasonBottleneck,
)
from app.matching.rules import REASON_CODES


def excluded_counts(counts: np.ndarray) -> dict[str, int]:
    """Reason -> number excluded for it, in REASON_CODES order, zero counts left out."""
    return {code: n for code, n in zip(REASON_CODES, counts.tolist(), strict=True) if n}


def excluded_counts_rows(counts: np.ndarray) -> list[dict[str, int]]:
    """`excluded_counts` of every row of a (rows, REASON_CODES) count matrix, in one pass."""
    rows, cols = np.nonzero(counts)
    codes = np.array(REASON_CODES, dtype=object)[cols].tolist()
    values = counts[rows, cols].tolist()
    bounds = np.searchsorted(rows, np.arange(counts.shape[0] + 1)).tolist()
    return [
        dict(zip(codes[start:end], values[start:end], strict=True))
        for start, end in pairwise(bounds)
    ]


def find_bottlenecks(evaluation: Evaluation) -> Bottlenecks:
    """Blocked cases, per-reason totals, groups by the change that unblocks, idle dwellings."""
    counts = evaluation.case_reason_counts
    blocked_rows = evaluation.blocked_cases
    blocked = [
        BlockedCase(evaluation.case_ids[i], excluded_counts(counts[i]), unblocked, fewest, closest)
        for i, (unblocked, fewest, closest, _) in zip(
            blocked_rows.tolist(), evaluation.blocked_nearest, strict=True
        )
    ]

    failing = np.count_nonzero(counts[blocked_rows], axis=0)
    by_reason = []
    for r, code in enumerate(REASON_CODES):
        if failing[r]:
            only = [b.case_id for b in blocked if code in b.unblocked_by]
            by_reason.append(ReasonBottleneck(code, len(only), only, int(failing[r])))
    by_reason.sort(key=lambda b: (-b.cases_blocked_only_by, -b.blocked_cases_failing))

    grouped: dict[tuple[tuple[str, ...], Literal["any", "all"]], list[str]] = {}
    for b in blocked:
        key: tuple[tuple[str, ...], Literal["any", "all"]] = (
            (tuple(b.unblocked_by), "any") if b.unblocked_by else (tuple(b.closest_reasons), "all")
        )
        grouped.setdefault(key, []).append(b.case_id)
    groups = [
        BottleneckGroup(list(reasons), waive, len(ids), ids)
        for (reasons, waive), ids in grouped.items()
    ]
    groups.sort(
        key=lambda g: (-g.count, g.waive != "any", [REASON_CODES.index(c) for c in g.reasons])
    )

    idle = [
        DwellingWithoutCandidates(
            evaluation.dwelling_ids[j],
            excluded_counts(evaluation.dwelling_reason_counts[j]),
            unblocked,
            fewest,
            rarest,
        )
        for j, (unblocked, fewest, _, rarest) in zip(
            evaluation.idle_dwellings.tolist(), evaluation.idle_nearest, strict=True
        )
    ]
    return Bottlenecks(blocked, by_reason, groups, idle)
