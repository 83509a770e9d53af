"""An agenda in a year without limits of its own says so on the page, in the PDF and in the
CSV (in Dutch), and so does the why-not page."""

import csv
import io
from datetime import date, timedelta

from tests.api.test_limits_fallback import a_pair, first_day_without_limits, known_years
from tests.clock import TODAY
from tests.conftest import OPERATOR, writable_limits
from tests.pdf import pdf_text
from tests.web.conftest import signed_in


def meeting_on(client, region, day) -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": day.isoformat()},
        headers=region.chair.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_the_agenda_page_warns_that_it_uses_an_earlier_years_limits(app, client, region, chair):
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    meeting_id = meeting_on(client, region, day)
    page = signed_in(app, chair).get(f"/vergaderingen/{meeting_id}")
    assert page.status_code == 200, page.text
    assert f"Let op: grenzen van {latest}." in page.text
    assert f"Voor {day.year} zijn nog geen wettelijke grenzen ingevoerd" in page.text


def test_an_agenda_with_its_own_years_limits_shows_no_warning(app, client, region, chair):
    latest = known_years(client, region.chair)[-1]
    meeting_id = meeting_on(client, region, date(latest, 12, 1))
    page = signed_in(app, chair).get(f"/vergaderingen/{meeting_id}")
    assert page.status_code == 200
    assert "Let op: grenzen van" not in page.text


def test_the_csv_names_the_limits_it_used(app, client, region, chair):
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    meeting_id = meeting_on(client, region, day)
    text = signed_in(app, chair).get(f"/vergaderingen/{meeting_id}/agenda.csv").content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    limits = [r for r in rows if r[:2] == ["agenda", "grenzen"]]
    assert len(limits) == 1
    assert limits[0][2].startswith("Let op: Voor")
    assert f"rekent met die van {latest}" in limits[0][2]


def test_the_pdf_prints_the_warning(app, client, region, chair):
    day = first_day_without_limits(client, region.chair)
    meeting_id = meeting_on(client, region, day)
    pdf = signed_in(app, chair).get(f"/vergaderingen/{meeting_id}/agenda.pdf")
    assert pdf.status_code == 200
    assert b"(Let op: Voor " + str(day.year).encode() in pdf_text(pdf.content)


def test_the_why_not_page_warns_too(app, client, region, chair):
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    case, vacancy = a_pair(client, region, day)
    meeting_id = meeting_on(client, region, day)
    page = signed_in(app, chair).get(
        f"/vergaderingen/{meeting_id}/waarom-niet",
        params={"dossier": case["id"], "woning": vacancy["id"]},
    )
    assert page.status_code == 200, page.text
    assert f"Let op: grenzen van {latest}." in page.text


def test_the_case_and_dwelling_pages_warn_when_their_meeting_uses_an_earlier_years_limits(
    app, client, region, chair
):
    """The case and dwelling pages count the dwellings each rule excludes (rent_above_cap
    among them) and rank the fitting ones on the next meeting date; in a year without limits
    of its own they used the earlier year's figures without a word, where the agenda and
    why-not pages of the same meeting warn."""
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    case, vacancy = a_pair(client, region, day)
    meeting_on(client, region, day)
    browser = signed_in(app, chair)
    for path in (f"/dossiers/{case['id']}", f"/woningen/{vacancy['id']}"):
        page = browser.get(path)
        assert page.status_code == 200, page.text
        assert f"Let op: grenzen van {latest}." in page.text, path
        assert f"Voor {day.year} zijn nog geen wettelijke grenzen ingevoerd" in page.text


def test_the_case_list_warns_when_its_standings_use_an_earlier_years_limits(
    app, client, region, chair
):
    """The list shows each case's blocking reasons or fitting dwellings on its table's next
    meeting date, as the case page does, and said as little about the limits it used."""
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    a_pair(client, region, day)
    meeting_on(client, region, day)
    page = signed_in(app, chair).get("/dossiers")
    assert page.status_code == 200, page.text
    assert f"Let op: grenzen van {latest}." in page.text


def test_the_case_page_shows_no_warning_with_the_meetings_own_limits(app, client, region, chair):
    # The page stands on the next meeting's date, so the meeting lies ahead of today, in a
    # year with limits of its own (copied from the latest known year when today's has none).
    day = TODAY + timedelta(days=7)
    years = known_years(client, region.chair)
    if day.year not in years:
        figures = client.get(f"/v1/limits/{years[-1]}", headers=OPERATOR).json()
        added = client.put(
            f"/v1/limits/{day.year}", json=writable_limits(figures), headers=OPERATOR
        )
        assert added.status_code == 201, added.text
    case, _ = a_pair(client, region, day)
    meeting_on(client, region, day)
    page = signed_in(app, chair).get(f"/dossiers/{case['id']}")
    assert page.status_code == 200
    assert "Let op: grenzen van" not in page.text
