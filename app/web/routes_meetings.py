"""The pages of a meeting: its agenda, publishing it, why a pair does not fit, and the agenda
as PDF and CSV.

Every page acts as the signed-in person's organisation through the same services as the API,
so what a person sees, and what is written to the access log, is what their organisation's key
would get; the person's role (viewer, member, chair) is checked on top.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.actions.models import ActionKind
from app.agenda import views as agenda_views
from app.agenda import why_not as why_not_service
from app.agenda.document import upgrade_frozen
from app.agenda.models import AgendaView
from app.db import SessionDep
from app.ids import Id
from app.meetings import service as meetings_service
from app.meetings.anonymised import anonymised_among
from app.meetings.models import Meeting
from app.problems import ProblemError
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.tables.models import OutflowTable
from app.web import agenda as agenda_page
from app.web.actions import _action_row, reopen_refusals
from app.web.core import FormDep, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageMeetingDep, case_pages_open
from app.web.export import WHOLE_TABLE_NOTE, agenda_csv, agenda_pdf
from app.web.formatting import dutch_date
from app.web.forms import NO_VERSION, _if_match, meeting_refusal

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ASKED_WHY = "Kies een %s uit de lijst bij de agenda."
"""What the why-not question's choices may hold, as the error page of a wrong one says."""


def _case_choices(document: dict[str, Any]) -> list[str]:
    """Every case the (restricted) agenda mentions, for the why-not and action forms."""
    ids = [e["case_id"] for e in document.get("candidates_by_case", [])]
    ids += [w["case_id"] for w in document.get("longest_waiting", [])]
    if document.get("bottlenecks"):
        ids += [b["case_id"] for b in document["bottlenecks"]["blocked_cases"]]
    return sorted(set(ids), key=lambda c: c[-8:])


