"""Monitor speed for a national deployment: 44 tables, five years of history, 100,000 cases,
timed per request through HTTP on SQLite and (when a server is given) PostgreSQL.

The history is bulk-inserted (the API would take an hour to replay it); the figures are then
read through a running `uitstroomtafel serve`. Run: `python -m bench.bench_monitor`, optionally
with `UITSTROOM_BENCH_POSTGRESQL_URL=postgresql+psycopg://...` (a server URL; a database is
created on it). Writes the `monitor` section of docs/benchmarks.md.
"""

import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlmodel import Session

from app.access_log.models import AccessLogEntry  # noqa: F401  (metadata)
from app.aftercare.models import Tenancy
from app.cases.models import Case
from app.db import build_engine
from app.ids import uuid7
from app.meetings.models import Meeting
from app.migrate import upgrade_to_head
from app.organisations.models import ApiKey, Organisation
from app.principal import hash_api_key, new_api_key
from app.proposals.models import Proposal
from app.sqltypes import utcnow
from app.tables.models import OutflowTable, TableMember, TableMunicipality
from app.tables.policy import TablePolicy
from app.vacancies.models import Vacancy
from bench.regions import country_sizes
from bench.report import write_section
from bench.server import postgresql_database, running_server

CASES = 100_000
TODAY = date(2026, 11, 23)
START = TODAY - timedelta(days=5 * 365)
REPEATS = 5


