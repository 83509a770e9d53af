"""A care provider brings its waiting list in from a spreadsheet: checked first, then imported
all or nothing, idempotent by its own reference, through the same rules as the JSON API."""

from datetime import date

from tests.api.helpers import assert_problem
from tests.clock import TODAY, day, iso
from tests.conftest import OPERATOR, create_case
from tests.imports.sheets import (
    CASES,
    case_row,
    csv_file,
    nl,
    store_cases,
    stored_as_excel_does,
    table,
    upload,
    xlsx,
)


def _cases(client, org) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get("/v1/cases", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_dry_run_names_every_bad_cell_and_stores_nothing(client, region):
    rows = [
        case_row("K-1"),
        case_row(
            "K-2", Volwassenen=3, **{"Klaar voor uitstroom sinds": "31-02-" + str(TODAY.year)}
        ),
        case_row("K-3", Begeleiding=None, **{"Belastbaar jaarinkomen": "1.250"}),
    ]
    response = upload(
        client, CASES, xlsx(table(rows)), region.care_provider.headers, table_id=region.table_id
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True and body["valid"] is False
    found = {(i["row"], i["column"], i["code"]) for i in body["issues"]}
    assert found == {
        (3, "Klaar voor uitstroom sinds", "not_a_date"),
        (3, "Volwassenen", "less_than_equal"),
        (4, "Belastbaar jaarinkomen", "ambiguous_amount"),
        (4, "Begeleiding", "missing"),
    }
    messages = {i["cell"]: i["message"] for i in body["issues"]}
    assert "bestaat niet" in messages["C3"]
    assert messages["E3"] == "Mag hoogstens 2 zijn."
    assert body["items"] == [{"row": 2, "external_ref": "K-1", "outcome": "created", "id": None}]
    assert _cases(client, region.care_provider) == []


def test_an_empty_required_cell_is_named_once(client, region):
    # `Begeleiding` is the only column of `support`: its empty cell leaves that object missing,
    # which is the same mistake and no second one.
    rows = [case_row("K-1", Begeleiding=None)]
    response = upload(
        client, CASES, xlsx(table(rows)), region.care_provider.headers, table_id=region.table_id
    )
    assert [(i["cell"], i["code"]) for i in response.json()["issues"]] == [("K2", "missing")]


def test_an_import_stores_every_row_with_its_transition_and_access_log(client, region):
    rows = [case_row(f"K-{i}") for i in range(1, 6)]
    response = store_cases(client, region, xlsx(table(rows)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["valid"], body["created"], body["updated"], body["unchanged"]) == (
        True,
        5,
        0,
        0,
    )
    cases = _cases(client, region.care_provider)
    assert sorted(c["external_ref"] for c in cases) == [f"K-{i}" for i in range(1, 6)]
    case = next(c for c in cases if c["external_ref"] == "K-1")
    assert case["ready_since"] == iso(-200)
    assert case["income"]["annual_taxable"] == 16250.0
    assert case["status"] == "ready"
    transitions = client.get(
        f"/v1/cases/{case['id']}/transitions", headers=region.care_provider.headers
    ).json()["items"]
    assert [t["to_status"] for t in transitions] == ["ready"]
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case["id"]},
        headers=region.chair.headers,
    ).json()["items"]
    assert log[0]["action"] == "create"
    assert log[0]["endpoint"] == "POST /v1/cases/imports"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(client, region):
    content = xlsx(table([case_row("K-1"), case_row("K-2")]))
    params = {"table_id": region.table_id, "dry_run": False}
    first = upload(client, CASES, content, region.care_provider.headers, **params)
    assert first.json()["created"] == 2
    before = {c["id"]: c["version"] for c in _cases(client, region.care_provider)}
    second = upload(client, CASES, content, region.care_provider.headers, **params)
    assert second.status_code == 200, second.text
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 2)
    assert {c["id"]: c["version"] for c in _cases(client, region.care_provider)} == before


