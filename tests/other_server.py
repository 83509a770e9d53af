"""Ids as another server process draws them, for tests of what sorts by id: two processes'
UUIDv7s within one millisecond are unordered (random bits), while one process's are not."""

import contextlib
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

from app import ids


@contextlib.contextmanager
def another_server() -> Iterator[None]:
    """Ids drawn here as another process could draw them: from its own last id (not this
    process's, which orders this one's own ids) and with the highest random bits."""
    saved = ids._last
    ids._last = 0
    try:
        with mock.patch.object(ids, "os", types.SimpleNamespace(urandom=lambda n: b"\xff" * n)):
            yield
    finally:
        ids._last = saved  # this process never saw the other's ids


def next_millisecond() -> datetime:
    """The millisecond after the last id this process made (the suite's clock may lie behind
    it), where this process's next id has random bits below the highest: freeze the clock
    there (`time_machine.travel(..., tick=False)`) for ids of one millisecond."""
    millis = (ids.uuid7().int >> 80) + 1
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
