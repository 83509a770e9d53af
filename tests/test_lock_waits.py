"""The race tests' wait for a writer to reach a held lock (tests/locks.py) ends when the writer
waits for the transaction held open, not when some other backend of the database waits for some
other lock (a server's background worker, autovacuum, another test's transaction): then the
holder committed before the writer had read what the test means it to wait for, and the race
was not run (PostgreSQL; SQLite runs one writer at a time)."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlmodel import Session

from tests.conftest import DatabaseFactory
from tests.locks import backend_pid, commit_after_it_waits, wait_until_sessions_wait_for_locks

pytestmark = pytest.mark.usefixtures("no_deadlocks")

HOLD = text("SELECT id FROM rows WHERE id = :id FOR UPDATE")


@pytest.fixture
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    """A database of its own with two rows to lock."""
    if databases.backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    engine = create_engine(databases.new_url())
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE rows (id int PRIMARY KEY)"))
        connection.execute(text("INSERT INTO rows VALUES (1), (2)"))
    yield engine
    engine.dispose()


def waits_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        return (
            connection.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one_or_none()
            == "Lock"
        )


def until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError(what)


def test_a_lock_wait_of_another_backend_does_not_end_the_wait_for_the_writer(engine: Engine):
    """A bystander waits for row 2 while the holder holds row 1; the writer goes for row 1 only
    after the wait has polled twice. The holder commits only once the writer waits for it."""
    checker = create_engine(engine.url)
    polls, go, seen = [], threading.Event(), []

    @event.listens_for(engine, "after_cursor_execute")
    def count_polls(*args) -> None:  # type: ignore[no-untyped-def]
        if "pg_stat_activity" in args[2]:
            polls.append(1)
            if len(polls) == 2:
                go.set()

    with Session(checker) as bystanders_holder, Session(checker) as bystander:
        bystanders_holder.execute(HOLD, {"id": 2})
        bystander_pid = backend_pid(bystander)
        waiting = threading.Thread(target=lambda: bystander.execute(HOLD, {"id": 2}))
        waiting.start()
        until(lambda: waits_for_a_lock(checker, bystander_pid), "the bystander waits for no lock")
        writer = Session(checker)
        writer_pid = backend_pid(writer)

        def hold(holder: Session) -> None:
            holder.execute(HOLD, {"id": 1})

            @event.listens_for(holder, "before_commit")
            def note(_: Session) -> None:  # the holder is about to let the writer go
                seen.append(waits_for_a_lock(checker, writer_pid))
                go.set()

        def write() -> None:
            go.wait(timeout=120)
            writer.execute(HOLD, {"id": 1})
            writer.commit()

        commit_after_it_waits(engine, hold, write)
        bystanders_holder.commit()
        waiting.join(timeout=120)
        writer.close()
    checker.dispose()
    assert seen == [True]


def test_a_writer_that_waits_for_another_transactions_lock_fails_the_wait_saying_so(
    engine: Engine,
):
    """Waiting for a lock no holder is behind means the test does not run the race it means
    to: the wait fails, naming the backend it waited for, instead of letting the holder go."""
    with Session(engine) as holder, Session(engine) as other, Session(engine) as writer:
        holder.execute(HOLD, {"id": 1})
        other.execute(HOLD, {"id": 2})
        named = (backend_pid(holder), backend_pid(writer), backend_pid(other))
        thread = threading.Thread(target=lambda: writer.execute(HOLD, {"id": 2}))
        thread.start()
        try:
            with pytest.raises(AssertionError) as failed:
                wait_until_sessions_wait_for_locks(holder, thread, 1, timeout=1)
        finally:
            other.commit()
            thread.join(timeout=120)
        message = str(failed.value)
    held, waiting, waited_for = named
    assert f"(backend [{held}])" in message, message
    assert f"backend {waiting} (" in message and f"for [{waited_for}]" in message, message
