"""Mail test harness: a real SMTP server on loopback (aiosmtpd), a committed database with the
app on it, and a mail worker the test drives round by round (`Mailroom.send_due`)."""

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import _sqlite_lock, build_engine
from app.mail.models import MailMessage, MailStatus, NoticeKind
from app.mail.worker import MailPolicy, MailWorker, SmtpServer
from app.main import create_app
from app.settings import Settings
from app.webhooks.worker import DeliveryPolicy
from tests.conftest import make_region
from tests.webhooks.conftest import wait_for

# Millisecond retries, and the sweep for digests and overdue actions on every round.
FAST = MailPolicy(
    retries=DeliveryPolicy(
        retry_delays=(0.05,), max_attempts=5, jitter=0.0, timeout=2.0, lease=5.0
    ),
    batch=20,
    poll=0.02,
    sweep=0.0,
)


@dataclass
class SmtpSink:
    """An SMTP server on loopback that keeps what it accepts. `refuse` answers the next that
    many messages `451` (try again later) at DATA."""

    refuse: int = 0
    refused: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            mail = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(mail, EmailMessage)
            self.messages.append(mail)
        return "250 OK"

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return f"{mail['Subject']}\n{body.get_content()}"


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def case_data_in(text: str, tokens: set[str], prefixes: frozenset[str] = frozenset()) -> set[str]:
    """Which of `tokens` (whole words) and `prefixes` (word starts) occur in `text`, ignoring
    case. Word edges matter: a birth year such as 1990 also turns up inside the hex of the
    random ids in a mail's links, which is no leak; so does a whole group of one (`-1997-`),
    so ids are looked for in the text as it is and everything else in it without its ids."""
    text = text.lower()
    without_ids = UUID.sub(" ", text)
    found = set()
    for secret in tokens | prefixes:
        end = "" if secret in prefixes else "(?![0-9a-z])"
        where = text if UUID.fullmatch(secret.lower()) else without_ids
        if re.search(rf"(?<![0-9a-z]){re.escape(secret.lower())}{end}", where):
            found.add(secret)
    return found


class Mailroom:
    """A committed database with the app on it (SMTP at the loopback sink) and mail workers."""

    def __init__(self, url: str, settings: Settings, sink: SmtpSink, port: int):
        self.url = url
        self.sink = sink
        self.settings = settings.model_copy(
            update={
                "database_url": url,
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_starttls": False,
                "mail_from": "Uitstroomtafel <noreply@uitstroomtafel.example>",
                "public_url": "https://tafel.example",
            }
        )
        self.engines: list[Engine] = []
        self.main = self.engine()

    def engine(self) -> Engine:
        engine = build_engine(self.url)
        self.engines.append(engine)
        return engine

    def worker(self, *, smtp: bool = True) -> MailWorker:
        """A worker on a fresh engine, as a newly started process would have; not started."""
        server = SmtpServer.from_settings(self.settings) if smtp else None
        return MailWorker(self.engine(), server, FAST)

    def send_due(self, worker: MailWorker | None = None, rounds: int = 1) -> None:
        worker = worker or self.worker()
        for _ in range(rounds):
            worker.run_once()

    def send_until_settled(self, rounds: int = 2, more: int = 40) -> None:
        """`rounds` rounds, then a round every 0.2 s while a mail is still pending (at most
        `more`): on a loaded machine the loopback SMTP server can miss the 2 s timeout, and the
        mail waits for its retry (seen once in a full run, one mail left pending)."""
        worker = self.worker()
        self.send_due(worker, rounds)
        for _ in range(more):
            if all(m.status != MailStatus.pending.value for m in self.outbox()):
                return
            time.sleep(0.2)
            worker.run_once()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        lock = _sqlite_lock if self.main.dialect.name == "sqlite" else nullcontext()
        with lock, Session(self.main, expire_on_commit=False) as session, session.begin():
            yield session

    def outbox(self) -> list[MailMessage]:
        with self.transaction() as session:
            return list(session.exec(select(MailMessage).order_by(MailMessage.id)))

    @contextmanager
    def client(self) -> Iterator[TestClient]:
        app = create_app(self.settings, engine=self.main)
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def mailroom(databases, settings, smtp) -> Iterator[Mailroom]:  # type: ignore[no-untyped-def]
    url = databases.migrated_url()
    sink, port = smtp
    room = Mailroom(url, settings, sink, port)
    yield room
    room.close()


def person(client: TestClient, org: Any, role: str = "member") -> tuple[str, str]:
    """A person of `org`: (id, e-mail address)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.nl"
    response = client.post(
        f"/v1/organizations/{org.id}/people",
        json={"email": email, "display_name": f"{role} {org.name}", "role": role},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], email


def decision_notice(
    client: TestClient, session: Session, region: Any, proposal_id: str
) -> MailMessage:
    """The outbox row of the mail about the chair's nomination of `proposal_id` (queued for a
    person of the care provider, who is made first)."""
    from tests.api.test_meetings import decide

    person(client, region.care_provider)
    decided = decide(client, region.chair, proposal_id, "nominate")
    assert decided.status_code == 200, decided.text
    notice = session.exec(
        select(MailMessage).where(MailMessage.kind == NoticeKind.proposal_decided.value)
    ).first()
    assert notice is not None
    return notice


__all__ = ["FAST", "Mailroom", "decision_notice", "make_region", "person", "text_of", "wait_for"]
