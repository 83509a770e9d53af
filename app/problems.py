"""RFC 9457 problem details: the one error format of the API.

Domain code raises `ProblemError` subclasses. This module imports no FastAPI, so services can
raise them; `app.problem_handlers` turns them, FastAPI's validation errors and Starlette's HTTP
errors into the responses, so every non-2xx response is `application/problem+json`.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:uitstroomtafel:problem:"


class InvalidParam(BaseModel):
    name: str = Field(description="Field path, e.g. `household.adults` or `items[3].rent.base`.")
    location: str = Field(alias="in", description="`body`, `query`, `path` or `header`.")
    code: str = Field(description="Machine-readable error code.")
    reason: str = Field(description="Human-readable explanation.")

    model_config = ConfigDict(populate_by_name=True)


class InvalidItem(BaseModel):
    index: int = Field(description="Position of the item in the batch's `items`, from 0.")
    external_ref: str | None = Field(
        default=None, description="The item's `external_ref` as sent, if it was a string."
    )
    invalidParams: list[InvalidParam] = Field(description="Every invalid field of this item.")


class Problem(BaseModel):
    """RFC 9457 problem details, with `code` and `invalidParams` as extension members."""

    type: str = Field(
        default="about:blank",
        description="URI naming the kind of problem: `urn:uitstroomtafel:problem:` and `code`.",
    )
    title: str = Field(description="Short, human-readable summary of the kind of problem.")
    status: int = Field(description="The HTTP status code of this answer (400-599).")
    detail: str | None = Field(
        default=None, description="Human-readable explanation of this occurrence."
    )
    instance: str | None = Field(default=None, description="The path the request was made to.")
    code: str = Field(
        description="Machine-readable problem code, e.g. `validation_error`, `not_found`, "
        "`case_closed`; stable across releases of a major version."
    )
    invalidParams: list[InvalidParam] | None = Field(
        default=None, description="On 400: every invalid field, query key, path or header."
    )
    invalidItems: list[InvalidItem] | None = Field(
        default=None, description="On a refused batch: every invalid item (nothing was stored)."
    )
    model_config = ConfigDict(extra="allow")


class ProblemError(Exception):
    """An error with its own HTTP status, raised by services and dependencies."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        if code:
            self.code = code
        self.headers = headers or {}
        self.extra = extra


class Unauthorized(ProblemError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, *, invalid_token: bool = False, **kw: Any):
        """`invalid_token`: a key was sent but is unknown, revoked or malformed; the challenge
        then says so (RFC 6750 section 3.1), as against a request that sent none."""
        challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, **kw)


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "Not allowed for this organisation"


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "Not found"


BUSY_RETRY_AFTER = 1
"""Seconds a client should wait before repeating a request that lost a race to concurrent ones
(`Retry-After`): contention clears within a moment."""


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, code, title = 412, "precondition_failed", "Precondition failed"


