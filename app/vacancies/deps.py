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
