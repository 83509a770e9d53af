"""The engine's solver against peers on the same generated instances, and how the engine's time
grows with the size of one table.

1. Uncapped assignment (the spread caps lifted): the engine's `solve` (prune, then LAPJVsp on
   the sparse feasible graph) against OR-Tools' min-cost flow (`SimpleMinCostFlow`, when the
   `[bench]` extra is installed) and scipy's dense `linear_sum_assignment`, each maximising
   people housed first, then the total score. The benchmark asserts all reach the same optimum.
2. The capped problem (complex and neighbourhood caps): the engine against the two-phase HiGHS
   MILP (`solve(method="milp")`, scipy's HiGHS), same optimum asserted.
3. Growth: `match` (the agenda's computation without the database and HTTP) on one table from
   250 to 16,000 cases (a third as many vacancies, as the big city), with the exponent fitted
   by least squares on log time against log cases.

Run: `python -m bench.bench_peers` (writes the `peers` section of docs/benchmarks.md);
`--milp-big` adds HiGHS MILP on the big city (minutes); `--growth-max N` stops the growth at N
cases (16,000 adds the 16,000 x 4,000 row; about 1 GB each); `--before DIR` runs the growth
from the source tree in DIR too (`git archive <commit> | tar -x -C DIR`), asserting the same
results.
"""

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.matching import evaluate
from app.matching.engine import _sorted_inputs, build_problem
from app.matching.solver import AssignmentProblem, solve
from bench.regions import LIMITS_2026, MEETING_DATE, build_region, default_policy, to_engine
from bench.report import write_section

try:  # the `[bench]` extra; never a dependency of the service
    from ortools.graph.python import min_cost_flow
except ImportError:  # pragma: no cover - reported in the section
    min_cost_flow = None


@dataclasses.dataclass(frozen=True)
class Optimum:
    housed: int
    total_score: int  # micro-points
    ms: float


def problem_of(cases: int, vacancies: int, seed: int) -> AssignmentProblem:
    """The engine's assignment problem for a generated region (the agenda's own construction)."""
    case_list, dwellings, usage = to_engine(build_region(cases, vacancies, seed=seed))
    case_list, dwellings = _sorted_inputs(case_list, dwellings)
    policy = default_policy()
    evaluation = evaluate(case_list, dwellings, policy, LIMITS_2026, MEETING_DATE, usage)
    return build_problem(evaluation, dwellings, policy, usage)


def uncapped(problem: AssignmentProblem) -> AssignmentProblem:
    """The same edges with room enough in every complex and neighbourhood."""
    room = problem.n_cases + problem.n_dwellings
    return dataclasses.replace(
        problem,
        complex_room=np.full_like(problem.complex_room, room),
        neighbourhood_room=np.full_like(problem.neighbourhood_room, room),
    )


def _timed(action: Callable[[], tuple[int, int]]) -> Optimum:
    started = time.perf_counter()
    housed, total = action()
    return Optimum(housed, total, (time.perf_counter() - started) * 1000)


def engine(problem: AssignmentProblem, method: str = "auto") -> Optimum:
    def run() -> tuple[int, int]:
        assignment = solve(problem, method)
        assert assignment.optimal
        return assignment.count, int(problem.edge_score[assignment.edges].sum())

    return _timed(run)


def _lexicographic_weights(problem: AssignmentProblem) -> tuple[np.ndarray, int]:
    """Edge weights whose maximum sum houses the most people, then scores the most: each edge is
    worth `big` plus its score shifted to be non-negative, `big` above any score sum, so one more
    person outweighs every score difference. Returns (weights, shift)."""
    shift = int(problem.edge_score.min()) if problem.edges else 0
    shifted = problem.edge_score - shift
    big = (int(shifted.max()) + 1) * (min(problem.n_cases, problem.n_dwellings) + 1)
    return big + shifted, shift


def _unshift(problem: AssignmentProblem, chosen: np.ndarray) -> tuple[int, int]:
    return len(chosen), int(problem.edge_score[chosen].sum())


def ortools_flow(problem: AssignmentProblem) -> Optimum | None:
    """Min-cost flow: source -> case -> dwelling -> sink, unit capacities, cost -(weight), and a
    free source -> sink arc so that cases may stay unhoused."""
    if min_cost_flow is None:
        return None

    def run() -> tuple[int, int]:
        weights, _ = _lexicographic_weights(problem)
        flow = min_cost_flow.SimpleMinCostFlow()
        cases, dwellings = problem.n_cases, problem.n_dwellings
        source, sink = cases + dwellings, cases + dwellings + 1
        tails = np.concatenate(
            [
                np.full(cases, source),
                problem.edge_case,
                cases + np.arange(dwellings),
                [source],
            ]
        ).astype(np.int32)
        heads = np.concatenate(
            [np.arange(cases), cases + problem.edge_dwelling, np.full(dwellings, sink), [sink]]
        ).astype(np.int32)
        capacities = np.ones(len(tails), dtype=np.int64)
        capacities[-1] = cases
        costs = np.concatenate([np.zeros(cases), -weights, np.zeros(dwellings), [0]]).astype(
            np.int64
        )
        first_edge = cases
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
        supplies = np.zeros(cases + dwellings + 2, dtype=np.int64)
        supplies[source], supplies[sink] = cases, -cases
        flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
        assert flow.solve() == flow.OPTIMAL
        used = flow.flows(np.arange(first_edge, first_edge + problem.edges)) > 0
        return _unshift(problem, np.flatnonzero(used))

    return _timed(run)


