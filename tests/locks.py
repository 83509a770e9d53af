"""Waiting, in a test, for a transaction to reach a lock another one holds (PostgreSQL)."""

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

WAIT_SECONDS = 120.0  # as long as the tests wait for their writers to end (`join(timeout=120)`)

# Every backend of this database that waits for a heavyweight lock (a row's, a table's, an
# advisory one), with the backends it waits for: those holding the lock, and those queued for
# it ahead of it (`pg_blocking_pids`).
_WAITING = text(
    "SELECT pid, pg_blocking_pids(pid), application_name, wait_event, left(query, 120) "
    "FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def backend_pid(session: Session) -> int:
    """The PostgreSQL backend of `session`'s transaction (begun if it was not)."""
    pid: int = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    return pid


def wait_until_a_session_waits_for_a_lock(holder: Session, writer: threading.Thread) -> None:
    """PostgreSQL: until a backend waits for a lock `holder`'s transaction holds, or `writer`
    has ended without waiting (then the test's assertions on its outcome say what it did)."""
    wait_until_sessions_wait_for_locks(holder, writer, 1)


def wait_until_sessions_wait_for_locks(
    holders: Session | Sequence[Session],
    writer: threading.Thread,
    count: int,
    timeout: float = WAIT_SECONDS,
) -> None:
    """PostgreSQL: until `count` backends wait for a lock one of `holders` holds, directly or
    behind another backend that does (queued for the same row, or waiting for one of that
    backend's locks), or until `writer` has ended.

    Only waits that end with the holders' transactions count: a lock wait elsewhere in the
    database (a server's background worker, autovacuum, a transaction another test left) let
    the wait end while the writer had not reached its lock, and the holder then committed
    before the writer read what the test means it to wait for. A writer that waits for a lock
    no holder is behind fails the test after `timeout` seconds, saying what waited for whom.

    Each poll is its own transaction: PostgreSQL takes one snapshot of pg_stat_activity per
    transaction, so polling inside one transaction saw the activity of the first poll forever and
    missed a push that reached its lock wait later (a full run under load, never a run alone)."""
    sessions = [holders] if isinstance(holders, Session) else list(holders)
    pids = {backend_pid(session) for session in sessions}
    engine = sessions[0].connection().engine
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while True:
            waiting = connection.execute(_WAITING).all()
            connection.rollback()  # ends the transaction and with it the activity snapshot
            if len(_behind(pids, waiting)) >= count or not writer.is_alive():
                return
            if time.monotonic() > deadline:
                raise AssertionError(_no_wait(pids, count, waiting, timeout))
            threading.Event().wait(0.01)


def _behind(holders: set[int], waiting: Sequence[Any]) -> set[int]:
    """The waiting backends that wait for one of `holders`, directly or through other waiters."""
    blocked_by = {row[0]: set(row[1] or ()) for row in waiting}
    behind: set[int] = set()
    ahead = set(holders)
    while True:
        more = {pid for pid, blockers in blocked_by.items() if blockers & ahead} - behind
        if not more:
            return behind
        behind |= more
        ahead |= more


def _no_wait(holders: set[int], count: int, waiting: Sequence[Any], timeout: float) -> str:
    seen = "".join(
        f"\n  backend {pid} ({name or 'no application_name'}) waits on {event} for "
        f"{sorted(blockers or ())}: {query}"
        for pid, blockers, name, event, query in waiting
    )
    return (
        f"after {timeout:.0f} s fewer than {count} backends waited for a lock of the "
        f"transaction held open (backend {sorted(holders)}); lock waits in this database:"
        f"{seen or ' none'}"
    )


def commit_after_it_waits(
    engine: Engine, hold: Callable[[Session], Any], run: Callable[[], Any]
) -> None:
    """`hold` runs and keeps its transaction open while `run` starts in another thread (on
    PostgreSQL until it waits for one of `hold`'s locks, or has ended); then `hold` commits and
    `run` is waited for."""
    with Session(engine) as holder:
        hold(holder)
        writer = threading.Thread(target=run)
        writer.start()
        if engine.dialect.name == "postgresql":
            wait_until_a_session_waits_for_a_lock(holder, writer)
        holder.commit()
    writer.join(timeout=120)


def takes_the_next_while_it_waits(
    holder: Session, writer: threading.Thread, take: Callable[[Session], Any]
) -> bool:
    """PostgreSQL: starts `writer`; once it waits for a lock `holder` holds, whether
    `take(holder)` gets the next lock without waiting (`take` asks NOWAIT, or a row it inserts
    waits `SET LOCAL lock_timeout` at most: an OperationalError says the writer holds it, as it
    would in a deadlock). Then rolls `holder` back, which lets the writer go on, and waits for
    the writer to end."""
    writer.start()
    wait_until_a_session_waits_for_a_lock(holder, writer)
    try:
        with holder.begin_nested():
            take(holder)
        took = True
    except OperationalError:
        took = False
    holder.rollback()
    writer.join(timeout=WAIT_SECONDS)
    return took
