"""A push that raises a dwelling's rent above every cap while the chair publishes the agenda
that proposes it: the push looked for the dwelling's open proposals before it locked the
dwelling, found none, and the publish, computed from the dwelling as it was, proposed it in
between. The pair then breaks `rent_above_cap`, and the proposal must end as any other the push
breaks (README: a proposal the rules no longer allow ends), not stay open with a rent its client
may not pay.

PostgreSQL only: on SQLite one writer runs at a time, so nothing comes in between."""

import uuid
from typing import Any

import pytest
from sqlmodel import Session

from app.access_log.service import AccessContext
from app.auth import Principal
from app.cases.models import Case
from app.meetings import service as meetings_service
from app.meetings.models import Meeting
from app.organisations.models import OrganisationKind
from app.tables.models import OutflowTable
from app.vacancies import service as vacancies_service
from tests.api.test_meetings import DATE, proposals, schedule, vacancy_of
from tests.conftest import create_case, create_vacancy, make_region, vacancy_body

ABOVE_EVERY_CAP = {"base": "1150.00", "eligible_service_costs": "0.00"}


def _published_meanwhile(
    monkeypatch: pytest.MonkeyPatch, engine: Any, chair: Any, meeting_id: str
) -> None:
    """Once the push has looked for the open proposals of its dwellings (and locked their
    cases: none), the chair publishes the meeting in another transaction, which commits (the
    first time only)."""
    lock = vacancies_service.lock
    done: list[bool] = []
    chair_id = uuid.UUID(chair.id)
    as_chair = Principal(False, chair_id, OrganisationKind.municipality)

    def looked_then_published(session: Session, model: Any, ids: Any, **options: Any) -> Any:
        if model is Case and not list(ids) and not done:
            done.append(True)
            with Session(engine) as other:
                meeting = other.get_one(Meeting, uuid.UUID(meeting_id))
                table = other.get_one(OutflowTable, meeting.table_id)
                context = AccessContext(as_chair, "race")
                meetings_service.publish(other, context, meeting, table, None, 5.0)
                other.commit()
        return lock(session, model, ids, **options)

    monkeypatch.setattr(vacancies_service, "lock", looked_then_published)


def test_a_rent_pushed_above_the_cap_while_the_agenda_proposes_the_dwelling_ends_the_proposal(
    committed_postgresql, monkeypatch
):
    client, engine = committed_postgresql
    region = make_region(client)
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation, available_from=DATE)
    meeting = schedule(client, region)
    _published_meanwhile(monkeypatch, engine, region.chair, meeting["id"])

    body = {k: v for k, v in vacancy.items() if k in vacancy_body()} | {"rent": ABOVE_EVERY_CAP}
    pushed = client.post("/v1/vacancies", json=body, headers=region.corporation.headers)

    assert pushed.status_code == 200, pushed.text
    [proposal] = proposals(client, region)
    assert (proposal["case_id"], proposal["vacancy_id"]) == (case["id"], vacancy["id"])
    assert (proposal["status"], proposal["status_reason"]) == ("withdrawn", "dwelling_changed")
    assert vacancy_of(client, region, vacancy["id"])["status"] == "available"
