"""The pages' forms that show a secret once, sent as one admin's two sendings reach two servers
on one database at the same moment (a double click behind a load balancer, two tabs): each
form makes its secret once."""

import re
import uuid
from http.cookies import SimpleCookie

import httpx
import pytest
from sqlmodel import Session, col, select

from app.people.models import PersonChange
from tests.concurrency.conftest import Cluster, at_once, new_org
from tests.conftest import Org

pytestmark = pytest.mark.xdist_group("two_servers")

PASSWORD = "een lang genoeg wachtwoord"


class Browser:
    """A browser's cookies, shared by its requests to either server: the servers set their
    cookies `Secure` (`__Host-`), which httpx keeps from plain-http loopback, as a browser does
    not (loopback is a secure context to it)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.cookies = cluster, SimpleCookie()

    def request(self, server: int, method: str, path: str, **kwargs: object) -> httpx.Response:
        header = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
        base = self.cluster.bases[server % len(self.cluster.bases)]
        response = httpx.request(
            method, base + path, headers={"Cookie": header}, timeout=120, **kwargs
        )  # type: ignore[arg-type]
        for cookie in response.headers.get_list("set-cookie"):
            self.cookies.load(cookie)
        return response

    def sign_in(self, server: int, email: str, password: str) -> httpx.Response:
        form = self.request(server, "GET", "/aanmelden")
        token = re.search(r'name="signin_token" value="([^"]*)"', form.text)
        assert token, form.text
        data = {"signin_token": token.group(1), "email": email, "wachtwoord": password}
        return self.request(server, "POST", "/aanmelden", data={**data, "volgende": ""})


def person(cluster: Cluster, org: Org, *, is_admin: bool = False) -> tuple[str, str]:
    """A member of `org` made through the API with PASSWORD: (id, email)."""
    email = f"p-{uuid.uuid4().hex[:8]}@example.nl"
    body = {"email": email, "display_name": email, "is_admin": is_admin, "password": PASSWORD}
    api = cluster.client(org, 0)
    made = api.post(f"/v1/organizations/{org.id}/people", json=body)
    api.close()
    assert made.status_code == 201, made.text
    return made.json()["id"], email


def admin_browser(cluster: Cluster, org: Org) -> Browser:
    _, email = person(cluster, org, is_admin=True)
    browser = Browser(cluster)
    assert browser.sign_in(0, email, PASSWORD).status_code == 303
    return browser


def test_a_new_password_form_sent_to_two_servers_at_once_makes_one_password(cluster: Cluster):
    """The same 'Nieuw wachtwoord' form at once on both servers: one shows a password, the
    other (409) says the form was used, and the password shown is the one that works."""
    org = new_org(cluster, "care_provider")
    admin = admin_browser(cluster, org)
    colleague_id, email = person(cluster, org)
    page = admin.request(0, "GET", "/mensen").text
    form = re.search(rf'action="/mensen/{colleague_id}/wachtwoord"[^>]*>(.*?)</form>', page, re.S)
    assert form, page
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    path = f"/mensen/{colleague_id}/wachtwoord"

    answers = at_once([lambda s=s: admin.request(s, "POST", path, data=fields) for s in (0, 1)])

    assert sorted(a.status_code for a in answers) == [200, 409], cluster.server_log()
    (shown,) = (a for a in answers if a.status_code == 200)
    password = shown.text.split('<p class="password"><code>')[1].split("</code>")[0]
    (used,) = (a for a in answers if a.status_code == 409)
    assert "al een nieuw wachtwoord gemaakt" in used.text
    assert Browser(cluster).sign_in(1, email, password).status_code == 303
    with Session(cluster.engine) as session:
        made = session.exec(
            select(col(PersonChange.value)).where(
                col(PersonChange.person_id) == uuid.UUID(colleague_id),
                col(PersonChange.change) == "password",
            )
        ).all()
    assert sorted(made) == ["generated", "given"]  # the one it was made with, and one reset


def test_a_new_person_form_sent_to_two_servers_at_once_makes_one_account(cluster: Cluster):
    """'Persoon toevoegen' at once on both servers: one account, whose generated password one
    answer shows (201); the other finds the email taken (409) and shows no password."""
    org = new_org(cluster, "care_provider")
    admin = admin_browser(cluster, org)
    page = admin.request(0, "GET", "/mensen").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert token, page
    email = f"nieuw-{uuid.uuid4().hex[:8]}@example.nl"
    fields = {"csrf_token": token.group(1), "email": email, "naam": "Nieuw", "rol": "member"}

    answers = at_once(
        [lambda s=s: admin.request(s, "POST", "/mensen", data=fields) for s in (0, 1)]
    )

    assert sorted(a.status_code for a in answers) == [201, 409], cluster.server_log()
    (made,) = (a for a in answers if a.status_code == 201)
    password = made.text.split('<p class="password"><code>')[1].split("</code>")[0]
    (taken,) = (a for a in answers if a.status_code == 409)
    assert '<p class="password">' not in taken.text
    assert Browser(cluster).sign_in(1, email, password).status_code == 303
