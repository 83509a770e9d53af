"""How long the outbox keeps a mail: one that cannot be sent is dropped after its lifetime, and
every mail that ended (sent, failed, dropped) stays 30 days after its end as the send log, then
leaves; also when no process runs the mail worker (`UITSTROOM_MAIL_WORKER=false`)."""

from datetime import timedelta

import time_machine

from app.cases.retention import RetentionJob
from app.mail.models import MailStatus
from tests.api.helpers import assign_action
from tests.clock import START
from tests.mail.conftest import Mailroom, make_region, person


def _one_notice_queued(mailroom: Mailroom) -> None:
    """An action handed to a care provider with one person: one notice in the outbox, queued
    at START (the suite's clock)."""
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    [row] = mailroom.outbox()
    assert row.status == MailStatus.pending.value


def _daily_retention_round(mailroom: Mailroom) -> None:
    RetentionJob(mailroom.engine(), retention_days=730).run_once()


def test_with_the_mail_worker_off_the_daily_job_drops_waiting_mails_and_forgets_the_log(mailroom):
    """Only the mail worker expired and deleted outbox rows, and notices are queued with their
    events whether or not it runs: with `UITSTROOM_MAIL_WORKER=false` in every process every
    agenda, decision and action queued a row per person that stayed pending for ever, and the
    outbox grew without bound. The daily retention job (in the app, or `uitstroomtafel
    anonymise` from cron) drops and forgets them too, as it does the webhook log."""
    _one_notice_queued(mailroom)

    with time_machine.travel(START + timedelta(days=3, hours=3), tick=True):
        _daily_retention_round(mailroom)
    [row] = mailroom.outbox()
    assert row.status == MailStatus.expired.value

    with time_machine.travel(START + timedelta(days=34), tick=True):
        _daily_retention_round(mailroom)
    assert mailroom.outbox() == []


def test_a_mail_stays_in_the_send_log_30_days_after_it_was_sent_not_after_it_was_queued(
    mailroom,
):
    """The send log counted its 30 days from a mail's queueing: one that waited two days for
    the mail server left the log 28 days after it was sent (the webhook log counts from a
    delivery's end, and says the mail log does the same)."""
    _one_notice_queued(mailroom)
    with time_machine.travel(START + timedelta(days=2), tick=True):
        mailroom.send_until_settled()
    [row] = mailroom.outbox()
    assert row.status == MailStatus.sent.value

    with time_machine.travel(START + timedelta(days=31), tick=True):
        mailroom.send_due()  # the worker's sweep
        _daily_retention_round(mailroom)
    assert [row.status for row in mailroom.outbox()] == [MailStatus.sent.value]

    with time_machine.travel(START + timedelta(days=33), tick=True):
        mailroom.send_due()
    assert mailroom.outbox() == []


def test_a_dropped_mail_stays_in_the_send_log_30_days_after_it_was_dropped(mailroom):
    _one_notice_queued(mailroom)
    worker = mailroom.worker(smtp=False)  # no SMTP server: the notice is dropped after 3 days
    with time_machine.travel(START + timedelta(days=3, hours=3), tick=True):
        mailroom.send_due(worker)
    [row] = mailroom.outbox()
    assert row.status == MailStatus.expired.value

    with time_machine.travel(START + timedelta(days=32), tick=True):
        mailroom.send_due(worker)
    assert [row.status for row in mailroom.outbox()] == [MailStatus.expired.value]

    with time_machine.travel(START + timedelta(days=34), tick=True):
        mailroom.send_due(worker)
    assert mailroom.outbox() == []
