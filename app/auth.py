"""Who is calling, for routes: resolves the bearer key (or the operator key) to the Principal
(`app.principal`) every route receives."""

import hmac
from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import col, select, update

from app.db import SessionDep, SettingsDep
from app.organisations.models import ApiKey, Organisation, OrganisationKind
from app.principal import KEY_PREFIX, hash_api_key
from app.principal import Principal as Principal  # re-exported for the routes
from app.problems import Forbidden, Unauthorized
from app.sqltypes import utcnow

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
        .join(Organisation, col(Organisation.id) == col(ApiKey.organisation_id))
        .where(col(ApiKey.key_hash) == hash_api_key(token), col(ApiKey.revoked_at).is_(None))
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
        session.exec(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now))


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_operator(principal: CurrentPrincipal) -> Principal:
    if not principal.is_operator:
        raise Forbidden("Only the platform operator may do this.")
    return principal


OperatorPrincipal = Annotated[Principal, Depends(require_operator)]
