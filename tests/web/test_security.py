"""The security rules of the pages, over HTTP: sessions and their cookie, CSRF, lock-out,
roles, and the API's organisation scoping (404 outside one's reach)."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from app.meetings.models import Meeting
from app.people.models import Person, PersonSession, SignInThrottle
from app.people.security import subject_hash
from app.sqltypes import utcnow
from app.web.forms import CONFLICT_MESSAGES
from tests.api.helpers import assert_problem
from tests.clock import START
from tests.web.conftest import (
    DATE,
    PASSWORD,
    change_password,
    csrf_of,
    hidden,
    make_person,
    page_client,
    post_form,
    signed_in,
    submit_sign_in,
)
from tests.web.html_rules import problems


def page_paths(region, published) -> list[str]:  # type: ignore[no-untyped-def]
    meeting = f"/vergaderingen/{published.meeting_id}"
    return [
        "/overzicht",
        "/account",
        "/mensen",
        f"/tafels/{region.table_id}",
        meeting,
        meeting + "/agenda.pdf",
        meeting + "/agenda.csv",
        meeting + f"/waarom-niet?dossier={published.case_id}&woning={published.vacancy_id}",
        f"/voorstellen/{published.proposal_id}",
        f"/dossiers/{published.case_id}",
    ]


def session_cookie(browser) -> str:  # type: ignore[no-untyped-def]
    return browser.cookies.get("__Host-uitstroom_sessie")


# --- a session is needed for every page ----------------------------------------------------


def test_every_page_sends_a_visitor_without_a_session_to_sign_in(app, region, published):
    visitor = page_client(app)
    for path in page_paths(region, published):
        response = visitor.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/aanmelden?volgende=/"), path


def test_a_post_without_a_session_changes_nothing(app, session, region):
    response = page_client(app).post(
        f"/tafels/{region.table_id}/vergaderingen", data={"datum": DATE, "csrf_token": "x"}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/aanmelden")
    assert session.exec(select(Meeting)).first() is None


def test_an_unknown_page_is_a_dutch_404_page_and_the_api_keeps_problem_json(app, client):
    page = page_client(app).get("/nergens")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Niet gevonden" in page.text
    assert_problem(client.get("/v1/nergens"), 404)


def test_a_method_a_page_does_not_take_is_a_405_page_naming_those_it_does(app):
    # RFC 9110 section 15.5.6: a 405 names the methods of the target in `Allow`, as the API's
    # do; the page's 405 dropped the header Starlette gave it.
    page = page_client(app).put("/aanmelden")
    assert page.status_code == 405
    assert page.headers["content-type"].startswith("text/html")
    assert {m.strip() for m in page.headers["allow"].split(",")} >= {"GET", "POST"}
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_form_in_a_content_coding_is_a_415_page_naming_the_one_read(app, chair):
    # RFC 9110 section 12.5.3, as the API's 415 does: the page dropped `Accept-Encoding`.
    browser = signed_in(app, chair)
    page = browser.post(
        "/account/wachtwoord",
        content=b"csrf_token=x",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Encoding": "gzip",
        },
    )
    assert page.status_code == 415
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["accept-encoding"] == "identity"


# --- the session cookie --------------------------------------------------------------------


def test_sign_in_sets_a_host_only_secure_httponly_lax_session_cookie(app, client, chair):
    response = submit_sign_in(page_client(app), chair.email, chair.password)
    assert response.status_code == 303
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    [session_line] = [c for c in cookies if c.startswith("__Host-uitstroom_sessie=")]
    attributes = {part.strip().lower() for part in session_line.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= attributes
    assert not any(a.startswith(("domain", "max-age", "expires")) for a in attributes)


def _sign_in_from(app, base: str, headers: dict[str, str], chair):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    browser = TestClient(app, base_url=base, follow_redirects=False, headers=headers)
    return browser, submit_sign_in(browser, chair.email, chair.password)


@pytest.mark.parametrize(
    "seen_from",
    [{"Origin": "http://192.0.2.2:8262"}, {"Referer": "http://tafel.lan/aanmelden"}],
)
def test_signing_in_on_plain_http_away_from_localhost_says_why_it_cannot(
    app, chair, seen_from, caplog
):
    # Over http://192.0.2.2 (the demo reached on the machine's LAN address) the browser drops the
    # Secure sign-in and session cookies, and every try was refused as "Het formulier was
    # verlopen. Probeer het opnieuw.", which trying again never mended.
    _, response = _sign_in_from(app, "http://192.0.2.2:8262", seen_from, chair)
    assert response.status_code == 403
    assert "Aanmelden lukt niet via een onbeveiligde verbinding" in response.text
    assert "https://" in response.text and "verlopen" not in response.text
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("; secure" in line.lower() for line in cookies)  # nothing weakened
    assert "plain-http page" in caplog.text  # the operator learns it from the log


@pytest.mark.parametrize(
    ("base", "seen_from"),
    [
        ("https://testserver", {"Origin": "https://testserver"}),  # TLS, a proxy's http behind
        ("http://127.0.0.1:8000", {"Origin": "http://127.0.0.1:8000"}),  # loopback keeps them
        ("http://192.0.2.2:8262", {}),  # no browser's address: the cause is not known
    ],
)
def test_a_sign_in_form_without_its_cookie_elsewhere_is_still_expired(app, chair, base, seen_from):
    browser, _ = _sign_in_from(app, base, seen_from, chair)
    browser.cookies.clear()
    response = browser.post(
        "/aanmelden", data={"signin_token": "x" * 43, "email": chair.email, "wachtwoord": "y"}
    )
    assert response.status_code == 403
    assert "Het formulier was verlopen" in response.text


PLAIN_HTTP_WARNING = "Aanmelden lukt niet via een onbeveiligde verbinding"


def _sign_in_page_at(app, base: str, headers: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    page = TestClient(app, base_url=base, headers=headers).get("/aanmelden")
    assert page.status_code == 200, page.text
    return page.text


@pytest.mark.parametrize(
    "headers",
    [
        {},  # typed in: no Origin, no Referer, and no Sec-Fetch-* (sent to https and loopback only)
        {"Upgrade-Insecure-Requests": "1"},  # Chromium 150's navigation to http://192.0.2.2
        {"Referer": "http://192.0.2.2:8262/overzicht"},  # from another page of the site
    ],
)
def test_the_sign_in_page_on_plain_http_away_from_localhost_says_so_when_it_first_loads(
    app, headers
):
    """a995e80 said that signing in needs https only when the form came back without its
    cookie, so the person first typed an email and password for nothing. The page shown at
    http://192.0.2.2 (the demo on the machine's LAN address) says it at once, as a caution."""
    page = _sign_in_page_at(app, "http://192.0.2.2:8262", headers)
    assert f'<div class="notice caution" role="status"><p>{PLAIN_HTTP_WARNING}' in page
    assert "error-summary" not in page and "verlopen" not in page
    assert problems(page) == []


