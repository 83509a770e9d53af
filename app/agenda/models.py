# Size: the three views' response models side by side, so what each view may carry (and the
# corporation's lack of case detail) is checked in one reading.
"""The weekly agenda as the API returns it (JSON): one response model per view, told apart by
`view`.

- `table` (`TableAgenda`; the chair and municipality members): everything.
- `care_provider` (`CareProviderAgenda`): only its own cases; summary counts suppressed as the
  monitor's (`app.monitor.suppression`), so other providers' cases cannot be counted out, and
  its cases' excluding reasons without counts (`excluded_reasons`: a count of a reason of the
  client alone was the number of dwellings taking part, a total the summary hides).
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

from app.actions.models import ACTION_KIND_DESCRIPTION
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
    value: Annotated[
        float,
        Field(
            description=(
                "The component's measure: years (waiting time, registration up to 10), "
                "0 or 1 (urgency, preferred area, support fit) or the unused fraction "
                "of the rent cap."
            )
        ),
    ]
    weight: Annotated[
        float, Field(description="Points per unit, from the policy's `score_weights`.")
    ]
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
    received_vacancy_id: Annotated[
        uuid.UUID | None,
        Field(
            description=(
                "The dwelling the proposal gives the passed-over case instead; null "
                "when it is left unhoused."
            )
        ),
    ]
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
    moves_to_vacancy_id: Annotated[
        uuid.UUID | None,
        Field(
            description=(
                "The dwelling the case moves to in the alternative; null when it is "
                "left unhoused there."
            )
        ),
    ]


class AlsoHousedOut(TypedDict):
    """A case the proposal leaves unhoused that an alternative houses besides: on
    `vacancy_id`. In a care provider's view other providers' cases have no id or score."""

    case_id: uuid.UUID | None
    vacancy_id: Annotated[uuid.UUID, Field(description="The dwelling it gets there.")]
    score: Annotated[float | None, Field(description="Its score on that dwelling.")]


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
    trade_off: Annotated[
        TradeOff,
        Field(
            description=(
                "Why the alternative was not chosen: `fewer_housed`, "
                "`lower_total_score` or `equal_alternative` (the fixed tie-break)."
            )
        ),
    ]
    displaced: Annotated[
        list[ChangeOut],
        Field(
            description=(
                "The proposals that alternative changes, in the order of the dwellings they hold: "
                "the first `candidates` "
                "(the agenda's query parameter; 5 in a published agenda). All of them: "
                "`GET /v1/tables/{table_id}/agenda/cases/{case_id}/alternative`."
            )
        ),
    ]
    displaced_count: Annotated[
        int, Field(description="How many proposals that alternative changes in all.")
    ]
    also_housed: NotRequired[
        Annotated[
            list[AlsoHousedOut],
            Field(
                description=(
                    "The cases the proposal leaves unhoused that the alternative houses "
                    "besides, in the order of the dwellings they get: the first `candidates`; "
                    "with `displaced` the "
                    "whole difference. All of them: "
                    "`GET /v1/tables/{table_id}/agenda/cases/{case_id}/alternative`. Absent "
                    "in agendas published before this field existed."
                )
            ),
        ]
    ]
    also_housed_count: NotRequired[
        Annotated[
            int,
            Field(
                description="How many cases the alternative houses besides in all. Absent in "
                "agendas published before this field existed."
            ),
        ]
    ]


class ProposalOut(TypedDict):
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    score: float
    components: Annotated[
        list[ScoreComponentOut] | None,
        Field(description="The score's components; null in views that may not see them."),
    ]
    passed_over: Annotated[
        list[PassedOverOut] | None,
        Field(description="In a care provider's view only its own cases."),
    ]


LISTED_COMPONENTS = (
    "The score's components where a list is fetched on its own (`/agenda/cases/{case_id}/"
    "candidates`, `/agenda/vacancies/{vacancy_id}/candidates`); null in the agenda's lists, which "
    "give the best `candidates` by score only (agendas frozen before carry them), and in views "
    "that may not see them."
)


class RankedVacancyOut(TypedDict):
    vacancy_id: uuid.UUID
    score: float
    components: Annotated[list[ScoreComponentOut] | None, Field(description=LISTED_COMPONENTS)]


class CaseCandidatesOut(TypedDict):
    case_id: uuid.UUID
    ready_since: date
    feasible_count: Annotated[
        int, Field(description="Dwellings that pass every hard rule for the case.")
    ]
    excluded_counts: Annotated[
        dict[str, int], Field(description="Reason code -> dwellings failing it.")
    ]
    candidates: Annotated[
        list[RankedVacancyOut], Field(description="Feasible dwellings, best first.")
    ]


EXCLUDED_REASONS = (
    "The reason codes that exclude some dwelling from the case, most-excluding first (ties by "
    "code), without the number of dwellings each excludes (the table's `excluded_counts`): a "
    "reason of the client alone (a missing beschikking) excludes every dwelling, so its count "
    "was the number of dwellings taking part, and with `feasible_count` the counts bounded it "
    "otherwise; that total is what the restricted summary hides (two agendas side by side gave "
    "the proposals a suppressed `people_housed` hid)."
)
OWN_FEASIBLE = (
    "Dwellings that pass every hard rule for the case (of the dwellings taking part, a lower "
    "bound only)."
)


class CareProviderCaseCandidatesOut(TypedDict):
    """`CaseCandidatesOut` in a care provider's view: the excluding reasons without counts."""

    case_id: uuid.UUID
    ready_since: date
    feasible_count: Annotated[int, Field(description=OWN_FEASIBLE)]
    excluded_reasons: Annotated[list[str], Field(description=EXCLUDED_REASONS)]
    candidates: Annotated[
        list[RankedVacancyOut], Field(description="Feasible dwellings, best first.")
    ]


