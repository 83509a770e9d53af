"""A person's trail lists the changes in the order they were made, also when two servers make
them one after the other within one millisecond: the ids of two processes within a millisecond
are unordered (random bits), so a reactivation made just after another server's deactivation
listed before it, and the trail ended on `active: false` for an account that was active."""

import time_machine

from tests.other_server import another_server, next_millisecond
from tests.people.test_person_changes import trail
from tests.web.conftest import make_person


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
