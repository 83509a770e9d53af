"""The application's settings, engine and per-request session as FastAPI dependencies.

The application owns one engine (`app.state.engine`, built by `create_app` from its settings);
the request dependencies read it, and the settings (`app.state.settings`), from the request.
The engine and the transaction themselves live in `app.database`, which imports no FastAPI so
services can use it; its names are re-exported here for the routes, the CLI and the tests.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from app.database import (
    LostRace,
    _sqlite_lock,
    build_engine,
    end_session,
    open_session,
    outside_transaction,
    request_slot,
)
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


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request on the application's engine (`app.database.open_session`):
    commit when the handler succeeds, roll back otherwise.

    The request first takes its `request_slot` (SQLite: the process write lock; PostgreSQL: one
    of as many slots as the pool has connections), waiting on the event loop
    (`FairLock.acquire_async`), not in the pool the routes run in. Waiting in that pool (as a
    sync dependency, or a connection checkout, would) let 40 waiting requests take all its
    threads while the requests they waited for needed one: with 41 (SQLite) or about 70
    (PostgreSQL) concurrent requests the server stopped answering. Opening the session does no
    I/O, so no request needs a thread to start; the commit or rollback runs in a thread of its
    own, as FastAPI runs a sync dependency's exit, and is finished even when the request is
    cancelled.
    """
    engine = app_engine(request)
    lock = request_slot(engine)
    if lock is not None:
        await lock.acquire_async()
    try:
        session = open_session(engine, lock)
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _end(session, succeeded=False)
            raise
        await _end(session, succeeded=True)
    finally:
        if lock is not None:  # held again: `outside_transaction` takes it back on the way out
            lock.release()


async def _end(session: Session, succeeded: bool) -> None:
    await anyio.to_thread.run_sync(
        end_session, session, succeeded, limiter=anyio.CapacityLimiter(1)
    )


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
