"""One pair explained exactly as the agenda of that date treats it.

`explain_in_agenda` starts from the same `solve_meeting` as `match` (same inputs in the same
order, same evaluation, same solver), so its answer cannot disagree with the agenda: the reason
codes are the pair's bits of the agenda's failure matrix (with the figures from
`failures.rule_failures`, the same loop over the rules, checked to agree), `proposed` is
whether the agenda's proposal holds the pair, and for a feasible pair it does not hold, the
trade-off is the best proposal with the pair forced. Where the agenda lists the case in
`left_unhoused` with this very dwelling, that is the agenda's best alternative, computed by the
same check (`unhoused.best_alternatives`, stopped after the case): several alternatives can be
equally good, and a re-solve of its own could name another (other `changes`). Every other pair
is re-solved exactly with the pair forced.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from app.matching.declines import decline_index
from app.matching.engine import (
    PASSED_OVER_RESOLVE_LIMIT,
    Solved,
    also_housed_by,
    checks_deadline_of,
    displaced_by,
    moves_of,
    pair_edge,
    solve_meeting,
    trade_off,
)
from app.matching.facts import case_facts
from app.matching.failures import rule_failures
from app.matching.results import AlsoHoused, Displaced, RuleFailure, ScoreComponent
from app.matching.tradeoffs import solve_with_pair
from app.matching.types import (
    CaseProfile,
    Dwelling,
    EarlierDecline,
    Policy,
    SpreadUsage,
    YearLimits,
)
from app.matching.unhoused import best_alternatives
from app.matching.units import output_score


@dataclass(frozen=True, slots=True)
class PairTradeOff:
    """Why a feasible pair is not in the proposal: the best proposal with the pair forced houses
    `housed_if_given` people with total `total_score_if_given` against the proposal's `housed`
    and `total_score`; `trade_off` says which decided (`fewer_housed`, `lower_total_score`,
    `equal_alternative`). `dwelling_proposed_to`: the case the proposal gives the dwelling (None:
    nobody, its complex or neighbourhood room went elsewhere); `case_proposed_dwelling`: the
    dwelling the proposal gives the case. `changes`: the proposals that best alternative changes;
    `also_housed`: the cases it houses besides that the proposal leaves unhoused.
    """

    housed: int
    total_score: float
    housed_if_given: int
    total_score_if_given: float
    trade_off: str
    dwelling_proposed_to: str | None
    case_proposed_dwelling: str | None
    changes: list[Displaced]
    also_housed: list[AlsoHoused]


@dataclass(frozen=True, slots=True)
class AgendaPairExplanation:
    """A pair as the agenda of the date treats it: its failing rules (empty when feasible), its
    score, whether the proposal holds it and, if feasible but not held, the trade-off.

    `optimal`: the proposal is proven optimal. It is False only when the solver's time budget ran
    out; the trade-off (defined against the optimum) is then None, as it is when the re-solve
    with the pair forced runs out of time.
    """

    case_id: str
    dwelling_id: str
    feasible: bool
    proposed: bool
    reasons: list[RuleFailure]
    score: float | None
    components: list[ScoreComponent] | None
    trade_off: PairTradeOff | None
    optimal: bool = True


def explain_in_agenda(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None,
    declines: Iterable[EarlierDecline],
    case_id: str,
    dwelling_id: str,
    method: str = "auto",
    time_budget: float | None = None,
) -> AgendaPairExplanation:
    """Explain (case_id, dwelling_id) within the meeting given by the other arguments (as `match`
    takes them, `time_budget` included). Raises ValueError when the case or the dwelling is not
    among the inputs, and RuntimeError if the scalar and vectorised rules disagree (a bug, never
    a user error)."""
    declines = list(declines)
    solved = solve_meeting(
        cases,
        dwellings,
        policy,
        limits,
        meeting_date,
        usage,
        declines,
        method,
        time_budget=time_budget,
    )
    evaluation, problem, assignment = solved.evaluation, solved.problem, solved.assignment
    i, j = evaluation.case_index(case_id), evaluation.dwelling_index(dwelling_id)
    codes = evaluation.reasons(i, j)
    if codes:
        case, dwelling = solved.cases[i], solved.dwellings[j]
        failures = rule_failures(
            case,
            dwelling,
            policy,
            limits,
            meeting_date,
            usage or SpreadUsage(),
            case_facts(case, policy, limits, meeting_date),
            decline_index(declines, policy, meeting_date),
        )
        if [f.code for f in failures] != codes:
            raise RuntimeError(f"rules disagree on ({case_id}, {dwelling_id})")
        return AgendaPairExplanation(
            case_id, dwelling_id, False, False, failures, None, None, None, assignment.optimal
        )
    edge = pair_edge(problem, i, j)
    proposed = bool(np.isin(edge, assignment.edges))
    explained = AgendaPairExplanation(
        case_id,
        dwelling_id,
        True,
        proposed,
        [],
        evaluation.score(i, j),
        evaluation.components(i, j),
        None,
        assignment.optimal,
    )
    holder = {int(problem.edge_dwelling[e]): int(problem.edge_case[e]) for e in assignment.edges}
    home = {int(problem.edge_case[e]): int(problem.edge_dwelling[e]) for e in assignment.edges}
    found = None if proposed or not assignment.optimal else _alternative(solved, i, j, home)
    if found is None:
        return explained
    housed_if, total_if, moves = found
    return replace(
        explained,
        trade_off=PairTradeOff(
            housed=assignment.count,
            total_score=output_score(assignment.total_score),
            housed_if_given=housed_if,
            total_score_if_given=output_score(total_if),
            trade_off=trade_off(assignment.count, assignment.total_score, housed_if, total_if),
            dwelling_proposed_to=(evaluation.case_ids[holder[j]] if j in holder else None),
            case_proposed_dwelling=(evaluation.dwelling_ids[home[i]] if i in home else None),
            changes=[change for _, change in displaced_by(solved, moves)],
            also_housed=also_housed_by(solved, moves, i),
        ),
    )


def _alternative(
    solved: Solved, i: int, j: int, home: dict[int, int]
) -> tuple[int, int, dict[int, int | None]] | None:
    """The best proposal giving case i dwelling j, as (people housed, total score in
    micro-points, moves relative to the proposal); None when it could not be proven in time.

    For a case the proposal leaves unhoused, the agenda's left-unhoused check is run up to that
    case, with the agenda's limit and time share: when its best alternative is on dwelling j,
    it is the best proposal with the pair forced (the best over all the case's dwellings), and
    why-not names that one, so the two never name different alternatives of equal worth."""
    problem = solved.problem
    if i not in home:
        check = best_alternatives(
            problem,
            solved.assignment,
            PASSED_OVER_RESOLVE_LIMIT,
            checks_deadline_of(solved),
            until_case=i,
        )
        best = next((b for b in check.alternatives if b.case == i), None)
        if best is not None and best.dwelling == j:
            return best.housed, best.total, best.moves
    found = solve_with_pair(problem, pair_edge(problem, i, j), solved.deadline)
    if found is None:
        return None
    housed_if, total_if, chosen = found
    return housed_if, total_if, moves_of(solved, chosen)
