"""HTTP rules for every API answer: no cache keeps a copy of one (they are per organisation
and may hold case data), OPTIONS and 405 name every method a path supports, HEAD answers as
GET, and a GET whose `If-None-Match` the answer meets is a 304."""

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.root_path import app_path, as_written

API_PREFIX = "/v1"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class DefaultHeader:
    """Adds the header `name: value` to every HTTP answer on a path `where` accepts that does
    not set `name` itself."""

    def __init__(
        self, app: ASGIApp, name: str, value: str, where: Callable[[str], bool] = lambda _: True
    ) -> None:
        self.app, self.where = app, where
        self.name, self.value = name.lower().encode("latin-1"), value.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.where(app_path(scope)):
            await self.app(scope, receive, send)
            return

        async def send_default(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == self.name for name, _ in headers):
                    headers.append((self.name, self.value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_default)


class IdentityContent:
    """A request body in a content coding (`Content-Encoding: gzip`, `br`, ...) is a 415 with
    `Accept-Encoding: identity`, raised where the app reads the body (as `main.Utf8Json`'s
    415), so a request without a body is never refused for the header.

    Why: nothing here decodes a coding, so a gzipped body failed as "not UTF-8" (400) and a
    body labelled `br` but sent plain was read as if unlabelled. Source: RFC 9110 section
    12.5.3 (a server that does not support a request's content coding SHOULD answer 415 with
    `Accept-Encoding`) and 8.4 (`identity` is no coding). A transfer coding other than
    `chunked` (`Transfer-Encoding: gzip, chunked`) is a 501 the same way (RFC 9112 6.1)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = None
        if transfer := _codings(scope, b"transfer-encoding", ("", "chunked")):
            # RFC 9112 section 6.1: a transfer coding the server does not understand is a 501.
            # The server takes `chunked` off; `gzip, chunked` reached the app still gzipped.
            refused = HTTPException(
                501,
                f"Send the body with no Transfer-Encoding but chunked ({', '.join(transfer)} "
                "is not read here).",
            )
        elif content := _codings(scope, b"content-encoding", ("", "identity")):
            refused = HTTPException(
                415,
                f"Send the body without a Content-Encoding ({', '.join(content)} is not read "
                "here).",
                headers={"Accept-Encoding": "identity"},
            )
        await self.app(scope, _refusing(receive, refused) if refused else receive, send)


def _codings(scope: Scope, header: bytes, read: tuple[str, ...]) -> list[str]:
    """The codings a request's `header` names other than those `read`, lower case."""
    codings = (
        coding.strip().lower()
        for name, value in scope["headers"]
        if name == header
        for coding in value.decode("latin-1").split(",")
    )
    return [coding for coding in codings if coding not in read]


def _refusing(receive: Receive, refused: HTTPException) -> Receive:
    async def checked_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request" and message.get("body"):
            raise refused
        return message

    return checked_receive


CONDITIONS = {b"if-match": "If-Match", b"if-none-match": "If-None-Match"}
"""The conditional request headers that are lists (RFC 9110 section 13.1), by ASGI name."""


class CombinedConditions:
    """`If-Match` and `If-None-Match` sent on several field lines reach the app as one line,
    their values joined by commas, as RFC 9110 section 5.3 reads them (both are lists).

    Why: a header parameter reads only the first line, so `If-None-Match: "0"` then
    `If-None-Match: *` let a write through that `"0", *` (no valid If-None-Match: a 400) does
    not, and `If-Match: "0"` then the current ETag was refused though the list holds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(_combined(scope) if scope["type"] == "http" else scope, receive, send)


def _combined(scope: Scope) -> Scope:
    lines = [name for name, _ in scope["headers"] if name in CONDITIONS]
    if len(lines) == len(set(lines)):
        return scope
    values: dict[bytes, list[bytes]] = {}
    others = []
    for name, value in scope["headers"]:
        if name in CONDITIONS:
            values.setdefault(name, []).append(value)
        else:
            others.append((name, value))
    joined = [(name, b", ".join(parts)) for name, parts in values.items()]
    return {**scope, "headers": others + joined}


def matching_routes(routes: Iterable[BaseRoute], scope: Scope) -> list[tuple[BaseRoute, str]]:
    """The routes that answer `scope`'s path, each with a method it answers there, asked route
    by route, as routing does (included routers keep their routes to themselves). Where routes
    with more fixed text match, only they count."""
    matching = [
        (leaf, method)
        for route in routes
        for method in METHODS
        if route.matches({**scope, "method": method})[0] == Match.FULL
        for leaf in _matching_leaves(route, {**scope, "method": method})
    ]
    most = max((_literal_length(route) for route, _ in matching), default=0)
    return [(route, method) for route, method in matching if _literal_length(route) == most]


def _misspelling(routes: Iterable[BaseRoute], scope: Scope) -> str | None:
    """Why the path is no address of ours, from the first of its routes that says so."""
    routed = (getattr(route, "misspelling", None) for route, _ in matching_routes(routes, scope))
    return next((found for judge in routed if judge and (found := judge(scope))), None)


def routed_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str] | None:
    """The methods some route answers on `scope`'s path (HEAD with GET, `matching_routes`);
    None when no route has the path."""
    methods = {method for _, method in matching_routes(routes, scope)}
    if not methods:
        return None
    if "GET" in methods:
        methods.add("HEAD")  # answered as a GET without its body (`HeadAsGet`)
    return methods


def _literal_length(route: BaseRoute) -> int:
    """How much of a route's path is fixed text: `/v1/cases/imports` beats `/v1/cases/{id}`."""
    return len(re.sub(r"\{[^}]*\}", "", getattr(route, "path", "")))


def _matching_leaves(route: BaseRoute, scope: Scope) -> list[BaseRoute]:
    """The routes inside an included router (FastAPI keeps them in `original_router`) that
    match `scope`; the route itself when it has none (or they carry a prefix of the include)."""
    inner = getattr(getattr(route, "original_router", None), "routes", None)
    if not inner:
        return [route]
    leaves = [
        leaf
        for child in inner
        if child.matches(scope)[0] == Match.FULL
        for leaf in _matching_leaves(child, scope)
    ]
    return leaves or [route]


class AllowedMethods:
    """OPTIONS on an API path answers 204 with `Allow` listing every method of every route of
    that path (Starlette would answer 405 naming only the first route's), and a 405 lists them
    all too (RFC 9110 sections 9.3.7 and 15.5.6). A path no route matches stays a 404.

    Where routes with more fixed text match the path, only they count: `/v1/cases/imports` is
    the import resource (POST), not a case whose id is `imports`, so its `Allow` is `OPTIONS,
    POST` and a GET there is a 405 naming them, not a 400 about a malformed case id.

    `also` names paths outside /v1 answered the same way (the health probes: an orchestrator
    that asks OPTIONS got a 405 whose `Allow: GET` left out the HEAD it answers).

    A path writing an id otherwise than the API does (a route's `misspelling`, `app.path_ids`)
    is a 404 here too, as for the methods its routes answer (it got a 204 or 405)."""

    CACHED_PATHS = 4096
    """Paths whose answer is remembered: matching every route for every method cost about a
    twentieth of a small request's time, and the routes do not change while the app runs."""

    def __init__(self, app: ASGIApp, router: Router, also: Iterable[str] = ()) -> None:
        self.app = app
        self.router = router
        self.also = frozenset(also)
        self._cache: dict[tuple[str, str], str | None] = {}

    def allowed(self, scope: Scope) -> str | None:
        """The methods some route answers on this path, OPTIONS included; None when no route
        has the path. Remembered per path (the oldest forgotten first beyond `CACHED_PATHS`):
        the event loop calls it, one request at a time."""
        key = (scope.get("root_path", ""), scope["path"])
        if key not in self._cache:
            if len(self._cache) >= self.CACHED_PATHS:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = self._allowed(scope)
        return self._cache[key]

    def _allowed(self, scope: Scope) -> str | None:
        """`allowed`, with OPTIONS, which this middleware answers."""
        methods = routed_methods(self.routes, scope)
        return None if methods is None else ", ".join(sorted({*methods, "OPTIONS"}))

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (
            is_api_path(app_path(scope)) or app_path(scope) in self.also
        ):
            await self.app(scope, receive, send)
            return
        allowed = self.allowed(scope)
        answered_here = allowed is not None and (
            scope["method"] == "OPTIONS" or scope["method"] not in allowed.split(", ")
        )
        if answered_here and (detail := _misspelling(self.routes, scope)):
            await _problem(scope, send, 404, "not_found", detail, [])
            return
        if scope["method"] == "OPTIONS" and allowed is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", allowed.encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        if allowed is not None and scope["method"] not in allowed.split(", "):
            detail = f"{scope['method']} is not allowed here; use one of: {allowed}."
            allow = [(b"allow", allowed.encode())]
            await _problem(scope, send, 405, "method_not_allowed", detail, allow)
            return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405 and allowed:
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"allow"]
                message["headers"] = [*headers, (b"allow", allowed.encode())]
            await send(message)

        await self.app(scope, receive, send_allow)


