"""Who is calling, for routes: resolves the bearer key (or the operator key) to the Principal
(`app.principal`) every route receives."""

import hmac
from datetime import timedelta
from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Executable, bindparam, event, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction

from app.db import SessionDep, SettingsDep
from app.organisations.models import ApiKey, Organisation, OrganisationKind
from app.organisations.service import hold_key_writes, key_writes_lock
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
    # Read on every request, revoked keys excluded: a revocation holds from its commit on. A
    # write holds the key's row FOR SHARE until it commits (`HELD_KEY`).
    writes = request.method not in SAFE_METHODS
    key_hash = hash_api_key(token)
    connection = session.connection()
    lock = key_writes_lock(key_hash)
    if writes:
        hold_key_writes(connection, lock)
    row = connection.execute(_live_key(writes), {"key_hash": key_hash}).first()
    if row is None:
        raise Unauthorized("Unknown or revoked API key.", invalid_token=True)
    key_id, last_used_at, organisation_id, kind = row
    session.info[HELD_KEY] = (key_id, lock) if writes else None
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

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

HELD_KEY = "uitstroom_held_api_key"
"""session.info: the id and writes lock (`key_writes_lock`) of the organisation's key whose
request writes (any method but GET, HEAD and OPTIONS), or None. Its writes lock is held shared
(`hold_key_writes`) and its row FOR SHARE (PostgreSQL) in every transaction of the request:
by `authenticate` in the first, by `_hold_key_again` in each one after a commit (a rate limit's
token, `outside_transaction`). A revocation (`revoke_api_key` takes the writes lock exclusive,
then the row) so waits for the writes the key has under way, none starting meanwhile, and a
write whose transaction begins after a revocation committed is refused (401): without it a key
being revoked still registered a webhook endpoint, rotated a webhook secret or made a person (a
password its holder knows) after its revocation committed, which the organisation, looking
after revoking it, did not see yet (tests/concurrency/test_key_races.py). SQLite runs one
writer at a time; a request's later transaction there reads the key again just the same."""


@cache
def _live_key(hold: bool) -> Executable:
    """The unrevoked key with the hash `:key_hash` and its organisation, as a Core statement
    built once (every request runs it; the ORM's objects and statement building cost more
    than the query); with `hold`, the key's row FOR SHARE (`HELD_KEY`)."""
    statement = (
        select(_KEYS.c.id, _KEYS.c.last_used_at, _ORGANISATIONS.c.id, _ORGANISATIONS.c.kind)
        .join_from(_KEYS, _ORGANISATIONS, _ORGANISATIONS.c.id == _KEYS.c.organisation_id)
        .where(_KEYS.c.key_hash == bindparam("key_hash"), _KEYS.c.revoked_at.is_(None))
    )
    return statement.with_for_update(read=True, of=_KEYS) if hold else statement


@cache
def _held_key() -> Executable:
    """The key `:key_id` if it is not revoked, its row FOR SHARE."""
    return (
        select(_KEYS.c.id)
        .where(_KEYS.c.id == bindparam("key_id"), _KEYS.c.revoked_at.is_(None))
        .with_for_update(read=True)
    )


@event.listens_for(OrmSession, "after_begin")
def _hold_key_again(
    session: OrmSession, transaction: SessionTransaction, connection: Connection
) -> None:
    """A writing request's next transaction holds its key as its first did (`HELD_KEY`); a
    savepoint's holds it already (its transaction does)."""
    held = session.info.get(HELD_KEY)
    if held is None or transaction.nested:
        return
    key_id, lock = held
    hold_key_writes(connection, lock)
    if connection.execute(_held_key(), {"key_id": key_id}).first() is None:
        raise Unauthorized("Unknown or revoked API key.", invalid_token=True)


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


# A route that only one kind of organisation may use says so before its body is validated: a
# care provider's system that posted a dwelling (or a corporation's a case) was told which of
# the fields it had never meant to send were wrong, and only once it had fixed them that it may
# not send them at all (found walking the README as a new user).
def require_care_provider(principal: CurrentPrincipal) -> Principal:
    principal.require_kind(OrganisationKind.care_provider)
    return principal


def require_corporation(principal: CurrentPrincipal) -> Principal:
    principal.require_kind(OrganisationKind.housing_corporation)
    return principal


def require_organisation(principal: CurrentPrincipal) -> Principal:
    principal.require_organisation()
    return principal


OrganisationPrincipal = Annotated[Principal, Depends(require_organisation)]
CareProviderPrincipal = Annotated[Principal, Depends(require_care_provider)]
CorporationPrincipal = Annotated[Principal, Depends(require_corporation)]
