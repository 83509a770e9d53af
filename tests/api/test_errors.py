"""Errors are RFC 9457 problems; hostile input is refused with 4xx, never a 500."""

import json
import sqlite3
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.if_match import IfMatch
from app.problems import invalid_params
from tests.api.helpers import assert_problem, invalid_names, me
from tests.conftest import OPERATOR, case_body, create_case, make_org, vacancy_body

JSON = {"Content-Type": "application/json"}
TEN_MB = 10 * 1024 * 1024


def post_raw(client, path, content, headers):
    return client.post(path, content=content, headers={**headers, **JSON})


# --- authentication -------------------------------------------------------------------------


def test_missing_key_is_401_with_a_bearer_challenge(client):
    response = client.get("/v1/me")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


INVALID_TOKEN = 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        ("Bearer ust_not-a-real-key", INVALID_TOKEN),
        ("Bearer test-operator-key-but-longer", INVALID_TOKEN),
        ("Basic dXNlcjpwdw==", "Bearer"),
        ("", "Bearer"),
    ],
    ids=["unknown-key", "wrong-operator-key", "basic-auth", "empty"],
)
def test_wrong_key_is_401_with_a_bearer_challenge(client, authorization, challenge):
    """RFC 6750 section 3.1: a bearer key sent but unknown, revoked or malformed is named
    `invalid_token`; a request that sent none gets the bare challenge."""
    response = client.get("/v1/me", headers={"Authorization": authorization})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == challenge


def test_revoked_key_is_401_with_a_bearer_challenge(client):
    org = make_org(client, "care_provider")
    key_id = me(client, org.headers)["api_key_id"]
    client.delete(f"/v1/organizations/{org.id}/api-keys/{key_id}", headers=OPERATOR)
    response = client.get("/v1/me", headers=org.headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


# --- one problem format for every status ----------------------------------------------------


def test_two_api_keys_in_one_request_are_refused_not_read_as_the_first(client):
    """Authorization is a singleton header: with two keys the request was served as the first
    organisation's, though its sender may have meant the other."""
    first, second = make_org(client, "care_provider"), make_org(client, "municipality")
    response = client.get(
        "/v1/me",
        headers=[
            ("Authorization", first.headers["Authorization"]),
            ("Authorization", second.headers["Authorization"]),
        ],
    )
    assert invalid_names(response) == ["Authorization"]
    assert response.json()["invalidParams"][0]["code"] == "repeated_parameter"
    assert me(client, first.headers)["organisation"]["id"] == first.id


def test_403_is_a_problem(client):
    org = make_org(client, "care_provider")
    response = client.post(
        "/v1/organizations", json={"name": "x", "kind": "municipality"}, headers=org.headers
    )
    assert_problem(response, 403, "forbidden")


def test_unknown_route_is_a_404_problem(client):
    assert_problem(client.get("/v1/nowhere", headers=OPERATOR), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/v1/cases/{id}", "/v1/cases/{id}/transitions", "/v1/vacancies/{id}"]
)
def test_unknown_case_or_vacancy_id_is_a_404_problem(client, small_region, path):
    url = path.format(id=uuid.uuid4())
    assert_problem(client.get(url, headers=small_region.chair.headers), 404, "not_found")


@pytest.mark.parametrize("path", ["/v1/tables/{id}", "/v1/organizations/{id}"])
def test_unknown_table_or_organisation_id_is_a_404_problem(client, path):
    url = path.format(id=uuid.uuid4())
    assert_problem(client.get(url, headers=OPERATOR), 404, "not_found")


def test_malformed_id_in_the_path_is_a_400_problem(client, small_region):
    response = client.get("/v1/cases/not-a-uuid", headers=small_region.care_provider.headers)
    assert invalid_names(response) == ["case_id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v1/me"), ("PUT", "/v1/cases"), ("PATCH", "/v1/vacancies/batch")],
)
def test_wrong_method_is_a_405_problem(client, method, path):
    response = client.request(method, path, headers=OPERATOR)
    assert_problem(response, 405, "method_not_allowed")


def test_409_is_a_problem(client):
    make_org(client, "municipality", name="Gemeente Zeist")
    response = client.post(
        "/v1/organizations",
        json={"name": "Gemeente Zeist", "kind": "municipality"},
        headers=OPERATOR,
    )
    assert_problem(response, 409)


