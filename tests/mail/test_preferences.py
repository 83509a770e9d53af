"""A person's choice of e-mail notices: the API (their organisation reads and replaces it) and
the signed-in person's own Dutch page, which says when no mail is sent at all."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import get_session
from app.mail import service
from app.mail.models import NoticePreferences, NoticePreferencesUpdate
from app.main import create_app
from app.people.models import Person
from tests.api.helpers import assert_problem, invalid_names
from tests.conftest import make_org
from tests.locks import commit_after_it_waits
from tests.web.conftest import hidden, make_person, post_form, signed_in

pytestmark = pytest.mark.usefixtures("no_deadlocks")

ALL_ON = {"agenda_published": True, "actions": True, "proposals": True, "digest": True}


def _url(org, person_id: str) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{org.id}/people/{person_id}/notice-preferences"


def test_every_notice_is_on_until_the_person_chooses(client, region):
    worker = make_person(client, region.care_provider)

    answer = client.get(_url(region.care_provider, worker.id), headers=region.care_provider.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: body[k] for k in ALL_ON} == ALL_ON
    assert body["email"] == worker.email
    assert body["updated_at"] is None
    assert body["mail_enabled"] is False  # the test settings name no SMTP server


@pytest.mark.settings(smtp_host="mail.example.org")
def test_a_put_replaces_the_choices_and_says_mail_is_sent(client, region):
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    choice = {"agenda_published": False, "actions": True, "proposals": False, "digest": True}

    put = client.put(url, json=choice, headers=region.care_provider.headers)
    again = client.put(url, json=choice, headers=region.care_provider.headers)
    read = client.get(url, headers=region.care_provider.headers).json()

    assert put.status_code == again.status_code == 200, put.text
    assert {k: read[k] for k in choice} == choice
    assert read["mail_enabled"] is True
    assert read["updated_at"] is not None


def test_a_put_needs_all_four_choices_as_booleans(client, region):
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)

    partial = client.put(url, json={"digest": False}, headers=region.care_provider.headers)
    wrong = client.put(
        url, json={**ALL_ON, "digest": "sometimes"}, headers=region.care_provider.headers
    )
    unknown = client.put(url, json={**ALL_ON, "sms": True}, headers=region.care_provider.headers)

    assert [r.status_code for r in (partial, wrong, unknown)] == [400, 400, 400]


def test_a_choice_of_another_json_type_is_400(client, region):
    # As a case file's: pydantic's lax mode turned a notice off for "off", "no", 0 or "false".
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    headers = region.care_provider.headers
    lax = {"agenda_published": "off", "actions": 0, "proposals": "no", "digest": "false"}
    assert sorted(invalid_names(client.put(url, json=lax, headers=headers))) == sorted(lax)
    read = client.get(url, headers=headers).json()
    assert {k: read[k] for k in ALL_ON} == ALL_ON
    all_off = dict.fromkeys(ALL_ON, False)
    put = client.put(url, json=all_off, headers=headers)
    assert put.status_code == 200, put.text
    assert {k: put.json()[k] for k in all_off} == all_off


def test_another_organisation_neither_reads_nor_sets_a_persons_choices(client, region):
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    stranger = region.other_care_provider.headers

    # A co-member of the table sees the organisation exists, not its people.
    assert client.get(url, headers=stranger).status_code == 403
    assert client.put(url, json=ALL_ON, headers=stranger).status_code == 403
    foreign = _url(region.other_care_provider, worker.id)
    assert client.get(foreign, headers=stranger).status_code == 404


def test_the_page_says_no_mail_is_sent_without_a_mail_server(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))

    page = browser.get("/account/meldingen")

    assert page.status_code == 200
    assert "Er is geen mailserver ingesteld" in page.text
    assert "Mijn e-mailmeldingen" in page.text


@pytest.mark.settings(smtp_host="mail.example.org")
def test_a_person_chooses_their_notices_on_the_page(app, client, region):
    worker = make_person(client, region.care_provider)
    browser = signed_in(app, worker)

    saved = post_form(
        browser, "/account/meldingen", {"versie": "0", "actions": "aan", "digest": "aan"}
    )
    page = browser.get(saved.headers["location"])
    read = client.get(
        _url(region.care_provider, worker.id), headers=region.care_provider.headers
    ).json()

    assert saved.status_code == 303
    assert "Uw keuze van e-mailmeldingen is opgeslagen." in page.text
    assert "Er is geen mailserver ingesteld" not in page.text
    assert {k: read[k] for k in ALL_ON} == {
        "agenda_published": False,
        "actions": True,
        "proposals": False,
        "digest": True,
    }
    assert 'name="digest" type="checkbox" value="aan" checked' in page.text
    assert 'name="proposals" type="checkbox" value="aan" aria' in page.text


def test_the_page_refuses_a_form_from_elsewhere(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))

    forged = browser.post("/account/meldingen", data={"csrf_token": "x", "actions": "aan"})

    assert forged.status_code == 403


def test_a_persons_first_choice_saved_twice_at_once_is_saved_not_a_500(live_app):
    """Two first saves of a person's choices at once (a double click on the page, a retried
    PUT) both find no stored choice and insert one; the second's insert meets the first's row
    (PostgreSQL; SQLite runs one writer at a time) and the request runs again
    (`app.transient`), so it answers 200 and its choice replaces the first, as a PUT does."""
    with TestClient(live_app) as client:
        org = make_org(client, "care_provider")
        worker = make_person(client, org)
        url = _url(org, worker.id)
        choice = {**ALL_ON, "digest": False}
        answers = []

        def put() -> None:
            answers.append(client.put(url, json=choice, headers=org.headers))

        def first(held: Session) -> None:  # the other save, committed once this one waits
            person = held.get_one(Person, uuid.UUID(worker.id))
            data = NoticePreferencesUpdate(**{**ALL_ON, "actions": False})
            service.set_preferences(held, person, data, mail_enabled=False)

        commit_after_it_waits(live_app.state.engine, first, put)

        assert [a.status_code for a in answers] == [200], answers[0].text
        with Session(live_app.state.engine) as session:
            stored = session.get_one(NoticePreferences, uuid.UUID(worker.id))
            assert (stored.actions, stored.digest) == (True, False)


def test_a_copy_read_before_mail_was_turned_on_is_not_current_after_the_restart(
    app, client, region, engine, settings
):
    """`mail_enabled` comes from the settings, not from the stored choices: after the operator
    configures a mail server and restarts, a copy read before (`mail_enabled: false`) is not
    current (200 with the new body, not 304), and its ETag no longer matches a PUT (412); the
    new read's ETag and the bare version (what the page's form sends) both do."""
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    headers = region.care_provider.headers
    before = client.get(url, headers=headers)
    assert before.json()["mail_enabled"] is False
    restarted = create_app(
        settings.model_copy(update={"smtp_host": "mail.example.org"}), engine=engine
    )
    restarted.dependency_overrides[get_session] = app.dependency_overrides[get_session]

    with TestClient(restarted, raise_server_exceptions=False) as after_restart:
        cached = after_restart.get(
            url, headers={**headers, "If-None-Match": before.headers["ETag"]}
        )
        stale = after_restart.put(
            url, json=ALL_ON, headers={**headers, "If-Match": before.headers["ETag"]}
        )
        read = after_restart.get(url, headers={**headers, "If-None-Match": cached.headers["ETag"]})
        by_read = after_restart.put(
            url,
            json={**ALL_ON, "digest": False},
            headers={**headers, "If-Match": cached.headers["ETag"]},
        )
        by_version = after_restart.put(url, json=ALL_ON, headers={**headers, "If-Match": '"1"'})

    assert cached.status_code == 200 and cached.json()["mail_enabled"] is True, cached.text
    assert cached.headers["ETag"] != before.headers["ETag"]
    assert cached.headers["ETag"] in assert_problem(stale, 412)["detail"]
    assert read.status_code == 304
    assert by_read.status_code == 200 and by_read.json()["version"] == 1, by_read.text
    assert by_version.status_code == 200, by_version.text
    assert by_version.json()["digest"] is True and by_version.json()["mail_enabled"] is True


def test_concurrent_edit_of_notice_preferences_is_refused_not_lost(client, region):
    """Two admins read a person's choices (the defaults: version 0, ETag `"0-…"`, nothing
    stored yet) and each puts a change with that ETag as `If-Match`: the second is a 412, not a
    silent undo of the first's choice; read again (new ETag), it goes through."""
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    headers = region.care_provider.headers
    read = client.get(url, headers=headers)
    assert read.status_code == 200 and read.headers["ETag"].startswith('"0-')

    first = client.put(
        url, json={**ALL_ON, "digest": False}, headers={**headers, "If-Match": read.headers["ETag"]}
    )
    second = client.put(
        url,
        json={**ALL_ON, "actions": False},
        headers={**headers, "If-Match": read.headers["ETag"]},
    )

    assert first.status_code == 200 and first.headers["ETag"].startswith('"1-'), first.text
    assert "changed" in assert_problem(second, 412)["detail"]
    again = client.get(url, headers=headers)
    assert again.headers["ETag"] == first.headers["ETag"]
    assert {k: again.json()[k] for k in ALL_ON} == {**ALL_ON, "digest": False}
    fresh = client.put(
        url,
        json={**ALL_ON, "digest": False, "actions": False},
        headers={**headers, "If-Match": again.headers["ETag"]},
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"].startswith('"2-'), fresh.text


def test_notice_preferences_put_as_they_stand_keep_their_etag(client, region):
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    headers = region.care_provider.headers
    choice = {**ALL_ON, "proposals": False}

    made = client.put(url, json=choice, headers=headers)
    again = client.put(url, json=choice, headers={**headers, "If-Match": made.headers["ETag"]})

    assert made.headers["ETag"] == again.headers["ETag"], again.text
    assert made.headers["ETag"].startswith('"1-') and again.json()["version"] == 1


def test_if_none_match_star_on_notice_preferences_is_412_as_they_always_exist(client, region):
    """The defaults are the person's choices until changed: the resource exists, so a PUT
    asking that it does not (`If-None-Match: *`) stores nothing."""
    worker = make_person(client, region.care_provider)
    url = _url(region.care_provider, worker.id)
    headers = {**region.care_provider.headers, "If-None-Match": "*"}

    refused = client.put(url, json={**ALL_ON, "digest": False}, headers=headers)

    assert_problem(refused, 412)
    assert client.get(url, headers=region.care_provider.headers).json()["digest"] is True


def test_a_notice_form_shown_before_another_change_stores_nothing(app, client, region):
    """The page's form carries the version it showed (`versie`): a form from a tab opened
    before a change made elsewhere (the admin's PUT, another tab) does not undo that change
    unseen; the same form sent twice (a double click) stands; one without a version stores
    nothing (400)."""
    worker = make_person(client, region.care_provider)
    browser = signed_in(app, worker)
    url = _url(region.care_provider, worker.id)
    shown = browser.get("/account/meldingen").text
    assert hidden(shown, "versie") == "0"
    changed = client.put(
        url, json={**ALL_ON, "digest": False}, headers=region.care_provider.headers
    )
    assert changed.status_code == 200

    stale = post_form(browser, "/account/meldingen", {"versie": "0", "actions": "aan"})
    without = post_form(browser, "/account/meldingen", {"actions": "aan"})

    assert stale.status_code == 412 and "intussen elders gewijzigd" in stale.text
    assert without.status_code == 400
    read = client.get(url, headers=region.care_provider.headers).json()
    assert {k: read[k] for k in ALL_ON} == {**ALL_ON, "digest": False}
    form = {"versie": "1", "actions": "aan"}
    assert post_form(browser, "/account/meldingen", form).status_code == 303
    assert post_form(browser, "/account/meldingen", form).status_code == 303  # sent twice
    read = client.get(url, headers=region.care_provider.headers).json()
    assert {k: read[k] for k in ALL_ON} == {
        "agenda_published": False,
        "actions": True,
        "proposals": False,
        "digest": False,
    }
