"""Roles on every people form and API: a viewer reads only, so it is never an admin; an admin
grants and manages roles up to their own and never changes their own, so no one raises their
own rights. The API (an organisation's key, or the operator) holds the viewer rule too."""

import re
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from app.people.models import Person
from tests.api.helpers import assert_problem
from tests.conftest import OPERATOR
from tests.web.conftest import PASSWORD, make_person, post_form, signed_in


def people_url(org) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{org.id}/people"


def roles_of(client, org) -> dict[str, tuple[str, bool]]:  # type: ignore[no-untyped-def]
    listed = client.get(people_url(org), headers=org.headers).json()["items"]
    return {p["email"]: (p["role"], p["is_admin"]) for p in listed}


# --- the API ------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", ["own key", "operator"])
def test_a_viewer_cannot_be_created_as_an_admin(client, region, headers):
    org = region.care_provider
    response = client.post(
        people_url(org),
        json={"email": "v@zorg.nl", "display_name": "V", "role": "viewer", "is_admin": True},
        headers=org.headers if headers == "own key" else OPERATOR,
    )
    body = assert_problem(response, 400)
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [
        ("is_admin", "viewer_cannot_be_admin")
    ]


def test_a_viewer_cannot_be_made_an_admin_nor_an_admin_a_viewer(client, region):
    org = region.corporation
    viewer = make_person(client, org, "viewer")
    admin = make_person(client, org, "member", is_admin=True)
    raised = client.patch(
        f"{people_url(org)}/{viewer.id}", json={"is_admin": True}, headers=org.headers
    )
    assert assert_problem(raised, 400)["invalidParams"][0]["name"] == "is_admin"
    lowered = client.patch(
        f"{people_url(org)}/{admin.id}", json={"role": "viewer"}, headers=org.headers
    )
    assert assert_problem(lowered, 400)["invalidParams"][0]["name"] == "role"
    both = client.patch(
        f"{people_url(org)}/{admin.id}",
        json={"role": "viewer", "is_admin": False},
        headers=org.headers,
    )
    assert both.status_code == 200, both.text
    assert roles_of(client, org)[admin.email] == ("viewer", False)