def test_412_is_a_problem(client, small_region):
    case = create_case(client, small_region.care_provider, small_region.table_id)
    response = client.patch(
        f"/v1/cases/{case['id']}",
        json={"urgency": True},
        headers={**small_region.care_provider.headers, "If-Match": '"999"'},
    )
    assert_problem(response, 412, "precondition_failed")


@pytest.mark.parametrize(
    "content",
    ['{"name": "Gemeente Ede", "kind": ', "{'name': 'x'}", "[1, 2", '{"name": "Ede",}'],
    ids=["truncated", "single-quotes", "unclosed-array", "trailing-comma"],
)
def test_malformed_json_is_a_400_problem(client, content):
    response = post_raw(client, "/v1/organizations", content, OPERATOR)
    assert_problem(response, 400, "validation_error")


def test_malformed_json_names_the_body_and_where_it_breaks(client):
    response = post_raw(client, "/v1/organizations", '{"name": "Ede",}', OPERATOR)
    assert_problem(response, 400, "validation_error")
    [param] = response.json()["invalidParams"]
    assert param["name"] == "body"
    assert param["in"] == "body"
    assert param["code"] == "json_invalid"
    assert param["reason"].startswith("JSON decode error at character 15")


def test_json_nested_deeper_than_the_parser_goes_is_a_400_naming_the_body(client):
    response = post_raw(client, "/v1/organizations", "[" * 5000 + "]" * 5000, OPERATOR)
    assert_problem(response, 400, "validation_error")
    [param] = response.json()["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == ("body", "body", "json_invalid")


@pytest.mark.parametrize(
    "body",
    [
        {"name": 12, "kind": "municipality"},
        {"name": "Gemeente Ede", "kind": ["municipality"]},
        {"name": {"nl": "Gemeente Ede"}, "kind": "municipality"},
        ["Gemeente Ede", "municipality"],
        None,
    ],
    ids=["number-for-string", "list-for-enum", "object-for-string", "array-for-object", "null"],
)
def test_wrong_json_types_are_a_400_problem(client, body):
    response = post_raw(client, "/v1/organizations", json.dumps(body), OPERATOR)
    assert invalid_names(response)


# --- input that could crash a database ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Gemeente\x00Ede",
        "Gemeente\nEde",
        "Gemeente\x1b[31mEde",
        "Gemeente\x7fEde",
        "\x00",
        "Gemeente\x85Ede",  # C1: next line
        "Gemeente\u2028Ede",  # line separator
        "Gemeente \u202eedE",  # right-to-left override: shows as "Gemeente Ede"
        "Gemeente \u2067Ede\u2069",  # right-to-left isolate
        "\u200b",  # only a zero-width space: shows as an empty name
        "\ufeff\u3164",  # a byte order mark and a blank letter
        "Gemeente\u206aEde",  # a deprecated formatting character
    ],
    ids=[
        *("nul", "newline", "escape", "delete", "only-nul", "c1", "line-sep", "rlo", "rli"),
        *("only-zero-width", "only-invisible", "deprecated-format"),
    ],
)
def test_control_characters_in_a_name_are_400(client, name):
    response = client.post(
        "/v1/organizations", json={"name": name, "kind": "municipality"}, headers=OPERATOR
    )
    assert invalid_names(response) == ["name"]


def test_a_name_in_a_right_to_left_script_with_its_marks_is_accepted(client):
    """Only the overrides and isolates are refused: Arabic or Hebrew text, and the invisible
    left-to-right and right-to-left marks (U+200E, U+200F) such names may need, stay."""
    for name in ("بلدية\u200f Ede", "עיריית אדה", "Zoë Ødegård"):
        response = client.post(
            "/v1/organizations", json={"name": name, "kind": "municipality"}, headers=OPERATOR
        )
        assert response.status_code == 201, response.text
        assert response.json()["name"] == name


def test_nul_byte_in_a_key_label_is_400(client):
    org = make_org(client, "municipality")
    response = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": "a\x00b"}, headers=OPERATOR
    )
    assert invalid_names(response) == ["label"]


@pytest.mark.parametrize("label", [" ", "   ", "\u00a0\u2003"], ids=["space", "spaces", "nbsp-em"])
def test_whitespace_only_key_label_is_refused(client, label):
    org = make_org(client, "municipality")
    response = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": label}, headers=OPERATOR
    )
    assert invalid_names(response) == ["label"]
    [param] = response.json()["invalidParams"]
    assert "white space" in param["reason"]


