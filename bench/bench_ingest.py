"""Registry speed: vacancy batch ingest through HTTP against the raw insert limit, and
case-creation latency under 20 concurrent clients, on SQLite and (when a server is given) on
PostgreSQL, there also with `serve --workers 2` and against `COPY`.

Run: `python -m bench.bench_ingest` (writes the `ingest` section of docs/benchmarks.md);
`UITSTROOM_BENCH_POSTGRESQL_URL=postgresql+psycopg://...` (a server URL; fresh databases are made
on it) adds PostgreSQL. `--before DIR` also serves every run from the source tree in DIR (e.g.
`git archive main | tar -x -C DIR`), right before the same run on this tree, so that before and
after are measured in one run on a shared machine.
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httptools
import httpx
from psycopg.types.json import Json
from sqlalchemy import insert

from app.db import build_engine
from app.ids import uuid7
from app.migrate import upgrade_to_head
from app.vacancies.models import Vacancy, VacancyIn
from app.vacancies.service import _columns
from bench.regions import build_region, case_payloads, vacancy_payloads
from bench.report import write_section
from bench.server import (
    cpu_seconds,
    create_org,
    operator_headers,
    postgresql_database,
    postgresql_server,
    running_server,
)

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


def _ingest(client: httpx.Client, batches, pid: int) -> tuple[float, float, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Push the batches one after another: (wall seconds, CPU seconds of the server and of this
    client, the outcome counts)."""
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    cpu_before = cpu_seconds(pid) + time.process_time()
    started = time.perf_counter()
    for headers, items in batches:
        response = client.post("/v1/vacancies/batch", json={"items": items}, headers=headers)
        response.raise_for_status()
        answer = response.json()  # once: each call parses the 1,000-item answer again
        for key in totals:
            totals[key] += answer[key]
    wall = time.perf_counter() - started
    return wall, cpu_seconds(pid) + time.process_time() - cpu_before, totals


def _raw_rows(region) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The vacancies as the table's rows, built before any clock starts."""
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
    return rows


def _executemany_seconds(url: str, rows: list[dict]) -> tuple[float, float]:  # type: ignore[type-arg]
    """The same rows, inserted with one executemany in one transaction: the storage limit."""
    upgrade_to_head(url)
    engine = build_engine(url, foreign_keys=False)
    with engine.begin() as connection:  # without the foreign keys: no organisations behind them
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET session_replication_role = replica")
        started, cpu = time.perf_counter(), time.process_time()
        connection.execute(insert(Vacancy.__table__), rows)  # type: ignore[attr-defined]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return elapsed, cpu


def _copy_value(processor, value):  # type: ignore[no-untyped-def]
    value = processor(value) if processor is not None else value
    return Json(value) if isinstance(value, list | dict) else value


