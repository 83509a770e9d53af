"""The pages of the table's work: overview, meetings and their agenda, decisions, actions, a
case's timeline, and the agenda as PDF and CSV.

Every page acts as the signed-in person's organisation through the same services as the API,
so what a person sees, and what is written to the access log, is what their organisation's key
would get; the person's role (viewer, member, chair) is checked on top.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from app.actions import service as actions_service
from app.actions.models import ActionCreate, ActionKind, ActionStatus, ActionUpdate
from app.agenda import service as agenda_service
from app.agenda.models import AgendaView
from app.db import SessionDep
from app.meetings import service as meetings_service
from app.meetings.models import MeetingCreate
from app.organisations.service import list_organisations
from app.problems import ProblemError
from app.proposals import lifecycle as proposal_lifecycle
from app.proposals import service as proposals_service
from app.proposals.models import REASONS, DecisionCreate, ProposalStatus
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.tables import service as tables_service
from app.timeutil import today
from app.vacancies.models import LeaseForm
from app.web import agenda as agenda_page
from app.web import labels
from app.web.core import (
    FormDep,
    PageForbidden,
    Web,
    WebDep,
    WebRoute,
    case_code,
    dutch_date,
    field,
    redirect,
    render,
    safe_next,
)
from app.web.export import agenda_csv, agenda_pdf

router = APIRouter(route_class=WebRoute, include_in_schema=False)
T = TypeVar("T")
MAX_ROWS = 1000

# Dutch messages for the field errors the services answer with (by invalidParams code).
FIELD_MESSAGES = {
    "reason_not_allowed": "Dit besluit heeft geen reden.",
    "date_in_future": "De datum ligt in de toekomst.",
    "date_before_meeting": "De verhuisdatum ligt vóór de vergadering.",
    "lease_form_required": "Kies de contractvorm: dossier en woning staan beide toe.",
    "lease_form_mismatch": "Deze contractvorm past niet bij dossier en woning.",
    "field_not_allowed": "Verhuisdatum en contractvorm horen alleen bij het besluit Gehuisvest.",
    "unknown_organisation": "Deze organisatie zit niet aan de tafel.",
    "unknown_case": "Dit dossier hoort niet bij deze tafel.",
    "unknown_meeting": "Deze vergadering hoort niet bij deze tafel.",
    "no_limits_for_year": "Voor dat jaar en de jaren ervoor zijn geen wettelijke grenzen "
    "ingevoerd.",
    "invalid_range": "De einddatum ligt vóór de begindatum.",
    "range_too_long": "Kies een periode van hoogstens tien jaar.",
    "too_fine_for_suppression": "Te veel cijfers om af te schermen voor uw organisatie: kies "
    "een grovere indeling of een kortere periode.",
}
CONFLICT_MESSAGES = {
    "duplicate_meeting": "Op deze datum vergadert de tafel al.",
    "already_published": "Deze agenda is al gepubliceerd.",
    "illegal_transition": "Dit besluit kan niet meer: de status van het voorstel is veranderd.",
    "decided_concurrently": "Iemand anders legde tegelijk een besluit vast; bekijk de stand.",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A write the service refused, as a Dutch message and the API's status code."""

    message: str
    status: int


def attempt(session: Session, action: Callable[[], T]) -> T | Refusal:
    """Run a write in a savepoint; a refusal rolls back only that write and comes back as a
    Dutch message for the form (403 and 404 still become their error pages)."""
    try:
        with session.begin_nested():
            return action()
    except ProblemError as exc:
        if exc.status in (403, 404):
            raise
        return Refusal(problem_message(exc), exc.status)


def _if_match(version: str) -> str | None:
    """The version the page showed, as the ETag the services check (412 if it moved on)."""
    return f'"{version}"' if version.isdigit() else None


