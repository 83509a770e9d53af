"""JSON request bodies read as I-JSON (RFC 7493): UTF-8, each member name once per object,
numbers a parser can hold and strings without half a UTF-16 surrogate pair, with a reason a
client can act on when a body is none of these.

Every API route reads its body through `JsonBodyRoute` (`app.db.SessionEndingRoute` is one), so
the rule holds for each JSON body in one place. Starlette's `Request.json` took the last of two
members with one name (a client that sent both may have meant either); bytes that are no UTF-8
and a 5,000-digit number were answered with FastAPI's "could not be parsed", naming neither.

A body the route does not read (no JSON, JSON `null`, JSON in another charset, a JSON Patch, a
form that does not split into parts) is refused only after the route's dependencies,
authentication first (`refuse_unread_body`): FastAPI reads the body before them, so a caller
without a key was told what was wrong with its body (400, 415) instead of 401. The query keys
and conditions the route does not take (`app.query_keys`), and an `Accept` it cannot answer
(`app.acceptable`), are refused at the same place, just before the body, for the same reason.
"""

import functools
import inspect
import json
import re
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.types import Scope

from app.acceptable import refuse_unacceptable
from app.api_headers import is_api_path
from app.path_ids import another_spelling, refuse_another_spelling, uuid_path_parameters
from app.query_keys import RefusedQueryKeys, refuse_unknown_query_keys
from app.root_path import app_path


class UnreadableBody(ValueError):
    """A JSON body the API does not read, with the reason the client is told
    (`app.problem_handlers` answers it as a 400 naming the body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One object's members, refused when a name occurs twice (RFC 7493 section 2.3)."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                shown = json.dumps(name if len(name) <= 64 else name[:64] + "...")
                raise UnreadableBody(
                    f"The member name {shown} occurs twice in one object: names must be unique "
                    "(I-JSON, RFC 7493 section 2.3), and which of the values was meant is unknown."
                )
            seen.add(name)
    return members


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""What an escape of half a UTF-16 surrogate pair looks like: bodies without one (nearly all)
are not scanned further."""

_ESCAPE = re.compile(r"\\(?:u([dD][89a-fA-F][0-9a-fA-F]{2})|u[0-9a-fA-F]{4}|.)")
"""One escape of a JSON string, the surrogate half it escapes (if any) as group 1. In a text
`json.loads` read, every backslash starts an escape, so scanning them in order pairs `\\\\`."""


def _lone_half(text: str) -> tuple[int, str] | None:
    """Where `text` (parsed JSON) escapes half a surrogate pair without the other half right
    after or before it, and that half's hex digits; None when it does not."""
    high: tuple[int, int, str] | None = None  # a first half waiting for its second
    for escape in _ESCAPE.finditer(text):
        half = escape.group(1)
        if high is not None:
            if half and half[1] in "cdefCDEF" and escape.start() == high[1]:
                high = None
                continue
            return high[0], high[2]
        if half and half[1] in "89abAB":
            high = (escape.start(), escape.end(), half)
        elif half:
            return escape.start(), half
    return (high[0], high[2]) if high else None


def parse(body: bytes) -> Any:
    """The body as the standard library parses JSON (a syntax error stays its
    `json.JSONDecodeError`, which FastAPI reports with its position), or `UnreadableBody`."""
    try:
        # Strict UTF-8: json.loads would also let through surrogates encoded as UTF-8 (CESU-8).
        # (UTF-16 and UTF-32 bodies never get here: `app.main.Utf8Json` answers them with 415.)
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableBody(
            f"The body is not valid UTF-8 (byte {error.start} is 0x{body[error.start]:02x}): "
            "send JSON in UTF-8."
        ) from error
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark is read past, as RFC 8259 allows
        text = text[1:]
    try:
        value = json.loads(text, object_pairs_hook=_unique_names)
    except (json.JSONDecodeError, UnreadableBody):
        raise
    except ValueError as error:
        # The parser's one other ValueError: an integer longer than Python converts.
        raise UnreadableBody(
            f"A number in the body has more than {sys.get_int_max_str_digits()} digits, "
            "far more than any field takes."
        ) from error
    except RecursionError as error:
        raise UnreadableBody("The body is nested too deeply to be read.") from error
    # `json.loads` reads `"\\ud800"` into a string no UTF-8 answer can hold: a batch's 400
    # echoing the item's `external_ref`, and an Idempotency-Key's fingerprint, failed with 500.
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and (lone := _lone_half(text)):
        raise UnreadableBody(
            f"The string at character {lone[0]} escapes half a UTF-16 surrogate pair alone "
            f"(\\u{lone[1].lower()}): escape a character beyond U+FFFF as both halves, or send "
            "it as UTF-8 (I-JSON, RFC 7493 section 2.1)."
        )
    return value


