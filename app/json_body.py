"""JSON request bodies read as I-JSON (RFC 7493): UTF-8, each member name once per object,
numbers a parser can hold and strings without half a UTF-16 surrogate pair, with a reason a
client can act on when a body is none of these.

Every API route reads its body through `JsonBodyRoute` (`app.db.SessionEndingRoute` is one), so
the rule holds for each JSON body in one place. Starlette's `Request.json` took the last of two
members with one name (a client that sent both may have meant either); bytes that are no UTF-8
and a 5,000-digit number were answered with FastAPI's "could not be parsed", naming neither.
"""

import json
import re
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


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


class JsonBodyRequest(Request):
    """A request whose `json()` is `parse` of its body."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse(await self.body())
        return self._json


class JsonBodyRoute(APIRoute):
    """A route that serves `JsonBodyRequest`s (FastAPI's documented custom-request hook), or
    the subclass a route class names in `request_class`."""

    request_class: type[JsonBodyRequest] = JsonBodyRequest

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def json_body_handler(request: Request) -> Response:
            return await handler(self.request_class(request.scope, request.receive))

        return json_body_handler
