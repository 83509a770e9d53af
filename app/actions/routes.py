"""HTTP routes for follow-up actions."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.access_log.deps import AccessContextDep, ActionsContext
from app.access_log.service import AccessContext
from app.actions import service
from app.actions.deps import ActionDep, UpdatableActionDep
from app.actions.models import (
    Action,
    ActionCreate,
    ActionPage,
    ActionPublic,
    ActionStatus,
    ActionTransitionPage,
    ActionUpdate,
)
from app.db import SessionDep, SessionEndingRoute
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep
from app.if_match import IfMatch, IfNoneMatch
from app.pagination import PageDep
from app.problems import problem_responses
from app.tables.deps import ChairedTableDep, TableDep
from app.tables.models import OutflowTable
from app.timeutil import today

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1", tags=["actions"])


def _hides_case(context: AccessContext, table: OutflowTable) -> bool:
    return service.hides_case(context.principal, table)


def _shown(action: Action, hide: bool) -> tuple[ActionPublic, str]:
    """The action as the caller reads it, and that read's ETag (`service.action_etag`)."""
    public = service.action_public(action, hide)
    return public, service.action_etag(action, public)


@router.post(
    "/tables/{table_id}/actions",
    status_code=201,
    response_model=ActionPublic,
    responses={
        **REPLAY_RESPONSE,
        **problem_responses(401, 403, 404, 409),
    },
)
def create_action(
    table: ChairedTableDep,
    payload: ActionCreate,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Hand out an action to a member organisation, with a due date (chair). 409
    `minutes_final` when it names a meeting whose minutes are final (they would never show
    it), `case_anonymised` when it names a case retention anonymised."""

    def reread(action_id: uuid.UUID) -> tuple[ActionPublic, dict[str, str]]:
        # The answer may name a case: a replay reads the action again with the caller's
        # access, and logs it like any read, rather than handing out a stored copy unlogged.
        action, _ = service.get_action(session, context, action_id)
        public, tag = _shown(action, _hides_case(context, table))
        return public, {"ETag": tag}

    if replay := idempotency.replay(session, context.principal, payload, reread):
        return replay
    action = service.create_action(session, context, table, payload)
    public, tag = _shown(action, False)
    headers = {"Location": f"/v1/actions/{action.id}", "ETag": tag}
    return idempotency.respond(public, 201, headers, resource_id=action.id)


@router.get(
    "/tables/{table_id}/actions",
    response_model=ActionPage,
    responses=problem_responses(401, 403, 404),
)
def list_actions(
    table: TableDep,
    context: ActionsContext,
    session: SessionDep,
    page: PageDep,
    status: ActionStatus | None = None,
    overdue: Annotated[bool, Query(description="Only open actions past their due date.")] = False,
) -> ActionPage:
    """The table's actions the caller may see: all for the table, else its own (and, for a care
    provider, those about its cases). 403 for the operator, which reads none (they name case
    files): an empty page told it the table had nothing left to do."""
    rows = service.list_actions(
        session,
        context,
        table,
        status=status.value if status else None,
        overdue_on=today() if overdue else None,
        after=page.after,
        limit=page.limit,
    )
    rows, next_cursor = page.cut(rows)
    hide = _hides_case(context, table)
    return ActionPage(items=[service.action_public(a, hide) for a in rows], next_cursor=next_cursor)


@router.get(
    "/actions/{action_id}",
    response_model=ActionPublic,
    responses=problem_responses(401, 403, 404),
)
def get_action(
    found: ActionDep, context: AccessContextDep, session: SessionDep, response: Response
) -> ActionPublic:
    """One action. Its ETag is the version and a digest of what it shows (`overdue` counts from
    today); `PATCH` takes it in `If-Match` as well as the version's."""
    action, table = found
    public, response.headers["ETag"] = _shown(action, _hides_case(context, table))
    return public


@router.patch(
    "/actions/{action_id}",
    response_model=ActionPublic,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def update_action(
    found: UpdatableActionDep,
    payload: ActionUpdate,
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ActionPublic:
    """Mark an action done or cancelled, reopen it, or move its due date (owner or chair).
    `If-Match`: the version's ETag or the ETag the action's read answered (412 for a copy that
    no longer reads so). 409
    `case_anonymised` for a reopening or a new due date once retention anonymised its case."""
    action, table = found
    action = service.update_action(
        session, context, table, action, payload, if_match, if_none_match=if_none_match
    )
    public, response.headers["ETag"] = _shown(action, _hides_case(context, table))
    return public


@router.get(
    "/actions/{action_id}/transitions",
    response_model=ActionTransitionPage,
    responses=problem_responses(401, 403, 404),
)
def list_transitions(
    found: ActionDep, context: AccessContextDep, session: SessionDep, page: PageDep
) -> ActionTransitionPage:
    """The history of an action, oldest first: its hand-out with the due date it was given,
    every closing, reopening and due-date change, with time and actor (the organisation, and
    its own API key or person to the organisation itself). Read as the action is (logged as an
    access to its case when the action shows the case)."""
    action, table = found
    rows = service.list_transitions(
        session, context, table, action, after=page.after, limit=page.fetch
    )
    items, next_cursor = page.cut(rows)
    return ActionTransitionPage(items=items, next_cursor=next_cursor)
