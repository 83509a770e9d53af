"""JSON bodies are read as I-JSON (RFC 7493) on every route (app.json_body): a member name twice
in one object, bytes that are no UTF-8 and a number no field could hold are refused with a 400
that names the body and says which of these it is."""

import json
import re
import uuid
from typing import Any

import pytest
from fastapi import params
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.json_body import JsonBodyRoute, UnreadableBody, parse
from app.main import create_app
from app.schemas import _money_input
from app.vacancies.models import ValidBatch
from tests.api.helpers import assert_problem
from tests.conftest import OPERATOR, case_body, vacancy_body
from tests.test_route_commits import _api_routes

JSON = {"Content-Type": "application/json"}


def _refusal(response) -> str:  # type: ignore[no-untyped-def]
    """The reason of a 400 that names the body as unreadable JSON."""
    problem = assert_problem(response, 400, "validation_error")
    [param] = problem["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == ("body", "body", "json_invalid")
    return str(param["reason"])


def test_a_member_name_twice_in_one_object_is_refused(client):
    body = b'{"name": "Gemeente Ede", "name": "Gemeente Epe", "kind": "municipality"}'
    response = client.post("/v1/organizations", content=body, headers={**OPERATOR, **JSON})
    reason = _refusal(response)
    assert '"name" occurs twice' in reason
    names = [o["name"] for o in client.get("/v1/organizations", headers=OPERATOR).json()["items"]]
    assert "Gemeente Ede" not in names and "Gemeente Epe" not in names


def test_a_member_name_twice_in_a_nested_object_is_refused(client, small_region):
    text = json.dumps(case_body(small_region.table_id, household={"adults": 1}))
    text = text.replace('"adults": 1', '"adults": 1, "adults": 2')
    response = client.post(
        "/v1/cases", content=text, headers={**small_region.care_provider.headers, **JSON}
    )
    assert '"adults" occurs twice' in _refusal(response)


def test_a_valid_vacancy_batch_with_a_member_name_twice_is_refused_and_stores_nothing(
    client, small_region
):
    items = [vacancy_body(), vacancy_body(rooms=2)]
    text = json.dumps({"items": items}).replace('"rooms": 2', '"rooms": 2, "rooms": 3')
    headers = {**small_region.corporation.headers, **JSON}
    response = client.post("/v1/vacancies/batch", content=text, headers=headers)
    assert '"rooms" occurs twice' in _refusal(response)
    assert client.get("/v1/vacancies", headers=headers).json()["items"] == []


def test_the_same_name_in_two_objects_is_no_duplicate(client):
    body = {"name": "Gemeente Ede", "kind": "municipality"}
    response = client.post(
        "/v1/organizations", content=json.dumps(body), headers={**OPERATOR, **JSON}
    )
    assert response.status_code == 201, response.text
    org = response.json()["id"]
    response = client.post(
        f"/v1/organizations/{org}/api-keys",
        content=b'{"label": "zaaksysteem"}',
        headers={**OPERATOR, **JSON},
    )
    assert response.status_code == 201, response.text


def test_every_route_with_a_body_reads_it_as_i_json():
    json_routes = [
        route
        for route in _api_routes(create_app().routes)
        if isinstance(route, APIRoute) and route.body_field is not None
    ]
    assert len(json_routes) > 20  # the API's writes (forms: the imports and the pages)
    assert [r.path for r in json_routes if not isinstance(r, JsonBodyRoute)] == []


def _lax_numbers(schema: Any, types: tuple[str, ...], path: str = "") -> list[str]:
    """The fields of a pydantic core schema whose type is one of `types` and that take it in
    lax mode ("2" or true as an integer, "yes", 1 or "off" as a boolean, "7.5" or true as a
    decimal number); money (`Money`) takes a string on purpose, never a yes/no."""
    if isinstance(schema, list):
        return [name for item in schema for name in _lax_numbers(item, types, path)]
    if not isinstance(schema, dict):
        return []
    if schema.get("type") == "function-before" and schema["function"]["function"] is _money_input:
        return []
    if schema.get("type") in types and not schema.get("strict"):
        return [path]
    found = []
    for key, value in schema.items():
        if key == "fields" and isinstance(value, dict):
            for name, field in value.items():
                found += _lax_numbers(field, types, f"{path}.{name}")
        elif key != "serialization":
            found += _lax_numbers(value, types, path)
    return found


def _lax_bodies(*types: str) -> dict[str, list[str]]:
    """Every JSON body's lax fields of `types` (`_lax_numbers`), by route."""
    bodies: dict[str, Any] = {"batch items": ValidBatch}  # the batch's own one-pass parse
    for route in _api_routes(create_app().routes):
        body = route.body_field
        if body is not None and not isinstance(body.field_info, params.Form):
            bodies[f"{sorted(route.methods)[0]} {route.path}"] = body.field_info.annotation
    assert len(bodies) > 20
    return {
        name: found
        for name, annotation in bodies.items()
        if (found := _lax_numbers(TypeAdapter(annotation).core_schema, types))
    }


def test_every_integer_and_yes_no_of_a_json_body_takes_only_its_json_type():
    # A case file's did since 057533c; a dwelling, a table's policy, a checkpoint, a person, a
    # webhook, a year's limits, notice choices and a contingent agreement still stored "yes"
    # as true, "off" as false and "3" or true as a number. Forms (the imports) are text.
    assert _lax_bodies("int", "bool") == {}


def test_every_decimal_number_of_a_json_body_takes_only_a_json_number():
    # A table policy's score_weights took {"urgency": "7.5", "registration": true} as 7.5 and
    # 1.0 points after its integers and yes/no fields stopped taking either. Money takes its
    # digits as a string on purpose (the contract's pattern), never a yes/no.
    assert _lax_bodies("float", "decimal") == {}


@pytest.mark.parametrize(
    ("body", "byte"),
    [
        (b'{"name": "Gemeente \xff", "kind": "municipality"}', "byte 19 is 0xff"),
        (b'{"name": "Gemeente \xe9de", "kind": "municipality"}', "byte 19 is 0xe9"),  # Latin-1
        (b'{"name": "Gemeente \xed\xa0\x80", "kind": "municipality"}', "byte 19 is 0xed"),
    ],
    ids=["0xff", "latin-1", "encoded-surrogate"],
)
def test_a_body_that_is_not_utf8_is_refused_saying_so(client, body, byte):
    response = client.post("/v1/organizations", content=body, headers={**OPERATOR, **JSON})
    reason = _refusal(response)
    assert "not valid UTF-8" in reason
    assert byte in reason


def test_a_number_of_5000_digits_is_refused_as_too_long(client, small_region):
    text = json.dumps(case_body(small_region.table_id)).replace(
        '"adults": 1', '"adults": ' + "1" * 5000
    )
    response = client.post(
        "/v1/cases", content=text, headers={**small_region.care_provider.headers, **JSON}
    )
    assert "has more than 4300 digits" in _refusal(response)


def test_json_nested_too_deeply_is_refused_saying_so(client):
    body = "[" * 5000 + "]" * 5000
    response = client.post("/v1/organizations", content=body, headers={**OPERATOR, **JSON})
    assert "nested too deeply" in _refusal(response)


def test_the_byte_a_body_with_a_byte_order_mark_breaks_utf8_at_is_counted_from_its_start(client):
    body = b'\xef\xbb\xbf{"name": "Gemeente \xff", "kind": "municipality"}'
    response = client.post("/v1/organizations", content=body, headers={**OPERATOR, **JSON})
    assert "byte 22 is 0xff" in _refusal(response)


@pytest.mark.parametrize(
    ("idempotency_key", "field"),
    [(None, "external_ref"), ("k-1", "external_ref"), ("k-2", "street")],
    ids=["echoed-ref", "ref-with-key", "street-with-key"],
)
def test_a_lone_surrogate_in_a_batch_is_refused_not_an_internal_error(
    client, small_region, idempotency_key, field
):
    # `"\ud800"` is half of a UTF-16 pair: JSON's syntax allows the escape, I-JSON (RFC 7493
    # section 2.1) does not, and no UTF-8 answer can echo it. The batch's 400 names each bad
    # item's `external_ref` and its Idempotency-Key fingerprints the body: both were a 500.
    item = vacancy_body(external_ref="V-SURROGATE")
    text = json.dumps({"items": [item]})
    text = text.replace("V-SURROGATE", "V-\\ud800")
    if field == "street":
        text = text.replace("V-\\ud800", "V-1").replace(
            json.dumps(item["address"]["street"]), '"Laan \\ud800"'
        )
    headers = {**small_region.corporation.headers, **JSON}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    response = client.post("/v1/vacancies/batch", content=text, headers=headers)
    reason = _refusal(response)
    assert "\\ud800" in reason and "surrogate" in reason
    assert client.get("/v1/vacancies", headers=headers).json()["items"] == []


def test_a_lone_surrogate_in_a_member_name_is_refused(client):
    body = b'{"name": "Gemeente Ede", "kind": "municipality", "\\udc00": 1}'
    reason = _refusal(client.post("/v1/organizations", content=body, headers={**OPERATOR, **JSON}))
    assert "\\udc00" in reason


def test_a_character_escaped_as_a_surrogate_pair_is_read_as_that_character(client):
    body = b'{"name": "Gemeente \\ud83c\\udfe0 \\u00e9", "kind": "municipality"}'
    response = client.post("/v1/organizations", content=body, headers={**OPERATOR, **JSON})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Gemeente \U0001f3e0 \u00e9"


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        (r'["\ud83c\udfe0"]', None),  # a whole pair: one character
        (r'["\\ud800"]', None),  # a backslash, then the letters ud800
        (r'["\\\ud83c\udfe0"]', None),  # a backslash, then a whole pair
        (r'["\u00e9\ud800"]', "\\ud800"),
        (r'["\\\ud800"]', "\\ud800"),  # a backslash, then a first half alone
        (r'["\udfe0\ud83c"]', "\\udfe0"),  # the halves the wrong way round
        (r'["\ud83c", "\udfe0"]', "\\ud83c"),  # the halves in two strings
        (r'["\ud83c\ud83c\udfe0"]', "\\ud83c"),  # a first half, then a whole pair
        (r'{"\uDBFF": 1}', "\\udbff"),
    ],
    ids=[
        "pair",
        "escaped-backslash",
        "backslash-pair",
        "high",
        "backslash-high",
        "swapped",
        "split",
        "high-pair",
        "upper-case-name",
    ],
)
def test_only_a_half_without_its_other_half_is_refused(text, lone):
    if lone is None:
        parse(text.encode())
        return
    with pytest.raises(UnreadableBody) as refused:
        parse(text.encode())
    assert lone in refused.value.reason


