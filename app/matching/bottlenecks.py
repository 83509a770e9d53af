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
from app.matching.rules import REASON_BIT, REASON_CODES

REASONS = len(REASON_CODES)


def reason_list(bits: int) -> list[str]:
    return [code for code in REASON_CODES if bits & REASON_BIT[code]]


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


def _set_order(bits: int) -> list[int]:
    return [r for r in range(REASONS) if bits >> r & 1]


def _nearest(lines: np.ndarray) -> list[tuple[list[str], int | None, list[str]]]:
    """Per line (a blocked case's row of the bitmask): (unblocked_by, min_reasons, closest set).

    Single-reason failures are counted for all lines at once: the reason index of a one-bit value
    v is popcount(v - 1).
    """
    count, width = lines.shape
    if width == 0:
        return [([], None, []) for _ in range(count)]
    sizes = np.bitwise_count(lines)
    fewest = sizes.min(axis=1)
    rows, cols = np.nonzero(sizes == 1)
    reason = np.bitwise_count(lines[rows, cols] - 1).astype(np.int64)
    singles = np.bincount(rows * REASONS + reason, minlength=count * REASONS)
    singles = singles.reshape(count, REASONS)
    result: list[tuple[list[str], int | None, list[str]]] = []
    for k in range(count):
        unblocked = [REASON_CODES[r] for r in np.flatnonzero(singles[k])]
        if fewest[k] == 1:
            closest = [REASON_CODES[int(np.argmax(singles[k]))]]
        else:
            values, counts = np.unique(lines[k][sizes[k] == fewest[k]], return_counts=True)
            best = min(
                zip(values.tolist(), counts.tolist(), strict=True),
                key=lambda vc: (-vc[1], _set_order(vc[0])),
            )[0]
            closest = reason_list(best)
        result.append((unblocked, int(fewest[k]), closest))
    return result


def find_bottlenecks(evaluation: Evaluation) -> Bottlenecks:
    """Blocked cases, per-reason totals, groups by the change that unblocks, idle dwellings."""
    mask, counts = evaluation.fail_mask, evaluation.case_reason_counts
    feasible = mask == 0
    blocked_rows = np.flatnonzero(~feasible.any(axis=1))
    blocked = [
        BlockedCase(evaluation.case_ids[i], excluded_counts(counts[i]), unblocked, fewest, closest)
        for i, (unblocked, fewest, closest) in zip(
            blocked_rows.tolist(), _nearest(mask[blocked_rows]), strict=True
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

    idle_cols = np.flatnonzero(~feasible.any(axis=0))
    idle = [
        DwellingWithoutCandidates(
            evaluation.dwelling_ids[j],
            excluded_counts(evaluation.dwelling_reason_counts[j]),
            unblocked,
            fewest,
        )
        for j, (unblocked, fewest, _) in zip(
            idle_cols.tolist(), _nearest(mask[:, idle_cols].T), strict=True
        )
    ]
    return Bottlenecks(blocked, by_reason, groups, idle)
