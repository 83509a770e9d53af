"""The action lifecycle: open -> done or cancelled, and reopened; every change goes through
`fire`, which keeps `completed_at` with it."""

from enum import StrEnum

from app.actions.models import Action, ActionStatus
from app.lifecycle import StateMachine
from app.sqltypes import utcnow


class ActionEvent(StrEnum):
    complete = "complete"
    cancel = "cancel"
    reopen = "reopen"


# The owner or the chair may correct a closed action either way (done <-> cancelled, reopen).
_ = ActionStatus
MACHINE: StateMachine[ActionStatus, ActionEvent] = StateMachine(
    "action",
    ActionStatus,
    ActionEvent,
    {
        ActionEvent.complete: {s: _.done for s in ActionStatus},
        ActionEvent.cancel: {s: _.cancelled for s in ActionStatus},
        ActionEvent.reopen: {s: _.open for s in ActionStatus},
    },
)
EVENT_FOR_STATUS = {
    ActionStatus.done: ActionEvent.complete,
    ActionStatus.cancelled: ActionEvent.cancel,
    ActionStatus.open: ActionEvent.reopen,
}


def fire(action: Action, event: ActionEvent) -> bool:
    """Apply `event`; returns whether the status changed (`completed_at` follows it)."""
    target = MACHINE.target(action.status, event)
    if target == action.status:
        return False
    action.status = target
    action.completed_at = None if target == ActionStatus.open else utcnow()
    return True
