"""The dwelling a route names by `vacancy_id`, loaded and authorised for the caller (the HTTP edge
of `app.vacancies.service.get_vacancy`)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth import CurrentPrincipal
from app.db import SessionDep
from app.vacancies import service
from app.vacancies.models import Vacancy


def valid_vacancy(
    vacancy_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Vacancy:
    """The dwelling if the caller may see it; otherwise 404 as if it did not exist."""
    return service.get_vacancy(session, principal, vacancy_id)


VacancyDep = Annotated[Vacancy, Depends(valid_vacancy)]


def vacancy_to_withdraw(vacancy: VacancyDep, principal: CurrentPrincipal) -> Vacancy:
    """As `valid_vacancy`, for its withdrawal: 403 for a caller that sees the dwelling but did
    not offer it (the chair, a municipality) before the query is judged (it was told the
    route's query keys first, 400, and 403 only without them)."""
    service.refuse_withdrawal(principal, vacancy)
    return vacancy


WithdrawnVacancyDep = Annotated[Vacancy, Depends(vacancy_to_withdraw)]
