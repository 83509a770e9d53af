"""A person always hears by mail that their account changed (a new password, role, admin
rights, access restored), whoever changed it, even with every notice turned off; the mail says
what and by whom in general terms and links to the page that names who."""

from app.mail.models import MailStatus
from tests.mail.conftest import make_region, person, text_of

NEW_PASSWORD = "a brand new correct horse"


def people_url(org, person_id: str) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{org.id}/people/{person_id}"


def test_a_new_password_set_by_the_organisation_is_mailed_to_the_person(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        org = region.care_provider
        person_id, email = person(client, org)
        changed = client.patch(
            people_url(org, person_id), json={"password": NEW_PASSWORD}, headers=org.headers
        )
        assert changed.status_code == 200, changed.text

    mailroom.send_due(rounds=2)

    [mail] = [m for m in mailroom.sink.received() if m["To"] == email]
    text = text_of(mail)
    assert mail["Subject"] == "Uw account bij de uitstroomtafel is gewijzigd"
    assert "door een systeem van uw organisatie (API-sleutel)" in text
    assert "er is een nieuw wachtwoord ingesteld" in text
    assert "https://tafel.example/account/wijzigingen" in text
    assert NEW_PASSWORD not in text
    assert mail["List-Unsubscribe"] is None  # this notice cannot be turned off


def test_the_account_notice_goes_out_with_every_notice_turned_off(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        org = region.care_provider
        person_id, email = person(client, org)
        off = {"agenda_published": False, "actions": False, "proposals": False, "digest": False}
        chosen = client.put(
            people_url(org, person_id) + "/notice-preferences", json=off, headers=org.headers
        )
        assert chosen.status_code == 200, chosen.text
        client.patch(
            people_url(org, person_id),
            json={"role": "chair", "is_admin": True},
            headers=org.headers,
        )

    mailroom.send_due(rounds=2)

    [mail] = [m for m in mailroom.sink.received() if m["To"] == email]
    text = text_of(mail)
    assert "uw rol is gewijzigd; uw recht om de mensen van uw organisatie te beheren" in text


def test_making_renaming_or_blocking_an_account_sends_no_account_notice(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        org = region.care_provider
        person_id, email = person(client, org)  # made with a generated password
        for change in ({"display_name": "Andere naam"}, {"active": False}):
            answer = client.patch(people_url(org, person_id), json=change, headers=org.headers)
            assert answer.status_code == 200, answer.text

    mailroom.send_due(rounds=2)

    assert [m for m in mailroom.sink.received() if m["To"] == email] == []
    assert [row.kind for row in mailroom.outbox()] == []


def test_access_restored_is_mailed_once_the_person_may_sign_in_again(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        org = region.care_provider
        person_id, email = person(client, org)
        for active in (False, True):
            client.patch(people_url(org, person_id), json={"active": active}, headers=org.headers)

    mailroom.send_due(rounds=2)

    [mail] = [m for m in mailroom.sink.received() if m["To"] == email]
    assert "uw account is weer toegankelijk gemaakt" in text_of(mail)
    assert [row.status for row in mailroom.outbox()] == [MailStatus.sent.value]
