"""People through the API: who may create and manage them, and what is stored."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.people import service
from app.people.models import Person
from tests.api.helpers import assert_problem, invalid_names
from tests.conftest import OPERATOR
from tests.web.conftest import PASSWORD, make_person, page_client, signed_in, submit_sign_in


def people_url(org) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{org.id}/people"


def test_the_operator_creates_a_person_and_gets_a_generated_password_once(client, session, region):
    response = client.post(
        people_url(region.chair),
        json={"email": "Voorzitter@Gemeente.nl", "display_name": "Voorzitter", "role": "chair"},
        headers=OPERATOR,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "voorzitter@gemeente.nl"
    assert body["role"] == "chair" and body["is_admin"] is False and body["active"] is True
    assert len(body["initial_password"]) >= 12
    assert response.headers["cache-control"] == "no-store"
    stored = session.exec(select(Person).where(Person.email == body["email"])).one()
    assert stored.password_hash.startswith("$argon2id$")
    again = client.get(f"{people_url(region.chair)}/{body['id']}", headers=OPERATOR).json()
    assert "initial_password" not in again and "password_hash" not in again


def test_an_organisation_creates_its_own_people_only(client, region):
    own = client.post(
        people_url(region.care_provider),
        json={"email": "a@zorg.nl", "display_name": "A", "password": PASSWORD},
        headers=region.care_provider.headers,
    )
    assert own.status_code == 201
    assert own.json()["initial_password"] is None
    other = client.post(
        people_url(region.corporation),
        json={"email": "b@zorg.nl", "display_name": "B"},
        headers=region.care_provider.headers,
    )
    # The corporation is on the care provider's table, so the care provider sees it exists.
    assert_problem(other, 403, "forbidden")


def add_x(client, org, headers, email: str = "x@example.nl"):  # type: ignore[no-untyped-def]
    person = {"email": email, "display_name": "X", "password": PASSWORD}
    return client.post(people_url(org), json=person, headers=headers)


def test_an_email_of_another_organisation_is_no_conflict(client, region):
    # A refusal would tell the corporation that the address has an account at the chair's.
    assert add_x(client, region.chair, OPERATOR).status_code == 201
    second = add_x(client, region.corporation, region.corporation.headers, "X@EXAMPLE.NL")
    assert second.status_code == 201, second.text


def test_an_email_is_one_login_within_an_organisation(client, region):
    assert add_x(client, region.chair, OPERATOR).status_code == 201
    again = add_x(client, region.chair, OPERATOR, "X@EXAMPLE.NL")
    assert_problem(again, 409, "duplicate_email")


def test_a_second_person_with_the_email_is_refused_naming_the_first(client, region):
    first = add_x(client, region.chair, OPERATOR)
    again = add_x(client, region.chair, region.chair.headers, "X@EXAMPLE.NL")
    assert assert_problem(again, 409, "duplicate_email")["existing_id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]


def test_a_short_password_or_a_malformed_email_is_refused(client, region):
    response = client.post(
        people_url(region.chair),
        json={"email": "geen-adres", "display_name": "X", "password": "kort"},
        headers=OPERATOR,
    )
    assert set(invalid_names(response)) == {"email", "password"}


def test_a_malformed_email_or_password_is_refused_saying_what_it_should_be_not_the_regex(
    client, region
):
    """The reason quoted the email's pattern, some 500 characters of character classes and
    `\\u` escapes, which tells a client (or the operator on the command line) nothing."""
    response = client.post(
        people_url(region.chair),
        json={"email": "geen-adres", "display_name": "X", "password": "een\ttab in het midden"},
        headers=OPERATOR,
    )
    reasons = {p["name"]: p["reason"] for p in response.json()["invalidParams"]}
    assert set(reasons) == {"email", "password"}
    assert "pattern" not in reasons["email"] and "\\u" not in reasons["email"]
    assert "email address" in reasons["email"]
    assert "pattern" not in reasons["password"] and "control" in reasons["password"]


@pytest.mark.parametrize(
    ("password", "code"), [("kort", "string_too_short"), ("x" * 129, "string_too_long")]
)
def test_a_password_of_the_wrong_length_is_refused_in_the_words_of_the_command_line(
    client, region, password, code
):
    """The API refused it in pydantic's words ("String should have at least 12 characters")
    where `create-person` and the API's own refusal of a control character say the rule in
    the project's: the same rule read two ways. Both now say it alike, on creating and on
    changing a person; the code stays pydantic's."""
    person = make_person(client, region.care_provider)
    created = client.post(
        people_url(region.chair),
        json={"email": "piet@example.nl", "display_name": "Piet", "password": password},
        headers=OPERATOR,
    )
    changed = client.patch(
        f"{people_url(region.care_provider)}/{person.id}",
        json={"password": password},
        headers=OPERATOR,
    )
    for response in (created, changed):
        assert assert_problem(response, 400, "validation_error")["invalidParams"] == [
            {
                "name": "password",
                "in": "body",
                "code": code,
                "reason": "Should be 12 to 128 characters long",
            }
        ]


