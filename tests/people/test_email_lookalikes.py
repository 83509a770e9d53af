"""Login names a person reads as the same address are one login name: Unicode normalisation,
full-width letters, invisible characters and case mappings that lengthen an address."""

import re
import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from app.migrate import alembic_config
from app.sqltypes import UTCDateTime, utcnow
from tests.api.helpers import assert_problem, invalid_names
from tests.conftest import OPERATOR
from tests.web.conftest import PASSWORD, make_person, page_client, signed_in, submit_sign_in


def people_url(org) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{org.id}/people"


def add(client, org, email: str):  # type: ignore[no-untyped-def]
    person = {"email": email, "display_name": "José", "password": PASSWORD}
    return client.post(people_url(org), json=person, headers=OPERATOR)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("jos\u00e9@example.nl", "jose\u0301@example.nl"),
        ("jose\u0301@example.nl", "JOS\u00c9@example.nl"),
        ("piet@example.nl", "\uff50iet@example.nl"),
    ],
    ids=["composed-then-decomposed", "decomposed-then-upper-composed", "full-width-letter"],
)
def test_an_email_written_with_other_code_points_for_the_same_letters_is_one_login(
    client, region, first, second
):
    """'é' as one code point or as 'e' plus a combining accent (what some keyboards and
    copy-pastes give), or a full-width 'p' (U+FF50), read alike on the people page: they made two
    accounts with, to a person, the same login name in one organisation."""
    created = add(client, region.chair, first)
    assert created.status_code == 201, created.text
    again = add(client, region.chair, second)
    assert assert_problem(again, 409, "duplicate_email")["existing_id"] == created.json()["id"]


def test_the_login_name_signs_in_whichever_way_its_letters_are_typed(app, client, region):
    """Stored as typed at creation ('e' plus a combining accent), the address typed with 'é'
    (or the other way round) was refused as a wrong password."""
    assert add(client, region.chair, "jose\u0301@example.nl").status_code == 201
    for typed in ("jos\u00e9@example.nl", "JOSE\u0301@EXAMPLE.NL", "jose\u0301@example.nl"):
        browser = page_client(app)
        response = submit_sign_in(browser, typed, PASSWORD)
        assert response.status_code == 303, (typed, response.text)


@pytest.mark.parametrize(
    "email",
    ["pi\u00adet@example.nl", "pie\u034ft@example.nl", "piet\ufe0f@example.nl"],
    ids=["soft-hyphen", "grapheme-joiner", "variation-selector"],
)
def test_an_email_with_a_character_that_shows_nothing_is_refused(client, region, email):
    """'pi\\u00adet' shows as 'piet' on the people page: an account that reads as another's."""
    assert invalid_names(add(client, region.chair, email)) == ["email"]


def test_a_full_width_at_sign_is_not_taken_for_an_at_sign(client, region):
    """Only letters and digits are width-mapped: a name without an '@' stays one the contract's
    pattern refuses, whatever its full-width signs would map to."""
    assert invalid_names(add(client, region.chair, "piet\uff20example.nl")) == ["email"]


def test_an_email_that_lower_case_makes_too_long_is_refused_not_a_500(client, region):
    """'İ' in lower case is two code points: 250 of them made a login name of 500 characters,
    which PostgreSQL's column of 254 refused with a 500 (SQLite stored it)."""
    response = add(client, region.chair, "\u0130" * 240 + "@example.nl")
    assert invalid_names(response) == ["email"]


def test_the_migration_stores_login_names_in_their_normal_form(databases):
    """A login name stored as an API client sent it ('e' and a combining accent) matched no
    address typed after sign-in began to normalise; the migration normalises it, and leaves
    one whose normal form its organisation has already (the admin sees both)."""
    url = databases.new_url()
    config = alembic_config(url)
    command.upgrade(config, "0024_webhook_secret_rotation")
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("created_at", UTCDateTime()),
    )
    people = sa.table(
        "people",
        *(sa.column(name, sa.Uuid()) for name in ("id", "organisation_id")),
        *(sa.column(name, sa.String()) for name in ("email", "display_name", "role")),
        *(sa.column(name, sa.String()) for name in ("password_hash",)),
        *(sa.column(name, sa.Boolean()) for name in ("is_admin", "active")),
        sa.column("version", sa.Integer()),
        *(sa.column(name, UTCDateTime()) for name in ("created_at", "updated_at")),
    )
    org_id = uuid.uuid4()
    emails = {
        "decomposed": "jose\u0301@example.nl",
        "full-width": "\uff50iet@example.nl",
        "composed": "ana\u00efs@example.nl",
        "twin": "anai\u0308s@example.nl",
    }
    ids = {label: uuid.uuid4() for label in emails}
    now = utcnow()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(organisations).values(
                id=org_id, name="O", kind="municipality", created_at=now
            )
        )
        for label, email in emails.items():
            person = {"id": ids[label], "organisation_id": org_id, "email": email}
            person |= {"display_name": label, "role": "member", "password_hash": "x"}
            person |= {"is_admin": False, "active": True, "version": 1}
            connection.execute(sa.insert(people).values(**person, created_at=now, updated_at=now))
    command.upgrade(config, "heads")
    with engine.connect() as connection:
        rows = connection.execute(sa.select(people.c.id, people.c.email)).all()
    stored = {person_id: email for person_id, email in rows}
    engine.dispose()
    assert {label: stored[ids[label]] for label in emails} == {
        "decomposed": "jos\u00e9@example.nl",
        "full-width": "piet@example.nl",
        "composed": "ana\u00efs@example.nl",
        "twin": "anai\u0308s@example.nl",
    }


def email_inputs(html: str) -> list[str]:
    return re.findall(r'<input[^>]*name="email"[^>]*>', html)


def test_the_forms_let_a_browser_send_a_login_name_with_letters_beyond_ascii(app, client, region):
    """A browser's `type="email"` field refuses 'josé@...' (the HTML standard's address has
    only ASCII before the '@'; Chromium says the part before '@' should not contain 'é') and
    sends a domain such as 'bücher.nl' as 'xn--bcher-kva.nl': a person whose account the API
    made with such a login name could not sign in on the page at all. The fields are text
    fields that ask for the e-mail keyboard."""
    assert add(client, region.chair, "jos\u00e9@b\u00fccher.nl").status_code == 201
    admin = make_person(client, region.chair, "chair", is_admin=True)
    browser = page_client(app)
    fields = email_inputs(browser.get("/aanmelden").text)
    fields += email_inputs(signed_in(app, admin).get("/mensen").text)
    assert len(fields) == 2
    for field in fields:
        assert 'type="text"' in field and 'inputmode="email"' in field, field
    response = submit_sign_in(browser, "jos\u00e9@b\u00fccher.nl", PASSWORD)
    assert response.status_code == 303, response.text
