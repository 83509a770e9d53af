"""The weekly agenda end to end through HTTP (`GET /v1/tables/{id}/agenda` on a running
`uitstroomtafel serve`, SQLite) next to the engine alone, at three scales.

Run: `python -m bench.bench_agenda` (writes the `agenda` section of docs/benchmarks.md).
"""

import resource
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.regions import MEETING_DATE, build_country, build_region, case_payloads, vacancy_payloads
from bench.report import write_section
from bench.server import create_org, operator_headers, running_server

REPEATS = 3
TARGETS = {"weekly table": 0.2, "big city": 3.0, "whole country": 20.0}


def _load_region(client: httpx.Client, region, index: int) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Register one region's organisations, table, cases and vacancies; return (table, chair)."""
    chair_id, chair = create_org(client, f"Gemeente {index}", "municipality")
    provider_id, provider = create_org(client, f"Zorgaanbieder {index}", "care_provider")
    corporations = [
        create_org(client, f"Corporatie {index}-{c}", "housing_corporation")
        for c in range(len(region.corporations))
    ]
    table = client.post(
        "/v1/tables",
        json={
            "name": f"Tafel {index}",
            "municipality_codes": region.municipality_codes,
            "chair_organisation_id": chair_id,
            "member_organisation_ids": [provider_id] + [c[0] for c in corporations],
        },
        headers=operator_headers(),
    )
    table.raise_for_status()
    table_id = table.json()["id"]
    for start in range(0, len(region.cases), 200):
        for payload in case_payloads(region, table_id, [c[0] for c in corporations])[
            start : start + 200
        ]:
            client.post("/v1/cases", json=payload, headers=provider).raise_for_status()
    per_corporation: dict[int, list[dict]] = {}
    for corporation, vacancy in vacancy_payloads(region):
        per_corporation.setdefault(corporation, []).append(vacancy)
    for corporation, items in per_corporation.items():
        for start in range(0, len(items), 1000):
            client.post(
                "/v1/vacancies/batch",
                json={"items": items[start : start + 1000]},
                headers=corporations[corporation][1],
            ).raise_for_status()
    return table_id, chair


def _agenda_seconds(
    client: httpx.Client, tables: list[tuple[str, dict[str, str]]]
) -> tuple[float, int, int]:
    """Wall time to fetch every table's agenda once, the people housed, and the bytes received."""
    started = time.perf_counter()
    housed = size = 0
    for table_id, chair in tables:
        response = client.get(
            f"/v1/tables/{table_id}/agenda",
            params={"date": MEETING_DATE.isoformat()},
            headers=chair,
        )
        response.raise_for_status()
        housed += response.json()["summary"]["people_housed"]
        size += len(response.content)
    return time.perf_counter() - started, housed, size


def _scale(name: str, regions) -> dict:  # type: ignore[no-untyped-def]
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(f"sqlite:///{Path(tmp) / 'agenda.db'}") as base,
        httpx.Client(base_url=base, timeout=600) as client,
    ):
        load_started = time.perf_counter()
        tables = [_load_region(client, r, i) for i, r in enumerate(regions)]
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
        "load_seconds": load_seconds,
    }


def main() -> None:
    scales = [
        _scale("weekly table", [build_region(200, 50, seed=1)]),
        _scale("big city", [build_region(3000, 1000, seed=2)]),
        _scale("whole country", build_country(seed=3)),
    ]
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
        "| response size |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in scales:
        lines.append(
            f"| {s['name']} | {s['cases']:,} x {s['vacancies']:,} | {s['tables']} "
            f"| {s['seconds'] * 1000:,.0f} ms | {TARGETS[s['name']] * 1000:,.0f} ms "
            f"| {s['housed']:,} | {s['megabytes']:.1f} MB |"
        )
    lines += [
        "",
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
