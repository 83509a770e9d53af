"""The delivery worker: a thread that sends due webhook deliveries from the outbox.

It leases deliveries (`outbox.claim_due_deliveries`: at most one attempt per endpoint in flight,
organisations served round-robin), POSTs them signed with httpx, and records each outcome in its
own short transaction: delivered on 2xx, otherwise a retry after a growing, jittered delay, and
`failed` after the last attempt. Any number of workers, in one process or many, may run against
the same database.

Each attempt runs under one deadline for the whole exchange (name lookup, connect, sending, the
answer's status line and headers): a receiver that trickles its answer byte by byte is cut off
when the deadline passes, however steadily it sends. Attempts are asyncio tasks, so cancelling
one at its deadline closes its connection. The lease outlives the deadline with a margin for
recording the outcome, so no other worker takes the delivery while an attempt can still be in
flight. Delivery is at least once: an attempt whose answer is lost (the deadline, a crash before
the outcome is recorded) is repeated later with the same `webhook-id`, on which receivers
deduplicate.
"""

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from app.database import _sqlite_lock, log_round_failure
from app.sqltypes import utcnow
from app.webhooks import outbox, service
from app.webhooks.outbox import ClaimedDelivery
from app.webhooks.signing import webhook_headers
from app.webhooks.targets import TargetRefused, pin_public_target

log = logging.getLogger(__name__)