class PayloadTooLarge(ProblemError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class TooManyRequests(ProblemError):
    """429: the caller used up its budget for this kind of request; `Retry-After` says when."""

    status, code, title = 429, "too_many_requests", "Too many requests"


class OrganisationOverBudget(TooManyRequests):
    """429 from the budget an organisation's keys and people share, not the caller's own: the
    pages tell a person who asked little that it was their organisation's."""


class Unprocessable(ProblemError):
    """A request that is well-formed but refers to something invalid (field-level detail).

    400 like every invalid input: the NL API Design Rules (/core/error-handling/invalid-input)
    answer invalid input with 400 and `invalidParams`, whether a schema or a rule refused it.
    """

    status, code, title = 400, "validation_error", "Invalid request"

    def __init__(self, name: str, reason: str, code: str = "invalid", location: str = "body"):
        # By the alias: without pydantic's mypy plugin the constructor is typed with `in`, which
        # is no Python keyword argument.
        param = InvalidParam.model_validate(
            {"name": name, "in": location, "code": code, "reason": reason}
        )
        super().__init__(reason, invalidParams=[param.model_dump(by_alias=True)])


def field_name(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a field path: `items[3].rent.base`."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


PATTERN_REASONS: dict[str, str] = {}
"""What a value must look like, by the regex it failed (registered where the pattern is
defined): pydantic's own reason quotes the regex, which tells a client little."""


PATTERN_CODES: dict[str, str] = {}
"""The `invalidParams` code of a value that failed a regex, where such values have their own
(registered with the pattern): a cursor of the wrong length was `string_pattern_mismatch`, one of
the right length the API refused `invalid_cursor`, so a client that starts again on
`invalid_cursor` (as the README tells) met a code it did not know for the same mistake."""


NOT_A_FILE = "Expected UploadFile"  # FastAPI's message for a text field where a file goes
NOT_A_FILE_REASON = (
    'Send a file here: a part with a filename (`Content-Disposition: form-data; name="file"; '
    'filename="dossiers.csv"`, as `curl -F file=@dossiers.csv` sends it), not a text field.'
)


def error_reason(error: dict[str, Any]) -> str:
    reason = str(error.get("msg", "Invalid value"))
    if NOT_A_FILE in reason:
        # A multipart part without a (readable) filename is a text field to Starlette, and
        # FastAPI said so in Python's words ("received: <class 'str'>").
        return NOT_A_FILE_REASON
    if error.get("type") == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        reason = PATTERN_REASONS.get(str(pattern), reason)
    return reason.strip()  # some of pydantic's messages end in a space


def error_code(error: dict[str, Any]) -> str:
    code = str(error.get("type", "invalid"))
    if code == "string_pattern_mismatch":
        return PATTERN_CODES.get(str((error.get("ctx") or {}).get("pattern")), code)
    return code


def invalid_params(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors (`loc`, `type`, `msg`) as `invalidParams` (name, in, code, reason)."""
    params = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        location = str(loc[0]) if loc else "body"
        rest = loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc
        if error.get("type") == "json_invalid":
            params.append(_unparseable_json(error, rest))
            continue
        # Pydantic puts the member of a tagged/plain union or a function validator's name in
        # the location; drop nothing else so the name points at the field the client sent.
        params.append(
            {
                "name": field_name(rest) if rest else location,
                "in": location,
                "code": error_code(error),
                "reason": error_reason(error),
            }
        )
    return params


def _unparseable_json(error: dict[str, Any], rest: tuple[Any, ...]) -> dict[str, Any]:
    """Malformed JSON: FastAPI puts the character offset where a field name goes; say it plainly."""
    reason = error.get("msg", "JSON decode error")
    if rest and isinstance(rest[0], int):
        reason += f" at character {rest[0]}"
    cause = (error.get("ctx") or {}).get("error")
    if cause:
        reason += f": {cause}"
    return {"name": "body", "in": "body", "code": "json_invalid", "reason": reason}


def batch_items(errors: list[dict[str, Any]], body: Any) -> list[dict[str, Any]] | None:
    """Group body errors of a batch (`items[i]...`) per item, so a client sees every bad item."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if len(loc) >= 3 and loc[0] == "body" and loc[1] == "items" and isinstance(loc[2], int):
            grouped.setdefault(loc[2], []).append(error)
    if not grouped:
        return None
    items = body.get("items") if isinstance(body, dict) else None
    result = []
    for index in sorted(grouped):
        ref = None
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            raw = items[index].get("external_ref")
            ref = raw if isinstance(raw, str) else None
        result.append(
            {"index": index, "external_ref": ref, "invalidParams": invalid_params(grouped[index])}
        )
    return result


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem+json for the given statuses."""
    descriptions = {
        400: "Invalid input: `invalidParams` names each field (`in`: body, query, path or "
        "header) with a machine-readable `code` and a `reason`",
        401: "Missing or invalid API key",
        403: "The caller's organisation or role may not do this",
        404: "Not found, or outside the caller's reach",
        409: "Conflict with the current state",
        412: "The `If-Match` ETag is stale",
        413: "Request body or batch too large",
        429: "This key or person used up its budget for this kind of request; see `Retry-After`",
        503: "The database is unreachable or busy; nothing was changed. Retry after "
        "`Retry-After` seconds",
    }
    return {
        status: {
            "description": descriptions.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


class InvalidInput(ProblemError):
    """400 for a value that only fails once merged with stored data (PATCH), field by field."""

    status, code, title = 400, "validation_error", "Invalid request"

    def __init__(self, errors: Sequence[Mapping[str, Any]], prefix: tuple[str | int, ...] = ()):
        located = [{**e, "loc": ("body", *prefix, *tuple(e.get("loc", ())))} for e in errors]
        super().__init__(f"{len(errors)} invalid field(s)", invalidParams=invalid_params(located))