class RankedCaseOut(TypedDict):
    case_id: uuid.UUID
    score: float
    components: Annotated[list[ScoreComponentOut] | None, Field(description=LISTED_COMPONENTS)]


class VacancyCandidatesOut(TypedDict):
    vacancy_id: uuid.UUID
    feasible_count: Annotated[
        int, Field(description="Cases that pass every hard rule for the dwelling.")
    ]
    excluded_counts: Annotated[
        dict[str, int] | None, Field(description="Reason code -> cases failing it.")
    ]
    candidates: Annotated[list[RankedCaseOut], Field(description="Feasible cases, best first.")]


UNBLOCKED_BY = "Reasons that alone would open some dwelling."
MIN_REASONS = (
    "The fewest reasons that would have to be waived together to open any dwelling; null when "
    "there are no dwellings, or in a published agenda for a case anonymised since (its reasons "
    "and counts are left out too)."
)
CLOSEST_REASONS = "The reasons of a dwelling closest to fitting (needing `min_reasons` waived)."
DETAILS_REMOVED = (
    "True in a published agenda for a case anonymised since: its reasons and counts are left "
    "out (retention), so the empty lists say nothing about what blocked it."
)


class BlockedCaseOut(BaseModel):
    case_id: uuid.UUID
    excluded_counts: dict[str, int] = Field(
        description=(
            "Reason code -> dwellings failing it (a dwelling failing several counts under each)."
        )
    )
    unblocked_by: list[str] = Field(description=UNBLOCKED_BY)
    min_reasons: int | None = Field(description=MIN_REASONS)
    closest_reasons: list[str] = Field(description=CLOSEST_REASONS)
    details_removed: bool = Field(default=False, description=DETAILS_REMOVED)


class CareProviderBlockedCaseOut(BaseModel):
    """`BlockedCaseOut` in a care provider's view: the excluding reasons without counts."""

    case_id: uuid.UUID
    excluded_reasons: list[str] = Field(description=EXCLUDED_REASONS)
    unblocked_by: list[str] = Field(description=UNBLOCKED_BY)
    min_reasons: int | None = Field(description=MIN_REASONS)
    closest_reasons: list[str] = Field(description=CLOSEST_REASONS)
    details_removed: bool = Field(default=False, description=DETAILS_REMOVED)


class ReasonBottleneckOut(BaseModel):
    code: str = Field(description="A hard rule's reason code (e.g. `beschikking_missing`).")
    cases_blocked_only_by: int = Field(description="Blocked cases this reason alone blocks.")
    case_ids: list[uuid.UUID] = Field(description="The blocked cases this reason alone blocks.")
    blocked_cases_failing: int = Field(
        description="Blocked cases that fail this reason on at least one dwelling."
    )


