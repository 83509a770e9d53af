# Size: `match` and the parts of its result (candidates, passed over, left unhoused) read the
# same solved problem; split, each part would need the whole `Solved` anyway.
"""`match`: the whole weekly result (proposal, candidate lists, bottlenecks), and the greedy
baseline the benchmark compares it with."""

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.matching.bottlenecks import excluded_counts_rows, find_bottlenecks
from app.matching.evaluation import Evaluation, evaluate
from app.matching.ranking import order_within
from app.matching.results import (
    AlsoHoused,
    CaseCandidates,
    Displaced,
    DwellingCandidates,
    LeftUnhoused,
    MatchResult,
    MatchStats,
    Optimality,
    PassedOver,
    Proposal,
    RankedCase,
    RankedDwelling,
)
from app.matching.scoring import output_scores
from app.matching.solver import Assignment, AssignmentProblem, lift_implied_caps, solve
from app.matching.tradeoffs import (
    EQUAL_ALTERNATIVE,
    FEWER_HOUSED,
    LOWER_TOTAL_SCORE,
    PassedOverCheck,
    passed_over,
)
from app.matching.types import (
    CaseProfile,
    Dwelling,
    EarlierDecline,
    Policy,
    SpreadUsage,
    YearLimits,
)
from app.matching.unhoused import UnhousedCheck, best_alternatives, moves_between, pairs_of
from app.matching.units import output_score


def _room(keys: list[str], cap: int, usage: Mapping[str, int]) -> np.ndarray:
    """Remaining room per group: the cap minus what the spread window already holds, at least 0."""
    return np.array([max(0, cap - usage.get(key, 0)) for key in keys], dtype=np.int64)


def build_problem(
    evaluation: Evaluation, dwellings: Sequence[Dwelling], policy: Policy, usage: SpreadUsage
) -> AssignmentProblem:
    """The feasible pairs and the remaining room per complex and neighbourhood."""
    complexes = sorted({d.complex_key for d in dwellings})
    hoods = sorted({d.neighbourhood_code for d in dwellings})
    complex_index = {key: i for i, key in enumerate(complexes)}
    hood_index = {key: i for i, key in enumerate(hoods)}
    return AssignmentProblem(
        n_cases=len(evaluation.case_ids),
        n_dwellings=len(dwellings),
        edge_case=evaluation.pair_case,
        edge_dwelling=evaluation.pair_dwelling,
        edge_score=evaluation.pair_units,
        complex_of=np.array([complex_index[d.complex_key] for d in dwellings], dtype=np.int64),
        neighbourhood_of=np.array(
            [hood_index[d.neighbourhood_code] for d in dwellings], dtype=np.int64
        ),
        complex_room=_room(complexes, policy.max_per_complex, usage.per_complex),
        neighbourhood_room=_room(hoods, policy.max_per_neighbourhood, usage.per_neighbourhood),
    )


def _best_edges(owner: np.ndarray, score: np.ndarray, owners: int, top_k: int) -> np.ndarray:
    """The edges each owner (case or dwelling) lists: its best `top_k`, best first (score desc,
    then partner id: edges are in id order and the ranking keeps it), owner after owner. One
    vectorised ranking over the feasible edges; nothing is built per edge."""
    order, rank = order_within(owner, score)
    chosen: np.ndarray = order[rank < max(top_k, 0)]
    return chosen


def _bounds(owner: np.ndarray, owners: int) -> list[int]:
    """Where each owner's entries start and end in a list grouped by owner (owners + 1 ints)."""
    counts = np.bincount(owner, minlength=owners)
    bounds: list[int] = np.concatenate([[0], np.cumsum(counts)]).tolist()
    return bounds


