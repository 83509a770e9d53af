"""Trails written through two servers list in the order their changes were committed: ids of
two processes within one millisecond are unordered, so without a floor (`ids.uuid7_after`, read
after the row the change writes) a change made just after the other server's could list before
it. An account switched off and on through both servers at once has a trail whose `active`
entries alternate and end on the account's state. (The two servers' clocks differ here, by
tens of milliseconds: without the floor each server's changes clumped together.)"""

import itertools
import uuid

import pytest

from tests.concurrency.conftest import Cluster, at_once, new_org

pytestmark = pytest.mark.xdist_group("two_servers")

ROUNDS = 25


def test_an_account_switched_off_and_on_through_two_servers_has_a_trail_in_commit_order(
    cluster: Cluster,
):
    org = new_org(cluster, "care_provider")
    reader = cluster.client(org, 0)
    made = reader.post(
        f"/v1/organizations/{org.id}/people",
        json={
            "email": f"flip-{uuid.uuid4().hex[:8]}@example.nl",
            "display_name": "Wisselend",
            "role": "member",
            "is_admin": False,
        },
    )
    assert made.status_code == 201, made.text
    url = f"/v1/organizations/{org.id}/people/{made.json()['id']}"

    def switch(server: int, active: bool):  # type: ignore[no-untyped-def]
        client = cluster.client(org, server)
        return lambda: [
            client.patch(url, json={"active": active}).status_code for _ in range(ROUNDS)
        ]

    answers = at_once([switch(0, False), switch(1, True)])

    assert {status for statuses in answers for status in statuses} == {200}
    trail = reader.get(f"{url}/changes", params={"limit": 1000}).json()["items"]
    values = [c["value"] for c in trail if c["change"] == "active"]
    assert values, "neither server switched the account"
    assert all(a != b for a, b in itertools.pairwise(values)), values
    state = reader.get(url).json()["active"]
    assert values[-1] == ("true" if state else "false")
    assert cluster.journal.failures() == []
