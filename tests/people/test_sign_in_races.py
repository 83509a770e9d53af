"""A new password set while the person signs in: both wait their turn, neither deadlocks."""

import threading

import pytest
from fastapi.testclient import TestClient

from app import transient
from app.people import service
from tests.conftest import OPERATOR, make_org
from tests.locks import wait_until_a_session_waits_for_a_lock
from tests.web.conftest import PASSWORD, make_person, page_client, submit_sign_in


def test_a_new_password_set_while_the_person_signs_in_does_not_deadlock(live_app, monkeypatch):
    """Signing in locks the email's throttle row, checks the password, then updates the
    person's row (its last sign-in). The API's new password locked the person's row, then
    deleted that throttle row (lifting a lock-out): each waited for the other, a deadlock,
    which PostgreSQL ended by aborting one (the API ran it again). Here the sign-in pauses
    before its update until the new password waits for a lock; the new password takes the
    throttle row first now, so it simply waits for the sign-in."""
    if live_app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    deadlocks = []
    classify = transient.classify

    def counting(error):  # type: ignore[no-untyped-def]
        if getattr(getattr(error, "orig", None), "sqlstate", None) == "40P01":
            deadlocks.append(error)
        return classify(error)

    monkeypatch.setattr(transient, "classify", counting)
    checked, answers = threading.Event(), {}
    record = service._record_sign_in

    def pausing(*args):  # type: ignore[no-untyped-def]
        if not checked.is_set():
            checked.set()
            wait_until_a_session_waits_for_a_lock(live_app.state.engine, patching)
        record(*args)

    monkeypatch.setattr(service, "_record_sign_in", pausing)
    with TestClient(live_app, raise_server_exceptions=False) as live:
        org = make_org(live, "care_provider")
        person = make_person(live, org)
        url = f"/v1/organizations/{org.id}/people/{person.id}"
        new = "een ander lang wachtwoord"
        # A failure, so that the email has a throttle row, which a new password deletes.
        assert submit_sign_in(page_client(live_app), person.email, "wrong password!").status_code
        patching = threading.Thread(
            target=lambda: answers.update(
                patch=live.patch(url, json={"password": new}, headers=OPERATOR)
            )
        )

        def sign_in() -> None:
            answers["sign_in"] = submit_sign_in(page_client(live_app), person.email, PASSWORD)

        signing_in = threading.Thread(target=sign_in)
        signing_in.start()
        assert checked.wait(timeout=60)
        patching.start()
        signing_in.join(timeout=60)
        patching.join(timeout=60)
        assert answers["sign_in"].status_code == 303, answers["sign_in"].text
        assert answers["patch"].status_code == 200, answers["patch"].text
        assert submit_sign_in(page_client(live_app), person.email, new).status_code == 303
    assert deadlocks == []
