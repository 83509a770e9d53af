"""Two members deciding the same proposal at the same moment: exactly one wins.

Corporation and client both decline the same proposal; whichever comes second finds it closed
(SQLite serialises the two requests) or finds its version moved (PostgreSQL runs them at once).

Runs the app on its own committed database (no rolled-back test transaction), each member in
its own thread and client, released together by a barrier; on PostgreSQL the two transactions
really overlap and the optimistic version check decides.
"""

import threading

import pytest
from fastapi.testclient import TestClient

from tests.clock import iso
from tests.conftest import case_body, make_org, make_table, vacancy_body

pytestmark = pytest.mark.usefixtures("no_deadlocks")

ROUNDS = 4


def test_two_members_deciding_at_once_cannot_both_win(live_app):
    with TestClient(live_app) as client:
        chair = make_org(client, "municipality")
        provider = make_org(client, "care_provider")
        corporation = make_org(client, "housing_corporation")
        table_id = make_table(client, chair, [provider, corporation], ["GM0344"])
        proposal_ids = []
        for round_ in range(ROUNDS):
            client.post(
                "/v1/cases", json=case_body(table_id), headers=provider.headers
            ).raise_for_status()
            client.post(
                "/v1/vacancies",
                json=vacancy_body(complex_ref=f"C{round_}"),  # under the spread cap
                headers=corporation.headers,
            ).raise_for_status()
            meeting = client.post(
                f"/v1/tables/{table_id}/meetings",
                json={"date": iso(round_ - 7)},  # a meeting a day, last week
                headers=chair.headers,
            ).json()
            client.post(
                f"/v1/meetings/{meeting['id']}/publish", headers=chair.headers
            ).raise_for_status()
            listed = client.get(
                f"/v1/tables/{table_id}/proposals",
                params={"meetingId": meeting["id"]},
                headers=chair.headers,
            ).json()["items"]
            proposal_ids += [p["id"] for p in listed]
    assert len(proposal_ids) == ROUNDS

    contenders = [
        (provider, {"decision": "client_decline", "reason": "location"}),
        (corporation, {"decision": "corporation_decline", "reason": "other"}),
    ]
    for proposal_id in proposal_ids:
        statuses = race(live_app, proposal_id, contenders)
        assert sorted(statuses) == [200, 409], statuses
        with TestClient(live_app) as client:
            final = client.get(f"/v1/proposals/{proposal_id}", headers=chair.headers).json()
        assert len(final["decisions"]) == 1  # the loser left no trace


def race(app, proposal_id: str, contenders: list) -> list[int]:  # type: ignore[no-untyped-def]
    """Send each contender's decision from its own thread, released together."""
    barrier = threading.Barrier(len(contenders))
    statuses: list[int] = []

    def decide(org, body) -> None:  # type: ignore[no-untyped-def]
        with TestClient(app) as client:
            barrier.wait()
            response = client.post(
                f"/v1/proposals/{proposal_id}/decisions", json=body, headers=org.headers
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=decide, args=contender) for contender in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses
