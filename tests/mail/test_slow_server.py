"""A slow SMTP server (one that answers each command just within the timeout, as a tarpit
does) never keeps a mail past its worker's lease: once the lease ends another process may take
the mail, and two workers would hand the same mail over at once."""

import asyncio
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import col, select

from app.mail.models import MailMessage
from app.mail.worker import MailPolicy, MailWorker, SmtpServer
from app.sqltypes import utcnow
from tests.api.helpers import assign_action
from tests.mail.conftest import FAST, Mailroom, SmtpSink, _free_port, make_region, person

TIMEOUT = 1.0  # the SMTP timeout: each command is answered within it
SLOW = 0.9 * TIMEOUT  # the longest a command's answer takes
ROUND_TRIPS = 3  # the commands of a mail the server answers slowly: MAIL, RCPT, end of DATA


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
    port = _free_port()
    controller = Controller(tarpit, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        configured = SmtpServer.from_settings(mailroom.settings)
        assert configured is not None
        server = replace(configured, port=port, timeout=TIMEOUT)
        policy = MailPolicy(retries=FAST.retries, batch=4, poll=FAST.poll, sweep=FAST.sweep)
        MailWorker(mailroom.engine(), server, policy).run_once()
    finally:
        controller.stop()

    assert tarpit.received()  # the slow server got mail, within its lease
    assert tarpit.past_lease == []
