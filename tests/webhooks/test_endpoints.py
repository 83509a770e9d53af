"""Webhook endpoints over HTTP: each organisation manages its own, the operator all."""

import base64
from datetime import datetime, timedelta

import pytest

from app.sqltypes import utcnow
from app.webhooks.service import MAX_ENDPOINTS_PER_ORGANISATION
from tests.conftest import OPERATOR, make_org

HOOK = "https://receiver.example.org/hook"


def register(client, org, **body):  # type: ignore[no-untyped-def]
    payload = {"url": HOOK, "events": ["agenda.published"], **body}
    response = client.post("/v1/webhooks", json=payload, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


def invalid_names(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    return {p["name"] for p in response.json()["invalidParams"]}


def test_registering_an_endpoint_shows_the_secret_once(client):
    org = make_org(client, "care_provider")
    response = client.post(
        "/v1/webhooks",
        json={"url": HOOK, "events": ["proposal.decided", "case.housed"], "description": "ECD"},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["organisation_id"] == org.id
    assert created["events"] == ["proposal.decided", "case.housed"]
    assert created["active"] is True
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert response.headers["cache-control"] == "no-store"
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24

    shown = client.get(f"/v1/webhooks/{created['id']}", headers=org.headers).json()
    listed = client.get("/v1/webhooks", headers=org.headers).json()
    assert "secret" not in shown
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert secret not in str(shown) + str(listed)


def test_a_retried_registration_with_its_idempotency_key_registers_once(client):
    org = make_org(client, "care_provider")
    headers = {**org.headers, "Idempotency-Key": "hook-1"}
    payload = {"url": HOOK, "events": ["agenda.published"]}
    first = client.post("/v1/webhooks", json=payload, headers=headers)
    again = client.post("/v1/webhooks", json=payload, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
    assert again.headers["location"] == first.headers["location"]
    assert again.json() == first.json()  # the secret too: the answer that got lost
    listed = client.get("/v1/webhooks", headers=org.headers).json()["items"]
    assert [item["id"] for item in listed] == [first.json()["id"]]
    other = client.post("/v1/webhooks", json={**payload, "url": HOOK + "2"}, headers=headers)
    assert other.status_code == 422, other.text


def test_a_replay_of_a_deleted_endpoints_registration_is_not_found(client):
    org = make_org(client, "care_provider")
    headers = {**org.headers, "Idempotency-Key": "hook-2"}
    payload = {"url": HOOK, "events": ["agenda.published"]}
    created = client.post("/v1/webhooks", json=payload, headers=headers).json()
    client.delete(f"/v1/webhooks/{created['id']}", headers=org.headers)
    again = client.post("/v1/webhooks", json=payload, headers=headers)
    assert again.status_code == 404, again.text
    assert created["secret"] not in again.text


def test_another_organisations_endpoint_is_not_found(client):
    owner = make_org(client, "municipality")
    other = make_org(client, "housing_corporation")
    endpoint = register(client, owner)
    path = f"/v1/webhooks/{endpoint['id']}"

    assert client.get(path, headers=other.headers).status_code == 404
    assert client.patch(path, json={"active": False}, headers=other.headers).status_code == 404
    assert client.delete(path, headers=other.headers).status_code == 404
    assert client.get(f"{path}/deliveries", headers=other.headers).status_code == 404
    assert client.get("/v1/webhooks", headers=other.headers).json()["items"] == []
    mine = client.get(f"/v1/webhooks?organisationId={owner.id}", headers=other.headers).json()
    assert mine["items"] == []
    assert client.get(path, headers=owner.headers).json()["active"] is True


def test_the_operator_lists_and_manages_every_endpoint_but_registers_none(client):
    first, second = make_org(client, "municipality"), make_org(client, "care_provider")
    a, b = register(client, first), register(client, second)
    listed = client.get("/v1/webhooks?limit=1000", headers=OPERATOR).json()["items"]
    assert {a["id"], b["id"]} <= {item["id"] for item in listed}
    only_first = client.get(f"/v1/webhooks?organisationId={first.id}", headers=OPERATOR).json()
    assert [item["id"] for item in only_first["items"]] == [a["id"]]

    patched = client.patch(f"/v1/webhooks/{a['id']}", json={"active": False}, headers=OPERATOR)
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert client.delete(f"/v1/webhooks/{b['id']}", headers=OPERATOR).status_code == 204
    refused = client.post(
        "/v1/webhooks", json={"url": HOOK, "events": ["case.housed"]}, headers=OPERATOR
    )
    assert refused.status_code == 403


def test_the_operator_cannot_point_an_organisations_endpoint_elsewhere(client):
    """A URL the operator chose would receive the organisation's events and the case ids in
    them, which the operator may not read."""
    org = make_org(client, "care_provider")
    endpoint = register(client, org)
    path = f"/v1/webhooks/{endpoint['id']}"

    moved = client.patch(path, json={"url": "https://elders.example/in"}, headers=OPERATOR)
    more = client.patch(path, json={"events": ["case.housed"]}, headers=OPERATOR)

    assert [moved.status_code, more.status_code] == [403, 403]
    assert moved.headers["content-type"] == "application/problem+json"
    kept = client.get(path, headers=org.headers).json()
    assert (kept["url"], kept["events"]) == (endpoint["url"], endpoint["events"])


def test_patch_changes_url_events_and_active_and_honours_if_match(client):
    org = make_org(client, "municipality")
    endpoint = register(client, org, description="old")
    path = f"/v1/webhooks/{endpoint['id']}"
    etag = client.get(path, headers=org.headers).headers["etag"]

    changed = client.patch(
        path,
        json={
            "url": "http://10.0.0.5:8080/in",
            "events": ["action.assigned", "agenda.published", "action.assigned"],
            "active": False,
            "description": None,
        },
        headers={**org.headers, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["url"] == "http://10.0.0.5:8080/in"
    assert body["events"] == ["agenda.published", "action.assigned"]
    assert body["active"] is False
    assert body["description"] is None
    assert changed.headers["etag"] != etag

    stale = client.patch(path, json={"active": True}, headers={**org.headers, "If-Match": etag})
    assert stale.status_code == 412
    assert invalid_names(client.patch(path, json={"url": None}, headers=org.headers)) == {"url"}


def test_an_endpoints_yes_no_of_another_json_type_is_400(client):
    # As a case file's: pydantic's lax mode paused the endpoint for "active": "off" or 0.
    org = make_org(client, "municipality")
    endpoint = register(client, org)
    path = f"/v1/webhooks/{endpoint['id']}"
    for value in ("off", 0, "false"):
        refused = client.patch(path, json={"active": value}, headers=org.headers)
        assert invalid_names(refused) == {"active"}
    assert client.get(path, headers=org.headers).json()["active"] is True
    paused = client.patch(path, json={"active": False}, headers=org.headers)
    assert paused.status_code == 200, paused.text
    assert paused.json()["active"] is False


def test_delete_removes_the_endpoint(client):
    org = make_org(client, "municipality")
    endpoint = register(client, org)
    path = f"/v1/webhooks/{endpoint['id']}"
    assert client.delete(path, headers=org.headers).status_code == 204
    assert client.get(path, headers=org.headers).status_code == 404
    assert client.get(f"{path}/deliveries", headers=org.headers).status_code == 404
    assert client.delete(path, headers=org.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/hook", "events": ["case.housed"]}, "url"),
        ({"url": "example.org/hook", "events": ["case.housed"]}, "url"),
        ({"url": "https://", "events": ["case.housed"]}, "url"),
        ({"url": "https://user:pw@example.org/", "events": ["case.housed"]}, "url"),
        ({"url": "https://example.org/" + "a" * 2000, "events": ["case.housed"]}, "url"),
        ({"url": "https://example.org/a\nb", "events": ["case.housed"]}, "url"),
        ({"url": "https://example.org:99999/", "events": ["case.housed"]}, "url"),
        ({"url": HOOK, "events": []}, "events"),
        ({"url": HOOK, "events": ["case.created"]}, "events[0]"),
        ({"url": HOOK}, "events"),
        ({"events": ["case.housed"]}, "url"),
        ({"url": HOOK, "events": ["case.housed"], "secret": "whsec_x"}, "secret"),
        ({"url": HOOK, "events": ["case.housed"], "description": "x" * 201}, "description"),
    ],
)
def test_invalid_registrations_name_the_field(client, body, field):
    org = make_org(client, "municipality")
    response = client.post("/v1/webhooks", json=body, headers=org.headers)
    assert invalid_names(response) == {field}


def test_an_organisation_has_a_bounded_number_of_endpoints(client):
    org = make_org(client, "municipality")
    for _ in range(MAX_ENDPOINTS_PER_ORGANISATION):
        register(client, org)
    response = client.post(
        "/v1/webhooks", json={"url": HOOK, "events": ["case.housed"]}, headers=org.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "endpoint_limit_reached"


def test_endpoint_lists_page_with_a_cursor(client):
    org = make_org(client, "municipality")
    ids = [register(client, org)["id"] for _ in range(3)]
    first = client.get("/v1/webhooks?limit=2", headers=org.headers).json()
    second = client.get(
        f"/v1/webhooks?limit=2&cursor={first['next_cursor']}", headers=org.headers
    ).json()
    assert [e["id"] for e in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None


def test_a_delete_with_a_stale_if_match_is_refused_and_keeps_the_endpoint(client):
    """A client that deletes what it last read sends its ETag: a change meanwhile (another
    URL) is a 412, not a silent delete of an endpoint it has not seen."""
    org = make_org(client, "municipality")
    endpoint = register(client, org)
    path = f"/v1/webhooks/{endpoint['id']}"
    seen = client.get(path, headers=org.headers).headers["ETag"]
    changed = client.patch(path, json={"description": "nieuw"}, headers=org.headers)
    assert changed.status_code == 200, changed.text
    stale = client.delete(path, headers={**org.headers, "If-Match": seen})
    assert stale.status_code == 412, stale.text
    assert client.get(path, headers=org.headers).status_code == 200
    current = changed.headers["ETag"]
    assert client.delete(path, headers={**org.headers, "If-Match": current}).status_code == 204
    assert client.get(path, headers=org.headers).status_code == 404


def rotate(client, org, endpoint_id, **headers):  # type: ignore[no-untyped-def]
    return client.post(
        f"/v1/webhooks/{endpoint_id}/secret-rotations",
        json=headers.pop("body", None),
        headers=org.headers | headers,
    )


def test_a_rotation_gives_a_new_secret_once_and_the_old_one_signs_for_a_day(client):
    """A leaked or old secret is changed without deleting the endpoint (which drops its
    pending deliveries and its log); deliveries carry both signatures meanwhile
    (`test_delivery`)."""
    org = make_org(client, "care_provider")
    endpoint = register(client, org)

    rotated = rotate(client, org, endpoint["id"])

    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != endpoint["secret"]
    shown = client.get(f"/v1/webhooks/{endpoint['id']}", headers=org.headers)
    assert "secret" not in shown.json() and body["secret"] not in shown.text
    assert shown.headers["etag"] == rotated.headers["etag"] != ""
    until = datetime.fromisoformat(shown.json()["previous_secret_until"])
    assert timedelta(hours=23, minutes=59) < until - utcnow() <= timedelta(hours=24)


def test_a_rotation_with_no_hours_keeps_no_previous_secret(client):
    org = make_org(client, "municipality")
    endpoint = register(client, org)
    rotated = rotate(client, org, endpoint["id"], body={"previous_secret_hours": 0})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["previous_secret_until"] is None


@pytest.mark.parametrize(
    "hours", [-1, 73, 1.5, None], ids=["negative", "past-72", "fraction", "null"]
)
def test_a_rotation_with_hours_out_of_range_is_refused(client, hours):
    org = make_org(client, "municipality")
    endpoint = register(client, org)
    refused = rotate(client, org, endpoint["id"], body={"previous_secret_hours": hours})
    assert invalid_names(refused) == {"previous_secret_hours"}
    assert (
        client.get(f"/v1/webhooks/{endpoint['id']}", headers=org.headers).json()[
            "previous_secret_until"
        ]
        is None
    )


def test_a_rotations_hours_of_another_json_type_are_400(client):
    # As a case file's: pydantic's lax mode kept the replaced secret signing for "12" hours, or
    # for one hour for `true`.
    org = make_org(client, "municipality")
    endpoint = register(client, org)
    for hours in ("12", True, 12.0):
        refused = rotate(client, org, endpoint["id"], body={"previous_secret_hours": hours})
        assert invalid_names(refused) == {"previous_secret_hours"}
    shown = client.get(f"/v1/webhooks/{endpoint['id']}", headers=org.headers).json()
    assert shown["previous_secret_until"] is None
    rotated = rotate(client, org, endpoint["id"], body={"previous_secret_hours": 12})
    assert rotated.status_code == 200, rotated.text
    until = datetime.fromisoformat(rotated.json()["previous_secret_until"])
    assert timedelta(hours=11, minutes=59) < until - utcnow() <= timedelta(hours=12)


def test_only_the_endpoints_organisation_rotates_its_secret(client):
    """Not the operator either: the answer shows the new secret, with which the operator could
    sign events the organisation's receiver would take for the service's (it may pause or
    delete the endpoint instead)."""
    owner = make_org(client, "care_provider")
    endpoint = register(client, owner)
    for kind in ("care_provider", "housing_corporation", "municipality"):
        other = make_org(client, kind)
        assert rotate(client, other, endpoint["id"]).status_code == 404
    assert (
        client.get(f"/v1/webhooks/{endpoint['id']}", headers=owner.headers).json()[
            "previous_secret_until"
        ]
        is None
    )
    operator = client.post(f"/v1/webhooks/{endpoint['id']}/secret-rotations", headers=OPERATOR)
    assert operator.status_code == 403, operator.text
    assert "secret" not in operator.json()


def test_a_retried_rotation_with_its_idempotency_key_rotates_once(client):
    """The answer that got lost is given again, the same secret: a second rotation would
    leave the client holding a secret that no longer signs."""
    org = make_org(client, "care_provider")
    endpoint = register(client, org)
    first = rotate(client, org, endpoint["id"], **{"Idempotency-Key": "rotate-1"})
    again = rotate(client, org, endpoint["id"], **{"Idempotency-Key": "rotate-1"})
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
    assert again.json() == first.json()
    other = register(client, org)
    reused = rotate(client, org, other["id"], **{"Idempotency-Key": "rotate-1"})
    assert reused.status_code == 422, reused.text


def test_a_rotation_with_a_stale_if_match_changes_nothing(client):
    org = make_org(client, "care_provider")
    endpoint = register(client, org)
    path = f"/v1/webhooks/{endpoint['id']}"
    tag = client.get(path, headers=org.headers).headers["etag"]
    assert rotate(client, org, endpoint["id"], **{"If-Match": tag}).status_code == 200
    stale = rotate(client, org, endpoint["id"], **{"If-Match": tag})
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"


def test_a_null_body_rotates_nothing(client):
    """A rotation's body is optional (no body: the defaults), but JSON `null` is a body that is
    no object: it rotated the secret with the defaults, where `[]` or `"x"` are a 400."""
    org = make_org(client, "care_provider")
    endpoint = register(client, org)
    path = f"/v1/webhooks/{endpoint['id']}"
    tag = client.get(path, headers=org.headers).headers["etag"]
    response = client.post(
        f"{path}/secret-rotations",
        content=b"null",
        headers=org.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    [param] = response.json()["invalidParams"]
    assert (param["name"], param["in"]) == ("body", "body")
    assert client.get(path, headers=org.headers).headers["etag"] == tag
