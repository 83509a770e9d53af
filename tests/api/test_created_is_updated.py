"""A resource nobody changed since it was made reads `updated_at` equal to its `created_at`.

Rows whose times came from two defaults (one per column) were made with an `updated_at` some
microseconds after their `created_at`: a new meeting, action, webhook endpoint or aftercare
agreement read as changed after it was made, and a partner's system that syncs what changed
since creation (`updated_at > created_at`) took each new one for an edited one. Case files and
dwellings, written with one moment for both, already read equal.
"""

from typing import Any

from tests.api.helpers import plan_meeting
from tests.api.test_actions import hand_out
from tests.clock import iso
from tests.conftest import create_case


def unchanged_since_made(answer: dict[str, Any]) -> bool:
    return answer["updated_at"] == answer["created_at"]


def test_a_new_meeting_action_and_webhook_read_unchanged(client, region):
    meeting = plan_meeting(client, region, iso(7))
    assert unchanged_since_made(meeting), meeting
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    assert unchanged_since_made(action), action
    endpoint = client.post(
        "/v1/webhooks",
        json={"url": "https://receiver.example.org/hook", "events": ["action.assigned"]},
        headers=region.care_provider.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    assert unchanged_since_made(endpoint.json()), endpoint.json()
    for path, headers in (
        (f"/v1/meetings/{meeting['id']}", region.chair.headers),
        (f"/v1/actions/{action['id']}", region.chair.headers),
        (f"/v1/webhooks/{endpoint.json()['id']}", region.care_provider.headers),
    ):
        read = client.get(path, headers=headers)
        assert read.status_code == 200, read.text
        assert unchanged_since_made(read.json()), (path, read.json())


def test_a_change_still_moves_updated_at_past_created_at(client, region):
    meeting = plan_meeting(client, region, iso(7))
    endpoint = client.post(
        "/v1/webhooks",
        json={"url": "https://receiver.example.org/hook", "events": ["action.assigned"]},
        headers=region.care_provider.headers,
    ).json()
    changed = client.patch(
        f"/v1/webhooks/{endpoint['id']}",
        json={"description": "zaaksysteem"},
        headers=region.care_provider.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["updated_at"] > changed.json()["created_at"]
    assert meeting["version"] == 1
