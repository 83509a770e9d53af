"""A slow SMTP server (one that answers each command just within the timeout, as a tarpit
does) never keeps a mail past its worker's lease: once the lease ends another process may take
the mail, and two workers would hand the same mail over at once."""

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import col, select

from app.mail.models import MailMessage, MailStatus
from app.mail.worker import MailPolicy, MailWorker, SmtpServer
from app.sqltypes import utcnow
from tests.api.helpers import assign_action
from tests.mail.conftest import (
    FAST,
    Mailroom,
    SmtpSink,
    _free_port,
    make_region,
    person,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("no_deadlocks")

TIMEOUT = 1.0  # the SMTP timeout: each command is answered within it
SLOW = 0.9 * TIMEOUT  # the longest a command's answer takes
ROUND_TRIPS = 3  # the commands of a mail the server answers slowly: MAIL, RCPT, end of DATA


POLICY = MailPolicy(retries=FAST.retries, batch=4, poll=FAST.poll, sweep=FAST.sweep)


@contextmanager
def _serving(mailroom: Mailroom, handler: SmtpSink) -> Iterator[SmtpServer]:
    """`handler` served on loopback, and the mailroom's SMTP settings pointing at it."""
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        configured = SmtpServer.from_settings(mailroom.settings)
        assert configured is not None
        yield replace(configured, port=port, timeout=TIMEOUT)
    finally:
        controller.stop()


class _Tarpit(SmtpSink):
    """Answers each of a mail's commands within the timeout, spending the worker's lease so
    that a mail starts with less than `ROUND_TRIPS` slow answers left (if the worker starts
    one then), and notes every mail it takes after its worker's lease ended."""

    def __init__(self, mailroom: Mailroom) -> None:
        super().__init__()
        self.mailroom = mailroom
        self.delay: dict[int, float] = {}  # per connection: the wait before each answer
        self.past_lease: list[str] = []

    def _lease_ends(self) -> datetime:
        with self.mailroom.transaction() as session:
            ends = session.exec(select(func.max(col(MailMessage.locked_until)))).one()
        assert ends is not None
        return ends

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        left = (self._lease_ends() - utcnow()).total_seconds()
        # Enough lease for this mail's slow answers and more: spend it down to 2.6 answers'
        # worth, so the next mail starts with too little; else answer as slowly as allowed.
        spend = (left - 2.6 * SLOW) / ROUND_TRIPS if left > ROUND_TRIPS * SLOW else SLOW
        self.delay[id(session)] = min(SLOW, max(0.0, spend))
        await asyncio.sleep(self.delay[id(session)])
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await asyncio.sleep(self.delay[id(session)])
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay[id(session)])
        answer = await super().handle_DATA(server, session, envelope)
        message_id = self.received()[-1]["Message-ID"]
        with self.mailroom.transaction() as db:
            row = db.get(MailMessage, uuid.UUID(message_id.strip("<>").partition("@")[0]))
            assert row is not None
            if row.locked_until is None or row.locked_until <= utcnow():
                self.past_lease.append(message_id)
        return answer


def test_a_worker_starts_no_mail_a_slow_server_could_keep_past_its_lease(mailroom):
    """A mail was started with two SMTP timeouts of lease left, but it takes up to five
    round trips, each allowed the whole timeout: on a slow server the worker was still handing
    it over after its lease ended, when another process could claim and send it too."""
    with mailroom.client() as client:
        region = make_region(client)
        for _ in range(4):
            person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    tarpit = _Tarpit(mailroom)
    with _serving(mailroom, tarpit) as server:
        MailWorker(mailroom.engine(), server, POLICY).run_once()

    assert tarpit.received()  # the slow server got mail, within its lease
    assert tarpit.past_lease == []


class _Dribbler(SmtpSink):
    """Answers the first MAIL command of all with a multi-line reply, one line at a time, each
    within the SMTP timeout, for longer than a worker's lease; every other command at once."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines
        self.dribbled = False

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if not self.dribbled:
            self.dribbled = True
            for _ in range(self.lines):
                if server.transport is None or server.transport.is_closing():
                    break
                await server.push("250-still thinking")
                await asyncio.sleep(SLOW)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"


def test_a_mail_is_handed_over_once_though_a_slow_multi_line_answer_outlasts_the_lease(
    mailroom,
):
    """Each line of a multi-line answer came within the SMTP timeout, so the socket never
    timed out while the whole answer took longer than the lease: another process then claimed
    the mail and sent it, and the first worker, answered at last, sent it a second time. The
    conversation is cut when the lease is about to end."""
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    lease = POLICY.lease(TIMEOUT)
    server = _Dribbler(lines=int(lease / SLOW) + 3)
    with _serving(mailroom, server) as smtp:
        first = threading.Thread(
            target=MailWorker(mailroom.engine(), smtp, POLICY).run_once, daemon=True
        )
        first.start()
        wait_for(lambda: server.dribbled, what="the slow answer")
        other = MailWorker(mailroom.engine(), smtp, POLICY)  # another process
        wait_for(lambda: time.sleep(0.1) or other.run_once() or server.received(), what="mail")
        first.join(timeout=2 * lease)
        assert not first.is_alive()

    assert len(server.received()) == 1
    [row] = mailroom.outbox()
    assert row.status == MailStatus.sent.value
