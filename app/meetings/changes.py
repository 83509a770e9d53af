"""What changed since a meeting's agenda was frozen: the cases and dwellings it read whose version
moved (`updated`), and those that became ready or were offered since (`added`), cut to what the
reader may see."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from app.agenda import inputs as agenda_inputs
from app.agenda.models import AgendaView
from app.cases.models import Case, effective_status
from app.meetings.models import Meeting
from app.principal import Principal
from app.tables.service import reader_table_ids
from app.vacancies.models import Vacancy

_Versioned = TypeVar("_Versioned", Case, Vacancy)


def _frozen_rows(
    session: Session, model: type[_Versioned], then: dict[str, int]
) -> Sequence[_Versioned]:
    """The rows of `model` among the snapshot's (id -> version), as they are now."""
    ids = [uuid.UUID(i) for i in then]
    return session.exec(select(model).where(col(model.id).in_(ids))).all() if ids else []


def since_publication(
    session: Session, meeting: Meeting, table_id: uuid.UUID, on: date
) -> list[dict[str, Any]]:
    """Every change since the published `meeting` (of table `table_id`, on date `on`), for the
    table view; `visible` cuts it to a reader's."""
    assert meeting.snapshot is not None
    versions = meeting.snapshot["versions"]
    changes = []
    cases, vacancies = versions["cases"], versions["vacancies"]
    subjects: tuple[tuple[str, Sequence[Case | Vacancy], dict[str, int]], ...] = (
        ("case", _frozen_rows(session, Case, cases), cases),
        ("vacancy", _frozen_rows(session, Vacancy, vacancies), vacancies),
    )
    for subject, rows, then in subjects:
        for row in rows:
            if row.version != then[str(row.id)]:
                changes.append(
                    {
                        "subject": subject,
                        "id": str(row.id),
                        "change": "updated",
                        "status": _status(row),
                        "version_then": then[str(row.id)],
                        "version_now": row.version,
                    }
                )
    connection = session.connection()
    for subject, query, then in (
        ("case", agenda_inputs.open_cases_query(table_id, on), versions["cases"]),
        ("vacancy", agenda_inputs.open_vacancies_query(table_id, on), versions["vacancies"]),
    ):
        for added in connection.execute(query):
            if str(added.id) not in then:
                changes.append(
                    {
                        "subject": subject,
                        "id": str(added.id),
                        "change": "added",
                        "status": _status(added),
                        "version_then": None,
                        "version_now": added.version,
                    }
                )
    return changes


def _status(row: Any) -> str:
    """A case's status as the API shows it (`ready` is derived), a dwelling's as stored."""
    if hasattr(row, "ready_since"):
        return effective_status(row.status, row.ready_since, parked_until=row.parked_until).value
    status: str = row.status
    return status


def visible(
    changes: list[dict[str, Any]], view: AgendaView, principal: Principal, session: Session
) -> list[dict[str, Any]]:
    """The changes `principal` may see in `view`: a care provider its own cases', a corporation
    its own dwellings', the table those still at a table it reads (`_still_readable`)."""
    me = str(principal.require_organisation())
    if view == AgendaView.table:
        return _still_readable(changes, principal, session)
    subject = "case" if view == AgendaView.care_provider else "vacancy"
    id_column = col(Case.id) if subject == "case" else col(Vacancy.id)
    owner_column = col(Case.care_provider_id) if subject == "case" else col(Vacancy.corporation_id)
    ids = [uuid.UUID(c["id"]) for c in changes if c["subject"] == subject]
    owned = (
        {
            str(row[0])
            for row in session.exec(select(id_column, owner_column).where(id_column.in_(ids))).all()
            if str(row[1]) == me
        }
        if ids
        else set()
    )
    return [c for c in changes if c["subject"] == subject and c["id"] in owned]


def _still_readable(
    changes: list[dict[str, Any]], principal: Principal, session: Session
) -> list[dict[str, Any]]:
    """The table view's changes without the cases and dwellings that have since moved to a
    table the reader does not read: those answer it 404, so their status and versions there
    are not its to see."""
    readable: set[str] = set()
    for model, subject in ((Case, "case"), (Vacancy, "vacancy")):
        ids = [uuid.UUID(c["id"]) for c in changes if c["subject"] == subject]
        if ids:
            query = select(model.id).where(
                col(model.id).in_(ids), col(model.table_id).in_(reader_table_ids(principal))
            )
            readable |= {str(row_id) for row_id in session.exec(query).all()}
    return [c for c in changes if c["id"] in readable]