class BottleneckGroupOut(BaseModel):
    reasons: list[str] = Field(description="Reason codes that together block the group's cases.")
    waive: str = Field(description="`any`: waiving any one reason unblocks; `all`: all needed.")
    count: int = Field(description="Cases in the group.")
    case_ids: list[uuid.UUID] = Field(description="The cases in the group.")


class BottlenecksOut(BaseModel):
    blocked_cases: list[BlockedCaseOut] = Field(
        description="Ready cases with no feasible dwelling, with what blocks them."
    )
    by_reason: list[ReasonBottleneckOut] = Field(
        description="Per reason code: how many blocked cases it alone blocks, most first."
    )
    groups: list[BottleneckGroupOut] = Field(
        description="Blocked cases grouped by the reasons that block them together."
    )


class CareProviderBottlenecksOut(BaseModel):
    """`BottlenecksOut` over a care provider's own cases, the blocked ones without counts."""

    blocked_cases: list[CareProviderBlockedCaseOut] = Field(
        description="Its own ready cases with no feasible dwelling, with what blocks them."
    )
    by_reason: list[ReasonBottleneckOut] = Field(
        description="Per reason code: how many of its blocked cases it alone blocks, most first."
    )
    groups: list[BottleneckGroupOut] = Field(
        description="Its blocked cases grouped by the reasons that block them together."
    )


class WaitingCaseOut(BaseModel):
    case_id: uuid.UUID
    ready_since: date
    waiting_days: int = Field(description="Days from `ready_since` to the agenda's date.")
    feasible_count: int = Field(description="Dwellings that pass every hard rule for the case.")
    proposed_vacancy_id: uuid.UUID | None = Field(
        description="The dwelling this agenda proposes to the case; null when none."
    )


class VacancyWithoutCandidatesOut(BaseModel):
    vacancy_id: uuid.UUID
    excluded_counts: dict[str, int] | None = Field(
        description="Reason code -> cases failing it; null when suppressed."
    )
    unblocked_by: list[str] = Field(
        description="Reasons that alone would open the dwelling to some case."
    )


class OpenActionOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description=ACTION_KIND_DESCRIPTION)
    owner_organisation_id: uuid.UUID
    case_id: uuid.UUID | None
    meeting_id: uuid.UUID | None
    due_date: date
    overdue: bool = Field(description="Still open after its `due_date`.")


class VacancySummaryOut(BaseModel):
    """Enough of a dwelling to discuss it at the table."""

    id: uuid.UUID
    corporation_id: uuid.UUID
    external_ref: str
    municipality_code: str
    neighbourhood_code: str
    complex_ref: str | None = Field(
        description="The building or complex (for spreading); null when not given."
    )
    dwelling_type: str = Field(description="`apartment`, `single_family`, `studio` or `room`.")
    rooms: int = Field(description="Rooms including the living room.")
    floor: int = Field(description="Floor of the front door (0 = ground floor, -1 basement).")
    rent_base: float = Field(description="Kale huur, EUR per month.")
    available_from: date = Field(description="First day it can be let (`YYYY-MM-DD`).")
    contingent: bool = Field(
        description="Offered under the outflow contingent (no registration duration needed)."
    )


class OptimalityOut(BaseModel):
    """Why the proposal is not proven optimal, and how far from optimal it can be at most."""

    reason: str = Field(
        description="`time_budget`: the solver's time budget ran out before it could prove the "
        "optimum (UITSTROOM_SOLVER_TIME_BUDGET_SECONDS); `solver_status`: the linear "
        "programming solver stopped without an answer it could prove (a numerical status)."
    )
    time_budget_seconds: float = Field(
        description="The solver's time budget that ran out, in seconds."
    )
    people_housed_bound: int = Field(
        description="At most this many cases could be housed (the proposal houses `people_housed`)."
    )
    score_bound: float | None = Field(
        description="At most this total score at `people_housed`, when that count is proven; "
        "null otherwise and in the views of care providers and corporations."
    )