@pytest.mark.parametrize(
    ("base", "headers"),
    [
        ("https://testserver", {}),
        ("http://127.0.0.1:8000", {}),  # loopback keeps Secure cookies
        ("http://localhost:8000", {}),
        # A proxy that ends TLS asks the app over http: the browser on https sends Fetch
        # Metadata, or the proxy says the scheme, or the browser's Referer does.
        ("http://tafel.example", {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}),
        ("http://tafel.example", {"X-Forwarded-Proto": "https"}),
        ("http://tafel.example", {"Referer": "https://tafel.example/overzicht"}),
    ],
)
def test_the_sign_in_page_raises_no_plain_http_alarm_where_cookies_are_kept(app, base, headers):
    assert PLAIN_HTTP_WARNING not in _sign_in_page_at(app, base, headers)


@pytest.mark.settings(session_cookie_secure=False)
def test_the_sign_in_page_raises_no_plain_http_alarm_with_the_secure_flag_off(app):
    assert PLAIN_HTTP_WARNING not in _sign_in_page_at(app, "http://192.0.2.2:8262", {})


@pytest.mark.settings(session_cookie_secure=False)
def test_plain_http_away_from_localhost_signs_in_with_the_secure_flag_off(app, chair):
    _, response = _sign_in_from(app, "http://192.0.2.2:8262", {"Origin": "http://192.0.2.2"}, chair)
    assert response.status_code == 303


