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
    group = group.astype(np.int64, copy=False)
    top, bottom = int(score.max()), int(score.min())
    span = top - bottom + 1
    if (int(group.max()) + 1) * span < _KEY_LIMIT and int(group.min()) >= 0:
        key = group * span
        if np.issubdtype(score.dtype, np.integer):  # in place: a big table ranks millions
            key += top
            key -= score
        else:
            key = key + (top - score)
        order = np.argsort(key, kind="stable")
        del key
    else:
        order = np.lexsort((np.arange(count), -score, group))
    sorted_group = group[order]
    first = np.flatnonzero(np.append(True, sorted_group[1:] != sorted_group[:-1]))
    del sorted_group
    rank = np.arange(count)
    rank -= np.repeat(first, np.diff(np.append(first, count)))
    return order, rank


def top_within(group: np.ndarray, score: np.ndarray, limit: np.ndarray | int) -> np.ndarray:
    """Bool mask of the items among the best `limit` of their group (limit per item or one int)."""
    order, rank = order_within(group, score)
    keep = np.zeros(len(group), dtype=bool)
    bound = limit[order] if isinstance(limit, np.ndarray) else limit
    keep[order] = rank < bound
    return keep