class AgendaSummary(BaseModel):
    ready_cases: int = Field(
        description=(
            "Cases taking part: ready (uitstroomklaar) on the date and not on hold "
            "or in an open proposal."
        )
    )
    vacancies: int = Field(
        description=(
            "Available dwellings of the table taking part (not in an open "
            "proposal); those outside the horizon count but fit no case."
        )
    )
    feasible_pairs: int = Field(description="Case-dwelling pairs that pass every hard rule.")
    people_housed: int = Field(
        description="Cases in the proposal (the maximum possible when `optimal`)."
    )
    persons_housed: int = Field(description="Adults and children in those households.")
    blocked_cases: int = Field(description="Ready cases with no feasible dwelling.")
    passed_over_complete: bool = Field(
        description="False when a re-solve limit left a passed-over or left-unhoused check "
        "undone (those lists may then miss entries)."
    )
    solver: str = Field(
        description=(
            "The method that solved the proposal: `assignment`, `assignment_split`,"
            " `components` or `milp`."
        )
    )
    optimal: bool = Field(
        default=True,
        description="The proposal is proven optimal (most people housed, then the highest "
        "total score). False only when the solver's time budget ran out: the proposal still "
        "keeps every rule and cap, and `optimality` says how far from optimal it can be.",
    )
    optimality: OptimalityOut | None = Field(default=None, description="Null when `optimal`.")


class AgendaPageOut(BaseModel):
    """Which page of the per-case and per-dwelling sections this is, and how many entries the
    view has in each over all pages (null: the view has no such section)."""

    limit: int = Field(
        description="Entries per page of the per-case sections (`candidates_by_case`, and of "
        "those cases the ones in `left_unhoused` and `bottlenecks.blocked_cases`) and of the "
        "per-dwelling ones (`candidates_by_vacancy`, and of those dwellings the ones in "
        "`vacancies_without_candidates`)."
    )
    cases_total: int | None = Field(
        description="Entries of `candidates_by_case` over all pages: the view's ready cases."
    )
    left_unhoused_total: int | None = Field(
        description="Entries of `left_unhoused` over all pages."
    )
    blocked_cases_total: int | None = Field(
        description="Entries of `bottlenecks.blocked_cases` over all pages."
    )
    vacancies_total: int | None = Field(
        description="Entries of `candidates_by_vacancy` over all pages: the view's dwellings."
    )
    vacancies_without_candidates_total: int | None = Field(
        description="Entries of `vacancies_without_candidates` over all pages."
    )


PAGED_AGENDA = (
    " The per-case and per-dwelling sections come `limit` entries at a time (see `page`); the "
    "proposals, open items and summaries come whole on every page."
)


class _AgendaHead(BaseModel):
    """What every view of an agenda has: the table, date, policy and limits (no case data), and
    which page of its per-case and per-dwelling sections it is (`app.agenda.paging`)."""

    page: AgendaPageOut = Field(
        description="Which page this is: its `limit` and the paged sections' totals." + PAGED_AGENDA
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same `date`) for the next page of the per-case "
        "and per-dwelling sections; null on the last page. A cursor from a view that reads "
        "otherwise now is refused with 409 `agenda_changed` (start again from the first page); "
        "one of another agenda, date, view or `candidates` with 400 `invalid_cursor`."
    )

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


class _OpenProposalFields(BaseModel):
    """What every view shows of an open proposal of an earlier meeting."""

    proposal_id: uuid.UUID
    meeting_id: uuid.UUID
    meeting_date: date = Field(description="The date of the meeting that made the proposal.")
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    vacancy_ref: str = Field(description="The corporation's reference of the dwelling.")
    status: str = Field(
        description="proposed, nominated, accepted, viewing_planned or tenancy_signed."
    )
    since: date = Field(
        description="The day it entered that status (Europe/Amsterdam), or its meeting's day "
        "when that is later: nobody decides on it before."
    )
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


class OpenProposalOut(_OpenProposalFields):
    """An open proposal of an earlier meeting of the table (`app.agenda.open_proposals`)."""

    care_provider_id: uuid.UUID
    corporation_id: uuid.UUID
    score: float


