"""The meeting a route names by `meeting_id`, loaded and authorised for the caller, with its
table (the HTTP edge of `app.meetings.service.get_meeting`)."""

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.agenda import alternatives as agenda_alternatives
from app.db import SessionDep
from app.meetings import service
from app.meetings.models import Meeting
from app.tables.models import OutflowTable


class MeetingAtTable(NamedTuple):
    meeting: Meeting
    table: OutflowTable


def valid_meeting(
    meeting_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> MeetingAtTable:
    """The meeting and its table if the caller's organisation sits at that table; otherwise 404
    as if it did not exist."""
    return MeetingAtTable(*service.get_meeting(session, context, meeting_id))


MeetingDep = Annotated[MeetingAtTable, Depends(valid_meeting)]


def meeting_for_alternatives(found: MeetingDep, context: AccessContextDep) -> MeetingAtTable:
    """As `MeetingDep`, then Forbidden for a corporation (a case's alternative is case detail),
    before the query is judged: it was told which query key to fix first."""
    agenda_alternatives.alternative_view(context, found.table)
    return found


AlternativeMeetingDep = Annotated[MeetingAtTable, Depends(meeting_for_alternatives)]
