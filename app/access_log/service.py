"""Writing and reading the case access log."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, insert, select

from app.access_log.models import AccessAction, AccessLogEntry
from app.auth import Principal
from app.ids import uuid7
from app.sqltypes import utcnow


@dataclass(frozen=True, slots=True)
class AccessContext:
    """Who accesses, through which endpoint (route template, never the URL with its values)."""

    principal: Principal
    endpoint: str
    person_id: uuid.UUID | None = None


def record(
    session: Session,
    context: AccessContext,
    action: AccessAction,
    cases: Iterable[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    """Log one entry per (case_id, table_id), in the caller's transaction."""
    organisation_id = context.principal.organisation_id
    if organisation_id is None:  # the operator never reaches case files
        return
    _insert(
        session,
        cases,
        action=action,
        organisation_id=organisation_id,
        api_key_id=context.principal.api_key_id,
        person_id=context.person_id,
        endpoint=context.endpoint,
    )


def record_disclosure(
    session: Session,
    organisation_id: uuid.UUID,
    action: AccessAction,
    cases: Iterable[tuple[uuid.UUID, uuid.UUID]],
    endpoint: str,
) -> None:
    """Log case ids handed to an organisation without its asking (a webhook), by no key."""
    _insert(
        session,
        cases,
        action=action,
        organisation_id=organisation_id,
        api_key_id=None,
        person_id=None,
        endpoint=endpoint[:200],
    )


def _insert(
    session: Session,
    cases: Iterable[tuple[uuid.UUID, uuid.UUID]],
    *,
    action: AccessAction,
    organisation_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    endpoint: str,
) -> None:
    now = utcnow()
    rows = [
        {
            "id": uuid7(),
            "at": now,
            "action": action.value,
            "case_id": case_id,
            "table_id": table_id,
            "organisation_id": organisation_id,
            "api_key_id": api_key_id,
            "person_id": person_id,
            "endpoint": endpoint,
        }
        for case_id, table_id in cases
    ]
    if rows:
        session.exec(insert(AccessLogEntry), params=rows)  # type: ignore[call-overload]


def record_export(
    session: Session, context: AccessContext, action: AccessAction, table_id: uuid.UUID
) -> None:
    """Log an export of a table's figures (no single case involved)."""
    if context.principal.organisation_id is None:
        return
    session.add(
        AccessLogEntry(
            action=action.value,
            case_id=None,
            table_id=table_id,
            organisation_id=context.principal.organisation_id,
            api_key_id=context.principal.api_key_id,
            person_id=context.person_id,
            endpoint=context.endpoint,
        )
    )


def list_entries(
    session: Session,
    *,
    table_id: uuid.UUID,
    case_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[AccessLogEntry]:
    query = select(AccessLogEntry).where(AccessLogEntry.table_id == table_id)
    if case_id is not None:
        query = query.where(AccessLogEntry.case_id == case_id)
    if after is not None:
        query = query.where(AccessLogEntry.id > after)
    return list(session.exec(query.order_by(AccessLogEntry.id).limit(limit)))  # type: ignore[arg-type]
