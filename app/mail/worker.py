"""The mail worker: a thread that queues the notices that came due (digests, overdue actions)
and sends due mails from the outbox through SMTP (Python's smtplib).

It works as the webhook worker does (`app.webhooks.worker`): mails are leased
(`outbox.claim_due_mails`), sent, and each outcome recorded in its own short transaction;
a refused or failed attempt is retried after the webhook worker's growing, jittered delays, and
marked failed after the last attempt or at once when the server refuses it for good (5xx).
Delivery is at least once: a mail whose outcome is lost (a crash after the server took it) is
sent again with the same Message-ID. New events wake the worker after their commit.

Without an SMTP server configured the worker sends nothing and queues no digests; it only
expires what waited too long.
"""

import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from app.database import _sqlite_lock, log_round_failure
from app.mail import outbox, service
from app.mail.compose import message
from app.mail.outbox import ClaimedMail
from app.settings import Settings
from app.sqltypes import utcnow
from app.webhooks import service as webhooks
from app.webhooks.worker import DeliveryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how mail is handed over; `from_settings` reads it from the settings."""

    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float
    base_url: str
    ca_file: str | None = None  # PEM of the CAs that may sign the server's certificate

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmtpServer | None":
        """None without `smtp_host`: no mail is sent."""
        if not settings.smtp_host:
            return None
        password = settings.smtp_password
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=password.get_secret_value() if password is not None else None,
            sender=settings.mail_from,
            timeout=settings.smtp_timeout_seconds,
            base_url=settings.public_url,
            ca_file=settings.smtp_ca_file,
        )

    def tls_context(self) -> ssl.SSLContext:
        """The context STARTTLS verifies the server with: certificate and host name checked
        against the system's CAs, or `ca_file`'s."""
        return ssl.create_default_context(cafile=self.ca_file)


MAIL_ROUND_TRIPS = 6
"""SMTP timeouts one mail may take, each command's answer allowed a whole one: MAIL, RCPT,
DATA, the message and its answer, a RSET after a refusal; and one more to record the outcome.
A mail is started only with that much of its lease left: two were allowed, so a slow server
(a tarpit, answering each command just in time) kept the worker handing it over after the
lease ended, when another process could take the mail and send it too. The timeout bounds each
read, not an answer: one of many lines, each just in time, takes longer; `LeasedConnection`
cuts the conversation before the lease ends."""


class LeasedConnection(smtplib.SMTP):
    """An SMTP connection cut when the lease of its mails is about to end (`deadline`, on
    `time.monotonic()`): a timer shuts its socket down, so whatever it waits for (an answer
    of many lines, each within the timeout) fails instead of going on after the lease, when
    another process may claim the mails and send them too. Connect with `connect`."""

    def __init__(self, deadline: float, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.cut = False
        self._cut_lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self._host = host  # STARTTLS verifies this name (set only when the constructor connects)
        with self._cut_lock:
            if self.cut:
                sock.close()
                raise smtplib.SMTPServerDisconnected("the lease ended while connecting")
            self.sock = sock
        return sock

    def _cut(self) -> None:
        with self._cut_lock:
            self.cut = True
            if self.sock is not None:
                # The plain socket's: the TLS layer's would not wake a read under way.
                with suppress(OSError):
                    socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        super().close()


@dataclass(frozen=True, slots=True)
class MailPolicy:
    # Retry delays, jitter and the number of attempts as for webhooks.
    retries: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    batch: int = 20  # mails claimed (and sent over one connection) at once
    poll: float = 5.0  # seconds between looks for due mails (new events wake the worker)
    sweep: float = 60.0  # seconds between looks for digests and overdue actions
    max_error_pause: float = 60.0

    def lease(self, timeout: float) -> float:
        """Seconds a claim holds its mails: every mail of a batch at the SMTP timeout each,
        with half again as margin."""
        return 1.5 * timeout * (self.batch + 2)


class Refused(Exception):
    """The SMTP server refused one mail; `permanent` for a 5xx answer."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class ConnectionRefused(smtplib.SMTPException):
    """The server cannot be used as configured (no STARTTLS, sign-in refused): nothing was
    sent, and nothing will be until the server or the settings change."""


