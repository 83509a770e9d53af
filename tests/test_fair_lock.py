"""The SQLite write lock serves waiting requests first come, first served."""

import threading
import time

from app.database import FairLock


def _wait_until(condition) -> None:  # type: ignore[no-untyped-def]
    while not condition():
        time.sleep(0.001)


def test_the_lock_is_handed_to_its_waiters_in_the_order_they_asked():
    lock = FairLock()
    served: list[int] = []
    lock.acquire()

    def request(number: int) -> None:
        with lock:
            served.append(number)

    threads = []
    for number in range(12):
        thread = threading.Thread(target=request, args=(number,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=number: len(lock._waiters) == n + 1)
    lock.release()
    for thread in threads:
        thread.join()
    assert served == list(range(12))


def test_the_lock_admits_one_holder_at_a_time():
    lock = FairLock()
    inside = [0]
    most = [0]

    def work() -> None:
        for _ in range(500):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_releasing_an_unheld_lock_is_an_error():
    lock = FairLock()
    try:
        lock.release()
    except RuntimeError:
        return
    raise AssertionError("released a lock nobody held")
