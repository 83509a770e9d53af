"""Organisations taking part in outflow tables, and their API keys."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from app.ids import uuid7
from app.schemas import ApiModel, Name, Page
from app.sqltypes import UTCDateTime, utcnow


class OrganisationKind(StrEnum):
    municipality = "municipality"
    care_provider = "care_provider"
    housing_corporation = "housing_corporation"


class KeyIssuer(StrEnum):
    """Who issued an API key. The operator can issue a key for any organisation (that is how
    one starts), and the key then acts as that organisation: its organisation sees so."""

    operator = "operator"  # the API with the operator's admin key
    organisation = "organisation"  # the API with one of the organisation's own keys
    command_line = "command_line"  # `uitstroomtafel create-key` (or the demo) on the server


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrganisationCreate(ApiModel):
    name: Name = Field(description="The organisation's name (at most 200 characters).")
    kind: OrganisationKind = Field(
        description=(
            "`municipality` (gemeente), `care_provider` (zorgaanbieder) or "
            "`housing_corporation` (woningcorporatie); decides what it may do and "
            "see."
        )
    )


class OrganisationPublic(BaseModel):
    id: uuid.UUID
    name: str = Field(description="The organisation's name.")
    kind: OrganisationKind = Field(
        description="`municipality`, `care_provider` or `housing_corporation`."
    )
    created_at: datetime


class OrganisationPage(Page[OrganisationPublic]):
    pass


class ApiKey(SQLModel, table=True):
    """An API key; only its SHA-256 hash is stored, the key itself is shown once."""

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    label: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Null for keys issued before it was recorded (migration 0028).
    issued_by: str | None = Field(default=None, max_length=16)


class ApiKeyCreate(ApiModel):
    label: Name = Field(
        description="A name for the key, to recognise it later (e.g. the system that uses it)."
    )


class ApiKeyPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    label: str = Field(description="The key's name.")
    prefix: str = Field(
        description=(
            "The key's first characters, to recognise it; the key itself is never shown again."
        )
    )
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When the key was last used (UTC); null when never."
    )
    revoked_at: datetime | None = Field(
        description="When the key was revoked (UTC); null while it works."
    )
    issued_by: KeyIssuer | None = Field(
        description=(
            "Who issued the key: `operator` (the service's operator, with its admin key), "
            "`organisation` (the organisation itself, with one of its keys) or "
            "`command_line` (`uitstroomtafel create-key` on the server); null for keys "
            "issued before this was recorded."
        )
    )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(
        description=(
            "The API key, shown only in this answer: send it as `Authorization: Bearer <key>`."
        )
    )


class ApiKeyPage(Page[ApiKeyPublic]):
    pass
