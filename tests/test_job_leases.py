"""A periodic job's round runs in one server process: the lease row in the database decides."""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.job_leases import JobLease, claim_round
from app.periodic import PeriodicJob
from app.sqltypes import utcnow

pytestmark = pytest.mark.usefixtures("no_deadlocks")

INTERVAL = timedelta(minutes=10)


class Counting(PeriodicJob):
    def __init__(self, engine, name: str, leased: bool) -> None:  # type: ignore[no-untyped-def]
        super().__init__(engine, INTERVAL.total_seconds())
        self.name = name
        self.leased = leased


def _claim(engine, name: str, now) -> bool:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        ours = claim_round(session, name, INTERVAL, now)
        session.commit()
    return ours


def test_a_round_is_claimed_once_and_the_next_one_after_the_interval(engine):
    name, now = f"job-{uuid.uuid4().hex[:8]}", utcnow()
    assert _claim(engine, name, now) is True
    assert _claim(engine, name, now) is False
    assert _claim(engine, name, now + INTERVAL - timedelta(seconds=1)) is False
    assert _claim(engine, name, now + INTERVAL) is True
    with Session(engine) as session:
        lease = session.get(JobLease, name)
        assert lease is not None and lease.due_at == now + 2 * INTERVAL


def test_of_two_processes_that_look_at_once_one_runs_the_round(engine):
    name, now = f"job-{uuid.uuid4().hex[:8]}", utcnow()
    barrier = threading.Barrier(6)
    won: list[bool] = []

    def look() -> None:
        barrier.wait()
        won.append(_claim(engine, name, now))

    threads = [threading.Thread(target=look) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 5 + [True]


def test_a_leased_job_skips_a_round_another_process_claimed_and_an_unleased_one_never_does(
    engine,
):
    name = f"job-{uuid.uuid4().hex[:8]}"
    first, second = Counting(engine, name, leased=True), Counting(engine, name, leased=True)
    assert first.claim() is True
    assert second.claim() is False
    unleased = Counting(engine, f"job-{uuid.uuid4().hex[:8]}", leased=False)
    assert unleased.claim() is True and unleased.claim() is True
