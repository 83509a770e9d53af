"""How many deadlocks PostgreSQL broke in a test's databases: a module that races writers must
make it break none.

A deadlock costs no client anything visible: `app.transient` runs the loser again (logged at
info only), so the answers stay right and come a second late, and a race test that only looks
at the answers passes. PostgreSQL counts every deadlock it breaks in `pg_stat_database.deadlocks`,
the row of the database it happened in, so a module's deadlocks are that count after it less the
count before it, over the databases the module used (those of this test process: each xdist
worker makes its own).

PostgreSQL (15) adds a backend's counts to `pg_stat_database` when the backend goes idle at least
`STATS_MIN_INTERVAL` after it last did, else `STATS_IDLE_INTERVAL` later (`PGSTAT_MIN_INTERVAL`,
`PGSTAT_IDLE_INTERVAL` in pgstat.c), and when it exits; `pg_stat_force_next_flush()` only
flushes the backend that calls it. A deadlock is counted by the backend that lost it, which its
owner rolled back and gave back to a pool. So every count has every backend of the databases
end one short transaction (`report`: the caller knows how to reach them), and only then reads
the row. A backend this process holds in a pool is asked to flush at that transaction's end
(`pg_stat_force_next_flush()`, PostgreSQL 15); a backend reached another way (a served
app's, through requests) can only be made to report by waiting a quiet second first
(`STATS_MIN_INTERVAL`), which its `report` does.
"""

import gc
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Collection

from sqlalchemy import Connection, Engine, QueuePool, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

STATS_MIN_INTERVAL = 1.0
STATS_IDLE_INTERVAL = 10.0

_COUNT = text("SELECT datname, deadlocks FROM pg_stat_database WHERE datname = ANY(:databases)")


def deadlocks(
    engine: Engine, databases: Collection[str], report: Callable[[], None]
) -> "Counter[str]":
    """The deadlocks PostgreSQL broke so far in each of `databases` (names; those of this test
    process only, another process's are not ours to count), every one counted: `report` makes
    every backend of those databases report what it holds (end one short transaction with its
    counts flushed, or exit), and `engine` (any database of the server) reads their rows. Those
    broken between two counts: `sum((after - before).values())` (a database made in between
    counts from 0, a dropped one not at all)."""
    if not databases:
        return Counter()
    report()
    with engine.connect() as connection:
        rows = connection.execute(_COUNT, {"databases": list(databases)}).all()
    return Counter({name: int(count) for name, count in rows})


def check(broken: int, module: str, between: str) -> None:
    """Fail module `module` (its short name) when PostgreSQL broke `broken` deadlocks during
    it `between` the transactions named."""
    said = (
        f"PostgreSQL broke {broken} deadlock(s) in {module} between {between}: the loser was "
        "run again (as the transient layer does), a second late (find the statements: "
        "log_lock_waits, and 'deadlock detected' in PostgreSQL's log)"
    )
    assert broken == 0, said


# --- the backends of this process ------------------------------------------------------------

_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@event.listens_for(Engine, "engine_connect")
def _remember(connection: Connection) -> None:
    """Every engine of this process that connected, while it lives (a test's, an app's)."""
    _ENGINES.add(connection.engine)


_OTHER_BACKENDS = text(
    "SELECT pid FROM pg_stat_activity WHERE datname = ANY(:databases) "
    "AND backend_type = 'client backend' AND pid <> ALL(:ours) "
    "AND NOT (state = 'idle' AND state_change < now() - make_interval(secs => :idle))"
)


def this_process_reports(engine: Engine, databases: Collection[str]) -> Callable[[], None]:
    """A `report` for the backends this test process opened in `databases`: each idle
    connection in the pool of each of its engines on them ends one transaction that asks for
    its counts to be flushed at its end, however recently they last were (first the
    garbage is collected: a connection given back after its engine was disposed, as when two
    TestClients of one app each shut it down, sits in a pool nothing refers to, idle, until then;
    collected, it closes and its backend exits and reports); then it waits
    until every other backend of those databases has exited (a disposed engine's, a stopped
    server's: a backend reports as it exits) or has been idle long enough to have reported on
    its own (`STATS_IDLE_INTERVAL`), at most as long as that."""
    names = set(databases)

    def report() -> None:
        gc.collect()
        ours: list[int] = []
        for pooled in [e for e in list(_ENGINES) if e.url.database in names]:
            # A QueuePool's idle connections; a NullPool (migrations') keeps none.
            idle = pooled.pool.checkedin() if isinstance(pooled.pool, QueuePool) else 0
            held = [pooled.connect() for _ in range(idle)]  # the idle ones, each once
            for connection in held:
                try:
                    pid = connection.exec_driver_sql(
                        "SELECT pg_backend_pid() FROM pg_stat_force_next_flush()"
                    ).scalar_one()
                except DBAPIError:  # its backend is gone (a test ended it), and reported then
                    continue
                ours.append(pid)
            for connection in held:
                connection.close()  # the rollback ends its transaction: it reports
        idle = STATS_IDLE_INTERVAL + 0.5
        deadline = time.monotonic() + STATS_IDLE_INTERVAL + 1
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                others = connection.execute(
                    _OTHER_BACKENDS,
                    {"databases": list(names), "ours": ours, "idle": idle},
                ).all()
            if not others:
                return
            time.sleep(0.05)

    return report


def lose_a_deadlock(engine: Engine) -> list[OperationalError]:
    """Two connections of `engine` (PostgreSQL) each lock a row of a new table `pair` and then
    wait for the other's: PostgreSQL breaks the deadlock after `deadlock_timeout` (a second by
    default) and the loser rolls back. Both connections go back to `engine`'s pool. The errors
    the connections saw: the loser's alone."""
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE pair (id int primary key, n int)"))
        setup.execute(text("INSERT INTO pair VALUES (1, 0), (2, 0)"))
    first, second = engine.connect(), engine.connect()
    first.begin()
    second.begin()
    first.execute(text("UPDATE pair SET n = 1 WHERE id = 1"))
    second.execute(text("UPDATE pair SET n = 1 WHERE id = 2"))
    errors: list[OperationalError] = []

    def cross(connection: Connection, row: int) -> None:
        try:
            connection.execute(text("UPDATE pair SET n = 2 WHERE id = :row"), {"row": row})
        except OperationalError as exc:
            errors.append(exc)
            connection.rollback()

    threads = [
        threading.Thread(target=cross, args=(first, 2)),
        threading.Thread(target=cross, args=(second, 1)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    first.close()
    second.close()
    return errors
