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
from app.problems import Forbidden


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


def own_case(case: CaseDep, context: AccessContextDep) -> Case:
    """As `CaseDep` (404 for a caller that may not see the case), then 403 for one that sees it
    but did not register it (the chair, a municipality), before the body is validated: it was
    told which fields were wrong, and only once it had fixed them that it may not change it."""
    if case.care_provider_id != context.principal.organisation_id:
        raise Forbidden("Only the care provider that registered the case may change it.")
    return case


OwnCaseDep = Annotated[Case, Depends(own_case)]


def case_of_its_provider(case: CaseDep, context: AccessContextDep) -> Case:
    """As `CaseDep`, then 403 for a caller that sees the case but did not register it, before
    the query is judged: the case's access log is its care provider's to read."""
    if case.care_provider_id != context.principal.organisation_id:
        raise Forbidden("Only the case's care provider reads its access log.")
    return case


ProviderCaseDep = Annotated[Case, Depends(case_of_its_provider)]
