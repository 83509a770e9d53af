"""Two admins changing each other's rights at once on `/mensen`: the page acts on the rights
its admin holds when it writes, not those it read when the request began."""

import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.people import service
from app.people.models import Person, PersonUpdate
from tests.conftest import make_org
from tests.locks import commit_after_it_waits
from tests.web.conftest import csrf_of, make_person, signed_in


def test_two_admins_taking_each_others_admin_flag_at_once_leave_one_admin(live_app):
    """Admin A drops B's admin flag on `/mensen` while B's change taking A's commits: each page
    checked that its admin was one when the request began, both went in, and the organisation
    was left without an admin (on the pages no one may drop their own flag, so that an admin
    never raises their own rights; sequentially the second is refused). A's page now holds A's
    row and finds A no admin any more: 403, and B stays admin (PostgreSQL; SQLite runs one
    writer at a time)."""
    engine = live_app.state.engine
    with TestClient(live_app) as client:
        org = make_org(client, "care_provider")
        a = make_person(client, org, is_admin=True)
        b = make_person(client, org, is_admin=True)
    browser = signed_in(live_app, a)
    csrf = csrf_of(browser, "/mensen")
    answers = []

    def a_drops_b() -> None:
        answers.append(
            browser.post(f"/mensen/{b.id}", data={"csrf_token": csrf, "beheerder": "nee"})
        )

    def b_drops_a(held: Session) -> None:  # B's change, committed once A's page waits for it
        person = held.get_one(Person, uuid.UUID(a.id))
        service.update_person(held, person, PersonUpdate(is_admin=False))

    commit_after_it_waits(engine, b_drops_a, a_drops_b)

    assert [answer.status_code for answer in answers] == [403]
    with Session(engine) as session:
        admins = session.exec(
            select(col(Person.id)).where(
                col(Person.organisation_id) == uuid.UUID(org.id), col(Person.is_admin)
            )
        ).all()
    assert admins == [uuid.UUID(b.id)]