def dense_lsa(problem: AssignmentProblem) -> Optimum:
    """scipy's `linear_sum_assignment` on the dense cases x dwellings matrix of the same weights
    (0 where a pair is infeasible; a 0 chosen is no pair)."""

    def run() -> tuple[int, int]:
        weights, _ = _lexicographic_weights(problem)
        matrix = np.zeros((problem.n_cases, problem.n_dwellings), dtype=np.float64)
        matrix[problem.edge_case, problem.edge_dwelling] = weights
        edge_of = np.full((problem.n_cases, problem.n_dwellings), -1, dtype=np.int64)
        edge_of[problem.edge_case, problem.edge_dwelling] = np.arange(problem.edges)
        rows, cols = linear_sum_assignment(matrix, maximize=True)
        chosen = edge_of[rows, cols]
        return _unshift(problem, chosen[chosen >= 0])

    return _timed(run)


def _same(name: str, ours: Optimum, peer: Optimum | None) -> None:
    if peer is not None:
        assert (ours.housed, ours.total_score) == (peer.housed, peer.total_score), (
            f"{name}: engine {ours} against peer {peer}"
        )


INSTANCES = (("weekly table", 200, 50, 1), ("800 x 300", 800, 300, 4), ("big city", 3000, 1000, 2))


def peers_rows(milp_big: bool) -> tuple[list[str], list[str]]:
    uncapped_rows, capped_rows = [], []
    for name, cases, vacancies, seed in INSTANCES:
        problem = problem_of(cases, vacancies, seed)
        free = uncapped(problem)
        ours = min((engine(free) for _ in range(3)), key=lambda o: o.ms)
        flow = ortools_flow(free)
        lsa = dense_lsa(free)
        _same(f"{name}, uncapped, OR-Tools", ours, flow)
        _same(f"{name}, uncapped, linear_sum_assignment", ours, lsa)
        flow_ms = "not installed" if flow is None else f"{flow.ms:,.0f} ms"
        uncapped_rows.append(
            f"| {name} | {cases:,} x {vacancies:,} | {problem.edges:,} | {ours.housed:,} "
            f"| {ours.ms:,.0f} ms | {flow_ms} | {lsa.ms:,.0f} ms | yes |"
        )
        capped = min((engine(problem) for _ in range(3)), key=lambda o: o.ms)
        milp_cell, same = "not run (`--milp-big`)", "-"
        if name != "big city" or milp_big:
            milp = engine(problem, "milp")
            _same(f"{name}, capped, HiGHS MILP", capped, milp)
            milp_cell, same = f"{milp.ms:,.0f} ms", "yes"
        capped_rows.append(
            f"| {name} | {cases:,} x {vacancies:,} | {capped.housed:,} | {capped.ms:,.0f} ms "
            f"| {milp_cell} | {same} |"
        )
        print(uncapped_rows[-1], capped_rows[-1], sep="\n")
    return uncapped_rows, capped_rows


GROWTH_SIZES = (250, 500, 1000, 2000, 4000, 8000, 16000)
TARGET_SIZE = (16000, 4000)
"""Issue 16's one big table: 16,000 cases and 4,000 dwellings, under 1 GB."""

