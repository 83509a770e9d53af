# Size: engines, transactions and the request slots, and the advisory locks taken on them
# (`hold_writes_lock`, `lock_number`): what a service asks of its connection, in one place.
"""Database engines, one transaction on an engine, and computing outside the transaction.

SQLite is the embedded default; PostgreSQL (postgresql+psycopg://) is the production database.
FastAPI-free, so services can use it; `app.db` gives a request the application's engine, session
and settings as FastAPI dependencies.
"""

import asyncio
import hashlib
import logging
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, Executable, bindparam, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine


def _configure_sqlite(engine: Engine, foreign_keys: bool = True) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE.

    pysqlite's own transaction handling breaks SAVEPOINTs and lets a reading transaction fail
    with SQLITE_BUSY when it later writes (every request writes the access log or a key's
    last-used time), so we issue BEGIN ourselves and take the write lock up front; concurrent
    requests then wait on busy_timeout instead of failing.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # the DB-API is untyped
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


POOL_SIZE, POOL_OVERFLOW = 20, 10
# Requests of one process that hold a PostgreSQL transaction at once; the others wait their turn
# on the event loop, first come, first served. With every concurrent request in its own thread
# (30 slots), 20 clients creating cases took 4.2 ms of server CPU per creation and a p99 of
# 154 ms against 3.7 ms and 119 ms with 4 slots (alternating rounds of one run of
# `bench_ingest --cases-only`, docs/benchmarks.md); in two more runs 8 slots against 4 gave
# 4.4 and 3.6 ms, 144 and 111 ms, and 2 against 4 gave 2.8 and 3.3 ms, 90 and 101 ms. The
# threads contend for the interpreter lock, and each that comes back from a round trip waits
# for it behind the others. A request computing outside its transaction gives its slot back
# meanwhile (`outside_transaction`), so a long agenda or monitor answer does not hold one.
REQUEST_SLOTS = 4
# At most this many: each slot's holder needs a thread of the routes' pool (40) to run in while
# up to OUTSIDE_MOST threads of that pool wait to take a slot back (`outside_transaction`).
REQUEST_SLOTS_MOST = 20