def test_a_changed_row_updates_the_case_through_the_normal_update(client, region):
    params = {"table_id": region.table_id, "dry_run": False}
    upload(client, CASES, xlsx(table([case_row("K-1")])), region.care_provider.headers, **params)
    changed = case_row("K-1", Kinderen=2, Volwassenen=2, **{"Belastbaar jaarinkomen": 24000})
    response = upload(client, CASES, xlsx(table([changed])), region.care_provider.headers, **params)
    assert response.json()["updated"] == 1, response.text
    [case] = _cases(client, region.care_provider)
    assert case["household"] == {"adults": 2, "children": 2}
    assert case["income"]["annual_taxable"] == 24000.0
    assert case["version"] == 2
    assert _logged_by_import(client, region, case["id"]) == ["create", "update"]


def test_columns_left_out_keep_what_is_stored_and_an_emptied_cell_clears(client, region):
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        external_ref="K-9",
        ready_since=iso(-100),
        birth_year=TODAY.year - 40,
        registration_date=iso(-900),
    )
    narrow = [
        ["Eigen kenmerk", "Voorziening", "Klaar voor uitstroom sinds", "Geboortejaar",
         "Volwassenen", "Inkomensbron", "Belastbaar jaarinkomen", "Begeleiding",
         "Inschrijfdatum woningzoekende"],
        ["K-9", "BW", nl(day(-100)), TODAY.year - 40, 1, "bijstand", "16250,00", "gemiddeld",
         None],
    ]  # fmt: skip
    response = store_cases(client, region, xlsx(narrow))
    assert response.json()["updated"] == 1, response.text
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["registration_date"] is None  # emptied in the file
    assert stored["beschikking"] == case["beschikking"]  # no such column: kept
    assert stored["areas"] == case["areas"]


def test_one_bad_row_rejects_the_whole_import(client, region):
    rows = [case_row("K-1"), case_row("K-2"), case_row("K-3", Geboortejaar=TODAY.year - 3)]
    response = store_cases(client, region, xlsx(table(rows)))
    body = assert_problem(response, 400, "import_rejected")
    [issue] = body["issues"]
    assert (issue["row"], issue["column"], issue["cell"]) == (4, "Geboortejaar", "D4")
    assert "minstens 16 jaar" in issue["message"]
    assert body["invalidParams"][0]["name"] == "file[row 4].birth_year"
    assert _cases(client, region.care_provider) == []


def test_cases_missing_from_the_file_are_left_alone(client, region):
    kept = create_case(client, region.care_provider, region.table_id, external_ref="K-old")
    response = store_cases(client, region, xlsx(table([case_row("K-new")])))
    assert response.json()["created"] == 1
    again = client.get(f"/v1/cases/{kept['id']}", headers=region.care_provider.headers).json()
    assert (again["status"], again["version"]) == (kept["status"], kept["version"])


def test_a_care_provider_imports_only_into_its_own_cases(client, region):
    theirs = create_case(client, region.other_care_provider, region.table_id, external_ref="K-1")
    response = store_cases(client, region, xlsx(table([case_row("K-1", Volwassenen=2)])))
    assert response.json()["created"] == 1, response.text  # the same reference is a new case
    other = client.get(
        f"/v1/cases/{theirs['id']}", headers=region.other_care_provider.headers
    ).json()
    assert other["household"]["adults"] == 1 and other["version"] == 1
    assert [c["external_ref"] for c in _cases(client, region.other_care_provider)] == ["K-1"]


def test_a_care_provider_cannot_import_into_a_table_it_does_not_sit_at(
    client, region, other_region
):
    response = upload(
        client,
        CASES,
        xlsx(table([case_row("K-1")])),
        region.care_provider.headers,
        table_id=other_region.table_id,
    )
    body = assert_problem(response, 400)
    assert body["invalidParams"][0]["name"] == "tableId"


def test_only_care_providers_import_cases(client, region):
    for org in (region.corporation, region.chair):
        response = upload(
            client, CASES, xlsx(table([case_row("K-1")])), org.headers, table_id=region.table_id
        )
        assert_problem(response, 403)


def test_the_table_may_be_left_out_by_a_care_provider_at_one_table(client, region):
    response = upload(client, CASES, xlsx(table([case_row("K-1")])), region.care_provider.headers)
    assert response.status_code == 200, response.text
    assert response.json()["table_id"] == region.table_id


