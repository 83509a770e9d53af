"""HTTP routes for meetings: schedule, publish (freeze) and read the frozen agenda."""

import uuid

from fastapi import APIRouter, Response

from app.access_log.deps import AccessContextDep
from app.agenda.models import BestAlternative
from app.agenda.paging import AgendaPage
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.idempotency import NO_BODY, REPLAY_RESPONSE, IdempotencyDep, Replayed
from app.if_match import IfMatch
from app.meetings import alternatives, service
from app.meetings.deps import AlternativeMeetingDep, MeetingDep, PublishedByChairDep
from app.meetings.models import (
    MEETING_AGENDA,
    MeetingAgenda,
    MeetingCreate,
    MeetingPage,
    MeetingPublic,
)
from app.pagination import PageDep
from app.problems import problem_responses
from app.rate_limits.deps import limited
from app.rate_limits.service import EndpointClass
from app.tables.deps import ChairedTableDep, TableDep

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1", tags=["meetings"])


@router.post(
    "/tables/{table_id}/meetings",
    status_code=201,
    response_model=MeetingPublic,
    responses={
        **REPLAY_RESPONSE,
        **problem_responses(401, 403, 404, 409),
    },
)
def create_meeting(
    table: ChairedTableDep,
    payload: MeetingCreate,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Schedule the table's meeting on a date (chair)."""
    if replay := idempotency.replay(session, context.principal, payload):
        return replay
    meeting = service.create_meeting(session, context, table, payload)
    public = service.meeting_public(session, context, table, meeting)
    headers = {
        "Location": f"/v1/meetings/{meeting.id}",
        "ETag": service.meeting_etag(meeting, public),
    }
    return idempotency.respond(public, 201, headers)


@router.get(
    "/tables/{table_id}/meetings",
    response_model=MeetingPage,
    responses=problem_responses(401, 404),
)
def list_meetings(
    table: TableDep,
    context: AccessContextDep,
    session: SessionDep,
    page: PageDep,
) -> MeetingPage:
    """The table's meetings, oldest first."""
    rows = service.list_meetings(session, table, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    return MeetingPage(
        items=[service.meeting_public(session, context, table, m) for m in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/meetings/{meeting_id}",
    response_model=MeetingPublic,
    responses=problem_responses(401, 403, 404),
)
def get_meeting(
    found: MeetingDep, context: AccessContextDep, session: SessionDep, response: Response
) -> MeetingPublic:
    """One meeting. Its ETag is the version and a digest of what the caller's read shows (a
    care provider or corporation may read the proposals' count as null)."""
    meeting, table = found
    public = service.meeting_public(session, context, table, meeting)
    response.headers["ETag"] = service.meeting_etag(meeting, public)
    return public


@router.post(
    "/meetings/{meeting_id}/publish",
    response_model=MeetingPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 429),
    dependencies=limited(EndpointClass.publish),
)
def publish_meeting(
    found: PublishedByChairDep,
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response:
    """Freeze the agenda and turn its proposals into the meeting's proposals (chair, once;
    a second publish is 409 `already_published`). Takes no body. `If-Match`: the ETag of the
    meeting's GET, or its bare version (412 when stale). A retry with the same
    `Idempotency-Key` answers as the first publish did (with `Idempotent-Replayed: true`),
    also when both arrive at once: the meeting is published once."""
    meeting, table = found
    if replay := idempotency.answered(session, context.principal, NO_BODY):
        return replay

    def claim() -> None:
        # In the transaction that publishes, once the meeting is locked: a publish with the
        # same key that got here first has committed its answer by now. Once per request (a
        # publish that computes again locks the meeting again, holding its claim).
        if idempotency.record_id is not None:
            return
        if replay := idempotency.replay(session, context.principal, NO_BODY):
            raise Replayed(replay)

    budget = settings.solver_time_budget_seconds
    try:
        meeting = service.publish(session, context, meeting, table, if_match, budget, claim)
    except Replayed as replayed:
        return replayed.response
    public = service.meeting_public(session, context, table, meeting)
    return idempotency.respond(public, 200, {"ETag": service.meeting_etag(meeting, public)})


@router.get(
    "/meetings/{meeting_id}/agenda",
    response_model=MeetingAgenda,
    responses=problem_responses(400, 401, 403, 404, 409, 429),
    dependencies=limited(EndpointClass.agenda),
)
def get_meeting_agenda(
    found: MeetingDep,
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
) -> Response:
    """The frozen agenda as the caller may see it, with `changes` since publication (before
    publication: the live agenda of the meeting's date). Paged as `GET
    /v1/tables/{table_id}/agenda`: the proposals, open items, summaries and `changes` whole, the
    per-case and per-dwelling sections `limit` entries at a time (default 100), the next page by
    `cursor` from `next_cursor` (409 `agenda_changed` when a draft's view reads otherwise since;
    400 for a cursor of another agenda or view)."""
    meeting, table = found
    budget = settings.solver_time_budget_seconds
    wanted = AgendaPage(page.limit, page.after)
    document = page.tied(service.meeting_agenda(session, context, meeting, table, budget, wanted))
    # Validated against the caller's view model (as `GET .../agenda`).
    return Response(
        MEETING_AGENDA.dump_json(MEETING_AGENDA.validate_python(document)),
        media_type="application/json",
    )


@router.get(
    "/meetings/{meeting_id}/agenda/cases/{case_id}/alternative",
    response_model=BestAlternative,
    responses=problem_responses(400, 401, 403, 404, 429),
    dependencies=limited(EndpointClass.agenda),
)
def get_meeting_alternative(
    found: AlternativeMeetingDep,
    case_id: uuid.UUID,
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
) -> BestAlternative:
    """A case the meeting's agenda leaves unhoused, with every proposal its best alternative
    changes: the frozen agenda's `left_unhoused` entry, whose `displaced` lists the first
    `candidates` (before publication: the live agenda of the meeting's date, as `GET
    /v1/tables/{table_id}/agenda/cases/{case_id}/alternative`). For the table and the case's own
    care provider (other providers' cases without id or score, no totals; 404 for another
    provider's case, as for one not on the agenda; 403 for a corporation). 404 also when the
    agenda has no entry for the case, `alternative_not_kept` when the meeting was published
    before whole alternatives were kept and its agenda cut this case's list, and
    `case_anonymised` for a case retention anonymised since (a dwelling that fits it is its
    needs, income and debts in other words; one it is housed on besides shows no id or
    score)."""
    meeting, table = found
    budget = settings.solver_time_budget_seconds
    answer = alternatives.meeting_alternative(session, context, meeting, table, case_id, budget)
    return BestAlternative.model_validate(answer)
