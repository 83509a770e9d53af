"""Organisations and their API keys (operator business, plus self-service key rotation)."""

import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.database import (
    KEY_REVOCATION,
    KEY_WRITES,
    LostRace,
    hold_writes_lock,
    lock_number,
    take_advisory_lock,
)
from app.organisations.models import ApiKey, KeyIssuer, Organisation, OrganisationCreate
from app.principal import Principal, hash_api_key, new_api_key
from app.problems import Conflict, Forbidden, NotFound, Unauthorized
from app.sqltypes import utcnow
from app.tables.models import TableMember
from app.versioning import lock_one


def create_organisation(session: Session, data: OrganisationCreate) -> Organisation:
    if session.exec(select(Organisation).where(Organisation.name == data.name)).first():
        raise Conflict(
            f"An organisation named {data.name!r} exists already.", code="duplicate_name"
        )
    organisation = Organisation(name=data.name, kind=data.kind.value)
    session.add(organisation)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "An organisation with this name exists already.", code="duplicate_name"
        ) from exc
    return organisation


def _co_member_ids(organisation_id: uuid.UUID) -> SelectOfScalar[uuid.UUID]:
    """Organisations sharing a table with this one (they see each other's name and kind)."""
    mine = select(TableMember.table_id).where(TableMember.organisation_id == organisation_id)
    return select(col(TableMember.organisation_id)).where(col(TableMember.table_id).in_(mine))


def visible_organisations_query(principal: Principal) -> SelectOfScalar[Organisation]:
    query = select(Organisation)
    if not principal.is_operator:
        org_id = principal.require_organisation()
        query = query.where(
            or_(col(Organisation.id) == org_id, col(Organisation.id).in_(_co_member_ids(org_id)))
        )
    return query


def list_organisations(
    session: Session, principal: Principal, *, after: uuid.UUID | None, limit: int
) -> list[Organisation]:
    query = visible_organisations_query(principal)
    if after is not None:
        query = query.where(Organisation.id > after)
    return list(session.exec(query.order_by(col(Organisation.id)).limit(limit)))


def names_of(session: Session, ids: Iterable[uuid.UUID | str | None]) -> dict[str, str]:
    """The names of the organisations `ids` (None skipped), by id as text. For records the
    caller may read that name an organisation (who saw a file, who decided): also one that has
    left the table since, which `GET /v1/organizations/{id}` no longer shows the caller."""
    wanted = sorted({uuid.UUID(str(i)) for i in ids if i is not None})
    found = select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(wanted))
    return {str(org_id): name for org_id, name in session.exec(found)}


def get_visible_organisation(
    session: Session, principal: Principal, organisation_id: uuid.UUID
) -> Organisation:
    query = visible_organisations_query(principal).where(Organisation.id == organisation_id)
    organisation = session.exec(query).first()
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def get_managed_organisation(
    session: Session, principal: Principal, organisation_id: uuid.UUID
) -> Organisation:
    """The organisation whose keys and people the caller manages: any for the operator, else only
    its own. Raises Forbidden for another organisation the caller can see (a co-member of one of
    its tables: `GET /v1/organizations/{id}` shows it), NotFound for one it cannot."""
    if not principal.is_operator and principal.organisation_id != organisation_id:
        get_visible_organisation(session, principal, organisation_id)
        raise Forbidden(
            "Only the organisation itself (or the operator) manages its people and keys."
        )
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


class ApiKeyIssued(Conflict):
    """409 `api_key_issued`: a retry of a key issuance with the same `Idempotency-Key`. The key
    issued first is named (`existing_id`, `Location`); it was shown once and is stored only as
    its hash, so the retry cannot show it: the client uses it, or revokes it and asks again
    with a new `Idempotency-Key`."""

    def __init__(self, organisation_id: uuid.UUID, key_id: uuid.UUID) -> None:
        location = f"/v1/organizations/{organisation_id}/api-keys/{key_id}"
        super().__init__(
            "This Idempotency-Key issued a key already; a key is shown only once. Use it, or"
            " revoke it and ask for a new one with a new Idempotency-Key.",
            code="api_key_issued",
            headers={"Location": location},
            existing_id=str(key_id),
        )


MAX_ACTIVE_API_KEYS = 10
"""Keys an organisation may hold unrevoked: each key has its own rate-limit budget
(`app.rate_limits.deps.subject_of`), so keys without end multiplied the budget."""


