"""Server-rendered pages in Dutch for the people at the table (no JavaScript needed)."""

import inspect
import re
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.api_headers import routed_methods
from app.root_path import app_path
from app.web.core import HERE, error_page, with_security_headers

API_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/static/", "/health/")


_VERSION = re.compile(r"/[vV][0-9]+(/|$)")
"""A path that starts with a major version, `/v1/...` (`/V1`, `/v2` included)."""


def is_api_address(path: str) -> bool:
    """An address the API answers (problem+json on errors), `/v1` itself included: any path
    starting with a major version, and one of them with the slash doubled (`//v1/cases`, a
    base URL ending in `/` joined to `/v1/cases`), which no route has either; the pages' Dutch
    HTML 404 is no answer an API client reads."""
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return path == "/v1" or path.startswith(API_PREFIXES) or _VERSION.match(path) is not None


def page_modules() -> tuple[ModuleType, ...]:
    """The modules whose routers serve the pages, one per domain."""
    from app.web import (
        routes_actions,
        routes_aftercare,
        routes_areas,
        routes_auth,
        routes_case_access,
        routes_case_files,
        routes_dwelling_files,
        routes_imports,
        routes_meetings,
        routes_minutes,
        routes_monitor,
        routes_notices,
        routes_people,
        routes_proposals,
        routes_registry,
        routes_tables,
    )

    # routes_case_files before any `/dossiers/{case_id}` page: `/dossiers/nieuw` is no case id;
    # routes_dwelling_files likewise before `/woningen/{vacancy_id}`.
    return (
        routes_auth,
        routes_case_files,
        routes_case_access,
        routes_dwelling_files,
        routes_imports,
        routes_tables,
        routes_aftercare,
        routes_meetings,
        routes_minutes,
        routes_proposals,
        routes_actions,
        routes_registry,
        routes_monitor,
        routes_people,
        routes_notices,
        routes_areas,
    )


def install(app: FastAPI) -> None:
    """Add the pages (hidden from the API contract), their static files, and a Dutch 404/405
    page for addresses outside the API."""
    for module in page_modules():
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    api_handler = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_api_address(app_path(request.scope)) or exc.status_code not in (404, 405):
            answer = api_handler(request, exc)  # Starlette types a handler sync or async
            return await answer if inspect.isawaitable(answer) else answer
        page = error_page(request, exc.status_code)
        if exc.status_code == 405:
            # RFC 9110 section 15.5.6: a 405 names the target's methods. Starlette's names
            # those of one route only (a page's GET and POST are two), so all are asked.
            methods = routed_methods(request.app.router.routes, request.scope) or set()
            page.headers["Allow"] = ", ".join(sorted(methods))
        return with_security_headers(page)

    app.add_exception_handler(StarletteHTTPException, http_error)


def page_failure(request: Request, status: int, retry_after: int) -> Response | None:
    """A Dutch error page for a failure `app.transient` answers on a page's address (None on
    the API's, which answers problem+json)."""
    if is_api_address(app_path(request.scope)):
        return None
    response = with_security_headers(error_page(request, status))
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
