"""What the service answers is what the published contract (openapi/openapi.json) says it answers.

Error answers and writes, driven by hand through the app: every answer a test here gets must be
a status documented for its operation, with a body valid against the schema documented for that
status and media type (`application/problem+json` for errors) and the response headers the
contract documents for it (`ETag`, `Location`, `Retry-After`, ...). Headers that are there only
sometimes are named in `SOMETIMES`; a header the service sends that the contract does not
document for that answer is a mismatch too. (The fuzzing in tests/test_fuzz_contract.py sends
generated requests and catches undocumented statuses; it rarely gets a write through, a replay, a
stale `If-Match` or a conflict, which is what is walked here.)
"""

import json
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from tests.aftercare.housing import house, housed_proposal
from tests.clock import TODAY, iso
from tests.conftest import OPERATOR, case_body, vacancy_body, writable_limits
from tests.imports.sheets import CASES, case_row, dwelling_row, table, upload, xlsx

CONTRACT = json.loads(
    (Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text()
)
PREFIX = CONTRACT["servers"][0]["url"]  # /v1

# Headers the contract documents that an answer carries only in some cases: the replay marker
# (only on a replay) and the `Location` of a conflict (only when there is one resource the request
# conflicts with).
SOMETIMES = {"Idempotent-Replayed", "409 Location"}
# Headers whose presence a client acts on: sent, they must be documented for that answer.
MEANINGFUL = ("ETag", "Location", "Retry-After", "Idempotent-Replayed")


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


TEMPLATES = [(_template_pattern(t), t) for t in CONTRACT["paths"]]


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The contract's path template and operation a request went to."""
    assert path.startswith(PREFIX + "/"), path
    local = path.removeprefix(PREFIX)
    # A literal segment wins over a parameter (/cases/imports is not /cases/{case_id}).
    matches = sorted((t.count("{"), t) for pattern, t in TEMPLATES if pattern.match(local))
    assert matches, f"{path} is in no path of the contract"
    template = matches[0][1]
    operations = CONTRACT["paths"][template]
    assert method.lower() in operations, f"{method} {template} is no operation of the contract"
    return template, operations[method.lower()]


@cache
def validator(pointer: str) -> Any:
    """A validator of the schema at `pointer` (`#/components/schemas/...`) or of an inline schema
    (given as its JSON), with the contract's components to resolve references in."""
    schema = {"$ref": pointer} if pointer.startswith("#/") else json.loads(pointer)
    schema = {**schema, "components": CONTRACT["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def _resolve(item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        node: Any = CONTRACT
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def mismatches(response: httpx.Response) -> list[str]:
    """How `response` departs from what the contract documents for its request (empty: none)."""
    request = response.request
    template, operation = operation_of(request.method, request.url.path)
    where = f"{request.method} {template} -> {response.status_code}"
    status = str(response.status_code)
    documented = operation["responses"].get(status)
    if documented is None:
        return [f"{where}: status not documented ({sorted(operation['responses'])})"]
    found = []
    content = documented.get("content") or {}
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if response.content:
        if media not in content:
            found.append(f"{where}: body as {media!r}, documented: {sorted(content) or 'none'}")
        elif "json" in media and "schema" in content[media]:
            schema = content[media]["schema"]
            pointer = schema["$ref"] if set(schema) == {"$ref"} else json.dumps(schema)
            errors = [
                f"{'/'.join(map(str, e.instance_path))}: {e.message}"
                for e in validator(pointer).iter_errors(response.json())
            ]
            if errors:
                found.append(f"{where}: body not valid against {pointer:.60}: {errors[:3]}")
    elif content and response.status_code not in (204, 304) and request.method != "HEAD":
        found.append(f"{where}: no body, documented: {sorted(content)}")
    headers = {name: _resolve(h) for name, h in (documented.get("headers") or {}).items()}
    for name in headers:
        if name in SOMETIMES or f"{status} {name}" in SOMETIMES:
            continue
        if name not in response.headers:
            found.append(f"{where}: documented header {name} not sent")
    for name in MEANINGFUL:
        if name in response.headers and name not in headers:
            found.append(f"{where}: header {name} sent, not documented")
    for name, header in headers.items():
        if name in response.headers and "schema" in header:
            value: Any = response.headers[name]
            if header["schema"].get("type") == "integer" and value.isdigit():
                value = int(value)
            errors = [e.message for e in validator(json.dumps(header["schema"])).iter_errors(value)]
            if errors:
                found.append(f"{where}: header {name}: {value!r}: {errors}")
    if (
        media == "application/problem+json"
        and response.json().get("status") != response.status_code
    ):
        found.append(f"{where}: problem's status {response.json().get('status')}")
    return found


class Recorder:
    """Every answer a client got, to be held against the contract at the end of a test."""

    def __init__(self, client: TestClient) -> None:
        self.responses: list[httpx.Response] = []
        client.event_hooks["response"].append(self._record)

    def _record(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)

    def statuses(self) -> set[int]:
        return {r.status_code for r in self.responses}

    def assert_all_documented(self) -> None:
        found = [m for r in self.responses for m in mismatches(r)]
        assert not found, f"{len(found)} answer(s) not as documented:\n" + "\n".join(
            dict.fromkeys(found)
        )


@pytest.fixture
def answers(client: TestClient) -> Recorder:
    return Recorder(client)


def test_the_checker_finds_an_undocumented_status_body_and_header():
    def answer(status: int, **kwargs: Any) -> httpx.Response:
        request = httpx.Request("PATCH", f"http://testserver{PREFIX}/cases/{uuid.uuid4()}")
        return httpx.Response(status, request=request, **kwargs)

    problem = {"type": "about:blank", "title": "Gone", "status": 410, "code": "gone"}
    assert mismatches(answer(410, json=problem)) == [
        "PATCH /cases/{case_id} -> 410: status not documented "
        "(['200', '400', '401', '403', '404', '406', '409', '412', '413', '415', '503'])"
    ]
    not_a_problem = answer(
        404, json={"status": 404}, headers={"content-type": "application/problem+json"}
    )
    [invalid] = mismatches(not_a_problem)
    assert "body not valid against #/components/schemas/Problem" in invalid
    as_json = answer(404, json={**problem, "status": 404})
    assert mismatches(as_json) == [
        "PATCH /cases/{case_id} -> 404: body as 'application/json', "
        "documented: ['application/problem+json']"
    ]
    headers = {"content-type": "application/problem+json", "ETag": '"1"'}
    without_etag = answer(412, json={**problem, "status": 412}, headers=headers)
    assert mismatches(without_etag) == [
        "PATCH /cases/{case_id} -> 412: header ETag sent, not documented"
    ]
    assert operation_of("POST", f"{PREFIX}/cases/imports")[0] == "/cases/imports"


def test_case_writes_and_their_refusals_answer_as_documented(client, region, answers):
    provider, corporation = region.care_provider, region.corporation
    body = case_body(region.table_id)
    keyed = {**provider.headers, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    created = client.post("/v1/cases", json=body, headers=keyed)
    assert created.status_code == 201
    assert client.post("/v1/cases", json=body, headers=keyed).status_code == 200  # replay
    other = case_body(region.table_id)
    assert client.post("/v1/cases", json=other, headers=keyed).status_code == 422
    assert client.post("/v1/cases", json=body, headers=provider.headers).status_code == 409
    assert client.post("/v1/cases", json=body).status_code == 401
    bad_key = {"Authorization": "Bearer nonsense"}
    assert client.post("/v1/cases", json=body, headers=bad_key).status_code == 401
    fresh = case_body(region.table_id)
    assert client.post("/v1/cases", json=fresh, headers=corporation.headers).status_code == 403
    assert (
        client.post(
            "/v1/cases", json={**fresh, "birth_year": "x"}, headers=provider.headers
        ).status_code
        == 400
    )
    as_text = {**provider.headers, "Content-Type": "text/plain"}
    assert client.post("/v1/cases", content=json.dumps(fresh), headers=as_text).status_code == 415
    case_id = created.json()["id"]
    path = f"/v1/cases/{case_id}"
    etag = created.headers["ETag"]
    changed = client.patch(
        path, json={"birth_year": 1980}, headers={**provider.headers, "If-Match": etag}
    )
    assert changed.status_code == 200
    stale = client.patch(
        path, json={"birth_year": 1981}, headers={**provider.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.patch(path, json={"birth_year": 0}, headers=provider.headers).status_code == 400
    assert client.patch(
        path, json={"birth_year": 1980}, headers=region.other_care_provider.headers
    ).status_code in (403, 404)
    assert (
        client.patch(f"/v1/cases/{uuid.uuid4()}", json={}, headers=provider.headers).status_code
        == 404
    )
    assert client.patch("/v1/cases/not-an-id", json={}, headers=provider.headers).status_code == 400
    assert (
        client.get(
            path,
            headers={
                **provider.headers,
                "If-None-Match": client.get(path, headers=provider.headers).headers["ETag"],
            },
        ).status_code
        == 304
    )
    answers.assert_all_documented()


def with_(org_or_headers: Any, **extra: str) -> dict[str, str]:
    headers = getattr(org_or_headers, "headers", org_or_headers)
    return {**headers, **{k.replace("_", "-"): v for k, v in extra.items()}}


def test_dwelling_writes_and_their_refusals_answer_as_documented(client, region, answers):
    corporation = region.corporation
    body = vacancy_body()
    keyed = with_(corporation, Idempotency_Key=f"k-{uuid.uuid4()}")
    created = client.post("/v1/vacancies", json=body, headers=keyed)
    assert created.status_code == 201
    assert client.post("/v1/vacancies", json=body, headers=keyed).status_code == 200  # replay
    changed = body | {"rooms": body["rooms"] + 1}
    assert (
        client.post("/v1/vacancies", json=changed, headers=corporation.headers).status_code == 200
    )
    stale = with_(corporation, If_Match=created.headers["ETag"])
    assert client.post("/v1/vacancies", json=body, headers=stale).status_code == 412
    assert (
        client.post("/v1/vacancies", json=body, headers=region.care_provider.headers).status_code
        == 403
    )
    assert (
        client.post(
            "/v1/vacancies", json=body | {"rooms": -1}, headers=corporation.headers
        ).status_code
        == 400
    )
    batch = {"items": [vacancy_body(), vacancy_body()]}
    assert (
        client.post("/v1/vacancies/batch", json=batch, headers=corporation.headers).status_code
        == 200
    )
    refused = {"items": [vacancy_body(), vacancy_body(rooms=-1)]}
    assert (
        client.post("/v1/vacancies/batch", json=refused, headers=corporation.headers).status_code
        == 400
    )
    path = f"/v1/vacancies/{created.json()['id']}"
    current = client.get(path, headers=corporation.headers).headers["ETag"]
    assert client.delete(path, headers=region.other_corporation.headers).status_code in (403, 404)
    assert client.delete(path, headers=with_(corporation, If_Match='"999"')).status_code == 412
    assert client.delete(path, headers=with_(corporation, If_Match=current)).status_code == 204
    assert client.delete(path, headers=corporation.headers).status_code == 204  # already gone
    assert (
        client.delete(f"/v1/vacancies/{uuid.uuid4()}", headers=corporation.headers).status_code
        == 404
    )
    answers.assert_all_documented()


def test_operator_writes_and_their_refusals_answer_as_documented(client, region, answers):
    organisation = {"name": f"Gemeente {uuid.uuid4().hex[:6]}", "kind": "municipality"}
    keyed = with_(OPERATOR, Idempotency_Key=f"k-{uuid.uuid4()}")
    created = client.post("/v1/organizations", json=organisation, headers=keyed)
    assert created.status_code == 201
    assert client.post("/v1/organizations", json=organisation, headers=keyed).status_code == 200
    assert client.post("/v1/organizations", json=organisation, headers=OPERATOR).status_code == 409
    assert (
        client.post(
            "/v1/organizations", json=organisation, headers=region.chair.headers
        ).status_code
        == 403
    )
    org_id = created.json()["id"]
    keys = f"/v1/organizations/{org_id}/api-keys"
    key_keyed = with_(OPERATOR, Idempotency_Key=f"k-{uuid.uuid4()}")
    issued = client.post(keys, json={"label": "koppeling"}, headers=key_keyed)
    assert issued.status_code == 201
    assert client.post(keys, json={"label": "koppeling"}, headers=key_keyed).status_code == 409
    assert (
        client.post(
            f"/v1/organizations/{uuid.uuid4()}/api-keys", json={"label": "x"}, headers=OPERATOR
        ).status_code
        == 404
    )
    key_path = f"{keys}/{issued.json()['id']}"
    assert client.delete(key_path, headers=OPERATOR).status_code == 204
    assert client.delete(f"{keys}/{uuid.uuid4()}", headers=OPERATOR).status_code == 404
    table = {
        "name": f"Tafel {uuid.uuid4().hex[:6]}",
        "municipality_codes": ["GM0363"],
        "chair_organisation_id": org_id,
        "member_organisation_ids": [],
    }
    made = client.post("/v1/tables", json=table, headers=OPERATOR)
    assert made.status_code == 201
    assert client.post(
        "/v1/tables", json=table | {"chair_organisation_id": str(uuid.uuid4())}, headers=OPERATOR
    ).status_code in (400, 404, 409)
    table_path = f"/v1/tables/{made.json()['id']}"
    update = {"member_organisation_ids": [region.care_provider.id]}
    patched = client.patch(
        table_path, json=update, headers=with_(OPERATOR, If_Match=made.headers["ETag"])
    )
    assert patched.status_code == 200
    assert (
        client.patch(
            table_path, json=update, headers=with_(OPERATOR, If_Match=made.headers["ETag"])
        ).status_code
        == 412
    )
    areas = f"/v1/tables/{region.table_id}/areas"
    for status in (201, 200):  # named, then named again
        assert (
            client.put(
                f"{areas}/BU03449999", json={"name": "Nieuwbouw"}, headers=region.chair.headers
            ).status_code
            == status
        )
    assert (
        client.put(
            f"{areas}/BU03449999", json={"name": "x"}, headers=region.care_provider.headers
        ).status_code
        == 403
    )
    assert (
        client.put(
            f"{areas}/nonsense", json={"name": "x"}, headers=region.chair.headers
        ).status_code
        == 400
    )
    assert (
        client.put(
            f"{areas}/BU03449999",
            json={"name": "Oud"},
            headers=with_(region.chair, If_None_Match="*"),
        ).status_code
        == 412
    )
    answers.assert_all_documented()


def test_limit_writes_and_their_refusals_answer_as_documented(client, answers):
    current = client.get("/v1/limits", headers=OPERATOR).json()
    latest = max(current["items"], key=lambda item: item["year"])
    figures = client.get(f"/v1/limits/{latest['year']}", headers=OPERATOR)
    body = writable_limits(figures.json())
    year = latest["year"] + 3
    created = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
    assert created.status_code == 201
    again = client.put(
        f"/v1/limits/{year}", json=body, headers=with_(OPERATOR, If_Match=created.headers["ETag"])
    )
    assert again.status_code == 200
    assert (
        client.put(
            f"/v1/limits/{year}", json=body, headers=with_(OPERATOR, If_Match='"999"')
        ).status_code
        == 412
    )
    assert (
        client.put(
            f"/v1/limits/{year + 1}", json=body, headers=with_(OPERATOR, If_None_Match="*")
        ).status_code
        == 201
    )
    assert (
        client.put(
            f"/v1/limits/{year + 1}", json=body, headers=with_(OPERATOR, If_None_Match="*")
        ).status_code
        == 412
    )
    assert (
        client.put(f"/v1/limits/{year}", json=body | {"low_cap": "x"}, headers=OPERATOR).status_code
        == 400
    )
    assert (
        client.put(
            f"/v1/limits/{year}", json=body, headers={"Authorization": "Bearer x"}
        ).status_code
        == 401
    )
    assert (
        client.delete(f"/v1/limits/{year}", headers=with_(OPERATOR, If_Match='"999"')).status_code
        == 412
    )
    assert client.delete(f"/v1/limits/{year}", headers=OPERATOR).status_code == 204
    assert client.delete(f"/v1/limits/{year}", headers=OPERATOR).status_code == 404
    answers.assert_all_documented()


def test_table_process_writes_and_their_refusals_answer_as_documented(client, region, answers):
    chair, provider, corporation = region.chair, region.care_provider, region.corporation
    case = house(client, region, -100)  # a meeting, its publication and every decision
    meetings = f"/v1/tables/{region.table_id}/meetings"
    keyed = with_(chair, Idempotency_Key=f"k-{uuid.uuid4()}")
    meeting = client.post(meetings, json={"date": iso(14)}, headers=keyed)
    assert meeting.status_code == 201
    assert client.post(meetings, json={"date": iso(14)}, headers=keyed).status_code == 200
    assert client.post(meetings, json={"date": iso(14)}, headers=chair.headers).status_code == 409
    assert (
        client.post(meetings, json={"date": iso(15)}, headers=provider.headers).status_code == 403
    )
    assert client.post(meetings, json={"date": "soon"}, headers=chair.headers).status_code == 400
    meeting_path = f"/v1/meetings/{meeting.json()['id']}"
    stale = with_(chair, If_Match='"999"')
    assert client.post(f"{meeting_path}/publish", headers=stale).status_code == 412
    assert client.post(f"{meeting_path}/publish", headers=provider.headers).status_code == 403
    assert (
        client.post(f"/v1/meetings/{uuid.uuid4()}/publish", headers=chair.headers).status_code
        == 404
    )
    assert client.post(f"{meeting_path}/publish", headers=chair.headers).status_code == 200
    assert client.post(f"{meeting_path}/publish", headers=chair.headers).status_code == 409
    proposal = housed_proposal(client, region, case["id"])
    held = f"/v1/meetings/{proposal['meeting_id']}"
    minutes = client.get(f"{held}/minutes", headers=chair.headers)
    assert client.post(f"{held}/minutes/final", headers=stale).status_code == 412
    final = with_(chair, If_Match=minutes.headers["ETag"])
    assert client.post(f"{held}/minutes/final", headers=final).status_code == 200
    assert client.post(f"{meeting_path}/minutes/final", headers=chair.headers).status_code == 409
    decisions = f"/v1/proposals/{proposal['id']}/decisions"
    assert (
        client.post(decisions, json={"decision": "nominate"}, headers=chair.headers).status_code
        == 409
    )
    assert (
        client.post(decisions, json={"decision": "sideways"}, headers=chair.headers).status_code
        == 400
    )
    assert (
        client.post(
            f"/v1/proposals/{uuid.uuid4()}/decisions",
            json={"decision": "nominate"},
            headers=chair.headers,
        ).status_code
        == 404
    )

    actions = f"/v1/tables/{region.table_id}/actions"
    action = {
        "kind": "plan_viewing",
        "owner_organisation_id": corporation.id,
        "due_date": iso(7),
        "case_id": case["id"],
    }
    keyed = with_(chair, Idempotency_Key=f"k-{uuid.uuid4()}")
    created = client.post(actions, json=action, headers=keyed)
    assert created.status_code == 201
    assert client.post(actions, json=action, headers=keyed).status_code == 200
    assert (
        client.post(actions, json=action | {"due_date": iso(8)}, headers=keyed).status_code == 422
    )
    action_path = f"/v1/actions/{created.json()['id']}"
    assert (
        client.patch(
            action_path, json={"status": "done"}, headers=with_(corporation, If_Match='"999"')
        ).status_code
        == 412
    )
    assert (
        client.patch(action_path, json={"status": "done"}, headers=corporation.headers).status_code
        == 200
    )

    tenancy = f"/v1/cases/{case['id']}/tenancy"
    assert (
        client.patch(
            tenancy,
            json={"ended_on": iso(0), "end_reason": "moved_on"},
            headers=with_(provider, If_Match='"999"'),
        ).status_code
        == 412
    )
    agreement = {
        "support_intensity": "moderate",
        "support_organisation_id": provider.id,
        "contact_frequency": "fortnightly",
        "starts_on": iso(-30),
    }
    aftercare = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(aftercare, json=agreement, headers=provider.headers)
    assert made.status_code == 201
    weekly = agreement | {"contact_frequency": "weekly"}
    assert (
        client.put(
            aftercare, json=weekly, headers=with_(provider, If_Match=made.headers["ETag"])
        ).status_code
        == 200
    )
    assert (
        client.put(
            aftercare, json=agreement, headers=with_(provider, If_Match=made.headers["ETag"])
        ).status_code
        == 412
    )
    assert client.put(aftercare, json=agreement, headers=corporation.headers).status_code in (
        403,
        404,
    )
    checkpoints = f"/v1/cases/{case['id']}/checkpoints"
    checkpoint = {
        "months": 3,
        "recorded_on": iso(0),
        "still_living_there": True,
        "support_active": True,
        "signals": [],
    }
    keyed = with_(provider, Idempotency_Key=f"k-{uuid.uuid4()}")
    first = client.post(checkpoints, json=checkpoint, headers=keyed)
    assert first.status_code == 201, first.text
    assert client.post(checkpoints, json=checkpoint, headers=keyed).status_code == 200
    assert (
        client.post(
            checkpoints, json=checkpoint | {"months": 0}, headers=provider.headers
        ).status_code
        == 400
    )

    contingent = f"/v1/tables/{region.table_id}/contingent-agreements/{TODAY.year}/{corporation.id}"
    agreed = client.put(contingent, json={"agreed": 3}, headers=chair.headers)
    assert agreed.status_code == 201
    assert (
        client.put(
            contingent, json={"agreed": 4}, headers=with_(chair, If_Match=agreed.headers["ETag"])
        ).status_code
        == 200
    )
    assert (
        client.put(
            contingent, json={"agreed": 5}, headers=with_(chair, If_Match=agreed.headers["ETag"])
        ).status_code
        == 412
    )
    assert (
        client.put(contingent, json={"agreed": 5}, headers=corporation.headers).status_code == 403
    )
    answers.assert_all_documented()


def test_webhook_and_people_writes_and_their_refusals_answer_as_documented(client, region, answers):
    provider = region.care_provider
    hook = {"url": "https://receiver.example.org/hook", "events": ["agenda.published"]}
    keyed = with_(provider, Idempotency_Key=f"k-{uuid.uuid4()}")
    created = client.post("/v1/webhooks", json=hook, headers=keyed)
    assert created.status_code == 201
    assert client.post("/v1/webhooks", json=hook, headers=keyed).status_code == 200
    assert (
        client.post(
            "/v1/webhooks", json=hook | {"events": ["nonsense"]}, headers=provider.headers
        ).status_code
        == 400
    )
    path = f"/v1/webhooks/{created.json()['id']}"
    etag = client.get(path, headers=provider.headers).headers["ETag"]
    assert (
        client.patch(
            path, json={"active": False}, headers=with_(provider, If_Match=etag)
        ).status_code
        == 200
    )
    assert (
        client.patch(
            path, json={"active": True}, headers=with_(provider, If_Match=etag)
        ).status_code
        == 412
    )
    assert (
        client.patch(path, json={"active": True}, headers=region.corporation.headers).status_code
        == 404
    )
    rotated = client.post(
        f"{path}/secret-rotations", json={"previous_secret_hours": 1}, headers=provider.headers
    )
    assert rotated.status_code == 200
    assert (
        client.post(
            f"{path}/secret-rotations", json={}, headers=with_(provider, If_Match='"999"')
        ).status_code
        == 412
    )
    deliveries = f"{path}/deliveries/{uuid.uuid4()}/redeliveries"
    assert client.post(deliveries, headers=provider.headers).status_code == 404
    assert client.delete(path, headers=with_(provider, If_Match='"999"')).status_code == 412
    assert client.delete(path, headers=provider.headers).status_code == 204
    assert client.delete(path, headers=provider.headers).status_code == 404

    people = f"/v1/organizations/{provider.id}/people"
    person = {"email": f"{uuid.uuid4().hex[:8]}@zorg.nl", "display_name": "A", "role": "member"}
    made = client.post(people, json=person, headers=provider.headers)
    assert made.status_code == 201
    assert client.post(people, json=person, headers=provider.headers).status_code == 409
    assert (
        client.post(people, json=person | {"email": "nope"}, headers=provider.headers).status_code
        == 400
    )
    assert (
        client.post(
            f"/v1/organizations/{region.corporation.id}/people",
            json=person,
            headers=provider.headers,
        ).status_code
        == 403
    )
    person_path = f"{people}/{made.json()['id']}"
    assert (
        client.patch(
            person_path,
            json={"role": "viewer"},
            headers=with_(provider, If_Match=made.headers["ETag"]),
        ).status_code
        == 200
    )
    assert (
        client.patch(
            person_path,
            json={"role": "member"},
            headers=with_(provider, If_Match=made.headers["ETag"]),
        ).status_code
        == 412
    )
    notices = {"agenda_published": True, "actions": True, "proposals": False, "digest": True}
    assert (
        client.put(
            f"{person_path}/notice-preferences", json=notices, headers=provider.headers
        ).status_code
        == 200
    )
    assert (
        client.put(
            f"{person_path}/notice-preferences", json={"digest": "often"}, headers=provider.headers
        ).status_code
        == 400
    )
    assert (
        client.put(
            f"{person_path}/notice-preferences",
            json=notices,
            headers=with_(provider, If_Match='"0"'),
        ).status_code
        == 412
    )
    read = client.get(f"{person_path}/notice-preferences", headers=provider.headers)
    assert (
        client.get(
            f"{person_path}/notice-preferences",
            headers=with_(provider, If_None_Match=read.headers["ETag"]),
        ).status_code
        == 304
    )
    answers.assert_all_documented()


@pytest.mark.settings(rate_limit_batch_per_minute=1)
def test_a_refusal_for_the_rate_or_the_method_answers_as_documented(client, region, answers):
    corporation = region.corporation
    batch = {"items": [vacancy_body()]}
    assert (
        client.post("/v1/vacancies/batch", json=batch, headers=corporation.headers).status_code
        == 200
    )
    assert (
        client.post("/v1/vacancies/batch", json=batch, headers=corporation.headers).status_code
        == 429
    )
    answers.assert_all_documented()
    # A method the contract has no operation for: 405 problem+json whose `Allow` names the
    # contract's operations on that path.
    for template, operations in CONTRACT["paths"].items():
        path = PREFIX + template.replace("{", "").replace("}", "")
        for method in {"put", "patch", "delete"} - set(operations):
            refused = client.request(method.upper(), path, headers=OPERATOR)
            assert refused.status_code == 405, (method, template)
            assert refused.headers["content-type"].startswith("application/problem+json")
            allowed = {m.strip().lower() for m in refused.headers["Allow"].split(",")}
            documented = set(operations) | ({"head"} if "get" in operations else set())
            assert allowed - {"options"} == documented, (method, template, allowed)


def _filled(template: str, value: str) -> str:
    """The template's path with every parameter `value` (a year where it names a year)."""
    return PREFIX + re.sub(r"\{([^}]+)\}", lambda m: "2026" if m[1] == "year" else value, template)


def test_every_operation_refuses_as_documented(client, region, answers):
    # Unknown or malformed ids, no key or a key of one kind of caller or another (in turn), and
    # a body that is empty, of the wrong shape or of another media type: whatever the refusal,
    # it is documented.
    callers = [OPERATOR, region.chair.headers, region.care_provider.headers]
    callers.append(region.corporation.headers)
    turn = 0
    for template, operations in CONTRACT["paths"].items():
        unknown, malformed = _filled(template, str(uuid.uuid4())), _filled(template, "not-an-id")
        for method, operation in operations.items():
            headers = callers[turn % len(callers)]
            turn += 1
            body: dict[str, Any] = {"json": {}} if "requestBody" in operation else {}
            client.request(method, unknown, **body)
            client.request(method, malformed, headers=OPERATOR, **body)
            client.request(method, unknown, headers=headers, **body)
            if body:
                client.request(method, unknown, json=[1], headers=headers)
                text = {**headers, "Content-Type": "text/plain"}
                client.request(method, unknown, content=b"{}", headers=text)
    assert {400, 401, 403, 404, 415} <= answers.statuses()
    answers.assert_all_documented()


@pytest.mark.settings(import_max_bytes=20_000)
def test_imports_and_their_refusals_answer_as_documented(client, region, answers):
    rows = table([case_row("K-1"), case_row("K-2", birth_year="x")])
    keyed = with_(region.care_provider, Idempotency_Key=f"k-{uuid.uuid4()}")
    sheet = xlsx(rows)
    for _ in range(2):  # the first answer and its replay
        imported = upload(client, CASES, sheet, keyed, table_id=region.table_id)
        assert imported.status_code == 200, imported.text
    provider = region.care_provider.headers
    # Not a spreadsheet: its file-level issue, as whatever status the service gives it.
    upload(client, CASES, b"\x00\x01", provider, "x.xlsx", table_id=region.table_id)
    too_large = upload(client, CASES, b"x" * 30_000, provider, "x.csv", table_id=region.table_id)
    assert too_large.status_code == 413
    dwellings = table([dwelling_row("W-1")])
    assert (
        upload(
            client, "/v1/vacancies/imports", xlsx(dwellings), region.corporation.headers
        ).status_code
        == 200
    )
    answers.assert_all_documented()


def test_an_accept_the_operation_cannot_answer_is_a_documented_406(client, region, answers):
    """`app.acceptable` answers 406 to an `Accept` that takes none of an operation's media
    types, after the key and before anything changes; the contract declared 406 nowhere, so a
    client coded against it met a status it had no case for."""
    xml = {"Accept": "application/xml"}
    provider, chair = with_(region.care_provider, **xml), with_(region.chair, **xml)
    case = client.post(
        "/v1/cases", json=case_body(region.table_id), headers=region.care_provider.headers
    )
    for response in (
        client.get("/v1/cases", headers=provider),
        client.post("/v1/cases", json=case_body(region.table_id), headers=provider),
        client.patch(f"/v1/cases/{case.json()['id']}", json={"urgency": True}, headers=provider),
        client.get(f"/v1/tables/{region.table_id}/monitor", headers=chair),
        client.get("/v1/cases/imports/template", headers=provider),
    ):
        assert response.status_code == 406, response.request.url
    answers.assert_all_documented()


def test_the_contract_declares_406_exactly_where_an_answer_has_a_body():
    # A deletion (204) answers any Accept: no 406 there.
    for path, operations in CONTRACT["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            bodies = any(r.get("content") for s, r in responses.items() if s.startswith("2"))
            assert ("406" in responses) == bodies, f"{method.upper()} {path}"


@pytest.mark.settings(max_body_bytes=100_000, import_max_bytes=20_000)
def test_a_body_over_the_limit_is_a_documented_413_on_every_operation_taking_one(
    client, region, answers
):
    """Any body over `UITSTROOM_MAX_BODY_BYTES` is a 413 (`app.body_limit`); the
    contract declared it only for the batch and the imports, so a case file with a long
    enough note met a status its operation did not document."""
    big = {"padding": "x" * 100_001}
    provider = region.care_provider.headers
    case = client.post("/v1/cases", json=case_body(region.table_id), headers=provider).json()
    for response in (
        client.post("/v1/cases", json=big, headers=provider),
        client.patch(f"/v1/cases/{case['id']}", json=big, headers=provider),
        client.put("/v1/limits/2040", json=big, headers=OPERATOR),
        client.post("/v1/webhooks", json=big, headers=provider),
    ):
        assert response.status_code == 413, response.request.url
    answers.assert_all_documented()
    for path, operations in CONTRACT["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], f"{method.upper()} {path}"
