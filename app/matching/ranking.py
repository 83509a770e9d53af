"""Deterministic ranking within groups: score descending, then position (which is id order)."""

from dataclasses import dataclass

import numpy as np

_KEY_LIMIT = 2**62


def order_within(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort items by (group asc, score desc, position asc); return (order, rank in group).
    The rank is int32 when there are fewer than 2**31 items.

    `rank[k]` belongs to item `order[k]`. Callers keep items in id order, so equal scores rank by
    id. One combined integer key and a stable sort are several times faster than np.lexsort.
    """
    count = len(group)
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    top, bottom = int(score.max()), int(score.min())
    span = top - bottom + 1
    if (int(group.max()) + 1) * span < _KEY_LIMIT and int(group.min()) >= 0:
        key = group.astype(np.int64)  # a copy, so the key is built in it in place
        key *= span
        if np.issubdtype(score.dtype, np.integer):  # in place: a big table ranks millions
            key += top
            key -= score
        else:
            key = key + (top - score)
        order = _stable_order(key, group)
        del key
    else:
        order = np.lexsort((np.arange(count), -score, group))
    return order, _ranks(group[order])


def _ranks(sorted_group: np.ndarray) -> np.ndarray:
    """Each item's rank within its group, the items in group order (`sorted_group`)."""
    count = len(sorted_group)
    if count == 0:
        return np.zeros(0, dtype=np.int32)
    new_group = sorted_group[1:] != sorted_group[:-1]
    # Ranks and group starts as int32 where they fit: a big table ranks millions of items in
    # millions of groups, and these, with the limits compared with the ranks, are its biggest
    # arrays after the sort.
    index = np.int32 if count < 2**31 else np.int64
    first = np.flatnonzero(np.append(True, new_group)).astype(index)
    del new_group
    # Each item's group start: the last start at or before it (starts ascend), without
    # np.repeat's int64 copy of the counts.
    start_of = np.zeros(count, dtype=index)
    start_of[first] = first
    del first
    np.maximum.accumulate(start_of, out=start_of)
    rank: np.ndarray = np.arange(count, dtype=index)
    rank -= start_of
    return rank


def _stable_order(key: np.ndarray, group: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable") where key ascends with group (equal keys share a group).

    Why: NumPy's stable sort of int64 is a merge sort that runs far faster on items already in
    group order; the engine's edges are in case order, so per dwelling they are scattered. A
    stable 16-bit sort of the groups first (a radix sort, linear) puts them in group order and
    keeps position order within each group, so the second sort's ties stay in position order:
    the same order, with the ranking per dwelling of the big city's 300,000 edges taking 29
    instead of 37-41 ms."""
    if len(group) < 2 or int(group.max()) > np.iinfo(np.uint16).max:
        return np.argsort(key, kind="stable")
    if bool(np.all(group[1:] >= group[:-1])):
        return np.argsort(key, kind="stable")
    by_group = np.argsort(group.astype(np.uint16), kind="stable")
    order: np.ndarray = by_group[np.argsort(key[by_group], kind="stable")]
    return order


def top_within(group: np.ndarray, score: np.ndarray, limit: np.ndarray | int) -> np.ndarray:
    """Bool mask of the items among the best `limit` of their group (limit per item or one int)."""
    return Ranking.of(group, score).top(limit)


@dataclass(frozen=True, slots=True, eq=False)
class Ranking:
    """`order_within(group, score)` kept: the best `limit` of each group for other limits, or
    among other subsets of the same items, without sorting again.

    Why: the unhoused check prunes one problem per split of the straddling complexes it
    reaches (`unhoused._split_variant`), on the same edges with the same scores and groups;
    only the rooms differ, and the sorts were a fifth of the check at 3,000 x 1,000."""

    group: np.ndarray
    order: np.ndarray
    rank: np.ndarray

    @classmethod
    def of(cls, group: np.ndarray, score: np.ndarray) -> "Ranking":
        order, rank = order_within(group, score)
        return cls(group, order, rank)

    def top(self, limit: np.ndarray | int, among: np.ndarray | None = None) -> np.ndarray:
        """`top_within(group, score, limit)`; with `among` (a bool mask of the items) the
        same among those items only (the others False): as `top_within` on the items of
        `among`, their relative order kept, so ties still rank by position."""
        order, rank = self.order, self.rank
        if among is not None:
            order = order[among[order]]
            rank = _ranks(self.group[order])
        keep = np.zeros(len(self.group), dtype=bool)
        bound = limit[order] if isinstance(limit, np.ndarray) else limit
        keep[order] = rank < bound
        return keep
