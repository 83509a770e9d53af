"""The person a route names by `organisation_id` and `person_id`, of an organisation the caller
manages (the HTTP edge of `app.people.service.get_person`)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth import CurrentPrincipal
from app.db import SessionDep
from app.organisations.service import get_managed_organisation
from app.people import service
from app.people.models import Person


def managed_person(
    organisation_id: uuid.UUID,
    person_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> Person:
    """The person if the caller manages their organisation (the operator, or the organisation
    itself; 403 for another organisation the caller can see, 404 for one it cannot), then 404
    for a person id of any other organisation. Read unlocked: a write locks the row itself
    (`app.versioning.lock_checked`)."""
    organisation = get_managed_organisation(session, principal, organisation_id)
    return service.get_person(session, organisation, person_id)


ManagedPersonDep = Annotated[Person, Depends(managed_person)]
