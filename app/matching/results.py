"""The engine's outputs: plain dataclasses, JSON-ready through `dataclasses.asdict`.

Scores and component figures are already rounded to 4 decimals; ids are as given.
"""

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Detail = dict[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """One failing hard rule of a pair, with the figures that decided it (money as '713.02')."""

    code: str
    detail: Detail


@dataclass(frozen=True, slots=True)
class ScoreComponent:
    """One named part of a score: points = weight * value."""

    name: str
    value: float
    weight: float
    points: float


@dataclass(frozen=True, slots=True)
class PairExplanation:
    """Why a dwelling is or is not open to a case, and how it scores if it is."""

    case_id: str
    dwelling_id: str
    feasible: bool
    reasons: list[RuleFailure]
    score: float | None
    components: list[ScoreComponent] | None


@dataclass(frozen=True, slots=True)
class PassedOver:
    """A case passed over by a proposal: it scores higher on the proposed dwelling and getting it
    would house fewer people, or it is left unhoused and its best alternative (on
    `alternative_dwelling_id`, where it scores `score`) would change this lower-scoring proposal.

    `trade_off`: `fewer_housed`, `lower_total_score` or `equal_alternative` (see `unhoused`).
    """

    case_id: str
    score: float
    received_dwelling_id: str | None
    housed_if_given: int
    trade_off: str
    alternative_dwelling_id: str


@dataclass(frozen=True, slots=True)
class Displaced:
    """A proposal that a case's best alternative changes: the case moves to another dwelling or
    (`moves_to_dwelling_id` None) is left unhoused."""

    case_id: str
    dwelling_id: str
    score: float
    moves_to_dwelling_id: str | None


@dataclass(frozen=True, slots=True)
class AlsoHoused:
    """A case the proposal leaves unhoused that a case's best alternative houses besides that
    case: on `dwelling_id`, where it scores `score`. With the `Displaced` changes it makes the
    whole difference between the proposal and the alternative."""

    case_id: str
    dwelling_id: str
    score: float


@dataclass(frozen=True, slots=True)
class LeftUnhoused:
    """A case with a feasible dwelling that the proposal leaves unhoused, and its best alternative:
    the best proposal in which it is housed (most people, then highest total score).

    It would get `dwelling_id` (scoring `score`), house `housed_if_given` people with total score
    `total_score_if_given`, change the proposals in `displaced` and house the cases in
    `also_housed` besides (both in dwelling order). `trade_off`: `fewer_housed`,
    `lower_total_score` or `equal_alternative` (as many, same total; the tie-break chose ours).
    """

    case_id: str
    dwelling_id: str
    score: float
    housed_if_given: int
    total_score_if_given: float
    trade_off: str
    displaced: list[Displaced]
    also_housed: list[AlsoHoused]


@dataclass(frozen=True, slots=True)
class Proposal:
    """One case-dwelling pair of the optimal proposal."""

    case_id: str
    dwelling_id: str
    score: float
    components: list[ScoreComponent]
    passed_over: list[PassedOver]


@dataclass(frozen=True, slots=True)
class RankedDwelling:
    """A listed candidate; `components` None when the lists were asked without them."""

    dwelling_id: str
    score: float
    components: list[ScoreComponent] | None


@dataclass(frozen=True, slots=True)
class RankedCase:
    """A listed candidate; `components` None when the lists were asked without them."""

    case_id: str
    score: float
    components: list[ScoreComponent] | None


@dataclass(frozen=True, slots=True)
class CaseCandidates:
    """A case's feasible dwellings, best first (top k), and why the others are excluded."""

    case_id: str
    feasible_count: int
    candidates: list[RankedDwelling]
    excluded_counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class DwellingCandidates:
    """A dwelling's feasible cases, best first (top k), and why the others are excluded."""

    dwelling_id: str
    feasible_count: int
    candidates: list[RankedCase]
    excluded_counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class BlockedCase:
    """A case with no feasible dwelling.

    `unblocked_by`: reasons that alone would open some dwelling (that dwelling fails only that
    reason). `min_reasons`: fewest reasons any dwelling fails on (None if there are no dwellings).
    `closest_reasons`: the reason set shared by most of the dwellings failing on `min_reasons`.
    """

    case_id: str
    excluded_counts: dict[str, int]
    unblocked_by: list[str]
    min_reasons: int | None
    closest_reasons: list[str]


@dataclass(frozen=True, slots=True)
class ReasonBottleneck:
    """How much one reason blocks: `cases_blocked_only_by` cases get a dwelling if it is waived."""

    code: str
    cases_blocked_only_by: int
    case_ids: list[str]
    blocked_cases_failing: int


@dataclass(frozen=True, slots=True)
class BottleneckGroup:
    """Blocked cases that one change would unblock.

    waive == "any": waiving any one of `reasons` opens a dwelling for each case (their
    `unblocked_by`). waive == "all": no single reason does; the closest dwellings need all of them.
    """

    reasons: list[str]
    waive: Literal["any", "all"]
    count: int
    case_ids: list[str]


@dataclass(frozen=True, slots=True)
class DwellingWithoutCandidates:
    """A dwelling no case fits. `unblocked_fewest`: the fewest cases one reason of
    `unblocked_by` alone keeps out (None when no reason does): below five, that reason
    describes those few cases."""

    dwelling_id: str
    excluded_counts: dict[str, int]
    unblocked_by: list[str]
    min_reasons: int | None
    unblocked_fewest: int | None = None


@dataclass(frozen=True, slots=True)
class Bottlenecks:
    blocked_cases: list[BlockedCase]
    by_reason: list[ReasonBottleneck]
    groups: list[BottleneckGroup]
    dwellings_without_candidates: list[DwellingWithoutCandidates]


@dataclass(frozen=True, slots=True)
class MatchStats:
    """Sizes, the solver path taken and phase timings (timings vary between runs).

    `people_housed` counts cases (clients); `persons_housed` adds their household members.
    `solver`: "assignment" (caps nest), "assignment_split" (branch and bound over splits of
    complexes straddling neighbourhoods, `solver_subproblems` assignments solved), "components"
    (per connected component: assignment, or linear programming with a checked bound;
    `solver_subproblems` components), "milp" or "none" (no feasible pair). `solver_edges`:
    feasible pairs left after provably safe pruning.
    """

    cases: int
    dwellings: int
    feasible_pairs: int
    people_housed: int
    persons_housed: int
    solver: str
    groups_nested: bool
    solver_edges: int
    solver_subproblems: int
    passed_over_resolves: int
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Optimality:
    """Whether the proposal is proven optimal, and if not, how far from it it can be at most.

    `proven` False only when the solver's time budget ran out (`reason` "time_budget") or HiGHS
    ended in a status that settles nothing (`reason` "solver_status"; `straddling.NotSettled`): the
    proposal then keeps every rule and cap, the components of the table solved in time are
    optimal, and at most `people_housed_bound` people could be housed; `score_bound` bounds the
    total score when the count is proven (else None). Bounds are None when proven.
    """

    proven: bool = True
    reason: str | None = None
    people_housed_bound: int | None = None
    score_bound: float | None = None


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Everything a weekly table needs from the engine for one meeting.

    `passed_over_complete` is False when a re-solve limit left some passed-over or left-unhoused
    check undone (those lists may then miss entries).
    """

    proposals: list[Proposal]
    passed_over_complete: bool
    candidates_by_case: dict[str, CaseCandidates]
    candidates_by_dwelling: dict[str, DwellingCandidates]
    bottlenecks: Bottlenecks
    left_unhoused: list[LeftUnhoused]
    stats: MatchStats
    optimality: Optimality = field(default_factory=Optimality)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
