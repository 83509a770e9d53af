"""Deterministic ranking within groups: score descending, then position (which is id order)."""

import numpy as np

_KEY_LIMIT = 2**62


def order_within(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort items by (group asc, score desc, position asc); return (order, rank in group).

    `rank[k]` belongs to item `order[k]`. Callers keep items in id order, so equal scores rank by
    id. One combined integer key and a stable sort are several times faster than np.lexsort.
    """
    count = len(group)
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    group = group.astype(np.int64)
    top, bottom = int(score.max()), int(score.min())
    span = top - bottom + 1
    if (int(group.max()) + 1) * span < _KEY_LIMIT and int(group.min()) >= 0:
        order = np.argsort(group * span + (top - score), kind="stable")
    else:
        order = np.lexsort((np.arange(count), -score, group))
    sorted_group = group[order]
    start = np.ones(count, dtype=bool)
    start[1:] = sorted_group[1:] != sorted_group[:-1]
    index = np.arange(count)
    rank = index - np.maximum.accumulate(np.where(start, index, 0))
    return order, rank


def top_within(group: np.ndarray, score: np.ndarray, limit: np.ndarray | int) -> np.ndarray:
    """Bool mask of the items among the best `limit` of their group (limit per item or one int)."""
    order, rank = order_within(group, score)
    keep = np.zeros(len(group), dtype=bool)
    bound = limit[order] if isinstance(limit, np.ndarray) else limit
    keep[order] = rank < bound
    return keep