def _cases_named(value: Any) -> set[str]:
    """Every case id the (restricted) agenda document names anywhere: under `case_id` or
    `case_ids`, or as the subject of a change."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "case_id" and item:
                found.add(str(item))
            elif key == "case_ids" and isinstance(item, list):
                found |= {str(i) for i in item if i}
            else:
                found |= _cases_named(item)
        if value.get("subject") == "case" and value.get("id"):
            found.add(str(value["id"]))
    elif isinstance(value, list):
        for item in value:
            found |= _cases_named(item)
    return found


def _agenda_page(
    request: Request,
    session: SessionDep,
    web: Web,
    meeting_id: uuid.UUID,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    data = agenda_page.load(session, web, meeting_id)
    doc = data.document
    view = AgendaView(doc["view"])
    proposals = []
    for p in doc["proposals"]:
        live = data.proposals.get((p["case_id"], p["vacancy_id"]))
        proposals.append({**p, "live": live})
    own = [a for a in data.actions.values() if a.meeting_id == data.meeting.id]
    refusals = reopen_refusals(session, data.table, own)
    meeting_actions = [_action_row(web, data.table, a, data.names, refusals.get(a.id)) for a in own]
    choices = _case_choices(doc)
    # No action about a case retention anonymised since is handed out (409 case_anonymised).
    anonymised = anonymised_among(session, set(choices))
    return render(
        request,
        "agenda.html",
        {
            "title": agenda_page_title(data),
            "data": data,
            "doc": doc,
            "view": view,
            "summary": agenda_page.summary_rows(data),
            "optimality_note": agenda_page.optimality_note(data.document["summary"]),
            "proposals": proposals,
            "open_actions": [{**a, "now": data.actions.get(a["id"])} for a in doc["open_actions"]],
            "meeting_actions": meeting_actions,
            "open_proposals": doc.get("open_proposals", []),
            "aftercare": agenda_page.aftercare_section(data),
            "stalled_count": sum(1 for e in doc.get("open_proposals", []) if e["stalled"]),
            "case_choices": choices,
            "action_case_choices": [c for c in choices if c not in anonymised],
            # The cases whose page opens for the viewer, linked; any other a plain code (a
            # corporation's view showed even its own proposals' cases, which it may open, so).
            "linked_cases": {str(i) for i in case_pages_open(session, web, _cases_named(doc))},
            "can_chair": web.is_chair_of(data.table.chair_organisation_id),
            "can_ask_why": view != AgendaView.housing_corporation,
            "action_kinds": list(ActionKind),
            "members": data.table_info.members,
            "error": error,
            "components": agenda_page.components_text,
            "excluded_cell": agenda_page.excluded_cell,
            "unblocked_text": agenda_page.unblocked_text,
            "whole_table_note": WHOLE_TABLE_NOTE,
            "excluded_text": agenda_page.excluded_text,
            "nobody_passed_over": agenda_page.nobody_passed_over,
            "back": f"/vergaderingen/{data.meeting.id}",
        },
        status,
    )


def agenda_page_title(data: agenda_page.AgendaData) -> str:
    return f"Agenda {dutch_date(data.meeting.date)}"


@router.get("/vergaderingen/{meeting_id}")
def meeting_page(
    request: Request, meeting_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    limit_person(session, web.settings, web.person, EndpointClass.agenda)
    return _agenda_page(request, session, web, meeting_id)


@router.post("/vergaderingen/{meeting_id}/publiceren")
def publish_meeting(
    request: Request, session: SessionDep, web: WebDep, form: FormDep, found: PageMeetingDep
) -> Response:
    context = web.access()
    meeting, table = found
    meeting_id = meeting.id
    web.require_chair(table.chair_organisation_id)
    limit_person(session, web.settings, web.person, EndpointClass.publish)
    if_match = _if_match(field(form, "versie", 10))
    if if_match is None:
        return _agenda_page(request, session, web, meeting_id, error=NO_VERSION, status=400)
    # Not in a savepoint (`attempt`): publishing commits before it computes the agenda so that it
    # never holds the database meanwhile (app.db.outside_transaction). A refusal rolls back the
    # transaction it writes the proposals in, which holds nothing else.
    try:
        budget = web.settings.solver_time_budget_seconds
        meetings_service.publish(session, context, meeting, table, if_match, budget)
    except ProblemError as exc:
        error = meeting_refusal(session, exc)
        session.refresh(meeting)
        if meeting.published_at is not None:
            # Sent twice (a double click: 412), or a colleague was first: it stands as asked.
            return redirect(f"/vergaderingen/{meeting_id}", "gepubliceerd")
        return _agenda_page(request, session, web, meeting_id, error=error, status=exc.status)
    return redirect(f"/vergaderingen/{meeting_id}", "gepubliceerd")


@router.get("/vergaderingen/{meeting_id}/agenda.pdf")
def meeting_pdf(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> Response:
    limit_person(session, web.settings, web.person, EndpointClass.agenda)
    data = agenda_page.load(session, web, meeting_id, export=True)
    printed_by = f"{web.person.display_name} ({web.organisation.name})"
    return Response(
        agenda_pdf(data, printed_by),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{_file_name(data)}.pdf"'},
    )


@router.get("/vergaderingen/{meeting_id}/agenda.csv")
def meeting_csv(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> Response:
    limit_person(session, web.settings, web.person, EndpointClass.agenda)
    data = agenda_page.load(session, web, meeting_id, export=True)
    return Response(
        agenda_csv(data).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(data)}.csv"'},
    )


def _file_name(data: agenda_page.AgendaData) -> str:
    return f"agenda-{data.meeting.date.isoformat()}"


@router.get("/vergaderingen/{meeting_id}/waarom-niet")
def why_not_page(
    request: Request,
    meeting_id: uuid.UUID,
    dossier: Annotated[Id, Query(title="Dossier", description=ASKED_WHY % "dossier")],
    woning: Annotated[Id, Query(title="Woning", description=ASKED_WHY % "woning")],
    session: SessionDep,
    web: WebDep,
) -> HTMLResponse:
    limit_person(session, web.settings, web.person, EndpointClass.why_not)
    context = web.access()
    meeting, table = meetings_service.get_meeting(session, context, meeting_id)
    answer = why_not_service.why_not(
        session,
        context,
        table,
        dossier,
        woning,
        meeting.date,
        web.settings.solver_time_budget_seconds,
    )
    frozen = _frozen_document(meeting, table, web)
    # The answer is of the pair as it stands now: once published, the meeting's own proposal
    # keeps the pair out of the date's agenda, so the page says what the frozen agenda did.
    pair = (str(dossier), str(woning))
    frozen_proposed = frozen is not None and any(
        (p["case_id"], p["vacancy_id"]) == pair for p in frozen["proposals"]
    )
    reasons = answer["reasons"]
    status_only = bool(reasons) and reasons[0]["code"].startswith(("case_", "vacancy_"))
    misfit = not answer["feasible"] and not status_only
    return render(
        request,
        "why_not.html",
        {
            # 'Waarom past dit niet?' above 'Deze woning past bij dit dossier' (or above 'Dit
            # dossier of deze woning doet niet mee') asked the wrong question: only a pair that
            # a rule keeps apart is asked why it does not fit; the others as the agenda's form
            # names the page.
            "title": "Waarom past dit niet?" if misfit else "Waarom niet?",
            "status_only": status_only,
            "meeting": meeting,
            "answer": answer,
            "vacancy": _vacancy_summary(meeting, table, web, str(woning), frozen),
            "frozen_proposed": frozen_proposed,
            # Published: the statuses are of now (the meeting's proposals among them), not of
            # the frozen agenda, which did weigh the case and the dwelling.
            "frozen": frozen is not None,
        },
    )


def _frozen_document(meeting: Meeting, table: OutflowTable, web: Web) -> dict[str, Any] | None:
    """The frozen agenda as it shows to this organisation (None before publication), read in
    today's shape as the API reads it (an agenda frozen before `limits_fallback` existed)."""
    if meeting.snapshot is None:
        return None
    view = agenda_views.view_for(web.access(), table)
    document = upgrade_frozen(meeting.snapshot["document"])
    owners = meeting.snapshot["owners"]
    return agenda_views.restrict(document, view, web.organisation.id, owners, live=False)


def _vacancy_summary(
    meeting: Meeting,
    table: OutflowTable,
    web: Web,
    vacancy_id: str,
    frozen: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The dwelling's summary as the frozen agenda shows it to this organisation, if at all
    (`frozen`: that agenda, when read already)."""
    frozen = frozen or _frozen_document(meeting, table, web)
    if frozen is None:
        return None
    return next((v for v in frozen["vacancies"] if v["id"] == vacancy_id), None)
