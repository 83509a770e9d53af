"""A background job's failed round: one warning line when the database is unavailable (every
process's jobs fail alike at each restart, and the next round outlives it), its traceback when
the failure is anything else (a bug someone must see)."""

import logging
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app.database import database_unavailable
from app.periodic import PeriodicJob
from tests.served import free_port


def _refused_connection() -> OperationalError:
    """The error a pooled connection meets while PostgreSQL restarts: nobody listens."""
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(OperationalError) as raised, engine.connect():
        pass
    return raised.value


def _syntax_error() -> OperationalError:
    """An error of the statement itself (a bug): the database was there and answered."""
    engine = create_engine("sqlite://")
    with pytest.raises(OperationalError) as raised, engine.connect() as connection:
        connection.execute(text("SELEC 1"))
    return raised.value


class _FailingJob(PeriodicJob):
    name = "failing-job"

    def __init__(self, error: Exception) -> None:
        super().__init__(create_engine("sqlite://"), interval=3600)
        self.error = error
        self.ran = threading.Event()

    def run_once(self) -> int:
        self.ran.set()
        raise self.error


def _one_round(error: Exception, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    job = _FailingJob(error)
    with caplog.at_level(logging.WARNING, logger="app.periodic"):
        job.start()
        assert job.ran.wait(30)
        job.stop()
    return [r for r in caplog.records if r.name == "app.periodic"]


def test_a_round_failing_on_an_unavailable_database_logs_one_line_without_traceback(caplog):
    [record] = _one_round(_refused_connection(), caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage().startswith("failing-job: run failed: the database is unavailable")
    assert "\n" not in record.getMessage()


def test_a_round_failing_on_a_bug_logs_its_traceback(caplog):
    [record] = _one_round(_syntax_error(), caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.getMessage() == "failing-job: run failed"


def test_a_refused_or_closed_connection_is_an_unavailable_database():
    assert database_unavailable(_refused_connection())


def test_a_statement_the_database_refuses_is_no_unavailable_database():
    assert not database_unavailable(_syntax_error())
    assert not database_unavailable(ValueError("a bug"))
