"""The meeting lifecycle: a draft is published once, which freezes its agenda."""

import uuid
from datetime import datetime
from enum import StrEnum

from app.lifecycle import Refusal, StateMachine
from app.meetings.models import Meeting, MeetingStatus
from app.sqltypes import utcnow


class MeetingEvent(StrEnum):
    publish = "publish"


MACHINE: StateMachine[MeetingStatus, MeetingEvent] = StateMachine(
    "meeting",
    MeetingStatus,
    MeetingEvent,
    {MeetingEvent.publish: {MeetingStatus.draft: MeetingStatus.published}},
    otherwise=lambda state, event: Refusal(
        "already_published", "This meeting's agenda is published already."
    ),
)


def check(meeting: Meeting, event: MeetingEvent) -> None:
    """Refuse (409) an event the meeting's state does not allow."""
    MACHINE.target(meeting.status, event)


def publish(meeting: Meeting, by: uuid.UUID, at: datetime | None = None) -> None:
    """Mark the meeting published by `by` at `at` (default now; its snapshot is the caller's
    to set)."""
    meeting.status = MACHINE.target(meeting.status, MeetingEvent.publish)
    meeting.published_at = at or utcnow()
    meeting.published_by_organisation_id = by
