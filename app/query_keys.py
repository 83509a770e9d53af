"""Unknown query keys, keys of one value given twice, and conditions (`If-Match`,
`If-None-Match`) on a write that does not check them are refused with 400 on the API.

FastAPI ignores a query key no route parameter declares. When the keys became camelCase (NL API
Design Rules /core/query-keys-camel-case: `tableId`, not `table_id`) an old client's filter would
then be dropped without a word and it would read an unfiltered list as if it were filtered. A
400 naming the key (`in: query`, code `unknown_parameter`) says what happened instead.
"""

import re
import types
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.params import Header, Query
from fastapi.routing import APIRoute
from pydantic.alias_generators import to_camel

from app.api_headers import CONDITIONS, is_api_path
from app.if_match import IF_MATCH_PATTERN
from app.problems import PATTERN_REASONS, ProblemError
from app.root_path import app_path


class RefusedQueryKeys(ProblemError):
    status, code, title = 400, "validation_error", "Invalid request"


def known_query_keys(route: APIRoute) -> frozenset[str]:
    """The query keys (aliases) `route` and its dependencies declare (a walk over a handful of
    parameters; routes are not hashable, and a cache keyed by id could outlive its app)."""
    return frozenset(
        field.alias
        for field in get_flat_params(route.dependant)
        if isinstance(field.field_info, Query)
    )


def annotation_has(annotation: Any, test: Callable[[Any], bool]) -> bool:
    """Whether `test` holds for a parameter's annotation or, through unions and `Annotated`,
    for one of its parts."""
    if test(annotation):
        return True
    if get_origin(annotation) in (Union, types.UnionType, Annotated):
        return any(annotation_has(arg, test) for arg in get_args(annotation))
    return False


def _list_like(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return origin in (list, set, frozenset, tuple) or origin is Sequence


def takes_many(annotation: Any) -> bool:
    """Whether a parameter's annotation is a list-like (a key that may repeat)."""
    return annotation_has(annotation, _list_like)


def single_query_keys(route: APIRoute) -> frozenset[str]:
    """The query keys (aliases) of `route` that take one value."""
    return frozenset(
        field.alias
        for field in get_flat_params(route.dependant)
        if isinstance(field.field_info, Query) and not takes_many(field.field_info.annotation)
    )


READS = ("GET", "HEAD")
IF_NONE_MATCH_MAX_LENGTH = 200  # as the contract's `If-None-Match` (`declare_not_modified`)


def _refuse_unchecked_conditions(request: Request) -> None:
    """Raises `RefusedQueryKeys` when a write carries `If-Match` or `If-None-Match` and its
    route declares no such header: ignored, the client would take its write for guarded (RFC
    9110 section 13.1.1: a server receiving `If-Match` evaluates it). Reads compare
    `If-None-Match` with their ETag (`api_headers.NotModified`) or have none to compare; an
    `If-Match` on a read is refused likewise (a client that sent it to read only the version
    it held got whatever version there was)."""
    reading = request.scope["method"] in READS
    sent = [
        CONDITIONS[name]
        for name, _ in request.scope["headers"]
        if name in CONDITIONS and not (reading and name == b"if-none-match")
    ]
    route = request.scope.get("route")
    if not sent or not isinstance(route, APIRoute) or not is_api_path(app_path(request.scope)):
        return
    declared = {
        field.alias.lower()
        for field in get_flat_params(route.dependant)
        if isinstance(field.field_info, Header)
    }
    unchecked = sorted({header for header in sent if header.lower() not in declared})
    if unchecked:
        raise RefusedQueryKeys(
            f"This operation does not check {' or '.join(unchecked)}; send the request without "
            "it (the operations that check it list it in the contract).",
            invalidParams=[
                {
                    "name": header,
                    "in": "header",
                    "code": "unknown_parameter",
                    "reason": "This operation takes no such condition: it would not be checked.",
                }
                for header in unchecked
            ],
        )


def _refuse_malformed_if_none_match(request: Request) -> None:
    """Raises `RefusedQueryKeys` when a read's `If-None-Match` is neither `*` nor a list of
    ETags (or longer than the contract's 200 characters), as a write's is refused: compared as
    it stood it never matched, so the client read the whole answer every time (no 304) and
    never learnt why."""
    value = request.headers.get("if-none-match")
    if value is None or not is_api_path(app_path(request.scope)):
        return
    if len(value) > IF_NONE_MATCH_MAX_LENGTH:
        code, reason = "string_too_long", "String should have at most 200 characters"
    elif re.match(IF_MATCH_PATTERN, value) is None:
        code, reason = "string_pattern_mismatch", PATTERN_REASONS[IF_MATCH_PATTERN]
    else:
        return
    raise RefusedQueryKeys(
        "1 invalid field(s)",
        invalidParams=[{"name": "If-None-Match", "in": "header", "code": code, "reason": reason}],
    )


async def refuse_unknown_query_keys(request: Request) -> None:
    """App-wide dependency: raises `RefusedQueryKeys` (400, one `invalidParams` entry per key)
    when an API request carries a query key its route does not declare, or repeats a key that
    takes one value (FastAPI would silently use the last: `?limit=1&limit=2` is ambiguous, so
    it is refused rather than guessed), or when a write carries a condition its route does not
    check (`_refuse_unchecked_conditions`); pages are left alone."""
    _refuse_unchecked_conditions(request)
    if request.scope["method"] in READS:
        _refuse_malformed_if_none_match(request)
    if not request.scope.get("query_string"):
        return  # most writes: no key to refuse, and no URL or parameters to build or walk
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not is_api_path(app_path(request.scope)):
        return
    params = request.query_params
    if not params:  # a query string of no keys (`?&`)
        return
    # Most requests repeat no key: the route's parameters are only walked when one does.
    some_repeat = len(params.multi_items()) > len(params)
    repeated = sorted(
        key
        for key in (set(params) & single_query_keys(route) if some_repeat else ())
        if len(params.getlist(key)) > 1
    )
    if repeated:
        raise RefusedQueryKeys(
            f"Query parameter(s) given more than once: {', '.join(repeated)}.",
            invalidParams=[
                {
                    "name": key,
                    "in": "query",
                    "code": "repeated_parameter",
                    "reason": "This query parameter takes one value; give it once.",
                }
                for key in repeated
            ],
        )
    unknown = sorted(set(params) - known_query_keys(route))
    if not unknown:
        return
    keys = known_query_keys(route)
    known = ", ".join(f"`{key}`" for key in sorted(keys)) or "none"
    raise RefusedQueryKeys(
        f"Unknown query parameter(s): {', '.join(unknown)}. Known here: {known}.",
        invalidParams=[
            {
                "name": key,
                "in": "query",
                "code": "unknown_parameter",
                "reason": _unknown_reason(key, keys),
            }
            for key in unknown
        ],
    )


def _unknown_reason(key: str, known: frozenset[str]) -> str:
    """Why `key` is refused: a snake_case spelling of a known key is named as such; any other
    key is simply not one of this operation's (e.g. `format` where no CSV is offered)."""
    camel = to_camel(key)
    if camel != key and camel in known:
        return f"Query keys are camelCase: `{camel}`."
    return "This operation has no such query parameter (the ones it has are named in `detail`)."
