"""HTTP routes for area names: a table's codes with their names, and the chair naming one."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.access_log.deps import AccessContextDep
from app.areas import service
from app.areas.models import AreaNameIn, AreaNameList, AreaNamePublic
from app.db import SessionDep, SessionEndingRoute
from app.if_match import IfMatch, IfNoneMatch
from app.problems import problem_responses
from app.schemas import AreaCode
from app.tables.deps import ChairedTableDep, TableDep

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/tables", tags=["areas"])


@router.get(
    "/{table_id}/areas",
    response_model=AreaNameList,
    responses=problem_responses(401, 403, 404),
)
def list_areas(table: TableDep, context: AccessContextDep, session: SessionDep) -> AreaNameList:
    """Every CBS code the table uses (its municipalities, and the municipalities and
    neighbourhoods of the dwellings and the preferred and excluded areas of the cases the caller
    may read: the table all, a care provider its own cases' and no dwelling's, a corporation its
    own dwellings' and no case's) with its name: from the CBS list the operator loaded, else the
    chair's, with the `version` of the chair's name (the ETag for the PUT's `If-Match`); codes
    without a name first."""
    return AreaNameList(items=service.table_areas(session, table, context.principal))


@router.put(
    "/{table_id}/areas/{code}",
    response_model=AreaNamePublic,
    responses={
        201: {"description": "The table named the code", "model": AreaNamePublic},
        **problem_responses(401, 403, 404, 412),
    },
)
def name_area(
    table: ChairedTableDep,
    code: Annotated[AreaCode, Path()],
    payload: AreaNameIn,
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> AreaNamePublic:
    """Name a code the CBS list lacks, for this table (the chair): 201 with `Location` (this
    address) when the table names it first, 200 when naming it again replaces the name. A code
    the CBS list names answers 400 `named_by_cbs`. `If-Match` with the listed `version` as ETag
    (`"2"`) replaces only the name that was read (412 when another was given meanwhile, or
    where none was given yet); `If-None-Match: *` names it only where the table named none."""
    area, created = service.name_area(
        session, context, table, code, payload.name, if_match, if_none_match
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = f'"{area.version}"'
    if created:  # the name is this PUT's target
        response.headers["Location"] = f"/v1/tables/{table.id}/areas/{code}"
    return area