def _candidates(
    evaluation: Evaluation, problem: AssignmentProblem, top_k: int, with_components: bool = True
) -> tuple[dict[str, CaseCandidates], dict[str, DwellingCandidates]]:
    """Per case and per dwelling its best `top_k` partners with score and (`with_components`)
    components, else None for them.

    Only the listed pairs become objects; their scores and components are rounded once per
    distinct figure (`scoring.output_scores`, `Evaluation.components_of`), the same figures as
    `Evaluation.components` gives pair by pair."""
    case_ids, dwelling_ids = evaluation.case_ids, evaluation.dwelling_ids
    cases, dwellings, score = problem.edge_case, problem.edge_dwelling, problem.edge_score
    for_cases = _best_edges(cases, score, len(case_ids), top_k)
    for_dwellings = _best_edges(dwellings, score, len(dwelling_ids), top_k)
    # A pair listed on both sides is rounded once and its components shared.
    edges, slot = np.unique(np.concatenate([for_cases, for_dwellings]), return_inverse=True)
    parts = np.empty(len(edges), dtype=object)
    if with_components:
        parts[:] = evaluation.components_of(cases[edges], dwellings[edges])
    scores = np.array(output_scores(score[edges]), dtype=np.float64)
    slot = slot.reshape(-1)
    listed_parts, listed_scores = parts[slot].tolist(), scores[slot].tolist()
    split = len(for_cases)
    ids_of_dwellings = np.array(dwelling_ids, dtype=object)[dwellings[for_cases]].tolist()
    ids_of_cases = np.array(case_ids, dtype=object)[cases[for_dwellings]].tolist()
    ranked_dwellings = list(
        map(RankedDwelling, ids_of_dwellings, listed_scores[:split], listed_parts[:split])
    )
    ranked_cases = list(map(RankedCase, ids_of_cases, listed_scores[split:], listed_parts[split:]))
    per_case = np.bincount(cases, minlength=len(case_ids)).tolist()
    per_dwelling = np.bincount(dwellings, minlength=len(dwelling_ids)).tolist()
    case_bounds = _bounds(cases[for_cases], len(case_ids))
    dwelling_bounds = _bounds(dwellings[for_dwellings], len(dwelling_ids))
    case_excluded = excluded_counts_rows(evaluation.case_reason_counts)
    dwelling_excluded = excluded_counts_rows(evaluation.dwelling_reason_counts)
    by_case = {
        case_id: CaseCandidates(
            case_id,
            per_case[i],
            ranked_dwellings[case_bounds[i] : case_bounds[i + 1]],
            case_excluded[i],
        )
        for i, case_id in enumerate(case_ids)
    }
    by_dwelling = {
        dwelling_id: DwellingCandidates(
            dwelling_id,
            per_dwelling[j],
            ranked_cases[dwelling_bounds[j] : dwelling_bounds[j + 1]],
            dwelling_excluded[j],
        )
        for j, dwelling_id in enumerate(dwelling_ids)
    }
    return by_case, by_dwelling


def _sorted_inputs(
    cases: Sequence[CaseProfile], dwellings: Sequence[Dwelling]
) -> tuple[list[CaseProfile], list[Dwelling]]:
    """Canonical order by id: the same input in any order gives the same result."""
    return sorted(cases, key=lambda c: c.id), sorted(dwellings, key=lambda d: d.id)


@dataclass(frozen=True, slots=True, eq=False)
class Solved:
    """One meeting's inputs in id order, every pair evaluated, and the optimal proposal: what
    `match` and `whynot.explain_in_agenda` both start from, so they cannot disagree."""

    cases: list[CaseProfile]
    dwellings: list[Dwelling]
    evaluation: Evaluation
    problem: AssignmentProblem
    assignment: Assignment
    deadline: float | None = None  # time.monotonic() when the time budget runs out


