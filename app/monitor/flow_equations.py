"""The equations a reader can use on a flows answer (group sums, period sums, the lease and
exit identities, the backlog flow equation, the histogram total), handed to the suppression."""

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

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

    def cells(self, measures: list[str]) -> dict[tuple[Any, ...], int | None]:
        values: dict[tuple[Any, ...], int | None] = {}
        for part, collection in (("rows", self.rows), ("totals", self.totals)):
            for row in collection:
                for measure in measures:
                    values[_cell_id(part, row, measure)] = row[measure]
        for bucket in self.histogram:
            values[("hist", bucket["bucket"])] = bucket["count"]
        return values


def protect_flows(
    grid: Grid,
    own: Grid,
    spans: list[tuple[str, date, date]],
    keys: list[str | None],
    case_groups: bool,
    own_groups: set[str],
    own_histogram: list[dict[str, Any]],
) -> set[Hashable]:
    """The cells of `grid` to hide from a viewer whose own part of every cell is `own`, and who
    knows the rows of `own_groups` whole (its own row), across every relation the answer shows.

    `own_histogram`: the waiting-time buckets of all the viewer's housings, also those whose
    bucket it does not know (`own.histogram` holds those it knows); the search for sums counts
    against it. The backlog before the first period is never shown, but the reader can solve
    for it: it takes part as an unshown cell per group.
    """
    measures = [m for m in FLOW_MEASURES if case_groups or m in HOUSING_MEASURES]
    stock = ["backlog_end"] if case_groups else []
    values = grid.cells(measures + stock)
    lower = {cell: value or 0 for cell, value in own.cells(measures + stock).items()}
    unshown: set[Hashable] = set()
    if case_groups:
        for collection, into in ((grid.rows, values), (own.rows, lower)):
            for row in collection[: len(keys)]:  # the first period, one row per group
                into[("start", row["group"])] = (
                    row["backlog_end"] - row["new_ready"] + row["housed"] + row["other_exits"]
                )
        unshown = {("start", group) for group in keys}
    known = frozenset(
        cell
        for cell, value in values.items()
        if value is not None and cell[0] not in ("hist", "start") and cell[2] in own_groups
    ) | {("start", group) for group in own_groups if ("start", group) in unshown}
    rows, totals, histogram = grid.rows, grid.totals, grid.histogram
    by_period = {(r["period"], r["group"]): r for r in rows}
    total_of = {r["group"]: r for r in totals}
    grouped = keys[-1] is None and len(keys) > 1
    members = [k for k in keys if k is not None]
    equations: list[Equation] = []
    for label, _, _ in spans:
        for measure in measures + stock:
            if grouped:
                equations.append(
                    [(_cell_id("rows", by_period[(label, g)], measure), 1.0) for g in members]
                    + [(_cell_id("rows", by_period[(label, None)], measure), -1.0)]
                )
    for group in keys:
        for measure in measures:
            equations.append(
                [
                    (_cell_id("rows", by_period[(label, group)], measure), 1.0)
                    for label, _, _ in spans
                ]
                + [(_cell_id("totals", total_of[group], measure), -1.0)]
            )
        for measure in stock:
            last_label = spans[-1][0]
            equations.append(
                [
                    (_cell_id("rows", by_period[(last_label, group)], measure), 1.0),
                    (_cell_id("totals", total_of[group], measure), -1.0),
                ]
            )
    if grouped:
        for measure in measures + stock:
            equations.append(
                [(_cell_id("totals", total_of[g], measure), 1.0) for g in members]
                + [(_cell_id("totals", total_of[None], measure), -1.0)]
            )
    for part, collection in (("rows", rows), ("totals", totals)):
        for row in collection:
            equations.append(
                [
                    (_cell_id(part, row, "housed"), 1.0),
                    (_cell_id(part, row, "housed_own_lease"), -1.0),
                    (_cell_id(part, row, "housed_intermediate_lease"), -1.0),
                ]
            )
            if case_groups:
                equations.append(
                    [
                        (_cell_id(part, row, "other_exits"), 1.0),
                        (_cell_id(part, row, "returned"), -1.0),
                        (_cell_id(part, row, "withdrawn"), -1.0),
                    ]
                )
    if case_groups:
        for group in keys:
            before_cell: Hashable = ("start", group)
            for label, _, _ in spans:
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
    equations.append(
        [(("hist", b["bucket"]), 1.0) for b in histogram]
        + [(_cell_id("totals", total_of[None], "housed"), -1.0)]
    )
    whole_own = lower | {("hist", b["bucket"]): b["count"] for b in own_histogram}
    return suppress(
        values, equations, known=known, lower=lower, own=whole_own, unshown=frozenset(unshown)
    )