UNREADABLE_BODIES = {
    "syntax": (b'{"name": ', JSON),
    "name-twice": (b'{"name": "a", "name": "b"}', JSON),
    "not-utf8": (b'{"name": "\xff"}', JSON),
    "null": (b"null", JSON),
    "utf-16": ('{"name": "a"}'.encode("utf-16"), JSON),
    "charset": (b'{"name": "a"}', {"Content-Type": "application/json; charset=latin-1"}),
    "json-patch": (b'[{"op": "add"}]', {"Content-Type": "application/json-patch+json"}),
}


@pytest.mark.parametrize("key", [None, "ust_" + "x" * 43], ids=["no-key", "unknown-key"])
@pytest.mark.parametrize("unreadable", list(UNREADABLE_BODIES))
def test_a_caller_without_a_valid_key_learns_nothing_of_its_body(
    client, small_region, key, unreadable
):
    """Authentication decides first: a body the API does not read was a 400 (or 415) before
    the key was looked at, so a caller without one was told about its input (and an attacker
    learnt the rules of the body before holding a key). Now 401, as for every other request;
    with a valid key the same body is still refused for itself."""
    body, headers = UNREADABLE_BODIES[unreadable]
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    path = f"/v1/webhooks/{uuid.uuid4()}/secret-rotations"
    for url in ("/v1/cases", path):
        refused = client.post(url, content=body, headers={**headers, **auth})
        assert_problem(refused, 401, "unauthorized")
    known = small_region.care_provider.headers
    answered = client.post("/v1/cases", content=body, headers={**headers, **known})
    assert answered.status_code in (400, 415), answered.text


