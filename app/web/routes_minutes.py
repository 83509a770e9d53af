"""The minutes pages: read, print (PDF), export (CSV), and mark final (the chair)."""

import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.db import SessionDep
from app.meetings import minutes as minutes_service
from app.problems import ProblemError
from app.timeutil import today
from app.web import minutes as minutes_page
from app.web.core import FormDep, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageMeetingDep
from app.web.export import sections_csv, sections_pdf
from app.web.formatting import dutch_date
from app.web.forms import NO_VERSION, _if_match, meeting_refusal
from app.web.open_proposals import MINUTES_TITLE

router = APIRouter(route_class=WebRoute, include_in_schema=False)
_MINUTES_TAG = re.compile(r"[0-9]{1,10}-[0-9a-f]{16}")
MINUTES_CHANGED = (
    "Er is niets vastgesteld: de besluitenlijst (een besluit, actie of de vergadering) is "
    "intussen gewijzigd, of een actie is sindsdien over tijd. Bekijk de nieuwe stand hieronder "
    "en stel de besluitenlijst opnieuw vast."
)
"""A final-minutes form whose minutes no longer read as the chair read them (412): their ETag
moves with a decision, an action or the meeting, and with the day, as an open action past its
due date reads overdue; 'Iemand anders was u voor' blamed a colleague for the date."""


def _page(
    request: Request,
    session: SessionDep,
    web: WebDep,
    meeting_id: uuid.UUID,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    data = minutes_page.load(session, web, meeting_id)
    return render(
        request,
        "minutes.html",
        {
            "title": f"Besluitenlijst {dutch_date(data.meeting.date)}",
            "data": data,
            "doc": data.document,
            "status_line": data.status_line(),
            "sections": minutes_page.sections(data),
            "open_proposals": data.document["open_proposals"],
            "open_proposals_title": MINUTES_TITLE,
            "view": None,
            "can_finalize": web.is_chair_of(data.table.chair_organisation_id)
            and not data.document["final"]
            and data.meeting.snapshot is not None
            and data.meeting.date <= today(),
            "finalize_waits": web.is_chair_of(data.table.chair_organisation_id)
            and not data.document["final"]
            and data.meeting.date > today(),
            # The minutes' ETag, which a decision or action moves (the meeting's version
            # does not): the form then freezes only minutes as the chair read them.
            "versie": minutes_service.minutes_etag(data.meeting, data.document).strip('"'),
            "error": error,
        },
        status,
    )


@router.get("/vergaderingen/{meeting_id}/besluitenlijst")
def minutes_page_view(
    request: Request, meeting_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    return _page(request, session, web, meeting_id)


@router.post("/vergaderingen/{meeting_id}/besluitenlijst/definitief")
def finalize_minutes(
    request: Request,
    meeting_id: uuid.UUID,
    session: SessionDep,
    web: WebDep,
    form: FormDep,
    at_table: PageMeetingDep,
) -> Response:
    context = web.access()
    meeting, table = at_table
    web.require_chair(table.chair_organisation_id)
    if_match = _minutes_if_match(field(form, "versie", 40))
    if if_match is None:
        return _page(request, session, web, meeting_id, error=NO_VERSION, status=400)
    try:
        minutes_service.finalize(session, context, meeting, table, if_match)
    except ProblemError as exc:
        error = meeting_refusal(session, exc)
        if exc.status == 412:
            error = MINUTES_CHANGED
        session.refresh(meeting)
        if meeting.minutes is None:
            return _page(request, session, web, meeting_id, error=error, status=exc.status)
        # Sent twice (a double click: 412), or a colleague was first: they are final as asked.
    return redirect(f"/vergaderingen/{meeting_id}/besluitenlijst", "besluitenlijst_definitief")


def _minutes_if_match(version: str) -> str | None:
    """The minutes' ETag the page showed (`3-` and a digest while live), or a meeting's
    version (`3`) as before, as the ETag `finalize` checks; None for anything else."""
    if _MINUTES_TAG.fullmatch(version):
        return f'"{version}"'
    return _if_match(version)


@router.get("/vergaderingen/{meeting_id}/besluitenlijst.pdf")
def minutes_pdf(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> Response:
    data = minutes_page.load(session, web, meeting_id)
    printed_by = f"{web.person.display_name} ({web.organisation.name})"
    content = sections_pdf(
        data.title,
        "Besluitenlijst van de uitstroomtafel",
        [data.status_line()],
        [],
        minutes_page.sections(data),
        printed_by,
    )
    name = f"besluitenlijst-{data.meeting.date.isoformat()}"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@router.get("/vergaderingen/{meeting_id}/besluitenlijst.csv")
def minutes_csv(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> Response:
    data = minutes_page.load(session, web, meeting_id)
    content = sections_csv(minutes_page.csv_head(data), minutes_page.sections(data))
    name = f"besluitenlijst-{data.meeting.date.isoformat()}"
    return Response(
        content.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