class CorporationOpenProposalOut(_OpenProposalFields):
    """An open proposal of one of its dwellings from an earlier meeting: no score."""

    model_config = ConfigDict(extra="forbid")


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

    view: Literal[AgendaView.table] = Field(
        description="Which view this is: `table` (the chair and municipality members: everything)."
    )
    summary: AgendaSummary = Field(description="Counts over the whole table.")
    proposals: list[ProposalOut] = Field(
        description=(
            "The proposal: at most one dwelling per case and one case per dwelling,"
            " housing the most people, then the highest total score."
        )
    )
    candidates_by_case: list[CaseCandidatesOut] = Field(
        description=(
            "Per ready case: feasible dwellings ranked by score, and dwellings excluded per reason."
        )
    )
    candidates_by_vacancy: list[VacancyCandidatesOut] = Field(
        description="Per dwelling: feasible cases ranked by score, for the corporation."
    )
    bottlenecks: BottlenecksOut | None = Field(
        description=(
            "Cases with no feasible dwelling and which single change would unblock "
            "most; null when there are none."
        )
    )
    left_unhoused: list[LeftUnhousedOut] = Field(
        default_factory=list,
        description="Every case with a fitting dwelling that the proposal leaves unhoused, with "
        "its best alternative, best score first; in a published agenda, not a case anonymised "
        "since (nor its id and score in another's `also_housed`).",
    )
    longest_waiting: list[WaitingCaseOut] = Field(
        description="Ready cases waiting longest since `ready_since`, longest first."
    )
    vacancies_without_candidates: list[VacancyWithoutCandidatesOut] = Field(
        description="Dwellings no case fits, with what blocks them."
    )
    open_actions: list[OpenActionOut] = Field(
        description="Actions still open (and whether overdue) on the agenda's date."
    )
    open_proposals: list[OpenProposalOut] = Field(
        default_factory=list, description=OPEN_PROPOSALS_DESCRIPTION
    )
    aftercare: list[AftercareItemOut] = Field(default_factory=list, description=AFTERCARE)


SUPPRESSED_COUNT = "; null (suppressed) when the part that is not the viewer's own is 1 to 4."


class RestrictedOptimalityOut(BaseModel):
    """`OptimalityOut` for care providers and corporations: no score bound (a total over every
    case's score) and no people bound (the least of the cases some dwelling fits, the dwellings
    some case fits and their rooms: the table's counts these viewers do not get)."""

    reason: str = Field(
        description="`time_budget`: the solver's time budget ran out before it proved the optimum; "
        "`solver_status`: the solver stopped without an answer it could prove."
    )
    time_budget_seconds: float = Field(
        description="The solver's time budget that ran out, in seconds."
    )
    people_housed_bound: int | None = Field(
        description=(
            "Null here: at most this many cases could be housed, the least of the table's "
            "fitting cases and dwellings and their rooms, counts these viewers do not get."
        )
    )


class RestrictedSummary(BaseModel):
    """The summary for care providers and corporations. It has no count of the table's cases
    (ready, blocked, fitting pairs): each agenda protected on its own, two side by side still
    gave the change in other organisations' cases between them; the monitor's flows give those
    counts protected across every answer. `people_housed` (the proposal's cases) is null when
    the part that is not the viewer's own is 1 to 4 (the monitor's suppression,
    `app.monitor.suppression`); `persons_housed` is hidden with it (others' persons are at least
    others' cases). Nor the count of dwellings taking part: those proposed at a meeting leave the
    next agenda, so it fell by the proposals a suppressed `people_housed` hid."""

    people_housed: int | None = Field(
        description="Cases in the proposal; null on an agenda not yet published (asked on two "
        "days, the count moved with others' cases), and" + SUPPRESSED_COUNT.removeprefix(";")
    )
    persons_housed: int | None = Field(
        description="Adults and children in those households; hidden with `people_housed`."
    )
    passed_over_complete: bool = Field(
        description="False when a re-solve limit left a passed-over or left-unhoused check undone."
    )
    solver: str = Field(
        description=(
            "The method that solved the proposal: `assignment`, `assignment_split`,"
            " `components` or `milp`."
        )
    )
    optimal: bool = Field(
        default=True,
        description=(
            "The proposal is proven optimal; false only when the solver's time budget ran out."
        ),
    )
    optimality: RestrictedOptimalityOut | None = Field(
        default=None, description="Null when `optimal`; otherwise how far from optimal it can be."
    )


