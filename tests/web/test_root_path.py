"""The app below a path of its host: `UITSTROOM_PUBLIC_URL=https://testserver/tafel` behind a
proxy that serves it at /tafel, as an operator sets it up.

README promised a path in the public URL and the mails' links carried it, but every link, form
and redirect of the pages (and the API's `Location`) started at the host's root: a mailed link
reached its page and the next click left the app (https://x.nl/aanmelden). Each test here goes
through a proxy that strips the path (nginx `proxy_pass http://app/;`) and one that passes it on
(`proxy_pass http://app;`); the browser sees only the proxy."""

import re
import uuid
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from app.mail.compose import message
from app.settings import OWN_FIRST_SEGMENTS
from tests.conftest import case_body, create_case
from tests.mail.conftest import decision_notice
from tests.web.conftest import Published, hidden, make_person
from tests.web.test_accessibility import crawl

ROOT = "/tafel"
PUBLIC_URL = "https://testserver" + ROOT
pytestmark = pytest.mark.settings(public_url=PUBLIC_URL)
# Every address a page hands the browser: links, forms, assets.
ADDRESSES = re.compile(r'(?:href|action|src|formaction)="([^"]*)"')


def proxy(app: ASGIApp, *, strips: bool, root: str = ROOT) -> ASGIApp:
    """The proxy in front of the app: it takes only addresses below `root` (anything else is
    another site on the host) and hands them on with `root` taken off or as they came."""
    decoded, raw_root = unquote(root), root.encode()  # as ASGI has `path` and `raw_path`

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            assert path == decoded or path.startswith(decoded + "/"), f"{path} is outside"
            if strips:
                raw = scope["raw_path"]
                assert raw.startswith(raw_root), raw
                scope = {
                    **scope,
                    "path": path[len(decoded) :] or "/",
                    "raw_path": raw[len(raw_root) :] or b"/",
                }
        await app(scope, receive, send)

    return serve


def browser_of(app: ASGIApp, strips: bool, root: str = ROOT) -> TestClient:
    return TestClient(
        proxy(app, strips=strips, root=root), base_url="https://testserver", follow_redirects=False
    )


def api_of(app: ASGIApp, strips: bool, root: str = ROOT) -> TestClient:
    """A client of the API at PUBLIC_URL (its `/v1/...` requests go to `/tafel/v1/...`)."""
    return TestClient(
        proxy(app, strips=strips, root=root),
        base_url="https://testserver" + root,
        raise_server_exceptions=False,
    )


def off_root(html: str, root: str = ROOT) -> list[str]:
    """The addresses of a page that are not below `root` (a fragment stays on the page)."""
    return [a for a in ADDRESSES.findall(html) if not a.startswith((root + "/", "#"))]


def location(response, root: str = ROOT) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code in (201, 303), (response.status_code, response.text[:300])
    target = response.headers["location"]
    assert target.startswith(root + "/"), target
    return str(target)


def sign_in(browser: TestClient, email: str, password: str, page: str, root: str = ROOT) -> str:
    """Sign in as a person who opened `page` (a public path) without a session, through the
    forms the pages show; the address the sign-in leads to."""
    to_sign_in = location(browser.get(page), root)
    form = browser.get(to_sign_in)
    assert form.status_code == 200 and off_root(form.text, root) == []
    (action,) = re.findall(r'<form method="post" action="([^"]*)"', form.text)
    signed = browser.post(
        action,
        data={
            "signin_token": hidden(form.text, "signin_token"),
            "volgende": hidden(form.text, "volgende"),
            "email": email,
            "wachtwoord": password,
        },
    )
    cookie = next(v for k, v in signed.headers.multi_items() if v.startswith("__Host-"))
    assert "path=/;" in cookie.lower() + ";"  # __Host- needs Path=/ (RFC 6265bis 4.1.3.2)
    return location(signed, root)


@pytest.mark.parametrize("strips", [True, False], ids=["proxy strips the path", "passes it on"])
def test_below_a_root_path_every_link_form_asset_and_redirect_of_the_pages_stays_below_it(
    app, client, region, published: Published, strips
):
    chair = make_person(client, region.chair, "chair", is_admin=True)
    browser = browser_of(app, strips)
    # UITSTROOM_PUBLIC_URL itself, with or without its last slash, leads to the overview.
    assert location(browser.get(ROOT)) == ROOT + "/overzicht"
    assert location(browser.get(ROOT + "/")) == ROOT + "/overzicht"
    proposal = f"{ROOT}/voorstellen/{published.proposal_id}"
    # The page a mailed link opens sends to sign-in and back to it, all below the root.
    assert sign_in(browser, chair.email, chair.password, proposal) == proposal
    page = browser.get(proposal)
    assert page.status_code == 200 and off_root(page.text) == []
    # A form's answer leads to a page below the root.
    action = proposal + "/besluit"
    assert f'action="{action}"' in page.text
    decided = browser.post(
        action,
        data={"csrf_token": hidden(page.text, "csrf_token"), "besluit": "nominate", "versie": "1"},
    )
    assert location(decided).startswith(proposal)
    # Every page reachable from the overview: every address on it below the root.
    pages = crawl(browser, ROOT + "/overzicht", root=ROOT)
    assert len(pages) > 10
    assert {url: off_root(html) for url, html in pages.items() if off_root(html)} == {}
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]*)"', page.text)
    assert stylesheet and browser.get(stylesheet.group(1)).status_code == 200
    # Signing out leads to the sign-in page below the root.
    overview = pages[ROOT + "/overzicht"]
    signed_out = browser.post(
        ROOT + "/afmelden", data={"csrf_token": hidden(overview, "csrf_token")}
    )
    assert location(signed_out).startswith(ROOT + "/aanmelden?")


