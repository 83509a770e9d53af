"""Per line of failure bits (a blocked case's row, or an idle dwelling's column): which single
reasons would open a pair, the fewest reasons a pair fails, and the reason set its closest pairs
most often share (see `app.matching.bottlenecks`). Lines are independent, so `evaluate` reads
them chunk by chunk and keeps only these summaries, never the whole bitmask."""

import numpy as np

from app.matching.rules import REASON_BIT, REASON_CODES

REASONS = len(REASON_CODES)

Nearest = tuple[list[str], int | None, list[str], int | None]
"""(unblocked_by, the fewest failing reasons of a pair (None: no pairs), the closest set, the
fewest partners one reason of unblocked_by alone keeps out (None: unblocked_by is empty))."""


def reason_list(bits: int) -> list[str]:
    return [code for code in REASON_CODES if bits & REASON_BIT[code]]


def _set_order(bits: int) -> list[int]:
    return [r for r in range(REASONS) if bits >> r & 1]


def nearest(lines: np.ndarray) -> list[Nearest]:
    """Per line (a blocked case's row of the bitmask): (unblocked_by, min_reasons, closest set,
    the fewest partners a reason of unblocked_by alone keeps out).

    Single-reason failures are counted for all lines at once: the reason index of a one-bit value
    v is popcount(v - 1).
    """
    count, width = lines.shape
    if width == 0:
        return [([], None, [], None) for _ in range(count)]
    sizes = np.bitwise_count(lines)
    fewest = sizes.min(axis=1)
    rows, cols = np.nonzero(sizes == 1)
    reason = np.bitwise_count(lines[rows, cols] - 1).astype(np.int64)
    singles = np.bincount(rows * REASONS + reason, minlength=count * REASONS)
    singles = singles.reshape(count, REASONS)
    result: list[Nearest] = []
    for k in range(count):
        alone = np.flatnonzero(singles[k])
        unblocked = [REASON_CODES[r] for r in alone]
        rarest = int(singles[k][alone].min()) if alone.size else None
        if fewest[k] == 1:
            closest = [REASON_CODES[int(np.argmax(singles[k]))]]
        else:
            values, counts = np.unique(lines[k][sizes[k] == fewest[k]], return_counts=True)
            best = min(
                zip(values.tolist(), counts.tolist(), strict=True),
                key=lambda vc: (-vc[1], _set_order(vc[0])),
            )[0]
            closest = reason_list(best)
        result.append((unblocked, int(fewest[k]), closest, rarest))
    return result