JSON_PATCH = "application/json-patch+json"
"""RFC 6902's list of operations: a JSON media type (`+json`) the API does not read, as its
PATCHes are JSON merge patches (RFC 7396) and its other bodies the resource's fields."""

_NOT_JSON_PATCH = (
    f"This API reads no JSON Patch ({JSON_PATCH}, RFC 6902): send the fields to change as "
    "application/json, or on a PATCH as application/merge-patch+json (RFC 7396)."
)


def _refusal(reason: str, code: str = "json_invalid") -> RequestValidationError:
    """A 400 naming the body, for `app.problem_handlers` (as FastAPI's own are)."""
    return RequestValidationError([{"type": code, "loc": ("body",), "msg": reason}])


class JsonBodyRequest(Request):
    """A request whose `json()` is `parse` of its body. A body it does not read is not refused
    here but kept as `refusal` (`refuse_unread_body` raises it) and read as no body; so is a
    form Starlette cannot split, where FastAPI reads it (`form_read_first`: a route whose body
    is a form, an import), and every later read of it raises the refusal."""

    refusal: Exception | None = None
    form_read_first = False
    _form_refusal: Exception | None = None

    async def _get_form(self, **limits: Any) -> FormData:
        if self._form_refusal is not None:
            raise self._form_refusal
        # The whole body first, kept: the form parser reads a stream it consumes, after which
        # `app.db.get_session`'s read of the body (before its slot) found none ("Stream
        # consumed": every spreadsheet import through the API answered 500; FastAPI reads a
        # File parameter's form before any dependency).
        await self.body()
        if self.refusal is not None:  # a body over the limit (413), read as none
            self._form_refusal = self.refusal if self.form_read_first else None
            return FormData()
        try:
            return await super()._get_form(**limits)
        except HTTPException as error:
            if error.status_code != 400 or not self.form_read_first:
                raise
            self.refusal = self._form_refusal = error
            return FormData()

    async def body(self) -> bytes:
        try:
            return await super().body()
        except HTTPException as error:
            # JSON in another charset (`app.main.Utf8Json`); on the API a body over the limit
            # (`app.body_limit`), read no further, so a caller without a key gets 401.
            if error.status_code != 415 and not (
                error.status_code == 413 and is_api_path(app_path(self.scope))
            ):
                raise
            self.refusal, self._body = error, b""
            return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await self._read()
        return self._json

    async def _read(self) -> Any:
        media_type = self.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type == JSON_PATCH:
            self.refusal = HTTPException(415, _NOT_JSON_PATCH)
            return None
        try:
            value = parse(await self.body())
        except json.JSONDecodeError as error:
            # As FastAPI words it (`app.problems` names the character and the parser's reason).
            self.refusal = RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", error.pos),
                        "msg": "JSON decode error",
                        "ctx": {"error": error.msg},
                    }
                ]
            )
            return None
        except UnreadableBody as error:
            self.refusal = _refusal(error.reason)
            return None
        if value is None:
            # FastAPI reads `null` as no body: a required body was "missing", and an optional
            # one (a webhook secret's rotation) took its defaults.
            self.refusal = _refusal(
                "The body is JSON null: send an object (or, where the body is optional, none).",
                "model_type",
            )
        return value


def _says_nothing(body: bytes) -> bool:
    """Whether a body sent to an operation that takes none holds nothing it would ignore:
    none at all, or an empty JSON object (`{}`)."""
    if not body.strip():
        return True
    try:
        return bool(json.loads(body) == {})
    except ValueError:
        return False


