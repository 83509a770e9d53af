"""HTTP routes for spreadsheet imports of case files and dwellings, and their templates."""

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import BaseModel
from sqlmodel import Session

from app.access_log.deps import AccessContextDep
from app.access_log.service import AccessContext
from app.auth import (
    CurrentPrincipal,
    OrganisationPrincipal,
    require_care_provider,
    require_corporation,
)
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.idempotency import Idempotency, IdempotencyDep
from app.ids import Id
from app.imports import service
from app.imports.blanks import XLSX_MEDIA_TYPE, template_file
from app.imports.columns import CASES, DWELLINGS, Layout
from app.imports.files import read_limited
from app.imports.models import ImportKind, ImportReport, TemplateFormat, report
from app.problems import Unprocessable, problem_responses
from app.rate_limits.deps import limited
from app.rate_limits.service import EndpointClass
from app.settings import Settings

router = APIRouter(route_class=SessionEndingRoute, tags=["imports"])

DryRun = Annotated[
    bool,
    Query(
        alias="dryRun",
        description="`true` (the default) checks the file and stores nothing; `false` imports "
        "it, all rows or none.",
    ),
]
Sheet = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="XLSX: the worksheet to read. Default: the visible one named `Dossiers` "
        "or `Woningen` (or the only one, hidden sheets aside).",
    ),
]
Upload = Annotated[
    UploadFile,
    File(description="The spreadsheet: `.xlsx`, or CSV (semicolon-separated UTF-8)."),
]
TEMPLATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The template file",
        "content": {
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    },
    **problem_responses(401, 403),
}
IMPORT_RESPONSES = {
    200: {"description": "The report: of the check (dry run), or of the stored import"},
    **problem_responses(401, 403, 409, 413, 429),
}


async def one_file(request: Request, _: CurrentPrincipal) -> None:
    """One spreadsheet per import: a body with a second `file` part is refused (400
    `repeated_parameter`), as a repeated query key is, since the form would keep one of them
    and the client could import another file than it meant. After authentication; the form is
    the one FastAPI parsed for the route."""
    if len((await request.form()).getlist("file")) > 1:
        raise Unprocessable(
            "file", "Give one file per import; this body has more.", "repeated_parameter"
        )


ONE_FILE = [Depends(one_file)]
"""After the kind that may import (`require_care_provider`, `require_corporation`): another
kind is told 403 whatever its form holds, where it was told first what was wrong with the
form (no file, two files) or its query (400), or that it was no multipart form (415)."""


class _Fingerprint(BaseModel):
    """What makes two import requests the same, for `Idempotency-Key`."""

    sha256: str
    dry_run: bool
    table_id: uuid.UUID | None
    sheet: str | None


def _import(
    kind: ImportKind,
    file: UploadFile,
    context: AccessContext,
    session: Session,
    settings: Settings,
    idempotency: Idempotency,
    dry_run: bool,
    table_id: uuid.UUID | None,
    sheet: str | None,
) -> Response:
    """Read the upload (413 over the limit), replay a repeated `Idempotency-Key`, else check or
    import; a real import with problems is refused whole (400 `import_rejected`)."""
    content = read_limited(file.file, settings.import_max_bytes)
    payload = _Fingerprint(
        sha256=service.sha256(content), dry_run=dry_run, table_id=table_id, sheet=sheet
    )
    if replay := idempotency.replay(session, context.principal, payload):
        if kind == ImportKind.cases:
            service.log_replayed_report(session, context, json.loads(bytes(replay.body)))
        return replay
    limit = settings.import_max_rows
    if kind == ImportKind.cases:
        result = service.import_cases(
            session,
            context,
            content,
            table_id=table_id,
            sheet=sheet,
            dry_run=dry_run,
            max_rows=limit,
        )
    else:
        result = service.import_dwellings(
            session, context, content, sheet=sheet, dry_run=dry_run, max_rows=limit
        )
    if not result.dry_run and not result.valid:
        raise service.ImportRejected(result)
    return idempotency.respond(report(result), 200)


@router.post(
    "/v1/cases/imports",
    response_model=ImportReport,
    responses=IMPORT_RESPONSES,
    dependencies=[*limited(EndpointClass.batch), Depends(require_care_provider), *ONE_FILE],
)
def import_cases(
    file: Upload,
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
    dry_run: DryRun = True,
    table_id: Annotated[
        Id | None,
        Query(
            alias="tableId",
            description="The table to import into; may be left out at a single table.",
        ),
    ] = None,
    sheet: Sheet = None,
) -> Response:
    """Check or import a spreadsheet of your case files (care providers), by `external_ref`."""
    return _import(
        ImportKind.cases, file, context, session, settings, idempotency, dry_run, table_id, sheet
    )


@router.post(
    "/v1/vacancies/imports",
    response_model=ImportReport,
    responses=IMPORT_RESPONSES,
    dependencies=[*limited(EndpointClass.batch), Depends(require_corporation), *ONE_FILE],
)
def import_dwellings(
    file: Upload,
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
    dry_run: DryRun = True,
    sheet: Sheet = None,
) -> Response:
    """Check or import a spreadsheet of your dwellings (corporations), by `external_ref`."""
    return _import(
        ImportKind.dwellings, file, context, session, settings, idempotency, dry_run, None, sheet
    )


def template_response(layout: Layout, format: TemplateFormat) -> Response:
    """The template as a download."""
    content, media_type, name = template_file(layout, format.value)
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=media_type, headers=disposition)


TemplateQuery = Annotated[TemplateFormat, Query(description="`xlsx` (explained) or `csv`.")]


@router.get("/v1/cases/imports/template", response_class=Response, responses=TEMPLATE_RESPONSES)
def case_template(
    principal: OrganisationPrincipal, format: TemplateQuery = TemplateFormat.xlsx
) -> Response:
    """The template for importing case files, with every column explained."""
    return template_response(CASES, format)


@router.get("/v1/vacancies/imports/template", response_class=Response, responses=TEMPLATE_RESPONSES)
def dwelling_template(
    principal: OrganisationPrincipal, format: TemplateQuery = TemplateFormat.xlsx
) -> Response:
    """The template for importing dwellings, with every column explained."""
    return template_response(DWELLINGS, format)
