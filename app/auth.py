"""Who is calling: API keys (hashed), the operator key, and the Principal every route receives."""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select, update

from app.db import SessionDep, SettingsDep
from app.organisations.models import ApiKey, Organisation, OrganisationKind
from app.problems import Forbidden, Unauthorized
from app.sqltypes import utcnow

KEY_PREFIX = "ust_"


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
            raise Forbidden("This endpoint is for organisations; the operator key cannot use it.")
        return self.organisation_id

    def require_kind(self, *kinds: OrganisationKind) -> uuid.UUID:
        org_id = self.require_organisation()
        if self.organisation_kind not in kinds:
            allowed = ", ".join(k.value for k in kinds)
            raise Forbidden(f"Only organisations of kind {allowed} may do this.")
        return org_id


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="`Authorization: Bearer <key>`: an organisation's API key or the operator key.",
)


def authenticate(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    token = credentials.credentials
    admin_key = settings.admin_key
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Principal(is_operator=True)
    if not token.startswith(KEY_PREFIX) or len(token) > 128:
        raise Unauthorized("Unknown or revoked API key.")
    row = session.exec(
        select(ApiKey, Organisation)
        .join(Organisation, Organisation.id == ApiKey.organisation_id)  # type: ignore[arg-type]
        .where(ApiKey.key_hash == hash_api_key(token), ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if row is None:
        raise Unauthorized("Unknown or revoked API key.")
    key, organisation = row
    _touch(session, key, timedelta(seconds=settings.key_last_used_resolution_seconds))
    return Principal(
        is_operator=False,
        organisation_id=organisation.id,
        organisation_kind=OrganisationKind(organisation.kind),
        api_key_id=key.id,
    )


def _touch(session: SessionDep, key: ApiKey, resolution: timedelta) -> None:
    """Record the last use, at most once per resolution interval to spare the write."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= resolution:
        session.exec(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))  # type: ignore[call-overload]


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_operator(principal: CurrentPrincipal) -> Principal:
    if not principal.is_operator:
        raise Forbidden("Only the platform operator may do this.")
    return principal


OperatorPrincipal = Annotated[Principal, Depends(require_operator)]