def problem_message(exc: ProblemError) -> str:
    if exc.status == 409:
        return CONFLICT_MESSAGES.get(exc.code, "Dit kan nu niet; laad de pagina opnieuw.")
    if exc.status == 412:
        return (
            "Iemand anders was u voor: het voorstel is intussen gewijzigd. Bekijk de nieuwe stand."
        )
    params = exc.extra.get("invalidParams") or []
    messages = [
        FIELD_MESSAGES.get(p.get("code", ""), f"Ongeldige invoer: {p['name']}.") for p in params
    ]
    return " ".join(messages) or "De invoer is niet geldig."


def validation_message(exc: ValidationError) -> str:
    names = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
    return "Niet (goed) ingevuld: " + ", ".join(names) + "."


def organisation_names(session: Session, web: Web) -> dict[str, str]:
    """Names of the organisations the person's organisation may see (itself, co-members)."""
    rows = list_organisations(session, web.principal, after=None, limit=MAX_ROWS)
    return {str(o.id): o.name for o in rows}


# --- overview and tables -------------------------------------------------------------------


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
) -> HTMLResponse:
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
    request: Request, table_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    table = tables_service.get_table(session, web.principal, table_id)
    web.require_chair(table.chair_organisation_id)
    try:
        data = MeetingCreate.model_validate({"date": field(form, "datum", 10)})
    except ValidationError:
        return _table_page(
            request, session, web, table_id, error="Vul een geldige datum in.", status=422
        )
    meeting = attempt(
        session, lambda: meetings_service.create_meeting(session, web.access(), table, data)
    )
    if isinstance(meeting, Refusal):
        return _table_page(
            request, session, web, table_id, error=meeting.message, status=meeting.status
        )
    return redirect(f"/vergaderingen/{meeting.id}", "vergadering_gepland")


# --- the agenda ----------------------------------------------------------------------------


def _case_choices(document: dict[str, Any]) -> list[str]:
    """Every case the (restricted) agenda mentions, for the why-not and action forms."""
    ids = [e["case_id"] for e in document.get("candidates_by_case", [])]
    ids += [w["case_id"] for w in document.get("longest_waiting", [])]
    if document.get("bottlenecks"):
        ids += [b["case_id"] for b in document["bottlenecks"]["blocked_cases"]]
    return sorted(set(ids), key=lambda c: c[-8:])


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
    meeting_actions = [
        _action_row(web, data.table, a, data.names)
        for a in data.actions.values()
        if a.meeting_id == data.meeting.id
    ]
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
            "case_choices": _case_choices(doc),
            "can_chair": web.is_chair_of(data.table.chair_organisation_id),
            "can_ask_why": view != AgendaView.housing_corporation,
            "action_kinds": list(ActionKind),
            "members": data.table_info.members,
            "error": error,
            "components": agenda_page.components_text,
            "reason_counts": agenda_page.reason_counts,
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
    limit_person(session, web.settings, web.person.id, EndpointClass.agenda)
    return _agenda_page(request, session, web, meeting_id)


