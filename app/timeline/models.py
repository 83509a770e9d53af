"""A timeline entry: one thing that happened to a case or a dwelling."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(
        description="`status_changed`, `proposed`, `decision`, `action_created`, `action_closed`; "
        "after the move: `tenancy_started`, `aftercare_agreed`, `checkpoint_recorded`, "
        "`lease_transferred`, `tenancy_ended`."
    )
    actor_organisation_id: uuid.UUID | None
    case_id: uuid.UUID | None = None
    vacancy_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None
    meeting_id: uuid.UUID | None = None
    action_id: uuid.UUID | None = None
    decision: str | None = Field(default=None, description="With `decision`: the decision taken.")
    automatic: bool | None = Field(
        default=None,
        description="With `decision`: true when the service took it by itself (a case or "
        "dwelling change closed the proposal), under the organisation that made the change.",
    )
    from_status: str | None = None
    to_status: str | None = None
    reason: str | None = Field(
        default=None, description="The status, decline or withdrawal reason, if any."
    )
    action_kind: str | None = Field(
        default=None, description="With `action_created` and `action_closed`: the action's kind."
    )
    owner_organisation_id: uuid.UUID | None = None
    due_date: date | None = None
    lease_form: str | None = Field(None, description="`tenancy_started`: the lease form.")
    effective_date: date | None = Field(
        None,
        description="The date of record: the move-in, the checkpoint's day, the transfer or "
        "the end.",
    )
    planned_on: date | None = Field(
        None, description="`tenancy_started`: the planned omklap of an intermediate lease."
    )
    months: int | None = Field(None, description="`checkpoint_recorded`: which checkpoint.")
    signals: list[str] | None = Field(
        None, description="`checkpoint_recorded`: the signals it raised."
    )


class Timeline(BaseModel):
    items: list[TimelineEntry]
