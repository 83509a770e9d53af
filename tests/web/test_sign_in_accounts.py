"""One email, accounts in several organisations: each password opens its own account, and a
password that opens more than one asks which organisation, naming only those."""

import uuid

from fastapi.testclient import TestClient

from tests.conftest import Org
from tests.web.conftest import PASSWORD, hidden, page_client, submit_sign_in

OTHER_PASSWORD = "another horse battery staple"


def account(client: TestClient, org: Org, email: str, password: str) -> None:
    response = client.post(
        f"/v1/organizations/{org.id}/people",
        json={"email": email, "display_name": "Jet", "role": "member", "password": password},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text


def sign_in_to(browser: TestClient, form_html: str, email: str, password: str, org: Org):  # type: ignore[no-untyped-def]
    """Post the sign-in form of `form_html` with an organisation chosen."""
    data = {"email": email, "wachtwoord": password, "organisatie": org.id, "volgende": ""}
    return browser.post(
        "/aanmelden", data={"signin_token": hidden(form_html, "signin_token"), **data}
    )


def signed_in_as(browser: TestClient) -> str:
    page = browser.get("/account")
    assert page.status_code == 200, page.text
    return page.text


def test_each_password_opens_the_account_of_its_own_organisation(app, client, region):
    email = f"jet-{uuid.uuid4().hex[:8]}@example.nl"
    account(client, region.care_provider, email, PASSWORD)
    account(client, region.corporation, email, OTHER_PASSWORD)
    for password, org, other in (
        (PASSWORD, region.care_provider, region.corporation),
        (OTHER_PASSWORD, region.corporation, region.care_provider),
    ):
        browser = page_client(app)
        assert submit_sign_in(browser, email, password).status_code == 303
        page = signed_in_as(browser)
        assert org.name in page
        assert other.name not in page


def test_a_password_of_two_accounts_asks_which_organisation_and_names_only_those(
    app, client, region
):
    email = f"jet-{uuid.uuid4().hex[:8]}@example.nl"
    account(client, region.care_provider, email, PASSWORD)
    account(client, region.corporation, email, PASSWORD)
    account(client, region.chair, email, OTHER_PASSWORD)
    browser = page_client(app)
    asked = submit_sign_in(browser, email, PASSWORD)
    assert asked.status_code == 200
    assert "__Host-uitstroom_sessie" not in browser.cookies
    assert "Kies de organisatie" in asked.text
    assert region.care_provider.name in asked.text
    assert region.corporation.name in asked.text
    assert region.chair.name not in asked.text  # its account has another password
    chosen = sign_in_to(browser, asked.text, email, PASSWORD, region.corporation)
    assert chosen.status_code == 303
    assert region.corporation.name in signed_in_as(browser)


def test_choosing_an_organisation_the_password_does_not_open_is_refused(app, client, region):
    email = f"jet-{uuid.uuid4().hex[:8]}@example.nl"
    account(client, region.care_provider, email, PASSWORD)
    account(client, region.chair, email, OTHER_PASSWORD)
    browser = page_client(app)
    form = browser.get("/aanmelden")
    refused = sign_in_to(browser, form.text, email, PASSWORD, region.chair)
    assert refused.status_code == 400
    assert "Het e-mailadres of het wachtwoord klopt niet." in refused.text
    assert "__Host-uitstroom_sessie" not in browser.cookies


def test_an_email_with_a_nul_byte_is_refused_as_an_unknown_one(app):  # type: ignore[no-untyped-def]
    """No account has such an email; PostgreSQL refused the lookup (a 500 page, found by the
    nineteenth breaker)."""
    response = submit_sign_in(page_client(app), "chair\x00@example.org", PASSWORD)
    assert response.status_code == 400, response.text


def test_the_chosen_organisation_is_read_only_as_the_api_writes_its_id(app, client, region):
    """The sign-in page read its organisation leniently: 32 digits signed in to that
    organisation, `{id}` and `urn:uuid:<id>` counted as no choice. A value the API would
    refuse as an id now chooses no organisation of the person's: refused as another
    organisation's id is, with no session; the id as written (either case) still signs in."""
    email = f"jet-{uuid.uuid4().hex[:8]}@example.nl"
    account(client, region.care_provider, email, PASSWORD)
    account(client, region.corporation, email, PASSWORD)
    canonical = region.corporation.id
    for given in ["urn:uuid:" + canonical, "{" + canonical + "}", canonical.replace("-", ""), "x"]:
        browser = page_client(app)
        form = browser.get("/aanmelden").text
        data = {"email": email, "wachtwoord": PASSWORD, "organisatie": given, "volgende": ""}
        sent = browser.post(
            "/aanmelden", data={"signin_token": hidden(form, "signin_token"), **data}
        )
        assert sent.status_code == 400, (given, sent.status_code)
        assert "Het e-mailadres of het wachtwoord klopt niet." in sent.text
        assert "__Host-uitstroom_sessie" not in browser.cookies
    browser = page_client(app)
    form = browser.get("/aanmelden").text
    data = {
        "email": email,
        "wachtwoord": PASSWORD,
        "organisatie": canonical.upper(),
        "volgende": "",
    }
    chosen = browser.post("/aanmelden", data={"signin_token": hidden(form, "signin_token"), **data})
    assert chosen.status_code == 303
    assert region.corporation.name in signed_in_as(browser)
