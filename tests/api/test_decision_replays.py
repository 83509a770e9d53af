"""A decision sent again with its Idempotency-Key: the replay reads the proposal again, so it
is an access to the case like any read of the proposal."""

from tests.api.test_access_log import entries_for
from tests.api.test_meetings import DATE, proposals, publish, schedule
from tests.conftest import create_case, create_vacancy


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
