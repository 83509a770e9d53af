"""Who is calling, for routes: resolves the bearer key (or the operator key) to the Principal
(`app.principal`) every route receives."""

import hmac
from datetime import timedelta
from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Executable, bindparam, select, update

from app.db import SessionDep, SettingsDep
from app.organisations.models import ApiKey, Organisation, OrganisationKind
from app.principal import KEY_PREFIX, hash_api_key
from app.principal import Principal as Principal  # re-exported for the routes
from app.problems import Forbidden, Unauthorized, Unprocessable
from app.sqltypes import table_of, utcnow

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="`Authorization: Bearer <key>`: an organisation's API key or the operator key.",
)


def authenticate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if len(request.headers.getlist("authorization")) > 1:
        # A singleton field (RFC 9110 section 11.6.2): answering as the first of two keys
        # served a request whose sender meant one organisation as another.
        raise Unprocessable(
            "Authorization",
            "This header takes one API key; give it once.",
            "repeated_parameter",
            location="header",
        )
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    token = credentials.credentials
    admin_key = settings.admin_key
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Principal(is_operator=True)
    if not token.startswith(KEY_PREFIX) or len(token) > 128:
        raise Unauthorized("Unknown or revoked API key.", invalid_token=True)
    # Read on every request, revoked keys excluded: a revocation holds from its commit on.
    connection = session.connection()
    row = connection.execute(_live_key(), {"key_hash": hash_api_key(token)}).first()
    if row is None:
        raise Unauthorized("Unknown or revoked API key.", invalid_token=True)
    key_id, last_used_at, organisation_id, kind = row
    now = utcnow()
    resolution = timedelta(seconds=settings.key_last_used_resolution_seconds)
    if last_used_at is None or now - last_used_at >= resolution:
        # The last use, at most once per resolution interval to spare the write.
        connection.execute(_touch_key(), {"key_id": key_id, "now": now})
    return Principal(
        is_operator=False,
        organisation_id=organisation_id,
        organisation_kind=OrganisationKind(kind),
        api_key_id=key_id,
    )


_KEYS = table_of(ApiKey)
_ORGANISATIONS = table_of(Organisation)


@cache
def _live_key() -> Executable:
    """The unrevoked key with the hash `:key_hash` and its organisation, as a Core statement
    built once (every request runs it; the ORM's objects and statement building cost more
    than the query)."""
    return (
        select(_KEYS.c.id, _KEYS.c.last_used_at, _ORGANISATIONS.c.id, _ORGANISATIONS.c.kind)
        .join_from(_KEYS, _ORGANISATIONS, _ORGANISATIONS.c.id == _KEYS.c.organisation_id)
        .where(_KEYS.c.key_hash == bindparam("key_hash"), _KEYS.c.revoked_at.is_(None))
    )


@cache
def _touch_key() -> Executable:
    """The key's last use set to `:now`, unless another request's transaction holds the key's
    row (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite has one writer and no row locks): that
    one is setting it already. Waiting for it was waiting in a thread of the routes' pool while
    the holder needed one to go on: 41 concurrent requests with one key, when its last use was
    due, stopped the server for good (tests/test_request_threads.py)."""
    free = (
        select(_KEYS.c.id)
        .where(_KEYS.c.id == bindparam("key_id"))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return update(_KEYS).where(_KEYS.c.id == free).values(last_used_at=bindparam("now"))


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_operator(principal: CurrentPrincipal) -> Principal:
    if not principal.is_operator:
        raise Forbidden("Only the platform operator may do this.")
    return principal


OperatorPrincipal = Annotated[Principal, Depends(require_operator)]
