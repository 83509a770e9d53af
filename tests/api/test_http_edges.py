"""The HTTP contract's edges: authentication decides before anything about the query, an
answer the client does not accept is a 406, an id in a path is written one way only, and every
path under /v1 is answered as the API answers."""

import re
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant

from app.api_headers import is_api_path
from app.json_body import refuse_unread_input
from app.main import create_app
from tests.api.helpers import assert_problem, invalid_names
from tests.conftest import OPERATOR, case_body, create_case, generated_contract
from tests.test_route_commits import _api_routes

SOME_ID = "0191d3a4-0000-7000-8000-000000000000"
PARAMETER_VALUES = {"year": "2026", "code": "GM0344"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    contract = generated_contract()
    base = contract["servers"][0]["url"]
    return [
        (method.upper(), base + path, operation)
        for path, methods in contract["paths"].items()
        for method, operation in methods.items()
    ]


OPERATIONS = _operations()


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMETER_VALUES.get(m.group(1), SOME_ID), path)


def _single_query_key(operation: dict[str, Any]) -> str | None:
    return next(
        (
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "query"
            and p["schema"].get("type") != "array"
            and "array" not in [s.get("type") for s in p["schema"].get("anyOf", [])]
        ),
        None,
    )


def _checks_if_match(operation: dict[str, Any]) -> bool:
    return any(p["name"] == "If-Match" for p in operation.get("parameters", []))


@pytest.mark.parametrize("key", [None, "ust_" + "x" * 43], ids=["no-key", "unknown-key"])
@pytest.mark.parametrize(
    ("method", "path", "operation"),
    OPERATIONS,
    ids=[f"{method} {path}" for method, path, _ in OPERATIONS],
)
def test_a_caller_without_a_valid_key_learns_nothing_of_its_query(
    client, method, path, operation, key
):
    """Authentication decides first, as it does for a body (fba6d7b): an unknown query key, a
    key given twice, a malformed one or a condition the operation does not check were a 400
    listing the operation's query keys before the API key was looked at."""
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    url = _url(path)
    tries: list[tuple[str, dict[str, str]]] = [(url + "?zzzUnknown=1", {})]
    if single := _single_query_key(operation):
        tries.append((f"{url}?{single}=1&{single}=2", {}))
    tries.append((url + "?limit=abc", {}))
    if not _checks_if_match(operation):
        tries.append((url, {"If-Match": '"1"'}))
    if method in ("GET", "HEAD"):
        tries.append((url, {"If-None-Match": "not an etag"}))
    for target, headers in tries:
        response = client.request(method, target, headers={**headers, **auth})
        assert_problem(response, 401, "unauthorized")


OPERATOR_ONLY = [
    ("POST", "/v1/tables?zzzUnknown=1"),
    ("PUT", "/v1/limits/2026?zzzUnknown=1"),
    ("DELETE", "/v1/limits/2026?zzzUnknown=1"),
    ("POST", "/v1/organizations?zzzUnknown=1&zzzUnknown=2"),
]


@pytest.mark.parametrize(("method", "url"), OPERATOR_ONLY)
def test_a_key_of_another_role_is_refused_for_its_role_before_its_query(
    client, small_region, method, url
):
    """An operation only the operator may use answers another key 403 whatever the query
    (the query's 400 came first and listed the operation's keys)."""
    response = client.request(method, url, headers=small_region.chair.headers)
    assert_problem(response, 403)


def test_a_valid_key_is_still_told_about_its_query(client, small_region):
    headers = small_region.care_provider.headers
    refused = client.get("/v1/cases?zzzUnknown=1", headers=headers)
    assert_problem(refused, 400, "validation_error")
    assert refused.json()["invalidParams"][0]["name"] == "zzzUnknown"
    twice = client.get("/v1/cases?limit=1&limit=2", headers=headers)
    assert twice.json()["invalidParams"][0]["code"] == "repeated_parameter"
    unchecked = client.post("/v1/tables?zzzUnknown=1", headers=OPERATOR, json={})
    assert unchecked.json()["invalidParams"][0]["name"] == "zzzUnknown"
    assert_problem(client.get("/v1/openapi.json?zzzUnknown=1"), 400, "validation_error")


