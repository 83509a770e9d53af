"""The committed OpenAPI file is the contract partner systems code against; it must not drift."""

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tests.conftest import generated_contract

CONTRACT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def differences(committed: Any, generated: Any, at: str = "") -> list[str]:
    """JSON pointers where the two documents differ: short enough to read in a CI log."""
    if isinstance(committed, dict) and isinstance(generated, dict):
        found = []
        for key in [*committed, *(k for k in generated if k not in committed)]:
            pointer = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in generated:
                found.append(f"{pointer}: only in the committed file")
            elif key not in committed:
                found.append(f"{pointer}: only in the app")
            else:
                found += differences(committed[key], generated[key], pointer)
        return found
    if isinstance(committed, list) and isinstance(generated, list):
        if len(committed) != len(generated):
            return [f"{at}: {len(committed)} items committed, {len(generated)} in the app"]
        return [
            d
            for i, pair in enumerate(zip(committed, generated, strict=True))
            for d in differences(*pair, f"{at}/{i}")
        ]
    return [] if committed == generated else [f"{at}: {committed!r:.60} != {generated!r:.60}"]


def test_committed_openapi_matches_the_app():
    generated = generated_contract()
    committed = json.loads(CONTRACT.read_text())
    drift = differences(committed, generated)
    # The generator's versions are named because another release writes the same API differently.
    assert not drift, (
        "openapi/openapi.json is stale: run `uitstroomtafel openapi --output openapi/openapi.json` "
        "and review the diff (a breaking change needs a new version path). "
        f"Generated with fastapi {version('fastapi')}, pydantic {version('pydantic')}. "
        f"{len(drift)} difference(s), the first: " + "; ".join(drift[:10])
    )


def test_the_drift_report_names_where_the_documents_differ():
    committed = {"paths": {"/v1/cases": {"get": {"parameters": [{"name": "limit"}]}}}, "a/b": 1}
    generated = {"paths": {"/v1/cases": {"get": {"parameters": [{"name": "size"}]}}}, "c": 2}
    assert differences(committed, generated) == [
        "/paths/~1v1~1cases/get/parameters/0/name: 'limit' != 'size'",
        "/a~1b: only in the committed file",
        "/c: only in the app",
    ]
    assert differences(committed, committed) == []


def test_every_operation_requires_the_api_key():
    spec = generated_contract()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security") == [{"apiKey": []}], f"{method.upper()} {path}"


def test_every_operation_documents_problem_responses():
    spec = generated_contract()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert "401" in errors, f"{method.upper()} {path} documents no 401"
            for code, response in errors.items():
                assert "application/problem+json" in response["content"], (method, path, code)


# Creations whose answer cannot be shown again (an API key is stored only as its hash): a retry
# with the same Idempotency-Key answers 409 naming what was created.
REPLAYED_AS_CONFLICT = {("post", "/organizations/{organisation_id}/api-keys")}


def test_every_creation_with_an_idempotency_key_documents_its_replay():
    # A replay created nothing, so it answers 200; a client must find that in the contract.
    spec = generated_contract()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" in headers and "201" in operation["responses"]:
                replay = "409" if (method, path) in REPLAYED_AS_CONFLICT else "200"
                assert replay in operation["responses"], f"{method.upper()} {path}"
    for method, path in REPLAYED_AS_CONFLICT:
        responses = spec["paths"][path][method]["responses"]
        assert "200" not in responses
        assert "Idempotent-Replayed" not in responses["201"]["headers"]


def test_every_post_takes_an_idempotency_key_and_the_description_says_so():
    # Publishing a meeting, final minutes and a person took none: a retry after a lost answer
    # was a 409 (`already_published`, `minutes_final`, `duplicate_email`) for a request that
    # had succeeded, and a key sent to them was silently ignored (found by the breaker).
    spec = generated_contract()
    assert "Every POST accepts an `Idempotency-Key`" in " ".join(
        spec["info"]["description"].split()
    )
    without_key = {
        path
        for path, operations in spec["paths"].items()
        if "post" in operations
        and "Idempotency-Key" not in {p["name"] for p in operations["post"].get("parameters", [])}
    }
    assert without_key == set()


def test_no_deletion_answer_documents_an_etag_it_cannot_send():
    # A 204 has no resource left to tag (DELETE /v1/vacancies/{id} answers none): a client
    # coding against the contract would look for a header that never comes.
    spec = generated_contract()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            no_content = operation["responses"].get("204")
            if no_content is not None:
                assert "ETag" not in no_content.get("headers", {}), f"{method.upper()} {path}"


def test_the_minutes_document_the_etag_and_304_they_answer_with():
    # GET /meetings/{id}/minutes sends an ETag (to send back as If-Match when marking them
    # final, or as If-None-Match): the contract must say so.
    operation = generated_contract()["paths"]["/meetings/{meeting_id}/minutes"]["get"]
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert "304" in operation["responses"]
