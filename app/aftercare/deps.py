"""The tenancy of the housed case a route names by `case_id`, loaded and authorised for the
caller, with how the caller sees it; a read's access is logged here, a write's by the write
(the HTTP edge of `app.aftercare.service.get_tenancy`)."""

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends

from app.access_log.deps import AccessContextDep
from app.aftercare import service
from app.aftercare.models import Tenancy
from app.aftercare.service import Viewer
from app.db import SessionDep
from app.json_body import BodyMembers
from app.problems import Forbidden


class TenancyFound(NamedTuple):
    tenancy: Tenancy
    viewer: Viewer


def valid_tenancy(
    case_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> TenancyFound:
    """The tenancy and the caller's view of it; 404 when the case is not housed or not the
    caller's to see."""
    return TenancyFound(*service.get_tenancy(session, context, case_id))


def tenancy_to_write(
    case_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> TenancyFound:
    """As `valid_tenancy`, for a route that writes it: the write logs its one access itself."""
    return TenancyFound(*service.get_tenancy(session, context, case_id, logged=False))


def tenancy_of_care_provider(
    case_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> TenancyFound:
    """As `tenancy_to_write`, for a write only the case's care provider makes (the agreement,
    a checkpoint): 404 for a caller that may not see the case, then 403 for one that sees it
    but may not write there (the chair, a municipality, the landlord), before the body is
    validated: it was told which fields were wrong, and only once it had fixed them that it
    may not send them at all."""
    found = tenancy_to_write(case_id, context, session)
    if found.viewer is not Viewer.care_provider:
        raise Forbidden("Only the case's care provider writes its aftercare.")
    return found


def kept_tenancy(
    case_id: uuid.UUID, context: AccessContextDep, session: SessionDep, body: BodyMembers
) -> TenancyFound:
    """As `tenancy_to_write`, for a change of the tenancy itself (the omklap, its end), which
    the case's care provider and the landlord keep: 404 for a caller that may not see the
    case, then 403 for a reader (the chair, a municipality), and for the care provider
    sending `transferred_on` (the landlord's to record), before the body is validated."""
    found = tenancy_to_write(case_id, context, session)
    me = context.principal.organisation_id
    if not service.keeps(found.tenancy, me):
        raise Forbidden("The care provider and the corporation keep the tenancy.")
    service.refuse_transfer(found.tenancy, me, body)
    return found


TenancyDep = Annotated[TenancyFound, Depends(valid_tenancy)]


def tenancy_of_agreement(found: TenancyDep) -> TenancyFound:
    """As `valid_tenancy`, for a read of its aftercare agreement: 403 for the landlord (it sees
    that one exists, not its content) before the query is judged (it was told the route's query
    keys first, 400, and 403 only without them)."""
    service.refuse_agreement_to(found.viewer)
    return found


AgreementTenancyDep = Annotated[TenancyFound, Depends(tenancy_of_agreement)]
CareProviderTenancyDep = Annotated[TenancyFound, Depends(tenancy_of_care_provider)]
KeptTenancyDep = Annotated[TenancyFound, Depends(kept_tenancy)]
