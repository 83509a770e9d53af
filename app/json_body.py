"""JSON request bodies read as I-JSON (RFC 7493): each member name once per object, with a
reason a client can act on when a body breaks it.

Every API route reads its body through `JsonBodyRoute` (`app.db.SessionEndingRoute` is one), so
the rule holds for each JSON body in one place. Starlette's `Request.json` took the last of two
members with one name, and a client that sent both may have meant either.
"""

import json
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


def parse(body: bytes) -> Any:
    """The body as the standard library parses JSON (a syntax error stays its
    `json.JSONDecodeError`, which FastAPI reports with its position), or `UnreadableBody`."""
    return json.loads(body, object_pairs_hook=_unique_names)


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
