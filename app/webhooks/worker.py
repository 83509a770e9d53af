"""The delivery worker: a thread that sends due webhook deliveries from the outbox.

It leases deliveries (`service.claim_due_deliveries`), POSTs them signed with httpx, and records
each outcome in its own short transaction: delivered on 2xx, otherwise a retry after a growing,
jittered delay, and `failed` after the last attempt. Any number of workers, in one process or
many, may run against the same database. Delivery is at least once: an attempt whose answer is
lost (a timeout, a crash before the outcome is recorded) is repeated with the same `webhook-id`,
on which receivers deduplicate.
"""

import logging
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from app.database import _sqlite_lock
from app.sqltypes import utcnow
from app.webhooks import service
from app.webhooks.service import ClaimedDelivery
from app.webhooks.signing import webhook_headers
from app.webhooks.targets import Target, TargetRefused, pin_public_target

log = logging.getLogger(__name__)

# After attempt n fails, the next waits RETRY_DELAYS[n-1], the last one repeating: with 12
# attempts, the last is made about 58 hours after the first.
RETRY_DELAYS_SECONDS = (10.0, 30.0, 120.0, 600.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
USER_AGENT = "uitstroomtafel-webhooks/1"


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS
    max_attempts: int = 12
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    timeout: float = 10.0  # per HTTP attempt
    lease: float = 60.0  # must outlast one attempt; an expired lease is retried by any worker
    concurrency: int = 8  # deliveries in flight at once
    poll: float = 1.0  # how often to look for due retries (new events wake the worker at once)
    max_error_pause: float = 30.0
    # Endpoints are registered by organisations; without this, a URL resolving to a loopback,
    # private, link-local or otherwise non-public address is refused (no SSRF into our network).
    allow_private_targets: bool = False

    def retry_delay(self, attempt: int) -> float:
        base = self.retry_delays[min(attempt, len(self.retry_delays)) - 1]
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        policy: DeliveryPolicy | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        name: str = "webhook-worker",
    ) -> None:
        self.engine = engine
        self.policy = policy or DeliveryPolicy()
        self.name = name
        self._transport = transport
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "DeliveryWorker":
        if self._thread is not None:
            raise RuntimeError("a worker starts once; create a new one")
        service.register_wake_event(self._wake)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Stop claiming, let deliveries in flight finish and be recorded, then return.

        Returns False if the thread was still busy after `timeout` (default: one HTTP attempt
        and some), which only happens when recording an outcome hangs on the database.
        """
        self._stopping.set()
        self._wake.set()
        service.unregister_wake_event(self._wake)
        if self._thread is None:
            return True
        self._thread.join(self.policy.timeout + 5 if timeout is None else timeout)
        stopped = not self._thread.is_alive()
        if not stopped:
            log.warning("%s: still finishing deliveries at shutdown", self.name)
        return stopped

    def wake(self) -> None:
        self._wake.set()

    # --- the loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        client = httpx.Client(
            timeout=self.policy.timeout,
            follow_redirects=False,
            transport=self._transport,
            headers={"user-agent": USER_AGENT},
        )
        pool = ThreadPoolExecutor(self.policy.concurrency, thread_name_prefix=self.name)
        errors = 0
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    all_slots_filled = self._fill(pool, client)
                    errors = 0
                except Exception:
                    errors = min(errors + 1, 16)
                    log.exception("%s: claiming deliveries failed", self.name)
                    pause = min(self.policy.poll * 2**errors, self.policy.max_error_pause)
                    self._stopping.wait(pause)
                    continue
                if not all_slots_filled:  # else more may be due at once
                    self._wake.wait(self.policy.poll)  # woken by new events and finished sends
        finally:
            pool.shutdown(wait=True)
            client.close()

    def _fill(self, pool: ThreadPoolExecutor, client: httpx.Client) -> bool:
        """Claim due deliveries for the free slots and start sending them; True if all filled."""
        free = self.policy.concurrency - self._in_flight
        if free <= 0:
            return False
        claimed = self._claim(free)
        for delivery in claimed:
            with self._in_flight_lock:
                self._in_flight += 1
            pool.submit(self._deliver, client, delivery).add_done_callback(self._done)
        return len(claimed) == free

    def _done(self, _: Future[None]) -> None:
        with self._in_flight_lock:
            self._in_flight -= 1
        self._wake.set()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        # The app serialises SQLite writers on this lock; never hold it during an HTTP call.
        lock = _sqlite_lock if self.engine.dialect.name == "sqlite" else nullcontext()
        with lock, Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _claim(self, limit: int) -> list[ClaimedDelivery]:
        with self._transaction() as session:
            return service.claim_due_deliveries(
                session, now=utcnow(), limit=limit, lease=timedelta(seconds=self.policy.lease)
            )

    def _deliver(self, client: httpx.Client, delivery: ClaimedDelivery) -> None:
        try:
            status_code, error = self._send(client, delivery)
            self._record(delivery, status_code, error, utcnow())
        except Exception:
            # The lease runs out and another attempt follows; nothing is lost.
            log.exception("%s: delivery %s could not be recorded", self.name, delivery.delivery_id)

    def _send(
        self, client: httpx.Client, delivery: ClaimedDelivery
    ) -> tuple[int | None, str | None]:
        """POST one attempt: (status code, None) when accepted, else (status code?, reason)."""
        target = Target(delivery.url)
        if not self.policy.allow_private_targets:
            try:
                target = pin_public_target(delivery.url)
            except TargetRefused as refused:
                return None, str(refused)
        timestamp = int(time.time())
        headers = webhook_headers(delivery.secret, str(delivery.event_id), timestamp, delivery.body)
        try:
            # Streamed and never read: a receiver's answer body is not our business.
            with client.stream(
                "POST",
                target.url,
                content=delivery.body,
                headers={**headers, **target.headers},
                extensions=target.extensions,
            ) as r:
                status_code = r.status_code
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a URL httpx refuses, say: a failed attempt like any other
            return None, type(exc).__name__
        if 200 <= status_code < 300:
            return status_code, None
        return status_code, f"HTTP {status_code}"

    def _record(
        self, delivery: ClaimedDelivery, status_code: int | None, error: str | None, now: datetime
    ) -> None:
        with self._transaction() as session:
            if status_code is not None and error is None:
                kept = service.record_delivered(session, delivery, status_code=status_code, now=now)
            else:
                retry_at = None
                if delivery.attempt < self.policy.max_attempts:
                    retry_at = now + timedelta(seconds=self.policy.retry_delay(delivery.attempt))
                kept = service.record_failure(
                    session,
                    delivery,
                    status_code=status_code,
                    error=error or "failed",
                    retry_at=retry_at,
                )
        if not kept:
            log.warning("%s: lease on delivery %s was lost", self.name, delivery.delivery_id)


def start_worker(
    engine: Engine, poll_seconds: float, allow_private_targets: bool = False
) -> DeliveryWorker:
    """The worker the app runs in its lifespan."""
    policy = DeliveryPolicy(poll=poll_seconds, allow_private_targets=allow_private_targets)
    return DeliveryWorker(engine, policy).start()
