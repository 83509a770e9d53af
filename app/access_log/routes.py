"""The chair reads the access log of its table's cases (a case's care provider reads that
case's through `app.cases.routes`, answered by `entries_page`)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.access_log import service
from app.access_log.models import AccessLogEntryPublic, AccessLogPage
from app.auth import CurrentPrincipal
from app.db import SessionDep, SessionEndingRoute
from app.ids import Id
from app.organisations.service import names_of
from app.pagination import PageDep, PageRequest
from app.problems import Forbidden, problem_responses
from app.tables.deps import TableDep
from app.tables.models import OutflowTable

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/tables", tags=["access log"])


def chairs_log(table: TableDep, principal: CurrentPrincipal) -> OutflowTable:
    """The table, for its chair: 404 for a caller not at it, then 403 for another member,
    before the query is judged (it was told which query key to fix first)."""
    if principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("Only the table's chair reads the access log.")
    return table


@router.get(
    "/{table_id}/access-log",
    response_model=AccessLogPage,
    responses=problem_responses(401, 403, 404),
)
def read_access_log(
    table: Annotated[OutflowTable, Depends(chairs_log)],
    session: SessionDep,
    page: PageDep,
    case_id: Annotated[
        Id | None, Query(alias="caseId", description="Only reads of this case.")
    ] = None,
) -> AccessLogPage:
    """Who accessed which case file of this table, when and how (chair only), oldest first."""
    return entries_page(session, page, table_id=table.id, case_id=case_id)


OTHERS_HIDDEN = {"api_key_id": None, "person_id": None}


def entries_page(
    session: Session,
    page: PageRequest,
    *,
    table_id: uuid.UUID | None,
    case_id: uuid.UUID | None,
    reader: uuid.UUID | None = None,
) -> AccessLogPage:
    """One page of `service.list_entries` (a table's, a case's, or a case's at a table), oldest
    first: the answer to both readers of the log, the chair and a case's care provider. With
    `reader` (the care provider), other organisations' entries name the organisation only, as
    its page does: their keys and people are theirs to know."""
    rows = service.list_entries(
        session, table_id=table_id, case_id=case_id, after=page.after, limit=page.fetch
    )
    rows, next_cursor = page.cut(rows)
    names = names_of(session, (r.organisation_id for r in rows))
    items = [
        AccessLogEntryPublic.model_validate(
            {**r.model_dump(), "organisation_name": names[str(r.organisation_id)]}
            | ({} if reader in (None, r.organisation_id) else OTHERS_HIDDEN)
        )
        for r in rows
    ]
    return AccessLogPage(items=items, next_cursor=next_cursor)
