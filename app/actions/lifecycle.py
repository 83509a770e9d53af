"""The action lifecycle: open -> done or cancelled, and reopened; every change goes through
`fire`, which keeps `completed_at` with it, and is recorded by `record` as an
`ActionTransition` (with its due date's change, time and actor), as a case's are."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session, col

from app.actions.models import Action, ActionChange, ActionStatus, ActionTransition
from app.ids import uuid7_after
from app.lifecycle import ILLEGAL, Refusal, StateMachine
from app.sqltypes import utcnow


class ActionEvent(StrEnum):
    complete = "complete"
    cancel = "cancel"
    reopen = "reopen"
    move_due_date = "move_due_date"


# The owner or the chair may correct a closed action either way (done <-> cancelled, reopen).
# Only an open action is given another due date: a closed one keeps the date it was closed
# against (reopened, it may take a new one in the same request).
_ = ActionStatus
CLOSED = Refusal("action_closed", "A {name} that is {state} keeps its due date; reopen it first.")
MACHINE: StateMachine[ActionStatus, ActionEvent] = StateMachine(
    "action",
    ActionStatus,
    ActionEvent,
    {
        ActionEvent.complete: {s: _.done for s in ActionStatus},
        ActionEvent.cancel: {s: _.cancelled for s in ActionStatus},
        ActionEvent.reopen: {s: _.open for s in ActionStatus},
        ActionEvent.move_due_date: {_.open: _.open},
    },
    lambda state, event: CLOSED if event == ActionEvent.move_due_date else ILLEGAL,
)
EVENT_FOR_STATUS: dict[ActionStatus, ActionEvent] = {
    ActionStatus.done: ActionEvent.complete,
    ActionStatus.cancelled: ActionEvent.cancel,
    ActionStatus.open: ActionEvent.reopen,
}


def check_move(from_status: ActionStatus, to_status: ActionStatus) -> None:
    """A due date moves while the action is open before the request (then closed in it) or
    after it (reopened in it); 409 `action_closed` for one closed before and after."""
    MACHINE.target(
        to_status if to_status == ActionStatus.open else from_status, ActionEvent.move_due_date
    )


def fire(action: Action, event: ActionEvent) -> bool:
    """Apply `event`; returns whether the status changed (`completed_at` follows it)."""
    target = MACHINE.target(action.status, event)
    if target == action.status:
        return False
    action.status = target
    action.completed_at = None if target == ActionStatus.open else utcnow()
    return True


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes an action: the organisation, and its API key or its person on the pages."""

    organisation_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    person_id: uuid.UUID | None


# A status change is recorded under its event's name.
CHANGE_FOR_STATUS = {status: ActionChange(event) for status, event in EVENT_FOR_STATUS.items()}


def record(
    session: Session,
    action: Action,
    actor: Actor,
    *,
    from_status: ActionStatus | None,
    from_due_date: date | None,
    change: ActionChange | None = None,
) -> bool:
    """Stage the transition of `action` from (`from_status`, `from_due_date`) to what it is
    now, in the caller's transaction; nothing when neither changed. `from_status` None: its
    hand-out. `change` names it when the status alone does not (default: by the new status, or
    `move_due_date`). Its moment follows the action's last transition's, which may move a
    closing's `completed_at`: call it before anything flushes the change. Returns whether a
    transition was staged."""
    created = from_status is None
    status_changed = not created and from_status != action.status
    moved = not created and from_due_date != action.due_date
    if not (created or status_changed or moved):
        return False
    if change is None:
        change = (
            ActionChange.created
            if created
            else CHANGE_FOR_STATUS[action.status]
            if status_changed
            else ActionChange.move_due_date
        )
    closing = status_changed and action.status != ActionStatus.open
    at = (action.created_at if created else action.completed_at if closing else None) or utcnow()
    # After the action's last transition, also one another server made in the same millisecond
    # (a change committed after this one read the action fails its version check instead).
    last = None
    if not created:
        with session.no_autoflush:  # the action is written once, with the completed_at below
            last = session.execute(
                select(col(ActionTransition.id), col(ActionTransition.at))
                .where(col(ActionTransition.action_id) == action.id)
                .order_by(col(ActionTransition.id).desc())
                .limit(1)
            ).first()
    if last is not None and at <= last.at:
        # Its moment too: on another server's clock (behind, or the same instant) it would
        # come before the change it follows in the timeline, which lists by time.
        at = last.at + timedelta(microseconds=1)
        if closing:
            action.completed_at = at
    session.add(
        ActionTransition(
            id=uuid7_after(None if last is None else last.id),
            action_id=action.id,
            at=at,
            change=change,
            from_status=from_status,
            to_status=action.status,
            from_due_date=from_due_date if moved else None,
            to_due_date=action.due_date if created or moved else None,
            actor_organisation_id=actor.organisation_id,
            actor_api_key_id=actor.api_key_id,
            actor_person_id=actor.person_id,
        )
    )
    return True
