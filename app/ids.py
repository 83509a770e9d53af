"""Time-ordered UUIDs (version 7, RFC 9562), so ids sort by creation and serve as cursors.

Within one process they are monotonic, also within one millisecond (RFC 9562 section 6.2,
method 2, "monotonic random"): when the clock has not moved past the last id, the next takes the
last one's 74 random bits plus a random step. Rows made in one request (a decision's webhook
events, the fields of one account change) then list in the order they were made. Ids of two
processes within one millisecond are unordered among themselves, as their commits are.
"""

import os
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_RANDOM_BITS = 74  # rand_a (12) and rand_b (62) of RFC 9562's layout
_STEP_BYTES = 4  # a random step of 1 to 2**32 keeps the next id unguessable from the last
_lock = threading.Lock()
_last = 0  # the last id's 48-bit milliseconds and 74 random bits, as one number


def _next(millis: int, random: bytes) -> int:
    """The next (milliseconds, random bits) after `_last`, as one number; call holding `_lock`.
    `random` is 10 bytes for the bits and `_STEP_BYTES` more for a step."""
    global _last
    value = (millis & ((1 << 48) - 1)) << _RANDOM_BITS | int.from_bytes(random[:10], "big") & (
        (1 << _RANDOM_BITS) - 1
    )
    if value <= _last:  # the same millisecond (or a clock set back): count on from the last
        value = _last + 1 + int.from_bytes(random[10:], "big")
    _last = value
    return value


def _as_value(id_: uuid.UUID) -> int:
    """The 48 bits of milliseconds and 74 random bits of a version 7 id, as one number (the
    inverse of `_as_uuid`)."""
    number = id_.int
    rand_a, rand_b = number >> 64 & 0xFFF, number & ((1 << 62) - 1)
    return (number >> 80) << _RANDOM_BITS | rand_a << 62 | rand_b


def _as_uuid(value: int) -> uuid.UUID:
    """Spread 48 bits of milliseconds and 74 random bits over the layout, version 7, variant
    RFC 4122: `unix_ts_ms | ver | rand_a | var | rand_b`."""
    millis, random = value >> _RANDOM_BITS, value & ((1 << _RANDOM_BITS) - 1)
    rand_a, rand_b = random >> 62, random & ((1 << 62) - 1)
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b)


def uuid7() -> uuid.UUID:
    """A new id: 48 bits of Unix milliseconds, then 74 random bits, greater than any id this
    process made before."""
    random = os.urandom(10 + _STEP_BYTES)
    with _lock:
        value = _next(time.time_ns() // 1_000_000, random)
    return _as_uuid(value)


def uuid7_after(floor: uuid.UUID | None) -> uuid.UUID:
    """A new id as `uuid7`, and greater than `floor` (None: no floor).

    For rows that follow one another under a row lock, such as a proposal's decisions or a
    case's status changes: `floor` is the last such row's id, read holding the lock. Ids of two
    processes within one millisecond are otherwise unordered, so a decision taken on one server
    just after another's commit could sort before it and the minutes list them swapped."""
    random = os.urandom(10 + _STEP_BYTES)
    global _last
    with _lock:
        value = _next(time.time_ns() // 1_000_000, random)
        if floor is not None and value <= (above := _as_value(floor)):
            value = above + 1 + int.from_bytes(random[10:], "big")
            _last = max(_last, value)
    return _as_uuid(value)


def after_last(now: datetime, last: datetime | None) -> datetime:
    """`now`, or a microsecond after `last` when `now` is not after it: the moment of a row
    that follows `last`'s under a row lock (as `uuid7_after` its id), as another server's
    clock may be ahead of this one's or show the same instant."""
    if last is None or now > last:
        return now
    return last + timedelta(microseconds=1)


def uuid7s(count: int) -> list[uuid.UUID]:
    """`count` ids in increasing order, as `uuid7` makes them one after the other, from one read
    of the random source (a batch of 1000 rows would otherwise make 1000 system calls)."""
    size = 10 + _STEP_BYTES
    random = os.urandom(size * count)
    with _lock:
        millis = time.time_ns() // 1_000_000
        values = [_next(millis, random[i : i + size]) for i in range(0, size * count, size)]
    return [_as_uuid(value) for value in values]


def unlinked_uuid7s(count: int, moment: datetime) -> list[uuid.UUID]:
    """`count` ids of `moment`'s millisecond (or, as `uuid7`, just after the last id this
    process made), each with random bits of its own, in no order among themselves: those of
    a new `id_window`.

    Unlike `uuid7s` none counts on from another: ids made one after another in one millisecond
    lie a random step of at most 2**32 apart, so the distance between two of them counts the
    ids made between them. For rows of which each reader sees some (a publication's proposals
    and their cases' status changes, one answer's access-log entries), that count is what the
    reader may not learn."""
    return window_uuid7s(id_window(moment), count)


WINDOW = 1 << 72
"""The ids of one `id_window`: a quarter of a millisecond's."""


def id_window(moment: datetime) -> int:
    """The start of `WINDOW` ids of `moment`'s millisecond (or just after the last id this
    process made), all after every id made before and before every id made after; for
    `window_uuid7s`. The next id starts after the whole window, not after the greatest drawn
    in it: that one is the greatest of as many random draws as were made, so where the next
    ids lay told how many (one answer's access-log entries are written by several calls)."""
    millis = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    global _last
    with _lock:
        start = max((millis & ((1 << 48) - 1)) << _RANDOM_BITS, _last + 1)
        _last = start + WINDOW - 1
    return start


def window_uuid7s(start: int, count: int) -> list[uuid.UUID]:
    """`count` ids of the `id_window` at `start`, each a random 0 to 2**72 above it."""
    random = os.urandom(9 * count)
    return [
        _as_uuid(start + int.from_bytes(random[i : i + 9], "big")) for i in range(0, 9 * count, 9)
    ]


CANONICAL = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
"""An id as the API writes it (RFC 9562's string form, 8-4-4-4-12), read in either case."""


def _as_the_api_writes_it(value: Any) -> Any:
    """An id given as text is written as the API writes ids (`CANONICAL`), as in a path
    (`app.path_ids`): pydantic also read `urn:uuid:...`, `{...}` and 32 hex digits without
    hyphens. A value that is no id at all is left to pydantic's own error."""
    if isinstance(value, str) and not CANONICAL.fullmatch(value):
        try:
            uuid.UUID(value)
        except ValueError:
            return value
        raise PydanticCustomError(
            "uuid_parsing",
            "Input should be an id as the API writes it: 8-4-4-4-12 hexadecimal digits, "
            "without `urn:uuid:` or braces",
        )
    return value


Id = Annotated[uuid.UUID, BeforeValidator(_as_the_api_writes_it)]
"""An id a client sends in a query or a body."""