@pytest.mark.parametrize("strips", [True, False], ids=["proxy strips the path", "passes it on"])
def test_below_a_root_path_a_form_sent_after_the_session_ended_leads_back_to_its_page(
    app, client, region, strips
):
    person = make_person(client, region.care_provider)
    browser = browser_of(app, strips)
    lost = browser.post(
        ROOT + "/account/wachtwoord", data={}, headers={"Referer": PUBLIC_URL + "/account"}
    )
    assert location(lost).startswith(ROOT + "/aanmelden?volgende=/account&")
    signed = browser_of(app, strips)
    assert sign_in(signed, person.email, person.password, ROOT + "/account") == ROOT + "/account"
    # A page of another app on the same host is no page of this one.
    elsewhere = browser.post(
        ROOT + "/account/wachtwoord", data={}, headers={"Referer": "https://testserver/account"}
    )
    assert location(elsewhere).startswith(ROOT + "/aanmelden?volgende=/overzicht&")


@pytest.mark.parametrize("strips", [True, False], ids=["proxy strips the path", "passes it on"])
def test_below_a_root_path_the_api_names_its_addresses_below_it(app, region, strips):
    api = api_of(app, strips)
    created = api.post("/v1/cases", json={}, headers=region.care_provider.headers)
    assert created.status_code == 400
    assert created.json()["instance"] == ROOT + "/v1/cases"
    unknown = api.get(f"/v1/cases/{uuid.uuid4()}", headers=region.care_provider.headers)
    assert unknown.json()["instance"].startswith(ROOT + "/v1/cases/")
    # The API's own rules hold below the root as at it (they ask whether a path is the API's).
    xml = api.get("/v1/cases", headers={**region.care_provider.headers, "Accept": "text/xml"})
    assert (xml.status_code, xml.json()["code"]) == (406, "not_acceptable")
    assert api.get("/v1/cases", headers=region.care_provider.headers).headers["cache-control"] == (
        "no-store"
    )
    wrong_method = api.put("/v1/cases", headers=region.care_provider.headers)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["instance"] == ROOT + "/v1/cases"
    again = api.post(
        "/v1/cases", json=case_body(region.table_id), headers=region.care_provider.headers
    )
    assert location(again) == f"{ROOT}/v1/cases/{again.json()['id']}"
    shown = api.get(location(again).removeprefix(ROOT), headers=region.care_provider.headers)
    assert shown.json()["id"] == again.json()["id"]
    index = api.get("/v1").json()["links"]
    assert all(link.startswith(ROOT + "/") for link in index.values()), index
    assert api.get("/v1/openapi.json").json()["servers"][0]["url"] == ROOT + "/v1"
    for docs in ("/docs", "/redoc"):
        html = api.get(docs).text
        assert f'"{ROOT}/v1/openapi.json"' in html or f"'{ROOT}/v1/openapi.json'" in html, docs
        scripts = re.findall(r'src="([^"]*)"', html)
        browser = browser_of(app, strips)
        assert scripts and all(browser.get(s).status_code == 200 for s in scripts), scripts


@pytest.mark.parametrize("strips", [True, False], ids=["proxy strips the path", "passes it on"])
def test_below_a_root_path_a_404_names_the_api_path_there_is_below_it(app, region, strips):
    # The detail of a path no route has names the path to use: below the root too, also for a
    # base URL ending in `/` joined to `/v1/cases` (`/tafel//v1/cases`), which named no path.
    api, key = api_of(app, strips), region.care_provider.headers
    doubled = api.get(PUBLIC_URL + "//v1/cases", headers=key)
    assert (doubled.status_code, doubled.json()["detail"]) == (
        404,
        f"There is no API path {ROOT}//v1/cases; paths start with one slash: {ROOT}/v1/cases.",
    )
    unknown = api.get("/v1/nothing", headers=key).json()["detail"]
    assert unknown.endswith(f"the paths are in {ROOT}/v1/openapi.json."), unknown
    slash = api.get("/v1/cases/", headers=key).json()["detail"]
    assert slash.endswith(f"paths end without a slash: {ROOT}/v1/cases."), slash


