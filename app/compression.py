"""Large answers are gzip-compressed for clients that accept gzip, as RFC 9110 section 12.5.3
reads `Accept-Encoding`: coding names are case-insensitive, and a coding with `q=0` is not
acceptable. Starlette's `GZipMiddleware` checks only that the header contains `gzip`, so
`gzip;q=0` (a client saying it cannot decode gzip) got gzip, and `GZip` did not."""

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

from app.acceptable import qvalue


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value names gzip (or `x-gzip`, its old name) with a
    qvalue above 0. An unreadable qvalue counts as 0: identity is always safe to send. `*`
    alone is not taken for gzip, as before."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *parameters = item.split(";")
        weight = qvalue(parameters)
        weights[coding.strip().lower()] = 0.0 if weight is None else weight
    return any(weights.get(name, 0.0) > 0 for name in ("gzip", "x-gzip"))


class NegotiatedGZip(GZipMiddleware):
    """`GZipMiddleware` whose choice between compressing and not reads `Accept-Encoding` as
    `accepts_gzip` does (every line of it); compressing itself is Starlette's."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = ", ".join(Headers(scope=scope).getlist("accept-encoding"))
        responder: ASGIApp
        if accepts_gzip(accept):
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        await responder(scope, receive, send)
