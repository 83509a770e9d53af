"""Issue 13's acceptance, tried as a region that starts on Monday would: its waiting list of a
few hundred clients, typed the way people type them (with the usual mistakes), comes in
through the import page and the API; a care provider's worker corrects a case by hand; and a
meeting cycle mails the people what it should, on a real SMTP server on loopback, without case
data. One committed database (the mail room's) carries the whole story, as a region's would."""

import re
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl.utils import get_column_letter

from app.agenda.stall_sweep import StallSweep
from app.mail.models import MailStatus
from app.main import create_app
from tests.api.helpers import assign_action, plan_meeting
from tests.clock import START, TODAY, day, iso
from tests.imports.sheets import case_row, csv_file, dwelling_row, nl, table, upload, xlsx
from tests.mail.conftest import Mailroom, case_data_in, make_region, text_of
from tests.web.conftest import csrf_of, make_person, signed_in

CLIENTS = 240  # the waiting list's rows
CASES = "/v1/cases/imports"
EXTRA = "Opmerkingen"  # the column people add for notes


def _waiting_list() -> list[dict[str, Any]]:
    """The region's clients as its coordinator keeps them: Dutch dates, amounts with a
    decimal comma and thousands dots, choices as the template's Dutch words."""
    return [
        case_row(
            f"BW-{n:04d}",
            **{
                "Klaar voor uitstroom sinds": nl(day(-30 - n)),
                "Belastbaar jaarinkomen": f"{15_000 + 7 * n:,}".replace(",", ".") + ",50",
                "Geboortejaar": TODAY.year - 25 - n % 40,
            },
        )
        for n in range(1, CLIENTS + 1)
    ]


def _with_mistakes(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[tuple]]:
    """The list with the mistakes people make, and what the check must name for each:
    (sheet row, column, code). Sheet row 2 is the first client."""
    rows = [dict(r) for r in rows]
    since, income, born = "Klaar voor uitstroom sinds", "Belastbaar jaarinkomen", "Geboortejaar"
    serial = (day(-90) - date(1899, 12, 30)).days
    mistakes: dict[tuple[int, str], tuple[Any, str]] = {
        (11, since): (f"31-02-{TODAY.year}", "not_a_date"),  # a day that does not exist
        (21, since): (serial, "excel_serial_date"),  # the cell lost its date format
        (31, income): ("1.250", "ambiguous_amount"),  # thousand or one and a quarter?
        (41, born): (f"={TODAY.year}-35", "formula"),  # a calculated cell
        (51, "Volwassenen"): (3, "less_than_equal"),  # more adults than a household holds
        (61, "Begeleiding"): (None, "missing"),  # left empty
    }
    for (line, column), (value, _) in mistakes.items():
        rows[line - 2][column] = value
    return rows, {(line, column, code) for (line, column), (_, code) in mistakes.items()}


def _cell(headers: list[str], line: int, column: str) -> str:
    return f"{get_column_letter(headers.index(column) + 1)}{line}"


def _send(browser: TestClient, content: bytes, step: str, table_id: str, name: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_of(browser, "/inlezen"), "stap": step, "tafel": table_id}
    return browser.post("/inlezen", data=data, files={"bestand": (name, content)})


def _issue_rows(html: str) -> set[tuple[str, str]]:
    """(column, cell) of each problem the page lists."""
    return set(re.findall(r"<td>([^<]+)</td><td>([A-Z]+[0-9]+)</td><td>", html))


def _issue_count(html: str) -> int:
    return len(re.findall(r"<td>[^<]+</td><td>[A-Z]+[0-9]+</td><td>", html))