# After attempt n fails, the next waits RETRY_DELAYS[n-1], the last one repeating: with 12
# attempts, the last is made about 58 hours after the first.
RETRY_DELAYS_SECONDS = (10.0, 30.0, 120.0, 600.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
USER_AGENT = "uitstroomtafel-webhooks/1"
DEADLINE_EXCEEDED = "timeout (attempt deadline passed)"


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS
    max_attempts: int = 12
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    # Seconds for one whole attempt, from the name lookup to the answer's last header byte.
    timeout: float = 10.0
    # Seconds a claim holds the delivery and its endpoint. At least 1.5 x `timeout`: the rest is
    # the time to record the outcome (and to absorb clock skew between processes).
    lease: float = 60.0
    concurrency: int = 8  # attempts in flight at once in this worker
    # Attempts of one organisation in flight at once, over every worker; None: concurrency // 2,
    # so one organisation's slow receivers always leave slots for the others.
    max_per_organisation: int | None = None
    poll: float = 1.0  # how often to look for due retries (new events wake the worker at once)
    max_error_pause: float = 30.0
    # Endpoints are registered by organisations; without this, a URL resolving to a loopback,
    # private, link-local or otherwise non-public address is refused (no SSRF into our network).
    # With it, link-local and cloud metadata addresses are still refused.
    allow_private_targets: bool = False

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.lease < 1.5 * self.timeout:
            raise ValueError("the lease must outlast an attempt: lease >= 1.5 x timeout > 0")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")

    @property
    def organisation_limit(self) -> int:
        if self.max_per_organisation is not None:
            return self.max_per_organisation
        return max(1, self.concurrency // 2)

    def retry_delay(self, attempt: int) -> float:
        base = self.retry_delays[min(attempt, len(self.retry_delays)) - 1]
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        policy: DeliveryPolicy | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = "webhook-worker",
    ) -> None:
        self.engine = engine
        self.policy = policy or DeliveryPolicy()
        self.name = name
        self._transport = transport
        self._stopping = threading.Event()
        self._wake = threading.Event()
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
        """Stop claiming, let attempts in flight end (by their deadline at the latest) and be
        recorded, then return.

        Returns False if the thread was still busy after `timeout` (default: the lease), which
        only happens when recording an outcome hangs on the database.
        """
        self._stopping.set()
        self._wake.set()
        service.unregister_wake_event(self._wake)
        if self._thread is None:
            return True
        self._thread.join(self.policy.lease if timeout is None else timeout)
        stopped = not self._thread.is_alive()
        if not stopped:
            log.warning("%s: still finishing deliveries at shutdown", self.name)
        return stopped

    def wake(self) -> None:
        self._wake.set()

    # --- the loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        # Database calls and name lookups run in threads; a lookup hanging past its attempt's
        # deadline keeps its thread, so give the pool room beyond the attempts in flight.
        threads = ThreadPoolExecutor(2 * self.policy.concurrency + 4, f"{self.name}-io")
        asyncio.get_running_loop().set_default_executor(threads)
        client = httpx.AsyncClient(
            timeout=self.policy.timeout,
            follow_redirects=False,
            transport=self._transport,
            headers={"user-agent": USER_AGENT},
        )
        in_flight: set[asyncio.Task[None]] = set()
        errors = 0
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                free = self.policy.concurrency - len(in_flight)
                claimed: list[tuple[ClaimedDelivery, float]] = []
                if free > 0:
                    try:
                        claimed = await asyncio.to_thread(self._claim_timed, free)
                        errors = 0
                    except Exception as error:
                        errors = min(errors + 1, 16)
                        log_round_failure(log, error, "%s: claiming deliveries failed", self.name)
                        pause = min(self.policy.poll * 2**errors, self.policy.max_error_pause)
                        await asyncio.to_thread(self._stopping.wait, pause)
                        continue
                for delivery, lease_ends in claimed:
                    task = asyncio.create_task(self._deliver(client, delivery, lease_ends))
                    in_flight.add(task)
                    task.add_done_callback(self._finished(in_flight))
                if free > 0 and len(claimed) == free:
                    continue  # every slot filled: more may be due at once
                # Woken by new events, finished attempts and stop(); else look again after poll.
                await asyncio.to_thread(self._wake.wait, self.policy.poll)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            await client.aclose()
            threads.shutdown(wait=False)

    def _finished(self, in_flight: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self._wake.set()

        return done

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        # The app serialises SQLite writers on this lock; never hold it during an HTTP call.
        lock = _sqlite_lock if self.engine.dialect.name == "sqlite" else nullcontext()
        with lock, Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _claim_timed(self, limit: int) -> list[tuple[ClaimedDelivery, float]]:
        """Claimed deliveries with the monotonic time their lease ends at the earliest: taken
        before the claim, so the lease (counted from inside it) never ends sooner."""
        lease_ends = time.monotonic() + self.policy.lease
        return [(delivery, lease_ends) for delivery in self._claim(limit)]

    def _claim(self, limit: int) -> list[ClaimedDelivery]:
        with self._transaction() as session:
            return outbox.claim_due_deliveries(
                session,
                now=utcnow(),
                limit=limit,
                lease=timedelta(seconds=self.policy.lease),
                max_per_organisation=self.policy.organisation_limit,
            )

    def attempt_deadline(self, lease_ends: float) -> float:
        """Seconds the attempt may take from now: the policy's timeout, and never so long that
        less than the margin (lease - timeout) is left to record the outcome in the lease."""
        margin = self.policy.lease - self.policy.timeout
        return min(self.policy.timeout, lease_ends - margin - time.monotonic())

    async def _deliver(
        self, client: httpx.AsyncClient, delivery: ClaimedDelivery, lease_ends: float
    ) -> None:
        try:
            status_code, error = await self._attempt(client, delivery, lease_ends)
            await asyncio.to_thread(self._record, delivery, status_code, error, utcnow())
        except Exception as failure:  # `error` is the attempt's own outcome above
            # The lease runs out and another attempt follows; nothing is lost.
            what = "%s: delivery %s could not be recorded"
            log_round_failure(log, failure, what, self.name, delivery.delivery_id)

    async def _attempt(
        self, client: httpx.AsyncClient, delivery: ClaimedDelivery, lease_ends: float
    ) -> tuple[int | None, str | None]:
        deadline = self.attempt_deadline(lease_ends)
        if deadline <= 0:
            return None, "not sent: the claim took too long to leave time for an attempt"
        try:
            async with asyncio.timeout(deadline):
                return await self._send(client, delivery)
        except TimeoutError:
            return None, DEADLINE_EXCEEDED

    async def _send(
        self, client: httpx.AsyncClient, delivery: ClaimedDelivery
    ) -> tuple[int | None, str | None]:
        """POST one attempt: (status code, None) when accepted, else (status code?, reason).
        Unbounded in time by itself: `_attempt` runs it under the deadline."""
        try:
            # The lookup blocks a thread; the deadline still ends the attempt on time.
            target = await asyncio.to_thread(
                pin_public_target, delivery.url, self.policy.allow_private_targets
            )
        except TargetRefused as refused:
            return None, str(refused)
        timestamp = int(time.time())
        headers = webhook_headers(
            delivery.secrets, str(delivery.event_id), timestamp, delivery.body
        )
        try:
            # Streamed and never read: a receiver's answer body is not our business.
            async with client.stream(
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
                kept = outbox.record_delivered(session, delivery, status_code=status_code, now=now)
            else:
                retry_at = None
                if delivery.attempt < self.policy.max_attempts:
                    retry_at = now + timedelta(seconds=self.policy.retry_delay(delivery.attempt))
                kept = outbox.record_failure(
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
