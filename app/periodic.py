"""A job that runs in a background thread of the server process: once at start, then every
`interval` seconds until stopped. A failed run is logged and the next one tries again.

Jobs must be safe to run in every replica at once (the database decides, not the process):
the retention job's updates are idempotent, the stall sweep's alert row is unique.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine
from sqlmodel import Session

from app.database import _sqlite_lock

log = logging.getLogger(__name__)


class PeriodicJob:
    """Subclasses implement `run_once`; `name` names the thread and the log lines."""

    name = "periodic-job"

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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # logged; the next round tries again
                log.exception("%s: run failed", self.name)
            self._stop.wait(self.interval)