@pytest.mark.settings(session_cookie_secure=False)
def test_the_secure_flag_can_be_switched_off_for_plain_http_localhost(app, client, chair):
    from fastapi.testclient import TestClient

    browser = TestClient(app, base_url="http://localhost", follow_redirects=False)
    response = submit_sign_in(browser, chair.email, chair.password)
    assert response.status_code == 303
    session_line = next(
        v for k, v in response.headers.multi_items() if v.startswith("uitstroom_sessie=")
    )
    assert "secure" not in session_line.lower()
    assert browser.get("/overzicht").status_code == 200


def test_only_a_hash_of_the_session_token_is_stored(app, session, chair):
    token = session_cookie(signed_in(app, chair))
    [row] = session.exec(select(PersonSession)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash


def test_sign_out_ends_the_session_on_the_server(app, session, chair):
    browser = signed_in(app, chair)
    token = session_cookie(browser)
    response = post_form(browser, "/afmelden", {})
    assert response.status_code == 303 and response.headers["location"].startswith("/aanmelden")
    assert session.exec(select(PersonSession)).first() is None
    replay = page_client(app)
    replay.cookies.set("__Host-uitstroom_sessie", token)
    assert replay.get("/overzicht").status_code == 303


def test_signing_in_again_in_the_same_browser_ends_the_session_it_held(app, client, region, chair):
    """The sign-in gives a new session id, and the one the browser held (another person's on a
    shared computer) ends with it: a copy of its cookie is dead too."""
    browser = signed_in(app, chair)
    old = session_cookie(browser)
    other = make_person(client, region.care_provider)
    expired = browser.post("/aanmelden", data={"signin_token": "stale"})  # an old tab's form
    assert expired.status_code == 403
    response = browser.post(
        "/aanmelden",
        data={
            "signin_token": hidden(expired.text, "signin_token"),
            "email": other.email,
            "wachtwoord": other.password,
        },
    )
    assert response.status_code == 303
    assert session_cookie(browser) != old
    copy = page_client(app)
    copy.cookies.set("__Host-uitstroom_sessie", old)
    assert copy.get("/overzicht").status_code == 303


def test_an_idle_session_expires(app, session, settings, chair):
    browser = signed_in(app, chair)
    row = session.exec(select(PersonSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(row)
    session.flush()
    assert browser.get("/overzicht").status_code == 303


def test_a_form_sent_after_the_session_ended_says_on_sign_in_that_nothing_was_saved(
    app, session, settings, chair
):
    """A form typed while the session idled out, or after a sign-out in another tab, was sent
    to the sign-in page without a word: the person could not tell whether it was saved. The
    sign-in page now says it was not, and leads back to the page the form was on."""
    browser = signed_in(app, chair)
    token = csrf_of(browser, "/account")
    row = session.exec(select(PersonSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(row)
    session.flush()
    response = browser.post(
        "/account/wachtwoord",
        data={"csrf_token": token, "huidig_wachtwoord": chair.password},
        headers={"Referer": "https://testserver/account"},
    )
    assert response.status_code == 303
    target = response.headers["location"]
    assert target.startswith("/aanmelden?volgende=/account&")
    page = browser.get(target)
    assert page.status_code == 200
    assert "niet opgeslagen" in page.text
    assert hidden(page.text, "volgende") == "/account"
    # Another site's page as Referer is no target.
    response = page_client(app).post(
        "/account/wachtwoord", data={}, headers={"Referer": "https://evil.example/account"}
    )
    assert response.headers["location"].startswith("/aanmelden?volgende=/overzicht&")
    # A page shown in answer to a form (a refusal at the form's address) is no page to open.
    response = page_client(app).post(
        "/account/wachtwoord", data={}, headers={"Referer": "https://testserver/account/wachtwoord"}
    )
    assert response.headers["location"].startswith("/aanmelden?volgende=/overzicht&")
    # Signing out of a session that had ended is no form lost.
    signed_out = browser.post("/afmelden", data={"csrf_token": token})
    assert "U bent afgemeld" in browser.get(signed_out.headers["location"]).text


@pytest.mark.parametrize("referer", ["https://[::1", "https://]testserver/account", "https://[x]/"])
def test_a_form_sent_without_a_session_with_an_unreadable_referer_leads_to_the_overview(
    app, referer
):
    """A Referer that is no URL (a broken proxy, a hand-made request) was a 500 from the
    parsing of it; it is no page to return to, as another site's is not."""
    response = page_client(app).post("/account/wachtwoord", data={}, headers={"Referer": referer})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/aanmelden?volgende=/overzicht&")


def expire_the_session(session) -> None:  # type: ignore[no-untyped-def]
    """The one signed-in session reaches its absolute expiry (a second ago)."""
    row = session.exec(select(PersonSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.flush()


def test_a_page_opened_after_the_session_expired_says_so_on_sign_in(app, session, chair):
    browser = signed_in(app, chair)
    expire_the_session(session)
    target = browser.get("/account").headers["location"]
    page = browser.get(target)
    assert "Uw sessie is verlopen" in page.text
    # A visitor who held no session is not told that one expired.
    fresh = page_client(app)
    assert "verlopen" not in fresh.get(fresh.get("/account").headers["location"]).text


def test_a_session_ends_at_its_absolute_expiry_however_busy(app, session, chair):
    browser = signed_in(app, chair)
    expire_the_session(session)
    assert browser.get("/overzicht").status_code == 303


def test_after_sign_in_the_browser_only_goes_to_a_page_of_this_site(app, chair):
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = submit_sign_in(page_client(app), chair.email, chair.password, target)
        assert response.headers["location"] == "/overzicht", target
    response = submit_sign_in(page_client(app), chair.email, chair.password, "/account")
    assert response.headers["location"] == "/account"


# --- CSRF ----------------------------------------------------------------------------------


def test_a_post_without_a_csrf_token_is_refused_with_403(app, session, region, chair):
    browser = signed_in(app, chair)
    response = browser.post(f"/tafels/{region.table_id}/vergaderingen", data={"datum": DATE})
    assert response.status_code == 403
    assert "Het formulier is verlopen" in response.text
    assert session.exec(select(Meeting)).first() is None
    # Not 'Geen toegang: your organisation or role may not do this', which it may (an
    # expired form: signed in again in another tab), but what happened and what to do.
    assert "<h1>Formulier verlopen</h1>" in response.text
    assert "mag dit niet" not in response.text
    assert "niets opgeslagen" in response.text


def test_a_post_with_a_wrong_csrf_token_is_refused_with_403(app, session, region, chair):
    browser = signed_in(app, chair)
    response = browser.post(
        f"/tafels/{region.table_id}/vergaderingen", data={"datum": DATE, "csrf_token": "0" * 64}
    )
    assert response.status_code == 403
    assert session.exec(select(Meeting)).first() is None


def test_the_csrf_token_of_another_session_is_refused(app, client, region, chair):
    other = signed_in(app, make_person(client, region.chair, "chair"))
    browser = signed_in(app, chair)
    response = browser.post(
        f"/tafels/{region.table_id}/vergaderingen",
        data={"datum": DATE, "csrf_token": csrf_of(other)},
    )
    assert response.status_code == 403


def test_sign_out_needs_the_csrf_token_too(app, session, chair):
    browser = signed_in(app, chair)
    assert browser.post("/afmelden", data={}).status_code == 403
    assert session.exec(select(PersonSession)).first() is not None


def test_the_sign_in_form_carries_its_own_token(app, chair):
    browser = page_client(app)
    response = browser.post(
        "/aanmelden", data={"email": chair.email, "wachtwoord": chair.password, "volgende": ""}
    )
    assert response.status_code == 403
    assert "__Host-uitstroom_sessie" not in browser.cookies


def test_a_sign_in_form_opened_in_two_tabs_signs_in_from_either(app, chair):
    # Each form shown gave the browser a new token cookie, so the form of the tab opened first
    # was refused as expired ("Het formulier was verlopen") though it was a minute old: two
    # tabs sent to /aanmelden when a session ended left only the last one working.
    browser = page_client(app)
    first = hidden(browser.get("/aanmelden").text, "signin_token")
    browser.get("/aanmelden?volgende=/account")  # the second tab
    form = {
        "signin_token": first,
        "volgende": "",
        "email": chair.email,
        "wachtwoord": chair.password,
    }
    response = browser.post("/aanmelden", data=form)
    assert response.status_code == 303
    assert "__Host-uitstroom_sessie" in browser.cookies
    # A token the browser was not given stays refused.
    other = page_client(app)
    other.get("/aanmelden")
    refused = other.post("/aanmelden", data=form)
    assert refused.status_code == 403


# --- lock-out ------------------------------------------------------------------------------


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(app, chair):
    wrong = submit_sign_in(page_client(app), chair.email, "not the password at all")
    unknown = submit_sign_in(page_client(app), "nobody@example.nl", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert "Het e-mailadres of het wachtwoord klopt niet." in wrong.text
    assert "Het e-mailadres of het wachtwoord klopt niet." in unknown.text


def test_five_failures_in_a_row_lock_the_email_even_for_the_right_password(app, chair):
    # The clock stands still: on a busy machine the next try came a second after the lock,
    # and Retry-After said (rightly) 899.
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        statuses = [
            submit_sign_in(page_client(app), chair.email, "wrong password!").status_code
            for _ in range(5)
        ]
        assert statuses == [400, 400, 400, 400, 429]
        locked = submit_sign_in(page_client(app), chair.email.upper(), chair.password)
    assert locked.status_code == 429
    assert "Te veel mislukte pogingen" in locked.text
    assert int(locked.headers["retry-after"]) == 15 * 60


def test_a_lock_says_how_long_it_still_lasts_not_the_whole_window(app, chair):
    # Ten minutes into the fifteen, the page said "over 15 minuten" and Retry-After 900,
    # though a try five minutes later gets in: the lock is not lengthened by a refused try.
    locked_at = START + timedelta(hours=1)
    with time_machine.travel(locked_at, tick=False):
        browser = signed_in(app, chair)
        for _ in range(5):
            submit_sign_in(page_client(app), chair.email, "wrong password!")
    with time_machine.travel(locked_at + timedelta(minutes=10), tick=False):
        locked = submit_sign_in(page_client(app), chair.email, chair.password)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) == 5 * 60
        assert "Probeer het over 5 minuten opnieuw." in locked.text
    with time_machine.travel(locked_at + timedelta(minutes=14, seconds=30), tick=False):
        locked = change_password(browser, chair.password)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) == 30
        assert "Probeer het over 1 minuut opnieuw." in locked.text
    with time_machine.travel(locked_at + timedelta(minutes=15), tick=False):
        assert submit_sign_in(page_client(app), chair.email, chair.password).status_code == 303


def test_an_unknown_email_locks_exactly_like_a_known_one(app):
    statuses = [
        submit_sign_in(page_client(app), "nobody@example.nl", "wrong password!").status_code
        for _ in range(6)
    ]
    assert statuses == [400, 400, 400, 400, 429, 429]


def test_the_lock_lifts_when_its_window_has_passed(app, session, chair):
    for _ in range(5):
        submit_sign_in(page_client(app), chair.email, "wrong password!")
    for row in session.exec(select(SignInThrottle)).all():
        row.locked_until = utcnow() - timedelta(seconds=1)
        session.add(row)
    session.flush()
    assert submit_sign_in(page_client(app), chair.email, chair.password).status_code == 303


def test_a_successful_sign_in_resets_the_count(app, chair):
    for _ in range(4):
        submit_sign_in(page_client(app), chair.email, "wrong password!")
    assert submit_sign_in(page_client(app), chair.email, chair.password).status_code == 303
    statuses = [
        submit_sign_in(page_client(app), chair.email, "wrong password!").status_code
        for _ in range(4)
    ]
    assert statuses == [400] * 4


def test_guesses_at_the_current_password_on_the_account_page_count_toward_the_lock_out(
    app, session, chair
):
    """Whoever finds a browser left signed in must not guess the password there without end:
    a wrong current password is a failed sign-in of the email."""
    person = session.exec(select(Person).where(Person.email == chair.email)).one()
    before = person.password_hash
    with time_machine.travel(START + timedelta(hours=1), tick=False):  # Retry-After: as above
        browser = signed_in(app, chair)
        statuses = [change_password(browser, f"wrong guess {n:03}").status_code for n in range(5)]
        assert statuses == [400, 400, 400, 400, 429]
        locked = change_password(browser, chair.password)
    assert locked.status_code == 429
    assert "Te veel mislukte pogingen" in locked.text
    assert int(locked.headers["retry-after"]) == 15 * 60
    session.refresh(person)
    assert person.password_hash == before
    assert submit_sign_in(page_client(app), chair.email, chair.password).status_code == 429


def test_the_right_current_password_resets_the_count_of_wrong_ones(app, chair):
    browser = signed_in(app, chair)
    for n in range(4):
        assert change_password(browser, f"wrong guess {n:03}").status_code == 400
    assert change_password(browser, chair.password).status_code == 303
    statuses = [
        submit_sign_in(page_client(app), chair.email, "wrong password!").status_code
        for _ in range(4)
    ]
    assert statuses == [400] * 4


def test_ones_own_new_password_sent_twice_stands_and_counts_no_failure(app, client, chair):
    """A double click on *Wachtwoord wijzigen*: the first sending changes the password, so the
    second's current one no longer opens the account. It said "Het huidige wachtwoord klopt
    niet", so the person believed the change had failed, and it counted as a failed sign-in.
    The new password it asks is the one set now: it stands, recorded once."""
    browser = signed_in(app, chair)
    token = csrf_of(browser)
    new = "een heel nieuw wachtwoord"
    form = {
        "csrf_token": token,
        "huidig_wachtwoord": chair.password,
        "nieuw_wachtwoord": new,
        "herhaal_wachtwoord": new,
    }
    first = browser.post("/account/wachtwoord", data=form)
    assert first.status_code == 303, first.text
    again = browser.post("/account/wachtwoord", data=form)
    assert again.status_code == 303, again.text
    assert again.headers["location"] == "/account?melding=wachtwoord"
    statuses = [
        submit_sign_in(page_client(app), chair.email, "wrong password!").status_code
        for _ in range(4)
    ]
    assert statuses == [400] * 4  # the second sending counted no failure: a fifth would lock
    assert submit_sign_in(page_client(app), chair.email, new).status_code == 303
    trail = client.get(
        f"/v1/organizations/{chair.org.id}/people/{chair.id}/changes", headers=chair.org.headers
    ).json()["items"]
    assert [c["change"] for c in trail].count("password") == 2  # made with one, changed once


def test_a_wrong_current_password_after_ones_own_change_is_still_refused(app, chair):
    """What stands is only the password set now: right after one's own change, a current
    password that is wrong with a new one that is not the password set is refused as ever."""
    browser = signed_in(app, chair)
    assert change_password(browser, chair.password).status_code == 303
    refused = change_password(browser, chair.password, "nog een ander wachtwoord")
    assert refused.status_code == 400
    assert "huidige wachtwoord klopt niet" in refused.text


@pytest.mark.settings(signin_max_failures=3, signin_lockout_minutes=60)
def test_the_sign_in_page_states_the_lock_out_the_service_applies(app, chair):
    """The page's hint said five failures lock for a quarter of an hour whatever
    `UITSTROOM_SIGNIN_MAX_FAILURES` and `_LOCKOUT_MINUTES` were: with 3 and 60 a person
    counting on five tries was locked out after three, for an hour."""
    page = page_client(app).get("/aanmelden")
    hint = re.sub(r"\s+", " ", page.text.split('class="hint">')[1].split("</p>")[0])
    assert "Na 3 mislukte pogingen op rij wordt aanmelden 60 minuten geblokkeerd." in hint
    statuses = [
        submit_sign_in(page_client(app), chair.email, "wrong password!").status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]


def test_passwords_are_stored_as_argon2id_hashes_only(session, chair):
    person = session.exec(select(Person).where(Person.email == chair.email)).one()
    assert person.password_hash.startswith("$argon2id$")
    assert PASSWORD not in person.password_hash


# --- roles ---------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_post(app, client, region, published):
    viewer = signed_in(app, make_person(client, region.chair, "viewer"))
    meeting = f"/vergaderingen/{published.meeting_id}"
    assert viewer.get(meeting).status_code == 200
    proposal = viewer.get(f"/voorstellen/{published.proposal_id}")
    assert "Als meelezer" in proposal.text and "Vastleggen" not in proposal.text
    decided = post_form(
        viewer, f"/voorstellen/{published.proposal_id}/besluit", {"besluit": "nominate"}
    )
    assert decided.status_code == 403
    scheduled = post_form(viewer, f"/tafels/{region.table_id}/vergaderingen", {"datum": DATE})
    assert scheduled.status_code == 403
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["status"] == "proposed"


def test_a_viewer_turns_their_own_notices_off_but_nothing_else(app, client, region, published):
    """The README listed signing out and one's own password as a viewer's only forms, while
    the notices page takes a viewer's choice too, as it should (mail they do not want would
    otherwise go on): the README names it now."""
    person = make_person(client, region.corporation, "viewer")
    viewer = signed_in(app, person)
    form = {"versie": "0", "actions": "aan"}
    saved = post_form(viewer, "/account/meldingen", form, "/account/meldingen")
    assert saved.status_code == 303, saved.text
    choices = client.get(
        f"/v1/organizations/{region.corporation.id}/people/{person.id}/notice-preferences",
        headers=region.corporation.headers,
    ).json()
    assert (choices["actions"], choices["digest"], choices["proposals"]) == (True, False, False)


def test_a_member_of_the_chair_organisation_does_not_chair(app, client, region):
    member = signed_in(app, make_person(client, region.chair, "member"))
    page = member.get(f"/tafels/{region.table_id}")
    assert "Vergadering plannen" not in page.text
    response = post_form(member, f"/tafels/{region.table_id}/vergaderingen", {"datum": DATE})
    assert response.status_code == 403
    assert "voorzitter" in response.text


def test_a_chair_role_in_another_organisation_does_not_chair_this_table(app, client, region):
    provider_chair = signed_in(app, make_person(client, region.care_provider, "chair"))
    response = post_form(
        provider_chair, f"/tafels/{region.table_id}/vergaderingen", {"datum": DATE}
    )
    assert response.status_code == 403


def test_a_corporation_member_decides_its_own_share_only(app, client, region, published):
    corporation = signed_in(app, make_person(client, region.corporation, "member"))
    url = f"/voorstellen/{published.proposal_id}"
    page = corporation.get(url)
    assert "Vastleggen: Corporatie wijst af" in page.text
    assert "Vastleggen: Voordragen" not in page.text
    nominate = post_form(corporation, url + "/besluit", {"besluit": "nominate"}, url)
    assert nominate.status_code == 403


# --- organisation scoping ------------------------------------------------------------------


def test_people_of_another_table_get_the_apis_404(app, client, region, other_region, published):
    outsider = signed_in(app, make_person(client, other_region.chair, "chair", is_admin=True))
    for path in page_paths(region, published)[3:]:
        response = outsider.get(path)
        assert response.status_code == 404, path
        assert "Niet gevonden" in response.text
    api = client.get(f"/v1/meetings/{published.meeting_id}", headers=other_region.chair.headers)
    assert_problem(api, 404)
    posted = post_form(
        outsider, f"/voorstellen/{published.proposal_id}/besluit", {"besluit": "nominate"}
    )
    assert posted.status_code == 404


def test_a_corporation_sees_only_the_profile_of_a_case_proposed_to_it_never_its_timeline(
    app, client, region, published
):
    corporation = signed_in(app, make_person(client, region.corporation))
    page = corporation.get(f"/dossiers/{published.case_id}")
    assert page.status_code == 200
    assert "Huishoudgrootte" in page.text and "Tijdlijn" not in page.text
    other = signed_in(app, make_person(client, region.other_corporation))
    assert other.get(f"/dossiers/{published.case_id}").status_code == 404
    api = client.get(f"/v1/cases/{published.case_id}/timeline", headers=region.corporation.headers)
    assert_problem(api, 404)


def test_a_corporations_case_page_listing_only_closed_proposals_is_in_the_access_log(
    app, client, region, published
):
    """Every answer that shows a case id writes the access log: the corporation's case page
    lists its proposals of the case, but it logged a read only while one was open (`profile`);
    once the proposal closed the page still named the case and its proposals, unlogged."""
    declined = client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "corporation_decline", "reason": "unsuitable_for_dwelling"},
        headers=region.corporation.headers,
    )
    assert declined.status_code == 200, declined.text
    corporation = signed_in(app, make_person(client, region.corporation))

    page = corporation.get(f"/dossiers/{published.case_id}")

    assert page.status_code == 200 and "niet meer zichtbaar" in page.text
    log = client.get(
        f"/v1/cases/{published.case_id}/access-log", headers=region.care_provider.headers
    ).json()["items"]
    shown = [
        e
        for e in log
        if e["organisation_id"] == region.corporation.id
        and e["endpoint"] == "GET /dossiers/{case_id}"
    ]
    assert [e["action"] for e in shown] == ["proposal"]


def test_another_care_provider_sees_neither_the_case_nor_the_proposal(
    app, client, region, published
):
    other = signed_in(app, make_person(client, region.other_care_provider))
    assert other.get(f"/dossiers/{published.case_id}").status_code == 404
    assert other.get(f"/voorstellen/{published.proposal_id}").status_code == 404
    agenda = other.get(f"/vergaderingen/{published.meeting_id}")
    assert agenda.status_code == 200 and published.case_id not in agenda.text


# --- the rest of the house -----------------------------------------------------------------


def test_page_views_are_in_the_access_log_with_the_person(app, client, region, published, chair):
    browser = signed_in(app, chair)
    assert browser.get(f"/dossiers/{published.case_id}").status_code == 200
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": published.case_id},
        headers=region.chair.headers,
    ).json()["items"]
    entry = log[-1]
    assert entry["person_id"] == chair.id and entry["api_key_id"] is None
    assert entry["organisation_id"] == region.chair.id
    assert entry["endpoint"] == "GET /dossiers/{case_id}"
    assert entry["action"] == "read"


def test_pages_carry_security_headers(app, chair):
    response = signed_in(app, chair).get("/overzicht")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert '<html lang="nl">' in response.text


def test_the_pages_are_not_part_of_the_api_contract(app):
    from app.web import routes_auth, routes_meetings, routes_monitor, routes_people

    contract = app.openapi()
    # Every documented path is under the API's base (`servers`), and no page is documented.
    assert [server["url"] for server in contract["servers"]] == ["/v1"]
    pages = {
        route.path
        for module in (routes_auth, routes_meetings, routes_monitor, routes_people)
        for route in module.router.routes
    }
    documented = {"/v1" + path for path in contract["paths"]} | set(contract["paths"])
    assert pages and not pages & documented


def test_the_sign_in_form_does_not_echo_the_password(app, chair):
    response = submit_sign_in(page_client(app), chair.email, "a wrong password here")
    assert "a wrong password here" not in response.text
    assert hidden(response.text, "signin_token")


def test_counters_of_guessed_emails_do_not_pile_up(app, session, chair):
    submit_sign_in(page_client(app), "guess@example.nl", "wrong password!")
    for row in session.exec(select(SignInThrottle)).all():
        row.window_started_at = utcnow() - timedelta(hours=1)
        session.add(row)
    session.flush()
    submit_sign_in(page_client(app), chair.email, chair.password)
    guessed = subject_hash("email", "guess@example.nl")
    assert session.get(SignInThrottle, guessed) is None


def test_every_form_post_checks_the_csrf_token_first(app, chair):
    from app.web import page_modules

    browser = signed_in(app, chair)
    posts = [
        route.path
        for module in page_modules()
        for route in module.router.routes
        if "POST" in route.methods and route.path != "/aanmelden"
    ]
    assert len(posts) >= 9
    for path in posts:
        url = re.sub(r"\{[a-z_]+\}", "01a20800-0000-7000-8000-000000000000", path)
        response = browser.post(url, data={"csrf_token": "wrong"})
        assert response.status_code == 403, path
        assert "Het formulier is verlopen" in response.text, path


def test_every_conflict_the_meeting_forms_can_meet_has_a_dutch_message():
    """A 409 from the services behind the meeting, proposal, action and Nazorg forms reads in
    Dutch, not as the generic "Dit kan nu niet" (breaker 32 found `inputs_changed` and
    `open_proposal_exists` without one)."""
    raised = set()
    for package in ("meetings", "proposals", "actions", "aftercare"):
        for path in Path("app", package).glob("*.py"):
            raised |= set(CONFLICT_CODE.findall(path.read_text()))
    raised |= set(CONFLICT_CODE.findall(Path("app/cases/dates.py").read_text()))
    assert raised, "found no conflicts: has the services' layout changed?"
    assert sorted(raised - CONFLICT_MESSAGES.keys()) == []


CONFLICT_CODE = re.compile(r'Conflict\((?:[^()]|\([^()]*\))*?code="([a-z_]+)"', re.S)


def test_a_sign_in_form_in_a_content_coding_is_a_415_page(app):
    # As any other page's form (RFC 9110 section 12.5.3): not 'Het formulier was verlopen'.
    page = page_client(app).post(
        "/aanmelden",
        content=b"signin_token=x&email=a%40example.nl&wachtwoord=y",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Encoding": "gzip",
        },
    )
    assert page.status_code == 415
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["accept-encoding"] == "identity"
