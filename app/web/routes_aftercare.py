# Size: one housed case's aftercare with the five forms that record it, and the table's list of
# tenancies; split the table's list off when it grows.
"""The Nazorg pages: a housed case's tenancy, aftercare agreement, follow-up checkpoints, omklap
and end (`/dossiers/{id}/nazorg`, also shown as a section of the case page), and a table's
tenancies with what asks for attention (`/tafels/{id}/nazorg`).

Every write goes through the API's own services (`app.aftercare.service`), with the same rules,
codes and access log; the forms send the codes the API takes. Each form carries the CSRF token
and the version it was shown (`versie`): a stale one stores nothing (412, the latest state is
shown), a form without it is refused (400), as is invalid input.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.responses import Response

from app.aftercare import service as aftercare
from app.aftercare.models import (
    AftercareAgreement,
    AgreementWrite,
    Checkpoint,
    CheckpointCreate,
    TenancyStatus,
    TenancyUpdate,
)
from app.aftercare.service import Viewer, raised_signals
from app.cursors import encode_cursor
from app.db import SessionDep
from app.problems import NotFound
from app.timeutil import today
from app.web import aftercare as aftercare_page
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageTableDep
from app.web.formatting import case_code
from app.web.forms import (
    Refusal,
    _if_match,
    attempt,
    invalid_fields,
    is_date_error,
    mark_fields,
    mark_wrong_values,
    organisation_names,
    unfilled,
    whole_number,
)
from app.web.query_values import WRONG_VALUES, QueryValues
from app.web.routes_registry import _choice, _cursor, _listed

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 100

STALE = (
    "Iemand anders heeft de nazorg van dit dossier intussen gewijzigd. Hieronder staat de "
    "nieuwste stand; breng uw wijziging opnieuw aan."
)
NO_VERSION = (
    "Dit formulier zegt niet welke versie u zag, dus er is niets opgeslagen. Hieronder staat "
    "de stand zoals die nu is; breng uw wijziging opnieuw aan."
)
# The form's fields by the API's names, for a message that names what to fix.
FIELDS = {
    "support_intensity": "begeleiding",
    "support_organisation_id": "organisatie die begeleidt",
    "contact_frequency": "contact",
    "starts_on": "startdatum",
    "planned_end_on": "geplande einddatum",
    "action_signals": "signalen die tot actie leiden",
    "months": "controle",
    "recorded_on": "datum van de controle",
    "still_living_there": "woont er nog",
    "support_active": "begeleiding loopt",
    "signals": "signalen",
    "transfer_planned_on": "geplande omklapdatum",
    "transfer_open_conditions": "open voorwaarden",
    "transferred_on": "datum van de omklap",
    "ended_on": "einddatum",
    "end_reason": "reden",
}
YES_NO = {"ja": True, "nee": False}


def _page(
    request: Request,
    session: Session,
    web: Web,
    case_id: uuid.UUID,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    section = aftercare_page.case_section(session, web, case_id)
    if section is None:
        raise NotFound("No tenancy for this case.")
    return render(
        request,
        "aftercare_case.html",
        {
            "title": f"Nazorg {case_code(case_id)}",
            "case_id": case_id,
            "aftercare": section,
            "error": error,
            "stale": status == 412,  # forms show the newest state, not what was sent (STALE)
        },
        status,
    )


@router.get("/dossiers/{case_id}/nazorg")
def case_aftercare(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    return _page(request, session, web, case_id)


def _invalid(exc: ValidationError) -> str:
    names = [FIELDS.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors()]
    return unfilled(names, dates=any(is_date_error(e) for e in exc.errors()))


def _read(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        return Refusal(_invalid(exc), 400, invalid_fields(exc))


INPUTS = {
    "starts_on": ("na-start", "Start"),
    "planned_end_on": ("na-einde", "Gepland einde"),
    "recorded_on": ("na-datum", "Datum van de controle"),
    "transfer_planned_on": ("na-gepland", "Geplande datum van de omklap"),
    "transferred_on": ("na-overdracht", "Datum van de omklap"),
    "ended_on": ("na-einddatum", "Einddatum"),
}
"""The dates of the aftercare forms by API name (one form each): their input's id and label."""


def _chosen(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)][:20]


def _write(
    request: Request,
    session: Session,
    web: Web,
    case_id: uuid.UUID,
    data: Any,
    action: Any,
    notice: str,
    stands: Any = None,
) -> Response:
    """Run the service call `action(data)` when the form read well; a refusal re-renders the
    page with its Dutch message and the API's status (412: the latest state). `stands(data)`
    says whether what a stale form asks is what stands now: the form sent twice (a double
    click), whose first sending moved the version; it is then done, not refused."""
    if isinstance(data, Refusal):
        mark_fields(request, data.fields, INPUTS)
        return _page(request, session, web, case_id, error=data.message, status=data.status)
    done = attempt(session, lambda: action(data))
    if isinstance(done, Refusal):
        session.expire_all()
        if done.status == 412 and stands is not None and stands(data):
            return redirect(f"/dossiers/{case_id}/nazorg#nazorg", notice)
        mark_fields(request, done.fields, INPUTS)
        message = STALE if done.status == 412 else done.message
        return _page(request, session, web, case_id, error=message, status=done.status)
    return redirect(f"/dossiers/{case_id}/nazorg#nazorg", notice)


