"""Waiting, in a test, for a transaction to reach a lock another one holds (PostgreSQL)."""

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session


def wait_until_a_session_waits_for_a_lock(engine: Engine, writer: threading.Thread) -> None:
    """PostgreSQL: until another backend of this database waits on a row lock, or `writer` has
    ended without waiting (then the test's assertions on its outcome say what it did)."""
    wait_until_sessions_wait_for_locks(engine, writer, 1)


def wait_until_sessions_wait_for_locks(
    engine: Engine, writer: threading.Thread, count: int
) -> None:
    """PostgreSQL: until `count` other backends of this database wait on a lock, or `writer`
    has ended without waiting.

    Each poll is its own transaction: PostgreSQL takes one snapshot of pg_stat_activity per
    transaction, so polling inside one transaction saw the activity of the first poll forever and
    missed a push that reached its lock wait later (a full run under load, never a run alone)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as connection:
        for _ in range(6000):
            seen = connection.execute(waiting).scalar_one()
            connection.rollback()  # ends the transaction and with it the activity snapshot
            if seen >= count or not writer.is_alive():
                return
            threading.Event().wait(0.01)
    raise AssertionError("the write never waited for a lock of the transaction held open")


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
            wait_until_a_session_waits_for_a_lock(engine, writer)
        holder.commit()
    writer.join(timeout=120)
