"""The pages of the tables: the overview of a person's tables and a table's page, where the
chair schedules meetings.
"""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from app.actions import service as actions_service
from app.actions.models import ActionStatus
from app.db import SessionDep
from app.meetings import service as meetings_service
from app.meetings.models import MeetingCreate
from app.tables import service as tables_service
from app.timeutil import today
from app.web.actions import _action_row
from app.web.core import FormDep, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageTableDep
from app.web.forms import MAX_ROWS, Refusal, create_once
from app.web.query_values import DATE_RULE

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/overzicht")
def overview(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    tables = tables_service.list_tables(session, web.principal, after=None, limit=MAX_ROWS)
    entries = []
    for table in tables:
        meetings = meetings_service.list_meetings(session, table, after=None, limit=MAX_ROWS)
        entries.append(
            {
                "table": table,
                "is_chair_org": table.chair_organisation_id == web.organisation.id,
                "meetings": sorted(meetings, key=lambda m: m.date, reverse=True),
            }
        )
    return render(request, "overview.html", {"title": "Overzicht", "entries": entries})


def _table_page(
    request: Request,
    session: SessionDep,
    web: Web,
    table_id: uuid.UUID,
    *,
    error: str | None = None,
    status: int = 200,
    typed_date: str | None = None,
) -> HTMLResponse:
    """The table's page; `typed_date` is the meeting date a refused scheduling form sent (the
    error is then about that field, and the field keeps it)."""
    table = tables_service.get_table(session, web.principal, table_id)
    info = tables_service.table_public(session, table)
    meetings = meetings_service.list_meetings(session, table, after=None, limit=MAX_ROWS)
    actions = actions_service.list_actions(
        session,
        web.access(),
        table,
        status=ActionStatus.open,
        overdue_on=None,
        after=None,
        limit=MAX_ROWS,
    )
    names = {str(m.id): m.name for m in info.members}
    return render(
        request,
        "table.html",
        {
            "title": info.name,
            "table": table,
            "info": info,
            "names": names,
            "meetings": sorted(meetings, key=lambda m: m.date, reverse=True),
            "actions": [_action_row(web, table, a, names) for a in actions],
            "can_chair": web.is_chair_of(table.chair_organisation_id),
            "today": today(),
            "error": error,
            "typed_date": typed_date,
            "back": f"/tafels/{table.id}",
        },
        status,
    )


@router.get("/tafels/{table_id}")
def table_page(
    request: Request, table_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    return _table_page(request, session, web, table_id)


@router.post("/tafels/{table_id}/vergaderingen")
def schedule_meeting(
    request: Request, session: SessionDep, web: WebDep, form: FormDep, table: PageTableDep
) -> Response:
    table_id = table.id
    web.require_chair(table.chair_organisation_id)
    typed = field(form, "datum", 10)
    try:
        data = MeetingCreate.model_validate({"date": typed})
    except ValidationError:
        return _table_page(
            request,
            session,
            web,
            table_id,
            error=f"Vul een geldige datum in. {DATE_RULE}",
            status=400,
            typed_date=typed,
        )
    # A double click plans the meeting once and opens it, instead of refusing the second
    # click's date as taken (breaker 32); the date planned from another page still is.
    meeting = create_once(
        session,
        web,
        request,
        form,
        data,
        lambda: meetings_service.create_meeting(session, web.access(), table, data).id,
    )
    if isinstance(meeting, Refusal):
        return _table_page(
            request,
            session,
            web,
            table_id,
            error=meeting.message,
            status=meeting.status,
            typed_date=typed,
        )
    return redirect(f"/vergaderingen/{meeting}", "vergadering_gepland")
