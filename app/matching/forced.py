# Size: the passed-over count bounds and the forced re-solves share their column generation
# (`_settle`) and first core (`_start`); split, a third module would hold only those two.
"""The best proposal with one unhoused case forced in, when the spread caps do not nest.

Why: the left-unhoused list needs, per unhoused case c, the best (people housed, then total
score) proposal housing c. With nested caps one shortest-path pass gives all of them
(`unhoused.py`). With a complex straddling neighbourhoods the only exact route was one full
re-solve per feasible pair of c: a 300 x 150 table with scattered complexes needed about 3,900
re-solves (over a minute), so the check was cut off and flagged incomplete on every such table.

Here both phases are linear programs over the check's edges (the pruned edges plus every edge of
an unhoused case; pruning keeps the optimum with a pair forced, `solver.prune`), kept in HiGHS
and re-solved warm with c's row held at 1 (`sum of c's edges = 1`):

1. **Bounds for every case at once.** The score phase's duals (count fixed at the proposal's)
   give, for any edge e, `score.x <= B + min(0, rc_e)` over solutions housing as many with e
   chosen (B the certified bound, rc_e the reduced cost; `straddling.reduced_costs`). Maximised
   over c's edges it bounds c's best alternative; when the proposal's own split of the
   straddlers (an exact nested variant) already reaches it, c is settled without a re-solve.
2. **Per case.** Count phase with c's row at 1: an integral optimum of `housed` people, or a
   certified bound below `housed` (then the count is `housed - 1`: adding (c, v) to the proposal
   and dropping one proposal in v's complex and one in v's neighbourhood keeps every cap). Then
   the score phase with the count row at that count and c's row at 1: its optimum counts only
   when it is integral and the certified bound is below its value + 1 (objectives are integers).
   Rows held at 1 have free duals, which the certificate takes unclipped.

Column generation as in `straddling.certified_optimum`: each model starts on a core of edges and
prices the rest after every run. A fractional relaxation is finished by branch and cut on the
core plus every edge a better solution could use (exact, as in `straddling._phase`); only when
HiGHS settles nothing does it return None, and the caller falls back to the exact per-pair
re-solve (`tradeoffs.solve_with_pair`); every answer given is proven. The duals of each score
re-solve also bound every other case (`shared_bounds`).
"""

import highspy
import numpy as np

from app.matching.ranking import top_within
from app.matching.solver import AssignmentProblem, keeps_rules
from app.matching.straddling import (
    ADD_PER_DWELLING,
    CORE_PER_CASE,
    CORE_PER_DWELLING,
    DUAL_SIMPLEX,
    PRIMAL_SIMPLEX,
    SLACK,
    Infeasible,
    NotSettled,
    OutOfTime,
    Relaxation,
    SolverStatus,
    reduced_costs,
)


def _start(problem: AssignmentProblem, edges: np.ndarray, proposal: np.ndarray) -> np.ndarray:
    """The first core: each dwelling's and each case's best-scoring edges and the proposal's
    (positions in `edges`)."""
    score = problem.edge_score[edges]
    start = top_within(problem.edge_dwelling[edges], score, CORE_PER_DWELLING) | top_within(
        problem.edge_case[edges], score, CORE_PER_CASE
    )
    start |= np.isin(edges, proposal)
    return np.flatnonzero(start)


