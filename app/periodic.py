"""A job that runs in a background thread of the server process: a round at start, then one
every `interval` seconds until stopped (a leased job's round only when its lease is due and
this process wins it). A failed run is logged and the next one tries again.

Every server process starts the same jobs. A job with `leased = True` runs each round in one
process only: before a round the loop claims the job's lease in the database
(`app.job_leases`), and the processes that did not win it skip the round. The jobs stay safe to
run in several processes at once all the same (the retention job's updates are idempotent, the
stall sweep's alert row is unique), so a lease lost to a crash costs at most one round.
`run_once` itself never looks at the lease: the CLI and the tests call it to run a round now.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from app.database import _sqlite_lock, log_round_failure
from app.job_leases import claim_round
from app.sqltypes import utcnow

log = logging.getLogger(__name__)


class PeriodicJob:
    """Subclasses implement `run_once`; `name` names the thread and the log lines."""

    name = "periodic-job"
    leased = False
    """Whether a round runs in one process only (see the module's docstring)."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def run_once(self) -> int:
        raise NotImplementedError

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the job's engine; on SQLite under the process write lock, as requests
        write (the caller commits)."""
        lock = _sqlite_lock if self.engine.dialect.name == "sqlite" else nullcontext()
        with lock, Session(self.engine) as session:
            yield session

    def start(self) -> "PeriodicJob":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def claim(self) -> bool:
        """Whether this process runs the current round: always for a job without a lease,
        else only if it claims the lease (committed at once, so the others see it)."""
        if not self.leased:
            return True
        with self.session() as session:
            ours = claim_round(session, self.name, timedelta(seconds=self.interval), utcnow())
            session.commit()
        return ours

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.claim():
                    self.run_once()
            except Exception as error:  # logged; the next round tries again
                log_round_failure(log, error, "%s: run failed", self.name)
            self._stop.wait(self.interval)
