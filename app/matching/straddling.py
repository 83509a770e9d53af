# Size: one algorithm read in order (column generation, then branch and cut on the core, per
# phase); its relaxation class and the checks that share it stay beside it.
"""The exact proposal when the spread caps do not nest (a complex straddles neighbourhoods).

Why a separate route: with a complex spread over several neighbourhoods the caps are two crossing
partitions of the dwellings, and the problem (one dwelling per case, per complex at most its room,
per neighbourhood at most its room) is NP-hard in general: 3-dimensional matching is the special
case with one feasible case per dwelling and all rooms 1. On real tables its linear relaxation is
nearly always integral, so linear programming with a checked bound settles it; branch and cut
(HiGHS MILP) takes over only where the relaxation is fractional.

Per phase (first the most people housed, then the highest total score with that count fixed):

1. **Column generation.** The linear relaxation (0 <= x_e <= 1, one row per case, dwelling,
   complex and neighbourhood, plus the count row in phase two) is solved on a core of edges: the
   best few per dwelling and per case and the edges of the seed solutions the caller passes. The
   duals price every (pruned) edge; the best violating edges per dwelling join the core, and HiGHS
   re-solves from its previous basis, until no edge prices out.
2. **Certificate.** For any duals pi >= 0 (mu free for the count row) every feasible x satisfies
   `w.x <= pi.b + mu.k + sum_e max(0, w_e - A_e.pi - mu)` (the Lagrangian bound of the relaxation
   with 0 <= x <= 1). We compute it ourselves from HiGHS's duals (clipped at 0) with `math.fsum`,
   so it is a valid bound whatever the solver's tolerances. An integral relaxation solution of
   value V with a bound below V + 1 (objectives are integers) is optimal: proven, not trusted.
3. **Branch and cut** when the relaxation is fractional: HiGHS MILP on the core gives a feasible
   value LB, optimal outright when UB < LB + 1. Otherwise any solution worth at least LB uses
   only edges with reduced cost >= LB - UB (from the bound above: w.x <= UB + sum of the
   negative reduced costs of the edges it uses), so the MILP re-run on the core plus those edges
   is exact over all edges.

Every HiGHS run gets the time left until `deadline`; past it, `OutOfTime` is raised and the
caller falls back (see `solver.solve`). Any other status than optimal or infeasible (HiGHS's
Unknown after a warm start, an iteration limit, an interrupt, a solve error) gets one cold
re-solve, then `SolverStatus`; both are `NotSettled`, and every caller falls back on it exactly
as when the time runs out. HiGHS runs single-threaded and deterministically, so the same input
gives the same proposal.
"""

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np

from app.matching.ranking import top_within

if TYPE_CHECKING:
    from app.matching.solver import AssignmentProblem

CORE_PER_DWELLING = 3
"""Best cases per dwelling in the first core."""
CORE_PER_CASE = 2
"""Best dwellings per case in the first core."""
ADD_PER_DWELLING = 5
"""Most violating edges per dwelling added to the core per pricing round."""
FLOAT_SAFE = 2**50
"""Objective magnitudes below this keep the float64 certificate's rounding error far below 1."""
SLACK = 1e-3
"""A bound below V + 1 - SLACK proves V optimal (the float error of the bound is far smaller)."""
PRIMAL_SIMPLEX = 4
"""HiGHS's `simplex_strategy` value for the primal simplex (HiGHS documentation, options:
0 choose, 1 dual serial, 4 primal)."""
DUAL_SIMPLEX = 1
"""HiGHS's `simplex_strategy` value for the serial dual simplex (its default)."""

START_OFF = (
    "mip_heuristic_run_rens",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_feasibility_jump",
)
"""HiGHS's primal heuristics (all on by default) switched off for a branch and cut that starts
from a known solution: there it is the bound that needs proving, and at 800 x 300 (20 complex
refs per corporation) these heuristics took most of a 1.9 s run looking for a solution as good
as the one given."""

SETTLED_STATUSES = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kTimeLimit,
)
"""Statuses `Relaxation.run` acts on without a second try."""


class NotSettled(Exception):
    """HiGHS did not settle the model; the caller falls back to its feasible, flagged answer.
    `reason` is what the agenda reports (`Optimality.reason`)."""

    reason = "solver_status"


class OutOfTime(NotSettled):
    """The time budget ran out before the phase was settled."""

    reason = "time_budget"


class SolverStatus(NotSettled):
    """HiGHS stopped with a status that is neither optimal, infeasible nor the time limit, even
    after a cold re-solve (seen: Unknown after a warm start with a row bound changed)."""


