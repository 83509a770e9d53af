"""An admin's change on `/mensen` while another admin takes that admin's rights: the page acts
on the rights its admin holds when it writes, not those it read when the request began."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.people import service
from app.people.changes import ChangedBy
from app.people.models import Person, PersonUpdate
from tests.conftest import make_org
from tests.locks import commit_after_it_waits
from tests.web import conftest as pages

pytestmark = pytest.mark.usefixtures("no_deadlocks")

# What A does on the page to B (`{b}`), and whether it left B as B was.
CHANGES = {
    "admin_flag": ("/mensen/{b}", {"beheerder": "nee", "versie": "1"}),
    "new_password": ("/mensen/{b}/wachtwoord", {"versie": "1"}),
    "new_person": ("/mensen", {"email": "c@example.nl", "naam": "C", "rol": "member"}),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_admin_whose_admin_flag_is_taken_meanwhile_changes_no_one(live_app, change):
    """Admin B takes A's admin flag while A's page changes B (drops B's flag, gives B a new
    password) or adds a person: each page checked that its admin was one as the request began,
    so both went in: two admins taking each other's flag left the organisation without one
    (the pages let no one drop their own, so that no one raises their own rights), and a
    demoted admin gave a colleague a password only they knew. One after the other the second
    is refused; A's page now holds A's row, finds A no admin any more and answers 403
    (PostgreSQL; SQLite runs one writer at a time)."""
    engine = live_app.state.engine
    with TestClient(live_app) as client:
        org = make_org(client, "care_provider")
        a = pages.make_person(client, org, is_admin=True)
        b = pages.make_person(client, org, is_admin=True)
    browser = pages.signed_in(live_app, a)
    csrf = pages.csrf_of(browser, "/mensen")
    path, form = CHANGES[change]
    answers = []

    def a_changes_b() -> None:
        answers.append(browser.post(path.format(b=b.id), data={"csrf_token": csrf, **form}))

    def b_drops_a(held: Session) -> None:  # B's change, committed once A's page waits for it
        person = held.get_one(Person, uuid.UUID(a.id))
        service.update_person(held, person, PersonUpdate(is_admin=False), by=ChangedBy("test"))

    commit_after_it_waits(engine, b_drops_a, a_changes_b)

    assert [answer.status_code for answer in answers] == [403]
    with Session(engine) as session:
        people = session.exec(
            select(col(Person.id), col(Person.is_admin)).where(
                col(Person.organisation_id) == uuid.UUID(org.id)
            )
        ).all()
    assert sorted(people) == sorted([(uuid.UUID(a.id), False), (uuid.UUID(b.id), True)])
    pages.signed_in(live_app, b)  # with the password B had: it stands
