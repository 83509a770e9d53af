"""The FastAPI side of RFC 9457 problem details: exception handlers that answer
`application/problem+json` for `ProblemError`, request validation errors, Starlette's HTTP errors
and anything unexpected. Kept apart from `app.problems` so services raising problems import no
FastAPI (the layers contract in pyproject.toml).
"""

import logging
from typing import Any

from fastapi import FastAPI, Request, params
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.json_body import UnreadableBody
from app.problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    ProblemError,
    batch_items,
    invalid_params,
)
from app.root_path import app_path, as_written, root_of

log = logging.getLogger(__name__)


def problem_response(
    request: Request,
    status: int,
    title: str,
    code: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": as_written(request.scope, request.url.path),
        "code": code,
        **extra,
    }
    return JSONResponse(
        jsonable_encoder({k: v for k, v in body.items() if v is not None}),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


# The one form media type an upload reads: a URL-encoded form carries no file.
UPLOAD_MEDIA_TYPE = "multipart/form-data"


def is_json(media_type: str) -> bool:
    """`application/json` or any `application/*+json` (lower case, without parameters)."""
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _reads_a_form(request: Request) -> bool:
    """Whether the request's route takes its body as a form (an upload)."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    return body_field is not None and isinstance(body_field.field_info, params.Form)


def unsupported_media_type(request: Request, exc: RequestValidationError) -> str | None:
    """Why the body was refused for its `Content-Type`, or None when that is not the reason.

    FastAPI reads a JSON route's body as JSON only under a JSON media type (and a form route's
    only as a form), and otherwise reports the body as "not a valid dictionary", which sends a
    client looking in the wrong place. RFC 9110 section 15.5.16: the answer is 415.
    """
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None:
        return None
    given = request.headers.get("content-type", "")
    as_sent = given or "a body without Content-Type"
    media_type = given.split(";", 1)[0].strip().lower()
    if _reads_a_form(request):
        if media_type == UPLOAD_MEDIA_TYPE:
            return None
        return f"Send the body as multipart/form-data, not as {as_sent}."
    sent_bytes = isinstance(exc.body, bytes | bytearray) and len(exc.body) > 0
    if not sent_bytes or is_json(media_type):
        return None
    return f"Send the body as application/json, not as {as_sent}."


UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's detail, fastapi/routing.py
UNPARSABLE_REASON = "The body could not be parsed as JSON."
MISSING_BOUNDARY_REASON = (
    "multipart/form-data needs its boundary: `Content-Type: multipart/form-data; boundary=...`, "
    "as a browser or `curl -F` sends it (a client that sets the Content-Type by hand drops it)."
)


def _boundary(content_type: str) -> str:
    """The `boundary` parameter of a Content-Type, unquoted; empty when it has none."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary":
            return value.strip().strip('"')
    return ""


def unreadable_form(request: Request, reason: str) -> dict[str, Any]:
    """Starlette's refusal of a form body (a 400 carrying only its message: a missing boundary,
    multipart data that does not split into parts, too many fields) as a validation error on
    what is wrong: the Content-Type without a boundary, else the body."""
    content_type = request.headers.get("content-type", "")
    is_multipart = content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"
    if is_multipart and not _boundary(content_type):
        return {
            "type": "missing_boundary",
            "loc": ("header", "Content-Type"),
            "msg": MISSING_BOUNDARY_REASON,
        }
    return {"type": "form_invalid", "loc": ("body",), "msg": reason}


ROUTING_NOT_FOUND = "Not Found"  # Starlette's detail when no route has the path


def no_such_path(request: Request) -> str:
    """The detail of a 404 for a path no route has: where the paths are, or the path without
    its trailing slash (or with one leading slash, not `//v1/...`) when a route has that one
    (no redirect says it: `redirect_slashes` is off, as the NL API Design Rules ask)."""
    path, root = app_path(request.scope), root_of(request.scope)  # below the root path
    for fixed, rule in (
        (path.rstrip("/"), "paths end without a slash"),
        ("/" + path.lstrip("/"), "paths start with one slash"),
    ):
        if fixed != path and fixed:
            scope = {**request.scope, "path": request.scope.get("root_path", "") + fixed}
            if any(route.matches(scope)[0] != Match.NONE for route in request.app.router.routes):
                return f"There is no API path {root}{path}; {rule}: {root}{fixed}."
    return f"There is no API path {root}{path}; the paths are in {root}/v1/openapi.json."


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.code, exc.detail, exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        unsupported = unsupported_media_type(request, exc)
        if unsupported is not None:
            return problem_response(
                request, 415, "Unsupported media type", "unsupported_media_type", unsupported
            )
        too_many = [
            e
            for e in errors
            if tuple(e.get("loc", ()))[:2] == ("body", "items") and e.get("type") == "too_long"
        ]
        if too_many:
            return problem_response(
                request,
                413,
                "Payload too large",
                "batch_too_large",
                too_many[0].get("msg", "Too many items in one batch"),
            )
        extra: dict[str, Any] = {"invalidParams": invalid_params(errors)}
        items = batch_items(errors, exc.body)
        if items is not None:
            extra["invalidItems"] = items
        detail = f"{len(errors)} invalid field(s)"
        if items is not None:
            detail += f" in {len(items)} item(s); nothing was stored"
        return problem_response(
            request, 400, "Invalid request", "validation_error", detail, **extra
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == UNPARSABLE_BODY:
            # FastAPI's answer when the JSON parser fails other than on the syntax: invalid input
            # like any other, so named like the rest, with `app.json_body`'s reason (FastAPI
            # raises it `from` the parser's error).
            cause = exc.__cause__
            reason = cause.reason if isinstance(cause, UnreadableBody) else UNPARSABLE_REASON
            unparsable = {"type": "json_invalid", "loc": ("body",), "msg": reason}
            return await _validation(request, RequestValidationError([unparsable]))
        if exc.status_code == 400 and isinstance(exc.detail, str) and _reads_a_form(request):
            # Starlette's refusal of a form body: invalid input too, named like the rest.
            unreadable = unreadable_form(request, exc.detail)
            return await _validation(request, RequestValidationError([unreadable]))
        titles = {
            404: "Not found",
            405: "Method not allowed",
            413: "Payload too large",
            415: "Unsupported media type",
            501: "Not implemented",
        }
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            415: "unsupported_media_type",
            501: "not_implemented",
        }
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == ROUTING_NOT_FOUND:
            detail = no_such_path(request)
        return problem_response(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            code.get(exc.status_code, "http_error"),
            detail,
            dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Only errors outside app.transient's reach (in the outermost middleware) get here.
        # Starlette raises them again after this answer, and uvicorn then drops the connection:
        # say so, or the client's next request on it fails too.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request, 500, "Internal server error", "internal_error", headers={"Connection": "close"}
        )
