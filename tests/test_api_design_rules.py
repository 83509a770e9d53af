"""The contract follows the NL API Design Rules (Logius): the official linter passes on the
committed document and on the one a running server serves, and the rules that new routes most
easily break are checked here without the linter too, so they fail loudly anywhere.

The linter is Spectral (`@stoplight/spectral-cli` 6, from npm) with Logius' ruleset
(`media/linter.yaml` of Logius-standaarden/API-Design-Rules). It is looked up as
`UITSTROOM_SPECTRAL` (an executable), else `spectral` on the PATH, else
`.ci/spectral/node_modules/.bin/spectral` (where `.ci/run` installs it); the ruleset as
`UITSTROOM_ADR_RULESET`, else `shared/adr/linter.yaml` in a folder above the repository. Without
either the linter test is skipped saying which is missing, and fails instead under
`UITSTROOM_REQUIRE_ADR_LINTER=1` (CI).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import generated_contract

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "openapi" / "openapi.json"
REQUIRED = os.environ.get("UITSTROOM_REQUIRE_ADR_LINTER") == "1"
CAMEL_CASE = re.compile(r"^[a-z][a-z\d]*([A-Z][a-z\d]*)*$")


def spectral() -> str | None:
    configured = os.environ.get("UITSTROOM_SPECTRAL")
    if configured:
        return configured
    local = ROOT / ".ci" / "spectral" / "node_modules" / ".bin" / "spectral"
    return shutil.which("spectral") or (str(local) if local.exists() else None)


def ruleset() -> Path | None:
    configured = os.environ.get("UITSTROOM_ADR_RULESET")
    if configured:
        return Path(configured)
    for folder in ROOT.parents:
        candidate = folder / "shared" / "adr" / "linter.yaml"
        if candidate.exists():
            return candidate
    return None


def lint(paths: list[Path]) -> list[dict[str, Any]]:
    """Spectral's findings (any severity) on the documents, as its JSON output lists them."""
    linter, rules = spectral(), ruleset()
    missing = [
        what
        for what, found in (
            ("Spectral (set UITSTROOM_SPECTRAL or install @stoplight/spectral-cli 6)", linter),
            ("the Logius ruleset (set UITSTROOM_ADR_RULESET to its linter.yaml)", rules),
        )
        if not found
    ]
    if missing:
        message = "NL API Design Rules linter not run: no " + " and no ".join(missing)
        if REQUIRED:
            pytest.fail("UITSTROOM_REQUIRE_ADR_LINTER=1, but " + message)
        pytest.skip(message)
    done = subprocess.run(
        [str(linter), "lint", "-q", "-f", "json", "-F", "hint", "-r", str(rules), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.stdout.strip(), f"Spectral printed nothing (exit {done.returncode}): {done.stderr}"
    return json.loads(done.stdout)


def readable(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['code']} at {'.'.join(map(str, f['path']))}: {f['message']}" for f in findings[:30]
    )


def test_the_official_linter_finds_nothing_in_the_committed_or_served_contract(tmp_path):
    with TestClient(create_app()) as client:
        response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    documents = [CONTRACT]
    # Spectral takes 3-8 s a document; the served one is linted too when it says anything else.
    if response.json() != json.loads(CONTRACT.read_text()):
        served = tmp_path / "served.json"
        served.write_text(response.text)
        documents.append(served)
    findings = lint(documents)
    assert findings == [], f"{len(findings)} finding(s):\n{readable(findings)}"


def contract() -> dict[str, Any]:
    return generated_contract()


def operations(document: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_query_key_is_lower_camel_case():
    wrong = [
        f"{name}: {parameter['name']}"
        for name, operation in operations(contract())
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and not CAMEL_CASE.match(parameter["name"])
    ]
    assert not wrong, (
        "query keys must be lowerCamelCase (NL API Design Rules /core/query-keys-camel-case); "
        "keep the Python name and declare `Query(alias=...)`: " + ", ".join(wrong)
    )


def test_every_operation_with_input_answers_invalid_input_with_400_and_never_422():
    for name, operation in operations(contract()):
        responses = operation["responses"]
        if operation.get("parameters") or operation.get("requestBody"):
            assert "400" in responses, f"{name} documents no 400"
        takes_idempotency_key = any(
            p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])
        )
        # 422 stays only for a reused Idempotency-Key (IETF draft), never for invalid input.
        assert ("422" in responses) == takes_idempotency_key, name


