"""A reader who tries to work out hidden monitor cells, written apart from the app's suppression.

The reader holds one flows answer and its own data: for every cell, its own part (its own cases,
or the housings in its own dwellings), and its own row whole. It writes down every relation the
answer lets it use (group sums, period sums, `housed = own + intermediate`, `other exits =
returned + withdrawn`, the flow equation from an unshown starting backlog, the histogram total),
that no count is below its own part, and then asks a linear programme for the least and the
greatest value every hidden cell can take. A cell whose least and greatest value coincide is
worked out; over the integers (`milp`) a cell may be pinned that the reals leave free, so the
integer range is reported separately.

Cells one at a time are not all it can try: a sum of hidden cells may be fixed though none of its
cells is (two backlogs months apart with no exits between give the new ready cases of the months
between). `small_sums` looks for any set of hidden cells whose sum is the same in every solution
and holds 1 to 4 people other than the reader's own, over every period of the answer at once.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array, hstack, vstack

CASE_MEASURES = ("new_ready", "returned", "withdrawn", "other_exits", "backlog_end")
HOUSING_MEASURES = ("housed", "housed_own_lease", "housed_intermediate_lease")

CEILING = 1e6  # more people than any table holds: a cell that reaches it has no upper end
# Two solutions further apart than this in a cell show that it is not worked out; closer (a
# solver's rounding), the cell's own least and greatest value decide.
SHOWN_TO_VARY = 1e-3
Cell = tuple  # ("rows"|"totals", period, group, measure), ("hist", bucket) or ("start", group)


@dataclass
class Reading:
    cell: Cell
    true: int
    own: int
    real_range: tuple[float, float]
    integer_range: tuple[float, float]

    @property
    def worked_out(self) -> bool:
        return self.real_range[1] - self.real_range[0] < 1e-6

    @property
    def worked_out_over_integers(self) -> bool:
        return self.integer_range[1] - self.integer_range[0] < 0.5


def cells_of(document: dict[str, Any]) -> tuple[list[Cell], dict[Cell, int | None]]:
    """Every count in the answer (hidden ones as None), plus one unshown starting backlog per
    group for a case grouping."""
    case_grouping = document["group_by"] in ("none", "care_provider")
    measures = HOUSING_MEASURES + (CASE_MEASURES if case_grouping else ())
    shown: dict[Cell, int | None] = {}
    for part in ("rows", "totals"):
        for row in document[part]:
            for measure in measures:
                shown[(part, row["period"], row["group"], measure)] = row[measure]
    for bucket in document["waiting_days_histogram"]:
        shown[("hist", bucket["bucket"])] = bucket["count"]
    if case_grouping:
        for row in document["totals"]:
            shown[("start", row["group"])] = None  # never shown: the reader must solve for it
    return list(shown), shown


def relations(document: dict[str, Any]) -> list[dict[Cell, float]]:
    """Every equation `sum(coefficient * cell) == 0` a reader can take from the answer."""
    case_grouping = document["group_by"] in ("none", "care_provider")
    flows = HOUSING_MEASURES + (CASE_MEASURES[:-1] if case_grouping else ())
    rows, totals = document["rows"], document["totals"]
    groups = [t["group"] for t in totals]
    periods = list(dict.fromkeys(r["period"] for r in rows))
    members = [g for g in groups if g is not None]
    out: list[dict[Cell, float]] = []
    for group in groups:
        for measure in flows:  # a period sum
            equation = {("rows", p, group, measure): 1.0 for p in periods}
            out.append(equation | {("totals", "total", group, measure): -1.0})
        if case_grouping:  # the backlog at the range's end; the flow equation, period by period
            out.append(
                {
                    ("rows", periods[-1], group, "backlog_end"): 1.0,
                    ("totals", "total", group, "backlog_end"): -1.0,
                }
            )
            before: Cell = ("start", group)
            for p in periods:
                out.append(
                    {
                        ("rows", p, group, "backlog_end"): 1.0,
                        before: -1.0,
                        ("rows", p, group, "new_ready"): -1.0,
                        ("rows", p, group, "housed"): 1.0,
                        ("rows", p, group, "other_exits"): 1.0,
                    }
                )
                before = ("rows", p, group, "backlog_end")
    if members and None in groups:  # the groups add up to the table (a case belongs to one)
        measures = flows + (("backlog_end",) if case_grouping else ())
        for part, labels in (("rows", periods), ("totals", ["total"])):
            for label in labels:
                for measure in measures:
                    equation = {(part, label, g, measure): 1.0 for g in members}
                    out.append(equation | {(part, label, None, measure): -1.0})
        if case_grouping:
            out.append({("start", g): 1.0 for g in members} | {("start", None): -1.0})
    for part, collection in (("rows", rows), ("totals", totals)):
        for row in collection:
            key = (part, row["period"], row["group"])
            out.append(
                {
                    (*key, "housed"): 1.0,
                    (*key, "housed_own_lease"): -1.0,
                    (*key, "housed_intermediate_lease"): -1.0,
                }
            )
            if case_grouping:
                out.append(
                    {
                        (*key, "other_exits"): 1.0,
                        (*key, "returned"): -1.0,
                        (*key, "withdrawn"): -1.0,
                    }
                )
    histogram = {("hist", b["bucket"]): 1.0 for b in document["waiting_days_histogram"]}
    out.append(histogram | {("totals", "total", None, "housed"): -1.0})
    return out


def _system(
    document: dict[str, Any], truth: Mapping[Cell, int], own: Mapping[Cell, int], known: set[Cell]
) -> tuple[list[Cell], dict[Cell, int | None], np.ndarray, np.ndarray, np.ndarray]:
    """Every cell, what is shown, the equations as a matrix, and each cell's least and greatest
    value before solving (a shown or known cell: its value; a hidden one: its own part up)."""
    order, shown = cells_of(document)
    index = {cell: k for k, cell in enumerate(order)}
    equations = relations(document)
    matrix = np.zeros((len(equations), len(order)))
    for row, equation in enumerate(equations):
        for cell, coefficient in equation.items():
            matrix[row, index[cell]] += coefficient
    low = np.array([float(own.get(c, 0)) for c in order])
    high = np.full(len(order), CEILING)  # bounded, so HiGHS never has to tell unbounded apart
    for cell, value in shown.items():
        if value is not None or cell in known:
            low[index[cell]] = high[index[cell]] = float(truth[cell])
    return order, shown, matrix, low, high


def read(
    document: dict[str, Any],
    truth: Mapping[Cell, int],
    own: Mapping[Cell, int],
    known: set[Cell],
    over_integers: bool = True,
) -> list[Reading]:
    """What the reader can make of every hidden cell holding someone else's people.

    `truth`: the true value of every cell (from an unsuppressed answer and the model);
    `own`: the reader's own part of every cell (missing: 0); `known`: cells it knows whole.
    Without `over_integers` the integer range is not worked out (it repeats the real one).

    A range is exact where it is a point (the cell is worked out); elsewhere it may be only
    part of the cell's range, enough to show that the cell can take two values: two solutions
    that push every hidden cell up and down at once (`_spread`) settle most cells, and only the
    rest get their own greatest value, and their least only when that greatest is not already
    apart from a value the cell took (`_range`).
    """
    order, shown, matrix, low, high = _system(document, truth, own, known)
    index = {cell: k for k, cell in enumerate(order)}
    hidden = [
        index[cell]
        for cell in order
        if shown[cell] is None
        and cell not in known
        and cell[0] != "start"
        and truth[cell] != own.get(cell, 0)  # else nobody else's people in it
    ]
    if not hidden:
        return []
    real_programme = _Programme(matrix, low, high, integral=False)
    integer_programme = _Programme(matrix, low, high, integral=True) if over_integers else None
    real = _spread(real_programme, hidden)
    integer = _spread(integer_programme, hidden) if integer_programme else real
    readings = []
    for k in hidden:
        cell = order[k]
        if real[k][1] - real[k][0] < SHOWN_TO_VARY:
            real[k] = _range(real_programme, k, real[k][0])
        if integer_programme and integer[k][1] - integer[k][0] < SHOWN_TO_VARY:
            integer[k] = _range(integer_programme, k, integer[k][0])
        readings.append(
            Reading(
                cell,
                truth[cell],
                own.get(cell, 0),
                real[k],
                integer[k] if over_integers else real[k],
            )
        )
    return readings


class _Programme:
    """`matrix @ x == 0`, `low <= x <= high`, set up in HiGHS once and then solved for one cost
    after another, each linear one from the basis the last one left (scipy's `linprog` and
    `milp` build the whole programme again for every cost, most of their time)."""

    def __init__(self, matrix: np.ndarray, low: np.ndarray, high: np.ndarray, integral: bool):
        model = highspy.Highs()
        model.setOptionValue("output_flag", False)
        model.setOptionValue("threads", 1)
        n = matrix.shape[1]
        model.addVars(n, low, high)
        rows = csr_array(matrix)
        zeros = np.zeros(matrix.shape[0])
        model.addRows(
            matrix.shape[0],
            zeros,
            zeros,
            rows.nnz,
            rows.indptr.astype(np.int32),
            rows.indices.astype(np.int32),
            rows.data,
        )
        if integral:
            model.changeColsIntegrality(
                n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
            )
        self.model = model
        self.columns = np.arange(n, dtype=np.int32)

    def solve(self, cost: np.ndarray) -> np.ndarray:
        """A solution with the least `cost @ x`."""
        self.model.changeColsCost(len(cost), self.columns, cost.astype(np.float64))
        self.model.run()
        status = self.model.getModelStatus()
        # The true table is always a solution, and the cells are bounded: always an optimum.
        assert status == highspy.HighsModelStatus.kOptimal, self.model.modelStatusToString(status)
        return np.array(self.model.getSolution().col_value)


def _spread(programme: _Programme, cells: list[int]) -> dict[int, tuple[float, float]]:
    """For each of `cells`, the least and greatest of its values in two solutions: one that
    makes the sum of `cells` as small as it can be and one that makes it as great."""
    values = []
    for sign in (1.0, -1.0):
        cost = np.zeros(len(programme.columns))
        cost[cells] = sign
        values.append(programme.solve(cost))
    return {k: (min(values[0][k], values[1][k]), max(values[0][k], values[1][k])) for k in cells}


def _range(programme: _Programme, k: int, taken: float) -> tuple[float, float]:
    """The greatest value of cell `k` (CEILING: no upper end) and, unless that is already apart
    from `taken` (a value the cell takes in some solution, so the cell is not worked out), its
    least: the cell's whole range whenever that is a point."""
    cost = np.zeros(len(programme.columns))
    cost[k] = -1.0
    greatest = programme.solve(cost)[k]
    if greatest - taken >= SHOWN_TO_VARY:
        return taken, greatest
    cost[k] = 1.0
    return programme.solve(cost)[k], greatest


