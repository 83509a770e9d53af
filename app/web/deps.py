"""The objects a page names in its path, loaded and authorised for the signed-in person's
organisation, as the API's dependencies (`app.*.deps`) do for an API key: 404 (a Dutch page) for
another organisation's object, never 403.

A form's page lists its `FormDep` before these, so a stale CSRF token is refused before anything
is read."""

import uuid
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends
from sqlmodel import Session, col, select

from app.actions import service as actions_service
from app.actions.deps import ActionAtTable
from app.cases import service as cases_service
from app.cases.models import Case
from app.db import SessionDep
from app.meetings import service as meetings_service
from app.meetings.deps import MeetingAtTable
from app.organisations.models import OrganisationKind
from app.people import service as people_service
from app.people.models import Person
from app.proposals import service as proposals_service
from app.proposals.deps import ProposalAtTable
from app.proposals.models import Proposal
from app.tables import service as tables_service
from app.tables.models import OutflowTable
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy
from app.web.core import PageForbidden, Web, WebDep


def page_table(table_id: uuid.UUID, session: SessionDep, web: WebDep) -> OutflowTable:
    """The table if the person's organisation is a member (404 otherwise)."""
    return tables_service.get_table(session, web.principal, table_id)


def page_meeting(meeting_id: uuid.UUID, session: SessionDep, web: WebDep) -> MeetingAtTable:
    """The meeting and its table if the organisation sits at that table (404 otherwise)."""
    return MeetingAtTable(*meetings_service.get_meeting(session, web.access(), meeting_id))


def page_proposal(proposal_id: uuid.UUID, session: SessionDep, web: WebDep) -> ProposalAtTable:
    """The proposal, its table and the organisation's role in it (404 outside its reach)."""
    return ProposalAtTable(*proposals_service.get_proposal(session, web.access(), proposal_id))


def page_action(action_id: uuid.UUID, session: SessionDep, web: WebDep) -> ActionAtTable:
    """The action and its table if the organisation may see the action (404 otherwise)."""
    return ActionAtTable(*actions_service.get_action(session, web.access(), action_id))


def page_own_case(case_id: uuid.UUID, session: SessionDep, web: WebDep) -> Case:
    """The case if the person's organisation is its care provider (404 for one it may not see,
    403 for one it sees at its table but is not its own); not logged: the page logs what it
    shows of it."""
    case = cases_service.get_case(session, web.access(), case_id, None)
    if case.care_provider_id != web.organisation.id:
        raise PageForbidden("Dit kan alleen de zorgaanbieder van het dossier.")
    return case


def page_vacancy(vacancy_id: uuid.UUID, session: SessionDep, web: WebDep) -> Vacancy:
    """The dwelling if the organisation may see it (404 otherwise)."""
    return vacancies_service.get_vacancy(session, web.principal, vacancy_id)


def corporation_proposals_clause(web: Web, case_id: uuid.UUID) -> Any:
    """A corporation's proposals of a case: those for its own dwellings. `/dossiers/{id}` shows
    a corporation the case's profile when there is one, and is a 404 otherwise."""
    return (col(Proposal.case_id) == case_id) & (
        col(Proposal.corporation_id) == web.organisation.id
    )


def reads_case(session: Session, web: Web, case_id: uuid.UUID) -> bool:
    """Whether the organisation reads the whole case file, as its API key does
    (`cases_service.get_case`): its own client's, or one of a table it chairs or sits at as a
    municipality; a corporation chairing the table too."""
    return bool(_among(session, Case.id, {case_id}, cases_service.visible_clause(web.principal)))


def case_page_opens(session: Session, web: Web, case_id: uuid.UUID) -> bool:
    """Whether `/dossiers/{case_id}` shows this person's organisation a page (not a 404), by
    the rules that page reads the case with: a case it reads whole (`reads_case`), and for a
    corporation besides the profile of a case proposed for one of its dwellings. A page that
    links the case asks this first, so it offers no link that leads to a 404."""
    return case_id in case_pages_open(session, web, [case_id])


def _uuids(values: Iterable[Any]) -> set[uuid.UUID]:
    """The ids among `values` (ids or their text; an empty or malformed one skipped)."""
    found: set[uuid.UUID] = set()
    for value in values:
        try:
            found.add(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def _among(session: Session, column: Any, wanted: set[uuid.UUID], clause: Any) -> set[uuid.UUID]:
    """The ids of `wanted` in `column` of the rows `clause` holds for, in one query."""
    if not wanted:
        return set()
    found = select(column).where(col(column).in_(wanted), clause).distinct()
    return set(session.exec(found))


def case_pages_open(session: Session, web: Web, case_ids: Iterable[Any]) -> set[uuid.UUID]:
    """Of `case_ids` (ids or their text), those whose page opens (`case_page_opens`), in two
    queries at most, for a page that names many cases."""
    wanted = _uuids(case_ids)
    found = _among(session, Case.id, wanted, cases_service.visible_clause(web.principal))
    if web.organisation.kind == OrganisationKind.housing_corporation:
        own = Proposal.corporation_id == web.organisation.id
        found |= _among(session, Proposal.case_id, wanted - found, own)
    return found


def vacancy_page_opens(session: Session, web: Web, vacancy_id: uuid.UUID) -> bool:
    """Whether `/woningen/{vacancy_id}` shows this person's organisation a page (not a 404):
    the rule of `page_vacancy`, for a page that links the dwelling."""
    return vacancy_id in vacancy_pages_open(session, web, [vacancy_id])


def vacancy_pages_open(session: Session, web: Web, vacancy_ids: Iterable[Any]) -> set[uuid.UUID]:
    """Of `vacancy_ids` (ids or their text), those whose page opens (`vacancy_page_opens`),
    in one query, for a page that names many dwellings."""
    visible = vacancies_service.visible_clause(web.principal)
    return _among(session, Vacancy.id, _uuids(vacancy_ids), visible)


ADMIN_ONLY = "Alleen een beheerder van uw organisatie beheert de mensen."


def require_people_admin(web: WebDep) -> None:
    """Refuse (403) a person who is no admin of their organisation, or a viewer (who reads
    only): the people pages are theirs alone."""
    if not web.person.is_admin:
        raise PageForbidden(ADMIN_ONLY)
    web.require_writer()


def page_colleague(person_id: uuid.UUID, session: SessionDep, web: WebDep) -> Person:
    """A person of the signed-in admin's own organisation (404 for any other id), for the
    people pages; one who is no admin is refused (`require_people_admin`) before it is read.
    Read unlocked: a change locks the rows itself (`app.people.service.hold_rights`)."""
    require_people_admin(web)
    return people_service.get_person(session, web.organisation, person_id)


PageTableDep = Annotated[OutflowTable, Depends(page_table)]
PageVacancyDep = Annotated[Vacancy, Depends(page_vacancy)]
PageMeetingDep = Annotated[MeetingAtTable, Depends(page_meeting)]
PageProposalDep = Annotated[ProposalAtTable, Depends(page_proposal)]
PageActionDep = Annotated[ActionAtTable, Depends(page_action)]
PageOwnCaseDep = Annotated[Case, Depends(page_own_case)]
PageColleagueDep = Annotated[Person, Depends(page_colleague)]
