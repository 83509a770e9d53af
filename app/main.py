"""The FastAPI application: routers, problem handlers, middleware and the OpenAPI contract."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import (
    api_headers,
    heap,
    json_body,
    openapi_contract,
    operations,
    problem_handlers,
    problems,
    web,
)
from app.access_log.routes import router as access_log_router
from app.actions.routes import router as actions_router
from app.aftercare.routes import router as aftercare_router
from app.agenda.routes import router as agenda_router
from app.agenda.stall_sweep import StallSweep
from app.areas.routes import router as areas_router
from app.body_limit import BodySizeLimit
from app.cases.retention import RetentionJob
from app.cases.routes import router as cases_router
from app.compression import NegotiatedGZip
from app.database import database_unavailable, first_line
from app.db import build_engine
from app.imports.routes import router as imports_router
from app.limits.routes import router as limits_router
from app.mail.routes import router as mail_router
from app.mail.worker import start_mail_worker
from app.meetings.minutes_routes import router as minutes_router
from app.meetings.routes import router as meetings_router
from app.migrate import upgrade_to_head
from app.monitor.routes import router as monitor_router
from app.organisations.routes import router as organisations_router
from app.people.routes import router as people_router
from app.proposals.routes import router as proposals_router
from app.root_path import RootPath
from app.settings import Settings, get_settings
from app.tables.routes import router as tables_router
from app.transient import TransientFailures
from app.vacancies.routes import router as vacancies_router
from app.webhooks.routes import router as webhooks_router
from app.webhooks.worker import start_worker

API_VERSION = "1.0.0"
DESCRIPTION = """
Case matching for the Dutch *uitstroomtafel*: care providers register clients ready to leave
Beschermd Wonen or Maatschappelijke Opvang, housing corporations offer vacant dwellings, and the
table matches them under the real allocation rules.

Authenticate every call with `Authorization: Bearer <key>`. Errors are RFC 9457
`application/problem+json`. Every POST accepts an `Idempotency-Key` (a retry gets the first
answer; the once-only POSTs, publishing a meeting and final minutes, refuse a retry without it
with 409). A person whose password was generated is named on a retry (409 `person_created`), as
the password is shown once. PATCHes and PUTs accept `If-Match`.
"""

log = logging.getLogger(__name__)


class Utf8Json:
    """JSON bodies are UTF-8 (RFC 8259 section 8.1; the README says so): a JSON `Content-Type`
    naming another charset, or a body in UTF-16 or UTF-32 (which Python's `json` would read by
    itself), is a 415 when the app reads the body, before anything parses it. A UTF-8
    byte-order mark is read past, as RFC 8259 allows."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        media_type, _, parameters = content_type.partition(";")
        if not problem_handlers.is_json(media_type.strip().lower()):
            await self.app(scope, receive, send)
            return
        charset = _charset(parameters)
        checked = False

        async def checked_receive() -> Message:
            # Raised where the app reads the body, as BodySizeLimit's 413 is (an HTTP exception,
            # which FastAPI's body parsing lets through), so the app's own handlers answer it;
            # a request without a body is never refused for its charset.
            nonlocal checked
            message = await receive()
            if not checked and message["type"] == "http.request" and message.get("body"):
                checked = True
                start = message["body"][:4]
                encoding = json.detect_encoding(start) if len(start) >= 2 else "utf-8"
                if charset is not None and charset not in ("utf-8", "utf8"):
                    raise StarletteHTTPException(415, _NOT_UTF8.format(sent=f"charset={charset}"))
                if encoding.startswith(("utf-16", "utf-32")):
                    raise StarletteHTTPException(415, _NOT_UTF8.format(sent=encoding.upper()))
            return message

        await self.app(scope, checked_receive, send)


_NOT_UTF8 = "Send JSON in UTF-8 (charset=utf-8 or none), not in {sent}."


