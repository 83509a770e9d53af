"""The SQLite process write lock serves waiting requests first come, first served."""

import asyncio
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


def test_waiting_requests_take_the_lock_in_the_order_they_asked_on_the_event_loop() -> None:
    async def scenario() -> list[str]:
        lock = FairLock()
        order: list[str] = []
        await lock.acquire_async()

        async def take(name: str) -> None:
            await lock.acquire_async()
            order.append(name)
            lock.release()

        tasks = []
        for number, name in enumerate("ABCD", start=1):
            tasks.append(asyncio.create_task(take(name)))
            while lock.waiting() < number:
                await asyncio.sleep(0)
        lock.release()
        await asyncio.gather(*tasks)
        assert not lock.locked()
        return order

    assert asyncio.run(scenario()) == ["A", "B", "C", "D"]


def test_a_thread_and_a_request_share_one_queue_first_come_first_served() -> None:
    # `outside_transaction` takes the lock back from a worker thread; requests wait on the loop.
    async def scenario() -> list[str]:
        lock = FairLock()
        order: list[str] = []
        await lock.acquire_async()
        thread = threading.Thread(target=lambda: (lock.acquire(), order.append("thread")))
        thread.start()
        while lock.waiting() < 1:
            await asyncio.sleep(0.001)

        async def request() -> None:
            await lock.acquire_async()
            order.append("request")
            lock.release()

        task = asyncio.create_task(request())
        while lock.waiting() < 2:
            await asyncio.sleep(0)
        lock.release()  # to the thread, which asked first
        await asyncio.to_thread(thread.join, 10)
        assert order == ["thread"]
        lock.release()  # the thread's turn ends (another thread may release): the request's
        await asyncio.wait_for(task, 10)
        return order

    assert asyncio.run(scenario()) == ["thread", "request"]


async def _held_with_one_waiting() -> tuple[FairLock, "asyncio.Task[None]"]:
    """A lock held by the caller, and a task waiting for it."""
    lock = FairLock()
    await lock.acquire_async()
    waiting = asyncio.create_task(lock.acquire_async())
    while lock.waiting() < 1:
        await asyncio.sleep(0)
    return lock, waiting


def test_a_request_cancelled_while_waiting_leaves_the_queue() -> None:
    async def scenario() -> None:
        lock, waiting = await _held_with_one_waiting()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert lock.waiting() == 0
        lock.release()
        assert not lock.locked()

    asyncio.run(scenario())


def test_a_request_cancelled_after_the_lock_was_handed_to_it_gives_it_back() -> None:
    async def scenario() -> None:
        lock, waiting = await _held_with_one_waiting()
        lock.release()  # handed over: the waiter owns it now, before it runs again
        waiting.cancel()  # and is cancelled before it could use it
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert not lock.locked()  # the slot came back, not lost
        assert lock.acquire(blocking=False)

    asyncio.run(scenario())
