"""Database failures that are not the request's fault: run again, else answered 409/503, not 500.

Every request runs in one transaction (`app.db.get_session`) that is rolled back when the
handler raises, so a request that lost a race (a deadlock, a serialization failure, a stale
version, a unique key a concurrent request inserted first) can simply run again: the rerun sees
the winner's committed rows and answers as it would have had it come second (a client that
sent `If-Match` then gets its 412, as the version moved). `TransientFailures`
does that around the whole application, with the request body replayed, a bounded number of
times with jittered backoff; what still fails, and an unreachable database, is answered as
problem+json with `Retry-After` (a Dutch page for the pages). Any other unhandled error becomes
a 500 here, inside uvicorn, so the keep-alive connection survives it.
"""

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import problem_handlers
from app.database import CommitInterrupted, LostRace, database_unavailable, first_line
from app.problems import BUSY_RETRY_AFTER

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying: contention clears within a moment
# (`BUSY_RETRY_AFTER`, in app.problems for the services' own lost races), a database restart
# takes a few seconds.
UNAVAILABLE_RETRY_AFTER = 5
BACKOFF_BASE = 0.05  # seconds before the first rerun (full jitter: somewhere in [0, base])
BACKOFF_CAP = 1.0

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/15/errcodes-appendix.html).
RERUN_SQLSTATES = {
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "55P03": "lock_not_available",
}
UNIQUE_VIOLATION = "23505"
BUSY_SQLSTATES = {"57014"}  # query_canceled: a statement_timeout ran out


class Failure(StrEnum):
    contention = "contention"  # lost a race: rerun, at last 503 database_busy
    stale = "stale"  # a versioned row changed meanwhile: rerun, at last 409 (412 with If-Match)
    duplicate = "duplicate"  # a concurrent request inserted the same key: rerun, at last 409
    busy = "busy"  # waited for a lock long enough already: 503 database_busy at once
    unavailable = "unavailable"  # no database: 503 database_unavailable at once
    # a pooled connection was found closed before COMMIT (`app.database.RequestSession`):
    # rerun on a new one, at last 503 database_unavailable
    disconnected = "disconnected"
    # the connection was lost during COMMIT: saved or not, unknown; 503 at once, never rerun
    interrupted = "interrupted"


RERUN = frozenset({Failure.contention, Failure.stale, Failure.duplicate, Failure.disconnected})


def classify(error: BaseException) -> Failure | None:
    """What kind of transient database failure `error` is, or None for any other error.

    psycopg errors carry a SQLSTATE (`sqlstate`); sqlite3 errors (Python 3.11+) carry the
    extended result code name (`sqlite_errorname`). A connection that could not be made or was
    lost carries neither, or SQLAlchemy marks it `connection_invalidated`.
    """
    if isinstance(error, StaleDataError):  # a versioned UPDATE found the row changed meanwhile
        return Failure.stale
    if isinstance(error, LostRace):  # a row appeared meanwhile
        return Failure.contention
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return Failure.busy
    if isinstance(error, CommitInterrupted):  # committed or not: unknown, so never rerun
        return Failure.interrupted
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated:
        return Failure.disconnected
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RERUN_SQLSTATES:
        return Failure.contention
    if sqlstate == UNIQUE_VIOLATION:
        return Failure.duplicate
    if sqlstate in BUSY_SQLSTATES:
        return Failure.busy
    name = getattr(error.orig, "sqlite_errorname", None) or ""
    # SQLITE_BUSY comes after busy_timeout (30 s) ran out: waiting longer helps nobody.
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return Failure.busy
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        return Failure.duplicate
    if database_unavailable(error):  # psycopg: connection refused, server closed the connection
        return Failure.unavailable
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    code: str
    title: str
    detail: str
    retry_after: int


ANSWERS = {
    Failure.contention: Answer(
        503,
        "database_busy",
        "Busy",
        "Concurrent requests on the same data kept colliding; nothing was changed. Retry.",
        BUSY_RETRY_AFTER,
    ),
    Failure.busy: Answer(
        503,
        "database_busy",
        "Busy",
        "The database is busy; nothing was changed. Retry.",
        BUSY_RETRY_AFTER,
    ),
    Failure.stale: Answer(
        409,
        "changed_concurrently",
        "Conflict",
        "It was changed by someone else at the same time, again on every retry; nothing was "
        "changed. Fetch it again and retry.",
        BUSY_RETRY_AFTER,
    ),
    Failure.duplicate: Answer(
        409,
        "concurrent_conflict",
        "Conflict",
        "A concurrent request stored the same item first; nothing was changed. Reload and retry.",
        BUSY_RETRY_AFTER,
    ),
    Failure.unavailable: Answer(
        503,
        "database_unavailable",
        "Service unavailable",
        "The database cannot be reached; nothing was changed. Retry later.",
        UNAVAILABLE_RETRY_AFTER,
    ),
    Failure.disconnected: Answer(
        503,
        "database_unavailable",
        "Service unavailable",
        "The database cannot be reached; nothing was changed. Retry later.",
        UNAVAILABLE_RETRY_AFTER,
    ),
    Failure.interrupted: Answer(
        503,
        "database_unavailable",
        "Service unavailable",
        "The connection to the database was lost while the change was being saved, so it may "
        "or may not have been saved. Retry with the same Idempotency-Key, or read before "
        "retrying.",
        UNAVAILABLE_RETRY_AFTER,
    ),
}

