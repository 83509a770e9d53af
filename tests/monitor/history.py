"""Building a table's history through the API, for the monitor tests: publish a meeting, walk a
proposal to housing, withdraw a case, read the figures."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Org, Region


def publish(client: TestClient, region: Region, date: str) -> list[dict[str, Any]]:
    """Schedule and publish a meeting on `date`; its proposals."""
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": date}, headers=region.chair.headers
    ).json()
    response = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    return client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"meeting_id": meeting["id"]},
        headers=region.chair.headers,
    ).json()["items"]


def decide(client: TestClient, org: Org, proposal_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/proposals/{proposal_id}/decisions", json=body, headers=org.headers)


def sign(client: TestClient, region: Region, proposal: dict[str, Any]) -> None:
    """Nominate, accept and sign the tenancy: the proposal waits for the move-in."""
    for org, decision in (
        (region.chair, "nominate"),
        (region.corporation, "corporation_accept"),
        (region.corporation, "sign_tenancy"),
    ):
        response = decide(client, org, proposal["id"], {"decision": decision})
        assert response.status_code == 200, response.text


def move_in(
    client: TestClient,
    region: Region,
    proposal: dict[str, Any],
    moved_in: str,
    lease_form: str | None = None,
) -> Any:
    """The house decision with its date of record (the response, to check refusals)."""
    body = {"decision": "house", "effective_date": moved_in}
    if lease_form is not None:
        body["lease_form"] = lease_form
    return decide(client, region.corporation, proposal["id"], body)


def house(
    client: TestClient,
    region: Region,
    proposal: dict[str, Any],
    moved_in: str,
    lease_form: str | None = None,
) -> None:
    sign(client, region, proposal)
    response = move_in(client, region, proposal, moved_in, lease_form)
    assert response.status_code == 200, response.text


def patch_case(client: TestClient, org: Org, case_id: str, body: dict[str, Any]) -> Any:
    return client.patch(f"/v1/cases/{case_id}", json=body, headers=org.headers)


def withdraw(
    client: TestClient, org: Org, case_id: str, exit_date: str, reason: str = "returned_to_care"
) -> Any:
    body = {"status": "withdrawn", "status_reason": reason, "exit_date": exit_date}
    return patch_case(client, org, case_id, body)


def figures(client: TestClient, org: Org, table_id: str, **params: Any) -> dict[str, Any]:
    """The flows answer for `org` (asserting 200)."""
    response = client.get(f"/v1/tables/{table_id}/monitor", params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()
