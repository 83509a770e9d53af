"""Database engines, one transaction on an engine, and computing outside the transaction.

SQLite is the embedded default; PostgreSQL (postgresql+psycopg://) is the production database.
FastAPI-free, so services can use it; `app.db` gives a request the application's engine, session
and settings as FastAPI dependencies.
"""

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
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


def build_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """Create an engine for `url` with the settings each dialect needs.

    Migrations pass foreign_keys=False: SQLite's batch mode recreates tables, which enforced
    foreign keys would refuse.
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
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=10)


class FairLock:
    """A lock taken in the order it was asked for (first come, first served), which a thread
    other than the one that took it may release (like `threading.Lock`).

    `threading.Lock` wakes a waiter on release but lets any thread that asks meanwhile take it
    first, so the thread that just released it (back with the next request) can take it again
    ahead of requests that have waited longer. Here a release hands the lock to the longest
    waiting thread directly (tests/test_fair_lock.py)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._locked = False

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock, waiting behind every thread that asked before (unless not
        `blocking`: then False at once when it is taken)."""
        with self._mutex:
            if not self._locked:
                self._locked = True
                return True
            if not blocking:
                return False
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by `release`, which hands the lock over to this thread
        return True

    def release(self) -> None:
        with self._mutex:
            if not self._locked:
                raise RuntimeError("release unlocked lock")
            if self._waiters:
                self._waiters.popleft().release()  # still locked: now the waiter's
            else:
                self._locked = False

    def locked(self) -> bool:
        return self._locked

    def waiting(self) -> int:
        """How many threads wait for the lock."""
        return len(self._waiters)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


# SQLite has one writer at a time and every request writes (access log, key last-used time).
# Waiting on this lock instead of SQLite's busy handler, which sleeps in growing steps, keeps the
# tail latency of concurrent requests close to the median; first come, first served.
_sqlite_lock = FairLock()
_WRITE_LOCK = "uitstroom_write_lock"  # session.info key: the process lock this session holds


def write_lock(engine: Engine) -> FairLock | None:
    """The lock a request on `engine` holds for its transaction: the process write lock on
    SQLite, none on PostgreSQL."""
    return _sqlite_lock if engine.dialect.name == "sqlite" else None


def open_session(engine: Engine, lock: FairLock | None) -> Session:
    """A request's session, whose caller holds `lock` (`write_lock`) already; no I/O until its
    first statement. On SQLite the lock is held for the whole transaction, except inside
    `outside_transaction` (heavy computation). End it with `end_session`."""
    session = Session(engine, expire_on_commit=False)
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


@contextmanager
def outside_transaction(session: Session) -> Iterator[None]:
    """Run heavy computation without holding the database: commit what the request has done so
    far (the key's last-used time, nothing else in the routes that use this), release the SQLite
    process lock, and take it back afterwards. The next statement on `session` begins a new
    transaction (BEGIN IMMEDIATE on SQLite), so whatever the caller writes afterwards is short.

    The caller must not rely on the rows it loaded staying unchanged: it computes from values it
    copied out (plain rows, not ORM objects it later writes) and re-checks what it writes
    depends on (publish compares versions; see `app.meetings.service.publish`). A session the
    tests share across a rolled-back transaction carries no lock; commit then ends only its
    savepoint.
    """
    session.commit()
    lock = session.info.get(_WRITE_LOCK)
    if lock is not None:
        lock.release()
    try:
        yield
    finally:
        if lock is not None:
            lock.acquire()


class LostRace(Exception):
    """A write found that a concurrent request got there first in a way the service cannot
    answer for (a row it was about to insert appeared). The request's transaction is rolled
    back and `app.transient` runs the request again, which then sees the other's row."""
