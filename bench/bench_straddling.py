"""Benchmark of the straddling-complex families against the nested-caps time at the same size,
with HiGHS MILP on the same capped problem as the peer (equal optimum asserted).

Families (generated from `bench/regions.py`, seeded; any corporation controls these fields):
- nested: the generator as is (each complex in one neighbourhood): the fast path;
- scattered: every dwelling moved to a random neighbourhood of its municipality, so nearly every
  complex with two or more vacancies straddles neighbourhoods;
- 5 refs / 20 refs: each corporation gives its vacancies one of only 5 (20) complex refs at
  random, so a few huge complexes cover the whole region;
- the other families of issue 16 item 4 on the nested region: equal scores (every score weight
  0), one huge complex (one ref for every vacancy), all cases blocked (rent arrears with every
  corporation), all contingent (every vacancy in the contingent).

Per family and size: the engine (`match`, no time budget) median of 3 after a warm-up, its solve
phase, and the peer: the same capped problem by the two-phase HiGHS MILP (`solve(method="milp")`,
the route these tables took before), once. Run: `python -m bench.bench_straddling [800x300 ...]
[--before DIR]`; `--before` measures the source tree in DIR (e.g. `git archive main`) beside it.
"""

import argparse
import dataclasses
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from app.matching import evaluate, match
from app.matching.engine import _sorted_inputs, build_problem
from app.matching.solver import AssignmentProblem, solve
from app.matching.types import Policy, ScoreWeights
from app.settings import Settings
from bench.regions import LIMITS_2026, MEETING_DATE, build_region, default_policy, to_engine
from bench.report import write_section

REPEATS = 3
PEER_MAX_CASES = int(os.environ.get("BENCH_PEER_MAX_CASES", "1000000"))
"""The HiGHS MILP peer runs only up to this many cases (it takes minutes per family on the big
city); set lower when the machine is shared."""
BIG_REPEATS = int(os.environ.get("BENCH_BIG_REPEATS", str(REPEATS)))
"""Repeats above 1,000 cases."""
BUDGET = Settings().solver_time_budget_seconds  # the agenda's own budget (5 s by default)
SIZES = ((300, 150), (800, 300), (3000, 1000))


def scattered(inputs: tuple, seed: int = 5) -> tuple:
    """Every dwelling to a random neighbourhood of its own municipality."""
    rng = random.Random(seed)
    cases, dwellings, usage = inputs
    hoods = sorted({d.neighbourhood_code for d in dwellings})
    moved = [
        dataclasses.replace(
            d,
            neighbourhood_code=rng.choice(
                [h for h in hoods if h[2:6] == d.neighbourhood_code[2:6]]
            ),
        )
        for d in dwellings
    ]
    return cases, moved, usage


def pooled(inputs: tuple, refs: int, seed: int = 5) -> tuple:
    """Each corporation's vacancies get one of `refs` complex refs at random."""
    rng = random.Random(seed)
    cases, dwellings, usage = inputs
    renamed = [
        dataclasses.replace(d, complex_key=f"{d.corporation_id}:P{rng.randrange(refs)}")
        for d in dwellings
    ]
    return cases, renamed, usage


def equal_scores(inputs: tuple) -> tuple:
    """Every score weight 0: every feasible pair scores the same (the most ties possible)."""
    return inputs


def one_complex(inputs: tuple) -> tuple:
    """One complex ref for every vacancy of the region: a single complex over every
    neighbourhood."""
    cases, dwellings, usage = inputs
    return cases, [dataclasses.replace(d, complex_key="X:one") for d in dwellings], usage


def all_blocked(inputs: tuple) -> tuple:
    """Every case in rent arrears with every corporation: no feasible pair at all."""
    cases, dwellings, usage = inputs
    corporations = frozenset(d.corporation_id for d in dwellings)
    blocked = [dataclasses.replace(c, rent_arrears_corporation_ids=corporations) for c in cases]
    return blocked, dwellings, usage