def _calls(dependant: Dependant) -> set[object]:
    return {dependant.call} | {c for d in dependant.dependencies for c in _calls(d)}


def test_every_api_route_refuses_a_query_it_does_not_read():
    """With the refusal no longer app-wide, a route on /v1 that is no `JsonBodyRoute` (or
    names no such dependency itself) would ignore an unknown key again."""
    app = create_app()
    api = [r for r in _api_routes(app.routes) if is_api_path(r.path)]
    assert len(api) > 80
    assert [r.path for r in api if refuse_unread_input not in _calls(r.dependant)] == []


@pytest.mark.parametrize(
    "path", ["/dossiers", f"/tafels/{SOME_ID}/monitor", f"/vergaderingen/{SOME_ID}/agenda.csv"]
)
def test_a_page_asked_for_with_any_query_sends_a_stranger_to_the_login(client, path):
    """The pages never answer a query with the API's English 400: a stranger goes to log in."""
    response = client.get(
        path + "?zzzUnknown=1&jaar=abc&jaar=2",
        headers={"If-Match": '"1"', "Accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/aanmelden?volgende=")


CAN_READ_JSON = [
    None,
    "*/*",
    "application/json",
    "application/*",
    "application/problem+json",
    "application/json; charset=utf-8",
    "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8",  # a browser
    "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2",  # Java's HttpURLConnection
    "application/xml;q=0.9, application/json;q=0.1",
    "",
]


@pytest.mark.parametrize("accept", CAN_READ_JSON)
def test_an_accept_that_takes_json_is_answered_with_json(client, small_region, accept):
    headers = small_region.care_provider.headers
    if accept is not None:
        headers = {**headers, "Accept": accept}
    response = client.get("/v1/cases", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"


NO_JSON = [
    "application/xml",
    "text/html",
    "text/csv",
    "application/json;q=0",
    "application/json;q=0, */*",
    "*/*;q=0",
    "application/xml, text/*",
]


@pytest.mark.parametrize("accept", NO_JSON)
def test_an_accept_the_operation_cannot_answer_is_406(client, small_region, accept):
    """RFC 9110 section 15.5.7: the JSON answer was sent to a client that said it cannot read
    it. A write is refused before it changes anything."""
    headers = {**small_region.care_provider.headers, "Accept": accept}
    problem = assert_problem(client.get("/v1/cases", headers=headers), 406, "not_acceptable")
    assert "application/json" in problem["detail"]
    created = client.post("/v1/cases", json={}, headers=headers)
    assert_problem(created, 406, "not_acceptable")
    listed = client.get("/v1/cases", headers=small_region.care_provider.headers)
    assert listed.json()["items"] == []


def test_a_caller_without_a_key_is_told_401_before_406(client):
    assert_problem(client.get("/v1/cases", headers={"Accept": "application/xml"}), 401)
    public = client.get("/v1/openapi.json", headers={"Accept": "application/xml"})
    assert_problem(public, 406, "not_acceptable")


@pytest.mark.parametrize(
    ("url", "accept", "status"),
    [
        ("/v1/cases/imports/template?format=csv", "text/csv", 200),
        ("/v1/cases/imports/template?format=csv", "text/*;q=0.5, application/xml", 200),
        ("/v1/cases/imports/template?format=csv", "application/xml", 406),
        ("/v1/tables/{table}/monitor?format=csv", "text/csv", 200),
        ("/v1/tables/{table}/monitor", "application/json, text/csv;q=0.5", 200),
        ("/v1/tables/{table}/monitor", "application/pdf", 406),
    ],
)
def test_an_operation_that_answers_csv_takes_an_accept_of_csv(
    client, small_region, url, accept, status
):
    headers = {**small_region.chair.headers, "Accept": accept}
    response = client.get(url.format(table=small_region.table_id), headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("url", "accept", "ask"),
    [
        ("/v1/tables/{table}/monitor", "text/csv", "format=csv"),
        ("/v1/tables/{table}/monitor/placements", "text/*", "format=csv"),
        ("/v1/tables/{table}/monitor/contingent/2026", "application/xml, text/csv", "format=csv"),
        ("/v1/cases/imports/template", "text/csv", "format=csv"),
    ],
)
def test_an_accept_of_another_format_without_format_says_which_to_ask_for(
    client, small_region, url, accept, ask
):
    """An analyst sending `Accept: text/csv` to the monitor, without `format`, got its JSON
    with a 200 (found walking the README): the answer was in a format the client said it does
    not take. It is a 406 naming the `format` to send; with it, the answer is that format."""
    headers = {**small_region.chair.headers, "Accept": accept}
    address = url.format(table=small_region.table_id)
    problem = assert_problem(client.get(address, headers=headers), 406, "not_acceptable")
    assert f"ask with {ask}." in problem["detail"], problem["detail"]
    asked = client.get(f"{address}?{ask}", headers=headers)
    assert asked.status_code == 200, asked.text
    assert asked.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/v1/tables/{table}/monitor?format=csv", "application/json"),  # an explicit format decides
        ("/v1/tables/{table}/monitor", "text/csv;q=0.5, application/json"),
        ("/v1/cases/imports/template", "application/json"),  # takes none: the general 406
    ],
)
def test_a_default_format_the_accept_takes_or_an_explicit_format_is_answered(
    client, small_region, url, accept
):
    headers = {**small_region.chair.headers, "Accept": accept}
    response = client.get(url.format(table=small_region.table_id), headers=headers)
    if url.endswith("template"):
        assert "ask with" not in assert_problem(response, 406, "not_acceptable")["detail"]
    else:
        assert response.status_code == 200, response.text