def _rows(table_index: int, cases: int, rng: random.Random) -> dict[str, list[dict]]:
    """One table's organisations, cases and housings as plain rows for bulk insert."""
    now = utcnow()
    gm = f"GM{1000 + table_index:04d}"
    table_id, chair_id = uuid7(), uuid7()
    providers = [uuid7() for _ in range(rng.randint(2, 6))]
    corporations = [uuid7() for _ in range(rng.randint(2, 5))]
    orgs = [{"id": chair_id, "name": f"Gemeente {table_index}", "kind": "municipality"}]
    orgs += [
        {"id": p, "name": f"Zorg {table_index}-{k}", "kind": "care_provider"}
        for k, p in enumerate(providers)
    ]
    orgs += [
        {"id": c, "name": f"Woon {table_index}-{k}", "kind": "housing_corporation"}
        for k, c in enumerate(corporations)
    ]
    for org in orgs:
        org["created_at"] = now
    meeting_id = uuid7()
    rows: dict[str, list[dict]] = {
        "tenancies": [],
        "organisations": orgs,
        "outflow_tables": [
            {
                "id": table_id,
                "name": f"Tafel {table_index}",
                "chair_organisation_id": chair_id,
                "policy": TablePolicy().model_dump(mode="json"),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        ],
        "table_members": [{"table_id": table_id, "organisation_id": o["id"]} for o in orgs],
        "table_municipalities": [{"municipality_code": gm, "table_id": table_id}],
        "meetings": [
            {
                "id": meeting_id,
                "table_id": table_id,
                "date": START,
                "status": "published",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        ],
        "cases": [],
        "vacancies": [],
        "proposals": [],
    }
    for n in range(cases):
        ready = START + timedelta(days=rng.randint(0, (TODAY - START).days))
        outcome = rng.random()
        housed_on = exit_date = None
        status, reason = "registered", None
        if outcome < 0.45:
            housed_on = min(TODAY, ready + timedelta(days=int(rng.expovariate(1 / 250))))
            status, exit_date = "housed", housed_on
        elif outcome < 0.6:
            exit_date = min(TODAY, ready + timedelta(days=int(rng.expovariate(1 / 200))))
            status = "withdrawn"
            reason = "returned_to_care" if rng.random() < 0.5 else "own_solution"
        case_id = uuid7()
        provider = rng.choice(providers)
        rows["cases"].append(
            {
                "id": case_id,
                "care_provider_id": provider,
                "external_ref": f"B{table_index}-{n}",
                "table_id": table_id,
                "facility": "beschermd_wonen",
                "ready_since": ready,
                "birth_year": 1980,
                "household_adults": 1,
                "household_children": 0,
                "income_source": "participatiewet",
                "income_annual_taxable": 16000,
                "income_stable": True,
                "income_budget_management": "none",
                "beschikking_status": "granted",
                "support_intensity": "moderate",
                "support_needs_complex_manager": False,
                "urgency": False,
                "debts_problematic": False,
                "debts_debt_assistance": "none",
                "debts_rent_arrears_corporation_ids": [],
                "needs_wheelchair": False,
                "needs_step_free": False,
                "needs_pets": False,
                "areas_preferred": [],
                "areas_excluded": [],
                "contract_form": "either",
                "status": status,
                "status_reason": reason,
                "exit_date": exit_date,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if housed_on is not None:
            vacancy_id = uuid7()
            corporation = rng.choice(corporations)
            neighbourhood = f"BU{gm[2:]}{rng.randint(0, 30):02d}{rng.randint(0, 9):02d}"
            rows["vacancies"].append(
                {
                    "id": vacancy_id,
                    "corporation_id": corporation,
                    "external_ref": f"V{table_index}-{n}",
                    "table_id": table_id,
                    "address_street": "Straat",
                    "address_house_number": "1",
                    "address_postcode": "1234AB",
                    "address_municipality_code": gm,
                    "address_neighbourhood_code": neighbourhood,
                    "dwelling_type": "apartment",
                    "rooms": 2,
                    "floor": 0,
                    "has_lift": False,
                    "wheelchair_accessible": False,
                    "rent_base": 65000,
                    "rent_eligible_service_costs": 0,
                    "available_from": housed_on,
                    "contingent": rng.random() < 0.5,
                    "complex_manager": False,
                    "pets_allowed": True,
                    "contract_forms": ["own_lease"],
                    "status": "let",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows["proposals"].append(
                {
                    "id": uuid7(),
                    "meeting_id": meeting_id,
                    "table_id": table_id,
                    "case_id": case_id,
                    "vacancy_id": vacancy_id,
                    "care_provider_id": provider,
                    "corporation_id": corporation,
                    "complex_key": f"{corporation}:#{vacancy_id}",
                    "neighbourhood_code": neighbourhood,
                    "contingent": rows["vacancies"][-1]["contingent"],
                    "score": 10.0,
                    "components": [],
                    "status": "housed",
                    "housed_on": housed_on,
                    "lease_form": "own_lease" if rng.random() < 0.7 else "intermediate_lease",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            proposal = rows["proposals"][-1]
            intermediate = proposal["lease_form"] == "intermediate_lease"
            planned = housed_on + timedelta(days=365) if intermediate else None
            ended = housed_on + timedelta(days=rng.randint(30, 900)) if rng.random() < 0.2 else None
            rows["tenancies"].append(
                {
                    "case_id": case_id,
                    "proposal_id": proposal["id"],
                    "table_id": table_id,
                    "care_provider_id": provider,
                    "corporation_id": corporation,
                    "moved_in": housed_on,
                    "lease_form": proposal["lease_form"],
                    "status": "ended" if ended and ended <= TODAY else "running",
                    "transfer_planned_on": planned,
                    "transfer_open_conditions": [],
                    "transferred_on": planned if planned and planned <= TODAY else None,
                    "ended_on": ended if ended and ended <= TODAY else None,
                    "end_reason": "moved_on" if ended and ended <= TODAY else None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return rows


def _load(url: str) -> tuple[list[dict], float]:
    """Create the national history; returns per table (id, chair key, corporation key, size)."""
    upgrade_to_head(url)
    engine = build_engine(url, foreign_keys=False)
    rng = random.Random(11)
    sizes = [c for c, _ in country_sizes()]
    scale = CASES / sum(sizes)
    tables = []
    started = time.perf_counter()
    order = [
        "organisations",
        "outflow_tables",
        "table_members",
        "table_municipalities",
        "meetings",
        "cases",
        "vacancies",
        "proposals",
        "tenancies",
    ]
    models = {
        "organisations": Organisation,
        "outflow_tables": OutflowTable,
        "table_members": TableMember,
        "table_municipalities": TableMunicipality,
        "meetings": Meeting,
        "cases": Case,
        "vacancies": Vacancy,
        "proposals": Proposal,
        "tenancies": Tenancy,
    }
    with engine.begin() as connection:
        for index, size in enumerate(sizes):
            count = (
                round(size * scale)
                if index < len(sizes) - 1
                else CASES - sum(round(s * scale) for s in sizes[:-1])
            )
            rows = _rows(index, count, rng)
            for name in order:
                if rows[name]:
                    connection.execute(insert(models[name].__table__), rows[name])  # type: ignore[attr-defined]
            tables.append(
                {
                    "id": rows["outflow_tables"][0]["id"],
                    "chair": rows["outflow_tables"][0]["chair_organisation_id"],
                    "corporation": next(
                        o["id"] for o in rows["organisations"] if o["kind"] == "housing_corporation"
                    ),
                    "care_provider": next(
                        o["id"] for o in rows["organisations"] if o["kind"] == "care_provider"
                    ),
                    "cases": count,
                }
            )
    load_seconds = time.perf_counter() - started
    with Session(engine) as session:
        for table in tables:
            for role in ROLES:
                raw = new_api_key()
                session.add(
                    ApiKey(
                        organisation_id=table[role],
                        label="bench",
                        prefix=raw[:12],
                        key_hash=hash_api_key(raw),
                    )
                )
                table[f"{role}_key"] = raw
        session.commit()
    engine.dispose()
    return tables, load_seconds


# Organisations that get suppressed figures read one calendar year per answer: theirs is the
# data's last year up to its last day; the chair asks the range as written.
YEAR = {"start": "2026-01-01", "end": "2026-11-23"}
REQUESTS = {
    "flows, monthly, whole table": ("/monitor", {"start": "2021-12-01", "end": "2026-11-23"}),
    "flows, quarterly per care provider": (
        "/monitor",
        {
            "start": "2021-12-01",
            "end": "2026-11-23",
            "period": "quarter",
            "groupBy": "care_provider",
        },
    ),
    "flows, monthly, one year (CSV)": (
        "/monitor",
        {"start": "2025-12-01", "end": "2026-11-23", "format": "csv"},
    ),
    "placements per neighbourhood": ("/monitor/placements", {"start": "2021-12-01"}),
    "contingent 2026": ("/monitor/contingent/2026", {}),
    "forecast": ("/monitor/forecast", {"date": "2026-11-23"}),
    "after the move, quarterly": (
        "/monitor/sustainment",
        {"start": "2023-12-01", "end": "2026-11-23", "period": "quarter"},
    ),
}
ROLES = ("chair", "corporation", "care_provider")


def _params(role: str, params: dict) -> dict:
    """The request as `role` may ask it: one calendar year for a suppressed viewer."""
    if role == "chair" or "start" not in params:
        return params
    return params | YEAR


def _time(client: httpx.Client, table: dict, role: str, path: str, params: dict) -> list[float]:
    """Seconds of each of REPEATS requests, in order."""
    headers = {"Authorization": f"Bearer {table[f'{role}_key']}"}
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(
            f"/v1/tables/{table['id']}{path}", params=_params(role, params), headers=headers
        )
        timings.append(time.perf_counter() - started)
        response.raise_for_status()
    return timings


def _cell(timings: list[float]) -> str:
    """The median, and the first request where it took longer (a suppressed viewer's first
    answer protects its year's tables)."""
    median, first = statistics.median(timings) * 1000, timings[0] * 1000
    return f"{median:,.0f} ms" + (f" (first {first:,.0f} ms)" if first > 2 * median else "")


def _measure(url: str) -> tuple[list[str], float, int]:
    tables, load_seconds = _load(url)
    biggest = max(tables, key=lambda t: t["cases"])
    lines = []
    # Five years of tenancies loaded at once have every follow-up checkpoint due unannounced;
    # a table that lived them announced each when it fell due. Without the sweep the server
    # does not spend the measurement announcing them (`aftercare.agenda.record_due`).
    quiet = {"UITSTROOM_STALL_SWEEP": "false"}
    with (
        running_server(url, environment=quiet) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        for name, (path, params) in REQUESTS.items():
            chair, corporation, provider = (
                _time(client, biggest, role, path, params) for role in ROLES
            )
            every = [
                statistics.median(_time(client, t, "chair", path, params)) for t in tables[::11]
            ]
            lines.append(
                f"| {name} | {_cell(chair)} | {_cell(corporation)} | {_cell(provider)} "
                f"| {statistics.median(every) * 1000:,.0f} ms |"
            )
    return lines, load_seconds, biggest["cases"]


def main() -> None:
    sections = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        backends = [("SQLite", f"sqlite:///{Path(tmp) / 'monitor.db'}")]
        if server := os.environ.get("UITSTROOM_BENCH_POSTGRESQL_URL"):
            backends.append(("PostgreSQL", stack.enter_context(postgresql_database(server))))
        for backend, url in backends:
            lines, load_seconds, biggest = _measure(url)
            sections.append(
                f"**{backend}** (history bulk-loaded in {load_seconds:.0f} s; biggest table "
                f"{biggest:,} cases)\n\n"
                "| request | biggest table, chair | biggest table, corporation (suppressed) "
                "| biggest table, care provider (suppressed) | median over 4 tables, chair |\n"
                "|---|---:|---:|---:|---:|\n" + "\n".join(lines)
            )
    markdown = (
        "## Monitor (`python -m bench.bench_monitor`)\n\n"
        f"44 tables, five years of history, {CASES:,} cases (45% housed, 15% other exits), "
        "timed through HTTP on a `uitstroomtafel serve` process; median of "
        f"{REPEATS} requests, with the first where it took more than twice as long (a "
        "suppressed viewer's first answer protects its year's tables; the others reuse them). "
        "Organisations that get suppressed figures read one calendar "
        "year per answer: theirs is 2026 up to 23 November where the chair asks five years. "
        "Target: under 2 s per request.\n\n" + "\n\n".join(sections)
    )
    print(markdown)
    write_section("monitor", markdown)


if __name__ == "__main__":
    main()
