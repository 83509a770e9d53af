"""The application's settings, engine and per-request session as FastAPI dependencies.

The application owns one engine (`app.state.engine`, built by `create_app` from its settings);
the request dependencies read it, and the settings (`app.state.settings`), from the request.
The engine and the transaction themselves live in `app.database`, which imports no FastAPI so
services can use it; its names are re-exported here for the routes, the CLI and the tests.
"""

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request, params
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
from app.json_body import JsonBodyRoute
from app.settings import Settings

__all__ = [
    "LostRace",
    "SessionDep",
    "SessionEndingRoute",
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
    I/O, so no request needs a thread to start. A route commits in its own worker thread
    (`SessionEndingRoute`); otherwise (a route that raised, or a session used again after the
    route's commit) the commit or rollback runs in a thread of its own, as FastAPI runs a sync
    dependency's exit, and is finished even when the request is cancelled.

    Before its slot, the request's whole body is read (and kept: its form or JSON is parsed from
    it). A page's form is read by a dependency after this one (the sign-in form, `FormDep`),
    and a client sending it slowly, or stopping halfway, held the slot meanwhile, as long as it
    liked: on SQLite the one write lock, so one POST to /aanmelden, signed in or not, stalled
    every request of every organisation (on PostgreSQL, four such requests).
    """
    engine = app_engine(request)
    lock = request_slot(engine)
    await request.body()  # kept on `request`, whose form and JSON are read from it
    if lock is not None:
        await lock.acquire_async()
    try:
        session = open_session(engine, lock)
        session.info[_REQUEST_SESSION] = True
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _end(session, succeeded=False)
            raise
        if session.info.pop(_COMMITTED, False) and not session.in_transaction():
            session.close()  # committed by the route (`SessionEndingRoute`): no I/O left
        else:
            await _end(session, succeeded=True)
    finally:
        if lock is not None:  # held again: `outside_transaction` takes it back on the way out
            lock.release()


_REQUEST_SESSION = "uitstroom_request_session"  # session.info: opened by `get_session`
_COMMITTED = "uitstroom_committed"  # session.info: committed at the end of the route's thread


class SessionEndingRoute(JsonBodyRoute):
    """A route whose plain `def` endpoint commits the request's session (`SessionDep`) at its
    end, in the worker thread it already runs in; `get_session` then only closes it.

    Committing in `get_session`'s exit took one more hand-over to a worker thread and back per
    request (one in four of a case creation's, about 5% of its CPU under 20 concurrent clients:
    docs/benchmarks.md). What is committed is the same: everything the endpoint did, when it
    returned without raising; the commit still comes before the answer is sent, and a commit
    that fails fails the request (`app.transient` reruns a lost race). An endpoint that raises
    is rolled back by `get_session` as before. One difference: the answer's response model is
    now checked after the commit, so a model that fails to validate (a bug) finds the work
    committed. Every API and page router uses this class (tests/test_route_commits.py), and so
    reads a JSON body as I-JSON (`JsonBodyRoute`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = None if inspect.iscoroutinefunction(endpoint) else _session_parameter(endpoint)
        if name is not None:
            endpoint = _committing(endpoint, name)
        super().__init__(path, endpoint, **kwargs)


def _session_parameter(endpoint: Callable[..., Any]) -> str | None:
    """The name of `endpoint`'s parameter that takes the request's session (`SessionDep`)."""
    for name, parameter in inspect.signature(endpoint).parameters.items():
        for meta in getattr(parameter.annotation, "__metadata__", ()):
            if isinstance(meta, params.Depends) and meta.dependency is get_session:
                return name
    return None


def _committing(endpoint: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the endpoint's signature through the wrapper
    def run(*args: Any, **kwargs: Any) -> Any:
        answer = endpoint(*args, **kwargs)
        session = kwargs.get(name)
        # Only a session `get_session` opened: one a test hands in is the test's to end.
        if isinstance(session, Session) and session.info.get(_REQUEST_SESSION):
            session.commit()
            session.info[_COMMITTED] = True
        return answer

    return run


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