UNREADABLE_FORMS = {
    "no-boundary": (b"--x\r\n", {"Content-Type": "multipart/form-data"}),
    "no-parts": (b"not a form", {"Content-Type": "multipart/form-data; boundary=x"}),
}


def _with_a_body(client: TestClient) -> list[tuple[str, str, str, bool]]:
    """Every API operation that takes a body: method, path template, path (its ids made up),
    whether its body is a form."""
    found = []
    for route in _api_routes(client.app.routes):  # type: ignore[attr-defined]
        if route.body_field is None or not route.path.startswith("/v1/"):
            continue
        path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), route.path)
        form = isinstance(route.body_field.field_info, params.Form)
        found += [(method, route.path, path, form) for method in sorted(route.methods)]
    return found


@pytest.mark.parametrize("key", [None, "ust_" + "x" * 43], ids=["no-key", "unknown-key"])
def test_every_route_decides_on_the_key_before_it_reads_the_body(client, small_region, key):
    """401 comes before anything about the body, on every operation with one: the vacancy
    batch parsed its body itself (`BatchRequest`), so no JSON, a name twice or bytes that are
    no UTF-8 answered 400 to a caller without a key, and the imports' forms (no boundary, no
    parts) were refused by FastAPI's read before the key was looked at. With a key the same
    bodies are refused for themselves."""
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    operations = _with_a_body(client)
    assert len(operations) > 25 and sum(form for *_, form in operations) == 2
    answered = {}
    for method, template, path, form in operations:
        bodies = UNREADABLE_FORMS if form else UNREADABLE_BODIES
        for name, (body, headers) in bodies.items():
            response = client.request(method, path, content=body, headers={**headers, **auth})
            answered[f"{method} {template} {name}"] = response.status_code
    assert {op: status for op, status in answered.items() if status != 401} == {}
    for url, bodies, org in (
        ("/v1/vacancies/batch", UNREADABLE_BODIES, small_region.corporation),
        ("/v1/vacancies/imports", UNREADABLE_FORMS, small_region.corporation),
    ):
        for body, headers in bodies.values():
            refused = client.post(url, content=body, headers={**headers, **org.headers})
            assert refused.status_code in (400, 415), refused.text


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"null", "application/json", 400, "model_type"),
        (b'{"items": []}', "application/json-patch+json", 415, "unsupported_media_type"),
    ],
    ids=["null", "json-patch"],
)
def test_the_vacancy_batch_refuses_a_body_it_does_not_read_as_every_route_does(
    client, small_region, body, content_type, status, code
):
    """The batch read its body itself: `null` was a 400 "Field required" where every other
    route names it as null (model_type), and a JSON Patch was read as the batch (a 400 about
    its items, or with items a batch stored) where every other route answers 415."""
    headers = {**small_region.corporation.headers, "Content-Type": content_type}
    for content in (body, json.dumps({"items": [vacancy_body()]}).encode()):
        if content_type == "application/json" and content != body:
            continue
        response = client.post("/v1/vacancies/batch", content=content, headers=headers)
        problem = assert_problem(response, status)
        if status == 400:
            [param] = problem["invalidParams"]
            assert (param["name"], param["code"]) == ("body", code)
        else:
            assert problem["code"] == code
    listed = client.get("/v1/vacancies", headers=small_region.corporation.headers)
    assert listed.json()["items"] == []
