"""Building a table's history through the API, for the monitor tests: dwellings every case fits,
limits for every year the history reaches, publish a meeting, walk a proposal to housing,
withdraw a case, read the figures."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.clock import TODAY, iso
from tests.conftest import OPERATOR, Org, Region, create_case, create_vacancy, writable_limits

HISTORY_DAYS = 450  # how far back the monitor tests write history


def ensure_limits(client: TestClient) -> None:
    """Copy the latest known year's limits to the years of the last HISTORY_DAYS that have none,
    so an agenda can be published whatever year the suite's clock is in (the limits are not the
    subject of the monitor tests)."""
    first = TODAY - timedelta(days=HISTORY_DAYS)
    known = client.get("/v1/limits", headers=OPERATOR).json()["items"]
    latest = max(known, key=lambda y: y["year"])
    body = writable_limits(latest)
    have = {y["year"] for y in known}
    for year in range(first.year, TODAY.year + 1):
        if year not in have:
            response = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
            assert response.status_code in (200, 201), response.text


def dwelling(client: TestClient, corporation: Org, **overrides: Any) -> dict[str, Any]:
    """A contingent dwelling any default case fits (rent under the low cap in every year,
    service costs included), available throughout the history."""
    body: dict[str, Any] = {
        "rent": {"base": "600.00", "eligible_service_costs": "0.00"},
        "available_from": iso(-HISTORY_DAYS),
        "respond_before": iso(30),
        "complex_ref": None,
    }
    return create_vacancy(client, corporation, **(body | overrides))


def ready_case(client: TestClient, care_provider: Org, table_id: str, ready: str, **kw: Any) -> Any:
    """A case ready on `ready` that fits `dwelling()`, registered long enough."""
    body: dict[str, Any] = {
        "ready_since": ready,
        "registration_date": iso(-HISTORY_DAYS - 800),
        "beschikking": {"status": "granted", "valid_until": iso(800)},
    }
    return create_case(client, care_provider, table_id, **(body | kw))


def publish_on(client: TestClient, region: Region, date: str) -> str:
    """Schedule and publish a meeting on `date`; its id."""
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": date}, headers=region.chair.headers
    )
    assert meeting.status_code == 201, meeting.text
    published = client.post(
        f"/v1/meetings/{meeting.json()['id']}/publish", headers=region.chair.headers
    )
    assert published.status_code == 200, published.text
    return str(meeting.json()["id"])


def publish(client: TestClient, region: Region, date: str) -> list[dict[str, Any]]:
    """Schedule and publish a meeting on `date`; its proposals."""
    meeting_id = publish_on(client, region, date)
    return client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"meetingId": meeting_id},
        headers=region.chair.headers,
    ).json()["items"]


def decide(client: TestClient, org: Org, proposal_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/proposals/{proposal_id}/decisions", json=body, headers=org.headers)


def sign(
    client: TestClient, region: Region, proposal: dict[str, Any], by: Org | None = None
) -> None:
    """Nominate, accept and sign the tenancy: the proposal waits for the move-in. The corporation
    decides, or `by` (the chair may record any decision)."""
    for org, decision in (
        (region.chair, "nominate"),
        (by or region.corporation, "corporation_accept"),
        (by or region.corporation, "sign_tenancy"),
    ):
        response = decide(client, org, proposal["id"], {"decision": decision})
        assert response.status_code == 200, response.text


def move_in(
    client: TestClient,
    region: Region,
    proposal: dict[str, Any],
    moved_in: str,
    lease_form: str | None = None,
    by: Org | None = None,
) -> Any:
    """The house decision with its date of record (the response, to check refusals)."""
    body = {"decision": "house", "effective_date": moved_in}
    if lease_form is not None:
        body["lease_form"] = lease_form
    return decide(client, by or region.corporation, proposal["id"], body)


def house(
    client: TestClient,
    region: Region,
    proposal: dict[str, Any],
    moved_in: str,
    lease_form: str | None = None,
    by: Org | None = None,
) -> None:
    sign(client, region, proposal, by)
    response = move_in(client, region, proposal, moved_in, lease_form, by)
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


def two_years_refused(client: TestClient, path: str, viewer: Org, chair: Org, year: int) -> Any:
    """Ask `path` for December of `year - 1` to January of `year`: refused for `viewer` (it
    reads one calendar year, 400 `range_spans_years` on `start`), answered for `chair`, whose
    answer is returned."""
    params = {"start": f"{year - 1}-12-01", "end": f"{year}-01-31"}
    refused = client.get(path, params=params, headers=viewer.headers)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["invalidParams"][0]["name"] == "start"
    assert refused.json()["invalidParams"][0]["code"] == "range_spans_years"
    answered = client.get(path, params=params, headers=chair.headers)
    assert answered.status_code == 200, answered.text
    assert answered.json()["start"] == params["start"]
    return answered.json()
