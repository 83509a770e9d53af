"""A date a page's form cannot read says how a date is written, in Dutch, where the person
typed it. A browser without a date picker shows a date field as a text box, where a Dutch
person types 31-12-2027 (the field takes 2027-12-31); the meeting form then said only 'Vul een
geldige datum in.', and the action, decision and aftercare forms only named the field, while
the monitor's days and the case and dwelling forms (dd-mm-jjjj) say how."""

import html
import re

import pytest

from app.web.query_values import DATE_RULE
from tests.clock import iso
from tests.web.conftest import make_person, post_form, signed_in

# As a person types it without a date picker, a day that does not exist, a year of two digits.
TYPED = ["31-12-2027", "2027-02-30", "1-1-27"]


def said(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text, as a screen reader reads it."""
    main = response.text.split("<main", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


@pytest.mark.parametrize("typed", TYPED)
def test_a_meeting_date_the_form_cannot_read_says_how_a_date_is_written(  # type: ignore[no-untyped-def]
    app, client, region, chair, typed
):
    """Beside the field, which keeps what was typed: it showed today's date instead, so the
    next click planned a meeting today."""
    browser = signed_in(app, chair)
    table = f"/tafels/{region.table_id}"
    response = post_form(browser, f"{table}/vergaderingen", {"datum": typed}, table)
    assert response.status_code == 400, response.text
    error = re.search(r'<p class="field-error" id="datum-fout">([^<]*)</p>', response.text)
    assert error and DATE_RULE in html.unescape(error.group(1)), response.text
    assert f'value="{typed}"' in response.text


@pytest.mark.parametrize("typed", TYPED)
def test_an_action_date_the_form_cannot_read_says_how_a_date_is_written(  # type: ignore[no-untyped-def]
    app, client, region, chair, typed
):
    browser = signed_in(app, chair)
    table = f"/tafels/{region.table_id}"
    sent = {"soort": "other", "eigenaar": region.chair.id, "uiterlijk": typed}
    response = post_form(browser, f"{table}/acties", sent, table)
    assert response.status_code == 400, response.text
    assert f"Niet (goed) ingevuld: Uiterlijk klaar op. {DATE_RULE}" in said(response)


@pytest.mark.parametrize(
    ("decision", "key", "label"),
    [
        ("plan_viewing", "bezichtiging", "Datum van de bezichtiging"),
        ("house", "verhuisdatum", "Verhuisdatum"),
    ],
)
def test_a_decisions_date_the_form_cannot_read_says_how_a_date_is_written(  # type: ignore[no-untyped-def]
    app, client, region, published, decision, key, label
):
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/voorstellen/{published.proposal_id}"
    sent = {"besluit": decision, key: "31-12-2027", "contractvorm": "own_lease", "versie": "1"}
    response = post_form(browser, f"{url}/besluit", sent, url)
    assert response.status_code == 400, response.text
    assert f"Niet (goed) ingevuld: {label}. {DATE_RULE}" in said(response)


AFTERCARE = [
    # (who, form, what it sends beside its date, the date's field, its name in the message)
    ("care_provider", "afspraak", {"begeleiding": "moderate", "contact": "fortnightly"}, "start",
     "startdatum"),
    ("care_provider", "afspraak", {"begeleiding": "moderate", "contact": "fortnightly"}, "einde",
     "geplande einddatum"),
    ("care_provider", "controle", {"maanden": "3", "woont_er": "ja", "begeleiding_loopt": "ja"},
     "datum", "datum van de controle"),
    ("corporation", "omklap", {}, "gepland", "geplande omklapdatum"),
    ("corporation", "overdracht", {}, "datum", "datum van de omklap"),
    ("corporation", "einde", {"reden": "moved_on"}, "datum", "einddatum"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "form", "sent", "key", "name"), AFTERCARE)
def test_an_aftercare_date_the_form_cannot_read_says_how_a_date_is_written(  # type: ignore[no-untyped-def]
    app, client, region, housed, who, form, sent, key, name
):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, getattr(region, who)))
    page = f"/dossiers/{case_id}/nazorg"
    dates = {"start": iso(-100), "einde": ""} if form == "afspraak" else {}
    extra = {"organisatie": region.care_provider.id, "versie": "nieuw"} if dates else {}
    fields = {"versie": "1"} | extra | sent | dates | {key: "31-12-2027"}
    response = post_form(browser, f"{page}/{form}", fields, page)
    assert response.status_code == 400, response.text
    assert f"Niet (goed) ingevuld: {name}. {DATE_RULE}" in said(response)


@pytest.mark.parametrize("typed", ["2207-01-31", "0027-01-31"])
def test_a_date_in_a_year_the_pages_do_not_take_names_the_years_they_do(  # type: ignore[no-untyped-def]
    app, client, region, chair, typed
):
    """A year typed wrong (2207 for 2027) is written as the rule asks, jaar-maand-dag: the page
    said only to write it so, and the person, who had, did not see what to change."""
    browser = signed_in(app, chair)
    table = f"/tafels/{region.table_id}"
    sent = {"soort": "other", "eigenaar": region.chair.id, "uiterlijk": typed}
    response = post_form(browser, f"{table}/acties", sent, table)
    assert response.status_code == 400, response.text
    assert "in de jaren 1900 tot en met 2100" in said(response)
    monitor = browser.get(f"{table}/monitor", params={"tot": typed})
    assert monitor.status_code == 400, monitor.text
    assert "in de jaren 1900 tot en met 2100" in said(monitor)