def test_a_csv_with_dutch_dates_iso_dates_and_decimal_commas_imports(client, region):
    rows = [
        case_row("K-1", **{"Netto per maand": "1.180,50"}),
        case_row(
            "K-2", **{"Klaar voor uitstroom sinds": iso(-30), "Belastbaar jaarinkomen": "9000"}
        ),
    ]
    for bom in (True, False):
        response = upload(
            client,
            CASES,
            csv_file(table(rows), bom=bom),
            region.care_provider.headers,
            name="wachtlijst.csv",
            table_id=region.table_id,
        )
        body = response.json()
        assert body["valid"] and body["format"] == "csv" and body["created"] == 2, body
    store_cases(client, region, csv_file(table(rows)))
    cases = {c["external_ref"]: c for c in _cases(client, region.care_provider)}
    assert cases["K-1"]["income"]["net_monthly"] == 1180.5
    assert cases["K-2"]["ready_since"] == iso(-30)


def test_rent_arrears_name_corporations_of_the_table(client, region):
    rows = [
        case_row("K-1", **{"Huurachterstand bij": region.corporation.name}),
        case_row("K-2", **{"Huurachterstand bij": "Woningstichting Elders"}),
    ]
    response = upload(
        client, CASES, xlsx(table(rows)), region.care_provider.headers, table_id=region.table_id
    )
    [issue] = response.json()["issues"]
    assert (issue["row"], issue["code"]) == (3, "unknown_corporation")
    assert region.other_corporation.name in issue["message"]
    store_cases(client, region, xlsx(table(rows[:1])))
    [case] = _cases(client, region.care_provider)
    assert case["debts"]["rent_arrears_corporation_ids"] == [region.corporation.id]


def test_a_file_reimported_after_a_corporation_left_the_table_keeps_its_rent_arrears(
    client, region
):
    """A file naming rent arrears at a corporation (by name or by id), imported again unchanged
    after that corporation left the table, is the same file: nothing changes and nothing is
    refused. The cell read only the corporations at the table now, so each such row was
    `unknown_corporation` and the whole file was refused, though the API and the edit form
    keep such arrears (`cases.service.update_case`)."""
    rows = [
        case_row("K-1", **{"Huurachterstand bij": region.corporation.name}),
        case_row("K-2", **{"Huurachterstand bij": region.corporation.id}),
    ]
    assert store_cases(client, region, xlsx(table(rows))).status_code == 200
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    left = [m for m in members if m != region.corporation.id]
    response = client.patch(url, json={"member_organisation_ids": left}, headers=OPERATOR)
    assert response.status_code == 200, response.text

    again = store_cases(client, region, xlsx(table(rows)))

    assert again.status_code == 200, again.text
    assert [i["outcome"] for i in again.json()["items"]] == ["unchanged", "unchanged"]
    for case in _cases(client, region.care_provider):
        assert case["debts"]["rent_arrears_corporation_ids"] == [region.corporation.id]
    new = [*rows, case_row("K-3", **{"Huurachterstand bij": region.corporation.name})]
    checked = store_cases(client, region, xlsx(table(new)), dry_run=True).json()
    [issue] = checked["issues"]
    assert (issue["row"], issue["code"]) == (4, "unknown_corporation"), issue


def test_a_withdrawn_case_is_not_changed_by_an_import(client, region):
    case = create_case(client, region.care_provider, region.table_id, external_ref="K-1")
    withdrawn = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "own_solution"},
        headers=region.care_provider.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    response = upload(
        client,
        CASES,
        xlsx(table([case_row("K-1", Urgentie="ja")])),
        region.care_provider.headers,
        table_id=region.table_id,
    )
    [issue] = response.json()["issues"]
    assert (issue["row"], issue["code"]) == (2, "case_closed")
    assert "afgemeld" in issue["message"]


def test_dates_may_be_real_spreadsheet_dates(client, region):
    row = case_row("K-1", **{"Klaar voor uitstroom sinds": day(-45)})
    lines = table([row])
    assert isinstance(lines[1][2], date)
    response = store_cases(client, region, xlsx(lines))
    assert response.json()["created"] == 1, response.text
    assert _cases(client, region.care_provider)[0]["ready_since"] == iso(-45)