def solve_meeting(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
    declines: Iterable[EarlierDecline] = (),
    method: str = "auto",
    lap: Callable[[str], None] = lambda _: None,
    time_budget: float | None = None,
) -> Solved:
    """Evaluate every pair (rules, declines, caps, scores) and solve the proposal exactly (or
    as far as `time_budget` seconds, counted from the start of the solve, allow; see `match`)."""
    usage = usage or SpreadUsage()
    cases, dwellings = _sorted_inputs(cases, dwellings)
    evaluation = evaluate(cases, dwellings, policy, limits, meeting_date, usage, declines)
    lap("evaluate")
    # Caps the others imply are lifted once here, so the solver and the checks below all see
    # the nested problem where there is one (`solver.lift_implied_caps`).
    problem = lift_implied_caps(build_problem(evaluation, dwellings, policy, usage))
    started = time.monotonic()
    deadline = None if time_budget is None else started + time_budget
    assignment = solve(problem, method, deadline=deadline)
    lap("solve")
    return Solved(cases, dwellings, evaluation, problem, assignment, deadline)


def trade_off(housed: int, total: int, housed_if: int, total_if: int) -> str:
    """Why an alternative was not chosen: it houses fewer, or as many with a lower total score,
    or it is exactly as good (the deterministic tie-break chose the proposal)."""
    if housed_if < housed:
        return FEWER_HOUSED
    return EQUAL_ALTERNATIVE if total_if == total else LOWER_TOTAL_SCORE


def pair_edge(problem: AssignmentProblem, case: int, dwelling: int) -> int:
    """The edge index of a feasible pair (edges are sorted by case, then dwelling)."""
    keys = problem.edge_case.astype(np.int64) * problem.n_dwellings + problem.edge_dwelling
    edge = int(np.searchsorted(keys, case * problem.n_dwellings + dwelling))
    if edge >= len(keys) or keys[edge] != case * problem.n_dwellings + dwelling:
        raise ValueError(f"({case}, {dwelling}) is not a feasible pair")
    return edge


@dataclass(frozen=True, slots=True)
class Held:
    """A proposal as the alternatives read it: its edge, dwelling and score (micro-points, and
    as shown)."""

    edge: int
    dwelling: int
    units: int
    score: float


def held_by_case(solved: Solved) -> dict[int, Held]:
    """Case -> its proposal, read from the problem's arrays once (the left-unhoused list reads
    about five per entry, for thousands of entries on a big city)."""
    problem, edges = solved.problem, solved.assignment.edges
    return {
        case: Held(edge, dwelling, units, output_score(units))
        for case, edge, dwelling, units in zip(
            problem.edge_case[edges].tolist(),
            edges.tolist(),
            problem.edge_dwelling[edges].tolist(),
            problem.edge_score[edges].tolist(),
            strict=True,
        )
    }


def displaced_by(
    solved: Solved, moves: Mapping[int, int | None], held_by: Mapping[int, Held] | None = None
) -> list[tuple[Held, Displaced]]:
    """The proposals an alternative changes (given as the moves of the cases whose dwelling
    differs), each with what it held, in the order of the dwellings they hold. `held_by`:
    `held_by_case(solved)` (computed when not given).

    Dwelling order, not case order: a care provider sees other providers' cases here without
    id (`app.agenda.views`), and case ids are time-ordered (UUIDv7), so in case order their
    places among its own would tell which were registered before which; dwelling ids it sees."""
    if held_by is None:
        held_by = held_by_case(solved)
    case_ids, dwelling_ids = solved.evaluation.case_ids, solved.evaluation.dwelling_ids
    held = sorted((held_by[c].dwelling, c) for c in moves if c in held_by)
    changes = []
    for dwelling, case in held:
        proposal, moved = held_by[case], moves[case]
        changes.append(
            (
                proposal,
                Displaced(
                    case_ids[case],
                    dwelling_ids[dwelling],
                    proposal.score,
                    dwelling_ids[moved] if moved is not None else None,
                ),
            )
        )
    return changes


