"""The names of CBS area codes: `GM0344` is Utrecht.

Two sources: `area_names`, the CBS list loaded by the operator (`uitstroomtafel areas load`),
and `table_area_names`, names a table's chair gives to codes that list lacks (a new
neighbourhood, or no list loaded yet). A CBS name wins over a table's.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from app.schemas import ApiModel, AreaCode, Text
from app.sqltypes import UTCDateTime, one_of, utcnow
from app.versioning import Versioned, updated_at_field


class AreaKind(StrEnum):
    municipality = "municipality"
    district = "district"
    neighbourhood = "neighbourhood"


CODE_PREFIXES = {"GM": AreaKind.municipality, "WK": AreaKind.district, "BU": AreaKind.neighbourhood}


def kind_of(code: str) -> AreaKind:
    """The kind of area a CBS code names, by its prefix (GM, WK, BU)."""
    return CODE_PREFIXES[code[:2]]


class AreaName(SQLModel, table=True):
    """One area of the CBS list, as loaded; `source` says which file (e.g. its name and year)."""

    __tablename__ = "area_names"
    __table_args__ = (one_of("kind", AreaKind),)

    code: str = Field(primary_key=True, max_length=10)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=200)
    source: str = Field(max_length=200)
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TableAreaName(Versioned, SQLModel, table=True):
    """A name the table's chair gave to a code, for the table's own pages and exports.
    Versioned: a `PUT` with `If-Match` does not replace a name given meanwhile."""

    __tablename__ = "table_area_names"

    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", primary_key=True)
    code: str = Field(primary_key=True, max_length=10)
    name: str = Field(max_length=200)
    named_by_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    version: int = 1
    updated_at: datetime = updated_at_field()


class AreaNameIn(ApiModel):
    name: Annotated[str, Text(200)] = PField(
        examples=["Lombok-West"],
        description="The name the table gives the area code (at most 200 characters).",
    )


class AreaNamePublic(BaseModel):
    code: str = PField(
        description="The CBS area code: `GM` municipality, `WK` district or `BU` neighbourhood."
    )
    kind: AreaKind = PField(
        description="`municipality`, `district` or `neighbourhood`, from the code's prefix."
    )
    name: str | None = PField(description="Null when neither CBS nor the table names the code.")
    source: str | None = PField(
        description="`cbs` (the loaded CBS list), `table` (named by the chair), or null."
    )
    version: int | None = PField(
        None,
        description='The version of the table\'s name (the ETag, `"2"`), for `If-Match` on the '
        "PUT; null where the table named none (`If-None-Match: *` names it only then).",
    )


class AreaNameList(BaseModel):
    items: list[AreaNamePublic]


AreaCodeParam = AreaCode