def test_a_delete_answers_no_content_whatever_it_accepts(client, small_region):
    headers = {**OPERATOR, "Accept": "application/xml"}
    assert_problem(client.delete("/v1/limits/2099", headers=headers), 404)


def _spellings(canonical: str) -> dict[str, str]:
    return {
        "urn": f"urn:uuid:{canonical}",
        "braces": "{" + canonical + "}",
        "no-hyphens": canonical.replace("-", ""),
    }


SPELLINGS = list(_spellings(SOME_ID))


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_id_in_a_path_is_only_ever_written_as_the_api_writes_it(client, small_region, spelling):
    """The API's links (Location, ids in bodies) write an id in lower case, 8-4-4-4-12; pydantic
    also read it as a URN, in braces or without hyphens, so one case answered at four more
    URLs. Another spelling is no address of ours: 404, naming the one there is, as a
    trailing slash is (no redirect: a client learns the right URI)."""
    case = create_case(client, small_region.care_provider, small_region.table_id)
    headers = small_region.care_provider.headers
    other = _spellings(case["id"])[spelling]
    for url in (f"/v1/cases/{other}", f"/v1/cases/{other}/transitions"):
        problem = assert_problem(client.get(url, headers=headers), 404, "not_found")
        assert f"/v1/cases/{case['id']}" in problem["detail"]
    assert client.get(f"/v1/cases/{case['id']}", headers=headers).status_code == 200
    patched = client.patch(f"/v1/cases/{other}", json={"urgency": True}, headers=headers)
    assert_problem(patched, 404, "not_found")
    assert client.get(f"/v1/cases/{case['id']}", headers=headers).json()["urgency"] is False


def test_an_id_in_upper_case_still_reaches_its_resource(client, small_region):
    """RFC 9562 section 4: a UUID is read in either case (it is written in lower case). A v1
    client that keeps our ids as its database writes them (SQL Server's uniqueidentifier as
    text: upper case) got the case before; a 404 would tell it the case is gone."""
    case = create_case(client, small_region.care_provider, small_region.table_id)
    headers = small_region.care_provider.headers
    shown = client.get(f"/v1/cases/{case['id'].upper()}", headers=headers)
    assert shown.status_code == 200 and shown.json()["id"] == case["id"]