def build_engine(
    url: str, *, foreign_keys: bool = True, request_slots: int = REQUEST_SLOTS
) -> Engine:
    """Create an engine for `url` with the settings each dialect needs.

    Migrations pass foreign_keys=False: SQLite's batch mode recreates tables, which enforced
    foreign keys would refuse. `request_slots`: on PostgreSQL, how many requests of this
    process hold a transaction at once (`request_slot`; 1 to `REQUEST_SLOTS_MOST`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys)
        return engine
    # 20 kept open, 30 at most: with 10 kept, 20 concurrent requests on one process closed a
    # connection on most returns and opened a new one (a PostgreSQL backend) shortly after,
    # 153 per 1,000 case creations (`bench_ingest --cases-only`, 20 clients).
    # No pre-ping: it cost every request a round trip of its own. A pooled connection the
    # server closed (a restart) fails the request's first statement instead; SQLAlchemy then
    # drops every connection opened before, and `app.transient` runs the request again on a new
    # one (nothing was committed: `RequestSession.commit` tells a loss during COMMIT apart).
    if not 1 <= request_slots <= REQUEST_SLOTS_MOST:
        raise ValueError(f"request_slots must be 1 to {REQUEST_SLOTS_MOST}, not {request_slots}")
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    _request_slots[engine] = FairLock(request_slots)
    return engine


_request_slots: "weakref.WeakKeyDictionary[Engine, FairLock]" = weakref.WeakKeyDictionary()


class _Turn:
    """A waiting request on an event loop: `release` grants it the slot by resolving `future`
    on its loop (thread-safe), with no thread to wake."""

    __slots__ = ("future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.granted = False

    def release(self) -> None:  # named like `threading.Lock.release`: `FairLock.release` calls it
        self.granted = True
        if asyncio._get_running_loop() is self.loop:
            # Released on the waiter's own loop (a request ending hands the slot to the next):
            # no wake-up to write to the loop's self-pipe, and none for the loop to read back.
            self.loop.call_soon(_grant, self.future)
        else:
            self.loop.call_soon_threadsafe(_grant, self.future)


def _grant(future: "asyncio.Future[None]") -> None:
    if not future.done():  # a waiter cancelled meanwhile gives the slot back itself
        future.set_result(None)


class FairLock:
    """A lock, or with `slots` > 1 a semaphore, taken in the order it was asked for (first
    come, first served), which a thread other than the one that took it may release.

    `threading.Lock` wakes a waiter on release but lets any thread that asks meanwhile take it
    first, so the thread that just released it (back with the next request) can take it again
    ahead of requests that have waited longer. Here a release hands the slot to the longest
    waiting thread or task directly (tests/test_fair_lock.py). Requests wait on the event loop
    (`acquire_async`): a thread per waiting request cost a hand-over to a worker thread and back
    for every request that found the slot taken, which under load is every request."""

    def __init__(self, slots: int = 1) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock | _Turn] = deque()
        self._slots = slots
        self._free = slots

    def acquire(self, blocking: bool = True) -> bool:
        """Take a slot, waiting behind every thread that asked before (unless not `blocking`:
        then False at once when none is free)."""
        with self._mutex:
            if self._free:
                self._free -= 1
                return True
            if not blocking:
                return False
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by `release`, which hands the slot over to this thread
        return True

    async def acquire_async(self) -> None:
        """Take a slot on the running event loop, waiting behind every thread and task that
        asked before. A task cancelled while it waits leaves the queue, or gives back the slot
        if it was handed over meanwhile; the slot is never lost."""
        with self._mutex:
            if self._free:
                self._free -= 1
                return
            turn = _Turn(asyncio.get_running_loop())
            self._waiters.append(turn)
        try:
            await turn.future
        except BaseException:
            with self._mutex:
                handed_over = turn.granted
                if not handed_over:
                    self._waiters.remove(turn)
            if handed_over:
                self.release()
            raise

    def release(self) -> None:
        with self._mutex:
            if self._free == self._slots:
                raise RuntimeError("release unlocked lock")
            if self._waiters:
                self._waiters.popleft().release()  # still taken: now the waiter's
            else:
                self._free += 1

    def locked(self) -> bool:
        """No slot is free."""
        return self._free == 0

    def waiting(self) -> int:
        """How many threads and tasks wait for a slot."""
        return len(self._waiters)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


# SQLite has one writer at a time and every request writes (access log, key last-used time).
# Waiting on this lock instead of SQLite's busy handler, which sleeps in growing steps, keeps the
# tail latency of concurrent requests close to the median; first come, first served.
_sqlite_lock = FairLock()
_WRITE_LOCK = "uitstroom_write_lock"  # session.info key: the `request_slot` this session holds


def request_slot(engine: Engine) -> FairLock | None:
    """What a request on `engine` takes before its transaction and holds until it ends: on
    SQLite the process write lock, on PostgreSQL one of as many slots as the pool has
    connections (so a request holding a slot never waits for a connection: see
    `app.db.get_session`). None for an engine not built by `build_engine`."""
    if engine.dialect.name == "sqlite":
        return _sqlite_lock
    return _request_slots.get(engine)


class CommitInterrupted(Exception):
    """The connection was lost while COMMIT was under way: the transaction may or may not have
    been committed, so the request must not run again (`app.transient` answers 503; a client
    that sent an `Idempotency-Key` may retry safely)."""


class RequestSession(Session):
    """A request's session: a connection lost during its COMMIT raises `CommitInterrupted`.

    Why: a connection lost before COMMIT leaves nothing committed, and the request runs again
    (`app.transient`); lost during COMMIT, the outcome is unknown. The pending changes are
    flushed first, so that a loss while flushing still counts as before the COMMIT."""

    def commit(self) -> None:
        self.flush()
        try:
            super().commit()
        except DBAPIError as error:
            if error.connection_invalidated:
                raise CommitInterrupted("the connection was lost during COMMIT") from error
            raise


def open_session(engine: Engine, lock: FairLock | None) -> Session:
    """A request's session, whose caller holds `lock` (`request_slot`) already; no I/O until
    its first statement. The lock is held for the whole transaction, except inside
    `outside_transaction` (heavy computation). End it with `end_session`."""
    session = RequestSession(engine, expire_on_commit=False)
    session.info[_WRITE_LOCK] = lock
    return session


def end_session(session: Session, succeeded: bool) -> None:
    """Commit the request's transaction when its work `succeeded`, else roll it back; close the
    session either way. Blocking: run it in a worker thread."""
    try:
        if succeeded:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# How many requests may compute outside SQLite's lock or their PostgreSQL slot at once
# (`outside_transaction`). Each takes it back waiting in a thread of the routes' pool (40
# threads); with every thread waiting so, the request holding the lock found none to run its
# next step in and the server stopped answering for good (44 concurrent monitor or agenda
# requests, breaker). Fewer than the pool's threads leaves some for the holders (SQLite's one,
# PostgreSQL's REQUEST_SLOTS_MOST at most): the only requests that run in the pool meanwhile.
OUTSIDE_MOST = 16
_outside = threading.BoundedSemaphore(OUTSIDE_MOST)


@contextmanager
def outside_transaction(session: Session) -> Iterator[None]:
    """Run heavy computation without holding the database: commit what the request has done so
    far (the key's last-used time, nothing else in the routes that use this), release the SQLite
    process lock or the PostgreSQL request slot, and take it back afterwards. The next
    statement on `session` begins a new transaction (BEGIN IMMEDIATE on SQLite), so whatever
    the caller writes afterwards is short.

    The caller must not rely on the rows it loaded staying unchanged: it computes from values it
    copied out (plain rows, not ORM objects it later writes) and re-checks what it writes
    depends on (publish compares versions; see `app.meetings.service.publish`). A session the
    tests share across a rolled-back transaction carries no lock; commit then ends only its
    savepoint.
    """
    session.commit()
    # The lock (SQLite) or slot (PostgreSQL) must let other requests in, but only OUTSIDE_MOST
    # requests at a time: taking it back waits in a thread of the routes' pool, and with every
    # thread waiting so the holders found none to run in (`app.db.get_session`). The others
    # compute holding it.
    lock = session.info.get(_WRITE_LOCK)
    if lock is None or not _outside.acquire(blocking=False):
        lock = None
    if lock is not None:
        lock.release()
    try:
        yield
    finally:
        if lock is not None:
            try:
                lock.acquire()
            finally:
                _outside.release()


# PostgreSQL SQLSTATEs of a database that is not there
# (https://www.postgresql.org/docs/15/errcodes-appendix.html): class 08 connection exception,
# 53 insufficient resources (too many connections, disk full), 57P01-57P03 the server is
# shutting down, crashed or starting. SQLite's extended result codes of a file that cannot be
# opened, read or written.
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53")
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
UNAVAILABLE_SQLITE_CODES = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY")


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database is not there: it refused or lost the connection (a
    restart, an outage), is shutting down or starting, or has no room. Such a failure says
    nothing about the work that failed: the same work succeeds once the database is back.

    psycopg errors carry a SQLSTATE (`sqlstate`); sqlite3 errors (Python 3.11+) carry the
    extended result code name (`sqlite_errorname`); a connection that could not be made or was
    lost carries neither, or SQLAlchemy marks it `connection_invalidated`."""
    if isinstance(error, CommitInterrupted):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate: str | None = getattr(error.orig, "sqlstate", None)
    if sqlstate:
        return sqlstate in UNAVAILABLE_SQLSTATES or sqlstate.startswith(
            UNAVAILABLE_SQLSTATE_CLASSES
        )
    name: str | None = getattr(error.orig, "sqlite_errorname", None)
    if name:
        return name.startswith(UNAVAILABLE_SQLITE_CODES)
    return isinstance(error, OperationalError | InterfaceError)


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message (a driver's message runs to several), else its type."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def log_round_failure(log: logging.Logger, error: BaseException, message: str, *args: Any) -> None:
    """Log the failure of a background job's round (`message % args` names the job and the
    round): with its traceback, except when the database is unavailable
    (`database_unavailable`). Then one warning line: every process's jobs fail alike at each
    database restart, and the next round outlives it, so a traceback per job and process only
    hid the failures that are bugs."""
    if database_unavailable(error):
        log.warning(f"{message}: the database is unavailable (%s)", *args, first_line(error))
    else:
        log.error(message, *args, exc_info=error)


class LostRace(Exception):
    """A write found that a concurrent request got there first in a way the service cannot
    answer for (a row it was about to insert appeared). The request's transaction is rolled
    back and `app.transient` runs the request again, which then sees the other's row."""


# The purposes of the service's advisory locks (`lock_number`): an API key's writes and its
# revocation (`app.organisations.service`), a page session's writes (`app.people.service`), an
# organisation's webhook claims (`app.webhooks.outbox`) and a care provider's case-file imports
# (`app.imports.service`).
KEY_WRITES, KEY_REVOCATION = "key-writes", "key-revocation"
SESSION_WRITES, WEBHOOK_CLAIMS = "session-writes", "webhook-claims"
CASE_IMPORTS = "case-imports"
_DIGEST_WINDOWS = {KEY_WRITES: 0, KEY_REVOCATION: 8, SESSION_WRITES: 0}
"""The purposes whose key is a SHA-256 digest, and the offset of their 8 bytes in it."""


def lock_number(purpose: str, key: bytes) -> int:
    """The advisory lock (PostgreSQL's bigint, a signed 64-bit number) that `purpose` takes for
    `key`: the 8-byte BLAKE2b of `key` personalised with `purpose` (at most 16 bytes), so one key
    gives each purpose a number of its own, whatever the key.

    Except the purposes in `_DIGEST_WINDOWS`, older than this function: their `key` is a SHA-256
    digest (an API key's hash, a page session token's), their number 8 bytes of it, as each
    took it before. Servers of two versions run side by side in a rolling deploy, and a lock
    holds only if both take the same number: else a page write on the old server and its
    session's end on the new one (a block, a new password) wait for nothing, and the write
    could commit after the end. A key's two windows differ (bytes 0-7, 8-15); a key's writes and
    a session's share one, of digests of different secrets. tests/test_lock_numbers.py pins
    every number: a change there changes the locks between two server versions."""
    start = _DIGEST_WINDOWS.get(purpose)
    if start is None:
        chosen = hashlib.blake2b(key, digest_size=8, person=purpose.encode()).digest()
    elif len(key) != hashlib.sha256().digest_size:
        raise ValueError(f"the {purpose} lock is taken on a SHA-256 digest, not {len(key)} bytes")
    else:
        chosen = key[start : start + 8]
    return int.from_bytes(chosen, "big", signed=True)


def hold_writes_lock(connection: Connection, lock: int, *, exclusive: bool, ending: str) -> None:
    """Take the advisory lock `lock` (PostgreSQL; SQLite runs one writer at a time) until the
    transaction ends: shared by each transaction of a request that writes with what the lock
    guards (an API key: `app.organisations.service.hold_key_writes`; a page session:
    `app.people.service.hold_session_writes`), exclusive by what `ending` names, which so waits
    for the writes under way. A shared request is taken only if no exclusive one holds or waits
    for the lock, else `LostRace` at once (`app.transient` reruns the request, then answers 503
    with Retry-After): waiting instead held a request slot, and letting it join the holders
    held the end off for as long as writes kept starting."""
    if connection.dialect.name != "postgresql":
        return
    if not take_advisory_lock(connection, lock, shared=not exclusive, wait=exclusive):
        raise LostRace(f"{ending} is under way")


def take_advisory_lock(connection: Connection, lock: int, *, shared: bool, wait: bool) -> bool:
    """Take the transaction-scoped advisory lock `lock` (PostgreSQL only), shared or exclusive:
    waiting for it (`wait`, always true), else at once, false where another transaction holds
    or waits for it in a conflicting mode."""
    taken = connection.execute(_advisory_lock_statement(shared, wait), {"lock": lock}).scalar()
    return wait or bool(taken)


@cache
def _advisory_lock_statement(shared: bool, wait: bool) -> Executable:
    """`pg_[try_]advisory_xact_lock[_shared](:lock)`."""
    name = f"pg_{'' if wait else 'try_'}advisory_xact_lock{'_shared' if shared else ''}"
    return select(getattr(func, name)(bindparam("lock", type_=BigInteger)))