async def refuse_unread_body(request: Request) -> None:
    """Raises the refusal of the body `JsonBodyRequest` kept: the last dependency of every
    `JsonBodyRoute` (`_reading_the_body_last`), so after authentication and the route's other
    dependencies, and before the body is validated or the endpoint runs."""
    refusal = getattr(request, "refusal", None)
    if refusal is not None:
        raise refusal
    if (
        getattr(request.scope.get("route"), "takes_no_body", False)
        and is_api_path(app_path(request.scope))  # a page's form is read by the page itself
        and not _says_nothing(await request.body())
    ):
        # A POST whose route reads no body (publishing a meeting, marking minutes final): its
        # body was dropped unread, so a client that meant something by it (`{"final": false}`)
        # was told its request succeeded as sent. An empty object, which HTTP libraries send
        # by default with a JSON POST, says nothing and is let through.
        raise RefusedQueryKeys(
            "This operation takes no body; send the request without one.",
            invalidParams=[
                {
                    "name": "body",
                    "in": "body",
                    "code": "unknown_parameter",
                    "reason": "This operation reads no body: what it holds would be ignored.",
                }
            ],
        )


async def refuse_unread_input(request: Request) -> None:
    """The gate `_reading_the_body_last` adds: what the route does not read, its query keys and
    conditions (`app.query_keys`), an `Accept` it cannot answer (`app.acceptable`) and its body
    (`refuse_unread_body`), is refused after the route's other dependencies. As an app-wide
    dependency the query's refusal came first, so a caller without a valid key (or with a key
    of a role the route refuses) was told the operation's query keys (400) instead of 401 or
    403."""
    await refuse_unknown_query_keys(request)
    refuse_unacceptable(request)
    await refuse_unread_body(request)


async def body_members(request: Request) -> dict[str, Any]:
    """The members of the JSON object the route read as its body (FastAPI reads it before the
    dependencies), before the body is validated; empty when it read none (no body, no JSON, a
    body `refuse_unread_body` refuses, JSON other than an object). For a dependency whose
    answer depends on which fields a body sets, and which must come before the body is judged:
    a caller that may not set a field (a table's name by its chair, a decision another party
    takes) was told which other fields were wrong first, and only once it had fixed them that
    it may not send the field at all."""
    value = getattr(request, "_json", None) if getattr(request, "refusal", None) is None else None
    return value if isinstance(value, dict) else {}


BodyMembers = Annotated[dict[str, Any], Depends(body_members)]


_BODY_READ = "uitstroom_body_read"
"""The parameter `_reading_the_body_last` adds to an endpoint."""


def _reading_the_body_last(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` with `refuse_unread_input` as its last dependency (FastAPI solves them in the
    order of the parameters)."""
    signature = inspect.signature(endpoint)
    gate = inspect.Parameter(
        _BODY_READ,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[None, Depends(refuse_unread_input)],
    )
    parameters = list(signature.parameters.values())
    at = next(
        (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
        len(parameters),
    )
    parameters.insert(at, gate)
    run: Callable[..., Any]
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop(_BODY_READ, None)
            return await endpoint(*args, **kwargs)

    else:

        @functools.wraps(endpoint)
        def run(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop(_BODY_READ, None)
            return endpoint(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]  # read by inspect.signature, as FastAPI does
    return run


class JsonBodyRoute(APIRoute):
    """A route that serves `JsonBodyRequest`s (FastAPI's documented custom-request hook), or
    the subclass a route class names in `request_class`, and refuses a query or body they did
    not read after its dependencies (`refuse_unread_input`), and an id in its path written
    otherwise than the API writes it before them (`app.path_ids`)."""

    request_class: type[JsonBodyRequest] = JsonBodyRequest

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _reading_the_body_last(endpoint), **kwargs)
        self.uuid_path_parameters = uuid_path_parameters(self)
        self.reads_a_form = self.body_field is not None and isinstance(
            self.body_field.field_info, params.Form
        )
        # A POST without a body parameter: a body sent to it is refused (`refuse_unread_body`).
        self.takes_no_body = self.body_field is None and "POST" in (self.methods or ())

    def misspelling(self, scope: Scope) -> str | None:
        """`app.path_ids.another_spelling` for a request on this route's path that no route
        handles (OPTIONS, a method the path lacks: `app.api_headers.AllowedMethods`)."""
        _, child = self.matches(scope)  # PARTIAL for a method it lacks, with the parameters
        raw_path, params = scope.get("raw_path") or b"", child.get("path_params", {})
        return another_spelling(raw_path, scope["path"], params, self.uuid_path_parameters)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def json_body_handler(request: Request) -> Response:
            # Routing's part: an id written another way is no address of ours (`app.path_ids`).
            refuse_another_spelling(request, self.uuid_path_parameters)
            reading = self.request_class(request.scope, request.receive)
            reading.form_read_first = self.reads_a_form
            return await handler(reading)

        return json_body_handler
