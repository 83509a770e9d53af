"""The app below a path of its host: `UITSTROOM_PUBLIC_URL` with a path (`https://x.nl/tafel`),
behind a proxy that serves the app there.

The path is the app's root path as ASGI defines it, and as uvicorn's `--root-path` sets it
(https://fastapi.tiangolo.com/advanced/behind-a-proxy/): a request's `root_path` is `/tafel`
and its `path` the whole path, `/tafel/overzicht`; Starlette routes on the rest (`app_path`).
Routes stay `/overzicht`, while everything the app hands a browser or a client starts with the
root path: the pages put it before every link, form and asset (`root` in their templates), and
`RootPath` before every `Location` the app answers, the API's included, so no route builds it.

A proxy may strip the path before passing a request on (nginx `proxy_pass http://app/;`) or
pass it on as it came (`proxy_pass http://app;`): both reach the same route. The settings refuse
a root path that starts as one of the app's own addresses (`/tafels`), where the two could not
be told apart.

A path with other than ASCII is written percent-encoded in UTF-8 (`/geme%C3%A9nte`), as the
settings demand: a request's `root_path` and `path` hold it decoded, as ASGI has every path, and
what the app hands out (`root_of`, `Location`) holds it encoded."""

from urllib.parse import SplitResult, quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def public_path(scope: Scope, path: str) -> str:
    """`path`, an address of the app (`/v1/cases`), as the browser or client reaches it."""
    return root_of(scope) + path


def root_of(scope: Scope) -> str:
    """The root path a request came in under, as a link writes it (`""` at the host's root)."""
    return quote(scope.get("root_path", ""))


def app_path(scope: Scope) -> str:
    """The request's path as the app's routes name it (`/v1/cases`), without its root path."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def as_written(scope: Scope, path: str) -> str:
    """`path`, the request's as ASGI has it (its root path first, decoded), with the root path
    written as links write it (a problem's `instance`)."""
    root: str = scope.get("root_path", "")
    return root_of(scope) + path[len(root) :] if root and path.startswith(root) else path


def page_below(url: SplitResult, scope: Scope) -> str | None:
    """The page `url` (the request's own, or its Referer) names, as `volgende` and the redirects
    name it: its path below the root path, with its query; None for an address outside the root
    path (another app's)."""
    for root in {root_of(scope), scope.get("root_path", "")}:  # as a link and as ASGI write it
        if url.path == root or url.path.startswith(root + "/"):
            path = url.path[len(root) :] or "/"
            return url._replace(scheme="", netloc="", path=path, fragment="").geturl()
    return None


class RootPath:
    """Serve the app under `root` (no trailing `/`): each request's `root_path` is `root` and
    its `path` starts with it (put back when the proxy took it off), as uvicorn's `--root-path`
    has them, and each `Location` the app answers with a path of its own (`/aanmelden`,
    `/v1/cases/{id}`) gets the root path in front. Outermost, so every layer inside sees the
    request as it came."""

    def __init__(self, app: ASGIApp, root: str) -> None:
        self.app = app
        self.root = unquote(root)  # as a request's path has it
        self.raw_root = root.encode("ascii")  # ASCII, percent-encoded (`app.settings.ROOT_PATH`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.root or scope["type"] not in ("http", "websocket"):  # at the host's root
            await self.app(scope, receive, send)
            return
        scope = {**scope, "root_path": self.root}
        path: str = scope["path"]
        if path == self.root:  # the public URL itself: the app's `/` (routing finds no "")
            scope["path"], scope["raw_path"] = path + "/", self.raw_root + b"/"
        elif not path.startswith(self.root + "/"):  # the proxy took it off
            scope["path"] = self.root + path
            if "raw_path" in scope:
                scope["raw_path"] = self.raw_root + scope["raw_path"]

        async def send_under_root(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, self._under_root(value) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_under_root)

    def _under_root(self, location: bytes) -> bytes:
        """A path of the app (`/x`, not `//host/x`) with the root path in front."""
        if location.startswith(b"/") and not location.startswith(b"//"):
            return self.raw_root + location
        return location
