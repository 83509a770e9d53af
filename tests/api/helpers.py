"""Small assertions shared by the API tests."""

import uuid
from typing import Any

from httpx import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"


def assert_problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with the given status (and code); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def invalid_names(response: Response) -> list[str]:
    """The field names of a 400's `invalidParams`, checking each entry's shape on the way."""
    body = assert_problem(response, 400)
    params = body.get("invalidParams")
    assert params, body
    for param in params:
        assert set(param) >= {"name", "in", "code", "reason"}, param
    return [p["name"] for p in params]


def plan_meeting(client: Any, region: Any, date: str) -> dict[str, Any]:
    """The chair plans a meeting: care providers and corporations see live agendas on its date."""
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": date},
        headers=region.chair.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def me(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def withdraw_case(client: Any, org: Any, case_id: str, reason: str = "own_solution") -> None:
    """The care provider withdraws its case (by default: the client found a home of their own)."""
    response = client.patch(
        f"/v1/cases/{case_id}",
        json={"status": "withdrawn", "status_reason": reason},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text


def publish_one_proposal(client: Any, region: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A meeting a week ago, published with one proposal: a new case of `care_provider` for a
    new dwelling of `corporation`, available from the meeting's day (so that it can be let from
    then on). Returns the meeting and the proposal (as the chair sees it)."""
    from tests.clock import iso
    from tests.conftest import create_case, create_vacancy

    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=iso(-7))
    chair = region.chair.headers
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": iso(-7)}, headers=chair
    ).json()
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair)
    assert published.status_code == 200, published.text
    proposals = client.get(f"/v1/tables/{region.table_id}/proposals", headers=chair).json()
    [proposal] = proposals["items"]
    return meeting, proposal


def assign_action(
    client: Any, region: Any, owner: Any, case_id: str | None, kind: str = "plan_viewing"
) -> Response:
    """The chair hands `owner` an action about the case, due in a week."""
    from tests.clock import iso

    body = {"kind": kind, "owner_organisation_id": owner.id, "due_date": iso(7)}
    if case_id:
        body["case_id"] = case_id
    return client.post(
        f"/v1/tables/{region.table_id}/actions", json=body, headers=region.chair.headers
    )


def freeze_in_the_old_shape(session: Any, meeting_id: str) -> dict[str, Any]:
    """Rewrite a published meeting's snapshot as agendas frozen before `limits_fallback` and the
    DAEB rename were (only `liberalisation_limit`, no AOW age, source or origin); returns
    those old limits."""
    from app.meetings.models import Meeting

    row = session.get(Meeting, uuid.UUID(meeting_id))
    document = dict(row.snapshot["document"])
    old_limits = {
        k: v
        for k, v in document.pop("limits").items()
        if k not in ("daeb_rent_limit", "aow_age", "source", "origin")
    }
    document.pop("limits_fallback")
    row.snapshot = {**row.snapshot, "document": {**document, "limits": old_limits}}
    session.add(row)
    session.flush()
    return old_limits
