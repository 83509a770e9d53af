"""The pages' writes of actions: a chair creates one, its owner or the chair updates it."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from app.actions import service as actions_service
from app.actions.models import ActionCreate, ActionUpdate
from app.db import SessionDep
from app.meetings import service as meetings_service
from app.problems import ProblemError
from app.web.actions import may_update_action
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, redirect, safe_next
from app.web.deps import PageActionDep, PageTableDep
from app.web.forms import (
    Refusal,
    _if_match,
    attempt,
    create_once,
    invalid_fields,
    mark_fields,
    validation_message,
)
from app.web.labels import label
from app.web.query_values import PAGE_ID
from app.web.routes_meetings import _agenda_page
from app.web.routes_tables import _table_page

router = APIRouter(route_class=WebRoute, include_in_schema=False)
INPUTS = {
    "kind": ("actie-soort", "Soort actie"),
    "owner_organisation_id": ("actie-eigenaar", "Eigenaar"),
    "case_id": ("actie-dossier", "Over dossier"),
    "due_date": ("actie-uiterlijk", "Uiterlijk klaar op"),
}
"""The action form's fields (agenda page) by API name: their input's id and label."""
STALE = (
    "Iemand anders heeft deze actie intussen bijgewerkt; de status is nu: {}. Hieronder staat "
    "de nieuwste stand; kies opnieuw als dat nog nodig is."
)
NO_VERSION = (
    "Dit formulier zegt niet welke versie van de actie u zag, dus er is niets opgeslagen. "
    "Hieronder staat de stand zoals die nu is."
)


@router.post("/tafels/{table_id}/acties")
def create_action(
    request: Request, session: SessionDep, web: WebDep, form: FormDep, table: PageTableDep
) -> Response:
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
    if meeting_id and _own_meeting(session, web, table.id, meeting_id) is None:
        return _unknown_meeting(request, session, web, table.id)
    try:
        data = ActionCreate.model_validate(body)
    except ValidationError as exc:
        mark_fields(request, invalid_fields(exc), INPUTS)
        return _back_with_error(
            request, session, web, table.id, meeting_id, validation_message(exc)
        )
    # The same form sent twice hands out one action, as an API client's retry with its key
    # does; sent back with other choices, one more (`create_once`).
    created = create_once(
        session,
        web,
        request,
        form,
        data,
        lambda: actions_service.create_action(session, web.access(), table, data).id,
    )
    if isinstance(created, Refusal):
        mark_fields(request, created.fields, INPUTS)
        return _back_with_error(
            request, session, web, table.id, meeting_id, created.message, created.status
        )
    return redirect(back, "actie")


def _back_with_error(
    request: Request,
    session: SessionDep,
    web: Web,
    table_id: uuid.UUID,
    meeting_id: str | None,
    error: str | None,
    status: int = 400,
) -> HTMLResponse:
    """The page the form came from with `error`, answered with the refusal's `status` (a
    conflict, such as minutes marked final meanwhile, is the API's 409): the agenda of the
    form's meeting when it is one of this table, its id written as the API writes one (it read
    `{id}` and 32 digits as that agenda, and answered a bare 404 for an unknown meeting); else
    the table's page (a form without a meeting), or `_unknown_meeting` for one gone since."""
    meeting = _own_meeting(session, web, table_id, meeting_id)
    if meeting is not None:
        return _agenda_page(request, session, web, meeting, error=error, status=status)
    if meeting_id:
        return _unknown_meeting(request, session, web, table_id)
    return _table_page(request, session, web, table_id, error=error, status=status)


UNKNOWN_MEETING = (
    "De vergadering van dit formulier is bij deze tafel niet bekend, dus er is geen actie uitgezet."
)
TO_AN_AGENDA = "Open hieronder de agenda van de vergadering en zet de actie daar uit."
"""Said beside the table page's Vergaderingen when the form's meeting is not the table's."""


def _unknown_meeting(
    request: Request, session: SessionDep, web: Web, table_id: uuid.UUID
) -> HTMLResponse:
    """The table's page (400) when the form's hidden meeting is none of the table's, written
    another way than the API writes an id, unknown or another table's, alike: the chair never
    chose it and cannot mend it there, so the page says so and, beside its Vergaderingen (the
    summary links there), to hand the action out on a meeting's agenda. Only the summary had
    'Niet (goed) ingevuld: Vergadering.', naming a field the page does not have, and the other
    fields refused with it were linked to inputs it does not have either."""
    mark_fields(
        request,
        [("meeting_id", TO_AN_AGENDA)],
        {"meeting_id": ("h-vergaderingen", "Vergaderingen")},
    )
    return _table_page(request, session, web, table_id, error=UNKNOWN_MEETING, status=400)


def _own_meeting(
    session: SessionDep, web: Web, table_id: uuid.UUID, meeting_id: str | None
) -> uuid.UUID | None:
    """The action form's meeting (`vergadering`) if it is one of the table the form posts to."""
    if not meeting_id:
        return None
    try:
        meeting, table = meetings_service.get_meeting(
            session, web.access(), PAGE_ID.validate_python(meeting_id)
        )
    except (ValueError, ProblemError):  # not written as an id, unknown, or not the person's
        return None
    return meeting.id if table.id == table_id else None


@router.post("/acties/{action_id}")
def update_action(
    request: Request, session: SessionDep, web: WebDep, form: FormDep, found: PageActionDep
) -> Response:
    context = web.access()
    action, table = found
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
            request, session, web, table.id, error=validation_message(exc), status=400
        )
    # The version the form showed goes along as If-Match, so a click on a stale page does not
    # overwrite what someone else recorded in between (done, then cancelled from an old page).
    if_match = _if_match(field(form, "versie", 12))
    if if_match is None:
        return _table_page(request, session, web, table.id, error=NO_VERSION, status=400)
    updated = attempt(
        session,
        lambda: actions_service.update_action(session, context, table, action, data, if_match),
    )
    if isinstance(updated, Refusal):
        session.refresh(action)
        if updated.status == 412 and action.status == data.status:
            return redirect(back, "actie_bijgewerkt")  # sent twice: it stands as asked
        error = (
            STALE.format(label("action_status", action.status))
            if updated.status == 412
            else (updated.message)
        )
        return _table_page(request, session, web, table.id, error=error, status=updated.status)
    return redirect(back, "actie_bijgewerkt")
