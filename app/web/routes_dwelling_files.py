"""A corporation's people offer and correct their own dwellings by hand: `/woningen/nieuw`,
`/woningen/{id}/bewerken`, and taking a dwelling off the market or offering it again
(`/woningen/{id}/status`).

Mirrors the case-file pages (`routes_case_files`): the form has the import's columns, read with
the import's cell readers (app.imports.by_hand), and the dwelling is written by the API's own
services (`upsert_vacancies`, `withdraw_vacancy`), so validation and lifecycle are the API's. An
edit carries the ETag it was shown (`versie`) as `If-Match`: a stale one loses nothing silently
(412, the latest dwelling is shown)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from app.db import SessionDep
from app.imports.by_hand import form_values, read_entry, validate_entry
from app.imports.columns import DWELLINGS
from app.imports.messages import service_message
from app.organisations.models import OrganisationKind
from app.problems import PreconditionFailed, ProblemError
from app.vacancies import service as vacancies
from app.vacancies.models import Vacancy, VacancyIn, VacancyStatus, vacancy_public_dict
from app.versioning import etag
from app.web import labels
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageVacancyDep
from app.web.routes_case_files import CHECK_FIELDS, ENTRY_MAX, fields_of, problem_errors

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NO_VERSION = (
    "Dit formulier zegt niet welke versie van de woning u zag, dus er is niets opgeslagen. "
    "Hieronder staat de woning zoals die nu is; breng uw wijziging opnieuw aan."
)

FIX_FIRST = (
    "Deze woning voldoet niet aan de regels van nu (bijvoorbeeld een straat of huisnummer van "
    "alleen spaties), dus ze is niet opnieuw aangeboden. Vul de woning hieronder aan en sla op."
)
REF = "external_ref"
STALE = (
    "Iemand anders heeft deze woning intussen gewijzigd. Hieronder staat de nieuwste versie; "
    "breng uw wijziging opnieuw aan."
)


def _require_corporation(web: Web) -> None:
    web.require_writer()
    if web.organisation.kind != OrganisationKind.housing_corporation.value:
        raise PageForbidden("Woningen biedt een woningcorporatie aan.")


def _own(web: Web, vacancy: Vacancy) -> Vacancy:
    """The dwelling (read by `PageVacancyDep`) if it is this corporation's own."""
    if vacancy.corporation_id != web.organisation.id:
        raise PageForbidden("Alleen de corporatie van deze woning wijzigt haar.")
    return vacancy


def _stored(vacancy: Vacancy) -> dict[str, Any]:
    """The stored dwelling as a `VacancyIn` document."""
    public = vacancy_public_dict(vacancy)
    return {name: public[name] for name in VacancyIn.model_fields}


def _is(vacancy: Vacancy, document: VacancyIn) -> bool:
    """Whether the stored dwelling is `document` (an edit form sent twice)."""
    try:
        return VacancyIn.model_validate(_stored(vacancy)) == document
    except ValidationError:  # stored before a rule it now breaks: not what a form sends
        return False


def _page(
    request: Request,
    web: Web,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    vacancy: Vacancy | None = None,
    error: str | None = None,
    status: int = 200,
    version: str | None = None,
) -> HTMLResponse:
    """The new-dwelling form or a dwelling's edit form; `version` as in the case file's
    (`routes_case_files._form_page`): the one a form coming back with what was typed was
    shown with."""
    context: dict[str, Any] = {
        "title": "Nieuwe woning" if vacancy is None else f"Woning {vacancy.external_ref} bewerken",
        "vacancy": vacancy,
        "fields": fields_of(DWELLINGS, values, errors or {}, [], vacancy is None),
        "error": error or (CHECK_FIELDS if errors else None),
    }
    if vacancy is not None:
        context |= {
            "version": version or etag(vacancy),
            "status_label": labels.label("vacancy_status", vacancy.status),
            "change": _change(vacancy.status),
        }
    return render(request, "dwelling_form.html", context, status)


def _stale(request: Request, session: Session, web: Web, vacancy: Vacancy) -> HTMLResponse:
    """412: someone changed the dwelling since the form was shown; show the latest version."""
    session.refresh(vacancy)
    values = form_values(DWELLINGS, _stored(vacancy))
    return _page(request, web, values=values, vacancy=vacancy, error=STALE, status=412)


