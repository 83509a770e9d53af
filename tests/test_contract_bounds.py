"""What the contract's request schemas allow is what the server accepts: a client that checks
its requests against `openapi.json` gets no 400 for a value the contract allows, and none it
refuses is stored (found by probing every field of every operation just inside and just
outside its constraints on a demo server)."""

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from app.schemas import Date
from tests.conftest import generated_contract

CONTRACT = generated_contract()
SCHEMAS = CONTRACT["components"]["schemas"]
a_date = TypeAdapter(Date)
DATE_PATTERN = SCHEMAS["CaseCreate"]["properties"]["ready_since"].get("pattern")


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = {
            **SCHEMAS[schema["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    return schema


def _fields(
    schema: dict[str, Any], at: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (name, schema) a request schema holds, nested objects, branches and items too."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
    schema = _resolved(schema)
    yield at, schema
    for branch in schema.get("anyOf", []):
        yield from _fields(branch, at, seen)
    for name, field in schema.get("properties", {}).items():
        yield from _fields(field, f"{at}.{name}", seen)
    if "items" in schema:
        yield from _fields(schema["items"], f"{at}[]", seen)


def request_fields() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in CONTRACT["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield from _fields(parameter["schema"], f"{where} {parameter['name']}", set())
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield from _fields(body["schema"], f"{where} body", set())


def test_every_date_of_a_request_carries_the_years_the_server_takes():
    # `format: date` alone allowed 0001-01-01 and 9999-12-31: a 400 for a valid request.
    assert DATE_PATTERN
    assert [
        name
        for name, schema in request_fields()
        if schema.get("format") == "date" and schema.get("pattern") != DATE_PATTERN
    ] == []


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_the_server_takes_a_date_exactly_when_the_contract_allows_it(day):
    text = day.isoformat()
    try:
        a_date.validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == bool(re.search(DATE_PATTERN or "", text))


def test_a_list_that_refuses_a_value_given_twice_says_so():
    # A table's municipality codes and members answered 400 "values must be unique" for a
    # list the contract allowed.
    for model in ("TableCreate", "TableUpdate"):
        for name in ("municipality_codes", "member_organisation_ids"):
            field = SCHEMAS[model]["properties"][name]
            [array] = [b for b in [field, *field.get("anyOf", [])] if b.get("type") == "array"]
            assert array.get("uniqueItems") is True, (model, name)


WEBHOOK_URLS = {
    "https://receiver.example.org/hook": True,
    "http://receiver.example.org:8080/hook?x=1": True,
    "HTTPS://receiver.example.org/hook": True,
    "ftp://receiver.example.org/hook": False,
    "file:///etc/passwd": False,
    "javascript:alert(1)": False,
    "mailto:ops@example.org": False,
    "receiver.example.org/hook": False,
    "//receiver.example.org/hook": False,
    "https:receiver.example.org/hook": False,
    "https://": False,
    " https://receiver.example.org/hook": False,
}


def test_a_webhook_url_the_contract_allows_is_an_http_address_as_the_server_takes():
    # The service refuses any scheme but http(s) (400 naming `url`); the contract's pattern
    # took `ftp://...` and `javascript:...`, so a client checking its request learnt it only
    # from the 400.
    from app.webhooks.models import WebhookEndpointCreate, WebhookEndpointUpdate

    for model in (WebhookEndpointCreate, WebhookEndpointUpdate):
        field = SCHEMAS[model.__name__]["properties"]["url"]
        [schema] = [b for b in [field, *field.get("anyOf", [])] if b.get("type") == "string"]
        assert "http" in schema["description"], model.__name__
        for url, taken in WEBHOOK_URLS.items():
            try:
                model.model_validate({"url": url, "events": ["agenda.published"]})
                accepted = True
            except ValidationError:
                accepted = False
            assert accepted == taken, (model.__name__, url)
            assert bool(re.search(schema["pattern"], url)) == taken, (model.__name__, url)


def test_a_legal_limit_the_service_refuses_at_zero_is_above_zero_in_the_contract(client):
    # `PUT /v1/limits/{year}` refuses a cap or income limit of 0 (400 `limit_not_positive`:
    # no legal limit is 0) where the contract said `minimum: 0`; the service takes 0 exactly
    # where the contract does (`service_costs_max` may be 0).
    import jsonschema_rs

    from tests.conftest import OPERATOR, writable_limits

    latest = max(
        item["year"] for item in client.get("/v1/limits", headers=OPERATOR).json()["items"]
    )
    body = writable_limits(client.get(f"/v1/limits/{latest}", headers=OPERATOR).json())
    properties = SCHEMAS["YearLimitsFields"]["properties"]
    money = [name for name, p in properties.items() if "pattern" in str(p.get("anyOf", ""))]
    assert {"low_cap", "daeb_rent_limit", "service_costs_max"} <= set(money)
    for name in money:
        for zero in (0, "0", "0.00"):
            answer = client.put(
                f"/v1/limits/{latest + 5}", json={**body, name: zero}, headers=OPERATOR
            )
            assert answer.status_code in (200, 201, 400), answer.text
            taken = answer.status_code != 400
            if not taken:
                assert answer.json()["invalidParams"][0]["name"] in (name, "daeb_rent_limit")
            allowed = jsonschema_rs.Draft202012Validator(properties[name]).is_valid(zero)
            assert allowed == taken, (name, zero)
        assert jsonschema_rs.Draft202012Validator(properties[name]).is_valid("0.01"), name