def also_housed_by(
    solved: Solved,
    moves: Mapping[int, int | None],
    case: int,
    held_by: Mapping[int, Held] | None = None,
) -> list[AlsoHoused]:
    """The cases an alternative for `case` houses besides it that the proposal leaves unhoused
    (given as the moves of the cases whose dwelling differs), in the order of the dwellings
    they get (as `displaced_by`, for the same reason): with
    `displaced_by` the whole difference, so the proposal with both applied and `case` on its
    dwelling is the alternative. `held_by`: as for `displaced_by`."""
    if held_by is None:
        held_by = held_by_case(solved)
    pairs = sorted(
        ((c, d) for c, d in moves.items() if d is not None and c != case and c not in held_by),
        key=lambda pair: pair[1],
    )
    if not pairs:
        return []
    evaluation = solved.evaluation
    units = evaluation.units_of(np.array([c for c, _ in pairs]), np.array([d for _, d in pairs]))
    return [
        AlsoHoused(evaluation.case_ids[c], evaluation.dwelling_ids[d], output_score(int(u)))
        for (c, d), u in zip(pairs, units.tolist(), strict=True)
    ]


def moves_of(solved: Solved, chosen: np.ndarray) -> dict[int, int | None]:
    """An alternative's chosen edges as moves relative to the proposal."""
    problem = solved.problem
    return moves_between(pairs_of(problem, solved.assignment.edges), pairs_of(problem, chosen))


def _left_unhoused(
    solved: Solved, check: UnhousedCheck
) -> tuple[list[LeftUnhoused], dict[int, list[tuple[int, int, PassedOver]]]]:
    """The left-unhoused list, and per proposed dwelling the passed-over entries it adds (with
    their sort key): the displaced proposals that score lower than the case's alternative."""
    problem, assignment = solved.problem, solved.assignment
    case_ids, dwelling_ids = solved.evaluation.case_ids, solved.evaluation.dwelling_ids
    held_by = held_by_case(solved)
    entries: list[LeftUnhoused] = []
    extra: dict[int, list[tuple[int, int, PassedOver]]] = {}
    for best in check.alternatives:
        why = trade_off(assignment.count, assignment.total_score, best.housed, best.total)
        units = int(problem.edge_score[best.edge])
        score = output_score(units)
        dwelling = dwelling_ids[best.dwelling]
        changes = displaced_by(solved, best.moves, held_by)
        for held, _ in changes:
            if held.units < units:
                entry = PassedOver(case_ids[best.case], score, None, best.housed, why, dwelling)
                extra.setdefault(held.dwelling, []).append((-units, best.case, entry))
        entries.append(
            LeftUnhoused(
                case_ids[best.case],
                dwelling,
                score,
                best.housed,
                output_score(best.total),
                why,
                [change for _, change in changes],
                also_housed_by(solved, best.moves, best.case, held_by),
            )
        )
    entries.sort(key=lambda e: (-e.score, e.case_id))
    return entries, extra


PASSED_OVER_RESOLVE_LIMIT = 50
"""The exact re-solves the passed-over and left-unhoused checks may each need (`match`'s
default, and why-not's for the best alternative it shares with the agenda)."""

CHECKS_TIME_SECONDS = 1.0
"""Under a time budget, the passed-over and left-unhoused checks stop after this many seconds
(wall time from the end of the solve, never past the budget) and are flagged incomplete. Where
caps do not nest they can need one full re-solve per pair: without a bound a 300 x 150 table
with straddling complexes spent its whole 5 s budget on them after a 0.1 s solve. The share is
fixed rather than a multiple of the solve: a big city whose complexes straddle neighbourhoods
took 1.6 s to solve and was then given 3.4 s more for explanations (`bench_agenda
big-straddling`), while why-not and `/agenda/cases/{id}/alternative` answer any one case on
demand."""

PASSED_OVER_SHARE = 0.5
"""The part of `CHECKS_TIME_SECONDS` the passed-over check may use before the left-unhoused
check begins, so that neither starves the other; the left-unhoused check has the rest."""


