"""A timeline entry: one thing that happened to a case or a dwelling."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(
        description="`status_changed`, `proposed`, `decision`, `action_created`, `action_closed`."
    )
    actor_organisation_id: uuid.UUID | None
    case_id: uuid.UUID | None = None
    vacancy_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None
    meeting_id: uuid.UUID | None = None
    action_id: uuid.UUID | None = None
    decision: str | None = Field(default=None, description="With `decision`: the decision taken.")
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


class Timeline(BaseModel):
    items: list[TimelineEntry]