def test_every_success_declares_the_api_version_header():
    for name, operation in operations(contract()):
        for status, response in operation["responses"].items():
            if status < "400":
                assert "API-Version" in response.get("headers", {}), f"{name} {status}"


# --- every property described ---------------------------------------------------------------


def undescribed(document: dict[str, Any]) -> list[str]:
    """`Schema.property` of every component property without a description."""
    return sorted(
        f"{name}.{prop}"
        for name, schema in document["components"]["schemas"].items()
        for prop, definition in schema.get("properties", {}).items()
        if not str(definition.get("description", "")).strip()
    )


def test_every_property_is_described():
    # Describe a property where it is declared (`Field(description=...)`: meaning, unit, range,
    # the domain term) or, for a name that means the same everywhere, in
    # app/openapi_contract.COMMON_FIELDS.
    missing = undescribed(contract())
    assert not missing, f"{len(missing)} propert(y/ies) without a description: " + ", ".join(
        missing
    )


def test_the_check_for_descriptions_finds_an_undescribed_property():
    document = {
        "components": {"schemas": {"Thing": {"properties": {"a": {}, "b": {"description": "B."}}}}}
    }
    assert undescribed(document) == ["Thing.a"]


def test_a_list_that_is_not_paged_does_not_send_its_reader_to_a_next_cursor():
    """The common description of `items` is a page's ("see `next_cursor` for the next page"):
    on a vacancy batch, the body a corporation's system sends, and on lists that come whole,
    it pointed to a `next_cursor` the schema does not have (found by a new user reading the
    batch's contract)."""
    schemas = contract()["components"]["schemas"]
    misled = sorted(
        name
        for name, schema in schemas.items()
        if "next_cursor" in str(schema.get("properties", {}).get("items", {}).get("description"))
        and "next_cursor" not in schema.get("properties", {})
    )
    assert not misled, misled


def test_an_external_ref_is_described_with_the_length_its_requests_allow():
    """The answers described `external_ref` as 'at most 100 characters'; a request's is at most
    64 (its pattern), so a system that kept 100 characters for it was told wrong."""
    schemas = contract()["components"]["schemas"]
    allowed = re.fullmatch(
        r"\^\[A-Za-z0-9\._-\]\{1,(\d+)\}\$",
        schemas["CaseCreate"]["properties"]["external_ref"]["pattern"],
    )
    assert allowed
    stated = {
        name: re.findall(
            r"at most (\d+) characters", schema["properties"]["external_ref"].get("description", "")
        )
        for name, schema in schemas.items()
        if "external_ref" in schema.get("properties", {})
    }
    assert {name: n for name, n in stated.items() if n and n != [allowed.group(1)]} == {}


def test_every_request_body_has_an_example_that_its_model_accepts():
    from pydantic import BaseModel

    from app.openapi_examples import VACANCY_EXAMPLE

    document = contract()  # imports every model
    models: dict[str, list[type[BaseModel]]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            models.setdefault(model.__name__, []).append(model)
            pending.append(model)
    examples = document["components"]["examples"]
    # The vacancy bodies cannot carry one (see app.openapi_examples); their example is checked.
    bodies = {"VacancyIn": VACANCY_EXAMPLE, "VacancyBatch": {"items": [VACANCY_EXAMPLE]}}
    for name, operation in operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if media_type == "multipart/form-data":
                continue  # a spreadsheet upload: its template (GET .../imports/template) shows it
            schema_name = media["schema"]["$ref"].rsplit("/", 1)[-1]
            if schema_name not in bodies:
                assert "examples" in media, f"{name} has no request example"
                ref = media["examples"]["example"]["$ref"].rsplit("/", 1)[-1]
                bodies[schema_name] = examples[ref]["value"]
    for schema_name, body in bodies.items():
        [model] = models[schema_name]
        model.model_validate_json(json.dumps(body))


def test_every_error_response_has_an_example():
    missing = [
        f"{name} {status}"
        for name, operation in operations(contract())
        for status, response in operation["responses"].items()
        if status >= "400"
        and not any(
            "example" in media or "examples" in media
            for media in response.get("content", {}).values()
        )
    ]
    assert not missing, "error responses without an example: " + ", ".join(missing)
