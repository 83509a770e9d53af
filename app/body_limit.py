"""Request bodies over `UITSTROOM_MAX_BODY_BYTES` are refused with 413, reading no more of them
than the limit: nothing at all when a `Content-Length` over it is declared, and at most one
message past it when a body comes chunked.

On the API the 413 is raised where the app reads the body and kept by `app.json_body` until
after authentication, as every other fault of a body is: a caller without a valid key gets 401
and learns nothing of its body, the size limit included (a declared length over the limit was
answered 413 at once, before the key was looked at). A page gets its Dutch 413 at once. The
other addresses outside the pages (the docs, the contract, the probes, the stylesheet) read no
body: they answer as they would a small one, rather than a 413 naming the limit to anyone.
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import web
from app.root_path import app_path
from app.web.core import error_page, with_security_headers


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413 before they are parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # One detail whether the body was refused for its Content-Length or, sent chunked
        # without one, while it was read.
        self._limit_detail = f"Request bodies are limited to {max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.max_bytes
        if too_large and not web.is_api_address(app_path(scope)):
            await self._too_large(scope, send)  # a page's form, as the page says
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:  # refused unread, where the app reads it (after the key)
                raise HTTPException(413, self._limit_detail)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._limit_detail)
            return message

        await self.app(scope, limited_receive, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        # Only a page's address comes here (a spreadsheet too big for `/inlezen`): a Dutch page.
        page = with_security_headers(error_page(Request(scope), 413))
        await page(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}
