"""HTTP conventions every API path keeps: OPTIONS and 405 name every method the path supports,
no answer may be stored by a cache, and a date is only ever `YYYY-MM-DD`."""

import pytest

from tests.api.helpers import assert_problem, invalid_names
from tests.clock import iso
from tests.conftest import OPERATOR, create_case, vacancy_body

SOME_ID = "0191d3a4-0000-7000-8000-000000000000"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/cases", "GET, HEAD, OPTIONS, POST"),
        (f"/v1/cases/{SOME_ID}", "GET, HEAD, OPTIONS, PATCH"),
        (f"/v1/webhooks/{SOME_ID}", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        (f"/v1/vacancies/{SOME_ID}", "DELETE, GET, HEAD, OPTIONS"),
        ("/v1/limits/2026", "DELETE, GET, HEAD, OPTIONS, PUT"),
        (f"/v1/tables/{SOME_ID}", "GET, HEAD, OPTIONS, PATCH"),
        ("/v1/cases/imports", "OPTIONS, POST"),
        ("/v1/vacancies/imports", "OPTIONS, POST"),
        ("/v1/cases/imports/template", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_answers_204_with_every_method_of_the_path(client, path, allowed):
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allowed
    assert response.content == b""


def test_options_on_a_path_the_api_does_not_have_is_a_404(client):
    assert_problem(client.options("/v1/nothing-here"), 404)


def test_a_method_the_path_does_not_support_is_a_405_naming_all_it_does(client, region):
    response = client.delete(f"/v1/cases/{SOME_ID}", headers=region.chair.headers)
    problem = assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, PATCH"
    assert problem["detail"] == "DELETE is not allowed here; use one of: GET, HEAD, OPTIONS, PATCH."


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_the_import_resource_is_no_case_id_so_other_methods_are_405(client, region, method):
    response = client.request(method, "/v1/cases/imports", headers=region.care_provider.headers)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "OPTIONS, POST"


def test_head_answers_as_get_without_the_body(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    url = f"/v1/cases/{case['id']}"
    got = client.get(url, headers=region.care_provider.headers)
    head = client.head(url, headers=region.care_provider.headers)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == got.headers["ETag"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert client.head(url, headers=region.corporation.headers).status_code == 404
    assert client.head(url).status_code == 401
    assert client.head("/aanmelden").status_code == 200


def test_head_of_a_compressed_list_has_the_length_and_encoding_its_get_has(client, region):  # type: ignore[no-untyped-def]
    """RFC 9110 section 8.6: a HEAD's Content-Length is the length the GET would send. A list
    over the compression threshold came gzipped on GET (about 4 kB) while its HEAD, its body
    dropped before compression, named the uncompressed length (about 40 kB) and no encoding."""
    for _ in range(25):
        create_case(client, region.care_provider, region.table_id)
    headers = {**region.care_provider.headers, "Accept-Encoding": "gzip"}
    got = client.get("/v1/cases", headers=headers)
    assert got.headers["content-encoding"] == "gzip"
    head = client.head("/v1/cases", headers=headers)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-length", "content-encoding", "vary"):
        assert head.headers.get(name) == got.headers.get(name), name


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [("gzip;q=0", False), ("identity, gzip; q=0.0", False), ("GZip", True), ("gzip;q=0.5", True)],
    ids=["refused", "refused-listed", "upper-case", "weighted"],
)
def test_a_large_answer_is_gzipped_only_when_the_client_accepts_gzip(  # type: ignore[no-untyped-def]
    client, region, accept, gzipped
):
    """RFC 9110 section 12.5.3: a coding with `q=0` is not acceptable, and coding names are
    case-insensitive. Starlette's check was `"gzip" in Accept-Encoding`, so a client that
    refused gzip got it anyway, and one that wrote `GZip` did not."""
    for _ in range(25):
        create_case(client, region.care_provider, region.table_id)
    got = client.get(
        "/v1/cases", headers={**region.care_provider.headers, "Accept-Encoding": accept}
    )
    assert got.status_code == 200 and len(got.json()["items"]) == 25
    assert (got.headers.get("content-encoding") == "gzip") is gzipped
    assert got.headers["vary"] == "Accept-Encoding"


def test_a_get_whose_if_none_match_names_the_current_etag_is_304(client, region):  # type: ignore[no-untyped-def]
    """RFC 9110 section 13.1.2: a GET or HEAD whose `If-None-Match` the resource meets is a 304
    without a body, naming the ETag. The API answered 200 with the whole case file, so a client
    polling a case with the ETag it held fetched it in full every time."""
    case = create_case(client, region.care_provider, region.table_id)
    url, headers = f"/v1/cases/{case['id']}", region.care_provider.headers
    etag = client.get(url, headers=headers).headers["ETag"]
    for value in (etag, f"W/{etag}", f'"x", {etag}', "*"):
        for method in ("GET", "HEAD"):
            answer = client.request(method, url, headers={**headers, "If-None-Match": value})
            assert answer.status_code == 304, (method, value)
            assert answer.content == b"" and answer.headers["ETag"] == etag
            assert answer.headers["cache-control"] == "no-store"
            assert "content-type" not in answer.headers
    changed = client.get(url, headers={**headers, "If-None-Match": '"999"'})
    assert changed.status_code == 200 and changed.json()["id"] == case["id"]
    outsider = client.get(url, headers={**region.corporation.headers, "If-None-Match": "*"})
    assert outsider.status_code == 404


@pytest.mark.parametrize(
    "written", ["1_0", "+5", " 5", "5 "], ids=["underscore", "plus", "lead", "trail"]
)
@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/cases", "limit"),
        ("/v1/cases", "householdSize"),
        ("/v1/vacancies", "householdSize"),
        ("/v1/tables/{table}/agenda", "candidates"),
        ("/v1/tables/{table}/contingent-agreements", "year"),
    ],
)
def test_a_number_in_a_query_is_written_in_digits_only(client, region, path, key, written):  # type: ignore[no-untyped-def]
    """Pydantic read `limit=1_0` as 10 and `+5` or ` 5` as 5, where a client had most likely
    made a mistake; a number in a query is digits (a year in a path already was)."""
    value = written.replace("5", "2030") if key == "year" else written
    url = path.format(table=region.table_id)
    response = client.get(url, params={key: value}, headers=region.chair.headers)
    assert_problem(response, 400, "validation_error")
    assert invalid_names(response) == [key]


def test_the_api_root_is_an_index_of_where_to_start(client):
    response = client.get("/v1")
    assert response.status_code == 200
    assert response.json()["links"]["openapi"] == "/v1/openapi.json"
    assert client.get(response.json()["links"]["openapi"]).status_code == 200


def test_an_error_at_the_api_root_is_problem_json(client):
    response = client.post("/v1")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/v1/cases/", f"/v1/cases/{SOME_ID}/", "/v1/"])
def test_a_path_with_a_trailing_slash_is_404_not_a_redirect(client, region, method, path):
    response = client.request(
        method, path, headers=region.care_provider.headers, follow_redirects=False
    )
    problem = assert_problem(response, 404, "not_found")
    assert "location" not in response.headers
    # The detail names the address to use (it said only "Not Found"), as no redirect does.
    assert problem["detail"] == (
        f"There is no API path {path}; paths end without a slash: {path.rstrip('/')}."
    )


def test_an_unknown_api_path_is_404_saying_so(client, region):
    response = client.get("/v1/cases/imports/templates", headers=region.care_provider.headers)
    problem = assert_problem(response, 404, "not_found")
    assert problem["detail"] == (
        "There is no API path /v1/cases/imports/templates; the paths are in /v1/openapi.json."
    )


def test_a_body_that_is_not_json_is_400_naming_the_body(client, region):
    response = client.post(
        "/v1/cases",
        content=b'{"external_ref": ',
        headers={**region.care_provider.headers, "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 400, "validation_error")
    assert [(p["name"], p["in"], p["code"]) for p in problem["invalidParams"]] == [
        ("body", "body", "json_invalid")
    ]


def test_no_api_answer_may_be_stored_by_a_cache(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    headers = region.care_provider.headers
    answers = [
        client.get(f"/v1/cases/{case['id']}", headers=headers),
        client.get("/v1/cases", headers=headers),
        client.post("/v1/cases", json={}, headers=headers),  # 400
        client.get(f"/v1/cases/{SOME_ID}", headers=headers),  # 404
        client.get("/v1/cases"),  # 401
        client.get("/v1/limits", headers=OPERATOR),
        client.options("/v1/cases"),
    ]
    assert [a.headers.get("cache-control") for a in answers] == ["no-store"] * len(answers)


def test_the_public_contract_may_be_cached(client):
    assert "cache-control" not in client.get("/openapi.json").headers


NOT_ISO_DATES = [
    "0",  # was read as 1970-01-01
    "1700000000",  # Unix time
    "2026-11-30T00:00:00",
    "2026-11-30T00:00:00Z",
    "20261130",
    "2026-1-5",
    "+2026-11-30",
    " 2026-11-30",
    "2026-11-30\n",
]


@pytest.mark.parametrize("value", NOT_ISO_DATES)
def test_a_date_in_a_query_is_only_yyyy_mm_dd(client, region, value):
    response = client.get(
        f"/v1/tables/{region.table_id}/agenda",
        params={"date": value},
        headers=region.chair.headers,
    )
    assert invalid_names(response) == ["date"]


@pytest.mark.parametrize("value", [*NOT_ISO_DATES, 0, 1700000000, 20261130.0])
def test_a_date_in_a_body_is_only_yyyy_mm_dd(client, region, value):
    response = client.post(
        "/v1/vacancies",
        json=vacancy_body(available_from=value),
        headers=region.corporation.headers,
    )
    assert invalid_names(response) == ["available_from"]


def test_an_iso_date_is_accepted_in_query_and_body(client, region):
    agenda = client.get(
        f"/v1/tables/{region.table_id}/agenda",
        params={"date": iso(0)},
        headers=region.chair.headers,
    )
    assert agenda.status_code == 200, agenda.text
    vacancy = client.post(
        "/v1/vacancies",
        json=vacancy_body(available_from=iso(7)),
        headers=region.corporation.headers,
    )
    assert vacancy.status_code == 201, vacancy.text
    assert vacancy.json()["available_from"] == iso(7)


QUERY_BOOLEANS = {
    "true": ["true", "TRUE", "True", "1", "yes", "on", "t", "y"],
    "false": ["false", "FALSE", "False", "0", "no", "off", "f", "n"],
}


def test_a_yes_no_in_a_query_names_every_spelling_it_takes():
    """A yes/no in a query (`dryRun`, `overdue`) takes what the clients' languages write for
    one (PHP's http_build_query `1`/`0`, .NET's and Python's `True`/`False`, Spring's
    `yes`/`on`), where a JSON body takes `true`/`false` only; the contract said `boolean`
    and nothing more, so the one rule could not be told from the other."""
    from tests.conftest import generated_contract

    found = 0
    for path, operations in generated_contract()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") == "boolean":
                    found += 1
                    for spelling in ("`true`", "`1`", "`yes`", "`on`", "`false`", "`0`", "`off`"):
                        assert spelling in parameter["description"], (method, path, spelling)
    assert found >= 3


@pytest.mark.parametrize("meaning", ["true", "false"])
def test_a_yes_no_in_a_query_takes_exactly_the_spellings_the_contract_names(
    client, region, meaning
):  # type: ignore[no-untyped-def]
    url, headers = f"/v1/tables/{region.table_id}/actions", region.chair.headers
    expected = client.get(url, params={"overdue": meaning}, headers=headers).json()
    for spelling in QUERY_BOOLEANS[meaning]:
        answer = client.get(url, params={"overdue": spelling}, headers=headers)
        assert answer.status_code == 200 and answer.json() == expected, spelling
    for wrong in ("2", "", " true", "ja", "0.0", "tru"):
        answer = client.get(url, params={"overdue": wrong}, headers=headers)
        assert invalid_names(answer) == ["overdue"], wrong
