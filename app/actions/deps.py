"""The action a route names by `action_id`, loaded and authorised for the caller, with its table
(the HTTP edge of `app.actions.service.get_action`)."""

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.actions import service
from app.actions.models import Action
from app.db import SessionDep
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