def _charset(parameters: str) -> str | None:
    """The `charset` of a media type's parameters (lower case, unquoted), or None."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


class ApiVersionHeader:
    """Every response names the contract version (as Dutch government APIs do)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"api-version", API_VERSION.encode())]
            await send(message)

        await self.app(scope, receive, send_with_version if scope["type"] == "http" else send)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="Uitstroomtafel API",
        version=API_VERSION,
        description=DESCRIPTION,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (problems.Problem, problems.InvalidParam, problems.InvalidItem):
        model_schema = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}"
        )
        for name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = model_schema
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    # Any operation may find the database unreachable or too busy (app/transient.py), and any
    # write may lose a race to a concurrent one that stored the same item first.
    transient = problems.problem_responses(409, 503)
    for path_operations in schema["paths"].values():
        for method, operation in path_operations.items():
            if method != "get":
                operation["responses"].setdefault("409", transient[409])
            operation["responses"].setdefault("503", transient[503])
    settings: Settings = app.state.settings
    contact = {
        "name": settings.contact_name,
        "email": settings.contact_email,
        "url": settings.contact_url,
    }
    app.openapi_schema = openapi_contract.comply(schema, contact, settings.root_path)
    return app.openapi_schema


def _warn_if_owner(engine: Engine) -> None:
    from app.migrate import owner_warning

    try:
        warning = owner_warning(engine)
    except Exception as exc:
        # The database may be down at start (requests then answer 503): one line says so; any
        # other failure is a bug and keeps its traceback.
        if database_unavailable(exc):
            log.warning("could not check the database role: %s", first_line(exc))
        else:
            log.exception("could not check the database role")
        return
    if warning:
        log.warning(warning)