def _change(status: str) -> dict[str, str] | None:
    """The one status change the API's lifecycle (`app.vacancies.lifecycle`) allows from
    `status`: withdraw while on offer (a proposed dwelling's open proposal ends), offer a
    withdrawn one again (a push), nothing once let. The API has one off-market state,
    `withdrawn`, which a push always undoes: the page offers no separate "for good"."""
    if status == "available":
        return {
            "status": "withdrawn",
            "label": "Van de markt halen",
            "hint": "De woning komt niet meer op de agenda tot u haar opnieuw aanbiedt.",
        }
    if status == "proposed":
        return {
            "status": "withdrawn",
            "label": "Van de markt halen",
            "hint": "Het lopende voorstel voor deze woning vervalt; het dossier komt weer vrij.",
        }
    if status == "withdrawn":
        return {
            "status": "available",
            "label": "Opnieuw aanbieden",
            "hint": "De woning is ingetrokken en staat niet in het aanbod.",
        }
    return None


def _values(form: Any) -> dict[str, str]:
    return {c.name: field(form, c.name, ENTRY_MAX) for c in DWELLINGS.columns}


def _save(
    request: Request,
    session: Session,
    web: Web,
    document: VacancyIn,
    *,
    version: str | None,
    vacancy: Vacancy | None,
    values: dict[str, str],
    notice: str,
    asked: VacancyStatus | None = None,
) -> Response:
    """Write through the API's upsert; 412 shows the latest version, other refusals their
    Dutch messages on the fields they name. `asked`: the status the form asks for; a stale
    form whose status, or else whose dwelling, already stands (sent twice) is done, not
    refused."""
    try:
        with session.begin_nested():
            [outcome] = vacancies.upsert_vacancies(
                session, web.principal, [document], batch=False, if_match=version,
                if_none_match="*" if vacancy is None else None,  # a new one: never overwrite
            )  # fmt: skip
    except PreconditionFailed:
        if vacancy is None:  # stored meanwhile under its reference (by this form, or another)
            taken = _taken(request, session, web, document, values)
            if taken is None:
                raise
            return taken
        session.refresh(vacancy)
        stands = vacancy.status == asked if asked is not None else _is(vacancy, document)
        if stands:  # sent twice: it stands as asked
            return redirect(f"/woningen/{vacancy.id}/bewerken", notice)
        return _stale(request, session, web, vacancy)
    except ProblemError as exc:
        errors, message = problem_errors(exc, DWELLINGS)
        return _page(
            request, web, values=values, errors=errors, vacancy=vacancy, error=message,
            status=exc.status, version=version,
        )  # fmt: skip
    if vacancy is not None:
        # The upsert writes Core rows: the dwelling loaded here no longer shows the stored one.
        session.expire(vacancy)
    return redirect(f"/woningen/{outcome.id}/bewerken", notice)


@router.get("/woningen/nieuw")
def new_dwelling_page(request: Request, web: WebDep) -> HTMLResponse:
    _require_corporation(web)
    return _page(request, web, values={})