def test_the_database_refuses_a_viewer_admin(session, region):
    person = Person(
        organisation_id=uuid.UUID(region.chair.id),
        email="direct@example.nl",
        display_name="Direct",
        role="viewer",
        is_admin=True,
        password_hash="x",
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(person)
        session.flush()


# --- the people page ----------------------------------------------------------------------


def test_an_admin_cannot_grant_a_role_above_their_own(app, client, region):
    org = region.chair
    admin = signed_in(app, make_person(client, org, "member", is_admin=True))
    page = admin.get("/mensen")
    assert 'value="chair"' not in page.text
    response = post_form(
        admin, "/mensen", {"email": "new@example.nl", "naam": "Nieuw", "rol": "chair"}, "/mensen"
    )
    assert response.status_code == 403
    assert "new@example.nl" not in roles_of(client, org)


def test_an_admin_cannot_raise_their_own_role(app, client, region):
    org = region.chair
    person = make_person(client, org, "member", is_admin=True)
    response = post_form(
        signed_in(app, person), f"/mensen/{person.id}", {"rol": "chair", "versie": "1"}, "/mensen"
    )
    assert response.status_code == 403
    assert roles_of(client, org)[person.email] == ("member", True)


def test_an_admin_cannot_promote_someone_above_their_own_role(app, client, region):
    org = region.chair
    admin = signed_in(app, make_person(client, org, "member", is_admin=True))
    colleague = make_person(client, org, "viewer")
    response = post_form(
        admin, f"/mensen/{colleague.id}", {"rol": "chair", "versie": "1"}, "/mensen"
    )
    assert response.status_code == 403
    assert roles_of(client, org)[colleague.email] == ("viewer", False)


def test_an_admin_cannot_change_someone_whose_role_is_above_their_own(app, client, region):
    org = region.chair
    admin = signed_in(app, make_person(client, org, "member", is_admin=True))
    chair = make_person(client, org, "chair")
    response = post_form(
        admin, f"/mensen/{chair.id}", {"rol": "viewer", "actief": "nee", "versie": "1"}, "/mensen"
    )
    assert response.status_code == 403
    assert roles_of(client, org)[chair.email] == ("chair", False)
    assert submit_works(app, chair)


def submit_works(app, person) -> bool:  # type: ignore[no-untyped-def]
    from tests.web.conftest import page_client, submit_sign_in

    return submit_sign_in(page_client(app), person.email, PASSWORD).status_code == 303


def test_a_chair_admin_grants_the_chair_role_and_lowers_a_colleague(app, client, region):
    org = region.chair
    admin = signed_in(app, make_person(client, org, "chair", is_admin=True))
    created = post_form(
        admin, "/mensen", {"email": "vz@example.nl", "naam": "Vz", "rol": "chair"}, "/mensen"
    )
    assert created.status_code == 201
    member = make_person(client, org, "member")
    lowered = post_form(admin, f"/mensen/{member.id}", {"rol": "viewer", "versie": "1"}, "/mensen")
    assert lowered.status_code == 303
    assert roles_of(client, org)["vz@example.nl"] == ("chair", False)
    assert roles_of(client, org)[member.email] == ("viewer", False)


def test_an_admin_cannot_make_a_viewer_an_admin_on_the_page(app, client, region):
    org = region.care_provider
    admin = signed_in(app, make_person(client, org, "member", is_admin=True))
    viewer = make_person(client, org, "viewer")
    response = post_form(
        admin, f"/mensen/{viewer.id}", {"beheerder": "ja", "versie": "1"}, "/mensen"
    )
    assert response.status_code == 400
    assert "meelezer kan geen beheerder" in response.text
    created = post_form(
        admin,
        "/mensen",
        {"email": "v2@example.nl", "naam": "V", "rol": "viewer", "beheerder": "ja"},
        "/mensen",
    )
    assert created.status_code == 400
    assert roles_of(client, org)[viewer.email] == ("viewer", False)
    assert "v2@example.nl" not in roles_of(client, org)


def row_form(page: str, person_id: str) -> dict[str, str]:
    """The fields of a person's row on `/mensen` as the page showed them (selected options and
    hidden fields), as a browser sends them."""
    form = page.split(f'action="/mensen/{person_id}"')[1].split("</form>")[0]
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    for name, options in re.findall(r'name="([^"]+)">(.*?)</select>', form, re.S):
        fields[name] = re.findall(r'value="([^"]+)" selected', options)[0]
    return fields


def test_a_people_form_shown_before_a_block_does_not_unblock_the_person(app, client, region):
    """Each row's form sends role, admin flag and access as the page showed them: an admin who
    changed a colleague's role on a page loaded before another admin blocked that colleague
    (a leaver) gave the account its access back, unseen. The form now carries the version it
    showed; a stale one stores nothing (412) and the page shows the person as they are now."""
    org = region.chair
    first = signed_in(app, make_person(client, org, "chair", is_admin=True))
    second = signed_in(app, make_person(client, org, "chair", is_admin=True))
    leaver = make_person(client, org, "member")
    stale = row_form(first.get("/mensen").text, leaver.id)
    blocked = post_form(
        second,
        f"/mensen/{leaver.id}",
        row_form(second.get("/mensen").text, leaver.id) | {"actief": "nee"},
        "/mensen",
    )
    assert blocked.status_code == 303, blocked.text
    response = first.post(f"/mensen/{leaver.id}", data=stale | {"rol": "viewer"})
    assert response.status_code == 412, response.text
    assert "intussen gewijzigd" in response.text
    assert roles_of(client, org)[leaver.email] == ("member", False)
    assert not submit_works(app, leaver)


def test_a_people_form_sent_twice_stands_as_it_was_stored_the_first_time(app, client, region):
    """A double click on a row's *Opslaan*: the first sending stores the change and moves the
    person's version on, so the second carries a version that is no longer current. It asks
    what is stored now, so it stands (the page's notice of a stored change), as a decision or a
    case's status sent twice does; a 412 said someone else had changed the person and that
    nothing was stored, when the admin's own change was."""
    org = region.chair
    admin = signed_in(app, make_person(client, org, "chair", is_admin=True))
    member = make_person(client, org, "member")
    sent = row_form(admin.get("/mensen").text, member.id) | {"beheerder": "ja"}
    first = admin.post(f"/mensen/{member.id}", data=sent)
    assert first.status_code == 303, first.text
    again = admin.post(f"/mensen/{member.id}", data=sent)
    assert again.status_code == 303, again.text
    assert again.headers["location"] == "/mensen?melding=persoon_bijgewerkt"
    assert roles_of(client, org)[member.email] == ("member", True)
    trail = client.get(f"{people_url(org)}/{member.id}/changes", headers=org.headers)
    changes = trail.json()["items"]
    assert [c["change"] for c in changes].count("is_admin") == 1


def test_a_stale_people_form_that_asks_a_change_is_still_refused(app, client, region):
    """What stands is only a form asking what is stored now: a stale one that would change
    something (here the admin flag back) stores nothing (412)."""
    org = region.chair
    admin = signed_in(app, make_person(client, org, "chair", is_admin=True))
    member = make_person(client, org, "member")
    shown = row_form(admin.get("/mensen").text, member.id)
    first = admin.post(f"/mensen/{member.id}", data=shown | {"beheerder": "ja"})
    assert first.status_code == 303, first.text
    stale = admin.post(f"/mensen/{member.id}", data=shown)
    assert stale.status_code == 412, stale.text
    assert roles_of(client, org)[member.email] == ("member", True)


@pytest.mark.parametrize("version", ["\u00b2", "\u0661", "1\u00b9"])
def test_a_people_form_whose_version_is_no_plain_number_is_refused_not_a_500(
    app, client, region, version
):
    """`str.isdigit` holds for a superscript two, which `int` cannot read: the row's form with
    `versie=²` was a 500 page. A version is ASCII digits; anything else is no version (400)."""
    org = region.chair
    admin = signed_in(app, make_person(client, org, "chair", is_admin=True))
    member = make_person(client, org, "member")
    response = post_form(
        admin, f"/mensen/{member.id}", {"actief": "nee", "versie": version}, "/mensen"
    )
    assert response.status_code == 400, response.text
    assert submit_works(app, member)


def test_a_people_form_without_its_version_changes_no_one(app, client, region):
    org = region.chair
    admin = signed_in(app, make_person(client, org, "chair", is_admin=True))
    member = make_person(client, org, "member")
    response = post_form(admin, f"/mensen/{member.id}", {"actief": "nee"}, "/mensen")
    assert response.status_code == 400, response.text
    assert submit_works(app, member)