class CareProviderAgenda(_AgendaHead):
    """A care provider's view: its own cases only; other providers' cases appear without id or
    score (in `left_unhoused[].displaced`), and the summary is suppressed."""

    view: Literal[AgendaView.care_provider] = Field(
        description="Which view this is: `care_provider` (its own cases only)."
    )
    summary: RestrictedSummary = Field(
        description=(
            "The proposal's counts, suppressed where they would reveal other providers' cases;"
            " no count of the table's cases."
        )
    )
    proposals: list[ProposalOut] = Field(description="Proposals of its own cases.")
    candidates_by_case: list[CareProviderCaseCandidatesOut] = Field(
        description=(
            "Per own ready case: feasible dwellings ranked by score, and the reasons that "
            "exclude the others (without their counts: see `excluded_reasons`)."
        )
    )
    bottlenecks: CareProviderBottlenecksOut | None = Field(description="Over its own cases only.")
    left_unhoused: list[LeftUnhousedOut] = Field(
        default_factory=list,
        description="Its own cases left unhoused (`total_score_if_given` null).",
    )
    longest_waiting: list[WaitingCaseOut] = Field(
        description="Its own ready cases waiting longest, longest first."
    )
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
    """One of its dwellings. Without the count of the cases fitting it: a dwelling on two
    agendas gave the change in the cases fitting it, week to week."""

    vacancy_id: uuid.UUID


UNBLOCKED_FEWEST = "unblocked_fewest"
"""The key, in an entry of the table document's `vacancies_without_candidates`, of the fewest
cases one rule of its `unblocked_by` alone keeps out (`matching.DwellingWithoutCandidates`):
the views read it (`app.agenda.views.restrict`) and none shows it. Absent from agendas frozen
before it was kept."""


class CorporationVacancyWithoutCandidatesOut(_Closed):
    vacancy_id: uuid.UUID
    unblocked_by: list[str] | None = Field(
        description="Rules that alone would open the dwelling to some case; null when the "
        "table has 1 to 4 ready cases, or a rule of them alone keeps 1 to 4 cases out (the rule "
        "would describe them), and on agendas frozen before that number was kept."
    )


class CorporationActionOut(_Closed):
    """One of its own open actions, without the case it concerns."""

    id: uuid.UUID
    kind: str = Field(description=ACTION_KIND_DESCRIPTION)
    owner_organisation_id: uuid.UUID
    meeting_id: uuid.UUID | None
    due_date: date
    overdue: bool = Field(description="Still open after its `due_date`.")


class CorporationSummary(RestrictedSummary, _Closed):
    pass


class CorporationAgenda(_AgendaHead, _Closed):
    """A housing corporation's view: its own dwellings and the cases proposed for them. No
    score, score component, case date, waiting time, rank among cases or rule failure of a case
    (see the README's "What a corporation sees")."""

    view: Literal[AgendaView.housing_corporation] = Field(
        description="Which view this is: `housing_corporation` (its own dwellings, no case detail)."
    )
    summary: CorporationSummary = Field(
        description="Counts over the table, suppressed where they would describe few cases."
    )
    proposals: list[CorporationProposalOut] = Field(
        description="Proposals of its dwellings, in dwelling id order (not by score)."
    )
    candidates_by_vacancy: list[CorporationVacancyOut] = Field(
        description="Its own dwellings (no count, no list, no ranking); some case fits each "
        "but those also in `vacancies_without_candidates`."
    )
    vacancies_without_candidates: list[CorporationVacancyWithoutCandidatesOut] = Field(
        description="Its own dwellings no case fits."
    )
    open_actions: list[CorporationActionOut] = Field(
        description="Its own open actions, without the case they concern."
    )
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
    detail: dict[str, str | int | bool | None] = Field(
        description=(
            "The figures behind the failure (e.g. the test rent and the cap in EUR,"
            " the months registered and needed), by name."
        )
    )


