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
city's holds about 7 MB, and a result's memory goes with its cases and dwellings, so the cache
keeps results up to `BUDGET` cases and dwellings together (16 big cities, or every table of the
country at once) and at most `SIZE` of them. By count alone (16) a process serving the country's
44 tables computed every table's agenda again on each read. With a result it keeps what is built
from it alone (`derived`): the table document's sections from the result, and their JSON.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic_core

from app import matching

T = TypeVar("T")

BUDGET = 16 * (3_000 + 1_000)
"""Cases and dwellings of the results kept per process, summed; least recently used dropped
first. 16 big cities of 3,000 cases and 1,000 dwellings (about 7 MB each)."""
SIZE = 256
"""Results kept per process at most, however small."""
DERIVED_SIZE = 4
"""Results, the most recently used, that keep what is built from them (`derived`; a big city's
document sections and their JSON: about 15 MB more); the others keep the result alone."""


@dataclass(slots=True)
class _Kept:
    result: matching.MatchResult
    weight: int
    """The result's cases and dwellings (`_weight`)."""
    derived: dict[str, Any] = field(default_factory=dict)
    """Values built from the result and what the key covers alone (`derived`), by name."""


_results: "OrderedDict[bytes, _Kept]" = OrderedDict()
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
            _forget_derived_of_older()
            return found.result
    result = compute()
    with _lock:
        # Two threads may compute it at once: both get the result kept first (with what is
        # kept with it, `derived`).
        kept = _results.setdefault(key, _Kept(result, _weight(result)))
        _results.move_to_end(key)
        # The weights summed afresh: at most SIZE of them, after a computation only.
        while len(_results) > 1 and (
            len(_results) > SIZE or sum(k.weight for k in _results.values()) > BUDGET
        ):
            _results.popitem(last=False)
        _forget_derived_of_older()
    return kept.result


def _weight(result: matching.MatchResult) -> int:
    """The result's cases and dwellings, its memory's measure (at least 1)."""
    return max(1, len(result.candidates_by_case) + len(result.candidates_by_dwelling))


def _forget_derived_of_older() -> None:
    """Drop what is built from all but the `DERIVED_SIZE` most recently used results (under
    `_lock`)."""
    for position, kept in enumerate(reversed(_results.values())):
        if position >= DERIVED_SIZE and kept.derived:
            kept.derived.clear()


def derived(key: bytes, name: str, build: Callable[[], T]) -> T:
    """The value `name` kept with the result under `key`, or `build()` (kept with it while the
    result is kept and among the `DERIVED_SIZE` most recently used). `build` must depend on
    nothing but that result and what `key` covers, and its value is shared by every caller:
    they read it, never change it."""
    with _lock:
        kept = _results.get(key)
        if kept is not None and name in kept.derived:
            return kept.derived[name]  # type: ignore[no-any-return]
    value = build()
    with _lock:
        kept = _results.get(key)
        if kept is not None:
            # Two threads may build it at once: both get the value kept first.
            return kept.derived.setdefault(name, value)  # type: ignore[no-any-return]
    return value


def clear() -> None:
    """Forget every result (tests that count computations)."""
    with _lock:
        _results.clear()
