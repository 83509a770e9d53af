"""The mails' From address (`UITSTROOM_MAIL_FROM`) is one that every SMTP server takes mail
from: its name may be in any script, its address is ASCII."""

from email.message import EmailMessage

import pytest
from pydantic import ValidationError

from app.mail.models import MailStatus
from app.settings import Settings
from tests.api.helpers import assign_action
from tests.mail.conftest import make_region, person, text_of


def one_notice_sent_from(mailroom, sender: str) -> tuple[EmailMessage, str]:
    """The one mail sent (a new action's notice) with `sender` as UITSTROOM_MAIL_FROM, and
    its recipient's address."""
    mailroom.settings = mailroom.settings.model_copy(
        update={"mail_from": Settings(mail_from=sender).mail_from}
    )
    with mailroom.client() as client:
        region = make_region(client)
        _, address = person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    mailroom.send_until_settled()
    [mail] = mailroom.sink.received()
    return mail, address


@pytest.mark.parametrize(
    "sender",
    ["Uitstroomtafel <noreply@gemeénte.nl>", "tafél@gemeente.nl", "Tafel <tafél@gemeente.nl>"],
)
def test_a_sender_address_that_needs_smtputf8_is_refused_at_start(sender):
    # Taken at start, it had smtplib ask SMTPUTF8 for every mail: a server without it took
    # none, and each was given up at once, logged as if its recipient's address were at fault.
    with pytest.raises(ValidationError) as refused:
        Settings(mail_from=sender)
    assert "UITSTROOM_MAIL_FROM must have an address of ASCII characters only" in str(refused.value)


def test_a_sender_name_in_any_script_reaches_a_server_without_smtputf8(mailroom):
    sender = "Uitstroomtafel Friesl\u00e2n \u0639\u0631\u0628\u064a <noreply@xn--gemente-6ya.nl>"
    mail, address = one_notice_sent_from(mailroom, sender)
    assert mail["From"] == sender
    assert mail["To"] == address and "Nieuwe actie" in text_of(mail)
    assert [row.status for row in mailroom.outbox()] == [MailStatus.sent.value]


def test_the_message_id_takes_its_domain_from_the_sender_address_not_its_comment(mailroom):
    # `noreply@x.nl (Uitstroomtafel)` is one address with a comment (RFC 5322 3.2.2); the
    # Message-ID took everything after the '@', comment included, which is no msg-id.
    mail, _ = one_notice_sent_from(mailroom, "noreply@gemeente.example (Uitstroomtafel)")
    [row] = mailroom.outbox()
    assert mail["Message-ID"] == f"<{row.id}@gemeente.example>"
