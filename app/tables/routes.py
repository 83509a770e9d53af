"""HTTP routes for outflow tables."""

from fastapi import APIRouter, Response

from app.auth import CurrentPrincipal, OperatorPrincipal
from app.db import SessionDep, SessionEndingRoute
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep
from app.if_match import IfMatch, IfNoneMatch
from app.pagination import PageDep
from app.problems import problem_responses
from app.tables import service
from app.tables.deps import ChangeableTableDep, TableDep
from app.tables.models import TableCreate, TablePage, TablePublic, TableUpdate
from app.versioning import etag

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/tables", tags=["tables"])


@router.post(
    "",
    status_code=201,
    response_model=TablePublic,
    responses={**REPLAY_RESPONSE, **problem_responses(401, 403, 409)},
)
def create_table(
    payload: TableCreate,
    principal: OperatorPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Create an outflow table for a region (operator only)."""
    if replay := idempotency.replay(session, principal, payload):
        return replay
    table = service.create_table(session, payload)
    headers = {"Location": f"/v1/tables/{table.id}", "ETag": etag(table)}
    return idempotency.respond(service.table_public(session, table), 201, headers)


@router.get("", response_model=TablePage, responses=problem_responses(401))
def list_tables(principal: CurrentPrincipal, session: SessionDep, page: PageDep) -> TablePage:
    """Tables the caller is a member of (all for the operator)."""
    rows = service.list_tables(session, principal, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    return TablePage(
        items=[service.table_public(session, t) for t in rows], next_cursor=next_cursor
    )


@router.get("/{table_id}", response_model=TablePublic, responses=problem_responses(401, 404))
def get_table(
    table: TableDep, principal: CurrentPrincipal, session: SessionDep, response: Response
) -> TablePublic:
    """One table with its members and policy."""
    response.headers["ETag"] = etag(table)
    return service.table_public(session, table)


@router.patch(
    "/{table_id}",
    response_model=TablePublic,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def update_table(
    table: ChangeableTableDep,
    payload: TableUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> TablePublic:
    """Change a table: the chair edits the policy, the operator anything."""
    table = service.update_table(
        session, principal, table, payload, if_match, if_none_match=if_none_match
    )
    response.headers["ETag"] = etag(table)
    return service.table_public(session, table)