def all_contingent(inputs: tuple) -> tuple:
    """Every vacancy in the contingent (the registration rule no longer blocks)."""
    cases, dwellings, usage = inputs
    return cases, [dataclasses.replace(d, contingent=True) for d in dwellings], usage


def flat_policy() -> Policy:
    return dataclasses.replace(default_policy(), weights=ScoreWeights(0, 0, 0, 0, 0, 0))


FAMILIES = (
    ("nested", lambda inputs: inputs, default_policy),
    ("scattered", scattered, default_policy),
    ("5 refs", lambda inputs: pooled(inputs, 5), default_policy),
    ("20 refs", lambda inputs: pooled(inputs, 20), default_policy),
    ("equal scores", equal_scores, flat_policy),
    ("one huge complex", one_complex, default_policy),
    ("all cases blocked", all_blocked, default_policy),
    ("all contingent", all_contingent, default_policy),
)
"""(name, inputs -> inputs, policy): the issue's families beside the straddling ones."""


def problem_of(inputs: tuple, policy: Policy) -> AssignmentProblem:
    cases, dwellings, usage = inputs
    cases, dwellings = _sorted_inputs(cases, dwellings)
    evaluation = evaluate(cases, dwellings, policy, LIMITS_2026, MEETING_DATE, usage)
    return build_problem(evaluation, dwellings, policy, usage)


