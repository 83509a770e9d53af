"""The page of a table's area codes: each CBS code the table uses with its name, and a form for
the chair to name the codes the loaded CBS list lacks.

Each form carries the version of the name it showed (`versie`; `nieuw` where the table named
none), sent as `If-Match` (`If-None-Match: *` for `nieuw`): a form from a page shown before a
colleague named the code stores nothing (412, the field says the name as it is now, and keeps
the name typed with the version now shown) instead of replacing that name unseen."""

import uuid
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import Response

from app.areas import service as areas_service
from app.areas.models import AreaNameIn
from app.db import SessionDep
from app.schemas import AreaCode
from app.tables import service as tables_service
from app.web.core import FormDep, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageTableDep
from app.web.forms import NO_VERSION, TEXT_RULE, Refusal, _if_match, attempt

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STALE = (
    "Iemand anders heeft deze code intussen een naam gegeven, dus er is niets opgeslagen. "
    "Uw naam staat nog in het veld: opslaan vervangt de naam die er nu staat."
)


def _page(
    request: Request,
    session: SessionDep,
    web: Web,
    table_id: uuid.UUID,
    *,
    error: str | None = None,
    given: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The page; after a refused form, `given` is what it sent (`code`, `naam`): the name typed
    stays in that code's field, which shows `error` (the summary links to it)."""
    table = tables_service.get_table(session, web.principal, table_id)
    return render(
        request,
        "areas.html",
        {
            "title": f"Gebieden van {table.name}",
            "table": table,
            "areas": areas_service.table_areas(session, table, web.principal),
            "can_chair": web.is_chair_of(table.chair_organisation_id),
            "error": error,
            "given": given,
        },
        status,
    )


@router.get("/tafels/{table_id}/gebieden")
def areas_page(
    request: Request, table_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    return _page(request, session, web, table_id)


@router.post("/tafels/{table_id}/gebieden")
def name_area(
    request: Request,
    table_id: uuid.UUID,
    session: SessionDep,
    web: WebDep,
    form: FormDep,
    table: PageTableDep,
) -> Response:
    web.require_chair(table.chair_organisation_id)
    code = field(form, "code", 10)
    given = {"code": code, "naam": field(form, "naam", 200)}
    refuse = partial(_page, request, session, web, table_id, given=given)
    try:
        from pydantic import TypeAdapter

        TypeAdapter(AreaCode).validate_python(code)
        data = AreaNameIn.model_validate({"name": field(form, "naam", 200)})
    except ValidationError:
        return refuse(error=f"Vul een naam in voor {code}. {TEXT_RULE}", status=400)
    if code in areas_service.names_for(session, [code]):
        return refuse(error="Deze code heeft al een naam uit de CBS-lijst.", status=400)
    version = field(form, "versie", 12)
    if_match, if_none_match = (None, "*") if version == "nieuw" else (_if_match(version), None)
    if if_match is None and if_none_match is None:
        return refuse(error=NO_VERSION, status=400)
    done = attempt(
        session,
        lambda: areas_service.name_area(
            session, web.access(), table, code, data.name, if_match, if_none_match
        ),
    )
    if isinstance(done, Refusal):
        session.expire_all()
        stands = areas_service.names_for(session, [code], [table.id]).get(code) == data.name
        if done.status == 412 and stands:  # the form sent twice (a double click)
            return redirect(f"/tafels/{table.id}/gebieden", "gebied_benoemd")
        message = STALE if done.status == 412 else done.message
        return refuse(error=message, status=done.status)
    return redirect(f"/tafels/{table.id}/gebieden", "gebied_benoemd")
