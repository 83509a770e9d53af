"""A corporation brings its dwellings in from a spreadsheet, through the vacancy upsert of the
API: checked first, all or nothing, idempotent by its own reference, never touching another
corporation's dwellings."""

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.helpers import assert_problem
from tests.api.test_meetings import publish, schedule
from tests.clock import iso
from tests.conftest import create_case, make_org, make_region, make_table
from tests.imports.sheets import (
    case_row,
    csv_file,
    dwelling_row,
    store_cases,
    table,
    upload,
    xlsx,
)

DWELLINGS = "/v1/vacancies/imports"


def _dwellings(client, org) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get("/v1/vacancies", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _sheet(*rows) -> bytes:  # type: ignore[no-untyped-def]
    return xlsx(table(list(rows)), sheet="Woningen")


def test_a_corporation_imports_its_dwellings_and_again_changes_nothing(client, region):
    content = _sheet(dwelling_row("V-1"), dwelling_row("V-2", Kamers=3))
    headers = region.corporation.headers
    checked = upload(client, DWELLINGS, content, headers)
    assert checked.status_code == 200, checked.text
    assert (checked.json()["valid"], checked.json()["created"]) == (True, 2)
    assert _dwellings(client, region.corporation) == []
    stored = upload(client, DWELLINGS, content, headers, dry_run=False)
    assert stored.status_code == 200, stored.text
    dwellings = {v["external_ref"]: v for v in _dwellings(client, region.corporation)}
    assert sorted(dwellings) == ["V-1", "V-2"]
    assert dwellings["V-2"]["rooms"] == 3
    assert dwellings["V-1"]["available_from"] == iso(14)
    assert dwellings["V-1"]["address"]["postcode"] == "3512AB"
    again = upload(client, DWELLINGS, content, headers, dry_run=False)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    assert {v["external_ref"]: v["version"] for v in _dwellings(client, region.corporation)} == {
        ref: v["version"] for ref, v in dwellings.items()
    }


def test_a_changed_row_updates_the_dwelling(client, region):
    headers = region.corporation.headers
    upload(client, DWELLINGS, _sheet(dwelling_row("V-1")), headers, dry_run=False)
    changed = upload(
        client,
        DWELLINGS,
        _sheet(dwelling_row("V-1", **{"Kale huur": "675,50"})),
        headers,
        dry_run=False,
    )
    assert changed.json()["updated"] == 1, changed.text
    [dwelling] = _dwellings(client, region.corporation)
    assert dwelling["rent"]["base"] == 675.5


def test_the_same_reference_at_another_corporation_is_its_own_dwelling(client, region):
    upload(
        client,
        DWELLINGS,
        _sheet(dwelling_row("V-1")),
        region.other_corporation.headers,
        dry_run=False,
    )
    mine = upload(
        client,
        DWELLINGS,
        _sheet(dwelling_row("V-1", Kamers=4)),
        region.corporation.headers,
        dry_run=False,
    )
    assert mine.json()["created"] == 1, mine.text
    [theirs] = _dwellings(client, region.other_corporation)
    assert theirs["rooms"] == 2 and theirs["version"] == 1


def test_a_dwelling_outside_every_table_of_the_corporation_rejects_the_file(client, region):
    content = _sheet(dwelling_row("V-1"), dwelling_row("V-2", municipality="GM0363"))
    response = upload(client, DWELLINGS, content, region.corporation.headers, dry_run=False)
    body = assert_problem(response, 400, "import_rejected")
    [issue] = body["issues"]
    assert (issue["row"], issue["code"]) == (3, "no_table")
    assert issue["column"] == "Gemeentecode"
    assert _dwellings(client, region.corporation) == []


def test_a_check_with_a_dwelling_outside_every_table_still_says_what_the_other_rows_would_do(
    client, region
):
    # As the check of a case file does: a mistyped municipality code on one row must not make
    # the report say that nothing of the file would be stored or changed.
    headers = region.corporation.headers
    upload(client, DWELLINGS, _sheet(dwelling_row("V-1")), headers, dry_run=False)
    content = _sheet(
        dwelling_row("V-1", Kamers=3),
        dwelling_row("V-2", municipality="GM0363"),
        dwelling_row("V-3"),
    )
    body = upload(client, DWELLINGS, content, headers).json()
    assert [(i["row"], i["code"]) for i in body["issues"]] == [(3, "no_table")]
    assert [(i["row"], i["external_ref"], i["outcome"]) for i in body["items"]] == [
        (2, "V-1", "updated"),
        (4, "V-3", "created"),
    ]
    assert (body["created"], body["updated"]) == (1, 1)
    [stored] = _dwellings(client, region.corporation)
    assert (stored["external_ref"], stored["rooms"], stored["version"]) == ("V-1", 2, 1)


def test_a_proposed_dwelling_moved_to_another_tables_municipality_is_a_row_issue(client, region):
    """The API refuses the move (409 `vacancy_in_proposal`); the import names the row and
    its municipality cell instead, in the check as in the real run, and stores nothing."""
    elsewhere = make_org(client, "municipality")
    make_table(client, elsewhere, [region.corporation], ["GM0363"])
    headers = region.corporation.headers
    upload(client, DWELLINGS, _sheet(dwelling_row("V-1")), headers, dry_run=False)
    create_case(client, region.care_provider, region.table_id)
    publish(client, region, schedule(client, region))
    moved = _sheet(dwelling_row("V-0"), dwelling_row("V-1", municipality="GM0363"))
    checked = upload(client, DWELLINGS, moved, headers)
    assert checked.status_code == 200, checked.text
    [issue] = checked.json()["issues"]
    assert (issue["row"], issue["code"], issue["column"]) == (
        3,
        "vacancy_in_proposal",
        "Gemeentecode",
    )
    assert "voorgesteld" in issue["message"]
    stored = upload(client, DWELLINGS, moved, headers, dry_run=False)
    assert_problem(stored, 400, "import_rejected")
    [dwelling] = _dwellings(client, region.corporation)
    assert (dwelling["status"], dwelling["table_id"]) == ("proposed", region.table_id)


def test_every_proposed_dwelling_moved_to_another_tables_municipality_is_a_row_issue(
    client, region
):
    """The upsert names one refused move at a time; a file moving four proposed dwellings
    still gets an issue on each of their rows and an outcome on every other row (the check
    stopped after three passes and left the fourth row with neither)."""
    elsewhere = make_org(client, "municipality")
    make_table(client, elsewhere, [region.corporation], ["GM0363"])
    headers = region.corporation.headers
    refs = [f"V-{n}" for n in range(1, 5)]

    def row(ref: str, municipality: str = "GM0344") -> dict:
        # Each in a complex and neighbourhood of its own, so that no spread cap holds one back.
        hood = f"BU{municipality[2:]}010{ref[-1]}"
        return dwelling_row(ref, municipality, Complex=f"C-{ref}", Buurtcode=hood)

    upload(client, DWELLINGS, _sheet(*(row(r) for r in refs)), headers, dry_run=False)
    for _ in refs:
        create_case(client, region.care_provider, region.table_id)
    publish(client, region, schedule(client, region))
    proposed = [d["external_ref"] for d in _dwellings(client, region.corporation)]
    assert {d["status"] for d in _dwellings(client, region.corporation)} == {"proposed"}
    moved = _sheet(dwelling_row("V-0"), *(row(r, "GM0363") for r in refs))
    body = upload(client, DWELLINGS, moved, headers).json()
    assert sorted((i["row"], i["code"]) for i in body["issues"]) == [
        (row, "vacancy_in_proposal") for row in range(3, 7)
    ]
    assert [(i["row"], i["outcome"]) for i in body["items"]] == [(2, "created")]
    assert sorted(proposed) == refs


def test_a_nul_byte_in_a_dwellings_reference_cell_is_a_cell_issue(client, region):
    """Excel's `_x0000_` in a cell is a NUL byte, which PostgreSQL refuses in the query that
    looked up the stored dwellings by reference (a 500 instead of the report)."""
    content = _sheet(dwelling_row("V-1_x0000_"))
    response = upload(client, DWELLINGS, content, region.corporation.headers, dry_run=True)
    assert response.status_code == 200, response.text
    [issue] = response.json()["issues"]
    assert (issue["row"], issue["column"], issue["code"]) == (
        2,
        "Eigen kenmerk",
        "string_pattern_mismatch",
    )
    assert _dwellings(client, region.corporation) == []


def test_only_corporations_import_dwellings(client, region):
    for org in (region.care_provider, region.chair):
        assert_problem(upload(client, DWELLINGS, _sheet(dwelling_row("V-1")), org.headers), 403)


def test_a_case_file_sent_to_the_dwelling_import_names_the_right_import(client, region):
    response = upload(client, DWELLINGS, xlsx(table([case_row("K-1")])), region.corporation.headers)
    [issue] = response.json()["issues"]
    assert issue["code"] == "wrong_sheet" and "import voor dossiers" in issue["message"]


def test_a_semicolon_csv_of_dwellings_imports(client, region):
    content = csv_file(table([dwelling_row("V-1", Lift="nee", Verdieping=0)]))
    response = upload(
        client, DWELLINGS, content, region.corporation.headers, "woningen.csv", dry_run=False
    )
    assert response.status_code == 200, response.text
    [dwelling] = _dwellings(client, region.corporation)
    assert (dwelling["has_lift"], dwelling["floor"]) == (False, 0)


def test_a_server_imports_an_uploaded_file_it_read_as_a_form_once(live_app):
    # The suite's `client` runs the routes on the test's own session; a server opens its own
    # (`app.db.get_session`), which read the request's body again after FastAPI had parsed an
    # upload's form from it ('Stream consumed'): every API import, of cases and of dwellings,
    # answered 500.
    with TestClient(live_app, raise_server_exceptions=False) as client:
        region = make_region(client)
        dwellings = upload(
            client,
            DWELLINGS,
            _sheet(dwelling_row("V-1")),
            region.corporation.headers,
            dry_run=False,
        )
        cases = store_cases(client, region, xlsx(table([case_row("K-1")])))
    assert dwellings.status_code == 200, dwellings.text
    assert dwellings.json()["created"] == 1
    assert cases.status_code == 200, cases.text
    assert cases.json()["created"] == 1


def test_the_api_templates_explain_every_column(client, region):
    for path, sheet in (
        ("/v1/cases/imports/template", "Dossiers"),
        ("/v1/vacancies/imports/template", "Woningen"),
    ):
        response = client.get(path, headers=region.corporation.headers)
        assert response.status_code == 200, response.text
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames == [sheet, "Toelichting"]
        headers = {c.value.removesuffix(" *") for c in workbook[sheet][1]}
        rows = workbook["Toelichting"].iter_rows(min_row=7, values_only=True)
        assert headers == {row[0] for row in rows if row[2]}
        csv = client.get(path, params={"format": "csv"}, headers=region.corporation.headers)
        assert csv.headers["content-type"].startswith("text/csv")
        first = csv.content.decode("utf-8-sig").splitlines()[0].split(";")
        assert {h.removesuffix(" *") for h in first} == headers