def _settle(
    relaxation: Relaxation,
    weight: np.ndarray,
    count: int,
    row: int | None,
    dwelling_of: np.ndarray,
    deadline: float | None,
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Column generation to the relaxation's optimum: (x per core column, reduced cost per
    edge, certified bound, row duals). `row`: a local row held at 1 (a case forced in)."""
    equal = None if row is None else np.array([row])
    tolerance = 1e-9 * max(1.0, float(np.abs(weight).max()))
    # The first run follows a changed row bound (a case held at 1, a count), which leaves the
    # basis dual feasible: dual simplex. Later runs only add columns, which keeps it primal
    # feasible: primal simplex goes on from it (as in `straddling._phase`), where dual simplex
    # took 100-200 iterations for three new columns (3,000 x 1,000 scattered: HiGHS 6.3 -> 3.1 s
    # over the check's 36 re-solves). Branch and cut after it, and the next case's first run,
    # get the dual simplex back.
    try:
        while True:
            try:
                x, duals = relaxation.run(deadline)
            except Infeasible:
                # Pricing needs a feasible core: with a case forced in, the core may not reach
                # the count. Every edge then joins; if that is infeasible too, so is the problem.
                missing = np.flatnonzero(~relaxation.in_core)
                if len(missing) == 0:
                    raise
                relaxation.add(missing, weight)
                continue
            relaxation.model.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            reduced, bound = reduced_costs(relaxation, weight, duals, count, equal)
            violating = np.flatnonzero((reduced > tolerance) & ~relaxation.in_core)
            if len(violating) == 0:
                return x, reduced, bound, duals
            best = top_within(dwelling_of[violating], reduced[violating], ADD_PER_DWELLING)
            relaxation.add(violating[best], weight)
    finally:
        relaxation.model.setOptionValue("simplex_strategy", DUAL_SIMPLEX)


class CountBounds:
    """`bounds`: per edge of `edges` (problem edges, sorted) an upper bound on the people housed
    by any proposal over `edges` using it, `floor(B + min(0, rc_e))` (B the certified bound, rc_e
    the reduced cost of the count's linear relaxation, `straddling.reduced_costs`, solved by
    column generation from the best edges and the proposal's). Raises `NotSettled` (OutOfTime
    past `deadline`) when HiGHS does not settle it. Why: the passed-over check asks of each pair
    whether forcing it in houses fewer; with caps that do not nest, every pair the residual
    graphs left open was a full re-solve (3,000 x 1,000 scattered: 47, 11 s, 42 housing fewer)."""

    def __init__(
        self,
        problem: AssignmentProblem,
        edges: np.ndarray,
        proposal: np.ndarray,
        deadline: float | None,
    ) -> None:
        self.problem, self.edges, self.deadline = problem, edges, deadline
        self.relaxation = Relaxation(problem, edges)
        self.relaxation.model.setOptionValue("presolve", "off")
        self.ones = np.ones(len(edges))
        self.dwelling_of = problem.edge_dwelling[edges]
        self.relaxation.add(_start(problem, edges, proposal), self.ones)
        _, reduced, bound, _ = _settle(
            self.relaxation, self.ones, 0, None, self.dwelling_of, deadline
        )
        self.bounds = np.floor(bound + np.minimum(reduced, 0.0) + SLACK).astype(np.int64)

    def with_pair(self, edge: int) -> tuple[int, int]:
        """(`bounds` of `edge`, a problem edge among `edges`, from the relaxation re-run with the
        edge held at 1, whose duals fit the pair; the people housed by its optimum when that is
        integral and keeps every rule, a proposal holding the pair, else -1). Why: at 800 x 300
        with 20 complex refs the proposal's duals left 35 pairs open (re-solves of 25-40 ms);
        these bounds prove the 31 that house fewer and the optima the 4 others, a few ms each.
        Each run's duals also tighten `bounds` of every other pair, which proved 30 of those 31
        before their own run."""
        relaxation = self.relaxation
        position = int(np.searchsorted(self.edges, edge))
        relaxation.add(np.array([position]), self.ones)
        column = relaxation.core.index(position)
        relaxation.model.changeColBounds(column, 1.0, 1.0)
        try:
            x, reduced, bound, _ = _settle(
                relaxation, self.ones, 0, None, self.dwelling_of, self.deadline
            )
        finally:
            relaxation.model.changeColBounds(column, 0.0, 1.0)
        # Any duals bound every pair (the column held at 1 is no row: the certificate takes
        # every column within 0 and 1), so the pairs after it keep the tighter of both bounds.
        bounds = np.floor(bound + np.minimum(reduced, 0.0) + SLACK).astype(np.int64)
        np.minimum(self.bounds, bounds, out=self.bounds)
        upper = int(bounds[position])
        chosen = self.edges[np.array(relaxation.core)[x > 0.5]]
        integral = bool(np.all(np.minimum(np.abs(x), np.abs(1 - x)) < 1e-6))
        fits = integral and edge in chosen and keeps_rules(self.problem, chosen)
        return upper, len(chosen) if fits else -1


class ForcedOptimum:
    """The two phases' linear programs over `edges` (indices into the problem's edges), solved
    once for the proposal (`housed` people) and re-solved per forced case.

    Raises OutOfTime (from `straddling`) when `deadline` (time.monotonic) passes while building,
    or another `NotSettled` when HiGHS cannot solve the proposal's own linear program.
    """

    def __init__(
        self,
        problem: AssignmentProblem,
        edges: np.ndarray,
        proposal: np.ndarray,
        housed: int,
        deadline: float | None,
    ) -> None:
        self.problem, self.edges, self.housed, self.deadline = problem, edges, housed, deadline
        self.score = problem.edge_score[edges].astype(np.float64)
        self.ones = np.ones(len(edges))
        self.dwelling_of = problem.edge_dwelling[edges]
        self.start = _start(problem, edges, proposal)
        self._candidates: tuple[np.ndarray, np.ndarray] | None = None
        self._count_lp: Relaxation | None = None
        self.score_lp = Relaxation(problem, edges)
        self.score_lp.model.setOptionValue("presolve", "off")
        self.score_lp.add(self.start, self.score)
        self.score_lp.fix_count(housed, self.score)
        _, self.reduced, self.bound, self.duals = self._settle(
            self.score_lp, self.score, housed, None
        )
        self.shared_duals = self.duals

    @property
    def count_lp(self) -> Relaxation:
        """The count phase's relaxation, built on first use: most tables never need it (a
        known alternative houses as many), and building one took 11 ms at 800 x 300."""
        if self._count_lp is None:
            self._count_lp = Relaxation(self.problem, self.edges)
            self._count_lp.model.setOptionValue("presolve", "off")
            self._count_lp.add(self.start, self.ones)
        return self._count_lp

    def _settle(
        self, relaxation: Relaxation, weight: np.ndarray, count: int, row: int | None
    ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """Column generation to the relaxation's optimum: (x per core column, reduced cost per
        edge, certified bound, row duals)."""
        return _settle(relaxation, weight, count, row, self.dwelling_of, self.deadline)

    def _candidate_positions(self, candidates: np.ndarray) -> np.ndarray:
        """Positions in `edges` of `candidates` (every one among them), kept for the same
        array: the unhoused check asks for the same candidates after every re-solve, and the
        search took 8 ms a time at 3,000 x 1,000 (350,000 edges)."""
        if self._candidates is None or self._candidates[0] is not candidates:
            self._candidates = (candidates, np.searchsorted(self.edges, candidates))
        return self._candidates[1]

    def score_bounds(self, candidates: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Per case segment of `candidates` (problem edges, grouped by case from `starts`): an
        upper bound (micro-points, integer) on the total score of any proposal housing as many
        as the proposal and the case."""
        position = self._candidate_positions(candidates)
        best = np.maximum.reduceat(np.minimum(self.reduced[position], 0.0), starts)
        return np.floor(self.bound + best + SLACK).astype(np.int64)

    def complex_prices(
        self, duals: np.ndarray | None = None, neighbourhoods: bool = False
    ) -> tuple[np.ndarray, float]:
        """Per complex the score phase's dual of its cap (micro-points per dwelling used, at
        least 0; 0 for complexes without a row) and the count row's dual: the multipliers of
        `unhoused._lagrangian_bounds`. `duals`: those of a re-solve (`shared_duals`) instead of
        the proposal's own. `neighbourhoods`: per neighbourhood instead."""
        problem, relaxation = self.problem, self.score_lp
        first = problem.n_cases + problem.n_dwellings
        size = len(problem.complex_room)
        if neighbourhoods:
            first, size = first + size, len(problem.neighbourhood_room)
        rows = relaxation.global_rows
        is_cap = (rows >= first) & (rows < first + size)
        prices = np.zeros(size)
        duals = self.duals if duals is None else duals
        prices[rows[is_cap] - first] = np.maximum(duals[: len(rows)], 0.0)[is_cap]
        assert relaxation.count_row is not None
        return prices, float(duals[relaxation.count_row])

    def shared_bounds(self, candidates: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Per case segment of `candidates` (as in `score_bounds`) an upper bound (micro-points)
        on the total score of any proposal housing as many as the proposal and the case, from
        the duals of the last score re-solve with another case forced in (at first the
        proposal's own).

        Why: those duals are optimal for a neighbouring linear program, and often certify other
        cases' alternatives as well, where the proposal's own duals (`score_bounds`) do not.
        Any duals pi >= 0 bound the score phase (`straddling.reduced_costs`); for case c the
        dual of its own row may be any t (its row is held at 1), and the best t gives
        `B - pi_c - sum_(e of c) max(0, rc_e) + max_(e of c) (rc_e + pi_c)`, with B, rc from
        the clipped duals: one vectorised pass for every case."""
        duals = self.shared_duals
        relaxation = self.score_lp
        reduced, bound = reduced_costs(relaxation, self.score, duals, self.housed)
        pi = np.maximum(duals[: len(relaxation.room)], 0.0)
        # Every edge of an unhoused case with room is a candidate, so the case's edges in the
        # check's graph are exactly its candidate segment.
        position = self._candidate_positions(candidates)
        case_pi = pi[relaxation.rows[0, position[starts]]]
        positive = np.add.reduceat(np.maximum(reduced[position], 0.0), starts)
        best = np.maximum.reduceat(reduced[position], starts) + case_pi
        result: np.ndarray = np.floor(bound - case_pi - positive + best + SLACK).astype(np.int64)
        return result

    def _case_row(self, relaxation: Relaxation, case: int) -> int:
        row = int(np.searchsorted(relaxation.global_rows, case))
        assert relaxation.global_rows[row] == case, "every unhoused case with edges has a row"
        return row

    def _positions(self, known: np.ndarray | None) -> np.ndarray | None:
        """Positions in `edges` of a known solution's problem edges; None when there is none
        or one of its edges is not among `edges`."""
        if known is None:
            return None
        position = np.minimum(np.searchsorted(self.edges, known), len(self.edges) - 1)
        return position if np.array_equal(self.edges[position], known) else None

    def _optimum(
        self,
        relaxation: Relaxation,
        weight: np.ndarray,
        count: int,
        case: int,
        known: np.ndarray | None = None,
    ) -> tuple[np.ndarray | None, float]:
        """(chosen problem edges of the optimum with `case` forced in when it is proven integral,
        else None; its certified bound). The case's row is held at 1 only for this call.
        `known`: the chosen problem edges of some solution of this model (every one among
        `edges`), if the caller has one."""
        row = self._case_row(relaxation, case)
        relaxation.model.changeRowBounds(row, 1.0, 1.0)
        try:
            try:
                x, reduced, bound, duals = self._settle(relaxation, weight, count, row)
                if relaxation is self.score_lp and count == self.housed:
                    self.shared_duals = duals
            except Infeasible:  # no proposal of `count` people houses the case
                return None, np.inf
            except SolverStatus:  # unsettled: the caller re-solves per pair, exactly
                return None, np.inf
            core = np.array(relaxation.core)
            if not np.all(np.minimum(np.abs(x), np.abs(1 - x)) < 1e-6):
                # Fractional: branch and cut on the core, then on the core plus every edge a
                # better solution could use (as in `straddling._phase`): exact over all edges.
                start = self._positions(known)
                # Branch and cut leaves no simplex basis behind: the next case's linear run
                # would start from scratch (about 1,100 iterations at 800 x 300 against 200
                # warm), so the relaxation's basis is put back after it.
                basis = relaxation.model.getBasis()
                try:
                    if start is not None:
                        # The caller's solution spares branch and cut on the core, and proves
                        # itself optimal when it meets the bound.
                        incumbent = start
                        lower = float(weight[start].sum())
                        if bound < lower + 1 - SLACK:
                            return np.sort(self.edges[start]), bound
                    else:
                        x, _ = relaxation.run(self.deadline, integral=True)
                        incumbent = core[x > 0.5]
                        lower = float(weight[incumbent].sum())
                    if bound >= lower + 1 - SLACK:
                        # A better solution uses only edges of reduced cost >= lower - bound.
                        useful = reduced >= lower - bound - SLACK
                        # So are the incumbent's in exact arithmetic; kept free for sure, as the
                        # rest of the core is held at 0 below.
                        useful[incumbent] = True
                        needed = np.flatnonzero(useful & ~relaxation.in_core)
                        if start is not None:
                            needed = np.union1d(needed, start[~relaxation.in_core[start]])
                        if len(needed) or start is not None:
                            relaxation.relax_integrality()
                            relaxation.add(needed, weight)
                            core = np.array(relaxation.core)
                            given = None
                            if start is not None:
                                column = np.full(len(self.edges), -1)
                                column[core] = np.arange(len(core))
                                given = column[start]
                            # The rest of the core is held at 0: no solution worth `lower` uses
                            # it, and branch and cut over those columns cost most of its time
                            # (800 x 300, 20 complex refs: 0.76 s -> 0.2 s on one case).
                            x, _ = relaxation.run(
                                self.deadline,
                                integral=True,
                                start=given,
                                fixed=np.flatnonzero(~useful[core]),
                            )
                        bound = float(weight[core[x > 0.5]].sum())  # exact over every edge
                except (Infeasible, SolverStatus):  # no integer solution on the core found
                    return None, bound
                finally:
                    relaxation.relax_integrality()
                    if basis.valid:
                        # Columns added for branch and cut join it at their bound of 0.
                        added = len(relaxation.core) - len(basis.col_status)
                        basis.col_status = (
                            list(basis.col_status) + [highspy.HighsBasisStatus.kLower] * added
                        )
                        relaxation.model.setBasis(basis)
                if bound >= float(weight[core[x > 0.5]].sum()) + 1 - SLACK:
                    return None, bound
        finally:
            relaxation.model.changeRowBounds(row, -np.inf, 1.0)
        return np.sort(self.edges[core[x > 0.5]]), bound

    def best_with_case(
        self, case: int, houses_as_many: bool = False, known: np.ndarray | None = None
    ) -> tuple[int, int, np.ndarray] | None:
        """(people housed, total score, chosen problem edges) of the best proposal housing
        `case`, proven; None when a relaxation is fractional and branch and cut on its core does
        not settle it, or when HiGHS ends in a status it cannot act on. `houses_as_many`: the
        caller knows a proposal housing as many and the case (the count phase is skipped);
        `known`: the chosen problem edges of one (every edge among the check's `edges`), when
        the caller has it (branch and cut then starts from it). Raises OutOfTime past the
        deadline."""
        if houses_as_many:
            count = self.housed
        else:
            chosen, bound = self._optimum(self.count_lp, self.ones, 0, case)
            if bound < self.housed - SLACK:
                count = self.housed - 1
            elif chosen is not None and len(chosen) == self.housed:
                count = self.housed
            else:
                return None
        count_row = self.score_lp.count_row
        assert count_row is not None
        self.score_lp.model.changeRowBounds(count_row, count, count)
        try:
            given = known if count == self.housed else None
            chosen, bound = self._optimum(self.score_lp, self.score, count, case, given)
        finally:
            self.score_lp.model.changeRowBounds(count_row, self.housed, self.housed)
        if chosen is None or len(chosen) != count:
            return None
        value = int(self.problem.edge_score[chosen].sum())
        if bound >= value + 1 - SLACK:
            return None
        return count, value, chosen


__all__ = ["CountBounds", "ForcedOptimum", "NotSettled", "OutOfTime"]
