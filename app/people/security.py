"""Passwords (argon2id), session tokens and the CSRF token derived from them."""

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults: argon2id, RFC 9106's low-memory profile (64 MiB, 3 passes).
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both cases take the same time: the hash of a
# random password nobody kept, with the hasher's parameters (tests/people/test_security.py
# checks they still are). Hashing one at import took 0.35 s of every process's start-up.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$en6lnnYfFzFhSukvOIsYAA"
    "$3KbsXjc6GPrUS0Swez8StgRKj05nwqpu1I3JTcQZyoE"
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash it spends the same time and says False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_password() -> str:
    """A generated password for a new account: 16 characters from 96 random bits."""
    return secrets.token_urlsafe(12)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Session tokens carry 256 random bits, so SHA-256 suffices (as for API keys)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The per-session CSRF token: derived from the session token, never stored, and useless
    for recovering the session token from a page."""
    return hmac.new(session_token.encode(), b"uitstroomtafel-csrf", hashlib.sha256).hexdigest()


def tokens_match(given: str | None, expected: str) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def subject_hash(kind: str, value: str) -> str:
    """`email:<sha256>` or `addr:<sha256>`: throttle rows hold no email or address in clear."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"
