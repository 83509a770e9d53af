"""The request-scoped context every case-file access is logged with."""

from typing import Annotated

from fastapi import Depends, Request

from app.access_log.service import AccessContext
from app.auth import CurrentPrincipal


async def access_context(request: Request, principal: CurrentPrincipal) -> AccessContext:
    """Who asks, through which endpoint. Async: no I/O, so no hand-over to the thread pool
    (`app.db.request_settings`)."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    return AccessContext(principal=principal, endpoint=f"{request.method} {template}"[:200])


AccessContextDep = Annotated[AccessContext, Depends(access_context)]
