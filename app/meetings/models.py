"""Weekly meetings of a table; publishing freezes the agenda into a snapshot."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic import Field as PField
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.agenda.models import CareProviderAgenda, CorporationAgenda, TableAgenda
from app.ids import uuid7
from app.schemas import ApiModel, Date, Page
from app.sqltypes import StatusType, UTCDateTime, one_of, utcnow
from app.versioning import Versioned, updated_at_field


class MeetingStatus(StrEnum):
    draft = "draft"
    published = "published"


class Meeting(Versioned, SQLModel, table=True):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("table_id", "date"), one_of("status", MeetingStatus))

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    date: date
    status: MeetingStatus = Field(
        default=MeetingStatus.draft, sa_type=StatusType(MeetingStatus, 16)
    )
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by_organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="organisations.id"
    )
    snapshot: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    minutes: dict[str, Any] | None = Field(
        default=None, sa_type=JSON, description="The minutes as marked final (then frozen)."
    )
    minutes_final_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    minutes_final_by_organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="organisations.id"
    )
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()


class MeetingCreate(ApiModel):
    date: Date


class MeetingPublic(BaseModel):
    id: uuid.UUID
    table_id: uuid.UUID
    date: date
    status: MeetingStatus = PField(
        description="`draft` (its agenda is computed live) or `published` (frozen)."
    )
    published_at: datetime | None = PField(
        description="When the agenda was published and frozen (UTC); null for a draft."
    )
    published_by_organisation_id: uuid.UUID | None = PField(
        description="The chair organisation that published it; null for a draft."
    )
    proposals: int | None = PField(
        description=(
            "Proposals made when the agenda was published. For a care provider or corporation "
            "null when those not its own (of its cases, of its dwellings) number 1 to 4, as the "
            "agenda's `summary.people_housed` is."
        )
    )
    version: int
    created_at: datetime
    updated_at: datetime


class MeetingPage(Page[MeetingPublic]):
    pass


class ChangeKind(StrEnum):
    updated = "updated"
    added = "added"


class SnapshotChange(BaseModel):
    """A case or dwelling that changed (or appeared) after the agenda was frozen."""

    subject: str = PField(description="`case` or `vacancy`.")
    id: uuid.UUID
    change: ChangeKind = PField(
        description="`updated` (changed since the agenda was frozen) or `added` (new since then)."
    )
    status: str = PField(description="Its status now.")
    version_then: int | None = PField(
        description="Its version in the frozen agenda; null when `added`."
    )
    version_now: int = PField(description="Its version now.")


class _MeetingPart(BaseModel):
    meeting_id: uuid.UUID
    frozen: bool = PField(description="True once published: the snapshot everyone discusses.")
    changes: list[SnapshotChange] = PField(
        description="Differences against the snapshot since publication (for a care provider "
        "its own cases, for a corporation its own dwellings)."
    )


class MeetingTableAgenda(TableAgenda, _MeetingPart):
    pass


class MeetingCareProviderAgenda(CareProviderAgenda, _MeetingPart):
    pass


class MeetingCorporationAgenda(CorporationAgenda, _MeetingPart):
    pass


MeetingAgenda = Annotated[
    MeetingTableAgenda | MeetingCareProviderAgenda | MeetingCorporationAgenda,
    PField(discriminator="view"),
]
"""A meeting's agenda as its caller may see it: one model per `view`."""
MEETING_AGENDA: TypeAdapter[MeetingAgenda] = TypeAdapter(MeetingAgenda)
