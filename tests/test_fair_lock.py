"""The SQLite process write lock serves waiting requests first come, first served."""

import threading
import time

import pytest

from app.database import FairLock


def _wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _queue(lock: FairLock, names: str, order: list[str]) -> list[threading.Thread]:
    """A thread per name that waits for `lock`, then appends its name to `order`; each has
    joined the queue before the next starts."""

    def take(name: str) -> None:
        with lock:
            order.append(name)

    threads = []
    for number, name in enumerate(names, start=1):
        thread = threading.Thread(target=take, args=(name,))
        thread.start()
        _wait_until(lambda number=number: lock.waiting() == number)  # type: ignore[misc]
        threads.append(thread)
    return threads


def test_waiting_threads_take_the_lock_in_the_order_they_asked() -> None:
    lock = FairLock()
    order: list[str] = []
    lock.acquire()
    threads = _queue(lock, "ABCD", order)
    lock.release()
    for thread in threads:
        thread.join(10)
    assert order == ["A", "B", "C", "D"]
    assert not lock.locked()


def test_a_release_hands_the_lock_to_the_waiter_not_to_whoever_asks_next() -> None:
    lock = FairLock()
    lock.acquire()
    got: list[str] = []
    waiter = threading.Thread(target=lambda: (lock.acquire(), got.append("waiter")))
    waiter.start()
    _wait_until(lambda: lock.waiting() == 1)
    lock.release()
    # The releasing thread, back for more (as the next request's would be), does not barge in.
    assert lock.acquire(blocking=False) is False
    waiter.join(10)
    assert got == ["waiter"]
    assert lock.locked()
    lock.release()  # another thread may release it (a request's dependency exits elsewhere)
    assert not lock.locked()


def test_releasing_an_unlocked_lock_is_an_error() -> None:
    lock = FairLock()
    try:
        lock.release()
    except RuntimeError:
        return
    raise AssertionError("released an unlocked lock")


def test_a_lock_with_slots_lets_that_many_in_and_queues_the_rest_in_order() -> None:
    # PostgreSQL's request slots: as many as the pool has connections.
    lock = FairLock(slots=2)
    assert lock.acquire() and lock.acquire(blocking=False)
    assert lock.locked() and not lock.acquire(blocking=False)
    order: list[str] = []
    threads = _queue(lock, "ABC", order)
    lock.release()  # one slot: each waiter in turn, handing it on to the next
    for thread in threads:
        thread.join(10)
    assert order == ["A", "B", "C"]
    assert not lock.locked()  # one slot free, one still ours
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()  # both are free: nothing to release
