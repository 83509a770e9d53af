"""An action as the pages show it, who may update it, and which closed ones cannot be reopened."""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from app.actions.models import Action, ActionStatus, is_overdue
from app.cases.models import Case
from app.tables.models import OutflowTable, TableMember
from app.timeutil import today
from app.web.core import Web

# Said instead of the reopening a closed action cannot have (`reopen_refusals`).
REOPEN_REFUSED = {
    "case_moved": "Niet te heropenen: het dossier is naar een andere tafel verhuisd.",
    "action_kept_as_history": "Niet te heropenen: deze actie blijft alleen als geschiedenis "
    "bewaard; de voorzitter zet zo nodig een nieuwe uit.",
    "owner_not_member": "Niet te heropenen: de eigenaar zit niet meer aan de tafel.",
    "case_anonymised": "Niet te heropenen: het dossier is geanonimiseerd (bewaartermijn "
    "verstreken).",
}


def _action_row(
    web: Web,
    table: OutflowTable,
    action: Action,
    names: dict[str, str],
    reopen_refusal: str | None = None,
) -> dict[str, Any]:
    # As the API (`actions.service.hides_case`): the chair reads every case, whatever its kind.
    hide_case = (
        web.organisation.kind == "housing_corporation"
        and web.organisation.id != table.chair_organisation_id
    )
    if hide_case and reopen_refusal in ("case_moved", "case_anonymised"):
        # As the API: the move, or the file's anonymisation, is not its to know.
        reopen_refusal = "action_kept_as_history"
    return {
        "action": action,
        "case_id": None if hide_case else action.case_id,
        "owner": names.get(str(action.owner_organisation_id), "onbekend"),
        "overdue": is_overdue(action.status, action.due_date, today()),
        "can_update": may_update_action(web, table, action),
        "reopen_refused": REOPEN_REFUSED.get(reopen_refusal or ""),
    }


def may_update_action(web: Web, table: OutflowTable, action: Action) -> bool:
    """The owner closes its action (a member will do), the chair any; the chair organisation's
    own actions need the chair role, as everything the chair organisation does as chair."""
    if web.role == "viewer":
        return False
    if action.owner_organisation_id == web.organisation.id:
        return action.owner_organisation_id != table.chair_organisation_id or web.role == "chair"
    return web.is_chair_of(table.chair_organisation_id)


def reopen_refusals(
    session: Session, table: OutflowTable, actions: list[Action]
) -> dict[uuid.UUID, str]:
    """Of the table's `actions`, the closed ones whose reopening `actions.service.update_action`
    refuses (409), with its code: `case_moved` (its case is at another table now),
    `case_anonymised` (retention anonymised its case) or `owner_not_member` (its owner has left
    the table). For the page to offer only a reopening
    that can succeed (unlocked; the update itself still checks)."""
    closed = [a for a in actions if a.status != ActionStatus.open]
    if not closed:
        return {}
    case_ids = {a.case_id for a in closed if a.case_id is not None}
    moved = set(
        session.exec(select(Case.id).where(col(Case.id).in_(case_ids), Case.table_id != table.id))
    )
    anonymised = set(
        session.exec(
            select(Case.id).where(col(Case.id).in_(case_ids), col(Case.anonymised_at).is_not(None))
        )
    )
    members = set(
        session.exec(select(TableMember.organisation_id).where(TableMember.table_id == table.id))
    )
    left = {a.id: "owner_not_member" for a in closed if a.owner_organisation_id not in members}
    return (
        left
        | {a.id: "case_anonymised" for a in closed if a.case_id in anonymised}
        | {a.id: "case_moved" for a in closed if a.case_id in moved}
    )