STALE_IF_MATCH = Answer(
    412,
    "precondition_failed",
    "Precondition failed",
    "It was changed by someone else at the same time; fetch it again (new ETag) and retry.",
    0,  # no Retry-After: repeated unchanged, it would fail the same way
)

PageFailure = Callable[[Request, int, int], Response | None]
"""(request, status, retry_after) -> a page for people, or None where problem+json belongs."""


def backoff(attempt: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait before rerun `attempt` (1, 2, ...): full jitter over a doubling window,
    so colliding requests do not collide again in step."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


class TransientFailures:
    """ASGI middleware: rerun a request that lost a database race, answer the rest.

    Sits inside the body-size limit (so the body it keeps for a rerun is bounded) and outside
    FastAPI's exception handlers (which leave database errors alone). Only a request whose
    response has not started is rerun or answered here: its transaction was rolled back, so
    nothing of its effect was stored. (What a request commits on purpose before its effect stays:
    a rate-limit token, the key's last-used time before a long computation; a rerun takes a new
    token, bounded by the attempts.)
    """

    def __init__(self, app: ASGIApp, attempts: int = 4, page_failure: PageFailure | None = None):
        self.app = app
        self.attempts = max(1, attempts)
        self.page_failure = page_failure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kept: list[Message] = []  # the request's body messages read so far, for a rerun
        for attempt in range(1, self.attempts + 1):
            run = _Attempt(receive, send, kept)
            try:
                # A scope of its own per run, so nothing one run noted in it leaks into the next.
                fresh = {**scope, "state": dict(scope.get("state", {}))}
                await self.app(fresh, run.receive, run.send)
                return
            except ClientDisconnect:
                # The client went away before its body was in: nothing failed here, and there
                # is no one to answer (logged as an error, anyone could fill the log with it).
                log.info("%s %s: the client went away", scope["method"], scope["path"])
                return
            except Exception as error:
                if run.started:  # too late to answer: uvicorn closes the connection
                    raise
                failure = classify(error)
                if failure in RERUN and attempt < self.attempts:
                    log.info(
                        "rerunning %s %s after %s (attempt %d): %s",
                        scope["method"],
                        scope["path"],
                        failure,
                        attempt,
                        first_line(error),
                    )
                    await asyncio.sleep(backoff(attempt))
                    continue
                response = self._answer(scope, failure, error)
                await response(scope, _disconnected, send)
                return

    def _answer(self, scope: Scope, failure: Failure | None, error: Exception) -> Response:
        request = Request(scope)
        if failure is None:
            log.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=error)
            status, retry_after = 500, 0
            problem = problem_handlers.problem_response(
                request, 500, "Internal server error", "internal_error"
            )
        else:
            answer = ANSWERS[failure]
            if failure is Failure.stale and "if-match" in request.headers:
                answer = STALE_IF_MATCH  # the client's ETag is stale now: as any stale If-Match
            log.warning(
                "%s %s answered %d %s: %s",
                scope["method"],
                scope["path"],
                answer.status,
                answer.code,
                first_line(error),
            )
            status, retry_after = answer.status, answer.retry_after
            problem = problem_handlers.problem_response(
                request,
                answer.status,
                answer.title,
                answer.code,
                answer.detail,
                {"Retry-After": str(answer.retry_after)} if answer.retry_after else {},
            )
        page = self.page_failure(request, status, retry_after) if self.page_failure else None
        return page or problem


class _Attempt:
    """One run of the request: replays the body messages earlier runs read, then reads on
    (keeping what it reads), and notes whether the response has started."""

    def __init__(self, receive: Receive, send: Send, kept: list[Message]):
        self._receive = receive
        self._send = send
        self._kept = kept
        self._replay = list(kept)
        self.started = False

    async def receive(self) -> Message:
        if self._replay:
            return self._replay.pop(0)
        message = await self._receive()
        if message["type"] == "http.request":
            self._kept.append(message)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