def _copy_seconds(url: str, rows: list[dict]) -> tuple[float, float]:  # type: ignore[type-arg]
    """The same rows through PostgreSQL's `COPY ... FROM STDIN` (psycopg), one transaction."""
    upgrade_to_head(url)
    columns = list(rows[0])
    engine = build_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("SET session_replication_role = replica")
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # The values as the table's types store them (money as cents, say), before the clock.
        table = Vacancy.__table__  # type: ignore[attr-defined]
        processors = {c: table.c[c].type.bind_processor(connection.dialect) for c in columns}
        values = [[_copy_value(processors[c], row[c]) for c in columns] for row in rows]
        started, cpu = time.perf_counter(), time.process_time()
        with cursor.copy(f"COPY vacancies ({', '.join(columns)}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return elapsed, cpu


class KeepAliveClient:
    """One client of the case creations: one HTTP/1.1 keep-alive connection, requests written
    as bytes and answers read with httptools' parser (uvicorn's own, in C).

    httpx's AsyncClient took 1.8 ms of CPU per creation in this process (measured with
    `time.process_time()` around the 1,000 creations), about half what the server took, on
    the same two cores: the clients competed with the server they measure. This one takes
    about a tenth of that. Before and after run with the same client."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        address = base.removeprefix("http://")
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()

    def encode(self, method: str, target: str, body: bytes = b"") -> bytes:
        """The request's bytes (JSON body if any), made before its clock starts."""
        content = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return (
            f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"{content if body else ''}\r\n"
        ).encode() + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send `request` and read the answer: (status, body)."""
        assert self.reader is not None and self.writer is not None, "open() first"
        self.writer.write(request)
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        while not answer.complete:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            parser.feed_data(data)
        return parser.get_status_code(), b"".join(answer.body)


class _Answer:
    """httptools' callbacks: the body's pieces and whether the answer is complete."""

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.complete = False

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def _raise_for_status(status: int, body: bytes) -> None:
    if status >= 400:
        raise RuntimeError(f"HTTP {status}: {body[:500]!r}")


async def _case_latencies(
    base: str, care_provider: dict, payloads: list[dict], pid: int
) -> tuple[list[float], float, float]:  # type: ignore[type-arg]
    """The creations' latencies, their wall seconds and the server's (`pid`) CPU seconds."""
    latencies: list[float] = []

    async def worker(client: KeepAliveClient, chunk: list[dict]) -> None:
        for payload in chunk:
            request = client.encode("POST", "/v1/cases", json.dumps(payload).encode())
            started = time.perf_counter()
            status, body = await client.send(request)
            latencies.append(time.perf_counter() - started)
            _raise_for_status(status, body)

    # Every client is connected before the first request, so that no latency counts another
    # client's setup.
    clients = [KeepAliveClient(base, care_provider["headers"]) for _ in range(CLIENTS)]
    chunks = [payloads[i::CLIENTS] for i in range(CLIENTS)]
    try:
        for client in clients:
            await client.open()
        await asyncio.gather(*(_warm_up(client) for client in clients))
        server_cpu = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker(c, chunk) for c, chunk in zip(clients, chunks, strict=True)))
        wall = time.perf_counter() - started
        return latencies, wall, cpu_seconds(pid) - server_cpu
    finally:
        for client in clients:
            await client.close()


async def _warm_up(client: KeepAliveClient) -> None:
    """One untimed read per client, all at once, before the creations: the clients' connections
    and as many database connections as requests in flight are opened (a fresh server opens
    them on demand, which made the first 20 answers on PostgreSQL wait 0.5-0.8 s)."""
    _raise_for_status(*await client.send(client.encode("GET", "/v1/cases?limit=1")))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Run:
    """One backend's figures: the two pushes and the case creations."""

    backend: str
    workers: int
    label: str = ""
    first_seconds: float = 0.0
    second_seconds: float = 0.0
    first_cpu: float = 0.0
    second_cpu: float = 0.0
    case_cpu: float = 0.0
    created: int = 0
    unchanged: int = 0
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0


def _run(  # type: ignore[no-untyped-def]
    url: str,
    backend: str,
    region,
    workers: int = 1,
    ingest: bool = True,
    code_dir=None,
    cases: bool = True,
) -> Run:
    """Push the vacancies twice (if `ingest`), then create the cases from CLIENTS clients (if
    `cases`); served from the tree `code_dir` if given."""
    run = Run(backend, workers, "before" if code_dir else "")
    server: dict[str, int] = {}
    # Every database here is fresh, so an earlier tree migrates it itself, to its own schema:
    # migrated by this tree, 0027's indexes made the earlier tree's case INSERT (ON CONFLICT
    # on the unique pair it no longer found) fail on SQLite.
    fresh = {"UITSTROOM_MIGRATE_ON_START": "true"} if code_dir else None
    with running_server(url, workers, code_dir=code_dir, started=server, environment=fresh) as base:
        with httpx.Client(base_url=base, timeout=120) as client:
            table_id, corporation_headers, corporation_ids, care_provider = _setup(client, region)
            if ingest:
                batches = _batches(region, corporation_headers)
                run.first_seconds, run.first_cpu, first = _ingest(client, batches, server["pid"])
                run.second_seconds, run.second_cpu, second = _ingest(client, batches, server["pid"])
                run.created, run.unchanged = first["created"], second["unchanged"]
        if cases:
            run.latencies, run.wall, run.case_cpu = asyncio.run(
                _case_latencies(
                    base,
                    care_provider,
                    case_payloads(region, table_id, corporation_ids),
                    server["pid"],
                )
            )
    return run


def _name(run: Run) -> str:
    return f"{run.backend} ({run.label})" if run.label else run.backend


def _ingest_rows(run: Run, count: int) -> list[str]:
    return [
        f"| {_name(run)}: first push (created: {run.created:,}) | {run.first_seconds:.2f} "
        f"| {count / run.first_seconds:,.0f} | {run.first_cpu:.2f} "
        f"| {count / run.first_cpu:,.0f} |",
        f"| {_name(run)}: same batches again (unchanged: {run.unchanged:,}) "
        f"| {run.second_seconds:.2f} | {count / run.second_seconds:,.0f} "
        f"| {run.second_cpu:.2f} | {count / run.second_cpu:,.0f} |",
    ]


CASE_HEADER = (
    "| database | server processes | cases | median | p99 | cases/s | server CPU per case |\n"
    "|---|---:|---:|---:|---:|---:|---:|"
)


def _case_row(run: Run) -> str:
    median_ms = statistics.median(run.latencies) * 1000
    p99_ms = _percentile(run.latencies, 0.99) * 1000
    return (
        f"| {_name(run)} | {run.workers} | {len(run.latencies):,} | {median_ms:.1f} ms "
        f"| {p99_ms:.1f} ms | {len(run.latencies) / run.wall:,.0f} "
        f"| {run.case_cpu / len(run.latencies) * 1000:.1f} ms |"
    )


def _in_rounds(before: str | None, rounds: int, ingest: bool) -> None:
    """The case creations alone, or (`ingest`) the batch ingest alone, printed: per database
    `rounds` rounds, each serving the 'before' tree and then this one on fresh databases, so
    that a change in the machine's load falls on both alike; then per tree the median and the
    lowest of its rounds (a change of a few per cent needs several rounds to show on a shared
    machine). With a 'before' tree and more than one round, also written to
    docs/benchmarks.md (section "cases" or "ingest-rounds")."""
    trees = ([before] if before else []) + [None]
    load_before = os.getloadavg()[0]
    region = build_region(cases=CLIENTS * CASES_PER_CLIENT, vacancies=VACANCIES, seed=7)
    runs = []
    server = postgresql_server()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for code_dir in trees:
                url = f"sqlite:///{Path(tmp) / f'api-{uuid7().hex}.db'}"
                runs.append(
                    _run(url, "SQLite", region, ingest=ingest, code_dir=code_dir, cases=not ingest)
                )
    if server:
        for _ in range(rounds):
            for code_dir in trees:
                with postgresql_database(server) as url:
                    runs.append(
                        _run(
                            url,
                            "PostgreSQL",
                            region,
                            ingest=ingest,
                            code_dir=code_dir,
                            cases=not ingest,
                        )
                    )
    rounds_text = (
        "per database the rounds serve the 'before' tree (DIR, a `git archive` of an earlier "
        "commit) and this one in turn, each on a fresh database, so that a change in the "
        f"machine's load falls on both alike. Load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on 2 CPUs shared with other work."
    )
    if ingest:
        count = sum(len(items) for _, items in _batches(region, [{}] * len(region.corporations)))
        markdown = "\n".join(
            [
                "## Batch ingest, before and after (`python -m bench.bench_ingest "
                "--ingest-only --rounds N --before DIR`)",
                "",
                f"{count:,} vacancies in batches of up to {BATCH:,} through "
                "`POST /v1/vacancies/batch`, one client, one server process, pushed twice per "
                f"round (the second push finds every row unchanged); {rounds_text} CPU is the "
                "server's and the client's, as in the ingest section.",
                "",
                "| database | rounds | first push: seconds, median (lowest) "
                "| first push: CPU seconds, median (lowest) "
                "| same batches again: seconds, median (lowest) |",
                "|---|---:|---:|---:|---:|",
                *_ingest_summaries(runs),
                "",
                "Every round:",
                "",
                "| measurement | seconds | vacancies/s | CPU seconds | vacancies per CPU second |",
                "|---|---:|---:|---:|---:|",
                *(line for r in runs for line in _ingest_rows(r, count)),
            ]
        )
    else:
        markdown = "\n".join(
            [
                "## Case creation, before and after (`python -m bench.bench_ingest --cases-only "
                "--rounds N --before DIR`)",
                "",
                f"{CLIENTS} concurrent clients, {CLIENTS * CASES_PER_CLIENT:,} `POST /v1/cases` "
                f"per round on one server process; {rounds_text}",
                "",
                "| database | rounds | server CPU per case: median (lowest) "
                "| p99: median (lowest) |",
                "|---|---:|---:|---:|",
                *_round_summaries(runs),
                "",
                "Every round:",
                "",
                CASE_HEADER,
                *(_case_row(r) for r in runs),
            ]
        )
    print(markdown)
    if before and rounds > 1:
        write_section("ingest-rounds" if ingest else "cases", markdown)


def _ingest_summaries(runs: list[Run]) -> list[str]:
    lines = []
    for name in dict.fromkeys(_name(r) for r in runs):
        mine = [r for r in runs if _name(r) == name]
        cells = [
            f"{statistics.median(values):.2f} ({min(values):.2f})"
            for values in (
                [r.first_seconds for r in mine],
                [r.first_cpu for r in mine],
                [r.second_seconds for r in mine],
            )
        ]
        lines.append(f"| {name} | {len(mine)} | " + " | ".join(cells) + " |")
    return lines


def _round_summaries(runs: list[Run]) -> list[str]:
    lines = []
    for name in dict.fromkeys(_name(r) for r in runs):
        mine = [r for r in runs if _name(r) == name]
        cpu = [r.case_cpu / len(r.latencies) * 1000 for r in mine]
        p99 = [_percentile(r.latencies, 0.99) * 1000 for r in mine]
        lines.append(
            f"| {name} | {len(mine)} | {statistics.median(cpu):.2f} ms ({min(cpu):.2f} ms) "
            f"| {statistics.median(p99):.0f} ms ({min(p99):.0f} ms) |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="source tree to serve as 'before'")
    parser.add_argument(
        "--cases-only",
        action="store_true",
        help="only the case creations (one server process per database), printed; written to "
        "docs/benchmarks.md only with --before and --rounds above 1",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --cases-only or --ingest-only: rounds per database, the trees alternating "
        "(default 1)",
    )
    parser.add_argument(
        "--ingest-only",
        action="store_true",
        help="only the batch ingest (one server process per database), printed; written to "
        "docs/benchmarks.md only with --before and --rounds above 1",
    )
    args = parser.parse_args()
    if args.cases_only or args.ingest_only:
        _in_rounds(args.before, args.rounds, ingest=args.ingest_only)
        return
    trees = ([args.before] if args.before else []) + [None]  # the 'before' tree first
    load_before = os.getloadavg()[0]
    region = build_region(cases=CLIENTS * CASES_PER_CLIENT, vacancies=VACANCIES, seed=7)
    rows = _raw_rows(region)
    count = len(rows)
    server = postgresql_server()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        runs = [
            _run(f"sqlite:///{directory / f'api-{uuid7().hex}.db'}", "SQLite", region, code_dir=d)
            for d in trees
        ]
        raw = [("SQLite: one `executemany`, one transaction", _executemany_seconds(
            f"sqlite:///{directory / 'raw.db'}", rows
        ))]  # fmt: skip
    if server:
        for code_dir in trees:
            with postgresql_database(server) as url:
                runs.append(_run(url, "PostgreSQL", region, code_dir=code_dir))
        for code_dir in trees:
            with postgresql_database(server) as url:
                runs.append(_run(url, "PostgreSQL", region, 2, ingest=False, code_dir=code_dir))
        with postgresql_database(server) as url:
            raw.append(("PostgreSQL: one `executemany`, one transaction", _executemany_seconds(
                url, rows
            )))  # fmt: skip
        with postgresql_database(server) as url:
            raw.append(("PostgreSQL: `COPY ... FROM STDIN`", _copy_seconds(url, rows)))

    raw_rate = {name.split(":")[0]: count / seconds for name, (seconds, _) in raw}
    raw_cpu_rate = {name.split(":")[0]: count / cpu for name, (_, cpu) in raw}
    ratios = [
        f"{_name(r)}: API / {'`executemany`' if r.backend == 'SQLite' else '`COPY`'} "
        f"{count / r.first_seconds / raw_rate[r.backend]:.2f} in wall time, "
        f"{count / r.first_cpu / raw_cpu_rate[r.backend]:.2f} in CPU time"
        for r in runs
        if r.first_seconds
    ]
    lines = [
        "## Registry ingest (`python -m bench.bench_ingest`)",
        "",
        f"{count:,} vacancies in {len(_batches(region, [{}] * len(region.corporations)))} "
        f"batches of up to {BATCH}, one client, through `POST /v1/vacancies/batch` on a "
        "`uitstroomtafel serve` process (one uvicorn worker), against the same rows written "
        "straight into the table in the same run (foreign keys off). Targets (issue 16): at "
        "least 10,000 vacancies/s on SQLite and at least half the raw `executemany`; on "
        f"PostgreSQL reported against `COPY`. Load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs shared with other work. "
        "CPU seconds are those of the server process(es) and of the client (this script), "
        "a steadier measure than wall time when other work shares the cores; the raw limits "
        "count this script's CPU (the database server's own CPU is counted on neither side)."
        + (
            " Rows marked (before) are served from the tree given as `--before` (the code "
            "before this change), each right before the same run on this tree."
            if args.before
            else ""
        ),
        "",
        "| measurement | seconds | vacancies/s | CPU seconds | vacancies per CPU second |",
        "|---|---:|---:|---:|---:|",
        *(line for r in runs if r.first_seconds for line in _ingest_rows(r, count)),
        *(
            f"| raw limit, {name} | {seconds:.2f} | {count / seconds:,.0f} | {cpu:.2f} "
            f"| {count / cpu:,.0f} |"
            for name, (seconds, cpu) in raw
        ),
        "",
        "API / raw: " + "; ".join(ratios) + ".",
        "",
        "Per batch the API parses the raw body once (`app.json_body`: I-JSON, a member name "
        "twice in one object refused) and validates it in one pydantic call "
        "(`app.vacancies.batch_body`; a body that fails it takes FastAPI's usual path, so "
        "that every error is reported as before), reads the items into columns "
        "(one getter per column), looks the known references up in one query that reads only "
        "the compared columns and compares each row as one tuple, and inserts the new rows in "
        "reference order with one statement: on SQLite the driver's `executemany` of "
        "ready-made tuples (converted column by column, once per distinct value), on "
        "PostgreSQL one `INSERT ... SELECT FROM jsonb_populate_recordset(...) ON CONFLICT DO "
        "NOTHING`; the answer is encoded by pydantic in one step. A served process freezes its "
        "start-up heap out of the garbage collector's walks (`app.heap`). The raw "
        "`executemany` row is SQLAlchemy's Core `executemany` of the finished rows; `COPY` has "
        "no validation, no lookup, no conflict handling and no answer.",
        "",
        f"Case creation, {CLIENTS} concurrent clients, {CLIENTS * CASES_PER_CLIENT:,} "
        "`POST /v1/cases` each run (target: p99 under 100 ms), timed after one untimed read "
        "per client at once (`_warm_up`: the connections a fresh server opens on demand), with "
        "every client made before it:",
        "",
        CASE_HEADER,
        *(_case_row(r) for r in runs),
        "",
        f"The clients are closed-loop: each sends its next case when the last is answered, so the "
        f"mean latency is {CLIENTS} / throughput (Little's law) whatever the scheduling; a p99 "
        f"under 100 ms needs well over {CLIENTS * 10} cases/s, about 4 ms of server CPU per "
        "creation on one core, with the clients on the same two cores. On SQLite the requests "
        "queue for the process write lock first come, first served (`app.database.FairLock`); "
        "the dependencies that do no I/O are async, the session opens on the event loop and "
        "the route commits in its own worker thread, so a creation hands over to the thread "
        "pool twice (authentication and the route). Each client is a `KeepAliveClient` (one "
        "keep-alive connection, httptools' parser): httpx's `AsyncClient` took half as much "
        "CPU per creation as the server. The client's CPU is not in the last column.",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("ingest", markdown)


if __name__ == "__main__":
    main()
