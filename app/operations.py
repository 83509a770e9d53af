"""What an operator (an orchestrator, a load balancer, a developer offline) needs besides the API:
liveness and readiness probes, and the interactive docs served from the installed package.

- `GET /health/live`: 200 while the process answers requests; it looks at nothing else, so a
  database outage never gets the process restarted (restarting would not help).
- `GET /health/ready`: 200 when the database answers and its schema is at the migrations' head,
  else 503 problem+json naming which check failed (send no traffic here yet).
- `/docs` (Swagger UI) and `/redoc` load their scripts and styles from `/docs-assets`, the copies
  the `fastapi-offline` package ships (Swagger UI 5, ReDoc 2), not from a CDN: they work without
  internet and leak no visit to a third party (FastAPI's documented self-hosting recipe).
  Their Content-Security-Policy lets run only those scripts and the page's own inline one (by
  its hash), talk only to this origin, and no other site frame them: they share the origin of
  the pages, whose session cookie a script injected there could use.

The probes and the docs are public (no key) and not part of the API contract.
"""

import base64
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import fastapi_offline
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text

from app.migrate import alembic_config
from app.problem_handlers import problem_response
from app.root_path import public_path

log = logging.getLogger(__name__)
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_PATH = "/docs-assets"
OPENAPI_URL = "/v1/openapi.json"
LIVENESS_PATH = "/health/live"
READINESS_PATH = "/health/ready"
NO_STORE = {"Cache-Control": "no-store"}
PROBES = frozenset({LIVENESS_PATH, READINESS_PATH})
"""The probes' paths: outside /v1, yet answered as the API's (OPTIONS, 405; `app.api_headers`)."""


INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: HTMLResponse) -> HTMLResponse:
    """`page` (Swagger UI's or ReDoc's HTML) with headers that keep the page to itself: a
    Content-Security-Policy naming this origin and the sha256 of each inline script (CSP level
    2), no framing, no sniffing. Styles may be inline: both tools set `style` attributes and
    ReDoc writes `<style>` elements at run time; a style cannot run code."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(bytes(page.body))
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' {hashes}".rstrip()
        + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    page.headers["X-Frame-Options"] = "DENY"
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["Referrer-Policy"] = "same-origin"
    return page


def readiness(engine: Engine, database_url: str) -> dict[str, str]:
    """`{"database": ..., "migrations": ...}`, each `ok` or the reason it is not; never raises.
    The migrations are at head when the database's Alembic revisions are exactly the heads of
    the shipped `migrations/versions`."""
    checks = {"database": "ok", "migrations": "ok"}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:  # any failure to talk to the database means: not ready
        log.warning("readiness: the database did not answer: %s", exc)
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["migrations"] = "unknown: the database is unreachable"
        return checks
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    if current != heads:
        have = ", ".join(sorted(current)) or "none"
        checks["migrations"] = f"not at head: at {have}, head is {', '.join(sorted(heads))}"
    return checks


def install(app: FastAPI, engine: Engine, database_url: str) -> None:
    """Add the probes and the self-hosted docs to `app` (create it with `docs_url=None` and
    `redoc_url=None`)."""

    # A probe's answer is about this moment: a cache between the orchestrator and the process
    # must not answer "ok" for a process that has stopped or a database that went away.
    @app.get(LIVENESS_PATH, include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    @app.get(READINESS_PATH, include_in_schema=False)
    def ready(request: Request) -> Any:
        checks = readiness(engine, database_url)
        if all(value == "ok" for value in checks.values()):
            return JSONResponse({"status": "ok", "checks": checks}, headers=NO_STORE)
        return problem_response(
            request,
            503,
            "Not ready",
            "not_ready",
            "; ".join(f"{name}: {value}" for name, value in checks.items() if value != "ok"),
            {"Retry-After": "5", **NO_STORE},
            checks=checks,
        )

    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")
    # The contract's one server is its major version below the root path (`app.main._openapi`);
    # FastAPI would put the root path itself first at /openapi.json.
    app.root_path_in_servers = False

    # The contract and the assets the docs' browser fetches, below the app's root path.
    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        assets = public_path(request.scope, ASSETS_PATH)
        return docs_policy(
            get_swagger_ui_html(
                openapi_url=public_path(request.scope, OPENAPI_URL),
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                swagger_css_url=f"{assets}/swagger-ui.css",
                swagger_favicon_url=f"{assets}/favicon.png",
            )
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        assets = public_path(request.scope, ASSETS_PATH)
        return docs_policy(
            get_redoc_html(
                openapi_url=public_path(request.scope, OPENAPI_URL),
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{assets}/redoc.standalone.js",
                redoc_favicon_url=f"{assets}/favicon.png",
                with_google_fonts=False,
            )
        )
