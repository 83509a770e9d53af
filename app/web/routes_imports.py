"""Reading in a spreadsheet on a page: a care provider's case files, a corporation's dwellings.

The page runs the same check and import as `POST /v1/cases/imports` and
`POST /v1/vacancies/imports` (app.imports.service): `Controleren` stores nothing and names every
problem by row, column and cell in Dutch; `Inlezen` stores the whole file or, with any problem,
nothing. The templates are the API's templates.
"""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from app.db import SessionDep
from app.imports import service
from app.imports.columns import CASES, DWELLINGS, Layout
from app.imports.files import read_limited, size_text
from app.imports.models import TemplateFormat, report
from app.imports.routes import template_response
from app.organisations.models import OrganisationKind
from app.problems import PayloadTooLarge, Unprocessable
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, render

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
    result: service.ImportResult | None = None,
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
            "report": report(result) if result is not None else None,
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


def _table_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@router.post("/inlezen")
def import_file(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    """Check (`stap=controleren`) or import (`stap=inlezen`) the uploaded `bestand`."""
    web.require_writer()
    layout = _layout(web)
    # The API's import draws from the batch budget; the page runs the same check and import.
    limit_person(session, web.settings, web.person.id, EndpointClass.batch)
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
    try:
        if layout is CASES:
            result = service.import_cases(
                session,
                web.access(),
                content,
                table_id=_table_id(chosen["tafel"]),
                sheet=sheet,
                dry_run=dry_run,
                max_rows=max_rows,
            )
        else:
            result = service.import_dwellings(
                session, web.access(), content, sheet=sheet, dry_run=dry_run, max_rows=max_rows
            )
    except Unprocessable:  # the table: not chosen, or not one of the organisation's
        return _page(
            request,
            session,
            web,
            error="Kies de tafel waar de dossiers bij horen.",
            chosen=chosen,
            status=400,
        )
    status = 400 if not dry_run and not result.valid else 200
    return _page(request, session, web, result=result, chosen=chosen, status=status)


@router.get("/inlezen/sjabloon.xlsx")
def xlsx_blank(web: WebDep) -> Response:
    return template_response(_layout(web), TemplateFormat.xlsx)


@router.get("/inlezen/sjabloon.csv")
def csv_blank(web: WebDep) -> Response:
    return template_response(_layout(web), TemplateFormat.csv)
