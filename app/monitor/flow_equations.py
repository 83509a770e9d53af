"""The equations a reader can use on a calendar year's flows (group sums, quarters and the year
as sums of months, the lease and exit identities, the backlog flow equation, the histogram
total), handed to the suppression."""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from app.monitor.memory import Memory, digest
from app.monitor.models import FLOW_MEASURES, HOUSING_MEASURES
from app.monitor.suppression import Equation, suppress


def _cell_id(part: str, row: dict[str, Any], measure: str) -> tuple[str, Any, Any, str]:
    return (part, row["period"], row["group"], measure)


@dataclass(frozen=True, slots=True)
class Grid:
    """The figures of one set of facts: rows (period x group), totals per group, histogram."""

    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]]
    histogram: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class System:
    """What `suppress` takes for one table: the cells, the reader's equations, the cells it
    knows whole, its own part of each (`lower`; `own` also where it knows it only in total),
    the unshown cells, and the cells another table already hides."""

    values: dict[Hashable, int | None]
    equations: list[Equation]
    known: frozenset[Hashable]
    lower: dict[Hashable, int]
    own: dict[Hashable, int]
    unshown: frozenset[Hashable]
    hidden: frozenset[Hashable]

    def protect(self) -> frozenset[Hashable]:
        """The cells to hide (`suppress_remembered`)."""
        return suppress_remembered(
            self.values, self.equations, self.known, self.lower, self.own, self.unshown, self.hidden
        )

    def joined(
        self,
        decided_hidden: frozenset[Hashable],
        values: dict[Hashable, int | None],
        equations: list[Equation],
        lower: dict[Hashable, int],
    ) -> frozenset[Hashable]:
        """The cells of another table to hide (`values`, with the viewer's own parts `lower`)
        that shares cells with this one (`equations` may name this table's cells): protected
        with all of this table's equations, its cells fixed as its protection decided them
        (`decided_hidden` stay hidden, the rest are shown, constants the reader has). Returns
        cells of `values` only."""
        decided = frozenset(c for c, v in self.values.items() if v is not None) - self.unshown
        fixed = decided_hidden & decided
        return (
            suppress_remembered(
                {**self.values, **values},
                [*self.equations, *equations],
                self.known | (decided - fixed),
                {**self.lower, **lower},
                {**lower, **self.own},
                self.unshown,
                fixed,
            )
            & values.keys()
        )


