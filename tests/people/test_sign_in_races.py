"""A new password set while the person signs in: both wait their turn, neither deadlocks."""

import threading
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from app import transient
from app.people import service
from app.people.models import PersonSession
from app.sqltypes import utcnow
from tests.conftest import OPERATOR, make_org
from tests.locks import wait_until_a_session_waits_for_a_lock
from tests.web.conftest import (
    PASSWORD,
    csrf_of,
    make_person,
    new_password_form,
    page_client,
    signed_in,
    submit_sign_in,
)

pytestmark = pytest.mark.usefixtures("no_deadlocks")


def counting_deadlocks(monkeypatch) -> list[BaseException]:  # type: ignore[no-untyped-def]
    """The deadlocks `app.transient` sees from now on (it runs their requests again)."""
    deadlocks: list[BaseException] = []
    classify = transient.classify

    def counting(error):  # type: ignore[no-untyped-def]
        if getattr(getattr(error, "orig", None), "sqlstate", None) == "40P01":
            deadlocks.append(error)
        return classify(error)

    monkeypatch.setattr(transient, "classify", counting)
    return deadlocks


def starting_once(original, reached, other):  # type: ignore[no-untyped-def]
    """`original`, which the first time round sets `reached`, starts the thread `other()`
    and waits until it waits for a lock of `original`'s session, its first argument (or is
    done)."""

    def pausing(*args):  # type: ignore[no-untyped-def]
        if not reached.is_set():
            reached.set()
            thread = other()
            thread.start()
            wait_until_a_session_waits_for_a_lock(args[0], thread)
        return original(*args)

    return pausing


@pytest.mark.parametrize(
    ("pause_before", "expired_session", "signed_in_first"),
    [
        # The sign-in holds the email's throttle row and is about to update the person's row,
        # which the new password locked before it went for the throttle row. The new password
        # waits for the sign-in now.
        ("_record_sign_in", False, True),
        # The sign-in has deleted the expired sessions (the person's among them) and goes for
        # the email's throttle row, which the new password held while it ended the person's
        # sessions. The sign-in deletes expired sessions last now: the new password comes
        # first, and the old one is refused.
        ("_throttle", True, False),
    ],
)
def test_a_new_password_set_while_the_person_signs_in_does_not_deadlock(
    live_app, monkeypatch, pause_before, expired_session, signed_in_first
):
    """Signing in deletes expired sessions, locks the email's throttle row, checks the
    password, then updates the person's row (its last sign-in). The API's new password locked
    the person's row, then ended their sessions and deleted that throttle row (lifting a
    lock-out): where the two met, each waited for the other, a deadlock, which PostgreSQL ended
    by aborting one (the API ran it again). Here the sign-in starts the new password at
    `pause_before` and waits until it waits for a lock (or is done); `app.transient` counts
    the deadlocks."""
    if live_app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    deadlocks = counting_deadlocks(monkeypatch)
    reached, answers = threading.Event(), {}
    original = getattr(service, pause_before)
    pausing = starting_once(original, reached, lambda: patching)

    with TestClient(live_app, raise_server_exceptions=False) as live:
        org = make_org(live, "care_provider")
        person = make_person(live, org)
        if expired_session:
            signed_in(live_app, person)
        # A failure, so that the email has a throttle row, which a new password deletes.
        assert submit_sign_in(page_client(live_app), person.email, "wrong password!").status_code
        if expired_session:  # after that sign-in, which would have deleted it
            with Session(live_app.state.engine) as session:
                session.exec(
                    update(PersonSession)
                    .where(col(PersonSession.person_id) == uuid.UUID(person.id))
                    .values(expires_at=utcnow() - timedelta(minutes=1))
                )
                session.commit()
        url = f"/v1/organizations/{org.id}/people/{person.id}"
        new = "een ander lang wachtwoord"

        def patch() -> None:
            answers["patch"] = live.patch(url, json={"password": new}, headers=OPERATOR)

        def sign_in() -> None:
            answers["sign_in"] = submit_sign_in(page_client(live_app), person.email, PASSWORD)

        patching, signing_in = threading.Thread(target=patch), threading.Thread(target=sign_in)
        monkeypatch.setattr(service, pause_before, pausing)
        signing_in.start()
        signing_in.join(timeout=60)
        assert reached.is_set()
        patching.join(timeout=60)
        monkeypatch.setattr(service, pause_before, original)
        assert deadlocks == []
        assert answers["sign_in"].status_code == (303 if signed_in_first else 400)
        assert answers["patch"].status_code == 200, answers["patch"].text
        assert submit_sign_in(page_client(live_app), person.email, new).status_code == 303