def test_a_name_with_inner_spaces_is_still_a_name(client):
    org = make_org(client, "municipality")
    response = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": " zaak systeem "}, headers=OPERATOR
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "value", "name"),
    [
        (("address", "street"), "Kastanje\x00laan", "address.street"),
        (("address", "house_number"), "1\x002", "address.house_number"),
        (("address", "postcode"), "3512\x00AB", "address.postcode"),
        (("complex_ref",), "CPX\x00-1", "complex_ref"),
        (("external_ref",), "V\x00-1", "external_ref"),
        (("address", "street"), "Kastanje\tlaan", "address.street"),
    ],
)
def test_control_characters_in_vacancy_strings_are_400(client, small_region, path, value, name):
    body = vacancy_body()
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    response = client.post("/v1/vacancies", json=body, headers=small_region.corporation.headers)
    assert invalid_names(response) == [name]


def test_nul_byte_in_a_case_reference_is_400(client, small_region):
    body = case_body(small_region.table_id, external_ref="K-\x00-1")
    response = client.post("/v1/cases", json=body, headers=small_region.care_provider.headers)
    assert invalid_names(response) == ["external_ref"]


@pytest.mark.parametrize(
    "params",
    [{"externalRef": "K\x00"}, {"cursor": "\x00" * 22}, {"status": "ready\x00"}],
    ids=["externalRef", "cursor", "status"],
)
def test_nul_byte_in_a_query_parameter_is_400(client, small_region, params):
    response = client.get("/v1/cases", params=params, headers=small_region.care_provider.headers)
    assert invalid_names(response) == list(params)


HUGE = 10**30


def param_id(value):
    if isinstance(value, tuple):
        return ".".join(value)
    if str(value).lstrip("-") == str(HUGE):
        return "30-digit-" + ("negative" if str(value).startswith("-") else "number")
    return str(value)


def case_with(table_id, path, value):
    body = case_body(table_id)
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("birth_year",), HUGE),
        (("birth_year",), -HUGE),
        (("household", "children"), HUGE),
        (("needs", "max_floor"), HUGE),
        (("income", "annual_taxable"), HUGE),
        (("income", "net_monthly"), str(HUGE)),
        (("ready_since",), "9999-12-31"),
        (("ready_since",), "0001-01-01"),
        (("ready_since",), "10000-01-01"),
        (("beschikking", "valid_until"), "9999-12-31"),
        (("registration_date",), "9999-12-31"),
    ],
    ids=param_id,
)
def test_out_of_range_case_values_are_400(client, small_region, path, value):
    body = case_with(small_region.table_id, path, value)
    response = client.post("/v1/cases", json=body, headers=small_region.care_provider.headers)
    assert invalid_names(response) == [".".join(path)]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("rooms",), HUGE),
        (("floor",), -HUGE),
        (("min_age",), HUGE),
        (("rent", "base"), HUGE),
        (("available_from",), "9999-01-01"),
        (("respond_before",), "9999-01-01"),
    ],
    ids=param_id,
)
def test_out_of_range_vacancy_values_are_400(client, small_region, path, value):
    body = vacancy_body()
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    response = client.post("/v1/vacancies", json=body, headers=small_region.corporation.headers)
    assert invalid_names(response) == [".".join(path)]


def test_30_digit_limit_is_400(client, small_region):
    response = client.get(
        "/v1/cases", params={"limit": HUGE}, headers=small_region.care_provider.headers
    )
    assert invalid_names(response) == ["limit"]