def year_system(
    grid: Grid,
    own: Grid,
    parts: dict[str, list[str]],
    keys: list[str | None],
    case_groups: bool,
    own_groups: set[str],
    own_histogram: list[dict[str, Any]],
    *,
    shown: frozenset[Hashable] = frozenset(),
    hidden: frozenset[Hashable] = frozenset(),
) -> System:
    """The protection problem of one calendar year's table (`grid`: rows of its months,
    quarters and year per group in `keys`, group None the total; its histogram): which cells to
    hide from a viewer whose own part of every cell is `own`, and who knows the rows of
    `own_groups` whole (its own row).

    Every relation between them takes part: the group sums, each quarter and the year the sum of
    its months (`parts`: coarse label -> month labels; its backlog that of its last month), the
    lease and exit identities, the flow equation over the months, the histogram total. So an
    answer by month, by quarter or by year, or several of them, shows a slice of one protected
    table. `own_histogram`: the waiting-time buckets of all the viewer's housings, also those
    whose bucket it does not know; the search for sums counts against it. The backlog before
    the year (`("start", group)`) is never shown, but the reader can solve for it: it takes
    part as an unshown cell, unless another table fixes it.

    `shown` and `hidden`: cells whose fate another table decided (the total row of the table
    without groups, the backlogs at the year's turns); shown ones are constants the reader has,
    hidden ones are protected here too. Cell ids: `("rows", label, group, measure)`,
    `("hist", bucket)`, `("start", group)`.
    """
    measures = [m for m in FLOW_MEASURES if case_groups or m in HOUSING_MEASURES]
    stock = ["backlog_end"] if case_groups else []
    values: dict[Hashable, int | None] = {}
    lower: dict[Hashable, int] = {}
    for collection, into in ((grid.rows, values), (own.rows, lower)):
        for row in collection:
            for measure in measures + stock:
                into[_cell_id("rows", row, measure)] = row[measure] or 0
    months = [
        label for label in dict.fromkeys(r["period"] for r in grid.rows) if label not in parts
    ]
    by_period = {(r["period"], r["group"]): r for r in grid.rows}
    if case_groups:
        for collection, into in ((grid.rows, values), (own.rows, lower)):
            for row in collection:
                if row["period"] == months[0]:
                    into[("start", row["group"])] = (
                        row["backlog_end"] - row["new_ready"] + row["housed"] + row["other_exits"]
                    )
    for bucket in grid.histogram:
        values[("hist", bucket["bucket"])] = bucket["count"]
    for bucket in own.histogram:
        lower[("hist", bucket["bucket"])] = bucket["count"]
    unshown = frozenset(("start", g) for g in keys if case_groups) - shown - hidden
    known = (
        frozenset(
            cell
            for cell in values
            if cell[0] == "rows" and cell[2] in own_groups  # type: ignore[index]
        )
        | frozenset(("start", g) for g in own_groups if case_groups)
        | (shown & values.keys())
    )
    grouped = keys[-1] is None and len(keys) > 1
    members = [k for k in keys if k is not None]
    labels = [*months, *parts]
    equations: list[Equation] = []
    for label in labels:
        for measure in measures + stock:
            if grouped:
                equations.append(
                    [(_cell_id("rows", by_period[(label, g)], measure), 1.0) for g in members]
                    + [(_cell_id("rows", by_period[(label, None)], measure), -1.0)]
                )
    for label, inside in parts.items():
        for group in keys:
            whole = by_period[(label, group)]
            for measure in measures:
                equations.append(
                    [(_cell_id("rows", by_period[(m, group)], measure), 1.0) for m in inside]
                    + [(_cell_id("rows", whole, measure), -1.0)]
                )
            for measure in stock:
                equations.append(
                    [
                        (_cell_id("rows", by_period[(inside[-1], group)], measure), 1.0),
                        (_cell_id("rows", whole, measure), -1.0),
                    ]
                )
    for row in grid.rows:
        equations.append(
            [
                (_cell_id("rows", row, "housed"), 1.0),
                (_cell_id("rows", row, "housed_own_lease"), -1.0),
                (_cell_id("rows", row, "housed_intermediate_lease"), -1.0),
            ]
        )
        if case_groups:
            equations.append(
                [
                    (_cell_id("rows", row, "other_exits"), 1.0),
                    (_cell_id("rows", row, "returned"), -1.0),
                    (_cell_id("rows", row, "withdrawn"), -1.0),
                ]
            )
    if case_groups:
        for group in keys:
            before_cell: Hashable = ("start", group)
            for label in months:
                now = by_period[(label, group)]
                equations.append(
                    [
                        (_cell_id("rows", now, "backlog_end"), 1.0),
                        (before_cell, -1.0),
                        (_cell_id("rows", now, "new_ready"), -1.0),
                        (_cell_id("rows", now, "housed"), 1.0),
                        (_cell_id("rows", now, "other_exits"), 1.0),
                    ]
                )
                before_cell = _cell_id("rows", now, "backlog_end")
        if grouped:
            equations.append([(("start", g), 1.0) for g in members] + [(("start", None), -1.0)])
    year_label = next(label for label, inside in parts.items() if len(inside) == len(months))
    equations.append(
        [(("hist", b["bucket"]), 1.0) for b in grid.histogram]
        + [(_cell_id("rows", by_period[(year_label, None)], "housed"), -1.0)]
    )
    whole_own = lower | {("hist", b["bucket"]): b["count"] for b in own_histogram}
    return System(values, equations, known, lower, whole_own, unshown, hidden & values.keys())


_PROTECTED: Memory[frozenset[Hashable]] = Memory(128)  # up to about 100 kB each (16 groups)


def suppress_remembered(
    values: dict[Hashable, int | None],
    equations: list[Equation],
    known: frozenset[Hashable],
    lower: dict[Hashable, int],
    own: dict[Hashable, int],
    unshown: frozenset[Hashable],
    hidden: frozenset[Hashable],
) -> frozenset[Hashable]:
    """`suppress`, remembered by its whole input: the same figures and the same knowledge give
    the same cells, so the many answers cut from one table (by month, by quarter, by year, over
    other years, the forecast) cost one protection while nothing in it changes. It is pure, so
    each server process may keep its own."""
    key = digest(
        (
            list(values.items()),
            equations,
            sorted(map(repr, known)),
            sorted(lower.items(), key=repr),
            sorted(own.items(), key=repr),
            sorted(map(repr, unshown)),
            sorted(map(repr, hidden)),
        )
    )
    return _PROTECTED.answer(
        key,
        lambda: frozenset(
            suppress(
                values,
                equations,
                known=known,
                lower=lower,
                own=own,
                unshown=unshown,
                fixed_hidden=hidden,
            )
        ),
    )