class PairTradeOffOut(BaseModel):
    """Why a feasible pair is not in the agenda's proposal: the best proposal with the pair."""

    code: TradeOff = Field(
        description=(
            "Why the pair is not proposed: `fewer_housed`, `lower_total_score` or "
            "`equal_alternative` (the fixed tie-break)."
        )
    )
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
    also_housed: list[AlsoHousedOut] = Field(
        description="The cases the agenda leaves unhoused that the best proposal with this "
        "pair houses besides; with `changes` the whole difference."
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
    score: float | None = Field(description="The pair's score when feasible; null otherwise.")
    components: list[ScoreComponentOut] | None = Field(
        description="The score's components when feasible; null otherwise."
    )
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


NEXT_CURSOR = "Pass as `cursor` for the next page; null on the last page."


class CaseCandidatesPage(BaseModel):
    """A page of one case's whole candidate list on the agenda of `date`, ranked as the agenda
    ranks it (the agenda's `candidates_by_case` entry lists its first `candidates`), as the
    table gets it (a care provider: `CareProviderCaseCandidatesPage`)."""

    case_id: uuid.UUID = Field(description="The case.")
    date: Annotated[date, Field(description="The agenda's date.")]
    feasible_count: int = Field(description="Dwellings that pass every hard rule for the case.")
    excluded_counts: dict[str, int] = Field(description="Reason code -> dwellings failing it.")
    items: list[RankedVacancyOut] = Field(
        description="Feasible dwellings, best first (score, then dwelling id), from the cursor on."
    )
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class CareProviderCaseCandidatesPage(BaseModel):
    """`CaseCandidatesPage` as the case's own care provider gets it: the reasons that exclude
    dwellings without their counts (`excluded_reasons`)."""

    case_id: uuid.UUID = Field(description="The case.")
    date: Annotated[date, Field(description="The agenda's date.")]
    feasible_count: int = Field(description=OWN_FEASIBLE)
    excluded_reasons: list[str] = Field(description=EXCLUDED_REASONS)
    items: list[RankedVacancyOut] = Field(
        description="Feasible dwellings, best first (score, then dwelling id), from the cursor on."
    )
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class VacancyCandidatesPage(BaseModel):
    """A page of one dwelling's whole candidate list on the agenda of `date`, ranked as the
    agenda ranks it (the agenda's `candidates_by_vacancy` entry lists its first `candidates`)."""

    vacancy_id: uuid.UUID = Field(description="The dwelling.")
    date: Annotated[date, Field(description="The agenda's date.")]
    feasible_count: int = Field(description="Cases that pass every hard rule for the dwelling.")
    excluded_counts: dict[str, int] = Field(description="Reason code -> cases failing it.")
    items: list[RankedCaseOut] = Field(
        description="Feasible cases, best first (score, then case id), from the cursor on."
    )
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class BestAlternative(BaseModel):
    """One case's `left_unhoused` entry on the agenda of `date`, with every proposal its best
    alternative changes (the agenda lists the first `candidates` of them)."""

    case_id: uuid.UUID = Field(description="The case the agenda leaves unhoused.")
    date: Annotated[date, Field(description="The agenda's date.")]
    vacancy_id: uuid.UUID = Field(description="The dwelling it gets in its best alternative.")
    score: float = Field(description="Its score on that dwelling.")
    housed_if_given: int | None = Field(
        description="People the alternative houses; null in a care provider's answer."
    )
    total_score_if_given: float | None = Field(
        description="The alternative's total score; null in a care provider's answer."
    )
    trade_off: TradeOff = Field(
        description=(
            "Why the alternative was not chosen: `fewer_housed`, `lower_total_score` or "
            "`equal_alternative` (the fixed tie-break)."
        )
    )
    displaced: list[ChangeOut] = Field(
        description=(
            "Every proposal that alternative changes, in the order of the dwellings they hold "
            "(the agenda's `displaced` is its head). In a care provider's answer other "
            "providers' cases have no id or score."
        )
    )
    displaced_count: int = Field(description="How many proposals that alternative changes.")
    also_housed: list[AlsoHousedOut] | None = Field(
        description=(
            "Every case the agenda leaves unhoused that the alternative houses besides, in the "
            "order of the dwellings they get (the agenda's `also_housed` is its head); with "
            "`displaced` the whole difference. In a care provider's answer other providers' "
            "cases have no id or score. Null for a meeting published before this field "
            "existed."
        )
    )
    also_housed_count: int | None = Field(
        description="How many cases the alternative houses besides; null as `also_housed`."
    )