GROWTH_POINT = """
import dataclasses, hashlib, json, resource, statistics, sys, time
from app.matching import match
from bench.regions import LIMITS_2026, MEETING_DATE, build_region, default_policy, to_engine
cases, vacancies, runs = (int(a) for a in sys.argv[1:])
case_list, dwellings, usage = to_engine(build_region(cases, vacancies, seed=7))
policy, seconds, cpu = default_policy(), [], []
for _ in range(runs):
    started, cpu_started = time.perf_counter(), time.process_time()
    result = match(case_list, dwellings, policy, LIMITS_2026, MEETING_DATE, usage, top_k=5)
    seconds.append(time.perf_counter() - started)
    cpu.append(time.process_time() - cpu_started)
stats = dataclasses.replace(result.stats, timings_ms={})
from app.matching import evaluate
from app.matching.engine import _sorted_inputs, build_problem
from app.matching.solver import solve
ordered_cases, ordered_dwellings = _sorted_inputs(case_list, dwellings)
evaluation = evaluate(ordered_cases, ordered_dwellings, policy, LIMITS_2026, MEETING_DATE, usage)
optimum = solve(build_problem(evaluation, ordered_dwellings, policy, usage))
print(json.dumps({
    "optimum": [optimum.count, int(optimum.total_score)],
    "pairs": result.stats.feasible_pairs,
    "seconds": statistics.median(seconds),
    "cpu_seconds": statistics.median(cpu),
    "solve_ms": result.stats.timings_ms["solve"],
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "digest": hashlib.sha256(repr(dataclasses.replace(result, stats=stats)).encode()).hexdigest(),
}))
"""
"""One size measured in a process of its own (so its peak memory is its own), from the source
tree on PYTHONPATH: the median `match` wall and CPU time, the solve's share, the process's peak
RSS (the generated region included), a digest of the whole result but its timings, and the
optimum (people housed, total score in micro-points) solved again after the timed runs."""


