"""The minutes (besluitenlijst) of a meeting as the API returns them: one model per view."""

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.agenda.models import AgendaView, CorporationOpenProposalOut, OpenProposalOut


class MinutesDecisionOut(BaseModel):
    """A decision on a proposal of the meeting, or (`follow_up`) one recorded in the minutes'
    period on a proposal of an earlier meeting."""

    id: uuid.UUID
    proposal_id: uuid.UUID
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    vacancy_ref: str
    decision: str
    from_status: str
    to_status: str
    reason: str | None
    automatic: bool
    actor_organisation_id: uuid.UUID
    at: dt.datetime
    proposal_meeting_date: dt.date | None = Field(
        default=None,
        description="The day of the meeting that made the proposal (null in minutes marked "
        "final before this field existed).",
    )
    follow_up: bool = Field(
        default=False,
        description="A decision on a proposal of an earlier meeting, recorded in this meeting's "
        "period (it is in that meeting's minutes too, unless they were final by then).",
    )


class MinutesActionOut(BaseModel):
    """An action handed out at the meeting (or at the table in the minutes' period)."""

    id: uuid.UUID
    kind: str
    owner_organisation_id: uuid.UUID
    case_id: uuid.UUID | None = Field(description="Null for a corporation.")
    due_date: dt.date
    status: str = Field(description="Its status when the minutes were read or marked final.")
    overdue: bool


class _MinutesHead(BaseModel):
    meeting_id: uuid.UUID
    table_id: uuid.UUID
    date: dt.date
    period_end: dt.date | None = Field(
        description="The next meeting's date: decisions from `date` until the day before it "
        "(null: no later meeting yet, so until now)."
    )
    final: bool = Field(description="Marked final by the chair: frozen as they were then.")
    final_at: dt.datetime | None
    generated_at: dt.datetime
    decisions: list[MinutesDecisionOut] = Field(description="Oldest first.")
    actions: list[MinutesActionOut]


class TableMinutes(_MinutesHead):
    """The chair's and municipality members' minutes: everything."""

    view: Literal[AgendaView.table]
    open_proposals: list[OpenProposalOut]


class CareProviderMinutes(_MinutesHead):
    """A care provider's minutes: decisions and open proposals of its own cases, its own
    actions and those on its own cases."""

    view: Literal[AgendaView.care_provider]
    open_proposals: list[OpenProposalOut]


class CorporationMinutes(_MinutesHead):
    """A corporation's minutes: decisions and open proposals of its own dwellings (no score),
    its own actions without the case."""

    model_config = ConfigDict(extra="forbid")

    view: Literal[AgendaView.housing_corporation]
    open_proposals: list[CorporationOpenProposalOut]


Minutes = Annotated[
    TableMinutes | CareProviderMinutes | CorporationMinutes, Field(discriminator="view")
]
MINUTES: TypeAdapter[Minutes] = TypeAdapter(Minutes)
