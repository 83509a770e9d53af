"""Benchmark of the monitor's suppression on fine grids full of small counts, with the search for
sums (`app.monitor.suppression.small_sums`) against the same suppression without it (the
single-cell protection alone, as before sums were checked) in the same run.

A grid is `groups` care providers x `months` months of the flows measures, generated with small
counts (new ready 0-5 a month, a few housings and exits), its totals per group and per month,
the waiting-time histogram; the viewer is the first provider (its row known whole, its own part
of the total rows). Per grid and seed: CPU seconds of `protect_flows` and the cells it hides.
Run: `python -m bench.bench_suppression [5x24 12x24 ...] [--seeds N]`.
"""

import argparse
import random
import statistics
import time
from collections.abc import Hashable
from typing import Any

from app.monitor import suppression, waiting
from app.monitor.flow_equations import Grid, protect_flows
from bench.report import write_section

MEASURES = [
    "new_ready",
    "housed",
    "housed_own_lease",
    "housed_intermediate_lease",
    "returned",
    "withdrawn",
    "other_exits",
    "backlog_end",
]


def _month(rnd: random.Random, backlog: int) -> dict[str, int]:
    new = rnd.choice([0, 0, 1, 1, 2, 3, 5])
    own_lease, intermediate = rnd.choice([0, 0, 1, 2]), rnd.choice([0, 0, 1])
    housed = min(backlog + new, own_lease + intermediate)
    own_lease = min(own_lease, housed)
    returned, withdrawn = rnd.choice([0, 0, 0, 1]), rnd.choice([0, 0, 1])
    other = min(backlog + new - housed, returned + withdrawn)
    returned = min(returned, other)
    return {
        "new_ready": new,
        "housed": housed,
        "housed_own_lease": own_lease,
        "housed_intermediate_lease": housed - own_lease,
        "returned": returned,
        "withdrawn": other - returned,
        "other_exits": other,
        "backlog_end": backlog + new - housed - other,
    }


def fine_grid(groups: int, months: int, seed: int) -> tuple[Grid, Grid, list, list]:
    """The whole grid, the first provider's own part of it, the spans and the group keys."""
    rnd = random.Random(seed)
    names = [f"provider-{g}" for g in range(groups)]
    keys: list[str | None] = [*names, None]
    per: dict[tuple[int, str], dict[str, int]] = {}
    for name in names:
        backlog = rnd.randint(0, 8)
        for m in range(months):
            per[(m, name)] = _month(rnd, backlog)
            backlog = per[(m, name)]["backlog_end"]

    def figures(members: list[str]) -> Grid:
        rows = [
            {"period": f"m{m:02d}", "group": g}
            | {k: sum(per[(m, x)][k] for x in (members if g is None else [g])) for k in MEASURES}
            if g is None or g in members
            else {"period": f"m{m:02d}", "group": g} | dict.fromkeys(MEASURES, 0)
            for m in range(months)
            for g in keys
        ]
        totals = []
        for g in keys:
            inside = members if g is None else [g] if g in members else []
            total = {
                k: sum(per[(m, x)][k] for m in range(months) for x in inside) for k in MEASURES
            }
            total["backlog_end"] = sum(per[(months - 1, x)]["backlog_end"] for x in inside)
            totals.append({"period": "total", "group": g} | total)
        housed = sum(t["housed"] for t in totals if t["group"] is None)
        waits = [rnd.randint(0, 800) for _ in range(housed)] if members == names else []
        return Grid(rows, totals, waiting.histogram(waits))

    spans = [(f"m{m:02d}", None, None) for m in range(months)]
    return figures(names), figures(names[:1]), spans, keys


def _protect(grid: Grid, own: Grid, spans: list, keys: list) -> tuple[float, set[Hashable]]:
    started = time.process_time()
    hidden = protect_flows(grid, own, spans, keys, True, {str(keys[0])}, waiting.histogram([]))
    return time.process_time() - started, hidden


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", default=["5x24", "12x24"])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    lines = []
    real = suppression.small_sums
    for size in args.sizes:
        groups, months = (int(n) for n in size.split("x"))
        timings: dict[str, list[float]] = {"with": [], "without": []}
        cells: dict[str, list[int]] = {"with": [], "without": []}
        for seed in range(args.seeds):
            grid, own, spans, keys = fine_grid(groups, months, seed)
            for variant in ("without", "with"):
                suppression.small_sums = real if variant == "with" else _no_sums  # type: ignore[assignment]
                seconds, hidden = _protect(grid, own, spans, keys)
                timings[variant].append(seconds)
                cells[variant].append(len(hidden))
        suppression.small_sums = real
        total = len(fine_grid(groups, months, 0)[0].cells(MEASURES))
        lines.append(
            f"| {groups} x {months} ({groups * months} period x group cells, {total:,} counts) "
            f"| {statistics.median(timings['without']):.2f} s "
            f"({min(cells['without'])}-{max(cells['without'])} hidden) "
            f"| {statistics.median(timings['with']):.2f} s "
            f"({min(cells['with'])}-{max(cells['with'])} hidden) |"
        )
        print(lines[-1], flush=True)
    markdown = (
        "## Monitor suppression on fine grids (`python -m bench.bench_suppression`)\n\n"
        "Synthetic monthly grids per care provider full of small counts, viewed by the first "
        f"provider; CPU seconds of `protect_flows`, median over {args.seeds} seeds, and the "
        "cells hidden. The peer is the same suppression without the search for sums (the "
        "single-cell protection alone), in the same run.\n\n"
        "| grid | without sums | with sums |\n|---|---:|---:|\n" + "\n".join(lines)
    )
    write_section("suppression", markdown)


def _no_sums(*args: Any, **kwargs: Any) -> list[set[Hashable]]:
    return []


if __name__ == "__main__":
    main()
