"""A decision sent again with its Idempotency-Key: the replay reads the proposal again, so it
is an access to the case like any read of the proposal."""

import uuid

from tests.api.helpers import assert_problem
from tests.api.test_access_log import entries_for
from tests.api.test_meetings import DATE, proposals, publish, schedule
from tests.conftest import OPERATOR, create_case, create_vacancy


def test_a_replayed_decision_is_logged_as_a_read_of_the_case(client, region):
    """README: 'A replayed case creation or decision reads the case again and is logged as
    that read'. The replay answered the proposal (its case id, and for the chair the score
    made of the case file) without an entry in the access log."""
    case = create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=DATE)
    publish(client, region, schedule(client, region))
    [proposal] = proposals(client, region)
    path = f"/v1/proposals/{proposal['id']}/decisions"
    headers = region.chair.headers | {"Idempotency-Key": "voordragen-1"}
    first = client.post(path, json={"decision": "nominate"}, headers=headers)
    assert first.status_code == 200, first.text
    before = entries_for(client, region, case["id"])
    assert before[-1]["action"] == "decision"
    replay = client.post(path, json={"decision": "nominate"}, headers=headers)
    assert replay.status_code == 200, replay.text
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["case_id"] == case["id"] and replay.json()["status"] == "nominated"
    after = entries_for(client, region, case["id"])
    assert len(after) == len(before) + 1
    shown = after[-1]
    assert shown["action"] == "proposal"
    assert shown["endpoint"] == "POST /v1/proposals/{proposal_id}/decisions"
    assert shown["organisation_id"] == region.chair.id


def test_the_operator_is_refused_the_proposals_not_told_there_are_none(client, region):
    """The operator manages the tables and sees their meetings (with a count of proposals),
    but case files, agendas and minutes are refused it with 403 (README: operator, none
    (403)). The proposals answered an empty list and 404 'No such proposal' instead: an
    operator checking a table was told it had no proposals."""
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=DATE)
    meeting = publish(client, region, schedule(client, region))
    assert meeting["proposals"] == 1
    [proposal] = proposals(client, region)
    for path in (
        f"/v1/tables/{region.table_id}/proposals",
        f"/v1/proposals/{proposal['id']}",
        f"/v1/proposals/{proposal['id']}/case-profile",
    ):
        assert_problem(client.get(path, headers=OPERATOR), 403)
    decided = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "withdraw", "reason": "other"},
        headers=OPERATOR,
    )
    assert_problem(decided, 403)
    assert_problem(client.get(f"/v1/proposals/{uuid.uuid4()}", headers=OPERATOR), 404)


def test_a_decline_without_its_reason_says_the_reason_is_required(client, region):
    """A missing viewing day answers invalidParams code `required`; a missing decline or
    withdrawal reason answered `invalid`, and the page said 'Ongeldige invoer: Reden' for a
    reason left unchosen. A reason of another decision stays `invalid`."""
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=DATE)
    publish(client, region, schedule(client, region))
    [proposal] = proposals(client, region)
    path = f"/v1/proposals/{proposal['id']}/decisions"
    for org, decision in (
        (region.chair, "withdraw"),
        (region.corporation, "corporation_decline"),
        (region.care_provider, "client_decline"),
    ):
        missing = assert_problem(
            client.post(path, json={"decision": decision}, headers=org.headers), 400
        )
        assert [(p["name"], p["code"]) for p in missing["invalidParams"]] == [
            ("reason", "required")
        ]
        other = client.post(
            path, json={"decision": decision, "reason": "no_such"}, headers=org.headers
        )
        assert_problem(other, 400)
        wrong = client.post(
            path,
            json={
                "decision": decision,
                "reason": "rent_arrears" if decision != "corporation_decline" else "location",
            },
            headers=org.headers,
        )
        assert [p["code"] for p in assert_problem(wrong, 400)["invalidParams"]] == ["invalid"]