def growth_point(tree: str, cases: int, vacancies: int, runs: int) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": tree}
    done = subprocess.run(
        [sys.executable, "-c", GROWTH_POINT, str(cases), str(vacancies), str(runs)],
        env=env,
        cwd=tree,  # `-c` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    point: dict = json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return point


def _fit(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return math.nan
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def growth(max_cases: int, before: str | None) -> tuple[list[str], list[str]]:
    """Per size (a third as many vacancies as cases, then issue 16's 16,000 x 4,000): `match`
    from this tree and (`before`) from the tree in that directory, each size in its own process
    (3 runs up to 4,000 cases, then 1); the rows and the fitted exponents."""
    here = str(Path(__file__).resolve().parent.parent)
    sizes = [(n, n // 3) for n in GROWTH_SIZES if n <= max_cases]
    if max_cases >= TARGET_SIZE[0]:
        sizes.append(TARGET_SIZE)
    rows: list[str] = []
    fitted: dict[str, list[float]] = {
        key: [] for key in ("cases", "pairs", "after", "before", "cpu", "cpu_before")
    }
    points = {}
    for cases, vacancies in sizes:
        runs = 3 if cases <= 4000 else 1
        after = points[cases, vacancies] = growth_point(here, cases, vacancies, runs)
        was = growth_point(before, cases, vacancies, runs) if before else None
        if was is not None:
            assert was["optimum"] == after["optimum"], f"{cases} x {vacancies}: optima differ"
        if vacancies == cases // 3:
            fitted["cases"].append(cases)
            fitted["pairs"].append(after["pairs"])
            fitted["after"].append(after["seconds"])
            fitted["cpu"].append(after["cpu_seconds"])
            if was is not None:
                fitted["before"].append(was["seconds"])
                fitted["cpu_before"].append(was["cpu_seconds"])
        per_pair = after["seconds"] * 1e6 / max(after["pairs"], 1)
        rows.append(
            f"| {cases:,} x {vacancies:,} | {after['pairs']:,} | {runs} "
            f"| {_ms(was, 'seconds')} | {after['seconds'] * 1000:,.0f} ms "
            f"| {_ratio(was, after)} | {_ms(was, 'cpu_seconds')} "
            f"| {after['cpu_seconds'] * 1000:,.0f} ms "
            f"| {after['solve_ms']:,.0f} ms | {per_pair:.2f} us "
            f"| {_mb(was)} | {after['peak_mb']:,.0f} MB | {_same_result(was, after)} |"
        )
        print(rows[-1], flush=True)
    cases, pairs = fitted["cases"], fitted["pairs"]
    notes = [
        f"Fitted exponents (least squares on logs, the n x n/3 rows): feasible pairs ~ "
        f"cases^{_fit(cases, pairs):.2f}; `match` after ~ cases^{_fit(cases, fitted['after']):.2f}"
        f" ~ pairs^{_fit(pairs, fitted['after']):.2f}"
        + (
            f"; before ~ cases^{_fit(cases, fitted['before']):.2f}"
            f" ~ pairs^{_fit(pairs, fitted['before']):.2f}"
            if fitted["before"]
            else ""
        )
        + f". In CPU time: after ~ cases^{_fit(cases, fitted['cpu']):.2f}"
        + (f", before ~ cases^{_fit(cases, fitted['cpu_before']):.2f}" if fitted["before"] else "")
        + "."
        + _memory_note(points, _fit(cases, pairs))
    ]
    return rows, notes


def _memory_note(points: dict[tuple[int, int], dict], pairs_exponent: float) -> str:  # type: ignore[type-arg]
    """What one more feasible pair costs at the peak: the RSS difference of the two 16,000-case
    rows over their difference in pairs (same cases, so the same interpreter, region and case
    arrays). Up to 4,000 cases the peak is the interpreter's and scipy's import (the same for
    every size), so no exponent can be fitted on the memory column itself."""
    wide, target = points.get((16000, 16000 // 3)), points.get(TARGET_SIZE)
    if wide is None or target is None or wide["pairs"] == target["pairs"]:
        return ""
    per_pair = (wide["peak_mb"] - target["peak_mb"]) * 2**20 / (wide["pairs"] - target["pairs"])
    return (
        f" Peak memory grows with the feasible pairs: {per_pair:,.0f} bytes more per pair "
        "between the two 16,000-case rows (the pairs themselves hold 16 bytes each), so it "
        f"grows as the pairs do (~ cases^{pairs_exponent:.2f} here), not as ~N^1.5."
    )


def _same_result(was: dict | None, after: dict) -> str:  # type: ignore[type-arg]
    """'yes' when the whole result is the same; 'optimum' when only the optimum is (another of
    the equally good proposals was chosen: a change of the solver may break ties otherwise)."""
    if was is None:
        return "-"
    return "yes" if was["digest"] == after["digest"] else "optimum"


def _ms(point: dict | None, key: str) -> str:  # type: ignore[type-arg]
    return "-" if point is None else f"{point[key] * 1000:,.0f} ms"


def _ratio(was: dict | None, after: dict) -> str:  # type: ignore[type-arg]
    return "-" if was is None else f"{after['seconds'] / was['seconds']:.2f}"


def _mb(point: dict | None) -> str:  # type: ignore[type-arg]
    return "-" if point is None else f"{point['peak_mb']:,.0f} MB"


def _load() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().split()[0] if path.exists() else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--milp-big", action="store_true")
    parser.add_argument("--growth-max", type=int, default=16000)
    parser.add_argument("--before", help="source tree (a `git archive`) to measure beside")
    args = parser.parse_args()
    load_before = _load()
    uncapped_rows, capped_rows = peers_rows(args.milp_big)
    load_growth = _load()
    growth_rows, growth_notes = growth(args.growth_max, args.before)
    lines = [
        "## Peers and growth (`python -m bench.bench_peers`)",
        "",
        "The engine's solver against peers on the same generated instances (`bench/regions.py`); "
        "each maximises people housed, then the total score, and the benchmark asserts that "
        "all reach the same optimum (people housed and total score in micro-points). Engine: "
        "best of 3; peers: one run. Times are the solve alone (the problem built beforehand; "
        "the peers' times include building their own graph or matrix). Load average "
        f"{load_before} before, {_load()} after, on 2 CPUs shared with other work: compare "
        "within a row.",
        "",
        "**Uncapped assignment** (spread caps lifted): engine (prune, LAPJVsp on the sparse "
        "graph) against OR-Tools min-cost flow (`pip install -e '.[bench]'`) and scipy's dense "
        "`linear_sum_assignment`.",
        "",
        "| instance | cases x vacancies | feasible pairs | housed | engine | OR-Tools min-cost "
        "flow | scipy `linear_sum_assignment` (dense) | same optimum |",
        "|---|---|---:|---:|---:|---:|---:|---|",
        *uncapped_rows,
        "",
        "**Capped problem** (complex and neighbourhood caps, the agenda's): engine against the "
        'two-phase HiGHS MILP (`solve(method="milp")`).',
        "",
        "| instance | cases x vacancies | housed | engine | HiGHS MILP | same optimum |",
        "|---|---|---:|---:|---:|---|",
        *capped_rows,
        "",
        "**Growth** of `match` (the agenda's computation: rules, scores, solve, passed over, "
        "left unhoused, candidates, bottlenecks; no database, no HTTP) on one table, a third "
        "as many vacancies as cases, seed 7, then issue 16's one table of 16,000 x 4,000 "
        "(target: under 1 GB); median of the runs (wall time, and CPU time of the same runs, "
        "steadier on a shared machine), each size in a process of its own, whose peak RSS (the "
        "generated region included) is the memory column. "
        + (
            "'before' is the same sizes from the source tree given as `--before`, each run "
            "right after this tree's; the benchmark asserts both reach the same optimum (people "
            "housed, total score in micro-points); 'same result' says whether the whole result "
            "is the same too (proposals, scores, candidates, passed over, left unhoused, "
            "bottlenecks: 'yes') or another of the equally good proposals was chosen "
            "('optimum'). "
            if args.before
            else ""
        )
        + f"Load average {load_growth} when the growth rows started, {_load()} at the end.",
        "",
        "| cases x vacancies | feasible pairs | runs | before | after | after / before "
        "| CPU before | CPU after | of which solve (after) | after per feasible pair "
        "| peak RSS before | peak RSS after | same result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *growth_rows,
        "",
        *growth_notes,
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("peers", markdown)


if __name__ == "__main__":
    main()