def _checks_deadline(deadline: float | None) -> float | None:
    """The time.monotonic value at which the checks stop: the earlier of the budget's
    `deadline` and `CHECKS_TIME_SECONDS` from now; None (no bound) without a budget."""
    if deadline is None:
        return None
    return min(deadline, time.monotonic() + CHECKS_TIME_SECONDS)


def passed_over_deadline(checks_deadline: float | None) -> float | None:
    """When the passed-over check stops: `PASSED_OVER_SHARE` of the checks' share, counted
    from now (the start of the checks)."""
    if checks_deadline is None:
        return None
    return time.monotonic() + PASSED_OVER_SHARE * max(0.0, checks_deadline - time.monotonic())


def checks_deadline_of(solved: Solved) -> float | None:
    """`_checks_deadline` of a solved meeting: when its passed-over and left-unhoused checks
    (`match`'s, and why-not's share of them) stop."""
    return _checks_deadline(solved.deadline)


def match(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
    top_k: int = 10,
    *,
    declines: Iterable[EarlierDecline] = (),
    passed_over_resolve_limit: int = PASSED_OVER_RESOLVE_LIMIT,
    method: str = "auto",
    time_budget: float | None = None,
    candidate_components: bool = True,
) -> MatchResult:
    """The optimal proposal (most people housed, then most points) with its trade-offs, ranked
    candidates per case and per dwelling, the bottlenecks of blocked cases and the cases left
    unhoused with their best alternative.

    Inputs are put in id order first, so any order of the same input gives the same result.
    `declines` are the table's earlier declines (`declines.py`). `passed_over_resolve_limit`
    bounds the exact re-solves the passed-over and left-unhoused checks may each need when
    complexes straddle capped neighbourhoods (never when the caps nest);
    `passed_over_complete` on the result says whether a limit was reached. `method="milp"`
    forces the HiGHS route (for cross-checks).

    `time_budget` (seconds, None for none) bounds the solver and the passed-over re-solves,
    counted from the start of the solve. When it runs out before a table whose caps do not nest
    is settled, the proposal is still feasible, the parts solved in time stay optimal, and
    `optimality` says it is not proven with bounds on what an optimum could reach; the
    passed-over and left-unhoused checks are then skipped (`passed_over_complete` False), since
    they are defined against the optimum. Under a budget the checks also stop, flagged the same
    way, after `CHECKS_TIME_SECONDS` (the passed-over check within `PASSED_OVER_SHARE` of it):
    an agenda never spends its budget on explanations.

    `candidate_components` False leaves the candidate lists' components None (the proposals keep
    theirs): a big table lists tens of thousands of pairs, and `candidates.case_candidates` gives
    one list's components when they are asked for.
    """
    timings: dict[str, float] = {}
    start = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round((now - clock) * 1000, 2)
        clock = now

    solved = solve_meeting(
        cases, dwellings, policy, limits, meeting_date, usage, declines, method, lap, time_budget
    )
    cases, dwellings = solved.cases, solved.dwellings
    evaluation, problem, assignment = solved.evaluation, solved.problem, solved.assignment
    if assignment.optimal:
        checks_deadline = checks_deadline_of(solved)
        check = passed_over(
            problem, assignment, passed_over_resolve_limit, passed_over_deadline(checks_deadline)
        )
        unhoused = best_alternatives(
            problem, assignment, passed_over_resolve_limit, checks_deadline
        )
    else:
        check = PassedOverCheck({}, False, 0, 0)
        unhoused = UnhousedCheck([], False, 0)
    left_unhoused, extra = _left_unhoused(solved, unhoused)
    lap("passed_over")

    housed_in: dict[int, int] = {
        int(problem.edge_case[e]): int(problem.edge_dwelling[e]) for e in assignment.edges
    }
    overs: dict[int, list[tuple[int, int, PassedOver]]] = {}
    for edge, housed in check.by_edge.items():
        dwelling, c2 = int(problem.edge_dwelling[edge]), int(problem.edge_case[edge])
        overs.setdefault(dwelling, []).append(
            (
                -int(problem.edge_score[edge]),
                c2,
                PassedOver(
                    case_id=evaluation.case_ids[c2],
                    score=output_score(int(problem.edge_score[edge])),
                    received_dwelling_id=(
                        evaluation.dwelling_ids[housed_in[c2]] if c2 in housed_in else None
                    ),
                    housed_if_given=housed,
                    trade_off=FEWER_HOUSED,
                    alternative_dwelling_id=evaluation.dwelling_ids[dwelling],
                ),
            )
        )
    for dwelling, entries in extra.items():
        overs.setdefault(dwelling, []).extend(entries)
    proposals = []
    for edge in sorted(
        assignment.edges,
        key=lambda e: (-problem.edge_score[e], problem.edge_case[e], problem.edge_dwelling[e]),
    ):
        i, j = int(problem.edge_case[edge]), int(problem.edge_dwelling[edge])
        proposals.append(
            Proposal(
                case_id=evaluation.case_ids[i],
                dwelling_id=evaluation.dwelling_ids[j],
                score=output_score(int(problem.edge_score[edge])),
                components=evaluation.components(i, j),
                passed_over=[
                    entry for _, _, entry in sorted(overs.get(j, []), key=lambda o: o[:2])
                ],
            )
        )
    lap("proposals")

    by_case, by_dwelling = _candidates(evaluation, problem, top_k, candidate_components)
    lap("candidates")
    bottlenecks = find_bottlenecks(evaluation)
    lap("bottlenecks")
    timings["total"] = round((time.perf_counter() - start) * 1000, 2)
    size = {c.id: c.adults + c.children for c in cases}
    stats = MatchStats(
        cases=len(cases),
        dwellings=len(dwellings),
        feasible_pairs=problem.edges,
        people_housed=assignment.count,
        persons_housed=sum(size[p.case_id] for p in proposals),
        solver=assignment.method,
        groups_nested=assignment.nested,
        solver_edges=int(np.count_nonzero(assignment.kept)),
        solver_subproblems=assignment.subproblems,
        passed_over_resolves=check.resolves + unhoused.resolves,
        timings_ms=timings,
    )
    optimality = Optimality(
        proven=assignment.optimal,
        reason=assignment.reason,
        people_housed_bound=assignment.count_bound,
        score_bound=None
        if assignment.score_bound is None
        else output_score(assignment.score_bound),
    )
    return MatchResult(
        proposals,
        check.complete and unhoused.complete,
        by_case,
        by_dwelling,
        bottlenecks,
        left_unhoused,
        stats,
        optimality,
    )


def greedy_baseline(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage | None = None,
) -> int:
    """People housed by the obvious greedy: best-scoring pairs first, taken while both are free
    and the caps allow. The benchmark compares it with the optimum."""
    usage = usage or SpreadUsage()
    cases, dwellings = _sorted_inputs(cases, dwellings)
    evaluation = evaluate(cases, dwellings, policy, limits, meeting_date, usage)
    problem = build_problem(evaluation, dwellings, policy, usage)
    order = np.lexsort((problem.edge_dwelling, problem.edge_case, -problem.edge_score))
    complex_room = problem.complex_room.copy()
    hood_room = problem.neighbourhood_room.copy()
    case_free = np.ones(problem.n_cases, dtype=bool)
    dwelling_free = np.ones(problem.n_dwellings, dtype=bool)
    housed = 0
    for c, v in zip(
        problem.edge_case[order].tolist(), problem.edge_dwelling[order].tolist(), strict=True
    ):
        x, n = problem.complex_of[v], problem.neighbourhood_of[v]
        if case_free[c] and dwelling_free[v] and complex_room[x] > 0 and hood_room[n] > 0:
            case_free[c] = dwelling_free[v] = False
            complex_room[x] -= 1
            hood_room[n] -= 1
            housed += 1
    return housed
