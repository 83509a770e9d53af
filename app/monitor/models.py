"""Monitor (Zicht op uitstroom): contingent agreements, and the shapes of the figures."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from app.schemas import ApiModel
from app.versioning import updated_at_field


class ContingentAgreement(SQLModel, table=True):
    """How many dwellings a corporation agreed to let to outflow under the contingent in a year."""

    __tablename__ = "contingent_agreements"

    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", primary_key=True)
    corporation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    agreed: int
    updated_by_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    updated_at: datetime = updated_at_field()


class ContingentAgreementIn(ApiModel):
    agreed: int = PField(ge=0, le=100_000, description="Dwellings agreed for the year.")


class ContingentAgreementPublic(BaseModel):
    table_id: uuid.UUID
    corporation_id: uuid.UUID
    year: int
    agreed: int
    updated_by_organisation_id: uuid.UUID
    updated_at: datetime


class ContingentAgreementList(BaseModel):
    items: list[ContingentAgreementPublic]


class Period(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


class GroupBy(StrEnum):
    none = "none"
    care_provider = "care_provider"
    corporation = "corporation"
    municipality = "municipality"


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"


# The counts of a FlowRow that flow over a period; `backlog_end` is the stock at its end.
FLOW_MEASURES = (
    "new_ready",
    "housed",
    "housed_own_lease",
    "housed_intermediate_lease",
    "other_exits",
    "returned",
    "withdrawn",
)
HOUSING_MEASURES = ("housed", "housed_own_lease", "housed_intermediate_lease")


class FlowRow(BaseModel):
    """One period (or the whole range) for one group (null: all groups). A null measure is
    suppressed (listed in `suppressed`) or does not apply to the grouping."""

    period: str = PField(description="`2026-01`, `2026-Q1`, `2026`, or `total`.")
    period_start: date
    period_end: date
    group: str | None
    group_name: str | None
    new_ready: int | None
    housed: int | None
    housed_own_lease: int | None
    housed_intermediate_lease: int | None
    other_exits: int | None
    returned: int | None
    withdrawn: int | None
    backlog_end: int | None
    waiting_days_median: float | None
    waiting_days_p90: float | None
    suppressed: list[str]


class HistogramBucket(BaseModel):
    bucket: str
    min_days: int
    max_days: int | None
    count: int | None


class MonitorFlows(BaseModel):
    table_id: uuid.UUID
    start: date
    end: date
    period: Period
    group_by: GroupBy
    suppression: bool = PField(
        description="True when this viewer gets suppressed figures: cells holding 1-4 people "
        "other than its own (and complements) are hidden."
    )
    rows: list[FlowRow]
    totals: list[FlowRow]
    waiting_days_histogram: list[HistogramBucket]
    definitions: dict[str, str]


class PlacementRow(BaseModel):
    neighbourhood_code: str | None
    municipality_code: str | None
    placements: int | None


class MonitorPlacements(BaseModel):
    table_id: uuid.UUID
    start: date
    end: date
    suppression: bool
    rows: list[PlacementRow]
    total: int | None


class ContingentRow(BaseModel):
    corporation_id: uuid.UUID
    corporation_name: str
    agreed: int | None
    realised: int | None
    realised_share: float | None = PField(description="realised / agreed, when both are known.")


class MonitorContingent(BaseModel):
    table_id: uuid.UUID
    year: int
    suppression: bool
    rows: list[ContingentRow]
    total_agreed: int | None
    total_realised: int | None


class BottleneckMeeting(BaseModel):
    meeting_id: uuid.UUID
    date: date
    ready_cases: int | None
    blocked_cases: int | None
    blocked_only_by: dict[str, int | None]


class MonitorBottlenecks(BaseModel):
    table_id: uuid.UUID
    start: date
    end: date
    suppression: bool
    meetings: list[BottleneckMeeting]


class MonitorForecast(BaseModel):
    table_id: uuid.UUID
    date: Annotated[
        date,
        PField(description="The day the forecast is made on: the pace is the year before it."),
    ]
    backlog_now: int | None
    monthly_new_ready: float | None
    monthly_housed: float | None
    monthly_other_exits: float | None
    dwellings_needed_12_months: int | None
    backlog_in_12_months_at_current_pace: int | None
    method: str


SUSTAINMENT_MONTHS = (6, 12, 24)
SIGNAL_CODES = ("rent_arrears", "nuisance", "needs_table", "support_stopped", "not_living_there")


class SustainmentRow(BaseModel):
    """One cohort of move-ins (or `total`). A null count is suppressed; a share is null when
    its counts are, or when no housing of the cohort has reached the mark yet."""

    cohort: str = PField(description="The move-in period: `2026-01`, `2026-Q1`, `2026`, `total`.")
    period_start: date = PField(description="First move-in day of the cohort (in the range).")
    period_end: date = PField(description="Last move-in day of the cohort (in the range).")
    housed: int | None = PField(description="Housings (tenancies) with a move-in in the cohort.")
    reached_6: int | None = PField(description="Housings 6 months or more past their move-in.")
    still_housed_6: int | None = PField(description="Of `reached_6`: still housed at 6 months.")
    share_6: float | None = PField(description="`still_housed_6` / `reached_6` (0-1).")
    reached_12: int | None = PField(description="Housings 12 months or more past their move-in.")
    still_housed_12: int | None = PField(description="Of `reached_12`: still housed at 12 months.")
    share_12: float | None = PField(description="`still_housed_12` / `reached_12` (0-1).")
    reached_24: int | None = PField(description="Housings 24 months or more past their move-in.")
    still_housed_24: int | None = PField(description="Of `reached_24`: still housed at 24 months.")
    share_24: float | None = PField(description="`still_housed_24` / `reached_24` (0-1).")
    transfers_planned: int | None = PField(
        description="Intermediate leases whose planned omklap day is on or before today."
    )
    transfers_realised: int | None = PField(description="Of `transfers_planned`: transferred.")
    transfers_on_time: int | None = PField(
        description="Of `transfers_planned`: transferred on or before the planned day."
    )


class SignalRow(BaseModel):
    """Checkpoints recorded in one period (by day of record) and the signals they raised."""

    period: str = PField(description="`2026-01`, `2026-Q1`, `2026`, or `total`.")
    period_start: date = PField(description="First day of the period (in the range).")
    period_end: date = PField(description="Last day of the period (in the range).")
    checkpoints: int | None = PField(description="Checkpoints recorded.")
    rent_arrears: int | None = PField(description="Checkpoints that raised `rent_arrears`.")
    nuisance: int | None = PField(description="Checkpoints that raised `nuisance`.")
    needs_table: int | None = PField(description="Checkpoints that raised `needs_table`.")
    support_stopped: int | None = PField(description="Checkpoints that raised `support_stopped`.")
    not_living_there: int | None = PField(description="Checkpoints that raised `not_living_there`.")


class MonitorSustainment(BaseModel):
    table_id: uuid.UUID = PField(description="The table.")
    start: date = PField(description="First day of the range.")
    end: date = PField(description="Last day of the range.")
    as_of: date = PField(description="The day the marks and planned transfers are counted on.")
    period: Period = PField(description="The length of a cohort and of a signal period.")
    suppression: bool = PField(
        description="True when this viewer gets suppressed figures (cells of 1-4 housings or "
        "checkpoints other than its own, and the cells that would give them away)."
    )
    cohorts: list[SustainmentRow] = PField(description="Per move-in cohort in the range.")
    cohorts_total: SustainmentRow = PField(description="All cohorts together.")
    signals: list[SignalRow] = PField(description="Per period of the day of record.")
    signals_total: SignalRow = PField(description="All periods together.")
    definitions: dict[str, str] = PField(description="Each figure's definition.")
