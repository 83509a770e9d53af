"""Housings for the aftercare tests: a case of `care_provider` housed through a published
meeting in a dwelling of `corporation`, with a move-in date of record relative to TODAY."""

from datetime import timedelta
from typing import Any

from tests.clock import TODAY, iso
from tests.conftest import OPERATOR, Org, Region, create_case, create_vacancy, writable_limits

STEPS = ("nominate", "corporation_accept", "plan_viewing", "sign_tenancy")


def house(
    client: Any,
    region: Region,
    moved_in: int,
    lease_form: str = "own_lease",
    care_provider: Org | None = None,
    corporation: Org | None = None,
) -> dict[str, Any]:
    """House a new case `moved_in` days from today (negative: in the past) with `lease_form`;
    returns the case as created. The meeting is a week before the move-in."""
    care_provider = care_provider or region.care_provider
    corporation = corporation or region.corporation
    case = create_case(client, care_provider, region.table_id, ready_since=iso(moved_in - 400))
    create_vacancy(
        client,
        corporation,
        contract_forms=[lease_form],
        # Under every year's low rent cap, so housings years back fit too.
        rent={"base": "560.00", "eligible_service_costs": "20.00"},
        available_from=iso(moved_in - 60),
        respond_before=iso(moved_in - 60),
    )
    chair = region.chair.headers
    # One meeting per housing: a day the table does not meet yet, a week or more before.
    for before in range(7, 60):
        meeting = client.post(
            f"/v1/tables/{region.table_id}/meetings",
            json={"date": iso(moved_in - before)},
            headers=chair,
        )
        if meeting.status_code != 409:
            break
    assert meeting.status_code == 201, meeting.text
    published = client.post(f"/v1/meetings/{meeting.json()['id']}/publish", headers=chair)
    assert published.status_code == 200, published.text
    listed = client.get(
        f"/v1/tables/{region.table_id}/proposals", params={"limit": 1000}, headers=chair
    ).json()["items"]
    [proposal] = [p for p in listed if p["case_id"] == case["id"] and p["status"] == "proposed"]
    for step in STEPS:
        org = region.chair if step == "nominate" else corporation
        body: dict[str, Any] = {"decision": step}
        if step == "plan_viewing":
            body["viewing_date"] = iso(7)
        response = client.post(
            f"/v1/proposals/{proposal['id']}/decisions", json=body, headers=org.headers
        )
        assert response.status_code == 200, response.text
    response = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "house", "effective_date": iso(moved_in), "lease_form": lease_form},
        headers=corporation.headers,
    )
    assert response.status_code == 200, response.text
    return case


def housed_proposal(client: Any, region: Region, case_id: str) -> dict[str, Any]:
    """The proposal that housed the case (`house`), as the chair reads it."""
    listed = client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"limit": 1000},
        headers=region.chair.headers,
    ).json()["items"]
    [housed] = [p for p in listed if p["case_id"] == case_id and p["status"] == "housed"]
    return housed


def ensure_limits(client: Any, days_back: int) -> None:
    """Copy the latest known year's legal limits to the years of the last `days_back` days that
    have none, so housings that far back can be recorded whatever year the clock is in (the
    limits are not what these tests are about)."""
    known = client.get("/v1/limits", headers=OPERATOR).json()["items"]
    body = writable_limits(max(known, key=lambda y: y["year"]))
    have = {y["year"] for y in known}
    for year in range((TODAY - timedelta(days=days_back)).year, TODAY.year + 1):
        if year not in have:
            response = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
            assert response.status_code in (200, 201), response.text


def access_log(client: Any, region: Region) -> list[dict[str, Any]]:
    """The table's access log as its chair reads it (the newest 1,000 rows)."""
    response = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"limit": 1000},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def record_signals(client: Any, region: Region, case_id: str) -> None:
    """The care provider's aftercare agreement and a 3-month checkpoint 3 days ago raising
    rent arrears, needs-the-table and (support not active) support-stopped."""
    client.put(
        f"/v1/cases/{case_id}/aftercare-agreement",
        json={
            "support_intensity": "intensive",
            "support_organisation_id": region.care_provider.id,
            "contact_frequency": "fortnightly",
            "starts_on": iso(-150),
            "action_signals": ["needs_table"],
        },
        headers=region.care_provider.headers,
    )
    response = client.post(
        f"/v1/cases/{case_id}/checkpoints",
        json={
            "months": 3,
            "recorded_on": iso(-3),
            "still_living_there": True,
            "support_active": False,
            "signals": ["rent_arrears", "needs_table"],
        },
        headers=region.care_provider.headers,
    )
    assert response.status_code == 201, response.text


def record_visit(
    client: Any, region: Region, case_id: str, days_ago: int, living_there: bool
) -> None:
    """The care provider's 3-month checkpoint `days_ago` days ago: the client still lives there
    (support going on), or is gone (support stopped)."""
    body = {"months": 3, "recorded_on": iso(-days_ago), "still_living_there": living_there}
    response = client.post(
        f"/v1/cases/{case_id}/checkpoints",
        json=body | {"support_active": living_there},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 201, response.text
