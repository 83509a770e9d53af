"""`proposal.stalled` goes out once per crossing even when two processes notice the stall at
the same moment: the alert's primary key decides, not a lock in one process."""

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.agenda.open_proposals import record_stalls
from app.tables.models import OutflowTable
from app.webhooks.models import WebhookEvent
from tests.api.test_open_proposals import two_open_proposals
from tests.clock import START
from tests.conftest import make_org, make_table

pytestmark = pytest.mark.usefixtures("no_deadlocks")


@pytest.fixture
def live_region(live_app):  # type: ignore[no-untyped-def]
    from tests.conftest import Region

    with TestClient(live_app, raise_server_exceptions=False) as client:
        chair = make_org(client, "municipality")
        municipality = make_org(client, "municipality")
        cp1, cp2 = make_org(client, "care_provider"), make_org(client, "care_provider")
        corp1 = make_org(client, "housing_corporation")
        corp2 = make_org(client, "housing_corporation")
        codes = ["GM0344", "GM0307"]
        members = [municipality, cp1, cp2, corp1, corp2]
        table_id = make_table(client, chair, members, codes)
        region = Region(table_id, chair, municipality, cp1, cp2, corp1, corp2, codes)
        two_open_proposals(client, region)
        yield live_app, region


def test_stalled_proposal_is_flagged_once_by_two_processes_at_once(live_region):
    app, region = live_region
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises its writers; the race is PostgreSQL's (several servers)")
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def notice() -> None:
        try:
            with Session(engine) as session:
                table = session.get(OutflowTable, uuid.UUID(region.table_id))
                start.wait(timeout=60)
                counts.append(record_stalls(session, table))
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    with time_machine.travel(START + timedelta(days=8), tick=True):
        threads = [threading.Thread(target=notice) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors
    assert sorted(counts) == [0, 2]  # one process sends both alerts, the other none
    with Session(engine) as session:
        events = session.exec(
            select(WebhookEvent).where(col(WebhookEvent.type) == "proposal.stalled")
        ).all()
    assert len(events) == 2
