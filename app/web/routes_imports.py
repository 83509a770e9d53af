"""Reading in a spreadsheet on a page: a care provider's case files, a corporation's dwellings.

The page runs the same check and import as `POST /v1/cases/imports` and
`POST /v1/vacancies/imports` (app.imports.service): `Controleren` stores nothing and names every
problem by row, column and cell in Dutch; `Inlezen` stores the whole file or, with any problem,
nothing. The templates are the API's templates.
"""

import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from app.db import SessionDep
from app.idempotency import Idempotency
from app.imports import service
from app.imports.columns import CASES, DWELLINGS, Layout
from app.imports.files import read_limited, size_text
from app.imports.models import ImportReport, TemplateFormat, report
from app.imports.routes import template_response
from app.organisations.models import OrganisationKind
from app.problems import PayloadTooLarge, Unprocessable
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, render
from app.web.forms import form_key, mark_fields, unfilled
from app.web.query_values import PAGE_ID

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LAYOUTS = {
    OrganisationKind.care_provider.value: CASES,
    OrganisationKind.housing_corporation.value: DWELLINGS,
}
SHOWN_ITEMS = 500  # rows listed under the report; the counts cover all of them
OUTCOMES = {"created": "nieuw", "updated": "gewijzigd", "unchanged": "ongewijzigd"}


def _layout(web: Web) -> Layout:
    layout = LAYOUTS.get(web.organisation.kind)
    if layout is None:
        raise PageForbidden(
            "Dossiers leest een zorgaanbieder in, woningen een woningcorporatie; uw organisatie "
            "leest niets in."
        )
    return layout


