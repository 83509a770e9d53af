"""Spreadsheet import speed on SQLite: 5,000 case files and 5,000 dwellings as XLSX and CSV
through `POST /v1/cases/imports` and `POST /v1/vacancies/imports`, side by side with their peers:
the same dwellings as JSON through `POST /v1/vacancies/batch` (the same upsert without the
spreadsheet), and python-calamine reading the file alone (the floor the reading sets),
with openpyxl (the fallback reader) beside it.

Run: `python -m bench.bench_import` (writes the `import` section of docs/benchmarks.md).
"""

import csv
import io
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook
from python_calamine import CalamineWorkbook

from app.imports.columns import CASES, DWELLINGS, Kind, Layout
from bench.regions import build_region, case_payloads, vacancy_payloads
from bench.report import write_section
from bench.server import create_org, operator_headers, running_server

ROWS = 5_000
BATCH = 1_000


def _cell(column: Any, value: Any) -> Any:
    """An API value as a person types it into the template's column."""
    if value is None:
        return None
    if column.kind == Kind.boolean:
        return "ja" if value else "nee"
    if column.kind == Kind.choice:
        return column.choices.get(value, value)
    if column.kind == Kind.choices:
        return ", ".join(column.choices.get(v, v) for v in value)
    if column.kind in (Kind.area_codes, Kind.corporations):
        return ", ".join(value)
    if column.kind == Kind.date:
        day = date.fromisoformat(value)
        return f"{day.day:02d}-{day.month:02d}-{day.year}"
    if column.kind == Kind.money:
        return f"{float(value):.2f}".replace(".", ",")
    return value


def _lines(layout: Layout, payloads: list[dict]) -> list[list[Any]]:
    lines: list[list[Any]] = [[c.header for c in layout.columns]]
    for payload in payloads:
        line = []
        for column in layout.columns:
            value: Any = payload
            for name in column.path:
                value = value.get(name) if isinstance(value, dict) else None
            line.append(_cell(column, value))
        lines.append(line)
    return lines