class Infeasible(NotSettled):
    """The model has no solution on its current columns (a forced row the core cannot meet), as
    HiGHS reports it: with a row held at its room it may also be numerics, so no caller takes it
    as a proof that nothing is feasible."""


@dataclass(frozen=True, slots=True)
class Certified:
    """The proven optimum: chosen edges (indices into the problem's edges), count and score;
    `used_milp` when a phase needed branch and cut."""

    edges: np.ndarray
    count: int
    score: int
    used_milp: bool


def remaining(deadline: float | None) -> float:
    """Seconds left until `deadline` (time.monotonic), or infinity."""
    return math.inf if deadline is None else deadline - time.monotonic()


class Relaxation:
    """The linear relaxation on a growing core of edges, kept in one HiGHS model."""

    def __init__(self, problem: "AssignmentProblem", edges: np.ndarray) -> None:
        cases, dwellings = problem.edge_case[edges], problem.edge_dwelling[edges]
        n_cases, n_dwellings = problem.n_cases, problem.n_dwellings
        n_complexes = len(problem.complex_room)
        global_rows = np.stack(
            [
                cases,
                n_cases + dwellings,
                n_cases + n_dwellings + problem.complex_of[dwellings],
                n_cases + n_dwellings + n_complexes + problem.neighbourhood_of[dwellings],
            ],
            axis=1,
        )
        # np.unique(global_rows, return_inverse=True) by counting: the row ids are bounded,
        # and sorting the (edges x 4) ids took a third of building each relaxation.
        n_rows = n_cases + n_dwellings + n_complexes + len(problem.neighbourhood_room)
        present = np.zeros(n_rows, dtype=bool)
        present[global_rows.ravel()] = True
        used = np.flatnonzero(present)
        local_of = np.cumsum(present) - 1
        local = local_of[global_rows]
        room = np.concatenate(
            [
                np.ones(n_cases + n_dwellings),
                problem.complex_room.astype(np.float64),
                problem.neighbourhood_room.astype(np.float64),
            ]
        )
        # One row per kind (case, dwelling, complex, neighbourhood), each contiguous: the four
        # gathers of `reduced_costs` over every edge run twice as fast as over the columns of
        # an (edges x 4) array, on a path the unhoused check takes a hundred times per table.
        self.rows = np.ascontiguousarray(local.reshape(global_rows.shape).T, dtype=np.int32)
        self.global_rows = used  # the problem's row id (as in global_rows) of each local row
        self.room = room[used]
        self.edges = edges
        self.in_core = np.zeros(len(edges), dtype=bool)
        self.core: list[int] = []
        self.count_row: int | None = None
        self.model = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves Highs.__init__ unannotated
        model = self.model
        model.setOptionValue("output_flag", False)
        model.setOptionValue("threads", 1)
        model.setOptionValue("random_seed", 0)
        n = len(self.room)
        model.addRows(
            n,
            np.full(n, -highspy.kHighsInf),
            self.room,
            0,
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        model.changeObjectiveSense(highspy.ObjSense.kMaximize)

    def add(self, positions: np.ndarray, weight: np.ndarray) -> None:
        """Add edges (positions into `edges`) to the core as columns with `weight[positions]`."""
        positions = positions[~self.in_core[positions]]
        if len(positions) == 0:
            return
        index = self.rows[:, positions].T
        if self.count_row is not None:
            index = np.concatenate([index, np.full((len(positions), 1), self.count_row)], axis=1)
        k, width = index.shape
        self.model.addCols(
            k,
            weight[positions].astype(np.float64),
            np.zeros(k),
            np.ones(k),
            k * width,
            (np.arange(k) * width).astype(np.int32),
            index.ravel().astype(np.int32),
            np.ones(k * width),
        )
        self.in_core[positions] = True
        self.core.extend(positions.tolist())

    def fix_count(self, count: int, weight: np.ndarray) -> None:
        """Phase two: the count row sum x = count over every core column, and the score weights."""
        columns = np.arange(len(self.core), dtype=np.int32)
        self.count_row = len(self.room)
        self.model.addRow(count, count, len(columns), columns, np.ones(len(columns)))
        self.model.changeColsCost(
            len(columns), columns, weight[np.array(self.core)].astype(np.float64)
        )

    def run(
        self,
        deadline: float | None,
        integral: bool = False,
        start: np.ndarray | None = None,
        fixed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Solve; returns (x per core column, row duals). Raises OutOfTime past the deadline,
        Infeasible when HiGHS finds no solution, SolverStatus on any other status.

        `start` (with `integral`): core column positions of a known feasible integer solution,
        given to HiGHS as its first incumbent; its sub-MIP heuristics are then switched off for
        this run (see `START_OFF`). `fixed` (with `integral`): core column positions held at 0
        for this run only (columns no solution worth finding can use)."""
        model = self.model
        columns = len(self.core)
        if integral and fixed is not None and len(fixed):
            fixed = fixed.astype(np.int32)
            model.changeColsBounds(len(fixed), fixed, np.zeros(len(fixed)), np.zeros(len(fixed)))
        else:
            fixed = None
        if integral:
            model.changeColsIntegrality(
                columns,
                np.arange(columns, dtype=np.int32),
                np.full(columns, highspy.HighsVarType.kInteger),
            )
            model.setOptionValue("mip_rel_gap", 0.0)
            if start is not None:
                x = np.zeros(columns)
                x[start] = 1.0
                model.setSolution(columns, np.arange(columns, dtype=np.int32), x)
                for option in START_OFF:
                    model.setOptionValue(option, False)
        try:
            self._settle_run(deadline)
        finally:
            if integral and start is not None:
                for option in START_OFF:
                    model.setOptionValue(option, True)
            if fixed is not None:
                model.changeColsBounds(len(fixed), fixed, np.zeros(len(fixed)), np.ones(len(fixed)))
        solution = model.getSolution()
        duals = np.zeros(len(self.room) + 1)
        if not integral:
            row_dual = np.asarray(solution.row_dual)
            duals[: len(row_dual)] = row_dual
        return np.asarray(solution.col_value), duals

    def _settle_run(self, deadline: float | None) -> None:
        """One run (a cold second one when HiGHS ends unsettled); raises as `run` says."""
        model = self.model
        status = self._solve(deadline)
        if status not in SETTLED_STATUSES:
            # HiGHS sometimes ends a warm-started re-solve in Unknown (seen at 800 x 300 with a
            # case's row held at 1, 9 iterations in); from scratch the same model solves.
            model.clearSolver()
            status = self._solve(deadline)
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise OutOfTime
        if status == highspy.HighsModelStatus.kInfeasible:
            raise Infeasible("HiGHS found the relaxation infeasible")
        if status != highspy.HighsModelStatus.kOptimal:
            message = model.modelStatusToString(status)
            raise SolverStatus(f"HiGHS did not solve the relaxation: {message}")

    def _solve(self, deadline: float | None) -> "highspy.HighsModelStatus":
        """One HiGHS run with the time left until `deadline`; its model status."""
        left = remaining(deadline)
        if left <= 0:
            raise OutOfTime
        if math.isfinite(left):
            # HiGHS compares `time_limit` with the run time summed over every run of this model
            # (ERGO-Code/HiGHS#1477, until HiGHS 2.0), not with this run's: the limit given
            # alone stopped the unhoused check's re-solves, each a few ms, once their sum
            # reached the time left (at 800 x 300, about halfway through the checks' share).
            self.model.setOptionValue("time_limit", self.model.getRunTime() + float(left))
        self.model.run()
        return self.model.getModelStatus()

    def relax_integrality(self) -> None:
        columns = len(self.core)
        self.model.changeColsIntegrality(
            columns,
            np.arange(columns, dtype=np.int32),
            np.full(columns, highspy.HighsVarType.kContinuous),
        )


def reduced_costs(
    relaxation: Relaxation,
    weight: np.ndarray,
    duals: np.ndarray,
    count: int,
    equal_rows: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """(reduced cost per edge, the Lagrangian upper bound) from the duals, pi clipped at 0.

    `equal_rows`: local rows held at their room from below too (sum = room, a case forced in);
    their duals are free, so they are not clipped (the bound stays valid: those rows' sums are
    exactly their room)."""
    pi = np.maximum(duals[: len(relaxation.room)], 0.0)
    if equal_rows is not None:
        pi[equal_rows] = duals[equal_rows]
    mu = float(duals[relaxation.count_row]) if relaxation.count_row is not None else 0.0
    # Kind by kind, summed in place: half the time of one (edges x 4) gather summed along its
    # rows, on a path the unhoused check takes a hundred times per table.
    rows = relaxation.rows
    reduced = pi.take(rows[0])
    for kind in rows[1:]:
        reduced += pi.take(kind)
    np.subtract(weight, reduced, out=reduced)
    reduced -= mu
    # Only the nonzero terms go through the exact sum (most duals and reduced costs are 0), as
    # lists: `math.fsum` reads those faster than numpy arrays.
    held = pi * relaxation.room
    bound = math.fsum(
        [
            math.fsum(held[held != 0].tolist()),
            mu * count,
            math.fsum(reduced[reduced > 0].tolist()),
        ]
    )
    return reduced, bound


def _phase(
    relaxation: Relaxation,
    weight: np.ndarray,
    dwelling_of: np.ndarray,
    count: int,
    deadline: float | None,
) -> tuple[np.ndarray, int, bool]:
    """Optimum of `weight` over the edges (with the count row if set): (chosen positions, value,
    whether branch and cut was needed)."""
    tolerance = 1e-9 * max(1.0, float(np.abs(weight).max()))
    while True:
        x, duals = relaxation.run(deadline)
        # After the first run only columns (and the count row, which the solution meets) are
        # added, which keeps the basis primal feasible: primal simplex goes on from it, where
        # HiGHS's default dual simplex re-solved nearly from scratch, about 2,000 iterations a
        # run even when two columns were added. The first run, from nothing, stays dual.
        relaxation.model.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        reduced, bound = reduced_costs(relaxation, weight, duals, count)
        violating = np.flatnonzero((reduced > tolerance) & ~relaxation.in_core)
        if len(violating) == 0:
            break
        best = top_within(dwelling_of[violating], reduced[violating], ADD_PER_DWELLING)
        relaxation.add(violating[best], weight)
    core = np.array(relaxation.core)
    if np.all(np.minimum(np.abs(x), np.abs(1 - x)) < 1e-6):
        chosen = core[x > 0.5]
        value = int(np.rint(weight[chosen].sum()))
        if bound < value + 1 - SLACK:
            return np.sort(chosen), value, False
    # Fractional or not proven: branch and cut on the core, then on every edge that could help.
    x, _ = relaxation.run(deadline, integral=True)
    lower = int(np.rint(weight[core[x > 0.5]].astype(np.float64).sum()))
    if bound < lower + 1 - SLACK:
        # The core's integer optimum already meets the bound over every edge. Without this
        # check a count phase (all weights 1, so nearly every reduced cost is 0) sent all
        # 135,000 edges of a 3,000 x 1,000 table to branch and cut for a minute.
        chosen = np.sort(core[x > 0.5])
        relaxation.relax_integrality()
        return chosen, lower, True
    needed = np.flatnonzero((reduced >= lower - bound - SLACK) & ~relaxation.in_core)
    if len(needed):
        relaxation.relax_integrality()
        relaxation.add(needed, weight)
        core = np.array(relaxation.core)
        x, _ = relaxation.run(deadline, integral=True)
    chosen = np.sort(core[x > 0.5])
    relaxation.relax_integrality()
    return chosen, int(np.rint(weight[chosen].astype(np.float64).sum())), True


def certified_optimum(
    problem: "AssignmentProblem",
    edges: np.ndarray,
    seeds: list[np.ndarray],
    deadline: float | None,
    count_only: bool = False,
) -> Certified:
    """The lexicographic optimum (count, then score) over `edges` (indices into the problem's
    edges), exact; `seeds` are edge sets of good solutions to start the core with.

    Raises OutOfTime past `deadline` (time.monotonic). `count_only` stops after the count phase
    (the score is then that of some maximum-count solution, not the best).
    """
    if len(edges) == 0:
        return Certified(np.zeros(0, dtype=np.int64), 0, 0, False)
    score = problem.edge_score[edges].astype(np.int64)
    if int(np.abs(score).max()) * max(problem.n_cases, 1) >= FLOAT_SAFE:
        raise ValueError("scores too large for a float64 certificate")
    dwelling_of = problem.edge_dwelling[edges]
    relaxation = Relaxation(problem, edges)
    ones = np.ones(len(edges))
    start = top_within(dwelling_of, score, CORE_PER_DWELLING) | top_within(
        problem.edge_case[edges], score, CORE_PER_CASE
    )
    for seed in seeds:
        start |= np.isin(edges, seed)
    relaxation.add(np.flatnonzero(start), ones)
    chosen, count, used_milp = _phase(relaxation, ones, dwelling_of, 0, deadline)
    if not count_only and count > 0:
        weight = score.astype(np.float64)
        relaxation.fix_count(count, weight)
        chosen, _, branched = _phase(relaxation, weight, dwelling_of, count, deadline)
        used_milp |= branched
    picked = edges[chosen]
    return Certified(picked, len(picked), int(problem.edge_score[picked].sum()), used_milp)
