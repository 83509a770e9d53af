"""The application's settings, engine and per-request session as FastAPI dependencies.

The application owns one engine (`app.state.engine`, built by `create_app` from its settings);
the request dependencies read it, and the settings (`app.state.settings`), from the request.
The engine and the transaction themselves live in `app.database`, which imports no FastAPI so
services can use it; its names are re-exported here for the routes, the CLI and the tests.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from app.database import LostRace, _sqlite_lock, build_engine, outside_transaction, transaction
from app.settings import Settings

__all__ = [
    "LostRace",
    "SessionDep",
    "SettingsDep",
    "_sqlite_lock",
    "app_engine",
    "app_settings",
    "build_engine",
    "get_session",
    "outside_transaction",
    "request_settings",
]


def app_settings(request: Request) -> Settings:
    """The settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


def app_engine(request: Request) -> Engine:
    """The application's engine (built from its settings' `database_url`)."""
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request on the application's engine (`app.database.transaction`):
    commit when the handler succeeds, roll back otherwise."""
    yield from transaction(app_engine(request))


# scope="function": commit before the response is sent, so a failed commit is never reported as
# a success to the client.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_settings(request: Request) -> Settings:
    """`app_settings` as a dependency. Async because it does no I/O: FastAPI runs a plain `def`
    dependency in its thread pool, one hand-over to a worker thread and back per dependency,
    which under concurrent requests costs more than the work (docs/benchmarks.md, ingest
    section)."""
    return app_settings(request)


SettingsDep = Annotated[Settings, Depends(request_settings)]