def create_api_key(
    session: Session,
    organisation: Organisation,
    label: str,
    *,
    issued_by: KeyIssuer,
    issuing_key_id: uuid.UUID | None = None,
) -> tuple[ApiKey, str]:
    """Returns the stored key and the key itself, which is never retrievable again. The key
    records who issued it (`issued_by`), which its organisation reads in its key list.

    Raises Conflict (409 `too_many_api_keys`) when the organisation already holds
    MAX_ACTIVE_API_KEYS unrevoked keys. The organisation's row is locked first (FOR NO KEY
    UPDATE: the foreign keys of its cases and dwellings, FOR KEY SHARE, do not wait for it), so
    two creations at once count each other (PostgreSQL; SQLite runs one writer at a time).

    `issuing_key_id`: the organisation's key that asks (401 when it was revoked meanwhile). Its
    row is read FOR SHARE: a revocation committed since the request was authenticated is seen
    here, and one still to come (`revoke_api_key` locks the row) waits for this key to be
    committed, so a key being revoked cannot issue a key that outlives its revocation unseen."""
    session.exec(
        select(Organisation.id)
        .where(Organisation.id == organisation.id)
        .with_for_update(key_share=True)
    ).one()
    if issuing_key_id is not None:
        revoked_at = session.exec(
            select(ApiKey.revoked_at).where(ApiKey.id == issuing_key_id).with_for_update(read=True)
        ).one()
        if revoked_at is not None:
            raise Unauthorized("Unknown or revoked API key.", invalid_token=True)
    active = session.exec(
        select(func.count())
        .select_from(ApiKey)
        .where(col(ApiKey.organisation_id) == organisation.id, col(ApiKey.revoked_at).is_(None))
    ).one()
    if active >= MAX_ACTIVE_API_KEYS:
        raise Conflict(
            f"The organisation holds {active} keys that are not revoked, the most it may: "
            "revoke one it no longer uses first (DELETE .../api-keys/{key_id}).",
            code="too_many_api_keys",
        )
    raw = new_api_key()
    key = ApiKey(
        organisation_id=organisation.id,
        label=label,
        prefix=raw[:12],
        key_hash=hash_api_key(raw),
        issued_by=issued_by.value,
    )
    session.add(key)
    session.flush()
    return key, raw


def list_api_keys(
    session: Session, organisation: Organisation, *, after: uuid.UUID | None, limit: int
) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.organisation_id == organisation.id)
    if after is not None:
        query = query.where(ApiKey.id > after)
    return list(session.exec(query.order_by(col(ApiKey.id)).limit(limit)))


def get_api_key(session: Session, organisation: Organisation, key_id: uuid.UUID) -> ApiKey:
    """One of the organisation's keys (its hash and prefix, never the key); 404 otherwise."""
    key = session.get(ApiKey, key_id)
    if key is None or key.organisation_id != organisation.id:
        raise NotFound("No such API key.")
    return key


def revoke_api_key(session: Session, key: ApiKey, *, queue: bool = False) -> tuple[ApiKey, bool]:
    """Revoke the key now; a key revoked already keeps its first revocation time. Returns the
    key and whether this call revoked it (False: it was revoked already). The key's row
    is locked and read again first: a revocation that read it before another committed would
    otherwise overwrite that one's time with its own. Before the row, the key's writes lock
    (`hold_key_writes`): the writes under way end first, and none starts meanwhile.

    Before that, the key's revocation lock (`_hold_revocation`): one revocation of a key waits
    for its writes at a time. Another one under way (waiting for them) makes this one lose the
    race (`LostRace`: `app.transient` runs it again a few times, then answers 503 with
    Retry-After; a retry after that one's commit gets its 204), unless it `queue`s behind it
    (the command line, which holds no request slot). Each revocation waiting beside the first
    held one of its server's request slots (`app.database.REQUEST_SLOTS`, 4): a client whose
    revocation timed out while a slow write of the key ran, retrying, stalled every request of
    every organisation on that server (tests/concurrency/test_key_races.py). Both locks end
    with the transaction, so a revocation rolled back leaves nothing behind."""
    _hold_revocation(session.connection(), key.key_hash, queue=queue)
    hold_key_writes(session.connection(), key_writes_lock(key.key_hash), exclusive=True)
    key = lock_one(session, key, no_key=True)
    if key.revoked_at is not None:
        return key, False
    key.revoked_at = utcnow()
    session.add(key)
    session.flush()
    return key, True


def _hold_revocation(connection: Connection, key_hash: str, *, queue: bool) -> None:
    """Take the key's revocation lock (PostgreSQL: an advisory lock, `lock_number`) until the
    transaction ends: waiting for it with `queue`, else at once or `LostRace`."""
    if connection.dialect.name != "postgresql":
        return
    lock = lock_number(KEY_REVOCATION, bytes.fromhex(key_hash))
    if not take_advisory_lock(connection, lock, shared=False, wait=queue):
        raise LostRace("another revocation of the key is under way")


def key_writes_lock(key_hash: str) -> int:
    """The writes lock (PostgreSQL: an advisory lock) of the key whose hash is `key_hash`."""
    return lock_number(KEY_WRITES, bytes.fromhex(key_hash))


def hold_key_writes(connection: Connection, lock: int, *, exclusive: bool = False) -> None:
    """Take a key's writes lock (`key_writes_lock`) until the transaction ends: shared for each
    transaction of a request that writes with the key (`app.auth.HELD_KEY`), exclusive for its
    revocation. PostgreSQL only; SQLite runs one writer at a time.

    The key's row lock alone (FOR SHARE against the revocation's FOR UPDATE) let a thief hold a
    revocation off for as long as it kept one write under way: PostgreSQL lets a FOR SHARE join
    a row's share holders ahead of a FOR UPDATE waiting for them, so every write started while
    the revocation waited was one more to wait for. The lock manager refuses a shared request
    while an exclusive one waits, so no write starts meanwhile: a write takes the lock only if
    it is free of a revocation (`pg_try_advisory_xact_lock_shared`), else raises `LostRace`,
    which `app.transient` runs again a few times and then answers 503 with Retry-After (a retry
    after the revocation's commit gets its 401). Waiting for the revocation instead, each such
    write held one of its server's request slots (`app.database.REQUEST_SLOTS`, 4) as long as
    the writes under way ran: one slow write of a key and three more sent while it was revoked
    stalled every request of every organisation on that server
    (tests/concurrency/test_key_races.py)."""
    hold_writes_lock(connection, lock, exclusive=exclusive, ending="the key's revocation")