def _tenancy(session: Session, web: Web, case_id: uuid.UUID) -> Any:
    web.require_writer()  # the write logs its access; a refused one, the page shown again
    return aftercare.get_tenancy(session, web.access(), case_id, logged=False)


def _version(form: FormData) -> str | None:
    """The tenancy version the form was shown, as an `If-Match`; None when it has none."""
    return _if_match(field(form, "versie", 10))


@router.post("/dossiers/{case_id}/nazorg/afspraak")
def put_agreement(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """Make or replace the aftercare agreement (the case's care provider). `versie` is the
    agreement's version, or `nieuw` when the page showed none (then an agreement made
    meanwhile makes the form stale: nothing is overwritten unseen)."""
    tenancy, viewer = _tenancy(session, web, case_id)
    if viewer != Viewer.care_provider:
        raise PageForbidden("De nazorgafspraak maakt de zorgaanbieder van dit dossier.")
    version = field(form, "versie", 10)
    if_none_match = None
    if version == "nieuw":
        # Only where there is none yet, also one made while this waits for the lock (412).
        if_match, if_none_match = None, "*"
    elif (if_match := _if_match(version)) is None:
        return _page(request, session, web, case_id, error=NO_VERSION, status=400)
    data = _read(
        AgreementWrite,
        {
            "support_intensity": field(form, "begeleiding", 20),
            "support_organisation_id": field(form, "organisatie", 40),
            "contact_frequency": field(form, "contact", 20),
            "starts_on": field(form, "start", 10),
            "planned_end_on": field(form, "einde", 10) or None,
            "action_signals": _chosen(form, "signalen"),
        },
    )
    return _write(
        request,
        session,
        web,
        case_id,
        data,
        lambda d: aftercare.put_agreement(
            session, web.access(), tenancy, d, if_match, if_none_match
        ),
        "nazorg_afspraak",
        lambda d: _agreement_of(session.get(AftercareAgreement, case_id)) == _asked_agreement(d),
    )


def _agreement_of(stored: AftercareAgreement | None) -> tuple[Any, ...] | None:
    """What an agreement says, to compare with what a form asks (`_asked_agreement`)."""
    if stored is None:
        return None
    return (
        stored.support_intensity,
        stored.support_organisation_id,
        stored.contact_frequency,
        stored.starts_on,
        stored.planned_end_on,
        sorted(stored.action_signals),
    )


def _asked_agreement(data: AgreementWrite) -> tuple[Any, ...]:
    return (
        data.support_intensity.value,
        data.support_organisation_id,
        data.contact_frequency.value,
        data.starts_on,
        data.planned_end_on,
        sorted(s.value for s in data.action_signals),
    )


@router.post("/dossiers/{case_id}/nazorg/controle")
def record_checkpoint(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """Record a follow-up checkpoint (the case's care provider), against the tenancy version
    the page showed (a tenancy ended or changed meanwhile: 412)."""
    tenancy, viewer = _tenancy(session, web, case_id)
    if viewer != Viewer.care_provider:
        raise PageForbidden("Controles legt de zorgaanbieder van dit dossier vast.")
    if_match = _version(form)
    if if_match is None:
        return _page(request, session, web, case_id, error=NO_VERSION, status=400)
    data = _read(
        CheckpointCreate,
        {
            "months": whole_number(field(form, "maanden", 4)),
            "recorded_on": field(form, "datum", 10) or None,
            "still_living_there": YES_NO.get(field(form, "woont_er", 4)),
            "support_active": YES_NO.get(field(form, "begeleiding_loopt", 4)),
            "signals": _chosen(form, "signalen"),
        },
    )

    def record(checked: CheckpointCreate) -> Any:
        return aftercare.record_checkpoint(session, web.access(), tenancy, checked, if_match)

    def recorded(checked: CheckpointCreate) -> bool:
        """This checkpoint stands as the form asks (a double click)."""
        stored = session.exec(
            select(Checkpoint).where(
                col(Checkpoint.case_id) == case_id, col(Checkpoint.months) == checked.months
            )
        ).first()
        asked = raised_signals(
            checked.still_living_there, checked.support_active, [s.value for s in checked.signals]
        )
        return stored is not None and (
            stored.recorded_on,
            stored.still_living_there,
            stored.support_active,
            sorted(stored.signals),
        ) == (
            checked.recorded_on or today(),
            checked.still_living_there,
            checked.support_active,
            sorted(asked),
        )

    return _write(request, session, web, case_id, data, record, "nazorg_controle", recorded)


def _kept_tenancy(session: Session, web: Web, case_id: uuid.UUID) -> Any:
    """The tenancy, for a writer of the organisation that keeps it (the case's care provider
    or the landlord); 403 for anyone else, checked before what the form says."""
    tenancy, _ = _tenancy(session, web, case_id)
    if not aftercare.keeps(tenancy, web.organisation.id):
        raise PageForbidden("De huur houden de zorgaanbieder en de corporatie bij.")
    return tenancy


def _update(
    request: Request,
    session: Session,
    web: Web,
    case_id: uuid.UUID,
    form: FormData,
    body: dict[str, Any],
    notice: str,
) -> Response:
    tenancy = _kept_tenancy(session, web, case_id)
    if_match = _version(form)
    if if_match is None:
        return _page(request, session, web, case_id, error=NO_VERSION, status=400)
    return _write(
        request,
        session,
        web,
        case_id,
        _read(TenancyUpdate, body),
        lambda d: aftercare.update_tenancy(session, web.access(), tenancy, d, if_match),
        notice,
        lambda d: all(_same(getattr(tenancy, name), value) for name, value in _asked(d).items()),
    )


def _same(stored: Any, asked: Any) -> bool:
    return sorted(stored) == sorted(asked) if isinstance(asked, list) else stored == asked


def _asked(data: TenancyUpdate) -> dict[str, Any]:
    """The fields a tenancy form sets, as the tenancy stores them."""
    asked = data.model_dump(exclude_unset=True, mode="json")
    for name in ("transfer_planned_on", "transferred_on", "ended_on"):
        if asked.get(name) is not None:
            asked[name] = getattr(data, name)
    return asked


@router.post("/dossiers/{case_id}/nazorg/omklap")
def plan_transfer(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """Plan the omklap (care provider or corporation): the planned day (empty: unchanged) and
    the conditions still open (the boxes ticked; none ticked clears them)."""
    body: dict[str, Any] = {"transfer_open_conditions": _chosen(form, "voorwaarden")}
    if planned := field(form, "gepland", 10):
        body["transfer_planned_on"] = planned
    return _update(request, session, web, case_id, form, body, "nazorg_omklap_gepland")


@router.post("/dossiers/{case_id}/nazorg/overdracht")
def record_transfer(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """Record the omklap: the lease went to the client on `datum` (the corporation only; 403
    for the care provider before what the form says, as for the API)."""
    if _kept_tenancy(session, web, case_id).corporation_id != web.organisation.id:
        raise PageForbidden("De omklap legt de corporatie vast.")
    day = field(form, "datum", 10)
    if not day:
        return _page(
            request, session, web, case_id, error="Vul de datum van de omklap in.", status=400
        )
    return _update(request, session, web, case_id, form, {"transferred_on": day}, "nazorg_omklap")


@router.post("/dossiers/{case_id}/nazorg/einde")
def end_tenancy(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """End the tenancy on `datum` with a reason code (care provider or corporation)."""
    _kept_tenancy(session, web, case_id)
    day, reason = field(form, "datum", 10), field(form, "reden", 32)
    if not day or not reason:
        return _page(
            request,
            session,
            web,
            case_id,
            error="Vul de einddatum en de reden allebei in.",
            status=400,
        )
    body = {"ended_on": day, "end_reason": reason}
    return _update(request, session, web, case_id, form, body, "nazorg_einde")


# --- the table's tenancies ------------------------------------------------------------------


@router.get("/tafels/{table_id}/nazorg")
def table_aftercare(
    request: Request, session: SessionDep, web: WebDep, table: PageTableDep
) -> HTMLResponse:
    """The table's tenancies as `GET /v1/tables/{id}/tenancies` gives them to the person's
    organisation (chair and municipalities: all; a care provider: its cases'; a corporation: its
    dwellings', in its view), each with its checkpoints due or overdue, its signals and an
    overdue omklap; each case shown is one access-log row."""
    statuses = _listed("tenancy_status", TenancyStatus)
    values = QueryValues(request.query_params, {"status": "Status", "na": "Volgende pagina"})
    given = values.given
    status = values.read(_choice, given.get("status"), TenancyStatus, "Status", statuses)
    after, _ = values.read(_cursor, given.get("na"), None) or (None, None)
    context = {
        "title": f"Nazorg: {table.name}",
        "table": table,
        "statuses": list(TenancyStatus),
        "status": status.value if status else "",
        "viewer": aftercare.table_viewer(web.principal, table).value,
    }
    if values.found:
        # The list's form again, as sent, with each wrong value beside its field and no rows:
        # the error page named them without the form, so the filter had to be found anew.
        wrong = mark_wrong_values(request, values, ["status"])
        page = {**context, "rows": [], "error": WRONG_VALUES, "wrong_values": wrong}
        return render(request, "aftercare_table.html", page, 400)
    rows, viewer = aftercare.list_tenancies(
        session, web.access(), table, status=status, after=after, limit=PAGE_SIZE
    )
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1].case_id) if len(rows) > PAGE_SIZE else None
    shown = []
    for tenancy in rows[:PAGE_SIZE]:
        document = aftercare.tenancy_document(session, tenancy, viewer)
        shown.append({"doc": document, "attention": aftercare_page.attention(document)})
    query = f"status={status.value}&" if status else ""
    return render(
        request,
        "aftercare_table.html",
        {
            **context,
            "rows": shown,
            "names": organisation_names(session, web),
            "next_query": f"{query}na={next_cursor}" if next_cursor else None,
        },
    )
