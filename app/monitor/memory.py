"""A bounded memory of the monitor's pure computations, by a digest of their whole input: what
one request computed answers the next that has the same input, in the same process."""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def digest(value: Any) -> str:
    """SHA-256 of `repr(value)`. For values made of ints, strings, None, booleans, floats and
    tuples or lists of them, whose repr is the same in every process (no object ids, no hash
    seed: sort a set first), so two processes key the same input alike."""
    return hashlib.sha256(repr(value).encode()).hexdigest()


class Memory(Generic[T]):
    """The `most` answers used last, by key (a `digest` of the computation's whole input).

    Only for pure computations: a remembered answer is then the one a fresh computation gives,
    so each server process may keep its own. Two threads asking the same new key both compute
    it; they get equal answers. Answers are shared between requests: read them, never change
    them."""

    def __init__(self, most: int) -> None:
        self._most = most
        self._answers: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, key: str, compute: Callable[[], T]) -> T:
        """The answer remembered under `key`, else `compute()`, remembered."""
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        answer = compute()
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self._most:
                self._answers.popitem(last=False)
        return answer

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
