"""The digest's counts are the recipient's: what the pages show their organisation."""

import re

from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.mail.conftest import make_region, person, text_of


def _open_proposals_in_digest(text: str) -> int:
    found = re.search(r"Open voorstellen[^:]*: (\d+)\.", text)
    assert found, text
    return int(found.group(1))


def test_the_digest_counts_the_open_proposals_a_municipality_that_does_not_chair_sees(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        _, municipal_worker = person(client, region.municipality)
        _, bystander = person(client, region.other_care_provider)
        create_case(client, region.care_provider, region.table_id)
        create_vacancy(client, region.corporation)
        chair = region.chair.headers
        meeting = client.post(
            f"/v1/tables/{region.table_id}/meetings", json={"date": iso(1)}, headers=chair
        ).json()
        assert client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair).is_success
        url = f"/v1/tables/{region.table_id}/proposals"
        seen = {
            org.name: len(client.get(url, headers=org.headers).json()["items"])
            for org in (region.municipality, region.other_care_provider)
        }
    assert seen == {region.municipality.name: 1, region.other_care_provider.name: 0}

    mailroom.send_until_settled()

    digests = {
        mail["To"]: text_of(mail)
        for mail in mailroom.sink.received()
        if mail["Subject"].startswith("Vergadering van")
    }
    # A municipality at the table reads every proposal of it (the API lists them to it), as the
    # chair does; a care provider only its own.
    assert _open_proposals_in_digest(digests[municipal_worker]) == seen[region.municipality.name]
    assert _open_proposals_in_digest(digests[bystander]) == 0
    # And it says which proposals it counted.
    assert "Open voorstellen van de tafel: 1." in digests[municipal_worker]
    assert "Open voorstellen waarbij uw organisatie betrokken is: 0." in digests[bystander]