@pytest.mark.parametrize(
    "email",
    [
        "piet\x00@example.nl",
        "piet@exam\x01ple.nl",
        "piet\x85@example.nl",
        "piet\u202e@example.nl",
        "piet\u206a@example.nl",
        "pi\u200bet@example.nl",
        "piet@example\ufeff.nl",
    ],
    ids=["nul", "soh", "c1", "rlo", "inhibit-swapping", "zero-width-space", "bom"],
)
def test_an_email_with_a_control_or_invisible_character_is_refused(client, region, email):
    """The email's pattern refused only whitespace: a NUL byte reached PostgreSQL (a 500) or
    was stored by SQLite as a login no sign-in can give, and other control characters were
    stored on both. A character that shows nothing (U+200B) made a login name that reads as
    another's on the people page."""
    response = client.post(
        people_url(region.chair),
        json={"email": email, "display_name": "Piet", "password": PASSWORD},
        headers=OPERATOR,
    )
    assert invalid_names(response) == ["email"]
    people = client.get(people_url(region.chair), headers=OPERATOR).json()["items"]
    assert [p for p in people if p["display_name"] == "Piet"] == []


@pytest.mark.parametrize(
    "email",
    ["x<other@elsewhere.example>", "a,b@example.nl", '"piet"@example.nl', "p(c)@x.nl"],
    ids=["angle-brackets", "comma", "quotes", "comment"],
)
def test_an_email_a_mail_header_reads_as_other_addresses_is_refused(client, region, email):
    """Such a login name gets no mail (`app.mail.compose` gives it up rather than send to what
    a header reads in it): refused when it is given, where the person can still correct it."""
    response = client.post(
        people_url(region.chair),
        json={"email": email, "display_name": "Piet", "password": PASSWORD},
        headers=OPERATOR,
    )
    assert invalid_names(response) == ["email"]


def test_an_email_with_an_apostrophe_or_plus_is_accepted(client, region):
    response = client.post(
        people_url(region.chair),
        json={"email": "o'brien+tafel@example.nl", "display_name": "Piet", "password": PASSWORD},
        headers=OPERATOR,
    )
    assert response.status_code == 201, response.text


def test_people_are_listed_per_organisation(client, region):
    make_person(client, region.chair, "chair")
    make_person(client, region.care_provider)
    listed = client.get(people_url(region.chair), headers=region.chair.headers).json()["items"]
    assert [p["role"] for p in listed] == ["chair"]