def test_30_digit_policy_number_is_400(client, small_region):
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"horizon_days": HUGE}},
        headers=small_region.chair.headers,
    )
    assert invalid_names(response) == ["policy.horizon_days"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", '"NaN"', '"Infinity"'])
def test_non_finite_money_is_400(client, small_region, literal):
    body = json.dumps(case_body(small_region.table_id))
    body = body.replace('"annual_taxable": "16250.00"', f'"annual_taxable": {literal}')
    assert literal in body
    response = post_raw(client, "/v1/cases", body, small_region.care_provider.headers)
    assert invalid_names(response) == ["income.annual_taxable"]


@pytest.mark.parametrize(
    "text",
    [
        " 16250",
        "16_250",
        "+16250",
        "\u0661\u0662\u0663",
        ".5",
        "5.",
        "1,5",
        "1.625e4",
        "1e5",
        "-0",
        "16250.000",
        "000000016250",
    ],
)
def test_money_as_text_outside_the_contract_pattern_is_400(client, small_region, text):
    """Decimal would read each of these as an amount (spaces, `_` between digits, a `+`, any
    script's digits, an exponent, a minus on zero): money in a string is written as the
    contract's pattern says, or refused."""
    body = case_body(small_region.table_id)
    body["income"]["annual_taxable"] = text
    response = client.post("/v1/cases", json=body, headers=small_region.care_provider.headers)
    assert invalid_names(response) == ["income.annual_taxable"]
    [param] = response.json()["invalidParams"]
    assert param["code"] == "decimal_parsing"


@pytest.mark.parametrize(("text", "stored"), [("16250", 16250), ("16250.5", 16250.5), ("0", 0)])
def test_money_as_text_in_the_contracts_form_is_read(client, small_region, text, stored):
    body = case_body(small_region.table_id)
    body["income"]["annual_taxable"] = text
    response = client.post("/v1/cases", json=body, headers=small_region.care_provider.headers)
    assert response.status_code == 201, response.text
    assert response.json()["income"]["annual_taxable"] == stored


@pytest.mark.parametrize("literal", ["-0.0", "-0", "-0e3"])
def test_money_sent_as_negative_zero_is_answered_as_zero(client, small_region, literal):
    # -0.0 meets the contract's minimum 0, but was echoed as -0.0 though no amount is negative.
    body = json.dumps(case_body(small_region.table_id))
    body = body.replace('"annual_taxable": "16250.00"', f'"annual_taxable": {literal}')
    response = post_raw(client, "/v1/cases", body, small_region.care_provider.headers)
    assert response.status_code == 201, response.text
    assert '"annual_taxable":0.0' in response.text.replace(" ", "")


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_non_finite_rent_is_400(client, small_region, literal):
    body = json.dumps(vacancy_body()).replace('"base": "650.00"', f'"base": {literal}')
    assert literal in body
    response = post_raw(client, "/v1/vacancies", body, small_region.corporation.headers)
    assert invalid_names(response) == ["rent.base"]


def test_non_finite_score_weight_is_400(client, small_region):
    body = '{"policy": {"score_weights": {"urgency": NaN}}}'
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        content=body,
        headers={**small_region.chair.headers, **JSON},
    )
    assert "policy.score_weights.urgency" in invalid_names(response)


def test_ten_megabyte_body_is_413_naming_the_limit(client, small_region):
    body = json.dumps({"items": [], "padding": "x" * TEN_MB})
    response = post_raw(client, "/v1/vacancies/batch", body, small_region.corporation.headers)
    problem = assert_problem(response, 413)
    assert problem["detail"] == "Request bodies are limited to 8388608 bytes."


def test_ten_megabyte_body_without_content_length_is_413_naming_the_limit(client, small_region):
    def chunks():
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    response = post_raw(client, "/v1/vacancies/batch", chunks(), small_region.corporation.headers)
    problem = assert_problem(response, 413)
    # The same detail as with a Content-Length: it said only "Request body too large".
    assert problem["detail"] == "Request bodies are limited to 8388608 bytes."


# --- API-Version on every response ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/v1/me", {"headers": OPERATOR}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("POST", "/v1/organizations", {"headers": OPERATOR, "json": {"name": "A"}}, 400),
        ("GET", "/v1/me", {}, 401),
        ("GET", "/v1/nowhere", {"headers": OPERATOR}, 404),
        ("DELETE", "/v1/me", {"headers": OPERATOR}, 405),
        ("POST", "/v1/organizations", {"headers": OPERATOR, "content": b"x" * TEN_MB}, 413),
    ],
    ids=["200", "openapi", "400", "401", "404", "405", "413"],
)
def test_every_response_names_the_api_version(client, method, path, kwargs, status):
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    assert response.headers["API-Version"] == "1.0.0"


def test_created_and_no_content_responses_name_the_api_version(client):
    created = client.post(
        "/v1/organizations", json={"name": "Versie", "kind": "municipality"}, headers=OPERATOR
    )
    assert created.status_code == 201
    assert created.headers["API-Version"] == "1.0.0"
    org_id = created.json()["id"]
    key = client.post(
        f"/v1/organizations/{org_id}/api-keys", json={"label": "k"}, headers=OPERATOR
    ).json()
    deleted = client.delete(f"/v1/organizations/{org_id}/api-keys/{key['id']}", headers=OPERATOR)
    assert deleted.status_code == 204
    assert deleted.headers["API-Version"] == "1.0.0"


# --- lost races -----------------------------------------------------------------------------


