"""The meeting a route names by `meeting_id`, loaded and authorised for the caller, with its
table (the HTTP edge of `app.meetings.service.get_meeting`)."""

import uuid
from typing import Annotated, Any, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.agenda import alternatives as agenda_alternatives
from app.db import SessionDep
from app.meetings import service
from app.meetings.models import Meeting
from app.problems import Forbidden
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


def chaired(refusal: str) -> Any:
    """As `MeetingDep`, then 403 (`refusal`) for a caller that does not chair the table, before
    the query is judged: raised in the route, a member sending a key the route does not take was
    told the route's query keys (400) first, and 403 only without them."""

    def chaired_meeting(found: MeetingDep, context: AccessContextDep) -> MeetingAtTable:
        if context.principal.organisation_id != found.table.chair_organisation_id:
            raise Forbidden(refusal)
        return found

    return Annotated[MeetingAtTable, Depends(chaired_meeting)]


PublishedByChairDep = chaired("The chair publishes the agenda.")
FinalisedByChairDep = chaired("The chair marks the minutes final.")


def meeting_for_alternatives(found: MeetingDep, context: AccessContextDep) -> MeetingAtTable:
    """As `MeetingDep`, then Forbidden for a corporation (a case's alternative is case detail),
    before the query is judged: it was told which query key to fix first."""
    agenda_alternatives.alternative_view(context, found.table)
    return found


AlternativeMeetingDep = Annotated[MeetingAtTable, Depends(meeting_for_alternatives)]
