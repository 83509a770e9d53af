"""Who is calling, without the web: the Principal, and how API keys are made and hashed.

FastAPI-free, so services can take a Principal; `app.auth` resolves one from a request.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from app.organisations.models import OrganisationKind
from app.problems import Forbidden

KEY_PREFIX = "ust_"
FOR_ORGANISATIONS = "This endpoint is for organisations; the operator key cannot use it."
# What the operator is told where a route or a service refuses it (the same words from both:
# `app.access_log.deps.organisations_only` refuses before the query is judged, the service for
# the pages that call it).
CASE_FILES_FOR_ORGANISATIONS = (
    "Case files are for the organisations at the table, not the operator."
)
VACANCIES_FOR_ORGANISATIONS = "Vacancies are for the organisations at the table, not the operator."
AGENDA_FOR_ORGANISATIONS = "The agenda holds case data; it is for the organisations at the table."
MONITOR_FOR_ORGANISATIONS = "The monitor is for the organisations at the table."
PROPOSALS_FOR_ORGANISATIONS = (
    "Proposals name case files; they are for the organisations at the table, not the operator."
)
ACTIONS_FOR_ORGANISATIONS = (
    "Actions name case files; they are for the organisations at the table, not the operator."
)


def new_api_key() -> str:
    """A recognisable, high-entropy key: `ust_` plus 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """SHA-256 suffices for 256-bit random keys (no dictionary to attack, unlike passwords)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the platform operator, or one organisation through one of its keys."""

    is_operator: bool
    organisation_id: uuid.UUID | None = None
    organisation_kind: OrganisationKind | None = None
    api_key_id: uuid.UUID | None = None

    def require_organisation(self) -> uuid.UUID:
        if self.organisation_id is None:
            raise Forbidden(FOR_ORGANISATIONS)
        return self.organisation_id

    def require_kind(self, *kinds: OrganisationKind) -> uuid.UUID:
        org_id = self.require_organisation()
        if self.organisation_kind not in kinds:
            allowed = ", ".join(k.value for k in kinds)
            raise Forbidden(f"Only organisations of kind {allowed} may do this.")
        return org_id
