"""The append-only log of every access to a case file (NEN 7513 style).

It records what, when, which case, which key or person and on whose behalf, never the case
data itself; UPDATE and DELETE are refused by database triggers (see the migration).
"""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from app.ids import uuid7
from app.schemas import Page
from app.sqltypes import UTCDateTime, utcnow


class AccessAction(StrEnum):
    create = "create"
    read = "read"
    list = "list"
    update = "update"
    status_change = "status_change"
    history = "history"
    agenda = "agenda"
    why_not = "why_not"
    profile = "profile"
    timeline = "timeline"
    monitor_export = "monitor_export"
    proposal = "proposal"  # a proposal of the case (its ids, status, decisions, score) was shown
    decision = "decision"  # a decision on the case's proposal was recorded
    action = "action"  # a follow-up action about the case was shown, created or changed
    aftercare = "aftercare"  # the case's tenancy, aftercare agreement or checkpoints
    notification = "notification"  # a webhook naming the case was queued for the organisation


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(max_length=32)
    case_id: uuid.UUID | None = Field(
        default=None, index=True, description="Null for exports of aggregate figures."
    )
    table_id: uuid.UUID = Field(index=True)
    organisation_id: uuid.UUID = Field(description="On whose behalf the access happened.")
    api_key_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    endpoint: str = Field(max_length=200)


class AccessLogEntryPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    action: AccessAction = Field(
        description=(
            "What was done: `create`, `read`, `list`, `update`, `status_change`, "
            "`history`, `agenda`, `why_not`, `profile`, ... (NEN 7513 logging)."
        )
    )
    case_id: uuid.UUID | None
    organisation_id: uuid.UUID
    organisation_name: str = Field(
        description="The organisation's name, also of one that has left the table since."
    )
    api_key_id: uuid.UUID | None = Field(
        description="The API key used; in a case's log for its care provider null for another "
        "organisation's entries."
    )
    person_id: uuid.UUID | None = Field(
        description="The person who did it on the pages; null for an API key, and in a case's "
        "log for its care provider for another organisation's entries."
    )
    endpoint: str = Field(
        description=(
            "The method and route template (no query, no ids), e.g. `GET /v1/cases/{case_id}`."
        )
    )


class AccessLogPage(Page[AccessLogEntryPublic]):
    pass
