"""The pages name the rules that exclude a case's dwellings (or a dwelling's cases) without
their counts outside the table view: a rule of the client alone excludes every dwelling, so its
count was the number of dwellings taking part, which the agenda's restricted summary hides."""

import csv
import io

import pytest

from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import make_person, signed_in

NO_BESCHIKKING = "Wmo-beschikking ontbreekt"
TOO_LATE = "Niet op tijd beschikbaar"
TOO_SMALL = "Aantal kamers past niet bij het huishouden"
REASONS = f"{NO_BESCHIKKING}; {TOO_LATE}; {TOO_SMALL}"  # 5, 1, 1 dwellings: ties by code


@pytest.fixture
def blocked(client, region):
    """Today's meeting; a case of the care provider without a beschikking (every one of the
    five dwellings excluded), too small for one of them; one dwelling available too late."""
    for _ in range(3):
        create_vacancy(client, region.corporation)
    create_vacancy(client, region.other_corporation, rooms=6)
    late = create_vacancy(client, region.corporation, available_from=iso(400))
    create_case(client, region.other_care_provider, region.table_id)
    case = create_case(
        client, region.care_provider, region.table_id, beschikking={"status": "none"}
    )
    meeting = plan_meeting(client, region, iso())
    return case, late, meeting


def csv_cells(browser, meeting):
    response = browser.get(f"/vergaderingen/{meeting['id']}/agenda.csv")
    assert response.status_code == 200
    rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
    return {cell for row in rows for cell in row}


def test_a_care_providers_agenda_names_the_excluding_rules_without_counts(
    app, client, region, blocked, chair
):
    _, _, meeting = blocked
    provider = signed_in(app, make_person(client, region.care_provider))
    page = provider.get(f"/vergaderingen/{meeting['id']}").text
    assert f"Uitgesloten woningen: {REASONS}." in page
    assert f"{NO_BESCHIKKING}: 5" not in page
    cells = csv_cells(provider, meeting)
    assert REASONS in cells
    assert not any(f"{NO_BESCHIKKING}:" in cell for cell in cells)
    # Nor is its column headed as counts per reason ("per reden"), as the table's is.
    assert "Redenen waarom woningen niet passen" in cells
    assert "Uitgesloten woningen per reden" not in cells
    table = csv_cells(signed_in(app, chair), meeting)
    assert any(f"{NO_BESCHIKKING}: 5" in cell for cell in table)
    assert "Uitgesloten woningen per reden" in table


def test_a_care_providers_case_pages_do_not_give_away_how_many_dwellings_take_part(
    app, client, region, blocked, chair
):
    case, _, _ = blocked
    provider = signed_in(app, make_person(client, region.care_provider))
    page = provider.get(f"/dossiers/{case['id']}").text
    assert f"Uitgesloten woningen: {REASONS}." in page
    assert "Sluit uit" not in page
    listed = provider.get("/dossiers").text.split(f'href="/dossiers/{case["id"]}"', 1)[1]
    assert f"Geen passende woning: {REASONS}</td>" in listed.split("</tr>", 1)[0]
    whole = signed_in(app, chair).get(f"/dossiers/{case['id']}").text
    assert "Sluit uit" in whole
    assert f'{NO_BESCHIKKING}</th><td class="num">5</td>' in whole


def test_a_corporations_dwelling_page_does_not_give_away_how_many_cases_are_ready(
    app, client, region, blocked, chair
):
    _, late, _ = blocked
    corporation = signed_in(app, make_person(client, region.corporation))
    page = corporation.get(f"/woningen/{late['id']}").text
    assert "Sluit uit" not in page
    assert 'class="num">2<' not in page
    whole = signed_in(app, chair).get(f"/woningen/{late['id']}").text
    assert f'{TOO_LATE}</th><td class="num">2</td>' in whole
