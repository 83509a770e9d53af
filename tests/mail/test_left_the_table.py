"""A notice about a table reaches only people whose organisation still sits at it."""

from app.mail import service as mail_service
from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.conftest import OPERATOR
from tests.mail.conftest import make_region, person


def test_a_digest_waiting_in_the_outbox_is_not_sent_to_an_organisation_that_left_the_table(
    mailroom,
):
    with mailroom.client() as client:
        region = make_region(client)
        _, stays = person(client, region.care_provider)
        _, leaves = person(client, region.other_care_provider)
        plan_meeting(client, region, iso(1))
        # The digest is queued for both; the mail server is away a while.
        with mailroom.transaction() as session:
            assert mail_service.queue_due_notices(session) == 2
        table = client.get(f"/v1/tables/{region.table_id}", headers=OPERATOR).json()
        staying = [
            m for m in table["member_organisation_ids"] if m != region.other_care_provider.id
        ]
        left = client.patch(
            f"/v1/tables/{region.table_id}",
            json={"member_organisation_ids": staying},
            headers=OPERATOR,
        )
        assert left.status_code == 200, left.text

    mailroom.send_until_settled()

    assert [mail["To"] for mail in mailroom.sink.received()] == [stays]
    assert leaves not in {mail["To"] for mail in mailroom.sink.received()}
