"""The action a route names by `action_id`, loaded and authorised for the caller, with its table
(the HTTP edge of `app.actions.service.get_action`)."""

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.actions import service
from app.actions.models import Action
from app.db import SessionDep
from app.problems import Forbidden
from app.tables.models import OutflowTable


class ActionAtTable(NamedTuple):
    action: Action
    table: OutflowTable


def valid_action(
    action_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> ActionAtTable:
    """The action and its table if the caller may see the action; otherwise 404."""
    return ActionAtTable(*service.get_action(session, context, action_id))


ActionDep = Annotated[ActionAtTable, Depends(valid_action)]


def action_to_update(found: ActionDep, context: AccessContextDep) -> ActionAtTable:
    """As `valid_action` (404 for a caller that may not see it), then 403 for one that sees it
    but neither owns it nor chairs the table (a municipality), before the body is validated:
    it was told which fields were wrong, and only once it had fixed them that it may not."""
    me = context.principal.organisation_id
    if me not in (found.action.owner_organisation_id, found.table.chair_organisation_id):
        raise Forbidden("Only the action's owner or the chair updates it.")
    return found


UpdatableActionDep = Annotated[ActionAtTable, Depends(action_to_update)]
