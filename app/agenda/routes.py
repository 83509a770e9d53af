"""HTTP routes for the weekly agenda and the why-not explanation."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic_core import to_json

from app.access_log.deps import AccessContextDep, AgendaContext
from app.access_log.service import AccessContext
from app.agenda import alternatives, service
from app.agenda import candidates as candidates_service
from app.agenda import why_not as why_not_service
from app.agenda.dates import agenda_date
from app.agenda.models import (
    AGENDA,
    Agenda,
    AgendaView,
    BestAlternative,
    CareProviderCaseCandidatesPage,
    CaseCandidatesPage,
    VacancyCandidatesPage,
    WhyNot,
)
from app.agenda.paging import AgendaPage
from app.agenda.views import view_for
from app.cursors import encode_cursor
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.ids import Id
from app.pagination import PageDep, PageRequest
from app.problems import problem_responses
from app.rate_limits.deps import limited
from app.rate_limits.service import EndpointClass
from app.schemas import Candidates, Date
from app.tables.deps import TableDep
from app.tables.models import OutflowTable
from app.timeutil import today

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/tables", tags=["agenda"])
JSON = "application/json"
MeetingDate = Annotated[
    Date | None,
    Query(
        description=(
            "Meeting date (YYYY-MM-DD). Chair and municipalities: any date, default today. Care "
            "providers and corporations: one of the table's meeting dates (403 otherwise), default "
            "the next meeting from today (404 if none is planned)."
        )
    ),
]


@router.get(
    "/{table_id}/agenda",
    response_model=Agenda,
    responses=problem_responses(400, 401, 403, 404, 409, 429),
    dependencies=limited(EndpointClass.agenda),
)
def get_agenda(
    table: TableDep,
    context: AgendaContext,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    date: MeetingDate = None,
    candidates: Annotated[Candidates, Query(description="Candidates per case/vacancy.")] = 5,
) -> Response:
    """The ranked agenda for a meeting date: proposals, candidates, bottlenecks, waiting cases.

    Chair and municipality members see everything, on any date; a care provider only its own
    cases and a corporation only its own dwellings without case details, on meeting dates only
    (`app.agenda.dates`). The proposals, open items and summaries come whole; the per-case and
    per-dwelling sections `limit` entries at a time (default 100), the next page by `cursor`
    from `next_cursor` (409 `agenda_changed` when the caller's view reads otherwise since that
    page; 400 for a cursor of another agenda, date, view or `candidates`).
    """
    on = agenda_date(session, view_for(context, table), table, date, today())
    budget = settings.solver_time_budget_seconds
    wanted = AgendaPage(page.limit, page.after)
    document = service.agenda(session, context, table, on, candidates, budget, wanted)
    return Response(serialise(page.tied(document)), media_type=JSON)


def serialise(document: dict[str, Any]) -> bytes:
    """The agenda's JSON, by pydantic-core directly (not `jsonable_encoder`, which walks every
    node in Python; see app/fastjson.py).

    A care provider's or corporation's view is validated against its model first, so a key the
    view must not carry fails instead of reaching it (the corporation's models forbid extras).
    The table's view shows everything and is built in its model's exact shape
    (`tests/api/test_agenda.py` checks that validating changes nothing), so it is serialised
    once as it is: validating a big city's thousands of candidates took as long as writing them.
    """
    if document["view"] == AgendaView.table.value:
        return to_json(document)
    return AGENDA.dump_json(AGENDA.validate_python(document))


@router.get(
    "/{table_id}/why-not",
    response_model=WhyNot,
    responses=problem_responses(401, 403, 404, 409, 429),
    dependencies=limited(EndpointClass.why_not),
)
def get_why_not(
    table: TableDep,
    case_id: Annotated[Id, Query(alias="caseId", description="The case asked about.")],
    vacancy_id: Annotated[Id, Query(alias="vacancyId", description="The dwelling asked about.")],
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
    date: MeetingDate = None,
) -> WhyNot:
    """Every hard rule a case fails for a dwelling, with the figures that decided it, on the
    same dates the caller may see the agenda of (`app.agenda.dates`)."""
    on = agenda_date(session, view_for(context, table), table, date, today())
    return WhyNot.model_validate(
        why_not_service.why_not(
            session,
            context,
            table,
            case_id,
            vacancy_id,
            on,
            settings.solver_time_budget_seconds,
        )
    )


def refusing(check: Callable[[AccessContext, OutflowTable], object]) -> Callable[..., OutflowTable]:
    """A dependency returning the table (404 for a caller not at it) once `check` let the caller
    read there (its Forbidden), before the query is judged: a member that may not read a list
    was told which query key to fix first, and only then that it may not read it at all."""

    def table_for(table: TableDep, context: AccessContextDep) -> OutflowTable:
        check(context, table)
        return table

    return table_for


CaseListTable = Annotated[OutflowTable, Depends(refusing(candidates_service.case_list_view))]


def own_case_list_table(
    table: CaseListTable, case_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> OutflowTable:
    """As `CaseListTable`, then 404 for a care provider asking for another provider's case
    (`refuse_others_case`), before the query is judged."""
    candidates_service.refuse_others_case(session, context, table, case_id)
    return table


OwnCaseListTable = Annotated[OutflowTable, Depends(own_case_list_table)]
VacancyListTable = Annotated[
    OutflowTable, Depends(refusing(candidates_service.refuse_vacancy_list))
]
AlternativeTable = Annotated[OutflowTable, Depends(refusing(alternatives.alternative_view))]


def _paged(answer: dict[str, Any], page: PageRequest) -> dict[str, Any]:
    cursor = answer.pop("next_cursor_id")
    return answer | {"next_cursor": page.tie(None if cursor is None else encode_cursor(cursor))}


@router.get(
    "/{table_id}/agenda/cases/{case_id}/candidates",
    response_model=CaseCandidatesPage | CareProviderCaseCandidatesPage,
    responses=problem_responses(400, 401, 403, 404, 409, 429),
    dependencies=limited(EndpointClass.agenda),
)
def get_case_candidates(
    table: OwnCaseListTable,
    case_id: uuid.UUID,
    context: AccessContextDep,
    session: SessionDep,
    page: PageDep,
    date: MeetingDate = None,
) -> Response:
    """Every dwelling open to a case on the agenda of `date`, best first, a page at a time: the
    rest of the agenda's `candidates_by_case` entry, ranked the same way. For the table and the
    case's own care provider (404 for another provider's case, as for one not on the agenda;
    403 for a corporation, which sees no case's options); the care provider gets the reasons
    that exclude dwellings without their counts (`excluded_reasons`). 409 when the list changed
    before the cursor since (a dwelling left it, came in or moved; start again)."""
    on = agenda_date(session, view_for(context, table), table, date, today())
    after = page.after
    answer = candidates_service.case_candidates(
        session, context, table, case_id, on, after, page.limit
    )
    return Response(to_json(_paged(answer, page)), media_type=JSON)


@router.get(
    "/{table_id}/agenda/vacancies/{vacancy_id}/candidates",
    response_model=VacancyCandidatesPage,
    responses=problem_responses(400, 401, 403, 404, 409, 429),
    dependencies=limited(EndpointClass.agenda),
)
def get_vacancy_candidates(
    table: VacancyListTable,
    vacancy_id: uuid.UUID,
    context: AccessContextDep,
    session: SessionDep,
    page: PageDep,
    date: MeetingDate = None,
) -> Response:
    """Every case a dwelling is open to on the agenda of `date`, best first, a page at a time:
    the rest of the agenda's `candidates_by_vacancy` entry, ranked the same way. For the table
    only (the parties' agendas show no dwelling's ranking of cases: 403). 409 when the list
    changed before the cursor since (a case left it, came in or moved; start again)."""
    on = agenda_date(session, view_for(context, table), table, date, today())
    after = page.after
    answer = candidates_service.vacancy_candidates(
        session, context, table, vacancy_id, on, after, page.limit
    )
    return Response(to_json(_paged(answer, page)), media_type=JSON)


@router.get(
    "/{table_id}/agenda/cases/{case_id}/alternative",
    response_model=BestAlternative,
    responses=problem_responses(400, 401, 403, 404, 429),
    dependencies=limited(EndpointClass.agenda),
)
def get_best_alternative(
    table: AlternativeTable,
    case_id: uuid.UUID,
    context: AccessContextDep,
    session: SessionDep,
    settings: SettingsDep,
    date: MeetingDate = None,
) -> BestAlternative:
    """A case the agenda of `date` leaves unhoused, with every proposal its best alternative
    changes: the agenda's `left_unhoused` entry, whose `displaced` lists the first `candidates`.
    Computed as that agenda is (the same time). For the table and the case's own care provider
    (other providers' cases without id or score, no totals; 404 for another provider's case, as
    for one not on the agenda; 403 for a corporation). 404 also when the agenda has no entry for
    the case (proposed, no fitting dwelling, or the check was cut short; or the date's meeting
    is published and its proposals hold the dwellings: then the detail names `GET
    /v1/meetings/{meeting_id}/agenda/cases/{case_id}/alternative`, which answers from the
    frozen agenda)."""
    on = agenda_date(session, view_for(context, table), table, date, today())
    budget = settings.solver_time_budget_seconds
    answer = alternatives.best_alternative(session, context, table, case_id, on, budget)
    return BestAlternative.model_validate(answer)