def _connection_error(smtp: "SmtpServer", exc: BaseException) -> str:
    """Why mail could not be handed over, for the log and the outbox row (never a secret)."""
    where = f"{smtp.host}:{smtp.port}"
    if isinstance(exc, ConnectionRefused):
        return f"{where}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{where}: TLS certificate not trusted ({exc.verify_message})"
    return f"{where}: {type(exc).__name__}: {exc}"


class MailWorker:
    def __init__(
        self,
        engine: Engine,
        smtp: SmtpServer | None,
        policy: MailPolicy | None = None,
        *,
        name: str = "mail-worker",
    ) -> None:
        self.engine = engine
        self.smtp = smtp
        self.policy = policy or MailPolicy()
        self.name = name
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep = float("-inf")

    def start(self) -> "MailWorker":
        if self._thread is not None:
            raise RuntimeError("a worker starts once; create a new one")
        webhooks.register_wake_event(self._wake)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Stop after the mail being sent; False if still busy after `timeout` seconds."""
        self._stopping.set()
        self._wake.set()
        webhooks.unregister_wake_event(self._wake)
        if self._thread is None:
            return True
        self._thread.join(timeout if timeout is not None else 2 * self._timeout + 5)
        return not self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    @property
    def _timeout(self) -> float:
        return self.smtp.timeout if self.smtp else 10.0

    def _run(self) -> None:
        errors = 0
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                busy = self.run_once()
                errors = 0
            except Exception as error:
                errors = min(errors + 1, 16)
                log_round_failure(log, error, "%s: a round failed", self.name)
                pause = min(self.policy.poll * 2**errors, self.policy.max_error_pause)
                self._stopping.wait(pause)
                continue
            if not busy:
                self._wake.wait(self.policy.poll)

    def run_once(self) -> bool:
        """One round: the sweep when due, then one batch sent. True if the batch was full
        (more may be due at once)."""
        if time.monotonic() - self._last_sweep >= self.policy.sweep:
            with self._transaction() as session:
                service.expire_and_forget(session)
                if self.smtp is not None:
                    service.queue_due_notices(session)
            self._last_sweep = time.monotonic()
        if self.smtp is None:
            return False
        lease = self.policy.lease(self.smtp.timeout)
        lease_ends = time.monotonic() + lease
        with self._transaction() as session:
            claimed = outbox.claim_due_mails(
                session, now=utcnow(), limit=self.policy.batch, lease=timedelta(seconds=lease)
            )
        if claimed:
            self._send_all(self.smtp, claimed, lease_ends)
        return len(claimed) == self.policy.batch

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        # The app serialises SQLite writers on this lock; never hold it while talking SMTP.
        lock = _sqlite_lock if self.engine.dialect.name == "sqlite" else nullcontext()
        with lock, Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _send_all(self, smtp: SmtpServer, claimed: list[ClaimedMail], lease_ends: float) -> None:
        try:
            # Cut with one timeout of the lease left, to record the outcomes in.
            connection = self._connect(smtp, lease_ends - smtp.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            reason = _connection_error(smtp, exc)
            log.warning(
                "%s: no mail sent, %d wait for a retry: %s", self.name, len(claimed), reason
            )
            for mail in claimed:
                self._record(mail, f"connection: {reason}", permanent=False, logged=True)
            return
        try:
            for mail in claimed:
                # Only with lease enough for the mail and its outcome (`MAIL_ROUND_TRIPS`);
                # the mails not tried wait for the lease to end and another round.
                if lease_ends - time.monotonic() < MAIL_ROUND_TRIPS * smtp.timeout:
                    break
                try:
                    self._send_one(connection, smtp, mail)
                except Refused as refused:
                    self._record(mail, str(refused), permanent=refused.permanent)
                except (OSError, smtplib.SMTPException) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if connection.cut:
                        error = "the server answered too slowly: the lease ended"
                    self._record(mail, error, permanent=False)
                    break  # the connection is gone; the rest waits for their leases to end
                else:
                    self._record(mail, None, permanent=False)
        finally:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()

    def _connect(self, smtp: SmtpServer, deadline: float) -> LeasedConnection:
        """A connection ready to send, cut at `deadline` (`LeasedConnection`): upgraded with
        STARTTLS (certificate verified) and signed in when configured. A server that does not
        offer STARTTLS when it is configured gets nothing, not even the sign-in: no fallback to
        clear text."""
        connection = LeasedConnection(deadline, smtp.timeout)
        try:
            connection.connect(smtp.host, smtp.port)
            connection.ehlo()
            if smtp.starttls:
                if not connection.has_extn("starttls"):
                    raise ConnectionRefused(
                        "the server does not offer STARTTLS, which is configured; "
                        "nothing is sent in clear text"
                    )
                connection.starttls(context=smtp.tls_context())
                connection.ehlo()
            if smtp.username:
                if not connection.has_extn("auth"):
                    raise ConnectionRefused("the server does not offer AUTH to sign in")
                try:
                    connection.login(smtp.username, smtp.password or "")
                except smtplib.SMTPAuthenticationError as exc:
                    raise ConnectionRefused(
                        f"sign-in as {smtp.username!r} refused ({exc.smtp_code})"
                    ) from exc
        except BaseException:
            connection.close()
            raise
        return connection

    def _send_one(self, connection: LeasedConnection, smtp: SmtpServer, mail: ClaimedMail) -> None:
        try:
            composed = message(
                message_id=str(mail.mail_id),
                kind=mail.kind,
                data=mail.data,
                recipient=mail.recipient,
                sender=smtp.sender,
                base_url=smtp.base_url,
            )
        except (KeyError, ValueError) as exc:
            raise Refused(f"cannot compose: {type(exc).__name__}", permanent=True) from exc
        try:
            # The envelope is the stored address itself: smtplib would otherwise parse it out
            # of the To header, where `x<y@z>` names y@z and `a,b@c` two addresses.
            refused = connection.send_message(composed, to_addrs=[mail.recipient])
        except smtplib.SMTPNotSupportedError as exc:
            # A non-ASCII address, and a server without SMTPUTF8: refused before anything was
            # sent, the connection is fine. That server never takes this mail; the others go on.
            raise Refused("the address needs SMTPUTF8, which the server lacks", True) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise Refused(f"recipient refused ({codes})", all(c >= 500 for c in codes)) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise Refused(f"SMTP {exc.smtp_code}", exc.smtp_code >= 500) from exc
        if refused:
            raise Refused(f"recipient refused ({refused})", permanent=False)

    def _record(
        self, mail: ClaimedMail, error: str | None, *, permanent: bool, logged: bool = False
    ) -> None:
        """Store one attempt's outcome; a failure is logged unless `logged` (the batch's
        connection failure, logged once) and the mail is still retried."""
        now = utcnow()
        retry_at = None
        with self._transaction() as session:
            if error is None:
                kept = outbox.record_sent(session, mail, now=now)
            else:
                retries = self.policy.retries
                if not permanent and mail.attempt < retries.max_attempts:
                    retry_at = now + timedelta(seconds=retries.retry_delay(mail.attempt))
                kept = outbox.record_failure(session, mail, error=error, retry_at=retry_at, now=now)
        if not kept:
            log.warning("%s: lease on mail %s was lost", self.name, mail.mail_id)
        elif error is not None and not (logged and retry_at is not None):
            log.warning(
                "%s: mail %s attempt %d failed (%s): %s",
                self.name, mail.mail_id, mail.attempt,
                "will retry" if retry_at is not None else "given up", error,
            )  # fmt: skip


def start_mail_worker(settings: Settings, engine: Engine) -> MailWorker:
    """The worker the app runs in its lifespan."""
    policy = MailPolicy(poll=settings.mail_poll_seconds)
    return MailWorker(engine, SmtpServer.from_settings(settings), policy).start()