def _page(
    request: Request,
    session: SessionDep,
    web: Web,
    *,
    result: service.ImportResult | ImportReport | None = None,
    error: str | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    layout = _layout(web)
    tables = service.member_tables(session, web.organisation.id) if layout is CASES else []
    return render(
        request,
        "imports.html",
        {
            "title": f"{layout.title.capitalize()} inlezen uit een spreadsheet",
            "layout": layout,
            "tables": tables,
            "report": report(result) if isinstance(result, service.ImportResult) else result,
            "shown_items": SHOWN_ITEMS,
            "outcomes": OUTCOMES,
            "error": error,
            "chosen": chosen or {},
            "max_size": size_text(web.settings.import_max_bytes),
            "max_rows": web.settings.import_max_rows,
        },
        status,
    )


@router.get("/inlezen")
def import_page(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    web.require_writer()
    return _page(request, session, web)


CHOOSE_TABLE = "Kies de tafel waar de dossiers bij horen."
"""What the import's Tafel may hold, said beside it when refused."""


def _table_id(text: str) -> uuid.UUID | None:
    """The table chosen, read as the API reads `tableId` (`PAGE_ID`: its ValidationError, a
    ValueError, for a value the API refuses); none chosen: the only table of the organisation."""
    return PAGE_ID.validate_python(text) if text else None


def _no_table(request: Request, session: Session, web: Web, chosen: dict[str, str]) -> Response:
    """The form again, `CHOOSE_TABLE` beside its Tafel: the table given is none of the
    organisation's (or not written as an id), or none is given and it sits at several. An
    unknown table and another organisation's are answered alike."""
    mark_fields(request, [("tafel", CHOOSE_TABLE)], {"tafel": ("tafel", "Tafel")})
    return _page(request, session, web, error=unfilled(["Tafel"]), chosen=chosen, status=400)


@router.post("/inlezen")
def import_file(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    """Check (`stap=controleren`) or import (`stap=inlezen`) the uploaded `bestand`."""
    web.require_writer()
    layout = _layout(web)
    # The API's import draws from the batch budget; the page runs the same check and import.
    limit_person(session, web.settings, web.person, EndpointClass.batch)
    chosen = {"tafel": field(form, "tafel", 40), "werkblad": field(form, "werkblad", 100)}
    upload = form.get("bestand")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(
            request, session, web, error="Kies eerst een bestand.", chosen=chosen, status=400
        )
    try:
        content = read_limited(upload.file, web.settings.import_max_bytes)
    except PayloadTooLarge:
        size = size_text(web.settings.import_max_bytes)
        return _page(
            request,
            session,
            web,
            error=f"Het bestand is groter dan {size}; splits het op.",
            chosen=chosen,
            status=413,
        )
    dry_run = field(form, "stap", 20) != "inlezen"
    sheet = chosen["werkblad"] or None
    max_rows = web.settings.import_max_rows
    once = None
    try:
        # A value the API refuses in `tableId` was read leniently (`{id}`, 32 digits) or as no
        # choice at all (`xx`: the only table's import).
        table_id = _table_id(chosen["tafel"]) if layout is CASES else None
    except ValueError:
        return _no_table(request, session, web, chosen)
    try:
        if layout is CASES:  # the table first: a refused one leaves no claim of the form
            service.import_table(session, web.access(), table_id)
        once = None if dry_run else _once(request, form, content, chosen)
        if once is not None and (shown := _replayed(session, web, once)) is not None:
            return _page(request, session, web, result=shown[0], chosen=chosen, status=shown[1])
        if layout is CASES:
            result = service.import_cases(
                session,
                web.access(),
                content,
                table_id=table_id,
                sheet=sheet,
                dry_run=dry_run,
                max_rows=max_rows,
            )
        else:
            result = service.import_dwellings(
                session, web.access(), content, sheet=sheet, dry_run=dry_run, max_rows=max_rows
            )
    except Unprocessable:  # the table: not chosen, or not one of the organisation's
        if once is not None:  # nothing stored: the form sent again is read in afresh
            once[1].release()
        return _no_table(request, session, web, chosen)
    status = 400 if not dry_run and not result.valid else 200
    if once is not None and status == 200:
        once[1].respond(report(result), status)
    elif once is not None:  # refused whole, nothing stored: sent again, it is read in afresh
        once[1].release()
    return _page(request, session, web, result=result, chosen=chosen, status=status)


def _replayed(
    session: Session, web: Web, once: tuple["_Sent", Idempotency]
) -> tuple[ImportReport, int] | None:
    """The report (and status) of the first post of this form with this file, if it was sent
    before: a double click on 'Inlezen' sends the form twice and the browser shows the second
    answer, which said 'ongewijzigd' for every row the first had stored. Claims the form
    otherwise; the import's answer is then written into the claim (`respond`)."""
    sent, idempotency = once
    replay = idempotency.replay(session, web.principal, sent)
    if replay is None:
        return None
    shown = json.loads(bytes(replay.body))
    if shown.get("kind") == "cases":
        service.log_replayed_report(session, web.access(), shown)
    return ImportReport.model_validate(shown), replay.status_code


class _Sent(BaseModel):
    """What makes two posts of one import form the same: the file and the choices."""

    sha256: str
    table: str
    sheet: str


def _once(
    request: Request, form: FormData, content: bytes, chosen: dict[str, str]
) -> tuple[_Sent, Idempotency] | None:
    """For a form with its own token (`formulier`), the key that makes a second post of the
    same file and choices replay the first one's report; the same form sent with another file
    is an import of its own (the choices are part of the key, as in `forms.create_once`)."""
    sent = _Sent(sha256=service.sha256(content), table=chosen["tafel"], sheet=chosen["werkblad"])
    key = form_key(request, form, sent, prefix="pagina-inlezen")
    return None if key is None else (sent, key)


@router.get("/inlezen/sjabloon.xlsx")
def xlsx_blank(web: WebDep) -> Response:
    return template_response(_layout(web), TemplateFormat.xlsx)


@router.get("/inlezen/sjabloon.csv")
def csv_blank(web: WebDep) -> Response:
    return template_response(_layout(web), TemplateFormat.csv)
