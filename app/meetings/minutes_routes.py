"""HTTP routes for a meeting's minutes (besluitenlijst): read them, mark them final."""

import uuid
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from app.access_log.deps import AccessContextDep
from app.db import SessionDep, SessionEndingRoute
from app.idempotency import NO_BODY, IdempotencyDep
from app.if_match import IfMatch
from app.meetings import minutes as service
from app.meetings.deps import FinalisedByChairDep, MeetingDep
from app.meetings.minutes_models import MINUTES, Minutes
from app.meetings.models import Meeting
from app.meetings.service import get_meeting
from app.problems import problem_responses

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1", tags=["meetings"])


def _answer(meeting: Meeting, document: dict[str, Any]) -> Response:
    # Validated against the caller's view model, as the agenda is.
    return Response(
        MINUTES.dump_json(MINUTES.validate_python(document)),
        media_type="application/json",
        headers={"ETag": service.minutes_etag(meeting, document)},
    )


@router.get(
    "/meetings/{meeting_id}/minutes",
    response_model=Minutes,
    responses=problem_responses(401, 403, 404)
    | {200: {"headers": {"ETag": {"$ref": "#/components/headers/ETag"}}}},
)
def get_minutes(found: MeetingDep, context: AccessContextDep, session: SessionDep) -> Response:
    """The meeting's minutes as the caller may see them (live until marked final)."""
    meeting, table = found
    return _answer(meeting, service.minutes(session, context, meeting, table))


@router.post(
    "/meetings/{meeting_id}/minutes/final",
    response_model=Minutes,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def finalize_minutes(
    found: FinalisedByChairDep,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response:
    """Mark the minutes final (chair, once; a second time is 409 `minutes_final`): from then
    on they are frozen. Takes no body. A retry with the same `Idempotency-Key` answers as the
    first request did (with `Idempotent-Replayed: true`): the final minutes as the caller
    reads them now, which is as they were marked."""
    meeting, table = found

    def reread(stored_id: uuid.UUID) -> tuple[BaseModel, dict[str, str]]:
        # The minutes name cases and their decisions: not kept in the idempotency record,
        # read again with the caller's access (final minutes read as they were marked).
        again, at = get_meeting(session, context, stored_id)
        document = service.minutes(session, context, again, at)
        return MINUTES.validate_python(document), {"ETag": service.minutes_etag(again, document)}

    if replay := idempotency.replay(session, context.principal, NO_BODY, reread):
        return replay
    meeting = service.finalize(session, context, meeting, table, if_match)
    answer = _answer(meeting, service.minutes(session, context, meeting, table))
    # The answer is stored as the meeting's id alone (`reread`); `respond` records it.
    idempotency.respond(None, 200, {"ETag": answer.headers["ETag"]}, resource_id=meeting.id)
    return answer