def _xlsx(lines: list[list[Any]], sheet: str) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for line in lines:
        worksheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(lines: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([["" if v is None else v for v in line] for line in lines])
    return ("\ufeff" + buffer.getvalue()).encode()


def _timed_import(
    client: httpx.Client, path: str, content: bytes, name: str, headers: dict, **params: str
) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post(path, params=params, files={"file": (name, content)}, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    body = response.json()
    assert body["valid"], body["issues"][:5]
    return elapsed, body


def _read_alone(content: bytes) -> float:
    """openpyxl reading every value, the reader the import falls back to for formulas."""
    started = time.perf_counter()
    workbook = load_workbook(io.BytesIO(content))
    for _ in workbook.worksheets[0].iter_rows(values_only=True):
        pass
    return time.perf_counter() - started


def _calamine_alone(content: bytes) -> float:
    """python-calamine reading every value, the reader the import uses for plain values."""
    started = time.perf_counter()
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    workbook.get_sheet_by_index(0).to_python()
    workbook.close()
    return time.perf_counter() - started


def main() -> None:
    load_before = os.getloadavg()[0]
    region = build_region(cases=ROWS, vacancies=ROWS, seed=11)
    rows: list[tuple[str, str, float, int, str]] = []  # what, file, seconds, rows, outcome
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'api.db'}"
        with running_server(url) as base, httpx.Client(base_url=base, timeout=600) as client:
            chair = create_org(client, "Gemeente bench", "municipality")
            providers = [create_org(client, f"Zorgaanbieder {i}", "care_provider") for i in (1, 2)]
            corporations = [
                create_org(client, f"Corporatie {i}", "housing_corporation")
                for i in range(len(region.corporations))
            ]
            peer = create_org(client, "Corporatie peer", "housing_corporation")
            members = [p[0] for p in providers] + [c[0] for c in corporations] + [peer[0]]
            table = client.post(
                "/v1/tables",
                json={
                    "name": "Bench table",
                    "municipality_codes": region.municipality_codes,
                    "chair_organisation_id": chair[0],
                    "member_organisation_ids": members,
                },
                headers=operator_headers(),
            )
            table.raise_for_status()
            table_id = table.json()["id"]
            cases = case_payloads(region, table_id, [c[0] for c in corporations])
            case_lines = _lines(CASES, cases)
            case_xlsx, case_csv = _xlsx(case_lines, "Dossiers"), _csv(case_lines)
            dwellings = [v for _, v in vacancy_payloads(region)]
            dwelling_xlsx = _xlsx(_lines(DWELLINGS, dwellings), "Woningen")
            sizes = {
                "cases.xlsx": len(case_xlsx),
                "cases.csv": len(case_csv),
                "dwellings.xlsx": len(dwelling_xlsx),
            }

            first = providers[0][1]
            for label, params in (
                ("dry run", {"dryRun": "true"}),
                ("import", {"dryRun": "false"}),
                ("same file again", {"dryRun": "false"}),
            ):
                seconds, body = _timed_import(
                    client, "/v1/cases/imports", case_xlsx, "dossiers.xlsx", first, **params
                )
                outcome = f"created {body['created']:,}, unchanged {body['unchanged']:,}"
                rows.append((f"cases: {label}", "XLSX", seconds, body["rows"], outcome))
            seconds, body = _timed_import(
                client, "/v1/cases/imports", case_csv, "dossiers.csv", providers[1][1],
                dryRun="false",
            )  # fmt: skip
            rows.append(
                ("cases: import", "CSV", seconds, body["rows"], f"created {body['created']:,}")
            )

            seconds, body = _timed_import(
                client,
                "/v1/vacancies/imports",
                dwelling_xlsx,
                "woningen.xlsx",
                corporations[0][1],
                dryRun="false",
            )
            rows.append(
                ("dwellings: import", "XLSX", seconds, body["rows"], f"created {body['created']:,}")
            )
            started = time.perf_counter()
            for start in range(0, len(dwellings), BATCH):
                response = client.post(
                    "/v1/vacancies/batch",
                    json={"items": dwellings[start : start + BATCH]},
                    headers=peer[1],
                )
                response.raise_for_status()
            rows.append(
                (
                    f"peer: dwellings as JSON, `POST /v1/vacancies/batch` x{len(dwellings) // BATCH}",  # noqa: E501
                    "JSON",
                    time.perf_counter() - started,
                    len(dwellings),
                    "created",
                )
            )
    calamine_seconds = _calamine_alone(case_xlsx)
    rows.append(("floor: calamine reads the cases file alone", "XLSX", calamine_seconds, ROWS, "-"))
    read_seconds = _read_alone(case_xlsx)
    rows.append(("openpyxl reads the cases file alone", "XLSX", read_seconds, ROWS, "-"))

    lines = [
        "## Spreadsheet import (SQLite, `python -m bench.bench_import`)",
        "",
        f"{ROWS:,} case files and {ROWS:,} dwellings (`bench/regions.py`, seed 11) written as a "
        "person fills in the template (Dutch headers, labels, ja/nee, dd-mm-jjjj, decimal "
        "commas), one client, on a `uitstroomtafel serve` process (one uvicorn worker). "
        f"Files: cases {sizes['cases.xlsx'] // 1024:,} kB XLSX / {sizes['cases.csv'] // 1024:,} kB "
        f"CSV, dwellings {sizes['dwellings.xlsx'] // 1024:,} kB XLSX. The peer sends the same "
        "dwellings as JSON through the batch upsert the import uses; the floor is "
        "python-calamine (the reader the import uses when every cell holds a plain value) "
        "reading the file with no checks and no database; openpyxl, the fallback for "
        "formulas, error values and merged cells, is shown beside it. "
        f"Load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
        f"{os.cpu_count()} CPUs shared with other work: compare the rows, not the absolute "
        "seconds.",
        "",
        "| measurement | file | seconds | rows/s | outcome |",
        "|---|---|---:|---:|---|",
    ]
    for what, kind, seconds, count, outcome in rows:
        lines.append(f"| {what} | {kind} | {seconds:.2f} | {count / seconds:,.0f} | {outcome} |")
    markdown = "\n".join(lines)
    print(markdown)
    write_section("import", markdown)


if __name__ == "__main__":
    main()