def small_sums(
    document: dict[str, Any],
    truth: Mapping[Cell, int],
    own: Mapping[Cell, int],
    known: set[Cell],
    pools: tuple[tuple[list[Cell], int], ...] = (),
) -> tuple[Cell, ...] | None:
    """A set of hidden cells whose sum the reader can work out and that holds 1 to 4 people
    other than its own, or None when there is none.

    `pools`: cells of which the reader knows its own part only in total (a corporation knows
    how many of its housings the waiting-time histogram holds, not their buckets): beyond `own`,
    that many more of its own lie among them. A sum takes such cells all or none (part of them
    leaves its own part open, so no count of others follows).

    The sum s.x of a set s is worked out when its greatest value over the solutions is at most
    its true one, and so is its least. By linear programming duality, max s.x over
    {A x = 0, low <= x <= high} is at most t exactly when some y, g, b >= 0 have
    A^T y + g - b = s with high.g - low.b <= t; a hidden cell has no upper end (g = 0), a shown
    one is fixed (its g - b is free). One mixed-integer programme finds s (0/1 over the hidden
    cells) with both certificates.
    """
    order, shown, matrix, low, _ = _system(document, truth, own, known)
    n, m = len(order), matrix.shape[0]
    fixed = [k for k, c in enumerate(order) if shown[c] is not None or c in known]
    free = [k for k in range(n) if k not in set(fixed)]
    summed = [k for k in free if order[k][0] != "start"]
    if not summed:
        return None
    true = np.array([float(truth.get(c, 0)) if c[0] != "start" else 0.0 for c in order])
    rest = np.array([true[k] - low[k] for k in summed])

    def pick(columns: list[int], sign: float) -> coo_array:
        return coo_array(
            (np.full(len(columns), sign), (np.array(columns), np.arange(len(columns)))),
            shape=(n, len(columns)),
        )

    # Variables: s (summed), then per direction (max, then min) y (m), g (fixed), b (free).
    per = m + len(fixed) + len(free)
    width = len(summed) + 2 * per
    certificate = [coo_array(matrix.T), pick(fixed, 1.0), pick(free, -1.0)]
    equal, limits = [], np.zeros((2, width))
    for number, sign in enumerate((1.0, -1.0)):  # max s.x <= t, then max -s.x <= -t
        blocks = [pick(summed, -sign)]
        for other in range(2):
            blocks += certificate if other == number else [coo_array((n, per))]
        equal.append(hstack(blocks))  # A^T y + g - b = sign * s
        limits[number, : len(summed)] = -sign * true[summed]
        offset = len(summed) + number * per
        limits[number, offset + m : offset + m + len(fixed)] = low[fixed]
        limits[number, offset + m + len(fixed) : offset + per] = -low[free]
    vague = [
        ([order.index(c) for c in cells if truth[c] != own.get(c, 0)], extra)
        for cells, extra in pools
        if extra > 0
    ]
    position = {k: j for j, k in enumerate(summed)}
    width += len(vague)  # z: the sum takes the pool whole
    count = np.zeros(width)
    count[: len(summed)] = rest
    together = np.zeros((sum(len(cells) for cells, _ in vague), width))
    upper_pools = np.ones(len(vague))
    row = 0
    for number, (cells, extra) in enumerate(vague):
        count[width - len(vague) + number] = -extra
        for k in cells:
            if k not in position:
                upper_pools[number] = 0.0  # a cell of it is shown: never taken whole
                continue
            together[row, position[k]], together[row, width - len(vague) + number] = 1.0, -1.0
            row += 1
    together = together[:row]
    limits = np.hstack([limits, np.zeros((2, len(vague)))])
    equal = [hstack([block, coo_array((n, len(vague)))]) for block in equal]
    one_block = np.concatenate([np.full(m + len(fixed), -np.inf), np.zeros(len(free))])
    lower_ends = np.concatenate([np.zeros(len(summed)), one_block, one_block, np.zeros(len(vague))])
    upper_ends = np.concatenate([np.ones(len(summed)), np.full(2 * per, np.inf), upper_pools])
    constraints = [
        LinearConstraint(vstack(equal), 0.0, 0.0),
        LinearConstraint(limits, -np.inf, 1e-6),
        LinearConstraint(count[np.newaxis, :], 1.0, 4.0),
    ]
    if row:
        constraints.append(LinearConstraint(together, 0.0, 0.0))
    result = milp(
        np.zeros(width),
        constraints=constraints,
        bounds=Bounds(lower_ends, upper_ends),
        integrality=np.concatenate([np.ones(len(summed)), np.zeros(2 * per), np.ones(len(vague))]),
    )
    if result.status != 0:
        return None
    return tuple(order[k] for j, k in enumerate(summed) if result.x[j] > 0.5)