class HeadAsGet:
    """HEAD is answered as the GET of the same target without the body, with the GET's status
    and headers (RFC 9110 section 9.3.2: a general-purpose server must support it). FastAPI's
    routes list GET only, so HEAD was a 405.

    The GET runs in full (authentication, the access log, rate limits): what it would show is
    what HEAD's headers and status tell."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def _etags(header: bytes) -> list[bytes]:
    """The entity tags of an `If-None-Match` list, their `W/` left off (GET compares weakly,
    RFC 9110 section 13.1.2)."""
    tags = (part.strip() for part in header.split(b","))
    return [tag.removeprefix(b"W/") for tag in tags if tag]


class NotModified:
    """A GET (or HEAD) on the API whose `If-None-Match` the answer meets (`*`, or the ETag of
    its 200) is a 304 without a body, with the 200's ETag and other headers bar its
    representation's type and length (RFC 9110 sections 13.1.2 and 15.4.5). The GET runs in
    full (authentication, the access log): a 304 tells what the 200 would have."""

    KEPT = frozenset((b"etag", b"cache-control", b"vary", b"content-location", b"date", b"expires"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = (
            next((v for n, v in scope["headers"] if n == b"if-none-match"), None)
            if scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and is_api_path(app_path(scope))
            else None
        )
        if wanted is None:
            await self.app(scope, receive, send)
            return
        tags = _etags(wanted)
        not_modified = False

        async def send_304(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = message.get("headers", [])
                etag = next((v for n, v in headers if n.lower() == b"etag"), None)
                if etag is not None and (b"*" in tags or etag.removeprefix(b"W/") in tags):
                    not_modified = True
                    kept = [(n, v) for n, v in headers if n.lower() in self.KEPT]
                    message = {**message, "status": 304, "headers": kept}
            elif message["type"] == "http.response.body" and not_modified:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_304)


def declare_not_modified(operation: dict[str, Any]) -> None:
    """In the contract: a GET whose 200 carries an ETag takes `If-None-Match` and answers 304
    (`NotModified`). `operation` is the OpenAPI operation, its responses' headers declared."""
    ok = operation["responses"].get("200", {}).get("headers", {})
    if "ETag" not in ok:
        return
    operation.setdefault("parameters", []).append(
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": 'The ETag (`"3"`) of the copy the client holds, or `*`: 304 without '
            "a body while the resource is still at it.",
            "schema": {"type": "string", "maxLength": 200},
        }
    )
    headers = {name: ok[name] for name in ("API-Version", "Cache-Control", "ETag") if name in ok}
    operation["responses"]["304"] = {
        "description": "Not modified: the resource is still at the ETag `If-None-Match` named.",
        "headers": headers,
    }


async def _problem(
    scope: Scope, send: Send, status: int, code: str, detail: str, extra: list[tuple[bytes, bytes]]
) -> None:
    """Problem+json, with the body the app's own problems have (its 405 and 404 too)."""
    from app.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + code,
            "title": code.replace("_", " ").capitalize(),  # "Not found", "Method not allowed"
            "status": status,
            "detail": detail,
            "instance": as_written(scope, scope["path"]),
            "code": code,
        },
        separators=(",", ":"),  # as every other problem body
    ).encode()
    headers = [
        *extra,
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