def test_a_computed_amount_pasted_as_a_value_is_read_as_the_spreadsheet_shows_it(client, region):
    # A formula pasted as values (as the formula refusal asks) keeps the binary float Excel
    # computed: =650,10*3 is stored as 1950.3000000000002, and a count as 3.0000000000000004,
    # while Excel, which counts in 15 significant digits, shows 1950,3 and 3.
    amount, children = 650.1 * 3, 0.1 * 3 * 10
    assert repr(amount) == "1950.3000000000002" and repr(children) == "3.0000000000000004"
    row = case_row("K-1", Volwassenen=2, Kinderen=children, **{"Belastbaar jaarinkomen": amount})
    content = stored_as_excel_does(xlsx(table([row])), {"F2": children, "H2": amount})
    response = store_cases(client, region, content)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    [case] = _cases(client, region.care_provider)
    assert float(case["income"]["annual_taxable"]) == 1950.3
    assert case["household"]["children"] == 3


def test_the_same_idempotency_key_replays_the_first_answer(client, region):
    content = xlsx(table([case_row("K-1")]))
    headers = {**region.care_provider.headers, "Idempotency-Key": "import-1"}
    params = {"table_id": region.table_id, "dry_run": False}
    first = upload(client, CASES, content, headers, **params)
    replay = upload(client, CASES, content, headers, **params)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()
    other = upload(client, CASES, xlsx(table([case_row("K-2")])), headers, **params)
    assert_problem(other, 422, "idempotency_key_reused")


def test_a_replayed_import_report_is_logged_as_a_read_of_the_cases_it_names(client, region):
    """The report names the cases by id: its replay for an `Idempotency-Key` shows them again,
    an access to each case file like the import itself, so it is logged as a read."""
    content = xlsx(table([case_row("K-1"), case_row("K-2")]))
    headers = {**region.care_provider.headers, "Idempotency-Key": "import-log"}
    params = {"table_id": region.table_id, "dry_run": False}
    first = upload(client, CASES, content, headers, **params)
    assert first.status_code == 200, first.text
    replay = upload(client, CASES, content, headers, **params)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    for item in replay.json()["items"]:
        assert _logged_by_import(client, region, item["id"]) == ["create", "read"], item


def _logged_by_import(client, region, case_id: str) -> list[str]:
    """The actions the case's access log holds from the import endpoint, oldest first (the
    chair reads the table's log)."""
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case_id},
        headers=region.chair.headers,
    ).json()["items"]
    return [e["action"] for e in log if e["endpoint"] == "POST /v1/cases/imports"]


def test_a_returning_clients_row_updates_the_open_case_and_never_registers_one(client, region):
    """A returning client's reference names two cases: the closed one and the open one that
    follows it. A row updates the open case; a row under a closed case's reference (a file
    re-imported after the client was housed) registers nobody again."""
    cp = region.care_provider
    closed = create_case(client, cp, region.table_id, external_ref="K-1")
    withdrawn = {"status": "withdrawn", "status_reason": "own_solution"}
    assert client.patch(f"/v1/cases/{closed['id']}", json=withdrawn, headers=cp.headers).is_success
    content = xlsx(table([case_row("K-1", Urgentie="ja")]))
    before = upload(client, CASES, content, cp.headers, table_id=region.table_id, dry_run=False)
    assert [i["code"] for i in before.json()["issues"]] == ["case_closed"]
    returned = create_case(
        client, cp, region.table_id, external_ref="K-1", previous_case_id=closed["id"]
    )
    after = upload(client, CASES, content, cp.headers, table_id=region.table_id, dry_run=False)
    assert after.status_code == 200, after.text
    assert (after.json()["created"], after.json()["updated"]) == (0, 1)
    cases = {c["id"]: c for c in _cases(client, cp)}
    assert (cases[returned["id"]]["urgency"], cases[closed["id"]]["urgency"]) == (True, False)


def test_a_refused_import_names_no_stored_case_and_logs_no_read_of_one(client, region):
    """The API's refusal lists the problems, not the rows: the stored case a row names is not
    shown, so not logged (the page, which lists the rows, logs them)."""
    first = store_cases(client, region, xlsx(table([case_row("K-1")])))
    assert first.status_code == 200, first.text
    [stored] = first.json()["items"]

    refused = store_cases(
        client, region, xlsx(table([case_row("K-1"), case_row("K-2", Volwassenen=3)]))
    )

    assert_problem(refused, 400, "import_rejected")
    assert stored["id"] not in refused.text
    assert _logged_by_import(client, region, stored["id"]) == ["create"]