def test_a_slash_escaped_in_a_path_segment_is_no_path_separator(client, small_region):
    """RFC 3986 section 2.2: `%2F` is data within a segment, so `/v1/cases%2F{id}` is no URL of
    a case (the server's decoding made it one)."""
    case = create_case(client, small_region.care_provider, small_region.table_id)
    headers = small_region.care_provider.headers
    for url in (f"/v1/cases%2F{case['id']}", f"/v1%2Fcases%2F{case['id']}", "/v1/cases%2f"):
        assert_problem(client.get(url, headers=headers), 404, "not_found")
    assert client.get(f"/v1/cases/{case['id']}", headers=headers).status_code == 200


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_page_for_an_id_written_another_way_is_not_found(client, spelling):
    response = client.get(f"/dossiers/{_spellings(SOME_ID)[spelling]}", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_a_malformed_id_in_a_path_is_still_a_400_naming_it(client, small_region):
    response = client.get("/v1/cases/not-a-uuid", headers=small_region.care_provider.headers)
    assert assert_problem(response, 400)["invalidParams"][0]["name"] == "case_id"


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("//v1/cases", "/v1/cases"),
        ("///v1", "/v1"),
        ("//v1/cases/", None),
        ("/V1/cases", None),
        ("/v2/cases", None),
        ("//v1/openapi.json", "/v1/openapi.json"),
        ("//health/live", "/health/live"),
    ],
)
def test_an_api_looking_path_no_route_has_is_a_problem_not_a_page(
    client, small_region, path, named
):
    """A client that doubled the slash after its base URL (`https://host/` + `/v1/cases`), or
    asked another version, got the pages' Dutch HTML 404, which no API client reads."""
    for headers in ({}, small_region.care_provider.headers):
        # The whole URL: httpx reads `//v1/...` alone as a URL whose host is `v1`.
        response = client.get("http://testserver" + path, headers=headers)
        problem = assert_problem(response, 404, "not_found")
        if named:
            assert problem["detail"].endswith(f"paths start with one slash: {named}.")


