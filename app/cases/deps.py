"""The case a route names by `case_id`, loaded and authorised for the caller, its access logged
as the route reads it (the HTTP edge of `app.cases.service.get_case`)."""

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.access_log.models import AccessAction
from app.cases import service
from app.cases.models import Case
from app.db import SessionDep


def valid_case(logged_as: AccessAction | None) -> Callable[..., Case]:
    """A dependency returning the case if the caller may see it (else 404 as if it did not
    exist), with the access logged as `logged_as` (None: the route logs what it does)."""

    def case(case_id: uuid.UUID, context: AccessContextDep, session: SessionDep) -> Case:
        return service.get_case(session, context, case_id, logged_as)

    return case


CaseDep = Annotated[Case, Depends(valid_case(None))]
CaseReadDep = Annotated[Case, Depends(valid_case(AccessAction.read))]
CaseHistoryDep = Annotated[Case, Depends(valid_case(AccessAction.history))]
CaseTimelineDep = Annotated[Case, Depends(valid_case(AccessAction.timeline))]