ACCENTED = "/geme%C3%A9nte"  # /gemeénte, as UITSTROOM_PUBLIC_URL must write it (in ASCII)


@pytest.mark.settings(public_url="https://testserver" + ACCENTED)
@pytest.mark.parametrize("strips", [True, False], ids=["proxy strips the path", "passes it on"])
def test_below_a_percent_encoded_root_path_every_address_is_written_as_the_setting_is(
    app, client, region, published: Published, strips
):
    # The settings ask for a path with accents percent-encoded (a mail's List-Unsubscribe
    # carries only ASCII); a request's path arrives decoded, so the root is matched decoded
    # and every address handed out is written encoded, through either proxy.
    chair = make_person(client, region.chair, "chair", is_admin=True)
    browser = browser_of(app, strips, ACCENTED)
    assert location(browser.get(ACCENTED), ACCENTED) == ACCENTED + "/overzicht"
    proposal = f"{ACCENTED}/voorstellen/{published.proposal_id}"
    assert sign_in(browser, chair.email, chair.password, proposal, ACCENTED) == proposal
    page = browser.get(proposal)
    assert page.status_code == 200 and off_root(page.text, ACCENTED) == []
    lost = browser_of(app, strips, ACCENTED).post(
        ACCENTED + "/account/wachtwoord",
        data={},
        headers={"Referer": "https://testserver" + ACCENTED + "/account"},  # as browsers send it
    )
    assert location(lost, ACCENTED).startswith(ACCENTED + "/aanmelden?volgende=/account&")
    api = api_of(app, strips, ACCENTED)
    created = api.post(
        "/v1/cases", json=case_body(region.table_id), headers=region.care_provider.headers
    )
    assert location(created, ACCENTED) == f"{ACCENTED}/v1/cases/{created.json()['id']}"
    assert api.get("/v1").json()["links"]["openapi"] == ACCENTED + "/v1/openapi.json"
    assert api.get("/v1/openapi.json").json()["servers"][0]["url"] == ACCENTED + "/v1"
    key = region.care_provider.headers
    for refused in (api.post("/v1/cases", json={}, headers=key), api.put("/v1/cases", headers=key)):
        assert refused.json()["instance"] == ACCENTED + "/v1/cases"  # a URI reference: in ASCII
    unknown = api.get("/v1/nothing", headers=key).json()["detail"]
    assert unknown.endswith(f"the paths are in {ACCENTED}/v1/openapi.json."), unknown


def test_a_mails_links_lead_through_the_proxy_to_their_page(
    app, client, session, settings, region, published: Published
):
    chair = make_person(client, region.chair, "chair", is_admin=True)
    notice = decision_notice(client, session, region, published.proposal_id)
    mail = message(
        message_id=str(notice.id),
        kind=notice.kind,
        data=notice.data,
        recipient="iemand@example.nl",
        sender="Uitstroomtafel <noreply@example.nl>",
        base_url=settings.public_url,
    )
    body = mail.get_body(("plain",))
    assert body is not None
    links = re.findall(r"https://\S+", body.get_content())
    links.append(mail["List-Unsubscribe"].strip("<>"))
    assert links and all(link.startswith(PUBLIC_URL + "/") for link in links), links
    browser = browser_of(app, strips=True)
    page = links[0].removeprefix("https://testserver")
    assert sign_in(browser, chair.email, chair.password, page) == page
    for link in links:
        assert browser.get(link.removeprefix("https://testserver")).status_code == 200, link


@pytest.mark.settings(public_url="https://testserver")
def test_without_a_path_every_address_stays_at_the_hosts_root(app, client, region):
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert browser.get("/overzicht").headers["location"] == "/aanmelden?volgende=/overzicht"
    form = browser.get("/aanmelden")
    assert 'action="/aanmelden"' in form.text and "{{" not in form.text
    assert 'href="/static/app.css"' in form.text
    assert client.get("/v1").json()["links"]["openapi"] == "/v1/openapi.json"
    assert client.get("/v1/openapi.json").json()["servers"][0]["url"] == "/v1"
    case = create_case(client, region.care_provider, region.table_id)
    assert client.get(f"/v1/cases/{case['id']}/x").json()["instance"].startswith("/v1/cases/")


def test_a_root_path_may_not_start_as_an_address_of_the_app_itself(app):
    """Behind a proxy that strips it, `/tafels/tafels/{id}` arrives as `/tafels/{id}`, which
    reads as the table's page below the root or as `/{id}` below it: the settings refuse such
    a root path, naming the first segment of every address the app answers."""

    def paths(routes, prefix: str = ""):  # type: ignore[no-untyped-def]
        for route in routes:
            inner = getattr(getattr(route, "original_router", None), "routes", None)
            if inner:  # an included router keeps its routes to itself
                yield from paths(inner, getattr(route, "prefix", "") or "")
            else:
                yield prefix + route.path

    firsts = {path.split("/")[1] for path in paths(app.routes)} - {""}
    assert firsts == OWN_FIRST_SEGMENTS
