"""An id in a path is written as the API writes it (`Location`, ids in bodies and links:
8-4-4-4-12 hex; in lower case, though upper case is read too, RFC 9562 section 4, as v1 always
did), and a path segment holds no slash.

Why: pydantic reads a UUID path parameter leniently (`urn:uuid:...`, `{...}`, 32 hex digits
without hyphens), and the server decodes `%2F` into a `/` before routing, so one case answered
at many URLs (`/v1/cases/urn:uuid:01a2...`, `/v1/cases%2F01a2...`), which caches, access logs
and clients comparing URLs take for different resources. Such a request is answered as a path
no route has, 404 (a page's in Dutch), before authentication as routing's 404 is (it depends on
the spelling alone, never on what exists), with the address there is in its `detail`: as with a
trailing slash (NL API Design Rules /core/no-trailing-slash), no redirect, so the client learns
the right URI. A malformed id (`not-a-uuid`) stays the 400 naming the parameter.
"""

import uuid
from typing import Any

from fastapi import params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.query_keys import annotation_has

_UUID = TypeAdapter(uuid.UUID)


def uuid_path_parameters(route: APIRoute) -> frozenset[str]:
    """The path parameters `route` and its dependencies read as UUIDs."""
    return frozenset(
        field.alias
        for field in get_flat_params(route.dependant)
        if isinstance(field.field_info, params.Path)
        and annotation_has(field.field_info.annotation, lambda part: part is uuid.UUID)
    )


def _canonical(value: str) -> str | None:
    """How the API writes the UUID `value` is read as; None when it is none (validation says
    so)."""
    try:
        return str(_UUID.validate_python(value))
    except ValidationError:
        return None


def another_spelling(
    raw_path: bytes, path: str, path_params: dict[str, Any], ids: frozenset[str]
) -> str | None:
    """The 404's detail when a request's path (`raw_path` as sent, `path` decoded) escapes a
    slash or writes an id of `ids` (its route's UUID path parameters, `path_params` their
    values) otherwise than the API does; None when it is written as the API writes it."""
    if b"%2f" in raw_path.lower():  # the ASGI raw_path holds no query string
        shown = raw_path.decode("latin-1")
        return f"There is no path {shown}: %2F is no path separator; write / between segments."
    canonical_path = path
    for name in ids:
        value = path_params.get(name)
        if isinstance(value, str) and (canonical := _canonical(value)) not in (None, value.lower()):
            canonical_path = canonical_path.replace(value, str(canonical))
    if canonical_path == path:
        return None
    return (
        f"There is no path {path}; ids are written as the API writes them "
        f"(8-4-4-4-12): {canonical_path}."
    )


def refuse_another_spelling(request: Request, ids: frozenset[str]) -> None:
    """Raises a 404 when the request's path escapes a slash or writes an id of `ids` (its
    route's UUID path parameters) otherwise than the API does."""
    detail = another_spelling(
        request.scope.get("raw_path") or b"", request.url.path, request.path_params, ids
    )
    if detail is not None:
        raise HTTPException(404, detail)
