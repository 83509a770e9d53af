"""Outflow tables (one per region): members, chair, municipalities covered and policy."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, field_validator
from pydantic import Field as PField
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.ids import Id, uuid7
from app.null_fields import RefusesNull
from app.organisations.models import OrganisationKind
from app.schemas import ApiModel, MunicipalityCode, Name, Page
from app.sqltypes import UTCDateTime, utcnow
from app.tables.policy import TablePolicy, TablePolicyPatch
from app.versioning import Versioned, updated_at_field


class OutflowTable(Versioned, SQLModel, table=True):
    __tablename__ = "outflow_tables"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    chair_organisation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    policy: dict[str, Any] = Field(sa_type=JSON)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()


class TableMember(SQLModel, table=True):
    __tablename__ = "table_members"

    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True, index=True)


class TableMunicipality(SQLModel, table=True):
    """A municipality belongs to at most one table, so a vacancy's table is never ambiguous."""

    __tablename__ = "table_municipalities"

    municipality_code: str = Field(primary_key=True, max_length=6)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)


# `_unique` refuses a value given twice: the contract says so (`uniqueItems`).
MunicipalityCodes = Annotated[
    list[MunicipalityCode],
    PField(min_length=1, max_length=500, json_schema_extra={"uniqueItems": True}),
]
MemberIds = Annotated[list[Id], PField(max_length=500, json_schema_extra={"uniqueItems": True})]


def _unique(values: list[Any] | None) -> list[Any] | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class TableCreate(ApiModel):
    name: Name = PField(
        description="The table's name, unique (e.g. the region: `Uitstroomtafel Utrecht`)."
    )
    municipality_codes: MunicipalityCodes = PField(
        description=(
            "CBS codes (`GM` and four digits) of the municipalities the table "
            "covers; each belongs to at most one table, and decides which dwellings"
            " it sees."
        )
    )
    chair_organisation_id: Id
    member_organisation_ids: MemberIds = PField(
        default_factory=list, description="Members; the chair is always a member too."
    )
    policy: TablePolicy = PField(
        default_factory=TablePolicy,
        description="The allocation policy (defaults from the domain rules when left out).",
    )

    _unique_codes = field_validator("municipality_codes", "member_organisation_ids")(_unique)


class TableUpdate(ApiModel, RefusesNull):
    """Operator: any field. Chair: `policy` only. Omitted fields keep their value."""

    name: Name | None = PField(default=None, description="New name (unique); leave out to keep it.")
    municipality_codes: MunicipalityCodes | None = PField(
        default=None,
        description="Replaces the municipalities covered (CBS `GM` codes); leave out to keep them.",
    )
    chair_organisation_id: Id | None = None
    member_organisation_ids: MemberIds | None = PField(
        default=None,
        description=(
            "Replaces the member organisations (the chair stays a member); leave out to keep them."
        ),
    )
    policy: TablePolicyPatch | None = PField(
        default=None, description="Policy fields to change; the others are kept."
    )

    _unique_codes = field_validator("municipality_codes", "member_organisation_ids")(_unique)


class TableMemberPublic(BaseModel):
    id: uuid.UUID
    name: str = PField(description="The member organisation's name.")
    kind: OrganisationKind = PField(
        description="`municipality`, `care_provider` or `housing_corporation`."
    )


class TablePublic(BaseModel):
    id: uuid.UUID
    name: str = PField(description="The table's name.")
    municipality_codes: list[str] = PField(
        description="CBS codes of the municipalities the table covers."
    )
    chair_organisation_id: uuid.UUID
    member_organisation_ids: list[uuid.UUID] = PField(
        description="Ids of the member organisations, the chair included."
    )
    members: list[TableMemberPublic] = PField(
        description="The member organisations with name and kind."
    )
    policy: TablePolicy = PField(description="The table's current allocation policy.")
    version: int
    created_at: datetime
    updated_at: datetime


class TablePage(Page[TablePublic]):
    pass
