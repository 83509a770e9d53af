"""A person's trail lists the changes in the order they were made, also when two servers make
them one after the other within one millisecond: the ids of two processes within a millisecond
are unordered (random bits), so a reactivation made just after another server's deactivation
listed before it, and the trail ended on `active: false` for an account that was active."""

import contextlib
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import time_machine

from app import ids
from tests.people.test_person_changes import trail
from tests.web.conftest import make_person


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
    it), where this process's next id has random bits below the highest."""
    millis = (ids.uuid7().int >> 80) + 1
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)


def test_a_change_made_after_another_servers_lists_after_it(client, region):
    person = make_person(client, region.care_provider)
    url = f"/v1/organizations/{person.org.id}/people/{person.id}"
    headers = region.care_provider.headers
    with time_machine.travel(next_millisecond(), tick=False):  # both in one millisecond
        with another_server():
            off = client.patch(url, json={"active": False}, headers=headers)
        assert off.status_code == 200, off.text
        on = client.patch(url, json={"active": True}, headers=headers)
        assert on.status_code == 200, on.text

    assert trail(client, person)[-2:] == [("active", "false"), ("active", "true")]