def measure(inputs: tuple, policy: Policy, with_peer: bool, repeats: int = REPEATS) -> dict:
    cases, dwellings, usage = inputs

    def run():  # type: ignore[no-untyped-def]
        return match(cases, dwellings, policy, LIMITS_2026, MEETING_DATE, usage, time_budget=BUDGET)

    run()
    totals, cpu, solves = [], [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        totals.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        solves.append(result.stats.timings_ms["solve"] + result.stats.timings_ms["passed_over"])
    figures = {
        "engine_ms": statistics.median(totals),
        "cpu_ms": statistics.median(cpu),
        "solve_ms": statistics.median(solves),
        "solver": result.stats.solver,
        "housed": result.stats.people_housed,
        "optimal": result.optimality.proven,
        "complete": result.passed_over_complete,
        "peer_ms": None,
        "repeats": repeats,
    }
    if with_peer:
        problem = problem_of(inputs, policy)
        ours = solve(problem)
        start = time.perf_counter()
        peer = solve(problem, method="milp")
        figures["peer_ms"] = (time.perf_counter() - start) * 1000
        assert (peer.count, peer.total_score) == (ours.count, ours.total_score), (
            "HiGHS MILP and the engine disagree on the optimum"
        )
    return figures


def measure_family(n_cases: int, n_vacancies: int, name: str, repeats: int) -> dict:
    """One family at one size, without the peer (what `--before` runs in the old tree)."""
    base = to_engine(build_region(n_cases, n_vacancies, index=3))
    for family_name, family, policy in FAMILIES:
        if family_name == name:
            return measure(family(base), policy(), with_peer=False, repeats=repeats)
    raise ValueError(f"unknown family {name!r}")


CHECKED = ("nested", "scattered", "5 refs", "20 refs", "one huge complex")
"""The families `--to-completion` runs."""


def checks_to_completion(n_cases: int, n_vacancies: int, name: str) -> dict:
    """Solve, the passed-over check and the unhoused check without time budget or re-solve
    limit: CPU ms of each (one run after a warm-up), the route and whether both checks ended
    complete. Shows the work the checks need where the budget's share cuts them off."""
    from app.matching import solver, tradeoffs, unhoused

    base = to_engine(build_region(n_cases, n_vacancies, index=3))
    family, policy = next((f, p) for n, f, p in FAMILIES if n == name)
    problem = problem_of(family(base), policy())
    lift = getattr(solver, "lift_implied_caps", None)  # absent in trees before it
    problem = lift(problem) if lift else problem
    solve(problem)
    start = time.process_time()
    assignment = solve(problem)
    solved = time.process_time()
    over = tradeoffs.passed_over(problem, assignment, 10**9, None)
    checked = time.process_time()
    left = unhoused.best_alternatives(problem, assignment, 10**9, None)
    done = time.process_time()
    return {
        "route": assignment.method,
        "solve_ms": (solved - start) * 1000,
        "passed_over_ms": (checked - solved) * 1000,
        "unhoused_ms": (done - checked) * 1000,
        "total_ms": (done - start) * 1000,
        "complete": over.complete and left.complete,
    }


CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import importlib.util
spec = importlib.util.spec_from_file_location("bench_straddling_now", sys.argv[2])
now = importlib.util.module_from_spec(spec)
spec.loader.exec_module(now)
import app
assert app.__file__.startswith(sys.argv[1]), app.__file__
n_cases, n_vacancies, name, repeats = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
if repeats == "checks":
    figures = now.checks_to_completion(n_cases, n_vacancies, name)
else:
    figures = now.measure_family(n_cases, n_vacancies, name, int(repeats))
print(json.dumps(figures))
"""
"""Runs this file's `measure_family` with `app` (and `bench.regions`) imported from the source
tree given by `--before`, so before and after are measured on the same instances in one run."""


def measure_before(
    tree: str, n_cases: int, n_vacancies: int, name: str, repeats: int | str
) -> dict:
    args = [tree, __file__, str(n_cases), str(n_vacancies), name, str(repeats)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True
    )
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", help="cases x vacancies, e.g. 800x300")
    parser.add_argument("--before", help="source tree to measure as 'before' in the same run")
    parser.add_argument(
        "--to-completion",
        action="store_true",
        help="also run solve and checks without budget or limit (CPU time per phase)",
    )
    args = parser.parse_args()
    sizes = [tuple(map(int, a.split("x"))) for a in args.sizes] or SIZES
    before_tree = str(Path(args.before).resolve()) if args.before else None
    load_start = os.getloadavg()
    rows = []
    for n_cases, n_vacancies in sizes:
        base = to_engine(build_region(n_cases, n_vacancies, index=3))
        nested: dict | None = None
        nested_before: dict | None = None
        repeats = REPEATS if n_cases <= 1000 else BIG_REPEATS
        for name, family, policy in FAMILIES:
            figures = measure(
                family(base),
                policy(),
                with_peer=name != "nested" and n_cases <= PEER_MAX_CASES,
                repeats=repeats,
            )
            nested = nested or figures
            figures["ratio"] = figures["engine_ms"] / nested["engine_ms"]
            figures["cpu_ratio"] = figures["cpu_ms"] / nested["cpu_ms"]
            if before_tree:
                was = measure_before(before_tree, n_cases, n_vacancies, name, repeats)
                nested_before = nested_before or was
                was["ratio"] = was["engine_ms"] / nested_before["engine_ms"]
                was["cpu_ratio"] = was["cpu_ms"] / nested_before["cpu_ms"]
                figures["before"] = was
            rows.append((f"{n_cases:,} x {n_vacancies:,}", name, figures))
            print(n_cases, n_vacancies, name, figures, os.getloadavg(), flush=True)
    load_end = os.getloadavg()
    loads = f"{load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end"
    lines = [
        "## Straddling complexes (`python -m bench.bench_straddling`)",
        "",
        "The engine alone (no HTTP, no database) on generated regions whose complexes straddle "
        "neighbourhoods, so the spread caps do not nest (`bench/bench_straddling.py` describes "
        "the families), against the nested family at the same size. Engine time is `match` "
        f"with the service's default time budget ({BUDGET:g} s), median of 'runs' after a "
        "warm-up; 'solve' is its solve plus passed-over phases. The peer is the two-phase "
        "HiGHS MILP on the same capped problem (the route these tables took before), run once "
        f"up to {PEER_MAX_CASES:,} cases; "
        "the benchmark asserts that both reach the same optimum (people housed and total "
        "score). Read the ratios: the machine is shared (one-minute load average "
        f"{loads}, on {os.cpu_count()} CPUs).",
        "",
    ]
    if before_tree:
        lines += [
            "'before' is the same measurement on the source tree given with `--before`, run in a "
            "child process right after each 'after' row, on the same instances. Wall time swings "
            "with the load; CPU time (`time.process_time` of the same runs, HiGHS runs "
            "single-threaded in the process) much less, so the ratios to nested are given on "
            "both. Under load the wall clock also ends the passed-over checks early (their share "
            "of the time budget is wall time), so 'complete' can differ from a quiet machine.",
            "",
            "| cases x vacancies | family | wall before | wall after | CPU before | CPU after "
            "| x nested wall (before, after) | x nested CPU (before, after) "
            "| route (before, after) | housed | proven optimal (before, after) "
            "| passed over complete (before, after) "
            "| HiGHS MILP (peer) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|---:|",
        ]
    else:
        lines += [
            "| cases x vacancies | family | engine | runs | x nested | solve | route | housed "
            "| proven optimal | passed over complete | HiGHS MILP (peer) |",
            "|---|---|---:|---:|---:|---:|---|---:|---|---|---:|",
        ]

    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    for size, name, f in rows:
        peer = "" if f["peer_ms"] is None else f"{f['peer_ms']:,.0f} ms"
        if before_tree:
            b = f["before"]
            lines.append(
                f"| {size} | {name} | {b['engine_ms']:,.0f} ms | {f['engine_ms']:,.0f} ms "
                f"| {b['cpu_ms']:,.0f} ms | {f['cpu_ms']:,.0f} ms "
                f"| {b['ratio']:.1f}, {f['ratio']:.1f} "
                f"| {b['cpu_ratio']:.1f}, {f['cpu_ratio']:.1f} "
                f"| {b['solver']}, {f['solver']} | {f['housed']:,} "
                f"| {yes(b['optimal'])}, {yes(f['optimal'])} "
                f"| {yes(b['complete'])}, {yes(f['complete'])} | {peer} |"
            )
            continue
        lines.append(
            f"| {size} | {name} | {f['engine_ms']:,.0f} ms | {f['repeats']} | {f['ratio']:.1f} "
            f"| {f['solve_ms']:,.0f} ms | {f['solver']} | {f['housed']:,} "
            f"| {yes(f['optimal'])} | {yes(f['complete'])} | {peer} |"
        )
    if args.to_completion:
        lines += completion_table(sizes, before_tree)
    text = "\n".join(lines)
    print(text)
    write_section("straddling", text)


def completion_table(sizes: list, before_tree: str | None) -> list[str]:
    """The `--to-completion` rows (before and after when a tree is given)."""
    lines = [
        "",
        "Solve and checks run to completion (no time budget, no re-solve limit; "
        "`--to-completion`): CPU time of one run after a warm-up of `solve`, "
        "`tradeoffs.passed_over` and `unhoused.best_alternatives` on the engine's problem"
        + (", 'before' in a child process on the tree given with `--before`" if before_tree else "")
        + f" (load average {os.getloadavg()[0]:.1f}). This shows the work the checks need where "
        "the budget's share cuts them off in the table above.",
        "",
        "| cases x vacancies | family | route | solve + checks | of which solve "
        "| passed over | unhoused | complete |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for n_cases, n_vacancies in sizes:
        for name in CHECKED:
            after = checks_to_completion(n_cases, n_vacancies, name)
            runs = [("after", after)]
            if before_tree:
                runs.insert(
                    0, ("before", measure_before(before_tree, n_cases, n_vacancies, name, "checks"))
                )
            for label, f in runs:
                tag = f" ({label})" if before_tree else ""
                lines.append(
                    f"| {n_cases:,} x {n_vacancies:,} | {name}{tag} | {f['route']} "
                    f"| {f['total_ms']:,.0f} ms | {f['solve_ms']:,.0f} ms "
                    f"| {f['passed_over_ms']:,.0f} ms | {f['unhoused_ms']:,.0f} ms "
                    f"| {'yes' if f['complete'] else 'no'} |"
                )
            print(n_cases, n_vacancies, name, runs, flush=True)
    return lines


if __name__ == "__main__":
    main()
