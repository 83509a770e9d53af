"""The equations a reader can use on a flows answer (group sums, period sums, the lease and
exit identities, the backlog flow equation, the histogram total), handed to the suppression."""

import itertools
from datetime import date
from typing import Any

from app.monitor.models import FLOW_MEASURES, HOUSING_MEASURES
from app.monitor.suppression import suppress


def _cell_id(part: str, row: dict[str, Any], measure: str) -> tuple:
    return (part, row["period"], row["group"], measure)


def protect_flows(
    rows: list[dict[str, Any]],
    totals: list[dict[str, Any]],
    histogram: list[dict[str, Any]],
    spans: list[tuple[str, date, date]],
    keys: list[str | None],
    case_groups: bool,
) -> set:
    """Hide small counts and their complements across every relation the answer shows."""
    measures = [m for m in FLOW_MEASURES if case_groups or m in HOUSING_MEASURES]
    stock = ["backlog_end"] if case_groups else []
    values: dict[tuple, int | None] = {}
    for part, collection in (("rows", rows), ("totals", totals)):
        for row in collection:
            for measure in measures + stock:
                values[_cell_id(part, row, measure)] = row[measure]
    for bucket in histogram:
        values[("hist", bucket["bucket"])] = bucket["count"]
    by_period = {(r["period"], r["group"]): r for r in rows}
    total_of = {r["group"]: r for r in totals}
    grouped = keys[-1] is None and len(keys) > 1
    members = [k for k in keys if k is not None]
    equations: list = []
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
            for (previous, _, _), (label, _, _) in itertools.pairwise(spans):
                now, before = by_period[(label, group)], by_period[(previous, group)]
                equations.append(
                    [
                        (_cell_id("rows", now, "backlog_end"), 1.0),
                        (_cell_id("rows", before, "backlog_end"), -1.0),
                        (_cell_id("rows", now, "new_ready"), -1.0),
                        (_cell_id("rows", now, "housed"), 1.0),
                        (_cell_id("rows", now, "other_exits"), 1.0),
                    ]
                )
    equations.append(
        [(("hist", b["bucket"]), 1.0) for b in histogram]
        + [(_cell_id("totals", total_of[None], "housed"), -1.0)]
    )
    return suppress(values, equations)
