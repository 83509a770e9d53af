"""Monitor (Zicht op uitstroom): contingent agreements, and the shapes of the figures."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from app.schemas import ApiModel, JsonInt
from app.versioning import Versioned, updated_at_field


class ContingentAgreement(Versioned, SQLModel, table=True):
    """How many dwellings a corporation agreed to let to outflow under the contingent in a year."""

    __tablename__ = "contingent_agreements"

    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", primary_key=True)
    corporation_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    agreed: int
    updated_by_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    version: int = 1
    updated_at: datetime = updated_at_field()


class ContingentAgreementIn(ApiModel):
    agreed: JsonInt = PField(ge=0, le=100_000, description="Dwellings agreed for the year.")


class ContingentAgreementPublic(BaseModel):
    table_id: uuid.UUID
    corporation_id: uuid.UUID
    year: int
    agreed: int = PField(
        description="Dwellings the corporation agreed to let to outflow under the contingent in "
        "`year` (0-100000)."
    )
    updated_by_organisation_id: uuid.UUID = PField(
        description="The chair or municipality that recorded the agreement last."
    )
    version: int = PField(description='The ETag (`"2"`), for `If-Match` on the PUT.')
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

SUPPRESSED_OR_NOT_APPLICABLE = (
    "; null when suppressed (1-4 people other than the viewer's own) or not "
    "applicable to the grouping."
)


class FlowRow(BaseModel):
    """One period (or the whole range) for one group (null: all groups). A null measure is
    suppressed (listed in `suppressed`) or does not apply to the grouping."""

    period: str = PField(description="`2026-01`, `2026-Q1`, `2026`, or `total`.")
    period_start: date = PField(
        description="First day of the period (`YYYY-MM-DD`), clipped to the range's `start`."
    )
    period_end: date = PField(
        description=(
            "Last day of the period (`YYYY-MM-DD`, inclusive), clipped to the range's `end`."
        )
    )
    group: str | None = PField(
        description=(
            "The group's key: a care provider's or corporation's id or a CBS "
            "municipality code (per `group_by`); null for all groups."
        )
    )
    group_name: str | None = PField(
        description=(
            "The group's name (organisation or municipality); null for all groups or when unknown."
        )
    )
    new_ready: int | None = PField(
        description=(
            "Cases whose `ready_since` falls in the period (new ready)"
            + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    housed: int | None = PField(
        description=(
            "Housings (decision `house`) with the move-in date in the period; "
            "`housed_own_lease` + `housed_intermediate_lease`" + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    housed_own_lease: int | None = PField(
        description=(
            "Housings in the period on the client's own lease" + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    housed_intermediate_lease: int | None = PField(
        description=(
            "Housings in the period on an intermediate lease (the care provider rents and sublets)"
            + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    other_exits: int | None = PField(
        description=(
            "Cases withdrawn with `exit_date` in the period (other exits): `returned` + `withdrawn`"
            + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    returned: int | None = PField(
        description="Other exits with reason `returned_to_care`" + SUPPRESSED_OR_NOT_APPLICABLE
    )
    withdrawn: int | None = PField(
        description=(
            "Other exits with any other reason than `returned_to_care`"
            + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    backlog_end: int | None = PField(
        description=(
            "Cases ready and not left on the period's last day (backlog): "
            "previous backlog + new ready - housed - other exits" + SUPPRESSED_OR_NOT_APPLICABLE
        )
    )
    waiting_days_median: float | None = PField(
        description=(
            "Median days from `ready_since` to move-in of the period's housings; "
            "null when there are none or suppressed."
        )
    )
    waiting_days_p90: float | None = PField(
        description=(
            "90th percentile (nearest rank) of the days from `ready_since` to "
            "move-in; null when there are none or suppressed."
        )
    )
    suppressed: list[str] = PField(
        description="Names of this row's measures hidden by suppression (empty when none)."
    )


class HistogramBucket(BaseModel):
    bucket: str = PField(description="The bucket's label in days waited, e.g. `0-90` or `731+`.")
    min_days: int = PField(description="Lowest waiting days in the bucket (inclusive).")
    max_days: int | None = PField(
        description="Highest waiting days in the bucket (inclusive); null for the open last bucket."
    )
    count: int | None = PField(
        description=(
            "Housings of the range whose waiting days fall in the bucket; null when suppressed."
        )
    )


class MonitorFlows(BaseModel):
    table_id: uuid.UUID
    start: date = PField(
        description="First day of the range (`YYYY-MM-DD`; default 364 days before `end`)."
    )
    end: date = PField(
        description="Last day of the range (`YYYY-MM-DD`, inclusive; default today)."
    )
    period: Period = PField(
        description="Length of each row's period: `month`, `quarter` or `year`."
    )
    group_by: GroupBy = PField(
        description=(
            "How rows are grouped: `none`, `care_provider`, `corporation` or "
            "`municipality` (the last two carry housing figures only)."
        )
    )
    suppression: bool = PField(
        description="True when this viewer gets suppressed figures: cells holding 1-4 people "
        "other than its own (and complements) are hidden."
    )
    rows: list[FlowRow] = PField(description="One row per period and group, oldest period first.")
    totals: list[FlowRow] = PField(
        description="One row per group over the whole range (`period` `total`)."
    )
    waiting_days_histogram: list[HistogramBucket] = PField(
        description="Housings of the range per waiting-time bucket."
    )
    definitions: dict[str, str] = PField(
        description="Each measure's name and how it is counted, in words."
    )


class PlacementRow(BaseModel):
    neighbourhood_code: str | None
    municipality_code: str | None
    placements: int = PField(
        description="Housings in the range in this neighbourhood. For a viewer who gets "
        "suppressed figures, a neighbourhood whose count is hidden has no row: its row alone "
        "would say that someone was placed there."
    )


class MonitorPlacements(BaseModel):
    table_id: uuid.UUID
    start: date = PField(description="First day of the range (`YYYY-MM-DD`).")
    end: date = PField(description="Last day of the range (`YYYY-MM-DD`, inclusive).")
    suppression: bool = PField(
        description=(
            "True when this viewer gets suppressed figures (cells of 1-4 other "
            "organisations' housings hidden)."
        )
    )
    rows: list[PlacementRow] = PField(
        description="Housings per CBS neighbourhood, to see concentration."
    )
    total: int | None = PField(description="All housings in the range; null when suppressed.")


class ContingentRow(BaseModel):
    corporation_id: uuid.UUID
    corporation_name: str = PField(description="The housing corporation's name.")
    agreed: int | None = PField(
        description="Dwellings agreed under the contingent for the year; null when none recorded."
    )
    realised: int | None = PField(
        description=(
            "Housings in the year in this corporation's dwellings offered under the"
            " contingent; null when suppressed."
        )
    )
    realised_share: float | None = PField(description="realised / agreed, when both are known.")


class MonitorContingent(BaseModel):
    table_id: uuid.UUID
    year: int
    suppression: bool = PField(
        description=(
            "True when this viewer gets suppressed figures (a corporation sees only its own row)."
        )
    )
    rows: list[ContingentRow] = PField(description="One row per corporation of the table.")
    total_agreed: int | None = PField(
        description="Sum of `agreed` over the corporations; null when suppressed."
    )
    total_realised: int | None = PField(
        description="Sum of `realised` over the corporations; null when suppressed."
    )


class BottleneckMeeting(BaseModel):
    meeting_id: uuid.UUID
    date: date
    ready_cases: int = PField(description="Ready cases in the meeting's published agenda.")
    blocked_cases: int = PField(description="Ready cases with no feasible dwelling in that agenda.")
    blocked_only_by: dict[str, int] = PField(
        description="Hard-rule reason code -> blocked cases that reason alone blocks."
    )


class MonitorBottlenecks(BaseModel):
    """The whole table's counts per published meeting: for the chair and municipalities only
    (side by side, week after week, the counts would give a party the changes in other
    organisations' cases that its agendas and the monitor's year tables hide)."""

    table_id: uuid.UUID
    start: date = PField(description="First day of the range (`YYYY-MM-DD`).")
    end: date = PField(description="Last day of the range (`YYYY-MM-DD`, inclusive).")
    meetings: list[BottleneckMeeting] = PField(
        description=(
            "One entry per published meeting in the range, oldest first (from its frozen agenda)."
        )
    )


class MonitorForecast(BaseModel):
    table_id: uuid.UUID
    date: Annotated[
        date,
        PField(description="The day the forecast is made on: the pace is the year before it."),
    ]
    backlog_now: int | None = PField(
        description="Cases ready and not left on `date` (backlog); null when suppressed."
    )
    monthly_new_ready: float | None = PField(
        description="New ready cases per month over the year before `date`; null when suppressed."
    )
    monthly_housed: float | None = PField(
        description="Housings per month over the year before `date`; null when suppressed."
    )
    monthly_other_exits: float | None = PField(
        description=(
            "Other exits (withdrawals) per month over the year before `date`; null when suppressed."
        )
    )
    dwellings_needed_12_months: int | None = PField(
        description=(
            "Dwellings needed in the next 12 months: backlog now + 12 x monthly new"
            " ready - 12 x monthly other exits; null when suppressed."
        )
    )
    backlog_in_12_months_at_current_pace: int | None = PField(
        description=(
            "The backlog in 12 months if the last year's pace (new ready, housed, "
            "other exits) continues; null when suppressed."
        )
    )
    method: str = PField(description="How the forecast is computed, in words.")


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