@pytest.mark.parametrize("page", ["reset", "own"])
def test_a_new_password_from_a_page_while_the_person_signs_in_does_not_deadlock(
    live_app, monkeypatch, page
):
    """As through the API, for the pages' new passwords: an admin's reset of a colleague's
    (`/mensen/{id}/wachtwoord`) and one's own change (`/account/wachtwoord`). They updated the
    person's row first (the ORM flushed the new hash before ending the sessions), then went
    for the email's throttle row, which the sign-in held while it waited for the person's
    row: a deadlock (found by breaker 14)."""
    if live_app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    deadlocks = counting_deadlocks(monkeypatch)
    reached, answers = threading.Event(), {}
    original = service._record_sign_in
    pausing = starting_once(original, reached, lambda: changing)

    with TestClient(live_app, raise_server_exceptions=False) as live:
        org = make_org(live, "care_provider")
        person = make_person(live, org)
        new = "een ander lang wachtwoord"
        if page == "reset":
            browser = signed_in(live_app, make_person(live, org, is_admin=True))
            url = f"/mensen/{person.id}/wachtwoord"
            form = new_password_form(browser, person.id)
            token = form.pop("csrf_token")
        else:
            browser = signed_in(live_app, person)
            url = "/account/wachtwoord"
            form = {
                "huidig_wachtwoord": PASSWORD,
                "nieuw_wachtwoord": new,
                "herhaal_wachtwoord": new,
            }
            token = csrf_of(browser)
        # A failure, so that the email has a throttle row, which a new password deletes.
        assert submit_sign_in(page_client(live_app), person.email, "wrong password!").status_code

        def change() -> None:
            answers["change"] = browser.post(url, data={"csrf_token": token, **form})

        def sign_in() -> None:
            answers["sign_in"] = submit_sign_in(page_client(live_app), person.email, PASSWORD)

        changing, signing_in = threading.Thread(target=change), threading.Thread(target=sign_in)
        monkeypatch.setattr(service, "_record_sign_in", pausing)
        signing_in.start()
        signing_in.join(timeout=60)
        assert reached.is_set()
        changing.join(timeout=60)
        monkeypatch.setattr(service, "_record_sign_in", original)
        assert deadlocks == []
        assert answers["sign_in"].status_code == 303
        assert answers["change"].status_code in (200, 303), answers["change"].text


@pytest.mark.parametrize("page", ["api", "reset"])
def test_a_sign_in_with_the_password_a_new_one_replaced_meanwhile_keeps_no_session(
    live_app, monkeypatch, page
):
    """An admin sets a new password (the old one leaked) while someone signs in with the old
    one, between its check (argon2, a third of a second) and the start of the session. With
    no failures for the email there is no throttle row to wait for (the sign-in's own is not
    committed yet), so the new password ended the person's sessions and committed first, and
    the sign-in then started a session with the password just replaced: it stayed signed in
    for up to 12 hours. The sign-in starts none now when the password it checked is no longer
    the person's."""
    if live_app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing runs between check and session")
    reached, answers = threading.Event(), {}
    original = service._record_sign_in
    pausing = starting_once(original, reached, lambda: changing)

    with TestClient(live_app, raise_server_exceptions=False) as live:
        org = make_org(live, "care_provider")
        person = make_person(live, org)
        new = "een ander lang wachtwoord"
        if page == "api":
            url = f"/v1/organizations/{org.id}/people/{person.id}"

            def change() -> None:
                answers["change"] = live.patch(url, json={"password": new}, headers=OPERATOR)

        else:
            admin = signed_in(live_app, make_person(live, org, is_admin=True))
            form = new_password_form(admin, person.id)

            def change() -> None:
                answers["change"] = admin.post(f"/mensen/{person.id}/wachtwoord", data=form)

        browser = page_client(live_app)

        def sign_in() -> None:
            answers["sign_in"] = submit_sign_in(browser, person.email, PASSWORD)

        changing, signing_in = threading.Thread(target=change), threading.Thread(target=sign_in)
        monkeypatch.setattr(service, "_record_sign_in", pausing)
        signing_in.start()
        signing_in.join(timeout=60)
        assert reached.is_set()
        changing.join(timeout=60)
        monkeypatch.setattr(service, "_record_sign_in", original)
        assert answers["change"].status_code == 200, answers["change"].text
        overview = browser.get("/overzicht", follow_redirects=False)
        assert overview.status_code == 303, "the replaced password opened a session"
        assert overview.headers["location"].startswith("/aanmelden")
        assert submit_sign_in(page_client(live_app), person.email, PASSWORD).status_code == 400
