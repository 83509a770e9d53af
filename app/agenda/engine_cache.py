"""The engine's recent results in this process, keyed by a digest of everything they are
computed from, so the pages of one agenda (and a publish of the same inputs and `candidates`
right after them) compute it once.

Why: a big city's agenda is read a page at a time (30 pages at the default `limit`), and every
page computed the whole agenda again (0.6-0.9 s each). Worse, where complexes straddle
neighbourhoods the explanations stop at a wall-clock share of the time budget, so two
computations of the same inputs could cut them at different places, and the next page's cursor
was refused as `agenda_changed` although nothing had changed. From the cache the pages of one
agenda come from one computation.

What is not cached: nothing is shared between processes (each replica computes its own; the
cursor still catches a replica whose cut differed), and the cache holds no decision: the key
covers the rows, policy, legal limits, remembered declines, spread usage, `top_k` and the time
budget, so any change to them is a new key. Results are immutable (`matching.results`); a big
city's holds about 7 MB, so the cache keeps at most `SIZE` of them.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import pydantic_core

from app import matching

SIZE = 16
"""Results kept per process, least recently used dropped first (a big city's: about 7 MB)."""

_results: "OrderedDict[bytes, matching.MatchResult]" = OrderedDict()
_lock = threading.Lock()  # guards the dict only; two threads may compute the same key at once


def digest(value: object, size: int = 32) -> bytes:
    """A `size`-byte digest of `value` (rows, models, dates, numbers) as JSON: the same in every
    process (no salted `hash()`)."""
    return hashlib.blake2b(pydantic_core.to_json(value, fallback=repr), digest_size=size).digest()


def cached(key: bytes, compute: Callable[[], matching.MatchResult]) -> matching.MatchResult:
    """The result kept under `key`, or `compute()` kept under it."""
    with _lock:
        found = _results.get(key)
        if found is not None:
            _results.move_to_end(key)
            return found
    result = compute()
    with _lock:
        _results[key] = result
        _results.move_to_end(key)
        while len(_results) > SIZE:
            _results.popitem(last=False)
    return result


def clear() -> None:
    """Forget every result (tests that count computations)."""
    with _lock:
        _results.clear()
