"""Follow-up actions handed out at the table, with an owner organisation and a due date."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel
from pydantic import Field as PField
from sqlalchemy import ColumnElement, and_
from sqlmodel import Field, SQLModel, col

from app.ids import Id, uuid7
from app.null_fields import RefusesNull
from app.schemas import ApiModel, Date, Page
from app.sqltypes import StatusType, UTCDateTime, one_of, utcnow
from app.versioning import Versioned, updated_at_field


class ActionKind(StrEnum):
    request_beschikking = "request_beschikking"
    arrange_budget_management = "arrange_budget_management"
    find_complex_manager = "find_complex_manager"
    arrange_debt_assistance = "arrange_debt_assistance"
    arrange_payment_plan = "arrange_payment_plan"
    register_as_house_seeker = "register_as_house_seeker"
    apply_for_urgency = "apply_for_urgency"
    plan_viewing = "plan_viewing"
    # after the move (app.aftercare)
    record_checkpoint = "record_checkpoint"
    address_nuisance = "address_nuisance"
    plan_lease_transfer = "plan_lease_transfer"
    other = "other"


ACTION_KIND_DESCRIPTION = "What is to be done: " + ", ".join(f"`{k}`" for k in ActionKind) + "."


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Action(Versioned, SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (one_of("status", ActionStatus),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    meeting_id: uuid.UUID | None = Field(default=None, foreign_key="meetings.id")
    case_id: uuid.UUID | None = Field(default=None, foreign_key="cases.id", index=True)
    owner_organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    kind: str = Field(max_length=40)
    due_date: date
    status: ActionStatus = Field(
        default=ActionStatus.open, sa_type=StatusType(ActionStatus, 16), index=True
    )
    created_by_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ActionChange(StrEnum):
    """What a transition of an action records: its hand-out, a closing, a reopening, a new due
    date, or its cancellation when its case moved to another table."""

    created = "created"
    complete = "complete"
    cancel = "cancel"
    reopen = "reopen"
    move_due_date = "move_due_date"
    case_moved = "case_moved"


ACTION_CHANGE_DESCRIPTION = (
    "`created` (handed out), `complete` (done), `cancel` (cancelled), `reopen`, "
    "`move_due_date` (only its due date changed) or `case_moved` (cancelled by the service "
    "when its case moved to another table, under the care provider that moved it; a "
    "corporation not shown the case reads it as `cancel`). A change "
    "of the status and the due date in one request is one transition, named by its status."
)


class ActionTransition(SQLModel, table=True):
    """Every change of an action, with time and actor (its lifecycle's audit trail), written in
    the transaction of the change: a closing reopened and closed again keeps both closings, a
    moved due date the one it was handed out with."""

    __tablename__ = "action_transitions"
    __table_args__ = (
        one_of("change", ActionChange),
        one_of("from_status", ActionStatus),
        one_of("to_status", ActionStatus),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    action_id: uuid.UUID = Field(foreign_key="actions.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    change: ActionChange = Field(sa_type=StatusType(ActionChange, 16))
    from_status: ActionStatus | None = Field(default=None, sa_type=StatusType(ActionStatus, 16))
    to_status: ActionStatus = Field(sa_type=StatusType(ActionStatus, 16))
    from_due_date: date | None = None
    to_due_date: date | None = None
    # Null only in the rows 0032 recorded of the closings before it, whose actor was not kept.
    actor_organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisations.id")
    actor_api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_keys.id")
    actor_person_id: uuid.UUID | None = Field(default=None, foreign_key="people.id")


def is_overdue(status: str, due_date: date, on: date) -> bool:
    """The one rule of 'overdue' ('te laat', 'over de termijn'): still open, and its due date
    lies before `on` (a day in Europe/Amsterdam). Due on day D, an action is on time all of D
    and overdue from D + 1 on. Every answer, page, agenda, minutes and mail says it by this
    rule or by `overdue_clause`, its SQL spelling; what differs is only the day `on` they ask it
    for (today, or the agenda's and the digest's meeting date)."""
    return status == ActionStatus.open and due_date < on


def overdue_clause(on: date) -> ColumnElement[bool]:
    """`is_overdue` as a WHERE clause on `Action`."""
    return and_(col(Action.status) == ActionStatus.open, col(Action.due_date) < on)


class ActionCreate(ApiModel):
    kind: ActionKind = PField(description=ACTION_KIND_DESCRIPTION)
    owner_organisation_id: Id = PField(description="A member of the table.")
    due_date: Date = PField(
        description="The day it is due: within a year of today either way (400 "
        "`date_too_far_ahead`, `date_too_far_back`: 2036 typed for 2026)."
    )
    case_id: Id | None = PField(None, description="The case it is about, if any.")
    meeting_id: Id | None = PField(None, description="The meeting it came from, if any.")


class ActionUpdate(ApiModel, RefusesNull):
    status: ActionStatus | None = PField(
        default=None,
        description="`done` or `cancelled` closes it, `open` reopens; leave out to keep it.",
    )
    due_date: Date | None = PField(
        default=None,
        description="A new due day, within a year of today either way; of an open action, or "
        "one reopened in the same request (409 `action_closed`: a closed one keeps its date).",
    )


class ActionPublic(BaseModel):
    id: uuid.UUID
    table_id: uuid.UUID
    meeting_id: uuid.UUID | None
    case_id: uuid.UUID | None = PField(description="Hidden (null) from corporations.")
    owner_organisation_id: uuid.UUID
    kind: ActionKind = PField(description=ACTION_KIND_DESCRIPTION)
    due_date: date
    status: ActionStatus = PField(description="`open`, `done` or `cancelled`.")
    overdue: bool = PField(description="Open after its `due_date` (Europe/Amsterdam today).")
    created_by_organisation_id: uuid.UUID = PField(
        description="The organisation that handed the action out."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = PField(
        description="When it was closed (done or cancelled; UTC); null while open."
    )


class ActionPage(Page[ActionPublic]):
    pass


class ActionTransitionPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    change: ActionChange = PField(description=ACTION_CHANGE_DESCRIPTION)
    from_status: ActionStatus | None = PField(
        description="Null for `created`, and for a closing recorded before this history was "
        "kept (what it closed from is not known)."
    )
    to_status: ActionStatus
    from_due_date: date | None = PField(
        description="The due date before a change of it; null when it did not change."
    )
    to_due_date: date | None = PField(
        description="The due date it was handed out with (`created`) or changed to; null when "
        "it did not change, and for a hand-out recorded before this history was kept whose "
        "due date may have moved since (its first due date is not known)."
    )
    actor_organisation_id: uuid.UUID | None = PField(
        description="The organisation that made the change; null for a closing recorded before "
        "this history was kept, and for the care provider of a moved case to a corporation "
        "that is not shown the case."
    )
    actor_api_key_id: uuid.UUID | None = PField(
        description="The API key it used; null on the pages, and for another organisation's."
    )
    actor_person_id: uuid.UUID | None = PField(
        description="The person who made it on the pages; null for an API key, and for "
        "another organisation's."
    )


class ActionTransitionPage(Page[ActionTransitionPublic]):
    pass
