"""The deadlock count the race modules are checked with (tests/deadlocks.py) misses no deadlock:
one lost by a connection that went back to its pool is counted, also when its backend reported
its counts less than a second before (PostgreSQL then holds them back for ten seconds). A
deadlock takes `deadlock_timeout` to break, a second by default, so the test breaks its own
sooner (a superuser's setting: the suite's own server is run by one)."""

import pytest
from sqlalchemy import create_engine, make_url

from tests.conftest import PG, DatabaseFactory
from tests.deadlocks import deadlocks, lose_a_deadlock, this_process_reports


def test_a_deadlock_lost_right_after_a_count_is_in_the_next_count(databases: DatabaseFactory):
    if databases.backend != "postgresql":
        pytest.skip("PostgreSQL's deadlock count (SQLite runs one writer at a time)")
    url = databases.new_url()
    name = make_url(url).database or ""
    # A deadlock broken after 50 ms, well within the second after the first count.
    engine = create_engine(url, connect_args={"options": "-c deadlock_timeout=50ms"})
    admin = create_engine(PG.url)
    try:
        report = this_process_reports(admin, [name])
        before = deadlocks(admin, [name], report)  # the pooled backends report now
        errors = lose_a_deadlock(engine)  # by the same backends, within the second
        after = deadlocks(admin, [name], report)
    finally:
        engine.dispose()
        admin.dispose()
    assert len(errors) == 1
    assert sum((after - before).values()) == 1