@router.post("/vergaderingen/{meeting_id}/publiceren")
def publish_meeting(
    request: Request, meeting_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    context = web.access()
    meeting, table = meetings_service.get_meeting(session, context, meeting_id)
    web.require_chair(table.chair_organisation_id)
    limit_person(session, web.settings, web.person.id, EndpointClass.publish)
    version = field(form, "versie", 10)
    # Not in a savepoint (`attempt`): publishing commits before it computes the agenda so that it
    # never holds the database meanwhile (app.db.outside_transaction). A refusal rolls back the
    # transaction it writes the proposals in, which holds nothing else.
    try:
        budget = web.settings.solver_time_budget_seconds
        meetings_service.publish(session, context, meeting, table, _if_match(version), budget)
    except ProblemError as exc:
        if exc.status in (403, 404):
            raise
        session.rollback()
        return _agenda_page(
            request, session, web, meeting_id, error=problem_message(exc), status=exc.status
        )
    return redirect(f"/vergaderingen/{meeting_id}", "gepubliceerd")


@router.get("/vergaderingen/{meeting_id}/agenda.pdf")
def meeting_pdf(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> Response:
    limit_person(session, web.settings, web.person.id, EndpointClass.agenda)
    data = agenda_page.load(session, web, meeting_id)
    printed_by = f"{web.person.display_name} ({web.organisation.name})"
    return Response(
        agenda_pdf(data, printed_by),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{_file_name(data)}.pdf"'},
    )


@router.get("/vergaderingen/{meeting_id}/agenda.csv")
def meeting_csv(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> Response:
    limit_person(session, web.settings, web.person.id, EndpointClass.agenda)
    data = agenda_page.load(session, web, meeting_id)
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
    dossier: uuid.UUID,
    woning: uuid.UUID,
    session: SessionDep,
    web: WebDep,
) -> HTMLResponse:
    limit_person(session, web.settings, web.person.id, EndpointClass.why_not)
    context = web.access()
    meeting, table = meetings_service.get_meeting(session, context, meeting_id)
    answer = agenda_service.why_not(
        session,
        context,
        table,
        dossier,
        woning,
        meeting.date,
        web.settings.solver_time_budget_seconds,
    )
    return render(
        request,
        "why_not.html",
        {
            "title": "Waarom past dit niet?",
            "meeting": meeting,
            "answer": answer,
            "vacancy": _vacancy_summary(meeting, table, web, str(woning)),
        },
    )


def _vacancy_summary(meeting, table, web: Web, vacancy_id: str) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The dwelling's summary as the frozen agenda shows it to this organisation, if at all."""
    if meeting.snapshot is None:
        return None
    view = agenda_service.view_for(web.access(), table)
    document = agenda_service.restrict(
        meeting.snapshot["document"], view, web.organisation.id, meeting.snapshot["owners"]
    )
    return next((v for v in document["vacancies"] if v["id"] == vacancy_id), None)


# --- proposals and decisions ---------------------------------------------------------------


def decision_choices(web: Web, status: ProposalStatus, role: str) -> list[str]:
    """The decisions this person may record now: the proposal lifecycle's transitions and
    deciders, with the chair's share reserved for people with the chair role."""
    if web.role == "viewer" or (role == "chair" and web.role != "chair"):
        return []
    return [d.value for d in proposal_lifecycle.decisions_open_to(status, role)]


def _proposal_page(
    request: Request,
    session: SessionDep,
    web: Web,
    proposal_id: uuid.UUID,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = web.access()
    proposal, table, role = proposals_service.get_proposal(session, context, proposal_id)
    public = proposals_service.show(session, context, proposal, role)
    profile = proposals_service.case_profile(session, context, proposal, role)
    meeting, _ = meetings_service.get_meeting(session, context, proposal.meeting_id)
    choices = decision_choices(web, proposal.status, role)
    return render(
        request,
        "proposal.html",
        {
            "title": f"Voorstel {case_code(proposal.case_id)}",
            "proposal": public,
            "table": table,
            "meeting": meeting,
            "role": role,
            "profile": profile,
            "vacancy": _vacancy_summary(meeting, table, web, str(proposal.vacancy_id)),
            "names": organisation_names(session, web),
            "choices": choices,
            "reasons": {d: sorted(REASONS[d], key=_other_last) for d in REASONS},
            "lease_forms": list(LeaseForm),
            "is_open": proposal_lifecycle.is_open(proposal.status),
            "today": today(),
            "error": error,
        },
        status,
    )


def _other_last(code: str) -> tuple[bool, str]:
    return (code == "other", labels.label("decision_reason", code))


@router.get("/voorstellen/{proposal_id}")
def proposal_page(
    request: Request, proposal_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    return _proposal_page(request, session, web, proposal_id)


@router.post("/voorstellen/{proposal_id}/besluit")
def record_decision(
    request: Request, proposal_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    context = web.access()
    proposal, table, role = proposals_service.get_proposal(session, context, proposal_id)
    web.require_writer()
    if role == "chair":
        web.require_chair(table.chair_organisation_id)
    body: dict[str, Any] = {"decision": field(form, "besluit", 40)}
    for name, key in (("reason", "reden"), ("effective_date", "verhuisdatum")):
        if value := field(form, key, 40):
            body[name] = value
    if value := field(form, "contractvorm", 40):
        body["lease_form"] = value
    try:
        data = DecisionCreate.model_validate(body)
    except ValidationError as exc:
        message = validation_message(exc)
        return _proposal_page(request, session, web, proposal_id, error=message, status=422)
    version = field(form, "versie", 10)
    decided = attempt(
        session,
        lambda: proposals_service.decide(
            session, context, proposal, table, role, data, _if_match(version)
        ),
    )
    if isinstance(decided, Refusal):
        return _proposal_page(
            request, session, web, proposal_id, error=decided.message, status=decided.status
        )
    return redirect(f"/voorstellen/{proposal_id}", "besluit")


# --- actions -------------------------------------------------------------------------------


def _action_row(web: Web, table, action, names: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    hide_case = web.organisation.kind == "housing_corporation"
    return {
        "action": action,
        "case_id": None if hide_case else action.case_id,
        "owner": names.get(str(action.owner_organisation_id), "onbekend"),
        "overdue": action.status == ActionStatus.open and action.due_date < today(),
        "can_update": may_update_action(web, table, action),
    }


def may_update_action(web: Web, table, action) -> bool:  # type: ignore[no-untyped-def]
    """The owner closes its action (a member will do), the chair any; the chair organisation's
    own actions need the chair role, as everything the chair organisation does as chair."""
    if web.role == "viewer":
        return False
    if action.owner_organisation_id == web.organisation.id:
        return action.owner_organisation_id != table.chair_organisation_id or web.role == "chair"
    return web.is_chair_of(table.chair_organisation_id)


@router.post("/tafels/{table_id}/acties")
def create_action(
    request: Request, table_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    table = tables_service.get_table(session, web.principal, table_id)
    web.require_chair(table.chair_organisation_id)
    back = safe_next(field(form, "terug", 500), f"/tafels/{table.id}")
    body: dict[str, Any] = {
        "kind": field(form, "soort", 40),
        "owner_organisation_id": field(form, "eigenaar", 40),
        "due_date": field(form, "uiterlijk", 10),
    }
    for name, key in (("case_id", "dossier"), ("meeting_id", "vergadering")):
        if value := field(form, key, 40):
            body[name] = value
    meeting_id = body.get("meeting_id")
    try:
        data = ActionCreate.model_validate(body)
    except ValidationError as exc:
        return _back_with_error(
            request, session, web, table.id, meeting_id, validation_message(exc)
        )
    created = attempt(
        session, lambda: actions_service.create_action(session, web.access(), table, data)
    )
    if isinstance(created, Refusal):
        return _back_with_error(request, session, web, table.id, meeting_id, created.message)
    return redirect(back, "actie")


def _back_with_error(
    request: Request,
    session: SessionDep,
    web: Web,
    table_id: uuid.UUID,
    meeting_id: str | None,
    error: str | None,
) -> HTMLResponse:
    if meeting_id:
        try:
            return _agenda_page(
                request, session, web, uuid.UUID(meeting_id), error=error, status=422
            )
        except ValueError:
            pass
    return _table_page(request, session, web, table_id, error=error, status=422)


@router.post("/acties/{action_id}")
def update_action(
    request: Request, action_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    context = web.access()
    action, table = actions_service.get_action(session, context, action_id)
    web.require_writer()
    if not may_update_action(web, table, action):
        if action.owner_organisation_id == web.organisation.id:
            raise PageForbidden("Dit doet iemand met de rol voorzitter.")
        web.require_chair(table.chair_organisation_id)
    back = safe_next(field(form, "terug", 500), f"/tafels/{table.id}")
    try:
        data = ActionUpdate.model_validate({"status": field(form, "status", 20)})
    except ValidationError as exc:
        return _table_page(
            request, session, web, table.id, error=validation_message(exc), status=422
        )
    updated = attempt(
        session,
        lambda: actions_service.update_action(session, context, table, action, data, None),
    )
    if isinstance(updated, Refusal):
        return _table_page(
            request, session, web, table.id, error=updated.message, status=updated.status
        )
    return redirect(back, "actie_bijgewerkt")