@pytest.fixture
def racing_app(app):  # type: ignore[no-untyped-def]
    """The app with one route that fails as a write that lost a race at commit would, every
    time it runs; `app.state.race_runs` counts the runs."""

    postgresql = {
        "pg-unique": psycopg.errors.UniqueViolation(
            'duplicate key value violates unique constraint "uq_proposals_open_case"'
        ),
        "pg-not-null": psycopg.errors.NotNullViolation('null value in column "table_id"'),
    }
    app.state.race_runs = 0

    def lost_race(kind: str, if_match: IfMatch = None) -> None:  # conditional, as real writes
        app.state.race_runs += 1
        if kind == "stale":
            raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row(s)")
        orig = postgresql.get(kind) or sqlite3.IntegrityError(kind)
        if kind.startswith("UNIQUE"):
            orig.sqlite_errorname = "SQLITE_CONSTRAINT_UNIQUE"  # type: ignore[attr-defined]
        elif not kind.startswith("pg-"):
            orig.sqlite_errorname = "SQLITE_CONSTRAINT_NOTNULL"  # type: ignore[attr-defined]
        raise IntegrityError("INSERT INTO proposals ...", {}, orig)

    app.add_api_route("/v1/_race/{kind}", lost_race, methods=["POST"])
    return app


def test_a_stale_versioned_write_runs_again_then_is_a_409_or_with_if_match_a_412(racing_app):
    with TestClient(racing_app, raise_server_exceptions=False) as client:
        plain = client.post("/v1/_race/stale", headers=OPERATOR)
        runs = racing_app.state.race_runs
        conditional = client.post("/v1/_race/stale", headers={**OPERATOR, "If-Match": '"3"'})
    assert_problem(plain, 409, "changed_concurrently")
    assert runs > 1  # retried inside the service before the client is told
    assert_problem(conditional, 412, "precondition_failed")
    assert "Retry-After" not in conditional.headers  # the same request would fail the same way


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("UNIQUE constraint failed: proposals.case_id", 409, "concurrent_conflict"),
        ("NOT NULL constraint failed: cases.table_id", 500, "internal_error"),
        ("pg-unique", 409, "concurrent_conflict"),  # PostgreSQL: told by SQLSTATE 23505
        ("pg-not-null", 500, "internal_error"),
    ],
    ids=["sqlite-unique", "sqlite-not-null", "postgresql-unique", "postgresql-not-null"],
)
def test_a_unique_violation_is_a_409_and_another_integrity_error_a_500(
    racing_app, kind, status, code
):
    with TestClient(racing_app, raise_server_exceptions=False) as client:
        response = client.post(f"/v1/_race/{kind}", headers=OPERATOR)
    assert_problem(response, status, code)


def test_a_snake_case_query_key_is_refused_naming_it_not_silently_ignored(client, small_region):
    # Before the keys became camelCase, `table_id` filtered the list; ignoring it now would
    # hand an old client every case it may see as if they were the table's.
    response = client.get(
        "/v1/cases",
        params={"table_id": small_region.table_id},
        headers=small_region.care_provider.headers,
    )
    assert invalid_names(response) == ["table_id"]
    assert response.json()["invalidParams"][0]["in"] == "query"
    assert "tableId" in response.json()["detail"]
    assert response.json()["invalidParams"][0]["reason"] == "Query keys are camelCase: `tableId`."


def test_a_key_the_operation_does_not_have_is_refused_without_blaming_its_spelling(
    client, small_region
):
    # `format=csv` is offered by some monitor views and not by this one: the key is camelCase
    # already, so the answer must not send the client looking for another spelling.
    response = client.get(
        "/v1/cases", params={"format": "csv"}, headers=small_region.care_provider.headers
    )
    assert invalid_names(response) == ["format"]
    reason = response.json()["invalidParams"][0]["reason"]
    assert "camelCase" not in reason and "detail" in reason


def test_a_query_key_given_twice_is_refused_rather_than_guessed(client, small_region):
    response = client.get("/v1/cases?limit=1&limit=2", headers=small_region.care_provider.headers)
    assert_problem(response, 400, "validation_error")
    [param] = response.json()["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == ("limit", "query", "repeated_parameter")


def test_an_invalid_params_reason_has_no_space_at_either_end():
    # Some of pydantic's messages end in a space; the reason is read as a sentence.
    error = {"loc": ("query", "limit"), "type": "value_error", "msg": "Value error, too big "}
    assert invalid_params([error])[0]["reason"] == "Value error, too big"
