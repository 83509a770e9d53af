"""A spread cap filled by another organisation's placements: the care provider learns the reason
(the complex is full), the same in why-not, its agenda and its case list, and not how many of
whose placements fill it."""

from tests.aftercare.housing import STEPS
from tests.api.helpers import plan_meeting
from tests.api.test_why_not import set_policy
from tests.api.weeks import (
    agenda,
    codes,
    fitting_dwelling,
    limits_for,
    publish_meeting,
    ready_case,
    reason,
    why_not,
)
from tests.clock import iso


def _house(client, region, proposal: dict, moved_in: int) -> None:  # type: ignore[no-untyped-def]
    url = f"/v1/proposals/{proposal['id']}/decisions"
    for step in (*STEPS, "house"):
        org = region.chair if step == "nominate" else region.corporation
        body = {"decision": step}
        if step == "plan_viewing":
            body["viewing_date"] = iso(moved_in)
        if step == "house":
            body |= {"effective_date": iso(moved_in), "lease_form": "own_lease"}
        response = client.post(url, json=body, headers=org.headers)
        assert response.status_code == 200, response.text


def test_a_care_provider_reads_a_cap_others_filled_alike_in_why_not_and_its_agenda(client, region):
    limits_for(client, -30, 30)
    plan_meeting(client, region, iso(7))
    set_policy(client, region, max_per_complex=1)
    theirs = ready_case(client, region.other_care_provider, region.table_id, ready_since=iso(-700))
    mine = ready_case(client, region.care_provider, region.table_id)
    first = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    assert proposal["case_id"] == theirs["id"]
    _house(client, region, proposal, 0)  # the other provider's client lives in A now
    neighbour = fitting_dwelling(client, region.corporation, "A")

    document = agenda(client, region.care_provider, region.table_id, 7)
    [entry] = document["candidates_by_case"]
    assert entry["case_id"] == mine["id"]
    assert (entry["feasible_count"], entry["excluded_reasons"]) == (0, ["complex_cap_reached"])
    [blocked] = document["bottlenecks"]["blocked_cases"]
    assert blocked["unblocked_by"] == ["complex_cap_reached"]

    answer = why_not(client, region.care_provider, region.table_id, mine, neighbour, 7)
    assert (answer["feasible"], codes(answer)) == (False, ["complex_cap_reached"])
    assert reason(answer, "complex_cap_reached")["usage"] is None
    assert codes(why_not(client, region.care_provider, region.table_id, mine, first, 7)) == [
        "vacancy_let"
    ]
    listed = client.get(
        "/v1/cases",
        params={"tableId": region.table_id, "blockingReason": "complex_cap_reached"},
        headers=region.care_provider.headers,
    )
    assert [c["id"] for c in listed.json()["items"]] == [mine["id"]]
    table = why_not(client, region.chair, region.table_id, mine, neighbour, 7)
    assert reason(table, "complex_cap_reached")["usage"] == 1
