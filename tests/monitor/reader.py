"""A reader who tries to work out hidden monitor cells, written apart from the app's suppression.

The reader holds one flows answer and its own data: for every cell, its own part (its own cases,
or the housings in its own dwellings), and its own row whole. It writes down every relation the
answer lets it use (group sums, period sums, `housed = own + intermediate`, `other exits =
returned + withdrawn`, the flow equation from an unshown starting backlog, the histogram total),
that no count is below its own part, and then asks a linear programme for the least and the
greatest value every hidden cell can take. A cell whose least and greatest value coincide is
worked out; over the integers (`milp`) a cell may be pinned that the reals leave free, so the
integer range is reported separately.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

CASE_MEASURES = ("new_ready", "returned", "withdrawn", "other_exits", "backlog_end")
HOUSING_MEASURES = ("housed", "housed_own_lease", "housed_intermediate_lease")

CEILING = 1e6  # more people than any table holds: a cell that reaches it has no upper end
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


def read(
    document: dict[str, Any],
    truth: Mapping[Cell, int],
    own: Mapping[Cell, int],
    known: set[Cell],
) -> list[Reading]:
    """What the reader can make of every hidden cell holding someone else's people.

    `truth`: the true value of every cell (from an unsuppressed answer and the model);
    `own`: the reader's own part of every cell (missing: 0); `known`: cells it knows whole.
    """
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
    readings = []
    for cell in order:
        if shown[cell] is not None or cell in known or cell[0] == "start":
            continue
        if truth[cell] == own.get(cell, 0):
            continue  # nobody else's people in it
        k = index[cell]
        readings.append(
            Reading(
                cell,
                truth[cell],
                own.get(cell, 0),
                _range(matrix, low, high, k, integral=False),
                _range(matrix, low, high, k, integral=True),
            )
        )
    return readings


def _range(
    matrix: np.ndarray, low: np.ndarray, high: np.ndarray, k: int, integral: bool
) -> tuple[float, float]:
    """The least and the greatest value of cell `k` (CEILING: no upper end)."""
    n = matrix.shape[1]
    ends = []
    for sign in (1.0, -1.0):  # minimise x_k, then minimise -x_k
        cost = np.zeros(n)
        cost[k] = sign
        if integral:
            result = milp(
                cost,
                constraints=LinearConstraint(matrix, 0.0, 0.0),
                bounds=Bounds(low, high),
                integrality=np.ones(n),
            )
        else:
            result = linprog(
                cost,
                A_eq=matrix,
                b_eq=np.zeros(matrix.shape[0]),
                bounds=list(zip(low, high, strict=True)),
                method="highs",
            )
        assert result.status == 0, result.message  # the true table is always a solution
        ends.append(sign * result.fun)
    return ends[0], ends[1]
