"""HTTP rules for every API answer: no cache keeps a copy of one (they are per organisation
and may hold case data), and OPTIONS and 405 name every method a path supports."""

from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/v1"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class NoStore:
    """`Cache-Control: no-store` on every /v1 answer that sets no policy of its own.

    All of /v1 rather than only the routes with case data: every answer is authenticated and
    cut to the caller's organisation, errors name ids too, and a rule per route would be one
    more thing a new route can forget. The public contract and docs stay cacheable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_no_store)


class AllowedMethods:
    """OPTIONS on an API path answers 204 with `Allow` listing every method of every route of
    that path (Starlette would answer 405 naming only the first route's), and a 405 lists them
    all too (RFC 9110 sections 9.3.7 and 15.5.6). A path no route matches stays a 404."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def allowed(self, scope: Scope) -> str | None:
        """The methods some route answers on this path (asked route by route, as routing
        does: included routers keep their routes to themselves), OPTIONS included; None when
        no route has the path."""
        methods = [
            method
            for method in METHODS
            if any(
                route.matches({**scope, "method": method})[0] == Match.FULL for route in self.routes
            )
        ]
        return ", ".join(sorted({*methods, "OPTIONS"})) if methods else None

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        allowed = self.allowed(scope)
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

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405 and allowed:
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"allow"]
                message["headers"] = [*headers, (b"allow", allowed.encode())]
            await send(message)

        await self.app(scope, receive, send_allow)
