# Size: the design rules applied in one pass over the generated document, and the texts they
# write in (headers, problem examples, common field meanings), which read best beside them.
"""The NL API Design Rules (Logius, ruleset `linter.yaml` of Logius-standaarden/API-Design-Rules)
applied to FastAPI's generated OpenAPI document, generically, so a new route complies without
remembering each rule:

- `servers` carries the major version (`/v1`, /core/uri-version) and the paths are relative to it;
- `info.contact` names who answers for the API (/core/doc-openapi-contact), from the settings;
- every operation that takes input documents `400` problem+json with `invalidParams`
  (/core/error-handling/invalid-input), and every 2xx and 3xx answer declares `API-Version`
  (/core/version-header) and the other headers the service sends;
- an optional date is `{"type": ["string", "null"], "format": "date"}` rather than an `anyOf`, so
  its `format` is where readers (and the linter, /core/date-time) look;
- schema names are UpperCamelCase: pydantic's `Income-Input`/`Income-Output` pair (a model whose
  input accepts more than its output shows) becomes `IncomeInput`/`Income`.

Plain functions on the document (a dict), so the rules are testable without an app.
"""

import copy
import re
from collections.abc import Callable
from typing import Any

from app.api_headers import declare_not_modified
from app.openapi_examples import request_examples
from app.problems import PROBLEM_MEDIA_TYPE

API_BASE = "/v1"

