"""The weekly agenda end to end through HTTP (`GET /v1/tables/{id}/agenda` on a running
`uitstroomtafel serve`, SQLite) next to the engine alone, at three scales.

Run: `python -m bench.bench_agenda` (writes the `agenda` section of docs/benchmarks.md);
`python -m bench.bench_agenda weekly big` runs only those scales (the country loads for minutes).
"""

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.regions import MEETING_DATE, build_country, build_region
from bench.report import write_section
from bench.server import load_region, running_server

REPEATS = 3
# Issue 16: the agenda through HTTP, median of 3.
TARGETS = {"weekly table": 0.1, "big city": 1.0, "whole country": 5.0}


def _agenda_seconds(
    client: httpx.Client, tables: list[tuple[str, dict[str, str]]]
) -> tuple[float, int, int, int]:
    """Wall time to fetch every table's agenda once, the people housed, the JSON's bytes and
    the bytes on the wire (gzip, as httpx asks for it)."""
    started = time.perf_counter()
    housed = size = wire = 0
    for table_id, chair in tables:
        response = client.get(
            f"/v1/tables/{table_id}/agenda",
            params={"date": MEETING_DATE.isoformat()},
            headers=chair,
        )
        response.raise_for_status()
        housed += response.json()["summary"]["people_housed"]
        size += len(response.content)
        wire += response.num_bytes_downloaded
    return time.perf_counter() - started, housed, size, wire


def _scale(name: str, regions) -> dict:  # type: ignore[no-untyped-def]
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(f"sqlite:///{Path(tmp) / 'agenda.db'}") as base,
        httpx.Client(base_url=base, timeout=600) as client,
    ):
        load_started = time.perf_counter()
        loaded = [load_region(client, r, i) for i, r in enumerate(regions)]
        tables = [(r.table_id, r.chair) for r in loaded]
        load_seconds = time.perf_counter() - load_started
        runs = [_agenda_seconds(client, tables) for _ in range(REPEATS)]
    seconds = statistics.median(r[0] for r in runs)
    return {
        "name": name,
        "cases": sum(len(r.cases) for r in regions),
        "vacancies": sum(len(r.vacancies) for r in regions),
        "tables": len(regions),
        "seconds": seconds,
        "housed": runs[0][1],
        "megabytes": runs[0][2] / 1e6,
        "wire_megabytes": runs[0][3] / 1e6,
        "load_seconds": load_seconds,
    }


SCALES = {
    "weekly": ("weekly table", lambda: [build_region(200, 50, seed=1)]),
    "big": ("big city", lambda: [build_region(3000, 1000, seed=2)]),
    "country": ("whole country", lambda: build_country(seed=3)),
}


def main() -> None:
    chosen = sys.argv[1:] or list(SCALES)
    scales = [_scale(SCALES[key][0], SCALES[key][1]()) for key in chosen]
    # ru_maxrss of children: the server processes (KiB on Linux).
    server_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [
        "## Agenda end to end (HTTP, SQLite, `python -m bench.bench_agenda`)",
        "",
        "`GET /v1/tables/{id}/agenda` as the chair on a `uitstroomtafel serve` process, data "
        "loaded through the API from `bench/regions.py`; median of "
        f"{REPEATS} runs. The country is 44 tables, one request each.",
        "",
        "| scale | cases x vacancies | tables | agenda wall time | target | people housed "
        "| response size | on the wire (gzip) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scales:
        lines.append(
            f"| {s['name']} | {s['cases']:,} x {s['vacancies']:,} | {s['tables']} "
            f"| {s['seconds'] * 1000:,.0f} ms | {TARGETS[s['name']] * 1000:,.0f} ms "
            f"| {s['housed']:,} | {s['megabytes']:.1f} MB | {s['wire_megabytes']:.2f} MB |"
        )
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    lines += [
        "",
        f"Load average {load} as the run ended, on a machine shared with other work.",
        f"Peak memory of the server processes (max RSS): {server_peak_mb:,.0f} MB (target < 1 GB).",
        "Loading the data through the API took "
        + ", ".join(f"{s['load_seconds']:.0f} s ({s['name']})" for s in scales)
        + ".",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("agenda", markdown)


if __name__ == "__main__":
    main()
