"""The ORM keeps the books: `version` and `updated_at` move with every UPDATE of a versioned
row, and an UPDATE of a row someone else changed meanwhile is refused, never silently applied.
"""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from app.db import build_engine
from app.organisations.models import Organisation
from app.people import service as people_service
from app.people.changes import ChangedBy
from app.people.models import PersonCreate
from app.problems import PreconditionFailed
from app.tables.models import OutflowTable
from app.versioning import etag, flush, touch


@pytest.fixture
def committed(databases) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """A database whose writes are committed, so two sessions see each other's."""
    url = databases.migrated_url()
    engine = build_engine(url)
    yield engine
    engine.dispose()


def _table(engine: Engine) -> uuid.UUID:
    with Session(engine) as session:
        chair = Organisation(name=f"Gemeente {uuid.uuid4().hex[:6]}", kind="municipality")
        session.add(chair)
        session.flush()
        table = OutflowTable(name=f"Tafel {uuid.uuid4().hex[:6]}", chair_organisation_id=chair.id)
        table.policy = {}
        session.add(table)
        session.commit()
        return table.id


def test_every_update_moves_the_version_and_the_timestamp(committed):
    table_id = _table(committed)
    with Session(committed) as session:
        table = session.get_one(OutflowTable, table_id)
        version, updated_at = table.version, table.updated_at
        table.name = f"Tafel {uuid.uuid4().hex[:6]}"
        session.commit()
        assert table.version == version + 1
        assert table.updated_at > updated_at
        assert etag(table) == f'"{version + 1}"'


def test_a_write_that_changes_nothing_keeps_the_version(committed):
    table_id = _table(committed)
    with Session(committed) as session:
        table = session.get_one(OutflowTable, table_id)
        table.name = table.name
        session.commit()
        assert table.version == 1


def test_touch_counts_a_write_as_a_change(committed):
    table_id = _table(committed)
    with Session(committed) as session:
        table = session.get_one(OutflowTable, table_id)
        touch(table)
        session.commit()
        assert table.version == 2


@pytest.mark.parametrize(
    ("if_match", "refusal"),
    [('"1"', PreconditionFailed), (None, StaleDataError)],
    ids=["412", "left-to-the-retry"],
)
def test_an_update_of_a_row_changed_meanwhile_is_refused(committed, if_match, refusal):
    """With If-Match the client is told at once (412); without, the error goes on to
    `app.transient`, which runs the request again on the row as it is now."""
    table_id = _table(committed)
    with Session(committed, expire_on_commit=False) as first, Session(committed) as second:
        mine = first.get_one(OutflowTable, table_id)
        first.commit()  # ends the read (SQLite lets one transaction in at a time), keeps the row
        theirs = second.get_one(OutflowTable, table_id)
        theirs.name = "Tafel van hen"
        second.commit()
        mine.name = "Mijn tafel"
        with pytest.raises(refusal):
            flush(first, if_match, "table")
    with Session(committed) as session:
        assert session.get_one(OutflowTable, table_id).name == "Tafel van hen"


def test_a_sign_in_is_bookkeeping_not_an_edit_of_the_person(committed, settings):
    with Session(committed) as session:
        organisation = Organisation(name=f"Gemeente {uuid.uuid4().hex[:6]}", kind="municipality")
        session.add(organisation)
        data = PersonCreate(
            email=f"p{uuid.uuid4().hex[:6]}@example.org",
            display_name="Pim",
            password="een lang genoeg wachtwoord",
        )
        person, _ = people_service.create_person(session, organisation, data, by=ChangedBy("test"))
        session.commit()
        version, updated_at = person.version, person.updated_at
        outcome = people_service.sign_in(
            session, data.email, data.password, "192.0.2.1", settings=settings
        )
        session.commit()
        assert outcome.person is not None and outcome.person.last_sign_in_at is not None
        session.refresh(person)
        assert (person.version, person.updated_at) == (version, updated_at)
        assert person.last_sign_in_at is not None
