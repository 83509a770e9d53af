"""The minutes (besluitenlijst) of a meeting as the API returns them: one model per view."""

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.actions.models import ACTION_KIND_DESCRIPTION
from app.aftercare.models import AftercareItemOut, CorporationAftercareItemOut
from app.agenda.models import AgendaView, CorporationOpenProposalOut, OpenProposalOut


class MinutesDecisionOut(BaseModel):
    """A decision on a proposal of the meeting, or (`follow_up`) one recorded in the minutes'
    period on a proposal of an earlier meeting."""

    id: uuid.UUID
    proposal_id: uuid.UUID
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    vacancy_ref: str = Field(description="The corporation's reference of the dwelling.")
    decision: str = Field(
        description="The decision (e.g. `nominate`, `corporation_decline`, `house`)."
    )
    from_status: str
    to_status: str
    reason: str | None = Field(
        description="The decline or withdrawal reason; null for other decisions."
    )
    automatic: bool = Field(
        description="The service closed the proposal itself (not a decline of the pair)."
    )
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
    kind: str = Field(description=ACTION_KIND_DESCRIPTION)
    owner_organisation_id: uuid.UUID
    case_id: uuid.UUID | None = Field(description="Null for a corporation.")
    due_date: dt.date
    status: str = Field(description="Its status when the minutes were read or marked final.")
    overdue: bool = Field(description="Still open after its `due_date`.")


AFTERCARE = (
    "The aftercare section of the meeting's agenda (due and overdue checkpoints, signals, "
    "overdue transfers), as the published agenda froze it, or as it stands for the meeting's "
    "date before publication; cut to the caller's view. Null for an agenda published before "
    "agendas had the section."
)


class _MinutesHead(BaseModel):
    meeting_id: uuid.UUID
    table_id: uuid.UUID
    date: dt.date
    period_end: dt.date | None = Field(
        description="The next meeting's date: decisions from `date` until the day before it "
        "(null: no later meeting yet, so until now). A meeting whose day passed unpublished "
        "(skipped, or moved to another day) ends no period."
    )
    final: bool = Field(description="Marked final by the chair: frozen as they were then.")
    final_at: dt.datetime | None = Field(
        description="When the chair marked them final (UTC); null while not final."
    )
    generated_at: dt.datetime
    decisions: list[MinutesDecisionOut] = Field(description="Oldest first.")
    actions: list[MinutesActionOut] = Field(
        description="Actions handed out at the meeting or in its period."
    )


class TableMinutes(_MinutesHead):
    """The chair's and municipality members' minutes: everything."""

    view: Literal[AgendaView.table] = Field(description="Which view this is: `table` (everything).")
    open_proposals: list[OpenProposalOut] = Field(
        description="Proposals still open at the end of the period, with days in status."
    )
    aftercare: list[AftercareItemOut] | None = Field(default=None, description=AFTERCARE)


class CareProviderMinutes(_MinutesHead):
    """A care provider's minutes: decisions and open proposals of its own cases, its own
    actions and those on its own cases."""

    view: Literal[AgendaView.care_provider] = Field(
        description="Which view this is: `care_provider` (its own cases)."
    )
    open_proposals: list[OpenProposalOut] = Field(description="Open proposals of its own cases.")
    aftercare: list[AftercareItemOut] | None = Field(
        default=None, description=AFTERCARE + " Its own cases only."
    )


class CorporationMinutes(_MinutesHead):
    """A corporation's minutes: decisions and open proposals of its own dwellings (no score),
    its own actions without the case."""

    model_config = ConfigDict(extra="forbid")

    view: Literal[AgendaView.housing_corporation] = Field(
        description="Which view this is: `housing_corporation` (its own dwellings, no score)."
    )
    open_proposals: list[CorporationOpenProposalOut] = Field(
        description="Open proposals of its own dwellings, without score."
    )
    aftercare: list[CorporationAftercareItemOut] | None = Field(
        default=None,
        description=AFTERCARE + " Its own tenants' landlord signals and overdue transfers only.",
    )


Minutes = Annotated[
    TableMinutes | CareProviderMinutes | CorporationMinutes, Field(discriminator="view")
]
MINUTES: TypeAdapter[Minutes] = TypeAdapter(Minutes)
