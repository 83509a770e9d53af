"""Waiting, in a test, for a transaction to reach a lock another one holds (PostgreSQL)."""

import threading

from sqlalchemy import Engine, text


def wait_until_a_session_waits_for_a_lock(engine: Engine, writer: threading.Thread) -> None:
    """PostgreSQL: until another backend of this database waits on a row lock, or `writer` has
    ended without waiting (then the test's assertions on its outcome say what it did).

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
            if seen or not writer.is_alive():
                return
            threading.Event().wait(0.01)
    raise AssertionError("the write never waited for a lock of the transaction held open")
