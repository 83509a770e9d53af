"""Every change to a person's account leaves a trail: who made it (key, person, operator or
command line), what changed and when; the trail cannot be rewritten, holds no name or
password, and only the organisation itself and the operator read it."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.people.models import PersonChange
from tests.api.helpers import assert_problem
from tests.conftest import OPERATOR
from tests.web.conftest import (
    PASSWORD,
    change_password,
    give_new_password,
    make_person,
    signed_in,
)


def changes_url(person) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{person.org.id}/people/{person.id}/changes"


def trail(client, person, headers=None) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    response = client.get(changes_url(person), headers=headers or person.org.headers)
    assert response.status_code == 200, response.text
    return [(c["change"], c["value"]) for c in response.json()["items"]]


def test_an_account_made_through_the_api_is_recorded_with_the_key_that_made_it(client, region):
    person = make_person(client, region.care_provider, "chair", is_admin=True)
    body = client.get(changes_url(person), headers=region.care_provider.headers).json()
    assert [(c["change"], c["value"]) for c in body["items"]] == [
        ("created", "chair"),
        ("is_admin", "true"),
        ("password", "given"),
    ]
    made = body["items"][0]
    assert made["by_organisation_id"] == region.care_provider.id
    assert made["by_api_key_id"] is not None and made["by_person_id"] is None
    assert made["endpoint"] == "POST /v1/organizations/{organisation_id}/people"


def test_a_patch_records_only_what_it_changed(client, region):
    person = make_person(client, region.care_provider)
    response = client.patch(
        changes_url(person).removesuffix("/changes"),
        json={"display_name": "Nieuwe naam", "role": "member", "active": False},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 200, response.text
    assert trail(client, person)[2:] == [("display_name", None), ("active", "false")]
    client.patch(
        changes_url(person).removesuffix("/changes"),
        json={"password": "another correct horse", "is_admin": True, "active": True},
        headers=region.care_provider.headers,
    )
    assert trail(client, person)[4:] == [
        ("is_admin", "true"),
        ("active", "true"),
        ("password", "given"),
    ]


def test_a_refused_change_leaves_no_trail(client, region):
    person = make_person(client, region.care_provider, "viewer")
    response = client.patch(
        changes_url(person).removesuffix("/changes"),
        json={"is_admin": True},
        headers=region.care_provider.headers,
    )
    assert_problem(response, 400)
    assert trail(client, person) == [("created", "viewer"), ("password", "given")]


def test_an_admin_who_resets_a_colleagues_password_is_named_on_the_page(app, client, region):
    admin = make_person(client, region.care_provider, "member", is_admin=True)
    colleague = make_person(client, region.care_provider)
    browser = signed_in(app, admin)
    reset = give_new_password(browser, colleague.id)
    assert reset.status_code == 200, reset.text
    items = client.get(changes_url(colleague), headers=region.care_provider.headers).json()
    last = items["items"][-1]
    assert (last["change"], last["value"]) == ("password", "generated")
    assert last["by_person_id"] == admin.id and last["by_api_key_id"] is None
    assert last["endpoint"] == "POST /mensen/{person_id}/wachtwoord"
    page = browser.get(f"/mensen/{colleague.id}/wijzigingen")
    assert page.status_code == 200, page.text
    row = page.text.split("<tbody>")[1].split("</tr>")[0]
    assert "Nieuw wachtwoord gemaakt" in row and "Member van " in row
    assert f'href="/mensen/{colleague.id}/wijzigingen"' in browser.get("/mensen").text


def test_a_persons_own_new_password_is_recorded_as_their_own(app, client, region):
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    changed = change_password(browser, PASSWORD, "a new correct horse")
    assert changed.status_code == 303, changed.text
    last = client.get(changes_url(person), headers=region.care_provider.headers).json()["items"][-1]
    assert (last["change"], last["by_person_id"]) == ("password", person.id)


def test_a_wrong_current_password_changes_nothing_and_records_nothing(app, client, region):
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    refused = change_password(browser, "not the password at all", "a new correct horse")
    assert refused.status_code == 400
    assert trail(client, person) == [("created", "member"), ("password", "given")]


def test_the_operators_key_is_not_shown_to_the_organisation(client, region):
    person = make_person(client, region.care_provider)
    client.patch(
        changes_url(person).removesuffix("/changes"), json={"role": "viewer"}, headers=OPERATOR
    )
    mine = client.get(changes_url(person), headers=region.care_provider.headers).json()
    theirs = client.get(changes_url(person), headers=OPERATOR).json()
    assert mine["items"][-1]["by_organisation_id"] is None
    assert mine["items"][-1]["by_api_key_id"] is None
    assert theirs["items"][-1]["by_organisation_id"] is None
    assert (theirs["items"][-1]["change"], theirs["items"][-1]["value"]) == ("role", "viewer")


@pytest.mark.parametrize(
    "reader", ["other_care_provider", "corporation", "other_corporation", "chair"]
)
def test_another_organisation_reads_no_trail(client, region, reader):
    person = make_person(client, region.care_provider)
    response = client.get(changes_url(person), headers=getattr(region, reader).headers)
    assert response.status_code in (403, 404)
    assert "items" not in response.json()


def test_a_person_of_another_organisation_is_not_found_under_ones_own(client, region):
    other = make_person(client, region.other_care_provider)
    url = f"/v1/organizations/{region.care_provider.id}/people/{other.id}/changes"
    assert_problem(client.get(url, headers=region.care_provider.headers), 404)


def test_a_member_who_is_no_admin_gets_no_trail_page(app, client, region):
    person = make_person(client, region.care_provider)
    colleague = make_person(client, region.care_provider)
    page = signed_in(app, person).get(f"/mensen/{colleague.id}/wijzigingen")
    assert page.status_code == 403


COLUMNS = "(id, at, person_id, change, value, endpoint)"
VALUES = "VALUES (:id, '2000-01-01 00:00:00', :person_id, 'role', 'chair', 'forged')"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE person_changes SET value = 'chair'",
        "DELETE FROM person_changes",
        f"INSERT OR REPLACE INTO person_changes {COLUMNS} {VALUES}",
        f"REPLACE INTO person_changes {COLUMNS} {VALUES}",
        f"INSERT INTO person_changes {COLUMNS} {VALUES} "
        "ON CONFLICT (id) DO UPDATE SET value = excluded.value",
        "TRUNCATE person_changes",
    ],
    ids=["update", "delete", "insert-or-replace", "replace-into", "upsert", "truncate"],
)
def test_the_trail_cannot_be_rewritten(client, region, session, statement):
    sqlite = session.bind.dialect.name == "sqlite"
    if not sqlite and "REPLACE" in statement:
        pytest.skip("PostgreSQL has no REPLACE; its upsert is the ON CONFLICT case")
    if sqlite and statement.startswith("TRUNCATE"):
        pytest.skip("SQLite has no TRUNCATE (its DELETE without WHERE is refused)")
    made = make_person(client, region.care_provider)
    row = session.exec(select(PersonChange).order_by(PersonChange.id)).first()
    assert row is not None
    ids = {"id": row.id, "person_id": row.person_id}
    if sqlite:
        ids = {name: value.hex for name, value in ids.items()}
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement), ids)
    assert trail(client, made) == [("created", "member"), ("password", "given")]


def test_a_person_signed_out_by_a_new_password_reads_who_set_it(app, client, region):
    admin = make_person(client, region.care_provider, "chair", is_admin=True)
    viewer = make_person(client, region.care_provider, "viewer")
    reset = give_new_password(signed_in(app, admin), viewer.id)
    viewer.password = reset.text.split('class="password"><code>')[1].split("</code>")[0]
    browser = signed_in(app, viewer)
    assert 'href="/account/wijzigingen"' in browser.get("/account").text
    page = browser.get("/account/wijzigingen")
    assert page.status_code == 200, page.text
    newest = page.text.split("<tbody>")[1].split("</tr>")[0]
    assert "Nieuw wachtwoord gemaakt" in newest and "Chair van " in newest
    assert "Account aangemaakt, rol meelezer" in page.text
