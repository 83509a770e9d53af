"""The committed OpenAPI file is the contract partner systems code against; it must not drift."""

import json
from pathlib import Path

from app.main import create_app

CONTRACT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_app():
    generated = json.loads(json.dumps(create_app().openapi()))
    committed = json.loads(CONTRACT.read_text())
    assert committed == generated, (
        "openapi/openapi.json is stale: run `uitstroomtafel openapi --output openapi/openapi.json` "
        "and review the diff (a breaking change needs a new version path)"
    )


def test_every_operation_requires_the_api_key():
    spec = create_app().openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security") == [{"apiKey": []}], f"{method.upper()} {path}"


def test_every_operation_documents_problem_responses():
    spec = create_app().openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert "401" in errors, f"{method.upper()} {path} documents no 401"
            for code, response in errors.items():
                assert "application/problem+json" in response["content"], (method, path, code)
