"""The lists of cases and dwellings: what the blocking-reason and household-size filters narrow
them to, read per table from the table's next meeting date and policy.

The lists themselves are `app.cases.service.list_cases` and `app.vacancies.service
.list_vacancies` (visibility, paging, the access log); this module only turns the filters that
need the matching engine or a table's policy into plain ids and room ranges.
"""

import uuid
from collections.abc import Collection
from typing import Any

from sqlmodel import Session, col, select

from app import matching
from app.access_log.service import AccessContext
from app.agenda import views as agenda_views
from app.agenda import why_not as agenda_why_not
from app.agenda.models import AgendaView
from app.cases import service as cases_service
from app.cases.models import Case, CaseStatus
from app.principal import Principal
from app.registry.standing import (
    TableStanding,
    case_standing,
    dwelling_standing,
    next_meeting_date,
    table_standing,
)
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.tables.service import reads_table
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy

CASE_BLOCKING_REASONS = (*agenda_why_not.CASE_STATUS_REASONS, *matching.REASON_CODES)
VACANCY_BLOCKING_REASONS = (*agenda_why_not.VACANCY_STATUS_REASONS, *matching.REASON_CODES)


def standing_for(
    session: Session,
    table: OutflowTable,
    *,
    only_cases: Collection[str] | None = None,
    only_dwellings: Collection[str] | None = None,
) -> TableStanding:
    """The table's standing on its next meeting date (`next_meeting_date`); a page that shows
    a few cases or dwellings names them (`only_cases`, `only_dwellings`: ids) and the engine
    evaluates only those against all their partners (`table_standing`)."""
    return table_standing(
        session,
        table,
        next_meeting_date(session, table.id),
        only_cases=only_cases,
        only_dwellings=only_dwellings,
    )


def _tables(session: Session, ids: set[uuid.UUID]) -> list[OutflowTable]:
    if not ids:
        return []
    return list(session.exec(select(OutflowTable).where(col(OutflowTable.id).in_(sorted(ids)))))


def cases_blocked_by(
    session: Session, context: AccessContext, reason: str, table_id: uuid.UUID | None
) -> frozenset[uuid.UUID]:
    """The visible cases `reason` blocks on their table's next meeting date: a why-not status
    code of a case outside the agenda, or a rule that excludes a dwelling from a case that has
    no feasible dwelling (as the agenda's bottlenecks count it)."""
    query = select(Case).where(cases_service.visible_clause(context.principal))
    if table_id is not None:
        query = query.where(Case.table_id == table_id)
    if reason not in agenda_why_not.CASE_STATUS_REASONS:
        query = query.where(Case.status == CaseStatus.registered)  # the agenda's cases
    rows = list(session.exec(query))
    found: set[uuid.UUID] = set()
    for table in _tables(session, {r.table_id for r in rows}):
        standing = standing_for(session, table)
        visible = _visible_case(context, table)
        for case in (r for r in rows if r.table_id == table.id):
            if reason in case_standing(session, standing, case, visible).reason_codes():
                found.add(case.id)
    return frozenset(found)


def vacancies_blocked_by(
    session: Session, principal: Principal, reason: str, table_id: uuid.UUID | None
) -> frozenset[uuid.UUID]:
    """The visible dwellings `reason` blocks on their table's next meeting date (a status
    code, or a rule that excludes a case from a dwelling no case fits)."""
    query = select(Vacancy).where(vacancies_service.visible_clause(principal))
    if table_id is not None:
        query = query.where(Vacancy.table_id == table_id)
    rows = list(session.exec(query))
    found: set[uuid.UUID] = set()
    for table in _tables(session, {r.table_id for r in rows}):
        if reason not in agenda_why_not.VACANCY_STATUS_REASONS and not reads_table(
            principal, table
        ):
            # A rule that keeps every case from a dwelling describes the cases: filtering a
            # corporation's own dwellings by it (and moving a dwelling's figures) told it a lone
            # client's needs and age. Outside the table view only the dwelling's own status counts.
            continue
        standing = standing_for(session, table)
        for vacancy in (r for r in rows if r.table_id == table.id):
            codes = dwelling_standing(session, standing, vacancy, _nobody).reason_codes()
            if reason in codes:
                found.add(vacancy.id)
    return frozenset(found)


def _nobody(_case: Any, _provider: Any = None) -> bool:
    return False


def _visible_case(context: AccessContext, table: OutflowTable) -> Any:
    view = agenda_views.view_for(context, table)
    me = context.principal.organisation_id

    def visible(_case: Any, provider: Any = None) -> bool:
        return view == AgendaView.table or (provider is not None and provider == me)

    return visible


def room_ranges(
    session: Session, principal: Principal, household_size: int, table_id: uuid.UUID | None
) -> dict[uuid.UUID, tuple[int, int | None]]:
    """Per visible table, the rooms its policy gives a household of `household_size` (5 covers
    larger households)."""
    ids = set(
        session.exec(
            select(Vacancy.table_id).where(vacancies_service.visible_clause(principal)).distinct()
        )
    )
    if table_id is not None:
        ids &= {table_id}
    key = str(min(household_size, 5))
    ranges: dict[uuid.UUID, tuple[int, int | None]] = {}
    for table in _tables(session, ids):
        low, high = TablePolicy.model_validate(table.policy).rooms_by_household_size[key]
        ranges[table.id] = (low, high)
    return ranges
