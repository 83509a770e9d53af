"""A timeline entry: one thing that happened to a case or a dwelling."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(
        description="`status_changed`, `proposed`, `decision`; an action's history: "
        "`action_created`, `action_due_date_changed`, `action_closed`, `action_reopened` (each "
        "change, its actor with it); after the move: `tenancy_started`, `aftercare_agreed`, "
        "`checkpoint_recorded`, `lease_transferred`, `tenancy_ended`."
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
        "dwelling change closed the proposal), under the organisation that made the change; "
        "with `action_closed`: true when the action was cancelled as its case moved to another "
        "table, under the care provider that moved it.",
    )
    from_status: str | None = Field(
        default=None,
        description="The status before the change (with `action_closed` and `action_reopened`: "
        "the action's).",
    )
    to_status: str | None = Field(default=None, description="The status after the change.")
    reason: str | None = Field(
        default=None, description="The status, decline or withdrawal reason, if any."
    )
    action_kind: str | None = Field(
        default=None, description="With the `action_` entries: the action's kind."
    )
    owner_organisation_id: uuid.UUID | None = None
    due_date: date | None = Field(
        default=None,
        description="With `action_created`: the due date the action was handed out with (null "
        "for one handed out before its history was kept whose due date has changed since); "
        "with another `action_` entry: the new due date, when the change moved it.",
    )
    from_due_date: date | None = Field(
        default=None, description="With an `action_` entry that moved the due date: the old one."
    )
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
    """One case's or dwelling's whole history, oldest first: not paged (no `next_cursor`), as it
    is put together from several records."""

    items: list[TimelineEntry]
