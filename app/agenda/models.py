"""The weekly agenda as the API returns it (JSON); what each view leaves out is null/empty.

Views: `table` (the chair and municipality members: everything), `care_provider` (only its own
cases), `housing_corporation` (only its own dwellings, no case details: no score components).
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.limits.models import YearLimitsPublic
from app.tables.policy import TablePolicy


class AgendaView(StrEnum):
    table = "table"
    care_provider = "care_provider"
    housing_corporation = "housing_corporation"


class ScoreComponentOut(BaseModel):
    name: str = Field(description="waiting_time, urgency, preferred_area, support_fit, ...")
    value: float
    weight: float
    points: float = Field(description="weight x value; the score is the sum of points")


class PassedOverOut(BaseModel):
    """A case scoring higher on this dwelling, passed over because giving it the dwelling would
    house fewer people (`housed_if_given` < the proposal's number housed)."""

    case_id: uuid.UUID
    score: float
    received_vacancy_id: uuid.UUID | None
    housed_if_given: int


class ProposalOut(BaseModel):
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    score: float
    components: list[ScoreComponentOut] | None = Field(
        description="Null in the corporation's view."
    )
    passed_over: list[PassedOverOut] | None = Field(description="Null in the corporation's view.")


class RankedVacancyOut(BaseModel):
    vacancy_id: uuid.UUID
    score: float
    components: list[ScoreComponentOut]


class CaseCandidatesOut(BaseModel):
    case_id: uuid.UUID
    ready_since: date
    feasible_count: int
    excluded_counts: dict[str, int] = Field(description="Reason code -> dwellings failing it.")
    candidates: list[RankedVacancyOut] = Field(description="Feasible dwellings, best first.")


class RankedCaseOut(BaseModel):
    case_id: uuid.UUID
    score: float
    components: list[ScoreComponentOut] | None = Field(
        description="Null in the corporation's view."
    )


class VacancyCandidatesOut(BaseModel):
    vacancy_id: uuid.UUID
    feasible_count: int
    excluded_counts: dict[str, int] | None = Field(
        description="Reason code -> cases failing it; null in the corporation's view."
    )
    candidates: list[RankedCaseOut] = Field(description="Feasible cases, best first.")


class BlockedCaseOut(BaseModel):
    case_id: uuid.UUID
    excluded_counts: dict[str, int]
    unblocked_by: list[str] = Field(description="Reasons that alone would open some dwelling.")
    min_reasons: int | None
    closest_reasons: list[str]


class ReasonBottleneckOut(BaseModel):
    code: str
    cases_blocked_only_by: int = Field(description="Blocked cases this reason alone blocks.")
    case_ids: list[uuid.UUID]
    blocked_cases_failing: int


class BottleneckGroupOut(BaseModel):
    reasons: list[str]
    waive: str = Field(description="`any`: waiving any one reason unblocks; `all`: all needed.")
    count: int
    case_ids: list[uuid.UUID]


class BottlenecksOut(BaseModel):
    blocked_cases: list[BlockedCaseOut]
    by_reason: list[ReasonBottleneckOut]
    groups: list[BottleneckGroupOut]


class WaitingCaseOut(BaseModel):
    case_id: uuid.UUID
    ready_since: date
    waiting_days: int
    feasible_count: int
    proposed_vacancy_id: uuid.UUID | None


class VacancyWithoutCandidatesOut(BaseModel):
    vacancy_id: uuid.UUID
    excluded_counts: dict[str, int] | None
    unblocked_by: list[str]


class OpenActionOut(BaseModel):
    id: uuid.UUID
    kind: str
    owner_organisation_id: uuid.UUID
    case_id: uuid.UUID | None
    meeting_id: uuid.UUID | None
    due_date: date
    overdue: bool


class VacancySummaryOut(BaseModel):
    """Enough of a dwelling to discuss it at the table."""

    id: uuid.UUID
    corporation_id: uuid.UUID
    external_ref: str
    municipality_code: str
    neighbourhood_code: str
    complex_ref: str | None
    dwelling_type: str
    rooms: int
    floor: int
    rent_base: float
    available_from: date
    contingent: bool


class OptimalityOut(BaseModel):
    """Why the proposal is not proven optimal, and how far from optimal it can be at most."""

    reason: str = Field(
        description="`time_budget`: the solver's time budget ran out before it could prove the "
        "optimum (UITSTROOM_SOLVER_TIME_BUDGET_SECONDS)."
    )
    time_budget_seconds: float
    people_housed_bound: int = Field(
        description="At most this many cases could be housed (the proposal houses `people_housed`)."
    )
    score_bound: float | None = Field(
        description="At most this total score at `people_housed`, when that count is proven; "
        "null otherwise and in the views of care providers and corporations."
    )


class AgendaSummary(BaseModel):
    ready_cases: int
    vacancies: int
    feasible_pairs: int
    people_housed: int = Field(
        description="Cases in the proposal (the maximum possible when `optimal`)."
    )
    persons_housed: int = Field(description="Adults and children in those households.")
    blocked_cases: int
    passed_over_complete: bool
    solver: str
    optimal: bool = Field(
        default=True,
        description="The proposal is proven optimal (most people housed, then the highest "
        "total score). False only when the solver's time budget ran out: the proposal still "
        "keeps every rule and cap, and `optimality` says how far from optimal it can be.",
    )
    optimality: OptimalityOut | None = Field(default=None, description="Null when `optimal`.")


class Agenda(BaseModel):
    table_id: uuid.UUID
    date: date
    generated_at: datetime
    view: AgendaView
    policy: TablePolicy = Field(description="The policy this agenda used.")
    limits: YearLimitsPublic = Field(description="The legal limits of the meeting's year it used.")
    summary: AgendaSummary
    proposals: list[ProposalOut]
    candidates_by_case: list[CaseCandidatesOut]
    candidates_by_vacancy: list[VacancyCandidatesOut]
    bottlenecks: BottlenecksOut | None
    longest_waiting: list[WaitingCaseOut]
    vacancies_without_candidates: list[VacancyWithoutCandidatesOut]
    open_actions: list[OpenActionOut] = Field(
        description="Actions still open (and whether overdue) on the agenda's date."
    )
    vacancies: list[VacancySummaryOut] = Field(
        description="Summaries of the dwellings this view mentions."
    )


class RuleFailureOut(BaseModel):
    code: str
    detail: dict[str, str | int | bool | None]


class WhyNot(BaseModel):
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    date: date
    feasible: bool
    reasons: list[RuleFailureOut] = Field(description="Every hard rule that fails, with figures.")
    score: float | None
    components: list[ScoreComponentOut] | None
