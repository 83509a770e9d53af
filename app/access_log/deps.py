"""The request-scoped context every case-file access is logged with."""

from typing import Annotated

from fastapi import Depends, Request

from app.access_log.service import AccessContext
from app.auth import CurrentPrincipal


def access_context(request: Request, principal: CurrentPrincipal) -> AccessContext:
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    return AccessContext(principal=principal, endpoint=f"{request.method} {template}"[:200])


AccessContextDep = Annotated[AccessContext, Depends(access_context)]
