# Size: the three views' response models side by side, so what each view may carry (and the
# corporation's lack of case detail) is checked in one reading.
"""The weekly agenda as the API returns it (JSON): one response model per view, told apart by
`view`.

- `table` (`TableAgenda`; the chair and municipality members): everything.
- `care_provider` (`CareProviderAgenda`): only its own cases; summary counts suppressed as the
  monitor's (`app.monitor.suppression`), so other providers' cases cannot be counted out.
- `housing_corporation` (`CorporationAgenda`): only its own dwellings and the cases proposed
  for them, and no case detail at all: the model has no score, component, date of a case,
  waiting time, rank or reason field, and forbids extra keys, so a forgotten key fails
  validation instead of reaching a corporation.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from app.aftercare.models import AftercareItemOut, CorporationAftercareItemOut
from app.limits.models import LimitsFallback, YearLimitsPublic
from app.tables.policy import TablePolicy


class AgendaView(StrEnum):
    table = "table"
    care_provider = "care_provider"
    housing_corporation = "housing_corporation"


# The parts an agenda holds thousands of (candidates, components, proposals) are TypedDicts:
# pydantic validates and serialises them about three times faster than model instances, which
# keeps validating a big city's agenda within the time plain `json.dumps` took (README).


class ScoreComponentOut(TypedDict):
    name: Annotated[str, Field(description="waiting_time, urgency, preferred_area, ...")]
    value: float
    weight: float
    points: Annotated[float, Field(description="weight x value; the score is their sum")]


class TradeOff(StrEnum):
    """Why an alternative housing a passed-over case was not chosen."""

    fewer_housed = "fewer_housed"
    lower_total_score = "lower_total_score"
    equal_alternative = "equal_alternative"


class PassedOverOut(TypedDict):
    """A case passed over by this proposal: either it scores higher on this dwelling and giving it
    the dwelling would house fewer people (it may be housed elsewhere: `received_vacancy_id`), or
    it is left unhoused and its best alternative (see `left_unhoused`), in which it gets
    `alternative_vacancy_id` scoring `score`, would change this lower-scoring proposal."""

    case_id: uuid.UUID
    score: Annotated[float, Field(description="Its score on `alternative_vacancy_id`.")]
    received_vacancy_id: uuid.UUID | None
    housed_if_given: Annotated[
        int | None,
        Field(
            description="People the best alternative housing it houses; null in a care "
            "provider's view (a table total, suppressed there)."
        ),
    ]
    trade_off: NotRequired[
        Annotated[
            TradeOff,
            Field(
                description="`fewer_housed` (also when absent, in agendas published before this "
                "field); `lower_total_score`: as many housed, lower total score; "
                "`equal_alternative`: as many and the same total, the fixed tie-break chose this "
                "one."
            ),
        ]
    ]
    alternative_vacancy_id: NotRequired[
        Annotated[
            uuid.UUID | None,
            Field(
                description="The dwelling it would get: this proposal's, or its best "
                "alternative's. Absent in agendas published before this field existed."
            ),
        ]
    ]


class ChangeOut(TypedDict):
    """A proposal an alternative changes: its case moves to `moves_to_vacancy_id`, or is left
    unhoused (null). In a care provider's view other providers' cases have no id or score."""

    case_id: uuid.UUID | None
    vacancy_id: uuid.UUID
    score: float | None
    moves_to_vacancy_id: uuid.UUID | None


class LeftUnhousedOut(TypedDict):
    """A case a dwelling fits that the proposal leaves unhoused, and its best alternative: the
    best proposal (most housed, then highest total score) in which it is housed."""

    case_id: uuid.UUID
    vacancy_id: Annotated[uuid.UUID, Field(description="The dwelling it gets there.")]
    score: Annotated[float, Field(description="Its score on that dwelling.")]
    housed_if_given: Annotated[int | None, Field(description="Null in a care provider's view.")]
    total_score_if_given: Annotated[
        float | None, Field(description="Null in a care provider's view.")
    ]
    trade_off: TradeOff
    displaced: Annotated[
        list[ChangeOut], Field(description="The proposals that alternative changes.")
    ]


class ProposalOut(TypedDict):
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    score: float
    components: list[ScoreComponentOut] | None
    passed_over: Annotated[
        list[PassedOverOut] | None,
        Field(description="In a care provider's view only its own cases."),
    ]


class RankedVacancyOut(TypedDict):
    vacancy_id: uuid.UUID
    score: float
    components: list[ScoreComponentOut]


class CaseCandidatesOut(TypedDict):
    case_id: uuid.UUID
    ready_since: date
    feasible_count: int
    excluded_counts: Annotated[
        dict[str, int], Field(description="Reason code -> dwellings failing it.")
    ]
    candidates: Annotated[
        list[RankedVacancyOut], Field(description="Feasible dwellings, best first.")
    ]


class RankedCaseOut(TypedDict):
    case_id: uuid.UUID
    score: float
    components: list[ScoreComponentOut] | None


class VacancyCandidatesOut(TypedDict):
    vacancy_id: uuid.UUID
    feasible_count: int
    excluded_counts: Annotated[
        dict[str, int] | None, Field(description="Reason code -> cases failing it.")
    ]
    candidates: Annotated[list[RankedCaseOut], Field(description="Feasible cases, best first.")]


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
    passed_over_complete: bool = Field(
        description="False when a re-solve limit left a passed-over or left-unhoused check "
        "undone (those lists may then miss entries)."
    )
    solver: str
    optimal: bool = Field(
        default=True,
        description="The proposal is proven optimal (most people housed, then the highest "
        "total score). False only when the solver's time budget ran out: the proposal still "
        "keeps every rule and cap, and `optimality` says how far from optimal it can be.",
    )
    optimality: OptimalityOut | None = Field(default=None, description="Null when `optimal`.")


class _AgendaHead(BaseModel):
    """What every view of an agenda has: the table, date, policy and limits (no case data)."""

    table_id: uuid.UUID
    date: date
    generated_at: datetime
    policy: TablePolicy = Field(description="The policy this agenda used.")
    limits: YearLimitsPublic = Field(
        description="The legal limits this agenda used: the meeting year's own, or (see "
        "`limits_fallback`) the latest earlier year's."
    )
    limits_fallback: LimitsFallback | None = Field(
        description="Null when the meeting year's own limits were used. Otherwise the meeting "
        "year has no limits yet and `limits.year` is the earlier year used instead, so the "
        "table can meet in January before the new figures are entered."
    )
    vacancies: list[VacancySummaryOut] = Field(
        description="Summaries of the dwellings this view mentions."
    )


class OpenProposalOut(BaseModel):
    """An open proposal of an earlier meeting of the table (`app.agenda.open_proposals`)."""

    proposal_id: uuid.UUID
    meeting_id: uuid.UUID
    meeting_date: date
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    vacancy_ref: str = Field(description="The corporation's reference of the dwelling.")
    care_provider_id: uuid.UUID
    corporation_id: uuid.UUID
    status: str = Field(
        description="proposed, nominated, accepted, viewing_planned or tenancy_signed."
    )
    since: date = Field(description="The day it entered that status (Europe/Amsterdam).")
    days_in_status: int = Field(description="Days since `since`, counted on `as_of`.")
    as_of: date = Field(
        description="The day the days were counted: today, or for a frozen "
        "agenda the day it was published."
    )
    turn: str = Field(
        description="Whose move takes it forward: chair, corporation or care_provider."
    )
    limit_days: int | None = Field(
        description="The policy's `stalled_after_days` for the status (null: it never stalls)."
    )
    stalled: bool = Field(description="`days_in_status` exceeds `limit_days`.")
    score: float


class CorporationOpenProposalOut(BaseModel):
    """An open proposal of one of its dwellings from an earlier meeting: no score."""

    model_config = ConfigDict(extra="forbid")

    proposal_id: uuid.UUID
    meeting_id: uuid.UUID
    meeting_date: date
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    vacancy_ref: str
    status: str
    since: date
    days_in_status: int
    as_of: date
    turn: str
    limit_days: int | None
    stalled: bool


OPEN_PROPOSALS_DESCRIPTION = (
    "Open proposals of the table's earlier meetings, oldest meeting first: their status, days "
    "in it, whose turn it is and whether it is stalled."
)


AFTERCARE = (
    "After the move (`app.aftercare.agenda`): follow-up checkpoints due by the meeting and not "
    "recorded, signals recorded since the previous meeting, and overdue lease transfers."
)


class TableAgenda(_AgendaHead):
    """The chair's and municipality members' view: everything."""

    view: Literal[AgendaView.table]
    summary: AgendaSummary
    proposals: list[ProposalOut]
    candidates_by_case: list[CaseCandidatesOut]
    candidates_by_vacancy: list[VacancyCandidatesOut]
    bottlenecks: BottlenecksOut | None
    left_unhoused: list[LeftUnhousedOut] = Field(
        default_factory=list,
        description="Every case with a fitting dwelling that the proposal leaves unhoused, with "
        "its best alternative, best score first.",
    )
    longest_waiting: list[WaitingCaseOut]
    vacancies_without_candidates: list[VacancyWithoutCandidatesOut]
    open_actions: list[OpenActionOut] = Field(
        description="Actions still open (and whether overdue) on the agenda's date."
    )
    open_proposals: list[OpenProposalOut] = Field(
        default_factory=list, description=OPEN_PROPOSALS_DESCRIPTION
    )
    aftercare: list[AftercareItemOut] = Field(default_factory=list, description=AFTERCARE)


class RestrictedOptimalityOut(BaseModel):
    """`OptimalityOut` for care providers and corporations: no score bound (a total over every
    case's score), and the people bound hidden with `summary.people_housed`."""

    reason: str
    time_budget_seconds: float
    people_housed_bound: int | None


class RestrictedSummary(BaseModel):
    """The summary for care providers and corporations. A count is null (suppressed) when the
    part of it that is not the viewer's own is 1 to 4, or would follow from the shown ones: the
    monitor's cell suppression (`app.monitor.suppression`). `persons_housed` is hidden with
    `people_housed` (others' persons are at least others' cases)."""

    ready_cases: int | None
    vacancies: int
    feasible_pairs: int | None
    people_housed: int | None
    persons_housed: int | None
    blocked_cases: int | None
    passed_over_complete: bool
    solver: str
    optimal: bool = True
    optimality: RestrictedOptimalityOut | None = None


class CareProviderAgenda(_AgendaHead):
    """A care provider's view: its own cases only; other providers' cases appear without id or
    score (in `left_unhoused[].displaced`), and the summary is suppressed."""

    view: Literal[AgendaView.care_provider]
    summary: RestrictedSummary
    proposals: list[ProposalOut] = Field(description="Proposals of its own cases.")
    candidates_by_case: list[CaseCandidatesOut]
    bottlenecks: BottlenecksOut | None = Field(description="Over its own cases only.")
    left_unhoused: list[LeftUnhousedOut] = Field(
        default_factory=list,
        description="Its own cases left unhoused (`total_score_if_given` null).",
    )
    longest_waiting: list[WaitingCaseOut]
    open_actions: list[OpenActionOut] = Field(
        description="Its own actions and those on its own cases."
    )
    open_proposals: list[OpenProposalOut] = Field(
        default_factory=list, description=OPEN_PROPOSALS_DESCRIPTION + " Its own cases only."
    )
    aftercare: list[AftercareItemOut] = Field(
        default_factory=list, description=AFTERCARE + " Its own cases only."
    )


class _Closed(BaseModel):
    """Refuses any field it does not name: what a corporation sees is listed, not left over."""

    model_config = ConfigDict(extra="forbid")


class CorporationProposalOut(_Closed):
    """A proposal of one of its dwellings: which case (to contact through the table), no score."""

    case_id: uuid.UUID
    vacancy_id: uuid.UUID


class CorporationVacancyOut(_Closed):
    vacancy_id: uuid.UUID
    feasible_count: int | None = Field(
        description="Cases that fit the dwelling; null (suppressed) when 1 to 4."
    )


class CorporationVacancyWithoutCandidatesOut(_Closed):
    vacancy_id: uuid.UUID
    unblocked_by: list[str] = Field(
        description="Rules that alone would open the dwelling to some case; empty when "
        "`summary.ready_cases` is suppressed (few cases: the rule would describe them)."
    )


class CorporationActionOut(_Closed):
    """One of its own open actions, without the case it concerns."""

    id: uuid.UUID
    kind: str
    owner_organisation_id: uuid.UUID
    meeting_id: uuid.UUID | None
    due_date: date
    overdue: bool


class CorporationSummary(RestrictedSummary, _Closed):
    pass


class CorporationAgenda(_AgendaHead, _Closed):
    """A housing corporation's view: its own dwellings and the cases proposed for them. No
    score, score component, case date, waiting time, rank among cases or rule failure of a case
    (see the README's "What a corporation sees")."""

    view: Literal[AgendaView.housing_corporation]
    summary: CorporationSummary
    proposals: list[CorporationProposalOut] = Field(
        description="Proposals of its dwellings, in dwelling id order (not by score)."
    )
    candidates_by_vacancy: list[CorporationVacancyOut] = Field(
        description="Per dwelling of its own: how many cases fit (no list, no ranking)."
    )
    vacancies_without_candidates: list[CorporationVacancyWithoutCandidatesOut]
    open_actions: list[CorporationActionOut]
    open_proposals: list[CorporationOpenProposalOut] = Field(
        default_factory=list,
        description=OPEN_PROPOSALS_DESCRIPTION + " Its own dwellings only, without score.",
    )
    aftercare: list[CorporationAftercareItemOut] = Field(
        default_factory=list,
        description="Its own tenants' rent-arrears and nuisance signals and overdue transfers.",
    )


Agenda = Annotated[
    TableAgenda | CareProviderAgenda | CorporationAgenda, Field(discriminator="view")
]
"""The agenda as its caller may see it: one model per `view`."""
AGENDA: TypeAdapter[Agenda] = TypeAdapter(Agenda)


class RuleFailureOut(BaseModel):
    code: str = Field(
        description="A hard rule's reason code, or a status code (`case_on_hold`, `case_parked`, "
        "`case_in_open_proposal`, `case_housed`, `case_withdrawn`, `case_not_ready_yet`, "
        "`vacancy_in_open_proposal`, `vacancy_let`, `vacancy_withdrawn`)."
    )
    detail: dict[str, str | int | bool | None]


class PairTradeOffOut(BaseModel):
    """Why a feasible pair is not in the agenda's proposal: the best proposal with the pair."""

    code: TradeOff
    housed: int | None = Field(
        description="People the agenda's proposal houses; null in a care provider's view (a "
        "table total, suppressed in its agenda)."
    )
    housed_if_given: int | None = Field(
        description="People the best proposal with this pair houses; null in a care provider's "
        "view."
    )
    total_score: float | None = Field(description="Null in a care provider's view.")
    total_score_if_given: float | None = Field(description="Null in a care provider's view.")
    vacancy_proposed: bool = Field(description="The agenda proposes the dwelling to a case.")
    vacancy_proposed_to: uuid.UUID | None = Field(
        description="That case (null if none, or another care provider's case)."
    )
    case_proposed_vacancy_id: uuid.UUID | None = Field(
        description="The dwelling the agenda proposes to this case, if any."
    )
    changes: list[ChangeOut] = Field(
        description="The agenda's proposals that the best proposal with this pair changes."
    )


class WhyNot(BaseModel):
    """What the agenda of `date` does with the pair: the same inputs and engine run as
    `GET /agenda?date=`, so the two never disagree."""

    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    date: date
    feasible: bool = Field(description="The pair is among the agenda's feasible pairs.")
    proposed: bool = Field(description="The agenda's proposal holds exactly this pair.")
    reasons: list[RuleFailureOut] = Field(
        description="Why the case or dwelling takes no part in the agenda (status codes), else "
        "every hard rule the pair fails (spread caps with the usage the agenda counted, earlier "
        "declines with decision, reason and date), with figures."
    )
    score: float | None
    components: list[ScoreComponentOut] | None
    trade_off: PairTradeOffOut | None = Field(
        description="For a feasible pair the agenda does not propose: why not (null when the "
        "agenda's proposal is not proven optimal, see `optimal`)."
    )
    optimal: bool = Field(
        True,
        description="False only when the agenda had to be solved for this pair and the solver's "
        "time budget ran out: the proposal is then not proven optimal, and the trade-off (defined "
        "against the optimum) is not given.",
    )
    limits_year: int = Field(description="The year whose legal limits decided the answer.")
    limits_fallback: LimitsFallback | None = Field(
        description="Null when the date's own year has limits; see the agenda's field."
    )
