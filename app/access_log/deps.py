"""The request-scoped context every case-file access is logged with."""

from typing import Annotated, Any

from fastapi import Depends, Request

from app.access_log.service import AccessContext
from app.auth import CurrentPrincipal
from app.principal import (
    ACTIONS_FOR_ORGANISATIONS,
    AGENDA_FOR_ORGANISATIONS,
    CASE_FILES_FOR_ORGANISATIONS,
    FOR_ORGANISATIONS,
    MONITOR_FOR_ORGANISATIONS,
    PROPOSALS_FOR_ORGANISATIONS,
    VACANCIES_FOR_ORGANISATIONS,
)
from app.problems import Forbidden


async def access_context(request: Request, principal: CurrentPrincipal) -> AccessContext:
    """Who asks, through which endpoint. Async: no I/O, so no hand-over to the thread pool
    (`app.db.request_settings`)."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    return AccessContext(principal=principal, endpoint=f"{request.method} {template}"[:200])


AccessContextDep = Annotated[AccessContext, Depends(access_context)]


def organisations_only(refusal: str) -> Any:
    """The `AccessContext` of an organisation, as a dependency that refuses the operator (403,
    `refusal`) before the route's query or body is judged (`refuse_unread_input` runs after the
    route's other dependencies): raised in the route, the operator asking with a key the route
    does not take was told the route's query keys (400) first, and 403 only without them."""

    async def organisation_context(context: AccessContextDep) -> AccessContext:
        if context.principal.is_operator:
            raise Forbidden(refusal)
        return context

    return Annotated[AccessContext, Depends(organisation_context)]


OrganisationContext = organisations_only(FOR_ORGANISATIONS)
CaseFilesContext = organisations_only(CASE_FILES_FOR_ORGANISATIONS)
VacanciesContext = organisations_only(VACANCIES_FOR_ORGANISATIONS)
AgendaContext = organisations_only(AGENDA_FOR_ORGANISATIONS)
MonitorContext = organisations_only(MONITOR_FOR_ORGANISATIONS)
ProposalsContext = organisations_only(PROPOSALS_FOR_ORGANISATIONS)
ActionsContext = organisations_only(ACTIONS_FOR_ORGANISATIONS)
