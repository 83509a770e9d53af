"""The weekly agenda end to end through HTTP (`GET /v1/tables/{id}/agenda` as the chair on a
running `uitstroomtafel serve`), at three scales, on SQLite and (with
`UITSTROOM_BENCH_POSTGRESQL_URL` or `UITSTROOM_TEST_POSTGRESQL_URL`, a server URL; a database
is created and dropped per scale) PostgreSQL.

Run: `python -m bench.bench_agenda` (writes the `agenda` section of docs/benchmarks.md);
`python -m bench.bench_agenda weekly big` runs only those scales (the country loads for minutes).
`--before DIR` also serves the same data from the source tree in DIR (e.g.
`git archive <commit> app migrations | tar -x -C DIR`, with `migrations` copied to
`DIR/app/migrations`), so before and after are measured in one run on the same rows.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.regions import MEETING_DATE, build_country, build_region, scattered
from bench.report import write_section
from bench.server import (
    cpu_seconds,
    load_region,
    postgresql_database,
    postgresql_server,
    running_server,
)

REPEATS = 3
# Issue 16: the agenda through HTTP, median of 3.
TARGETS = {
    "weekly table": 0.1,
    "big city": 1.0,
    "whole country": 5.0,
    "big city, straddling complexes": 3.0,
}


def _agenda_seconds(
    client: httpx.Client, tables: list[tuple[str, dict[str, str]]]
) -> tuple[float, int, int, int, bool, bool]:
    """Wall time to fetch every table's agenda once, the people housed, the JSON's bytes, the
    bytes on the wire (gzip, as httpx asks for it), and whether every agenda's proposal was
    proven optimal and its passed-over and left-unhoused checks complete."""
    started = time.perf_counter()
    housed = size = wire = 0
    optimal = complete = True
    for table_id, chair in tables:
        response = client.get(
            f"/v1/tables/{table_id}/agenda",
            params={"date": MEETING_DATE.isoformat()},
            headers=chair,
        )
        response.raise_for_status()
        summary = response.json()["summary"]
        housed += summary["people_housed"]
        optimal = optimal and summary["optimal"]
        complete = complete and summary["passed_over_complete"]
        size += len(response.content)
        wire += response.num_bytes_downloaded
    return time.perf_counter() - started, housed, size, wire, optimal, complete


def _variant(url: str, code_dir: str | None, tables: list) -> dict:  # type: ignore[type-arg]
    peak: dict[str, float] = {}
    started: dict[str, int] = {}
    with (
        running_server(url, code_dir=code_dir, peak=peak, started=started) as base,
        httpx.Client(base_url=base, timeout=600) as client,
    ):
        _agenda_seconds(client, tables[:1])  # warm-up: imports, first allocations
        runs, cpu = [], []
        for _ in range(REPEATS):
            cpu_before = cpu_seconds(started["pid"])
            runs.append(_agenda_seconds(client, tables))
            cpu.append(cpu_seconds(started["pid"]) - cpu_before)
    return {
        "seconds": statistics.median(r[0] for r in runs),
        # The server's CPU time (steadier than wall time on a shared machine).
        "cpu_seconds": statistics.median(cpu),
        "housed": runs[0][1],
        "megabytes": runs[0][2] / 1e6,
        "wire_megabytes": runs[0][3] / 1e6,
        "rss_mb": peak.get("rss_mb", 0.0),
        "optimal": all(r[4] for r in runs),
        "complete": all(r[5] for r in runs),
    }


def _scale(name: str, regions, url: str, before: str | None) -> dict:  # type: ignore[no-untyped-def]
    load_started = time.perf_counter()
    with running_server(url) as base, httpx.Client(base_url=base, timeout=600) as client:
        loaded = [load_region(client, r, i) for i, r in enumerate(regions)]
    load_seconds = time.perf_counter() - load_started
    tables = [(r.table_id, r.chair) for r in loaded]
    variants = {}
    if before:
        variants["before"] = _variant(url, before, tables)
    variants["after"] = _variant(url, None, tables)
    return {
        "name": name,
        "cases": sum(len(r.cases) for r in regions),
        "vacancies": sum(len(r.vacancies) for r in regions),
        "tables": len(regions),
        "variants": variants,
        "load_seconds": load_seconds,
    }


SCALES = {
    "weekly": ("weekly table", lambda: [build_region(200, 50, seed=1)]),
    "big": ("big city", lambda: [build_region(3000, 1000, seed=2)]),
    "country": ("whole country", lambda: build_country(seed=3)),
    # Issue 10: complexes straddling neighbourhoods (the caps do not nest) within the agenda
    # targets of issue 3 (3 s for a big city); issue 16: within 3x of the nested big city.
    "big-straddling": (
        "big city, straddling complexes",
        lambda: [scattered(build_region(3000, 1000, seed=2))],
    ),
}


def _on(backend: str, key: str, before: str | None) -> dict:  # type: ignore[type-arg]
    name, build = SCALES[key]
    regions = build()
    if backend == "SQLite":
        with tempfile.TemporaryDirectory() as tmp:
            return _scale(name, regions, f"sqlite:///{Path(tmp) / 'agenda.db'}", before)
    server = postgresql_server()
    assert server is not None
    with postgresql_database(server) as url:
        return _scale(name, regions, url, before)


def _load_average() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _rows(scales: list[dict]) -> list[str]:  # type: ignore[type-arg]
    rows = []
    for s in scales:
        after = s["variants"]["after"]
        before = s["variants"].get("before")
        was = f"{before['seconds'] * 1000:,.0f} ms" if before else "-"
        cpu = f"{after['cpu_seconds'] * 1000:,.0f} ms"
        if before:
            cpu = f"{before['cpu_seconds'] * 1000:,.0f} -> {cpu}"
        ratio = f"{after['seconds'] / before['seconds']:.2f}" if before else "-"
        size = f"{after['megabytes']:.1f} MB"
        wire = f"{after['wire_megabytes']:.2f} MB"
        if before:
            size = f"{before['megabytes']:.1f} -> {size}"
            wire = f"{before['wire_megabytes']:.2f} -> {wire}"
        rss = max(v["rss_mb"] for v in s["variants"].values())
        rows.append(
            f"| {s['name']} | {s['cases']:,} x {s['vacancies']:,} | {s['tables']} | {was} "
            f"| {after['seconds'] * 1000:,.0f} ms | {ratio} | {cpu} "
            f"| {TARGETS[s['name']] * 1000:,.0f} ms | {after['housed']:,} | {size} | {wire} "
            f"| {rss:,.0f} MB | {_yes(after['optimal'])}, {_yes(after['complete'])} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scales", nargs="*", default=list(SCALES))
    parser.add_argument("--before", help="source tree to serve as 'before'")
    args = parser.parse_args()
    backends = ["SQLite"]
    if postgresql_server():
        backends.append("PostgreSQL")
    load_before = _load_average()
    sections, loads = [], []
    for backend in backends:
        scales = [_on(backend, key, args.before) for key in args.scales]
        for s in scales:
            print(backend, s)
        loads.append(
            f"{backend}: " + ", ".join(f"{s['load_seconds']:.0f} s ({s['name']})" for s in scales)
        )
        sections += [
            f"**{backend}**",
            "",
            "| scale | cases x vacancies | tables | before | after | after / before "
            "| server CPU | target | people housed | response size | on the wire (gzip) "
            "| server peak RSS | optimal, checks complete |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *_rows(scales),
            "",
        ]
    before_text = (
        "'before' is the source tree given with `--before`, served on the same database in the "
        "same run; "
        if args.before
        else ""
    )
    lines = [
        "## Agenda end to end (HTTP, `python -m bench.bench_agenda`)",
        "",
        "`GET /v1/tables/{id}/agenda` as the chair on a `uitstroomtafel serve` process (one "
        "worker): what a chair's first request gets, the first page (the default `limit`, 100 "
        "cases and 100 dwellings of the per-case and per-dwelling sections, the rest whole; "
        "'before' answered the whole document). Data loaded through the API from "
        "`bench/regions.py`; median of "
        f"{REPEATS} runs after one warm-up request. The country is 44 tables, one request each. "
        f"{before_text}Load average {load_before} before, {_load_average()} after, on 2 CPUs "
        "shared with other work: read the after/before ratios, not the absolute times.",
        "",
        *sections,
        "Server CPU is the serving process's CPU time per round (median). Peak memory is the "
        "server process's VmHWM (target < 1 GB). 'optimal, checks complete': every agenda's "
        "`summary.optimal` and `summary.passed_over_complete` (the passed-over and "
        "left-unhoused explanations, which stop at their share of the time budget). The "
        "straddling scale is the big city with every vacancy moved to a random neighbourhood of "
        "its municipality (`regions.scattered`), so the spread caps do not nest; its target is "
        "issue 10's (the agenda targets of issue 3). Loading the data through "
        "the API took " + "; ".join(loads) + ".",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("agenda", markdown)


if __name__ == "__main__":
    main()
