"""A digest turned off and on again before it went out still comes."""

from app.mail import service as mail_service
from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.mail.conftest import make_region, person

ALL_ON = {"agenda_published": True, "actions": True, "proposals": True, "digest": True}


def test_a_digest_turned_off_and_on_again_before_it_was_sent_is_sent(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        person_id, address = person(client, region.care_provider)
        plan_meeting(client, region, iso(1))
        with mailroom.transaction() as session:
            assert mail_service.queue_due_notices(session) == 1  # the mail server is away
        url = f"/v1/organizations/{region.care_provider.id}/people/{person_id}/notice-preferences"
        for choice in ({**ALL_ON, "digest": False}, ALL_ON):
            chosen = client.put(url, json=choice, headers=region.care_provider.headers)
            assert chosen.status_code == 200, chosen.text

    mailroom.send_until_settled()

    digests = [m for m in mailroom.sink.received() if m["Subject"].startswith("Vergadering")]
    assert [m["To"] for m in digests] == [address]