def test_deactivating_ends_the_sessions_and_refuses_sign_in(app, client, region):
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    response = client.patch(
        f"{people_url(region.care_provider)}/{person.id}",
        json={"active": False},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 200 and response.json()["active"] is False
    assert browser.get("/overzicht").status_code == 303
    assert submit_sign_in(page_client(app), person.email, PASSWORD).status_code == 400


def test_a_new_password_lifts_a_lock_out(app, client, region):
    person = make_person(client, region.care_provider)
    for _ in range(5):
        submit_sign_in(page_client(app), person.email, "wrong password!")
    url = f"{people_url(region.care_provider)}/{person.id}"
    assert client.get(url, headers=OPERATOR).json()["locked_until"] is not None
    new = "een ander lang wachtwoord"
    response = client.patch(url, json={"password": new}, headers=OPERATOR)
    assert response.status_code == 200 and response.json()["locked_until"] is None
    assert submit_sign_in(page_client(app), person.email, new).status_code == 303


def same_email_in(client, org, email: str, password: str) -> str:
    response = client.post(
        people_url(org),
        json={"email": email, "display_name": "Dezelfde", "password": password},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_new_password_in_one_organisation_leaves_the_other_organisations_account_locked(
    app, client, region
):
    """The lock-out is per email (the sign-in form asks no organisation). An admin who sets a
    password in their organisation lifts it for that account only: else an admin could make an
    account with someone else's email and reset it after every few guesses at the other one.
    The other account's password is tried against this account only, so it is refused."""
    mine = make_person(client, region.care_provider)
    theirs = "het wachtwoord van de andere organisatie"
    same_email_in(client, region.other_care_provider, mine.email, theirs)
    for _ in range(5):
        submit_sign_in(page_client(app), mine.email, "wrong password!")
    url = f"{people_url(region.care_provider)}/{mine.id}"
    new = "een ander lang wachtwoord"
    response = client.patch(url, json={"password": new}, headers=region.care_provider.headers)
    assert response.status_code == 200 and response.json()["locked_until"] is None
    assert submit_sign_in(page_client(app), mine.email, theirs).status_code == 400
    assert submit_sign_in(page_client(app), mine.email, new).status_code == 303
    assert submit_sign_in(page_client(app), mine.email, theirs).status_code == 400


def test_an_account_a_lock_out_was_lifted_for_locks_again_after_as_many_failures(
    app, client, region
):
    mine = make_person(client, region.care_provider)
    same_email_in(client, region.other_care_provider, mine.email, "nog een lang wachtwoord")
    for _ in range(5):
        submit_sign_in(page_client(app), mine.email, "wrong password!")
    url = f"{people_url(region.care_provider)}/{mine.id}"
    new = "een ander lang wachtwoord"
    assert client.patch(url, json={"password": new}, headers=OPERATOR).status_code == 200
    for _ in range(4):
        assert submit_sign_in(page_client(app), mine.email, "fout!").status_code == 400
    assert client.get(url, headers=OPERATOR).json()["locked_until"] is None  # lifted still
    assert submit_sign_in(page_client(app), mine.email, "fout!").status_code == 429
    assert submit_sign_in(page_client(app), mine.email, new).status_code == 429
    assert client.get(url, headers=OPERATOR).json()["locked_until"] is not None


def test_each_organisation_that_sets_a_new_password_lets_its_own_account_in(app, client, region):
    """Someone with an account in two organisations is locked out, and both admins set a new
    password: either password signs in to its own account. Only the older account was tried,
    so the newer one's password was refused (and used up the older one's lift)."""
    older = make_person(client, region.care_provider)
    newer = same_email_in(client, region.other_care_provider, older.email, "nog een wachtwoord")
    for _ in range(5):
        submit_sign_in(page_client(app), older.email, "wrong password!")
    passwords = {
        f"{people_url(region.care_provider)}/{older.id}": "het nieuwe wachtwoord hier",
        f"{people_url(region.other_care_provider)}/{newer}": "het nieuwe wachtwoord daar",
    }
    for url, password in passwords.items():
        assert client.patch(url, json={"password": password}, headers=OPERATOR).status_code == 200
    for password in reversed(passwords.values()):
        assert submit_sign_in(page_client(app), older.email, password).status_code == 303


def after_a_new_password(app, client, org, person) -> tuple[list[int], bool]:
    """What the admin who sets a locked-out person's password observes of the five wrong
    sign-ins that follow: their statuses, and whether the person is then locked out anew (till
    later than the lock-out the new password lifted)."""
    for _ in range(5):
        submit_sign_in(page_client(app), person.email, "wrong password!")
    url = f"{people_url(org)}/{person.id}"
    lifted = client.get(url, headers=org.headers).json()["locked_until"]
    response = client.patch(url, json={"password": "een ander lang wachtwoord"}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    statuses = [
        submit_sign_in(page_client(app), person.email, "fout!").status_code for _ in "12345"
    ]
    locked_until = client.get(url, headers=org.headers).json()["locked_until"]
    return statuses, locked_until is not None and locked_until > lifted


def test_a_lifted_lock_out_tells_an_admin_nothing_of_accounts_in_other_organisations(
    app, client, region
):
    """With an account in another organisation the lift is for this account only, but what
    follows reads as it does for a sole account, whose new password starts a new count: four
    refusals (400), then locked anew for the window. Answering the lift's failures as the
    lock (429), or ending it with the old lock's end, told the admin that another
    organisation has an account with the email."""
    sole = make_person(client, region.care_provider)
    shared = make_person(client, region.care_provider)
    same_email_in(client, region.other_care_provider, shared.email, "nog een lang wachtwoord")
    alone = after_a_new_password(app, client, region.care_provider, sole)
    assert alone == ([400, 400, 400, 400, 429], True)
    assert after_a_new_password(app, client, region.care_provider, shared) == alone


@pytest.mark.parametrize("before", [5, 4], ids=["locked", "counting"])
@pytest.mark.parametrize("elsewhere", [False, True], ids=["sole", "elsewhere"])
def test_failures_after_a_new_password_count_on_past_the_lifted_lock_out(
    app, client, region, monkeypatch, elsewhere, before
):
    """A sole account's new password starts a new count, which goes on after the old lock's
    end: four failures after it and one after the old lock's end lock the email. A lifted
    account's failures were forgotten at the old lock's end, so the fifth was refused: an
    admin who timed it told an account in another organisation from none. Without a lock (four
    failures before the new password), the email's count starting afresh when its window ran
    out must count on from the lifted account's, as a sole account's new count does."""
    start = service.utcnow()
    clock = [start]
    monkeypatch.setattr(service, "utcnow", lambda: clock[0])
    person = make_person(client, region.care_provider)
    if elsewhere:
        same_email_in(client, region.other_care_provider, person.email, "nog een wachtwoord")
    for _ in range(before):
        submit_sign_in(page_client(app), person.email, "wrong password!")
    url = f"{people_url(region.care_provider)}/{person.id}"
    clock[0] = start + timedelta(minutes=1)
    response = client.patch(url, json={"password": "een ander lang wachtwoord"}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    clock[0] = start + timedelta(minutes=2)
    statuses = [submit_sign_in(page_client(app), person.email, "fout!").status_code for _ in "1234"]
    clock[0] = start + timedelta(minutes=15, seconds=1)  # the old lock-out or count has ended
    statuses.append(submit_sign_in(page_client(app), person.email, "fout!").status_code)
    assert statuses == [400, 400, 400, 400, 429]


def test_signing_in_to_ones_own_account_does_not_reset_the_guesses_at_another_organisations(
    app, client, region
):
    """An admin who made an account with someone else's email knows its password: signing in
    to it forgot the email's failures, so they could guess at the other organisation's account
    four times per sign-in of their own, without end."""
    mine = make_person(client, region.care_provider)
    theirs = "het wachtwoord van de andere organisatie"
    same_email_in(client, region.other_care_provider, mine.email, theirs)
    for _ in range(3):
        for _ in range(4):
            assert submit_sign_in(page_client(app), mine.email, "fout!").status_code == 400
        assert submit_sign_in(page_client(app), mine.email, PASSWORD).status_code == 303
    assert submit_sign_in(page_client(app), mine.email, theirs).status_code == 400
    assert submit_sign_in(page_client(app), mine.email, PASSWORD).status_code == 303


def test_a_password_one_sets_and_signs_in_with_counts_as_a_guess_at_another_organisations(
    app, client, region
):
    """An admin who made an account with someone else's email sets its password to a guess
    and signs in with it: the guess is tried against the other organisation's account too (a
    choice of organisations would show it right), yet a sign-in to their own was no failure,
    so they could guess without end. It counts for the email's lock as a failure does; their
    own account reads as a sole one (signed in, never locked)."""
    mine = make_person(client, region.care_provider)
    theirs = "het wachtwoord van de andere organisatie"
    same_email_in(client, region.other_care_provider, mine.email, theirs)
    url = f"{people_url(region.care_provider)}/{mine.id}"
    headers = region.care_provider.headers
    for guess in range(6):
        password = f"een gok naar hun wachtwoord {guess}"
        assert client.patch(url, json={"password": password}, headers=headers).status_code == 200
        assert submit_sign_in(page_client(app), mine.email, password).status_code == 303
    assert client.get(url, headers=headers).json()["locked_until"] is None
    assert submit_sign_in(page_client(app), mine.email, theirs).status_code == 400
    assert submit_sign_in(page_client(app), mine.email, password).status_code == 303


@pytest.mark.parametrize("elsewhere", [False, True], ids=["sole", "elsewhere"])
@pytest.mark.parametrize("reset", ["password", "sign_in"])
def test_failures_before_a_new_password_or_a_sign_in_read_alike_with_or_without_elsewhere(
    app, client, region, elsewhere, reset
):
    """Four failures, then a new password (or a right one): a sole account starts a new count,
    so the next failure is refused. With an account in another organisation the four stayed
    (no lock-out to lift), and the next failure locked: the admin learnt of the other one."""
    person = make_person(client, region.care_provider)
    if elsewhere:
        same_email_in(client, region.other_care_provider, person.email, "nog een wachtwoord")
    for _ in range(4):
        assert submit_sign_in(page_client(app), person.email, "fout!").status_code == 400
    url = f"{people_url(region.care_provider)}/{person.id}"
    password = PASSWORD
    if reset == "password":
        password = "een ander lang wachtwoord"
        response = client.patch(
            url, json={"password": password}, headers=region.care_provider.headers
        )
        assert response.status_code == 200, response.text
    else:
        assert submit_sign_in(page_client(app), person.email, password).status_code == 303
    statuses = [
        submit_sign_in(page_client(app), person.email, "fout!").status_code for _ in "12345"
    ]
    assert statuses == [400, 400, 400, 400, 429]
    assert client.get(url, headers=region.care_provider.headers).json()["locked_until"] is not None


@pytest.mark.parametrize("elsewhere", [False, True], ids=["sole", "elsewhere"])
def test_a_deactivated_account_given_a_new_password_reads_alike_with_or_without_elsewhere(
    app, client, region, elsewhere
):
    """A locked-out account is deactivated and given a new password: a sole one's count starts
    afresh (its failures are counted as an unknown email's), four refusals and then the lock.
    With an account elsewhere only active lifted accounts were looked for, none was found, and
    every sign-in was answered as the lock."""
    person = make_person(client, region.care_provider)
    if elsewhere:
        same_email_in(client, region.other_care_provider, person.email, "nog een wachtwoord")
    for _ in range(5):
        submit_sign_in(page_client(app), person.email, "wrong password!")
    url = f"{people_url(region.care_provider)}/{person.id}"
    headers = region.care_provider.headers
    assert client.patch(url, json={"active": False}, headers=headers).status_code == 200
    response = client.patch(url, json={"password": "een ander lang wachtwoord"}, headers=headers)
    assert response.status_code == 200 and response.json()["locked_until"] is None
    statuses = [
        submit_sign_in(page_client(app), person.email, "fout!").status_code for _ in "12345"
    ]
    assert statuses == [400, 400, 400, 400, 429]


def test_a_null_for_a_field_is_refused(client, region):
    person = make_person(client, region.care_provider)
    response = client.patch(
        f"{people_url(region.care_provider)}/{person.id}", json={"role": None}, headers=OPERATOR
    )
    assert invalid_names(response) == ["role"]


def test_a_new_persons_yes_no_of_another_json_type_is_400(client, region):
    # As a case file's: pydantic's lax mode made a person an admin for "is_admin": "yes" or 1.
    org = region.care_provider
    person = {"email": "a@zorg.nl", "display_name": "A", "password": PASSWORD}
    response = client.post(people_url(org), json={**person, "is_admin": "yes"}, headers=org.headers)
    assert invalid_names(response) == ["is_admin"]
    listed = client.get(people_url(org), headers=org.headers).json()["items"]
    assert "a@zorg.nl" not in [p["email"] for p in listed]
    created = client.post(people_url(org), json={**person, "is_admin": True}, headers=org.headers)
    assert created.status_code == 201, created.text
    assert created.json()["is_admin"] is True


def test_a_persons_change_of_yes_no_of_another_json_type_is_400(client, region):
    # "active": "false" or 0 deactivated the person, "is_admin": 1 made them an admin.
    person = make_person(client, region.care_provider)
    url = f"{people_url(region.care_provider)}/{person.id}"
    headers = region.care_provider.headers
    response = client.patch(url, json={"is_admin": 1, "active": "false"}, headers=headers)
    assert sorted(invalid_names(response)) == ["active", "is_admin"]
    read = client.get(url, headers=headers).json()
    assert (read["is_admin"], read["active"]) == (False, True)
    changed = client.patch(url, json={"is_admin": True, "active": False}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["is_admin"], changed.json()["active"]) == (True, False)


def test_another_organisations_person_is_forbidden_or_not_found(client, region):
    person = make_person(client, region.care_provider)
    response = client.get(
        f"{people_url(region.care_provider)}/{person.id}", headers=region.corporation.headers
    )
    assert_problem(response, 403, "forbidden")  # a co-member of its table: it sees it exists
    response = client.get(f"{people_url(region.corporation)}/{person.id}", headers=OPERATOR)
    assert_problem(response, 404)


def test_a_change_to_a_person_made_meanwhile_is_not_undone_by_a_stale_if_match(client, region):
    """Two admins read the same person; the second one's PATCH with the ETag it read is refused
    (412) once the first has changed it, and the first change stays."""
    created = client.post(
        people_url(region.chair),
        json={"email": "b@gemeente.nl", "display_name": "B", "role": "chair"},
        headers=region.chair.headers,
    )
    url = f"{people_url(region.chair)}/{created.json()['id']}"
    read = client.get(url, headers=region.chair.headers)
    etag = read.headers["ETag"]
    first = client.patch(
        url, json={"is_admin": True}, headers={**region.chair.headers, "If-Match": etag}
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag
    stale = client.patch(
        url, json={"display_name": "C"}, headers={**region.chair.headers, "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    after = client.get(url, headers=region.chair.headers)
    assert after.json()["is_admin"] is True and after.json()["display_name"] == "B"
    assert after.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("event", ["sign_in", "lock_out"])
def test_a_person_read_with_its_etag_after_a_sign_in_or_lock_out_shows_it(
    app, client, region, event
):
    """A sign-in (`last_sign_in_at`) and a lock-out (`locked_until`) are no edit of the person
    (its version stays), but the read shows them: `If-None-Match` with the ETag read before is
    a 200 showing them, not a 304 that keeps the copy without. The PATCH then takes the new
    ETag and answers the one a GET gives."""
    person = make_person(client, region.care_provider)
    url = f"{people_url(region.care_provider)}/{person.id}"
    headers = region.care_provider.headers
    before = client.get(url, headers=headers)
    if event == "sign_in":
        assert submit_sign_in(page_client(app), person.email, PASSWORD).status_code == 303
    else:
        for _ in range(5):
            submit_sign_in(page_client(app), person.email, "wrong password!")
    after = client.get(url, headers={**headers, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, after.text
    field = "last_sign_in_at" if event == "sign_in" else "locked_until"
    assert before.json()[field] is None and after.json()[field] is not None
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = client.patch(
        url, json={"display_name": "Jet"}, headers={**headers, "If-Match": before.headers["ETag"]}
    )
    assert after.headers["ETag"] in assert_problem(stale, 412, "precondition_failed")["detail"]
    written = client.patch(
        url, json={"display_name": "Jet"}, headers={**headers, "If-Match": after.headers["ETag"]}
    )
    assert written.status_code == 200, written.text
    assert client.get(url, headers=headers).headers["ETag"] == written.headers["ETag"]
