"""Registry speed on SQLite: vacancy batch ingest through HTTP vs. the raw insert limit, and
case-creation latency under 20 concurrent clients.

Run: `python -m bench.bench_ingest` (writes the `ingest` section of docs/benchmarks.md).
"""

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from app.db import build_engine
from app.migrate import upgrade_to_head
from app.vacancies.models import Vacancy, VacancyIn
from app.vacancies.service import _columns
from bench.regions import build_region, case_payloads, vacancy_payloads
from bench.report import write_section
from bench.server import create_org, operator_headers, running_server

VACANCIES = 10_000
BATCH = 1_000
CLIENTS = 20
CASES_PER_CLIENT = 50


def _setup(client: httpx.Client, region) -> tuple[str, list[dict[str, str]], list[str], dict]:  # type: ignore[no-untyped-def]
    corporations = [
        create_org(client, f"Corporatie {i}", "housing_corporation")
        for i in range(len(region.corporations))
    ]
    care_provider = create_org(client, "Zorgaanbieder bench", "care_provider")
    chair = create_org(client, "Gemeente bench", "municipality")
    table = client.post(
        "/v1/tables",
        json={
            "name": "Bench table",
            "municipality_codes": region.municipality_codes,
            "chair_organisation_id": chair[0],
            "member_organisation_ids": [c[0] for c in corporations] + [care_provider[0]],
        },
        headers=operator_headers(),
    )
    table.raise_for_status()
    return (
        table.json()["id"],
        [c[1] for c in corporations],
        [c[0] for c in corporations],
        {"id": care_provider[0], "headers": care_provider[1]},
    )


def _batches(region, corporation_headers) -> list[tuple[dict[str, str], list[dict]]]:  # type: ignore[no-untyped-def]
    per_corporation: dict[int, list[dict]] = {}
    for index, vacancy in vacancy_payloads(region):
        per_corporation.setdefault(index, []).append(vacancy)
    batches = []
    for index, items in sorted(per_corporation.items()):
        for start in range(0, len(items), BATCH):
            batches.append((corporation_headers[index], items[start : start + BATCH]))
    return batches


def _ingest(client: httpx.Client, batches) -> tuple[float, dict[str, int]]:  # type: ignore[no-untyped-def]
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    started = time.perf_counter()
    for headers, items in batches:
        response = client.post("/v1/vacancies/batch", json={"items": items}, headers=headers)
        response.raise_for_status()
        for key in totals:
            totals[key] += response.json()[key]
    return time.perf_counter() - started, totals


def _raw_insert_seconds(region, directory: Path) -> float:  # type: ignore[no-untyped-def]
    """The same rows, inserted with one executemany in one transaction: the storage limit."""
    url = f"sqlite:///{directory / 'raw.db'}"
    upgrade_to_head(url)
    engine = build_engine(url, foreign_keys=False)
    from app.ids import uuid7
    from app.sqltypes import utcnow

    corporation, table = uuid7(), uuid7()
    rows = []
    for _, payload in vacancy_payloads(region):
        item = VacancyIn.model_validate(payload)
        now = utcnow()
        rows.append(
            {
                **_columns(item),
                "id": uuid7(),
                "corporation_id": corporation,
                "external_ref": item.external_ref,
                "table_id": table,
                "status": "available",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Vacancy.__table__), rows)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


async def _case_latencies(
    base: str, care_provider: dict, payloads: list[dict]
) -> tuple[list[float], float]:  # type: ignore[type-arg]
    latencies: list[float] = []

    async def worker(chunk: list[dict]) -> None:
        async with httpx.AsyncClient(
            base_url=base, headers=care_provider["headers"], timeout=60
        ) as client:
            for payload in chunk:
                started = time.perf_counter()
                response = await client.post("/v1/cases", json=payload)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

    chunks = [payloads[i::CLIENTS] for i in range(CLIENTS)]
    started = time.perf_counter()
    await asyncio.gather(*(worker(chunk) for chunk in chunks))
    return latencies, time.perf_counter() - started


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    region = build_region(cases=CLIENTS * CASES_PER_CLIENT, vacancies=VACANCIES, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with running_server(f"sqlite:///{directory / 'api.db'}") as base:
            with httpx.Client(base_url=base, timeout=120) as client:
                table_id, corporation_headers, corporation_ids, care_provider = _setup(
                    client, region
                )
                batches = _batches(region, corporation_headers)
                first_seconds, first = _ingest(client, batches)
                second_seconds, second = _ingest(client, batches)
            cases = case_payloads(region, table_id, corporation_ids)
            latencies, wall = asyncio.run(_case_latencies(base, care_provider, cases))
        raw_seconds = _raw_insert_seconds(region, directory)

    count = sum(len(items) for _, items in batches)
    api_rate, repush_rate, raw_rate = (
        count / first_seconds,
        count / second_seconds,
        count / raw_seconds,
    )
    median_ms = statistics.median(latencies) * 1000
    p99_ms = _percentile(latencies, 0.99) * 1000
    rate = len(latencies) / wall
    lines = [
        "## Registry ingest (SQLite, `python -m bench.bench_ingest`)",
        "",
        f"{count:,} vacancies in {len(batches)} batches of up to {BATCH}, one client, through "
        "`POST /v1/vacancies/batch` on a `uitstroomtafel serve` process (one uvicorn worker).",
        "",
        "| measurement | seconds | vacancies/s |",
        "|---|---:|---:|",
        f"| first push (created: {first['created']:,}) | {first_seconds:.2f} | {api_rate:,.0f} |",
        f"| same batches again (unchanged: {second['unchanged']:,}) "
        f"| {second_seconds:.2f} | {repush_rate:,.0f} |",
        f"| raw limit: same rows, one `executemany`, one transaction "
        f"| {raw_seconds:.2f} | {raw_rate:,.0f} |",
        "",
        f"API / raw ratio: {api_rate / raw_rate:.2f} "
        "(target: at least 5,000 vacancies/s through the API).",
        "",
        f"Case creation, {CLIENTS} concurrent clients, {len(latencies):,} `POST /v1/cases`: "
        f"median {median_ms:.1f} ms, p99 {p99_ms:.1f} ms, {rate:,.0f} cases/s overall.",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("ingest", markdown)


if __name__ == "__main__":
    main()