@router.post("/woningen/nieuw")
def create_dwelling(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    """Offer a dwelling from the form: 400 with a Dutch message per field; a reference the
    corporation already uses is refused (409) rather than overwriting that dwelling, unless
    that dwelling is what the form asks (sent twice: it opens)."""
    _require_corporation(web)
    values = _values(form)
    entry = read_entry(DWELLINGS, values)
    document = validate_entry(VacancyIn, entry, {c.name for c in DWELLINGS.columns})
    if document is None:
        return _page(request, web, values=values, errors=entry.errors, status=400)
    if (taken := _taken(request, session, web, document, values)) is not None:
        return taken
    return _save(
        request, session, web, document, version=None, vacancy=None, values=values,
        notice="woning_opgeslagen",
    )  # fmt: skip


def _taken(
    request: Request, session: Session, web: Web, document: VacancyIn, values: dict[str, str]
) -> Response | None:
    """For a new dwelling whose reference the corporation uses already: that dwelling if it is
    what the form asks (sent twice: it opens), else 409; None while the reference is free."""
    stored = vacancies.get_by_refs(session, web.organisation.id, [document.external_ref])
    if (known := stored.get(document.external_ref)) is None:
        return None
    if _is(known, document):  # the form sent twice (a double click): the first made it
        return redirect(f"/woningen/{known.id}/bewerken", "woning_opgeslagen")
    message = "U gebruikt dit kenmerk al voor een andere woning."
    errors = {REF: message}
    return _page(request, web, values=values, errors=errors, error=message, status=409)


@router.get("/woningen/{vacancy_id}/bewerken")
def edit_dwelling_page(
    request: Request, dwelling: PageVacancyDep, session: SessionDep, web: WebDep
) -> HTMLResponse:
    _require_corporation(web)
    vacancy = _own(web, dwelling)
    return _page(request, web, values=form_values(DWELLINGS, _stored(vacancy)), vacancy=vacancy)


@router.post("/woningen/{vacancy_id}/bewerken")
def update_dwelling(
    request: Request, form: FormDep, dwelling: PageVacancyDep, session: SessionDep, web: WebDep
) -> Response:
    """Save the edited dwelling with the version it was shown as `If-Match`."""
    _require_corporation(web)
    vacancy = _own(web, dwelling)
    values = _values(form)
    values[REF] = vacancy.external_ref  # the reference names the dwelling; it is not edited
    version = field(form, "versie", 40)
    if not version:  # without it a save could overwrite someone else's change unseen
        return _without_version(request, web, vacancy)
    entry = read_entry(DWELLINGS, values)
    document = validate_entry(VacancyIn, entry, {c.name for c in DWELLINGS.columns})
    if document is None:
        return _page(
            request, web, values=values, errors=entry.errors, vacancy=vacancy, status=400,
            version=version,
        )  # fmt: skip
    return _save(
        request, session, web, document, version=version, vacancy=vacancy, values=values,
        notice="woning_opgeslagen",
    )  # fmt: skip


def _without_version(request: Request, web: Web, vacancy: Vacancy) -> HTMLResponse:
    stored = form_values(DWELLINGS, _stored(vacancy))
    return _page(request, web, values=stored, vacancy=vacancy, error=NO_VERSION, status=400)


@router.post("/woningen/{vacancy_id}/status")
def change_dwelling_status(
    request: Request, form: FormDep, dwelling: PageVacancyDep, session: SessionDep, web: WebDep
) -> Response:
    """Take the dwelling off the market (withdraw: its open proposal ends) or offer it again
    (the stored dwelling pushed once more), with the version shown as `If-Match`."""
    _require_corporation(web)
    vacancy = _own(web, dwelling)
    version = field(form, "versie", 40)
    if not version:
        return _without_version(request, web, vacancy)
    stored = form_values(DWELLINGS, _stored(vacancy))
    wanted = field(form, "status", 16)
    if wanted == "available":
        try:
            document = VacancyIn.model_validate(_stored(vacancy))
        except ValidationError:
            # Stored before a rule it now breaks (a street of only spaces, say): it is offered
            # again from the edit form, which names the field, not pushed as it stands.
            return _page(request, web, values=stored, vacancy=vacancy, error=FIX_FIRST, status=400)
        return _save(
            request, session, web, document, version=version, vacancy=vacancy, values=stored,
            notice="woning_status", asked=VacancyStatus.available,
        )  # fmt: skip
    if wanted != "withdrawn":
        return _page(
            request, web, values=stored, vacancy=vacancy, error="Kies een statuswijziging.",
            status=400,
        )  # fmt: skip
    try:
        with session.begin_nested():
            vacancies.withdraw_vacancy(session, web.access(), vacancy, version)
    except PreconditionFailed:
        session.refresh(vacancy)
        if vacancy.status == VacancyStatus.withdrawn:  # sent twice: withdrawn, as asked
            return redirect(f"/woningen/{vacancy.id}/bewerken", "woning_status")
        return _stale(request, session, web, vacancy)
    except ProblemError as exc:
        return _page(
            request, web, values=stored, vacancy=vacancy, error=service_message(exc.code),
            status=exc.status,
        )  # fmt: skip
    return redirect(f"/woningen/{vacancy.id}/bewerken", "woning_status")