HEADERS: dict[str, dict[str, Any]] = {
    "API-Version": {
        "description": "The full (semantic) version of this contract, e.g. `1.0.0`; sent on every "
        "answer (NL API Design Rules /core/version-header).",
        "schema": {"type": "string", "example": "1.0.0"},
    },
    "Location": {
        "description": "The absolute path of the resource created (201), or of the existing one "
        "the request conflicts with (409), e.g. `/v1/cases/{id}`.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "ETag": {
        "description": 'The resource\'s version as a strong entity tag (`"3"`); send it back in '
        "`If-Match` to change the resource only if nobody changed it meanwhile.",
        "schema": {"type": "string", "example": '"1"'},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key` (nothing was done again); absent on a first answer.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Cache-Control": {
        "description": "`no-store` on every `/v1` answer: answers are per organisation and may "
        "hold case data, so no cache may keep them.",
        "schema": {"type": "string", "example": "no-store"},
    },
}

PROBLEM_EXAMPLES: dict[str, dict[str, Any]] = {
    "400": {
        "type": "urn:uitstroomtafel:problem:validation_error",
        "title": "Invalid request",
        "status": 400,
        "detail": "1 invalid field(s)",
        "instance": "/v1/cases",
        "code": "validation_error",
        "invalidParams": [
            {
                "name": "household.adults",
                "in": "body",
                "code": "greater_than_equal",
                "reason": "Input should be greater than or equal to 1",
            }
        ],
    },
    "401": {
        "type": "urn:uitstroomtafel:problem:unauthorized",
        "title": "Authentication required",
        "status": 401,
        "detail": "Missing or invalid API key",
        "instance": "/v1/cases",
        "code": "unauthorized",
    },
    "403": {
        "type": "urn:uitstroomtafel:problem:forbidden",
        "title": "Not allowed for this organisation",
        "status": 403,
        "detail": "Only care providers register cases",
        "instance": "/v1/cases",
        "code": "forbidden",
    },
    "404": {
        "type": "urn:uitstroomtafel:problem:not_found",
        "title": "Not found",
        "status": 404,
        "detail": "Case not found",
        "instance": "/v1/cases/0b4f5d1e-6c1a-4bd4-9a53-3f0e8f1c2a77",
        "code": "not_found",
    },
    "406": {
        "type": "urn:uitstroomtafel:problem:not_acceptable",
        "title": "Not acceptable",
        "status": 406,
        "detail": "This operation answers application/json; the Accept header (application/xml) "
        "takes none of them. Send Accept: application/json (or */*), or no Accept.",
        "instance": "/v1/cases",
        "code": "not_acceptable",
    },
    "409": {
        "type": "urn:uitstroomtafel:problem:conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "A case with this external_ref exists",
        "instance": "/v1/cases",
        "code": "conflict",
    },
    "412": {
        "type": "urn:uitstroomtafel:problem:precondition_failed",
        "title": "Precondition failed",
        "status": 412,
        "detail": 'The resource is at version "4", not "3"',
        "instance": "/v1/cases/0b4f5d1e-6c1a-4bd4-9a53-3f0e8f1c2a77",
        "code": "precondition_failed",
    },
    "413": {
        "type": "urn:uitstroomtafel:problem:payload_too_large",
        "title": "Payload too large",
        "status": 413,
        "detail": "Request bodies are limited to 8388608 bytes.",
        "instance": "/v1/vacancies/batch",
        "code": "payload_too_large",
    },
    "415": {
        "type": "urn:uitstroomtafel:problem:unsupported_media_type",
        "title": "Unsupported media type",
        "status": 415,
        "detail": "Send the body as application/json, not as text/plain.",
        "instance": "/v1/cases",
        "code": "unsupported_media_type",
    },
    "422": {
        "type": "urn:uitstroomtafel:problem:idempotency_key_reused",
        "title": "Idempotency-Key reused",
        "status": 422,
        "detail": "This Idempotency-Key was used for another request",
        "instance": "/v1/cases",
        "code": "idempotency_key_reused",
    },
    "429": {
        "type": "urn:uitstroomtafel:problem:too_many_requests",
        "title": "Too many requests",
        "status": 429,
        "detail": "Try again in 30 seconds",
        "instance": "/v1/tables/0b4f5d1e-6c1a-4bd4-9a53-3f0e8f1c2a77/why-not",
        "code": "too_many_requests",
    },
    "503": {
        "type": "urn:uitstroomtafel:problem:database_unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "The database is unreachable; nothing was changed",
        "instance": "/v1/cases",
        "code": "database_unavailable",
    },
}

# Meanings of fields that mean the same in every schema, used where a model gives none (a
# model's own description always wins). Kept here rather than in each of the dozens of models.
COMMON_FIELDS: dict[str, str] = {
    "id": "This resource's id: a UUIDv7 (time-ordered), assigned by the service, never reused.",
    "items": "This page's items, oldest first; see `next_cursor` for the next page.",
    "created_at": "When the service stored it (UTC, RFC 3339 date-time).",
    "updated_at": "When it last changed (UTC, RFC 3339 date-time).",
    "version": "Optimistic-concurrency version: 1 when created, one higher after every change; "
    "the `ETag` carries it, send it as `If-Match`.",
    "table_id": "The uitstroomtafel (a region's outflow table) it belongs to.",
    "case_id": "The case (a client's case file) it is about.",
    "vacancy_id": "The vacancy (a dwelling offered by a housing corporation) it is about.",
    "meeting_id": "The table meeting it belongs to.",
    "proposal_id": "The proposal (a case matched to a dwelling at a meeting) it is about.",
    "action_id": "The follow-up action it is about.",
    "organisation_id": "The organisation (municipality, care provider or housing corporation).",
    "corporation_id": "The housing corporation (an organisation of kind `housing_corporation`).",
    "care_provider_id": "The care provider (an organisation of kind `care_provider`) that "
    "registered the case.",
    "owner_organisation_id": "The organisation responsible for carrying the action out.",
    "actor_organisation_id": "The organisation whose key or person made the change.",
    "actor_api_key_id": "The API key that made the change; null when a person did on the pages.",
    "api_key_id": "The API key the request was made with; null for a person on the pages.",
    "chair_organisation_id": "The municipality chairing the table (voorzitter).",
    "external_ref": "The sending organisation's own reference, unique per organisation "
    "(at most 64 characters: letters, digits, `.`, `_` and `-`; an anonymised case's reads "
    "`anonymised:` and the case's id in hex).",
    "at": "When it happened (UTC, RFC 3339 date-time).",
    "date": "The meeting date (Europe/Amsterdam calendar day, `YYYY-MM-DD`) the figures are for.",
    "generated_at": "When the service computed this answer (UTC, RFC 3339 date-time).",
    "from_status": "The status before the change.",
    "to_status": "The status after the change.",
    "due_date": "The day by which the action is to be done (calendar day, `YYYY-MM-DD`).",
    "ready_since": "The day from which the client is ready to move (uitstroomklaar).",
    "score": "Matching score of the pair: the weighted sum of its components, higher is a "
    "better fit (see the table policy's `score_weights`).",
    "municipality_code": "CBS municipality code, `GM` and four digits (e.g. `GM0344`).",
    "neighbourhood_code": "CBS neighbourhood code, `BU` and eight digits (e.g. `BU03440101`).",
    "year": "Calendar year.",
}

IDEMPOTENCY_REUSED = {
    "description": "The `Idempotency-Key` was used before for a different request (IETF "
    "draft-ietf-httpapi-idempotency-key-header); nothing was done.",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def comply(schema: dict[str, Any], contact: dict[str, str], root: str = "") -> dict[str, Any]:
    """`schema` (FastAPI's OpenAPI document, changed in place and returned) made to follow the
    NL API Design Rules; `contact` is `info.contact` (`name`, `email`, `url`); `root` the app's
    root path (`app.root_path`), where its one server, the major version, is."""
    schema["info"]["contact"] = contact
    schema["servers"] = [
        {
            "url": root + API_BASE,
            "description": "This server, version 1 of the API (major version).",
        }
    ]
    schema["paths"] = {
        (path[len(API_BASE) :] or "/") if path.startswith(API_BASE + "/") else path: operations
        for path, operations in schema["paths"].items()
    }
    components = schema.setdefault("components", {})
    components["headers"] = copy.deepcopy(HEADERS)
    _rename_input_output(schema)
    _date_formats(components.get("schemas", {}))
    _common_descriptions(components.get("schemas", {}))
    versioned = {
        name
        for name, definition in components.get("schemas", {}).items()
        if "version" in definition.get("properties", {})
    }
    # Request examples live in components.examples and are referenced: inline, a field such as
    # `postcode` inside one would match the linter's pattern for a `post` operation.
    examples = request_examples()
    components["examples"] = {
        name: {"summary": f"A {name} body", "value": value} for name, value in examples.items()
    }
    for path, operations in schema["paths"].items():
        # One resource written with `If-Match` answers its GET with the ETag to send there (a
        # collection's POST that takes it, an upsert, tags the items, not the list).
        tagged = _tagged(path, operations)
        # A creation on a collection whose items are tagged sends the new item's ETag too.
        item = re.compile(re.escape(path) + r"/\{[^/}]+\}")
        creates_tagged = any(
            item.fullmatch(p) and _tagged(p, o) for p, o in schema["paths"].items()
        )
        for method, operation in operations.items():
            _responses(
                operation,
                versioned,
                (tagged and method == "get") or (creates_tagged and method == "post"),
            )
            if method == "get":
                declare_not_modified(operation)
            _query_booleans(operation)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if ref in examples:
                    media["examples"] = {"example": {"$ref": f"#/components/examples/{ref}"}}
    return schema


QUERY_BOOLEAN = (
    " Written `true` or `false`; also read, in any case: `1`, `yes`, `on`, `t`, `y` for true "
    "and `0`, `no`, `off`, `f`, `n` for false (as the clients' languages write a yes/no in a "
    "URL); anything else is a 400 naming it. A yes/no in a JSON body is `true`/`false` only."
)


def _query_booleans(operation: dict[str, Any]) -> None:
    """A yes/no query parameter names the spellings the service reads (pydantic's: a query is
    text, and PHP writes `1`, .NET and Python's requests `True`), where the contract said
    `boolean` only; taking just `true` and `false` would have broken v1 clients for nothing
    (every spelling means the one value its writer meant)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter["schema"].get("type") == "boolean":
            parameter["description"] = parameter.get("description", "") + QUERY_BOOLEAN


def _tagged(path: str, operations: dict[str, Any]) -> bool:
    """Whether `path` is one resource written with `If-Match`: its answers carry its ETag."""
    return "{" in path and any("If-Match" in _header_names(o) for o in operations.values())


def ref(name: str) -> dict[str, str]:
    """A reference to the declared header `name`."""
    return {"$ref": f"#/components/headers/{name}"}


def _header_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}


def _returns_versioned(response: dict[str, Any], versioned: set[str]) -> bool:
    for media in response.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        if ref.rsplit("/", 1)[-1] in versioned:
            return True
    return False


def _responses(operation: dict[str, Any], versioned: set[str], tagged: bool = False) -> None:
    responses = operation["responses"]
    # Every operation takes input: at least the `Authorization` header, which may come only
    # once (`app.auth`).
    responses["400"] = {
        "description": "Invalid input: `invalidParams` names each field (`in`: `body`, "
        "`query`, `path` or `header`) with a machine-readable `code` and a `reason`. "
        "Nothing was changed.",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if any(r.get("content") for s, r in responses.items() if s.startswith("2")):
        # `app.acceptable`: only an operation that answers a body judges `Accept`.
        responses["406"] = {
            "description": "The `Accept` header takes none of the media types this operation "
            "answers (`application/json`, and `text/csv` or the spreadsheet's type where "
            "`format` offers it). Nothing was changed.",
            "content": copy.deepcopy(problem),
        }
    if operation.get("requestBody"):
        # `app.body_limit`, decided after the key; an operation may add its own 413
        # (a batch's items, an import's file), which says more.
        responses.setdefault(
            "413",
            {
                "description": "The body is larger than the service takes "
                "(`UITSTROOM_MAX_BODY_BYTES`, 8 MB by default; `detail` names the limit). "
                "Nothing was changed.",
                "content": copy.deepcopy(problem),
            },
        )
        responses["415"] = {
            "description": "The body's `Content-Type` is not the one the operation reads "
            "(`application/json`, or `multipart/form-data` for uploads). Nothing was changed.",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    # FastAPI's own 422 (and a route's leftover one) is gone: invalid input answers 400. Only a
    # reused Idempotency-Key is 422, as the IETF draft says.
    responses.pop("422", None)
    headers_in = _header_names(operation)
    if "Idempotency-Key" in headers_in:
        responses["422"] = copy.deepcopy(IDEMPOTENCY_REUSED)
    replayed = _replayed_answer(responses) if "Idempotency-Key" in headers_in else None
    if replayed is not None:
        # A creation's replay (200) answers the body the creation had, with the headers the
        # service keeps for it (`app.idempotency.REPLAY_HEADERS`): a client reads it the same.
        responses["200"]["content"] = copy.deepcopy(responses[replayed]["content"])
    for status, response in responses.items():
        headers = response.setdefault("headers", {}) if status < "400" else None
        if headers is not None:
            headers["API-Version"] = ref("API-Version")
            headers["Cache-Control"] = ref("Cache-Control")
            if status == "201" or (status == "200" and replayed == "201"):
                headers["Location"] = ref("Location")
            # A 204 (a deletion) has no resource left to tag, even where If-Match is taken.
            if (
                _returns_versioned(response, versioned)
                or tagged
                or ("If-Match" in headers_in and status != "204")
            ):
                headers["ETag"] = ref("ETag")
            if "Idempotency-Key" in headers_in and ("200" in responses or "201" not in responses):
                # Only where a replay answers: a creation's as 200, any other answer as it was
                # (a redelivery's 202); a key issuance's retry is a 409 instead.
                headers["Idempotent-Replayed"] = ref("Idempotent-Replayed")
        elif PROBLEM_MEDIA_TYPE in response.get("content", {}):
            extra = {}
            if status in ("429", "503"):
                extra["Retry-After"] = ref("Retry-After")
            if status == "409":
                extra["Location"] = ref("Location")
            if extra:
                response.setdefault("headers", {}).update(extra)
            example = PROBLEM_EXAMPLES.get(status)
            if example is not None:
                response["content"][PROBLEM_MEDIA_TYPE].setdefault("example", example)


def _replayed_answer(responses: dict[str, Any]) -> str | None:
    """ "201" when the `200` is a creation's replay (`app.idempotency`: it answers the created
    resource as it is now) that documents no body of its own."""
    replay = responses.get("200")
    if replay is not None and not replay.get("content") and responses.get("201", {}).get("content"):
        return "201"
    return None


_SUFFIXED = re.compile(r"^(?P<base>.+)-(?P<mode>Input|Output)$")


def _form_body_names(schema: dict[str, Any]) -> dict[str, str]:
    """FastAPI's `Body_<operationId>` of a form or upload -> `<Summary>Form` (`ImportCasesForm`)."""
    renames = {}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            for body in content.values():
                ref = body.get("schema", {}).get("$ref", "")
                name = ref.rsplit("/", 1)[-1]
                if name.startswith("Body_") and operation.get("summary"):
                    renames[name] = "".join(operation["summary"].split()) + "Form"
    return renames


def _rename_input_output(schema: dict[str, Any]) -> None:
    """`X-Input` -> `XInput` and `X-Output` -> `X`, and FastAPI's `Body_...` form schemas to
    `<Summary>Form`, in the components and every `$ref`."""
    schemas = schema.get("components", {}).get("schemas", {})
    renames = _form_body_names(schema)
    for name in list(schemas):
        match = _SUFFIXED.match(name)
        if match:
            base = match["base"]
            renames[name] = base + "Input" if match["mode"] == "Input" else base
    if not renames:
        return
    schema["components"]["schemas"] = {renames.get(k, k): v for k, v in schemas.items()}
    prefix = "#/components/schemas/"

    def rename(node: dict[str, Any]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] in renames:
            node["$ref"] = prefix + renames[ref[len(prefix) :]]

    _walk(schema, rename)


def _date_formats(schemas: dict[str, Any]) -> None:
    """An optional formatted string (`anyOf` of it and null) as one schema with a type list."""

    def flatten(node: dict[str, Any]) -> None:
        for prop in node.get("properties", {}).values():
            _flatten_nullable_format(prop)

    _walk(schemas, flatten)


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    """Call `visit` on every object in `node`, outermost first."""
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _flatten_nullable_format(prop: dict[str, Any]) -> None:
    options = prop.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return
    formatted = [o for o in options if o.get("type") == "string" and "format" in o]
    nulls = [o for o in options if o == {"type": "null"}]
    if len(formatted) != 1 or len(nulls) != 1:
        return
    del prop["anyOf"]
    prop.update({**formatted[0], "type": ["string", "null"]})


# `items` of a list that comes whole: COMMON_FIELDS' is a page's, which names a `next_cursor`.
WHOLE_LIST_ITEMS = "Every item: this list comes whole, not page by page."


def _common_descriptions(schemas: dict[str, Any]) -> None:
    """Describe, from `COMMON_FIELDS`, the properties whose model left them undescribed."""
    for definition in schemas.values():
        properties = definition.get("properties", {})
        for name, prop in properties.items():
            if not prop.get("description") and name in COMMON_FIELDS:
                whole = name == "items" and "next_cursor" not in properties
                prop["description"] = WHOLE_LIST_ITEMS if whole else COMMON_FIELDS[name]
