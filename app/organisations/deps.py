"""The organisation a route names by `organisation_id` as the one whose people and keys the
caller manages, and the key it names by `key_id` (the HTTP edge of
`app.organisations.service.get_managed_organisation` and `get_api_key`)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth import CurrentPrincipal
from app.db import SessionDep
from app.organisations import service
from app.organisations.models import ApiKey, Organisation


def visible_organisation(
    organisation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Organisation:
    """The organisation if the caller may see it (its own, a co-member of one of its tables;
    the operator any); 404 otherwise."""
    return service.get_visible_organisation(session, principal, organisation_id)


VisibleOrganisationDep = Annotated[Organisation, Depends(visible_organisation)]


def managed_organisation(
    organisation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Organisation:
    """The organisation if the caller manages it (the operator, or the organisation itself);
    403 for another the caller can see (a co-member of one of its tables), 404 otherwise."""
    return service.get_managed_organisation(session, principal, organisation_id)


ManagedOrganisationDep = Annotated[Organisation, Depends(managed_organisation)]


def managed_api_key(
    organisation_id: uuid.UUID, key_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> ApiKey:
    """One of the keys of an organisation the caller manages (revoked ones too): as
    `managed_organisation`, then 404 for a key id of any other organisation. (The organisation
    is read here, not through `ManagedOrganisationDep`, to keep the path's parameters in the
    contract in path order.)"""
    organisation = service.get_managed_organisation(session, principal, organisation_id)
    return service.get_api_key(session, organisation, key_id)


ManagedApiKeyDep = Annotated[ApiKey, Depends(managed_api_key)]
