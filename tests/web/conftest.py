"""Helpers for the page tests: people made through the API, and a browser-like client per
person that signs in through the sign-in form (HTTPS, so the Secure cookie is sent)."""

import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.aftercare.housing import ensure_limits, house
from tests.clock import iso
from tests.conftest import OPERATOR, Org, Region, create_case, create_vacancy

PASSWORD = "correct horse battery staple"
DATE = iso(-14)  # a meeting two weeks ago


@dataclass
class Person:
    id: str
    email: str
    password: str
    org: Org


def make_person(
    client: TestClient,
    org: Org,
    role: str = "member",
    *,
    is_admin: bool = False,
    password: str = PASSWORD,
) -> Person:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.nl"
    response = client.post(
        f"/v1/organizations/{org.id}/people",
        json={
            "email": email,
            "display_name": f"{role.title()} van {org.name}",
            "role": role,
            "is_admin": is_admin,
            "password": password,
        },
        headers=org.headers,
    )
    assert response.status_code == 201, response.text
    return Person(response.json()["id"], email, password, org)


def other_spellings(canonical: str) -> list[str]:
    """An id as pydantic's UUID reads it but the API refuses it in a query (`app.ids.Id`):
    `urn:uuid:`, braces, 32 hex digits without hyphens."""
    return ["urn:uuid:" + canonical, "{" + canonical + "}", canonical.replace("-", "")]


def page_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def form_token(html: str) -> str:
    """The page form's own token (`formulier`: one per page shown, for `create_once`)."""
    token = hidden(html, "formulier")
    assert re.fullmatch("[0-9a-f]{32}", token), token
    return token


def submit_sign_in(browser: TestClient, email: str, password: str, next_url: str = ""):  # type: ignore[no-untyped-def]
    form = browser.get("/aanmelden")
    assert form.status_code == 200, form.text
    return browser.post(
        "/aanmelden",
        data={
            "signin_token": hidden(form.text, "signin_token"),
            "volgende": next_url,
            "email": email,
            "wachtwoord": password,
        },
    )


def signed_in(app, person: Person) -> TestClient:  # type: ignore[no-untyped-def]
    browser = page_client(app)
    response = submit_sign_in(browser, person.email, person.password)
    assert response.status_code == 303, response.text
    return browser


def chairs_the_table(client: TestClient, region: Region, org: Org) -> None:
    """Make `org` the chair of the region's table (through the operator's API)."""
    chaired = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"chair_organisation_id": org.id},
        headers=OPERATOR,
    )
    assert chaired.status_code == 200, chaired.text


def csrf_of(browser: TestClient, url: str = "/account") -> str:
    page = browser.get(url)
    assert page.status_code == 200, page.text
    return hidden(page.text, "csrf_token")


def post_form(browser: TestClient, url: str, data: dict, csrf_from: str = "/account"):  # type: ignore[no-untyped-def]
    return browser.post(url, data={"csrf_token": csrf_of(browser, csrf_from), **data})


def change_password(browser: TestClient, current: str, new: str = "een heel nieuw wachtwoord"):  # type: ignore[no-untyped-def]
    """The signed-in person's own change on /account, with `new` typed twice."""
    return post_form(
        browser,
        "/account/wachtwoord",
        {"huidig_wachtwoord": current, "nieuw_wachtwoord": new, "herhaal_wachtwoord": new},
    )


def new_password_form(browser: TestClient, person_id: str) -> dict[str, str]:
    """The hidden fields of the 'Nieuw wachtwoord' form of `person_id` on /mensen as it is
    shown now (its CSRF token and the person's version)."""
    page = browser.get("/mensen")
    assert page.status_code == 200, page.text
    form = re.search(rf'action="/mensen/{person_id}/wachtwoord"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, f"no new-password form for {person_id}"
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))


def give_new_password(browser: TestClient, person_id: str):  # type: ignore[no-untyped-def]
    """An admin's 'Nieuw wachtwoord' for a colleague, sent from /mensen as shown now."""
    form = new_password_form(browser, person_id)
    return browser.post(f"/mensen/{person_id}/wachtwoord", data=form)


@dataclass
class Published:
    meeting_id: str
    proposal_id: str
    case_id: str
    vacancy_id: str


def publish_one(client: TestClient, region: Region) -> Published:
    """A published meeting with one proposal (care_provider's case, corporation's dwelling,
    available from the meeting's day, so that it can be let from then on)."""
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation, available_from=DATE)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": DATE}, headers=region.chair.headers
    ).json()
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    proposals = client.get(
        f"/v1/tables/{region.table_id}/proposals", headers=region.chair.headers
    ).json()["items"]
    return Published(meeting["id"], proposals[0]["id"], case["id"], vacancy["id"])


@pytest.fixture
def published(client, region) -> Published:  # type: ignore[no-untyped-def]
    return publish_one(client, region)


@pytest.fixture
def chair(client, region) -> Person:  # type: ignore[no-untyped-def]
    return make_person(client, region.chair, "chair", is_admin=True)


@pytest.fixture
def housed(client, region):  # type: ignore[no-untyped-def]
    """Two tenancies: care_provider's case in corporation's dwelling on an intermediate lease
    (moved in 200 days ago: the 3- and 6-month checkpoints are overdue), and other_care_provider's
    case in other_corporation's dwelling on an own lease."""
    ensure_limits(client, 260)
    mine = house(client, region, -200, "intermediate_lease")
    theirs = house(
        client,
        region,
        -120,
        "own_lease",
        care_provider=region.other_care_provider,
        corporation=region.other_corporation,
    )
    return mine["id"], theirs["id"]


__all__ = ["OPERATOR"]