@pytest.mark.parametrize("path", ["/dossiers/nieuw/x", "//dossiers", "/verder"])
def test_a_page_path_no_route_has_is_still_the_dutch_page(client, path):
    response = client.get("http://testserver" + path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("method", ["OPTIONS", "DELETE"])
def test_an_id_written_another_way_is_no_path_for_options_or_a_method_it_lacks(
    client, small_region, spelling, method
):
    """OPTIONS answered 204 with `Allow`, and a method the path lacks 405, at an address the
    other methods answer 404 (`app.path_ids`): the client was told the path exists, and which
    methods it takes, where there is none. `not-a-uuid` is no spelling of an id: the path
    exists and its methods are named."""
    case = create_case(client, small_region.care_provider, small_region.table_id)
    headers = small_region.care_provider.headers
    for url in (f"/v1/cases/{_spellings(case['id'])[spelling]}", f"/v1/cases%2F{case['id']}"):
        problem = assert_problem(client.request(method, url, headers=headers), 404, "not_found")
        assert f"/v1/cases/{case['id']}" in problem["detail"] or "%2F" in problem["detail"]
        assert "allow" not in client.request(method, url).headers
    canonical = f"/v1/cases/{case['id']}"
    assert client.options(canonical).status_code == 204
    assert client.options(canonical.upper().replace("/V1/CASES/", "/v1/cases/")).status_code == 204
    assert client.delete(canonical, headers=headers).status_code == 405
    assert client.options("/v1/cases/not-a-uuid").status_code == 204


async def _sent(app, headers: dict[str, str], chunks: int, size: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """POST /v1/cases with `chunks` body messages of `size` bytes, straight to the app: its
    status and how many body bytes it read."""
    read, status = 0, 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= chunks * size:
            return {"type": "http.disconnect"}
        read += size
        return {"type": "http.request", "body": b"x" * size, "more_body": read < chunks * size}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/cases",
        "raw_path": b"/v1/cases",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return status, read


@pytest.mark.settings(max_body_bytes=100_000)
def test_a_body_over_the_limit_without_a_valid_key_is_a_401_read_no_further_than_the_limit(
    app, small_region
):
    """A caller without a key learnt the body limit (413) before being told it has no key,
    where every other fault of its body waits for authentication (README: a caller without one
    learns nothing of its body). The guard still reads no more than the limit: nothing at all
    for a declared `Content-Length` over it, and at most one message past it when sent
    chunked."""
    import asyncio

    json_type = {"Content-Type": "application/json"}
    declared = {**json_type, "Content-Length": "300000"}
    for key, expected in (({}, 401), ({"Authorization": "Bearer ust_nothing"}, 401)):
        assert asyncio.run(_sent(app, {**declared, **key}, 30, 10_000)) == (expected, 0)
        status, read = asyncio.run(_sent(app, {**json_type, **key}, 30, 10_000))
        assert (status, read) == (expected, 110_000)
    provider = small_region.care_provider.headers
    assert asyncio.run(_sent(app, {**declared, **provider}, 30, 10_000)) == (413, 0)
    assert asyncio.run(_sent(app, {**json_type, **provider}, 30, 10_000)) == (413, 110_000)


def _uuid_inputs() -> list[tuple[str, Any]]:
    """Every id an API operation reads from its query or body (not its path): where, and the
    field (FastAPI's parameter or pydantic's model field) that reads it."""
    import typing
    import uuid

    from fastapi import params
    from fastapi.dependencies.utils import get_flat_params
    from pydantic import BaseModel

    def has_uuid(annotation: Any) -> bool:
        return annotation is uuid.UUID or any(has_uuid(a) for a in typing.get_args(annotation))

    def models(annotation: Any) -> list[type[BaseModel]]:
        found = (
            [annotation]
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else []
        )
        return found + [m for a in typing.get_args(annotation) for m in models(a)]

    inputs: dict[str, Any] = {}
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if has_uuid(field.annotation):
                inputs[f"{model.__name__}.{name}"] = field
            for inner in models(field.annotation):
                walk(inner)

    for route in _api_routes(create_app().routes):
        if not is_api_path(route.path):
            continue
        for parameter in get_flat_params(route.dependant):
            if not isinstance(parameter.field_info, params.Path) and has_uuid(
                parameter.field_info.annotation
            ):
                inputs[f"{route.path} {parameter.alias}"] = parameter.field_info
        if route.body_field is not None:
            for model in models(route.body_field.field_info.annotation):
                walk(model)
    return sorted(inputs.items())


UUID_INPUTS = _uuid_inputs()


def test_ids_read_from_queries_and_bodies_are_found():
    names = {name for name, _ in UUID_INPUTS}
    assert {
        "/v1/cases tableId",
        "CaseCreate.table_id",
        "TableCreate.member_organisation_ids",
    } <= names
    assert len(names) >= 20


@pytest.mark.parametrize(("where", "field"), UUID_INPUTS, ids=[name for name, _ in UUID_INPUTS])
def test_an_id_in_a_query_or_body_is_only_read_as_the_api_writes_it(where, field):
    """An id in a path is read only as the API writes it (8-4-4-4-12, either case); in a query
    or a body pydantic still took `urn:uuid:`, braces and 32 hex digits: one rule for every
    id. The contract says `format: uuid` (RFC 9562's string form) for each."""
    from typing import Annotated

    from pydantic import TypeAdapter, ValidationError

    metadata = field.metadata
    adapter = TypeAdapter(Annotated[field.annotation, *metadata] if metadata else field.annotation)
    listed = "list[" in str(field.annotation)

    def reads(value: str) -> bool:
        try:
            adapter.validate_python([value] if listed else value)
            return True
        except ValidationError:
            return False

    assert reads(SOME_ID) and reads(SOME_ID.upper()), where
    for spelling, written in _spellings(SOME_ID).items():
        assert not reads(written), (where, spelling)


def test_an_id_written_another_way_in_a_body_or_query_is_a_400_naming_it(client, small_region):
    headers = small_region.care_provider.headers
    table = small_region.table_id
    listed = client.get("/v1/cases", params={"tableId": table.upper()}, headers=headers)
    assert listed.status_code == 200
    for written in _spellings(table).values():
        listing = client.get("/v1/cases", params={"tableId": written}, headers=headers)
        assert invalid_names(listing) == ["tableId"]
        created = client.post("/v1/cases", json=case_body(written), headers=headers)
        assert invalid_names(created) == ["table_id"]
        assert "8-4-4-4-12" in created.json()["invalidParams"][0]["reason"]
