"""A page write under way while its person is blocked, given a new password or signed out in
another tab: it commits before the session ends, or not at all, as a key's writes do before its
revocation (`app.auth.HELD_KEY`)."""

import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlmodel import Session, col

from app.people.models import PersonSession
from app.web import routes_auth
from tests.conftest import OPERATOR, create_case, make_region
from tests.locks import wait_until_sessions_wait_for_locks
from tests.web.conftest import (
    change_password,
    hidden,
    make_person,
    page_client,
    signed_in,
    submit_sign_in,
)

pytestmark = pytest.mark.usefixtures("no_deadlocks")

ENDINGS = ["blocked", "new_password", "signed_out"]


def _status(session: Session, case_id: str) -> str:
    found = session.connection().execute(
        text("SELECT status FROM cases WHERE id = :c"), {"c": case_id}
    )
    return str(found.scalar_one())


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_page_write_under_way_when_its_session_ends_commits_before_the_end_or_not_at_all(
    live_app, ending
):
    """A member puts a client's case on hold on its page; the write waits (here for the case's
    row) while their admin blocks them, gives them a new password (the old one leaked) or they
    sign out in another tab. The write had read the session as valid and went on to commit
    after the session's end was answered: whoever held the session (a colleague who left, a
    thief with the cookie) still changed the case once it was ended, which the admin, looking
    after blocking, did not see yet. API keys hold off their revocation so; page sessions held
    off nothing. The end now waits for the write (or the write is refused): what is stored
    when the end is answered stays as it is."""
    engine = live_app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no write is under way meanwhile")
    with TestClient(live_app, raise_server_exceptions=False) as live:
        region = make_region(live)
        case = create_case(live, region.care_provider, region.table_id)
        person = make_person(live, region.care_provider)
        browser = signed_in(live_app, person)
        page = browser.get(f"/dossiers/{case['id']}/bewerken").text
        on_hold = {"status": "on_hold", "reden": "client_request"}
        version = hidden(page, "versie").replace("&#34;", '"')
        form = {"csrf_token": hidden(page, "csrf_token"), "versie": version, **on_hold}
        answers: dict[str, httpx.Response] = {}
        seen: dict[str, str] = {}

        def write() -> None:
            answers["write"] = browser.post(f"/dossiers/{case['id']}/status", data=form)

        def end() -> None:
            if ending == "signed_out":  # another tab of the same browser
                tab = page_client(live_app)
                tab.cookies = browser.cookies
                answers["end"] = tab.post("/afmelden", data={"csrf_token": form["csrf_token"]})
            else:
                change = {"active": False} if ending == "blocked" else {"password": "x" * 16}
                url = f"/v1/organizations/{region.care_provider.id}/people/{person.id}"
                answers["end"] = live.patch(url, json=change, headers=OPERATOR)
            with Session(engine) as reader:
                seen["when ended"] = _status(reader, case["id"])

        with Session(engine) as holder:
            holder.connection().execute(
                text("SELECT id FROM cases WHERE id = :c FOR UPDATE"), {"c": case["id"]}
            )
            writing, ending_it = threading.Thread(target=write), threading.Thread(target=end)
            writing.start()
            wait_until_sessions_wait_for_locks(holder, writing, 1)
            ending_it.start()
            # The end waits behind the write, or has been answered.
            wait_until_sessions_wait_for_locks(holder, ending_it, 2)
            if ending_it.is_alive():  # a form sent now is answered at once, not held off
                tab = page_client(live_app)
                tab.cookies = browser.cookies
                answers["meanwhile"] = tab.post(f"/dossiers/{case['id']}/status", data=form)
            holder.commit()
            writing.join(timeout=60)
            ending_it.join(timeout=60)
        with Session(engine) as reader:
            stored = _status(reader, case["id"])
        assert answers["end"].status_code in (200, 303), answers["end"].text
        assert answers["write"].status_code in (303, 503), answers["write"].text
        assert (seen["when ended"], stored) == (stored, stored), "written after the end"
        assert answers["meanwhile"].status_code == 503, answers["meanwhile"].text
        assert browser.get("/overzicht").status_code == 303  # to sign in again


def test_a_page_write_whose_session_ends_between_its_transactions_stores_nothing(
    live_app, monkeypatch
):
    """A page write commits its rate-limit token first, then goes on in a new transaction; the
    person was blocked in between (their sessions ended). The rest of the write still ran: a
    new password set by a session that had ended. Each later transaction holds the session
    again, as its first did, and finds it ended: the person is sent to sign in, nothing saved."""
    original = routes_auth.limit_person

    def ended_after_the_token(session, settings, person, endpoint_class):  # type: ignore[no-untyped-def]
        original(session, settings, person, endpoint_class)
        session.commit()  # as a token taken does
        with Session(live_app.state.engine) as other:
            other.exec(delete(PersonSession).where(col(PersonSession.person_id) == person.id))
            other.commit()

    with TestClient(live_app, raise_server_exceptions=False) as live:
        person = make_person(live, make_region(live).care_provider)
        browser = signed_in(live_app, person)
        monkeypatch.setattr(routes_auth, "limit_person", ended_after_the_token)
        changed = change_password(browser, person.password)
        monkeypatch.setattr(routes_auth, "limit_person", original)
    assert (changed.status_code, changed.headers["location"]) == (
        303,
        "/aanmelden?volgende=/overzicht&melding=niet_opgeslagen",
    )
    assert submit_sign_in(page_client(live_app), person.email, person.password).status_code == 303