GZIP_MINIMUM_BYTES = 16 * 1024
"""Responses at least this large are gzip-compressed for clients that accept it."""


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, served: bool = False
) -> FastAPI:
    """The application for `settings` (default: this process's, from the environment).

    Its engine is `engine` if given (the caller disposes of it), else one built from
    `settings.database_url` and disposed of at shutdown. On start it migrates the database when
    `settings.migrate_on_start`, and starts the webhook worker, the retention job and the stall
    sweep if enabled. `served`: the app is its server process's only one (`uitstroomtafel
    serve`); once started, it freezes its start-up heap out of the garbage collector's way
    (`app.heap`), and leaves the warning about an owner's or superuser's role to `serve`, which
    gives it once for all its workers.
    """
    settings = settings or get_settings()
    owned_engine = engine is None
    if engine is None:
        engine = build_engine(settings.database_url, request_slots=settings.request_slots)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            upgrade_to_head(settings.database_url)
        if not served:  # `serve` warned once, before its workers started
            _warn_if_owner(engine)
        worker = None
        if settings.webhook_worker:
            worker = start_worker(
                engine, settings.webhook_poll_seconds, settings.webhook_allow_private_targets
            )
        mail_worker = start_mail_worker(settings, engine) if settings.mail_worker else None
        retention = None
        if settings.retention_job:
            retention = RetentionJob(
                engine,
                settings.retention_days,
                idempotency_ttl_hours=settings.idempotency_ttl_hours,
            ).start()
        stall_sweep = None
        if settings.stall_sweep:
            stall_sweep = StallSweep(engine, settings.stall_sweep_seconds).start()
        if served:
            heap.settle()
        yield
        if stall_sweep is not None:
            await asyncio.to_thread(stall_sweep.stop)
        if retention is not None:
            await asyncio.to_thread(retention.stop)
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        if mail_worker is not None:
            await asyncio.to_thread(mail_worker.stop)
        if owned_engine:
            engine.dispose()

    app = FastAPI(
        title="Uitstroomtafel API",
        version=API_VERSION,
        lifespan=lifespan,
        docs_url=None,  # served from the package by app.operations, not from a CDN
        redoc_url=None,
        redirect_slashes=False,  # `/v1/cases/`: a 404, no redirect (/core/no-trailing-slash)
    )
    app.state.settings = settings
    app.state.engine = engine
    problem_handlers.install_problem_handlers(app)
    for router in (
        organisations_router,
        tables_router,
        areas_router,
        imports_router,  # before cases and vacancies: /v1/cases/imports is no case id
        cases_router,
        vacancies_router,
        access_log_router,
        limits_router,
        agenda_router,
        meetings_router,
        minutes_router,
        proposals_router,
        actions_router,
        aftercare_router,
        monitor_router,
        webhooks_router,
        people_router,
        mail_router,
    ):
        app.include_router(router)
    operations.install(app, engine, settings.database_url)  # probes and docs: not in the contract
    web.install(app)  # the pages for people: hidden from the API contract

    # Public, so no key to check first (elsewhere the query is refused after it: app.json_body)
    public, contract = [Depends(json_body.refuse_unread_input)], "/openapi.json"

    @app.get(api_headers.API_PREFIX + contract, include_in_schema=False, dependencies=public)
    def versioned_contract() -> JSONResponse:
        """The contract also where its `servers` entry (`/v1`) puts it; public and cacheable,
        like `/openapi.json`."""
        return JSONResponse(app.openapi(), headers={"Cache-Control": "public, max-age=300"})

    @app.get(api_headers.API_PREFIX, include_in_schema=False, dependencies=public)
    def api_index() -> JSONResponse:
        """Where a client starts: the contract, its docs and the health probes (public, no
        data), below the app's root path."""
        return JSONResponse(
            {
                "title": app.title,
                "version": API_VERSION,
                "links": {
                    "openapi": settings.root_path + api_headers.API_PREFIX + "/openapi.json",
                    "docs": settings.root_path + "/docs",
                    "liveness": settings.root_path + "/health/live",
                    "readiness": settings.root_path + "/health/ready",
                },
            }
        )

    # Inside the body limit, so the body it keeps for a rerun is bounded.
    app.add_middleware(
        TransientFailures, attempts=settings.db_retry_attempts, page_failure=web.page_failure
    )
    app.add_middleware(Utf8Json)
    app.add_middleware(api_headers.IdentityContent)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(api_headers.AllowedMethods, router=app.router, also=operations.PROBES)
    # No cache keeps a /v1 answer: every one is authenticated and cut to the caller's
    # organisation, errors name ids too, and a rule per route would be one more thing a new
    # route can forget. The public contract and docs stay cacheable.
    app.add_middleware(
        api_headers.DefaultHeader,
        name="Cache-Control",
        value="no-store",
        where=api_headers.is_api_path,
    )
    # Every answer, stylesheets and the docs' scripts too: a browser uses a file only as the
    # type it was served as (Fetch standard, "should response ... be blocked due to nosniff").
    app.add_middleware(api_headers.DefaultHeader, name="X-Content-Type-Options", value="nosniff")
    app.add_middleware(api_headers.NotModified)
    app.add_middleware(ApiVersionHeader)
    # Outside every other layer, so it compresses what they produced. Only large bodies: a big
    # city's agenda is megabytes of JSON, while compressing small answers costs more than it
    # saves. Level 5: most of level 9's gain in a fraction of its time.
    app.add_middleware(NegotiatedGZip, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=5)
    # Outermost: a HEAD drops the body the GET's compression measured, so its Content-Length
    # and Content-Encoding are the GET's (inside, the body was dropped before compression, and
    # a HEAD named the uncompressed length; RFC 9110 section 8.6).
    app.add_middleware(api_headers.HeadAsGet)
    # Outside everything that reads a condition (`NotModified`, the routes' headers).
    app.add_middleware(api_headers.CombinedConditions)
    app.add_middleware(RootPath, root=settings.root_path)  # outside all (`UITSTROOM_PUBLIC_URL`)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # FastAPI's documented override
    return app


def create_served_app() -> FastAPI:
    """The application of one `uitstroomtafel serve --workers N` process, from the environment
    (uvicorn's factory). Read without `get_settings`' warnings about unknown variables: `serve`
    gave them once, from the same environment and `.env`, and each worker (and each worker that
    replaces one) said them again."""
    return create_app(Settings(), served=True)
