"""Advisory lock numbers (`app.database.lock_number`): each purpose's number for a key is fixed
across server versions, a signed 64-bit integer, and one key's purposes do not share it."""

import hashlib
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.database import (
    CASE_IMPORTS,
    KEY_REVOCATION,
    KEY_WRITES,
    SESSION_WRITES,
    WEBHOOK_CLAIMS,
    lock_number,
)
from app.imports.service import hold_case_imports
from app.organisations.service import _hold_revocation, hold_key_writes, key_writes_lock
from app.people.service import hold_session_writes
from app.webhooks.outbox import _claims_lock

DIGEST = hashlib.sha256(b"uitstroom").digest()
TOKEN_DIGEST = hashlib.sha256(b"token").digest()
ORGANISATION = uuid.UUID("00000000-0000-0000-0000-000000000001")

# The numbers each purpose takes for the keys above, as every server version since the lock
# came in took them (the SHA-256 windows and the BLAKE2b of `WEBHOOK_CLAIMS` by hand, before
# `lock_number`). Servers of two versions run side by side during a rolling deploy: a lock
# serves only if both take the same number, so a change of these is a change of the locks'
# numbers, which needs a deploy that stops every old server first.
PINNED = {
    (KEY_WRITES, DIGEST): 4971621851293633218,
    (KEY_REVOCATION, DIGEST): -4931062291837030668,
    (SESSION_WRITES, DIGEST): 4971621851293633218,
    (SESSION_WRITES, TOKEN_DIGEST): 4343333289610212819,
    (WEBHOOK_CLAIMS, ORGANISATION.bytes): 7470762316596289742,
    (CASE_IMPORTS, ORGANISATION.bytes): -1889126635919618480,
}

INT64 = range(-(2**63), 2**63)


@pytest.mark.parametrize(
    ("purpose", "key"), list(PINNED), ids=[f"{p}-{k[:2].hex()}" for p, k in PINNED]
)
def test_a_lock_number_is_the_one_every_server_version_takes(purpose: str, key: bytes) -> None:
    assert lock_number(purpose, key) == PINNED[purpose, key]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (bytes(32), 0),
        (b"\xff" * 32, -1),
        (b"\x7f" + b"\xff" * 31, 2**63 - 1),
        (b"\x80" + bytes(31), -(2**63)),
    ],
    ids=["zero", "minus-one", "max", "min"],
)
def test_a_digests_lock_number_spans_postgresqls_bigint_and_no_more(
    key: bytes, expected: int
) -> None:
    assert lock_number(KEY_WRITES, key) == expected


@pytest.mark.parametrize("purpose", [WEBHOOK_CLAIMS, "any-other"])
def test_a_hashed_lock_number_is_a_signed_64_bit_integer(purpose: str) -> None:
    numbers = {lock_number(purpose, uuid.UUID(int=n).bytes) for n in range(512)}
    assert all(number in INT64 for number in numbers)
    assert len(numbers) == 512
    assert min(numbers) < 0 < max(numbers)  # the sign bit is used, not wasted


def test_one_key_gives_each_purpose_its_own_lock_number() -> None:
    # A key's writes and a session's writes read the same window of a digest (their numbers are
    # pinned above); their keys are digests of different secrets, an API key and a session token.
    purposes = [KEY_WRITES, KEY_REVOCATION, WEBHOOK_CLAIMS, CASE_IMPORTS, "any-other", "another"]
    assert len({lock_number(purpose, DIGEST) for purpose in purposes}) == len(purposes)


def test_a_digests_lock_is_refused_anything_but_a_sha256_digest() -> None:
    with pytest.raises(ValueError, match="SHA-256 digest"):
        lock_number(SESSION_WRITES, DIGEST.hex().encode())


def test_the_services_locks_are_taken_under_their_pinned_numbers(session: Session) -> None:
    """What each caller hands `lock_number` is part of the number: a key's hash as text, not
    its bytes, would change every number as much as a new formula."""
    assert _claims_lock(ORGANISATION) == PINNED[WEBHOOK_CLAIMS, ORGANISATION.bytes]
    assert key_writes_lock(DIGEST.hex()) == PINNED[KEY_WRITES, DIGEST]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: it takes no advisory locks")
    _hold_revocation(connection, DIGEST.hex(), queue=True)
    hold_key_writes(connection, key_writes_lock(DIGEST.hex()), exclusive=True)
    hold_session_writes(connection, TOKEN_DIGEST.hex(), exclusive=True)
    hold_case_imports(session, ORGANISATION)
    held = connection.execute(
        text(
            "SELECT (classid::bigint << 32 | objid::bigint) FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1 AND pid = pg_backend_pid()"
        )
    ).scalars()
    assert {number if number < 2**63 else number - 2**64 for number in held} == {
        PINNED[KEY_REVOCATION, DIGEST],
        PINNED[KEY_WRITES, DIGEST],
        PINNED[SESSION_WRITES, TOKEN_DIGEST],
        PINNED[CASE_IMPORTS, ORGANISATION.bytes],
    }
