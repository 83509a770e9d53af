"""An action as the pages show it, and who may update it."""

from typing import Any

from app.actions.models import Action, is_overdue
from app.tables.models import OutflowTable
from app.timeutil import today
from app.web.core import Web


def _action_row(
    web: Web, table: OutflowTable, action: Action, names: dict[str, str]
) -> dict[str, Any]:
    # As the API (`actions.service.hides_case`): the chair reads every case, whatever its kind.
    hide_case = (
        web.organisation.kind == "housing_corporation"
        and web.organisation.id != table.chair_organisation_id
    )
    return {
        "action": action,
        "case_id": None if hide_case else action.case_id,
        "owner": names.get(str(action.owner_organisation_id), "onbekend"),
        "overdue": is_overdue(action.status, action.due_date, today()),
        "can_update": may_update_action(web, table, action),
    }


def may_update_action(web: Web, table: OutflowTable, action: Action) -> bool:
    """The owner closes its action (a member will do), the chair any; the chair organisation's
    own actions need the chair role, as everything the chair organisation does as chair."""
    if web.role == "viewer":
        return False
    if action.owner_organisation_id == web.organisation.id:
        return action.owner_organisation_id != table.chair_organisation_id or web.role == "chair"
    return web.is_chair_of(table.chair_organisation_id)