class _Form(HTMLParser):
    """What a browser posts for the page's form with `action`: its inputs as shown, the
    chosen option of each select, the checked checkboxes (a name may repeat)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, ""
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a.get("name", "")
        elif tag == "option" and "selected" in a and self.select:
            self.fields.append((self.select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = ""


def _form_of(html: str, action: str) -> dict[str, list[str]]:
    form = _Form(action)
    form.feed(html)
    assert form.fields, f"no form posting to {action}"
    fields: dict[str, list[str]] = {}
    for name, value in form.fields:
        fields.setdefault(name, []).append(value)
    return fields


def _versions(client: TestClient, org: Any) -> dict[str, int]:
    """Every case of `org`: its version by its own reference."""
    found: dict[str, int] = {}
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/v1/cases", params=params, headers=org.headers).json()
        found |= {c["external_ref"]: c["version"] for c in page["items"]}
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


@pytest.fixture
def region_app(mailroom: Mailroom) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(mailroom.settings, engine=mailroom.main)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def test_a_region_brings_its_list_in_corrects_a_case_and_hears_of_its_meeting_by_mail(
    mailroom: Mailroom, region_app: tuple[FastAPI, TestClient]
) -> None:
    app, client = region_app
    region = make_region(client)
    care = make_person(client, region.care_provider)
    corporation = make_person(client, region.corporation)
    chair = make_person(client, region.chair, "chair")
    browser = signed_in(app, care)
    clients = _waiting_list()
    headers = [*clients[0], EXTRA]

    # 1. The first try: a notes column nobody asked for, and the title merged over two cells.
    #    The whole file is refused with both named, in Dutch, and nothing is stored.
    noted = [{**r, EXTRA: "belt graag 's ochtends"} for r in clients]
    first = _send(
        browser, xlsx(table(noted, headers), merge=["A1:B1"]), "controleren", region.table_id,
        "wachtlijst.xlsx",
    )  # fmt: skip
    assert first.status_code == 200, first.text
    assert "Er is niets opgeslagen" in first.text
    assert "geen namen, BSN" in first.text  # the notes column: why it may not come in
    assert "eigen kop" in first.text  # the merged header cell
    assert _versions(client, region.care_provider) == {}

    # 2. Notes column gone, header unmerged: the check names every bad cell (row, column,
    #    reason in Dutch), on the page and through the API, and stores nothing.
    rows, expected = _with_mistakes(clients)
    headers = headers[:-1]
    lines = [*table(rows, headers), [None] * len(headers), [None] * len(headers)]
    checked = _send(browser, xlsx(lines), "controleren", region.table_id, "wachtlijst.xlsx")
    assert checked.status_code == 200, checked.text
    assert f"{len(expected)} fouten gevonden" in checked.text
    assert _issue_rows(checked.text) == {(c, _cell(headers, n, c)) for n, c, _ in expected}
    assert _issue_count(checked.text) == len(expected)  # each named once
    for dutch in ("bestaat niet", str(day(-90).year), "Plak de kolom als waarden"):
        assert dutch in checked.text
    stored = _send(browser, xlsx(lines), "inlezen", region.table_id, "wachtlijst.xlsx")
    assert stored.status_code == 400  # all or nothing: one bad cell keeps every row out
    assert _versions(client, region.care_provider) == {}

    # The same list saved as "CSV UTF-8" by Excel: a BOM, semicolons, empty rows at the end.
    # A formula does not survive CSV (Excel writes its value), so that cell is right there.
    as_csv = [dict(r) for r in rows]
    as_csv[41 - 2]["Geboortejaar"] = TODAY.year - 35
    content = csv_file(table(as_csv, headers), bom=True) + b";;;\r\n\r\n"
    api = upload(
        client, CASES, content, region.care_provider.headers, "wachtlijst.csv",
        table_id=region.table_id,
    )  # fmt: skip
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["valid"] is False and body["rows"] == CLIENTS
    named = {(i["row"], i["column"], i["code"]) for i in body["issues"]}
    assert named == {e for e in expected if e[2] != "formula"}
    assert all(i["message"] for i in body["issues"])

    # 3. The corrected list comes in whole through the page; the same data again through the
    #    API changes nothing (every row unchanged, no version moved).
    corrected = _send(browser, xlsx(table(clients, headers)), "inlezen", region.table_id, "w.xlsx")
    assert corrected.status_code == 200, corrected.text
    assert f"{CLIENTS} nieuw, 0 gewijzigd, 0 ongewijzigd" in corrected.text
    before = _versions(client, region.care_provider)
    assert len(before) == CLIENTS and set(before.values()) == {1}
    again = upload(
        client, CASES, csv_file(table(clients, headers)), region.care_provider.headers,
        "wachtlijst.csv", table_id=region.table_id, dry_run=False,
    )  # fmt: skip
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"]) == (0, CLIENTS)
    assert _versions(client, region.care_provider) == before

    # 4. A worker corrects a case by hand on the page; a form shown before that change is
    #    refused (412) and loses nothing.
    [case] = client.get(
        "/v1/cases", params={"externalRef": "BW-0007"}, headers=region.care_provider.headers
    ).json()["items"]
    url = f"/dossiers/{case['id']}/bewerken"
    assert url in browser.get(f"/dossiers/{case['id']}").text  # the case page leads there
    shown = _form_of(browser.get(url).text, url)  # as the worker sees it, version included
    saved = browser.post(url, data={**shown, "household.children": ["1"]})
    assert saved.status_code == 303, saved.text
    refused = browser.post(url, data={**shown, "household.children": ["2"]})
    assert refused.status_code == 412
    assert "Iemand anders heeft dit dossier intussen gewijzigd" in refused.text
    now = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert (now["household"]["children"], now["version"]) == (1, 2)

    # 5. A meeting cycle: the corporation offers three dwellings (CSV through the API), the
    #    chair publishes tomorrow's agenda, decides one proposal on the day and hands the care
    #    provider an action; another proposal stalls; the digest goes out on the day.
    dwellings = [
        dwelling_row(f"W-{n}", **{"Beschikbaar vanaf": nl(day(-3)), "Huisnummer": str(n)})
        for n in (1, 2, 3)
    ]
    offered = upload(
        client, "/v1/vacancies/imports", csv_file(table(dwellings)),
        region.corporation.headers, "woningen.csv", dry_run=False,
    )  # fmt: skip
    assert offered.status_code == 200, offered.text
    chair_headers = region.chair.headers
    meeting = plan_meeting(client, region, iso(1))
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair_headers)
    assert published.status_code == 200, published.text
    listed = client.get(f"/v1/tables/{region.table_id}/proposals", headers=chair_headers)
    proposals = listed.json()["items"]
    assert len(proposals) >= 2, proposals
    decided, stalling = proposals[0], proposals[1]
    with time_machine.travel(START + timedelta(days=1), tick=True):
        nominate = {"decision": "nominate"}
        url = f"/v1/proposals/{decided['id']}/decisions"
        decision = client.post(url, json=nominate, headers=chair_headers)
        assert decision.status_code == 200, decision.text
        action = assign_action(client, region, region.care_provider, decided["case_id"])
        assert action.status_code == 201, action.text
        mailroom.send_due(rounds=2)
    with time_machine.travel(START + timedelta(days=9), tick=True):
        assert StallSweep(mailroom.main, interval=60).run_once() >= 1
        mailroom.send_due(rounds=2)

    received = mailroom.sink.received()
    subjects: dict[str, list[str]] = {}
    for mail in received:
        subjects.setdefault(mail["To"], []).append(mail["Subject"])
    stalled_code = "V-" + stalling["id"].replace("-", "")[-8:].upper()  # as its page names it
    for who in (care.email, corporation.email, chair.email):
        assert any(s.startswith("Agenda gepubliceerd") for s in subjects[who]), who
        assert any(s.startswith("Vergadering van") for s in subjects[who]), who
    assert any(s.startswith("Besluit over voorstel") for s in subjects[care.email])
    assert any(s.startswith("Nieuwe actie") for s in subjects[care.email])
    assert any(s == f"Voorstel {stalled_code} staat stil" for s in subjects[care.email])
    assert {row.status for row in mailroom.outbox()} == {MailStatus.sent.value}

    # None carries case data: no case id or reference, birth year, income or address.
    # Case and dwelling references, and the postcode's digits, are matched as word starts.
    starts = frozenset({"BW-0", "W-1", "W-2", "W-3", "3512"})
    secrets = {"Kastanjelaan", "16.250", "participatiewet"}
    for proposal in proposals:
        secrets |= {proposal["case_id"], proposal["vacancy_id"]}
    secrets |= {str(r["Geboortejaar"]) for r in clients[:10]}
    for mail in received:
        text = text_of(mail)
        assert case_data_in(text, secrets, starts) == set(), text
