"""People who sign in to the pages: accounts per organisation, their sessions, and the
per-email and per-address counters of failed sign-ins."""

import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic import Field as PField
from pydantic_core import PydanticCustomError
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.ids import uuid7
from app.null_fields import RefusesNull
from app.problems import PATTERN_REASONS
from app.schemas import INVISIBLE, NOT_IN_LINE, ApiModel, JsonBool, Name, Page
from app.sqltypes import UTCDateTime, utcnow
from app.versioning import Versioned, updated_at_field

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
PASSWORD_LENGTH_REASON = f"Should be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long"
"""The reason a password of the wrong length is refused for, in the API's `invalidParams` and
on the command line alike, in the words of the refusal of a control character."""


class PersonRole(StrEnum):
    """What a person may do on top of what their organisation may: read only, record, chair."""

    chair = "chair"
    member = "member"
    viewer = "viewer"

    @property
    def rank(self) -> int:
        """viewer < member < chair: an admin grants and manages roles up to their own."""
        return (PersonRole.viewer, PersonRole.member, PersonRole.chair).index(self)


class Person(Versioned, SQLModel, table=True):
    __tablename__ = "people"
    # A viewer reads only, so it cannot be the admin who manages people (a write).
    # An email is unique per organisation, not across them: a refusal across organisations
    # would tell one organisation who has an account at another (sign-in handles the rest).
    __table_args__ = (
        CheckConstraint("NOT (role = 'viewer' AND is_admin)", name="viewer_not_admin"),
        UniqueConstraint("organisation_id", "email"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    email: str = Field(max_length=254, index=True, description="Login name, lower case.")
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    is_admin: bool = Field(
        default=False, description="Manages the people of its organisation (not for a viewer)."
    )
    password_hash: str = Field(max_length=255)
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "person_sessions"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="people.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, description="Absolute end of the session.")


class PersonChangeKind(StrEnum):
    """What changed in an account: made, renamed, its role, admin flag, access or password."""

    created = "created"
    display_name = "display_name"
    role = "role"
    is_admin = "is_admin"
    active = "active"
    password = "password"


class PersonChange(SQLModel, table=True):
    """One change to a person's account, who made it and through which endpoint: the trail
    an organisation needs when one admin gave a colleague a new password, or took away their
    access. Append-only (the database refuses UPDATE and DELETE, as for the access log); it
    holds codes and ids, never a name or a password."""

    __tablename__ = "person_changes"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    person_id: uuid.UUID = Field(foreign_key="people.id", index=True)
    change: str = Field(max_length=16)
    value: str | None = Field(default=None, max_length=16)
    by_organisation_id: uuid.UUID | None = Field(
        default=None, description="Null for the operator or the command line."
    )
    by_api_key_id: uuid.UUID | None = None
    by_person_id: uuid.UUID | None = None
    endpoint: str = Field(max_length=200)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins in a row per email (hashed, whether or not such a person exists, so the
    lock-out tells nothing about who has an account) and per client address."""

    __tablename__ = "sign_in_throttle"

    subject: str = Field(primary_key=True, max_length=80, description="`email:` or `addr:` hash.")
    failures: int = 0
    window_started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


# No whitespace and no control characters: a NUL byte reached PostgreSQL (a 500, and SQLite
# stored it), and other control characters were stored in the login name. No bidirectional
# formatting either, which shows a login name reversed on the people page (as `SINGLE_LINE`),
# and no character that shows nothing: "pi\u200bet@..." reads as another's login name. No
# character a mail header reads as structure either (RFC 5322 specials but the dot): the
# notices of "x<y@z.nl>" would go to y@z.nl, so such a name gets no mail (`app.mail.compose`).
# (The quote is outside the raw string: `\"` is no escape in ECMA-262's unicode mode.)
EMAIL_PART = rf"[^@\s{NOT_IN_LINE}{INVISIBLE}<>(),;:\\\[\]" + '"]+'
EMAIL_PATTERN = rf"^{EMAIL_PART}@{EMAIL_PART}\.{EMAIL_PART}$"
PATTERN_REASONS[EMAIL_PATTERN] = (
    "Should be an email address such as name@example.nl: one @, a dot in the part after it, "
    'and no spaces, control or invisible characters, or any of < > ( ) , ; : \\ [ ] "'
)
PASSWORD_PATTERN = r"^[^\x00-\x1f\x7f]*$"
PATTERN_REASONS[PASSWORD_PATTERN] = "Should hold no control characters (a tab or a new line)"


def normalise_email(email: str) -> str:
    """The login name as stored and compared: stripped, full-width and half-width letters and
    digits mapped to their ordinary ones, lower case, and NFC (as RFC 8265's UsernameCaseMapped,
    with Python's lower case). 'é' typed as one code point or as 'e' and a combining accent, or
    a full-width 'p' and a 'p', read alike: they made two accounts with one login name to a
    person, and the one not typed at creation was refused at sign-in."""
    mapped = "".join(
        unicodedata.normalize("NFKC", ch) if ch.isalnum() and "\uff00" <= ch <= "\uffef" else ch
        for ch in email.strip()
    )
    return unicodedata.normalize("NFC", mapped.lower())


def _normalised(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


# Normalised first (`BeforeValidator`), so the pattern and the length hold for what is stored:
# 'İ' is two code points in lower case (250 made a 500 on PostgreSQL's column of 254). Only
# letters and digits are width-mapped: a full-width at sign mapped to '@' would make a name the
# contract's pattern refuses valid.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=254,
        pattern=EMAIL_PATTERN,
    ),
    BeforeValidator(_normalised),  # runs before the constraints above: they check its result
    PField(description="The login name; compared without regard to case.", examples=["a@b.nl"]),
]


def _length_in_own_words(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    """The constraints' refusal of a password too short or too long with `PASSWORD_LENGTH_REASON`
    (its type and context kept): the API said pydantic's "String should have at least 12
    characters" where `create-person` and the refusal of a control character say the rule in
    the project's words."""
    try:
        return handler(value)
    except ValidationError as refused:
        (error, *_) = refused.errors()
        if error["type"] not in ("string_too_short", "string_too_long"):
            raise
        raise PydanticCustomError(
            error["type"], PASSWORD_LENGTH_REASON, dict(error.get("ctx") or {})
        ) from None


Password = Annotated[
    str,
    StringConstraints(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        pattern=PASSWORD_PATTERN,
    ),
    WrapValidator(_length_in_own_words),  # around the constraints above
    PField(description=f"At least {PASSWORD_MIN_LENGTH} characters; stored as an argon2 hash."),
]


class PersonCreate(ApiModel):
    email: Email
    display_name: Name = PField(
        description="The person's name as shown on the pages (at most 200 characters)."
    )
    role: PersonRole = PField(
        default=PersonRole.member,
        description=(
            "What the person may do on the pages: `viewer` (read only), `member` "
            "(record; default) or `chair` (chair the table); at most the admin's "
            "own role."
        ),
    )
    is_admin: JsonBool = PField(
        default=False,
        description="The person may manage the people of their own organisation (default false).",
    )
    password: Password | None = PField(
        None, description="Omit it to have one generated and shown once in the answer."
    )


class PersonUpdate(ApiModel, RefusesNull):
    """Omitted fields keep their value. A new `password` ends the person's sessions and lifts a
    lock-out for this account; `active: false` ends them too and refuses further sign-ins."""

    display_name: Name | None = PField(
        default=None, description="New display name; leave out to keep it."
    )
    role: PersonRole | None = PField(
        default=None,
        description=(
            "New role (`viewer`, `member` or `chair`, at most the admin's own); "
            "leave out to keep it."
        ),
    )
    is_admin: JsonBool | None = PField(
        default=None,
        description="Grant or take away managing the organisation's people; leave out to keep it.",
    )
    active: JsonBool | None = PField(
        default=None,
        description=(
            "`false` deactivates the person (sessions end, sign-in refused); `true` reactivates."
        ),
    )
    password: Password | None = PField(
        default=None,
        description=(
            "A new password (ends the person's sessions and lifts a lock-out of the email for "
            "this account; an account with the email in another organisation stays locked); "
            "leave out to keep it."
        ),
    )


class PersonPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    email: str = PField(
        description="The person's e-mail address, used to sign in: stored and compared in one "
        "form (lower case, Unicode NFC, full-width letters and digits as ordinary ones)."
    )
    display_name: str = PField(description="The person's name as shown on the pages.")
    role: PersonRole = PField(description="`viewer`, `member` or `chair`.")
    is_admin: bool = PField(description="The person manages their organisation's people.")
    active: bool = PField(description="False when deactivated: no sign-in.")
    locked_until: datetime | None = PField(
        description="Set while sign-in is locked after repeated failures."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    last_sign_in_at: datetime | None = PField(
        description="The last successful sign-in (UTC); null when never."
    )


class PersonCreated(PersonPublic):
    initial_password: str | None = PField(
        description="The generated password, shown only in this answer (null when one was given)."
    )


class PersonPage(Page[PersonPublic]):
    pass


class PersonChangePublic(BaseModel):
    id: uuid.UUID
    at: datetime
    change: PersonChangeKind = PField(
        description="What changed: `created`, `display_name`, `role`, `is_admin`, `active` or "
        "`password`."
    )
    value: str | None = PField(
        description="The new value of `role` (`viewer`, `member`, `chair`; also with "
        "`created`), `is_admin` and `active` (`true`, `false`); for `password` how it was "
        "made: `generated` (shown once to whoever made it) or `given` (typed or sent by "
        "whoever changed it); null for `display_name` (names are not kept here)."
    )
    by_organisation_id: uuid.UUID | None = PField(
        description="The organisation that made the change (the person's own); null for the "
        "operator or the command line."
    )
    by_api_key_id: uuid.UUID | None = PField(
        description="The organisation's API key that made the change; null when a person did "
        "on the pages, and for the operator's keys but to the operator."
    )
    by_person_id: uuid.UUID | None = PField(
        description="The person who made the change on the pages (the person themselves for "
        "their own new password); null for an API key or the command line."
    )
    endpoint: str = PField(
        description="The method and route template, e.g. `PATCH "
        "/v1/organizations/{organisation_id}/people/{person_id}` or `POST /mensen`; `CLI "
        "create-person` for the command line."
    )


class PersonChangePage(Page[PersonChangePublic]):
    pass
