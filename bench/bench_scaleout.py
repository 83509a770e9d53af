"""A mixed load on PostgreSQL against one and against two `uitstroomtafel serve` processes:
throughput and latency percentiles for each, with the same data and the same clients.

Run: `UITSTROOM_BENCH_POSTGRESQL_URL=$(.ci/start-postgres) python -m bench.bench_scaleout`
(any PostgreSQL server URL; each run creates and drops its own databases; falls back to
UITSTROOM_TEST_POSTGRESQL_URL). Writes the `scaleout` section of docs/benchmarks.md.
"""

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx

from bench.regions import MEETING_DATE, build_region, vacancy_payloads
from bench.report import write_section
from bench.server import (
    LoadedRegion,
    load_region,
    postgresql_database,
    postgresql_server,
    running_server,
)

CLIENTS = 16
SECONDS = 30.0
BATCH = 50
# (operation, weight): mostly reads, as at a table's week; one request in twenty an agenda.
MIX = (
    ("list cases", 25),
    ("read case", 20),
    ("list vacancies", 15),
    ("create case", 12),
    ("edit case", 10),
    ("vacancy batch (50)", 13),
    ("agenda", 5),
)


@dataclass
class Sample:
    operation: str
    status: int
    seconds: float


@dataclass
class Run:
    servers: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Load:
    """What the clients send: the region's own organisations acting on its own data."""

    def __init__(self, region, loaded: LoadedRegion) -> None:  # type: ignore[no-untyped-def]
        self.loaded = loaded
        self.fresh_cases = region.cases  # posted again under new references
        self.vacancies: dict[int, list[dict]] = {}
        for corporation, vacancy in vacancy_payloads(region):
            self.vacancies.setdefault(corporation, []).append(vacancy)

    async def send(self, client: httpx.AsyncClient, rng: random.Random) -> Sample:
        operation = rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
        loaded = self.loaded
        started = time.perf_counter()
        if operation == "list cases":
            r = await client.get("/v1/cases", params={"limit": 50}, headers=loaded.care_provider)
        elif operation == "read case":
            case_id = rng.choice(loaded.case_ids)
            r = await client.get(f"/v1/cases/{case_id}", headers=loaded.care_provider)
        elif operation == "list vacancies":
            headers = rng.choice(loaded.corporations)
            r = await client.get("/v1/vacancies", params={"limit": 50}, headers=headers)
        elif operation == "create case":
            case = rng.choice(self.fresh_cases)
            body = dict(
                case,
                table_id=loaded.table_id,
                external_ref=f"B-{uuid.uuid4().hex[:12]}",
                debts=dict(case["debts"], rent_arrears_corporation_ids=[]),
            )
            headers = {**loaded.care_provider, "Idempotency-Key": str(uuid.uuid4())}
            r = await client.post("/v1/cases", json=body, headers=headers)
        elif operation == "edit case":
            case_id = rng.choice(loaded.case_ids)
            patch = {"income": {"net_monthly": f"{rng.randint(900, 1400)}.00"}}
            r = await client.patch(f"/v1/cases/{case_id}", json=patch, headers=loaded.care_provider)
        elif operation == "vacancy batch (50)":
            index = rng.randrange(len(loaded.corporations))
            own = self.vacancies.get(index, [])
            chosen = rng.sample(own, min(BATCH, len(own)))
            rent = f"{rng.randint(550, 700)}.00"
            items = [dict(v, rent=dict(v["rent"], base=rent)) for v in chosen]
            r = await client.post(
                "/v1/vacancies/batch",
                json={"items": items},
                headers=loaded.corporations[index],
            )
        else:
            r = await client.get(
                f"/v1/tables/{loaded.table_id}/agenda",
                params={"date": MEETING_DATE.isoformat()},
                headers=loaded.chair,
            )
        return Sample(operation, r.status_code, time.perf_counter() - started)


async def _drive(bases: list[str], load: Load, seconds: float) -> list[Sample]:
    deadline = time.perf_counter() + seconds
    samples: list[Sample] = []

    async def client_loop(index: int) -> None:
        rng = random.Random(index)
        base = bases[index % len(bases)]
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            while time.perf_counter() < deadline:
                samples.append(await load.send(client, rng))

    await asyncio.gather(*(client_loop(i) for i in range(CLIENTS)))
    return samples


def run(server_url: str, servers: int) -> Run:
    """A fresh database with one weekly table, `servers` processes, the load for SECONDS."""
    with postgresql_database(server_url) as url, ExitStack() as stack:
        region = build_region(cases=400, vacancies=120, seed=11)
        bases = [stack.enter_context(running_server(url)) for _ in range(servers)]
        with httpx.Client(base_url=bases[0], timeout=600) as client:
            loaded = load_region(client, region, 0)
        result = Run(servers, SECONDS)
        result.samples = asyncio.run(_drive(bases, Load(region, loaded), SECONDS))
        return result


def _row(run: Run) -> str:
    latencies = [s.seconds for s in run.samples]
    statuses = Counter(s.status // 100 for s in run.samples)
    return (
        f"| {run.servers} | {len(run.samples):,} | {len(run.samples) / run.seconds:,.1f} "
        f"| {statistics.median(latencies) * 1000:,.0f} ms "
        f"| {_percentile(latencies, 0.99) * 1000:,.0f} ms "
        f"| {statuses.get(5, 0)} | {statuses.get(4, 0)} |"
    )


def main() -> None:
    server_url = postgresql_server()
    if not server_url:
        sys.exit("Set UITSTROOM_BENCH_POSTGRESQL_URL to a PostgreSQL server (.ci/start-postgres).")
    # Throughput is measured here, not the per-key budgets: one chair key asks for agendas far
    # more often than a real chair would (the limits have their own tests).
    os.environ["UITSTROOM_RATE_LIMITS_ENABLED"] = "false"
    load_before = os.getloadavg()
    runs = [run(server_url, servers) for servers in (1, 2)]
    load_after = os.getloadavg()
    operations = [m[0] for m in MIX]
    lines = [
        "## Scale-out on PostgreSQL (`python -m bench.bench_scaleout`)",
        "",
        f"{CLIENTS} concurrent clients for {SECONDS:.0f} s against one and against two "
        "`uitstroomtafel serve` processes on one PostgreSQL 15 database (fresh for each run; "
        "one table of 400 cases and 120 dwellings; per-key rate limits off). Clients are spread "
        "over the processes. The mix: " + ", ".join(f"{m[0]} {m[1]}%" for m in MIX) + ".",
        "",
        "| server processes | requests | throughput (req/s) | p50 | p99 | 5xx | 4xx |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *(_row(r) for r in runs),
        "",
        "p99 per operation:",
        "",
        "| server processes | " + " | ".join(operations) + " |",
        "|---:|" + "---:|" * len(operations),
    ]
    for r in runs:
        cells = []
        for operation in operations:
            times = [s.seconds for s in r.samples if s.operation == operation]
            cells.append(f"{_percentile(times, 0.99) * 1000:,.0f} ms" if times else "-")
        lines.append(f"| {r.servers} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "The machine has 2 CPU cores, shared with other work while this ran (load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after), and the clients, both "
        "server processes and PostgreSQL all run on it: a second process can only use time "
        "the first leaves idle (waiting on the database), so these figures show that the "
        "replicas work side by side correctly, not how far they scale on separate machines.",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("scaleout", markdown)


if __name__ == "__main__":
    main()
