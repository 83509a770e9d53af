"""The pages of a proposal and the decisions on it."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlmodel import col, select
from starlette.responses import Response

from app.db import SessionDep
from app.meetings import service as meetings_service
from app.problems import NotFound
from app.proposals import lifecycle as proposal_lifecycle
from app.proposals import service as proposals_service
from app.proposals.models import (
    REASONS,
    Decision,
    DecisionCreate,
    Proposal,
    ProposalDecision,
    ProposalStatus,
)
from app.tables.models import OutflowTable
from app.timeutil import today
from app.vacancies.models import LeaseForm, Vacancy
from app.web import labels
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageProposalDep, case_page_opens, vacancy_page_opens
from app.web.formatting import proposal_code
from app.web.forms import (
    NO_VERSION,
    Refusal,
    _if_match,
    attempt,
    invalid_fields,
    mark_fields,
    organisation_names,
    validation_message,
)
from app.web.routes_meetings import _vacancy_summary

router = APIRouter(route_class=WebRoute, include_in_schema=False)
INPUTS = {
    "viewing_date": ("bezichtiging", "Datum van de bezichtiging"),
    "effective_date": ("verhuisdatum", "Verhuisdatum"),
    "lease_form": ("contractvorm", "Contractvorm"),
}
"""The decision forms' fields (proposal page) by API name: their input's id and label."""


def deciding_role(web: Web, proposal: Proposal, role: str) -> str:
    """The part this person decides in: the chair organisation's people without the chair role
    act as their organisation's party to the proposal (a corporation chairing the table accepts
    its own dwelling's proposal through a member, as at a table it does not chair)."""
    if role != "chair" or web.role == "chair":
        return role
    if web.organisation.id == proposal.corporation_id:
        return "corporation"
    if web.organisation.id == proposal.care_provider_id:
        return "care_provider"
    return role


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
    profile = None
    anonymised = False
    if proposals_service.profile_visible(session, context, proposal, role):
        try:
            profile = proposals_service.case_profile(session, context, proposal, role)
        except NotFound as gone:
            if gone.code != "case_anonymised":
                raise
            anonymised = True
    meeting, _ = meetings_service.get_meeting(session, context, proposal.meeting_id)
    choices = decision_choices(web, proposal.status, deciding_role(web, proposal, role))
    # Before the meeting's day the parties decide nothing (so no move-in date lies between the
    # meeting and today yet); the chair may only withdraw.
    decisions_wait = proposal_lifecycle.is_open(proposal.status) and meeting.date > today()
    if decisions_wait:
        choices = [c for c in choices if c == "withdraw"]
    # The first move-in day the API takes is the meeting's date or, when later, the day the
    # dwelling is available (`proposals_service._check_available`): the form starts there, and
    # before that day it is not offered (it offered today, always refused, with the meeting's
    # date as its earliest).
    move_in_from = meeting.date
    house_from = None
    if "house" in choices:
        vacancy = session.get(Vacancy, proposal.vacancy_id)
        if vacancy is not None:
            move_in_from = max(move_in_from, vacancy.available_from)
        if move_in_from > today():
            house_from = move_in_from
            choices = [c for c in choices if c != "house"]
    return render(
        request,
        "proposal.html",
        {
            "title": f"Voorstel {proposal_code(proposal.id)}",
            "proposal": public,
            "table": table,
            "meeting": meeting,
            "role": role,
            "profile": profile,
            "anonymised": anonymised,
            "vacancy": _vacancy_summary(meeting, table, web, str(proposal.vacancy_id)),
            # The case's and the dwelling's pages are linked only for whom they open: the
            # corporation reads its own dwelling and the case's profile, the care provider its
            # case (not the dwelling), the chair both, a case moved to another table neither.
            "case_link": case_page_opens(session, web, proposal.case_id),
            "vacancy_link": vacancy_page_opens(session, web, proposal.vacancy_id),
            # The parties and who decided, also one that has left the table since.
            "names": organisation_names(
                session,
                web,
                [public.care_provider_id, public.corporation_id]
                + [d.actor_organisation_id for d in public.decisions],
            ),
            "choices": choices,
            "reasons": {d: sorted(REASONS[d], key=_other_last) for d in REASONS},
            "lease_forms": list(LeaseForm),
            "is_open": proposal_lifecycle.is_open(proposal.status),
            "today": today(),
            "decisions_wait": decisions_wait,
            "move_in_from": move_in_from,
            "house_from": house_from,
            "viewing_from": proposals_service.made_on(proposal),
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
    request: Request, session: SessionDep, web: WebDep, form: FormDep, found: PageProposalDep
) -> Response:
    context = web.access()
    proposal, table, role = found
    proposal_id = proposal.id
    web.require_writer()
    role = deciding_role(web, proposal, role)
    if role == "chair":
        web.require_chair(table.chair_organisation_id)
    body: dict[str, Any] = {"decision": field(form, "besluit", 40)}
    _refuse_other_parties(web, table, role, body["decision"])
    for name, key in (
        ("reason", "reden"),
        ("effective_date", "verhuisdatum"),
        ("viewing_date", "bezichtiging"),
    ):
        if value := field(form, key, 40):
            body[name] = value
    if value := field(form, "contractvorm", 40):
        body["lease_form"] = value
    # Each decision form that takes a reason has its own reason field; a reason sent with
    # another decision is named in the error summary only (no field of the page to link to).
    reason = f"reden-{body['decision']}"
    inputs = INPUTS | ({"reason": (reason, "Reden")} if body["decision"] in REASONS else {})
    try:
        data = DecisionCreate.model_validate(body)
    except ValidationError as exc:
        message = validation_message(exc)
        mark_fields(request, invalid_fields(exc), inputs)
        return _proposal_page(request, session, web, proposal_id, error=message, status=400)
    version = field(form, "versie", 10)
    if_match = _if_match(version)
    if if_match is None and proposals_service.may_decide(role, data.decision):
        # Not the party's decision: the service's 403 below comes first (nothing is recorded).
        return _proposal_page(request, session, web, proposal_id, error=NO_VERSION, status=400)
    decided = attempt(
        session,
        lambda: proposals_service.decide(session, context, proposal, table, role, data, if_match),
    )
    if isinstance(decided, Refusal):
        if decided.status == 412 and _sent_twice(session, proposal, web, data, version):
            return redirect(f"/voorstellen/{proposal_id}", "besluit")
        mark_fields(request, decided.fields, inputs)
        return _proposal_page(
            request, session, web, proposal_id, error=decided.message, status=decided.status
        )
    return redirect(f"/voorstellen/{proposal_id}", "besluit")


NOT_A_PARTY = (
    "Over een voorstel besluiten de voorzitter en de corporatie en zorgaanbieder ervan; de "
    "andere leden van de tafel volgen het."
)


def _refuse_other_parties(web: Web, table: OutflowTable, role: str, decision: str) -> None:
    """403 before the form is judged, as the API's `proposal_to_decide`: for a member that
    takes no decision (a municipality that does not chair the table), and for a decision the
    form names that another party takes. They were told which fields were wrong first (400,
    each marked), and only once those were right that the decision was not theirs."""
    if not any(proposals_service.may_decide(role, d) for d in Decision):
        raise PageForbidden(NOT_A_PARTY)
    named = decision in {d.value for d in Decision}
    if named and not proposals_service.may_decide(role, Decision(decision)):
        if web.organisation.id == table.chair_organisation_id:
            # The chair's share, sent by a person of the chair organisation deciding as a party.
            web.require_chair(table.chair_organisation_id)
        what = labels.label("decision", decision)
        raise PageForbidden(f"Het besluit '{what}' neemt een andere partij bij dit voorstel.")


def _sent_twice(
    session: SessionDep, proposal: Proposal, web: Web, data: DecisionCreate, version: str
) -> bool:
    """Whether the form was sent before and recorded: the proposal moved on from the version
    the form showed by exactly this decision, with this reason, of this organisation, and
    with the viewing day, move-in day and lease form it asks (a double click). It stands as
    asked, so the page says so instead of 'someone else was first'. A colleague's viewing on
    another day is a different change (found by the ninth breaker)."""
    session.refresh(proposal)
    last = session.exec(
        select(ProposalDecision)
        .where(col(ProposalDecision.proposal_id) == proposal.id)
        .order_by(col(ProposalDecision.id).desc())
        .limit(1)
    ).first()
    return (
        version.isascii()
        and version.isdigit()
        and proposal.version == int(version) + 1
        and last is not None
        and (last.decision, last.reason, last.actor_organisation_id)
        == (data.decision, data.reason, web.organisation.id)
        and (data.viewing_date is None or proposal.viewing_on == data.viewing_date)
        and (
            data.decision != Decision.house
            or proposal.housed_on == (data.effective_date or today())
        )
        and (data.lease_form is None or proposal.lease_form == data.lease_form.value)
    )
