"""Open proposals of earlier meetings on the agenda page, its PDF and its CSV; and the exports'
open actions and current proposal status."""

import csv
import io
from datetime import timedelta

import time_machine

from tests.api.test_open_proposals import two_open_proposals
from tests.clock import START, iso
from tests.web.conftest import make_person, signed_in
from tests.web.test_limits_pages import pdf_text


def csv_rows(browser, meeting_id):  # type: ignore[no-untyped-def]
    response = browser.get(f"/vergaderingen/{meeting_id}/agenda.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_the_agenda_page_shows_last_weeks_open_proposals_and_which_are_stalled(
    app, client, region, chair
):
    _, next_week, proposals = two_open_proposals(client, region)
    with time_machine.travel(START + timedelta(days=8), tick=True):
        browser = signed_in(app, chair)
        page = browser.get(f"/vergaderingen/{next_week}").text
        rows = csv_rows(browser, next_week)
        pdf = pdf_text(browser.get(f"/vergaderingen/{next_week}/agenda.pdf").content)
    section = page.split('id="openstaand"', 1)[1].split("</section>", 1)[0]
    assert all(f"/voorstellen/{p['id']}" in section for p in proposals)
    assert section.count("vastgelopen</strong>") == 2 and "Voorzitter" in section
    listed = [r for r in rows if r and r[0] == "openstaande_voorstellen"]
    assert sorted(r[1] for r in listed) == sorted(p["case_id"] for p in proposals)
    assert all(r[-1] == "vastgelopen" and r[-4] == "8" for r in listed)
    assert b"Openstaande voorstellen van eerdere vergaderingen" in pdf
    assert b"vastgelopen" in pdf


def test_a_care_provider_and_a_corporation_see_only_their_own_open_proposals(app, client, region):
    _, next_week, proposals = two_open_proposals(client, region)
    for org, owner in (
        (region.care_provider, "care_provider_id"),
        (region.other_corporation, "corporation_id"),
    ):
        browser = signed_in(app, make_person(client, org))
        rows = [r for r in csv_rows(browser, next_week) if r and r[0] == "openstaande_voorstellen"]
        assert [r[1] for r in rows] == [p["case_id"] for p in proposals if p[owner] == org.id]
        page = browser.get(f"/vergaderingen/{next_week}").text
        for p in proposals:
            assert (f"/voorstellen/{p['id']}" in page) == (p[owner] == org.id)


def test_the_pdf_lists_an_overdue_action_handed_out_after_publication(
    app, client, region, published, chair
):
    action = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": "request_beschikking",
            "owner_organisation_id": region.care_provider.id,
            "due_date": iso(-1),
            "meeting_id": published.meeting_id,
        },
        headers=region.chair.headers,
    )
    assert action.status_code == 201, action.text
    browser = signed_in(app, chair)
    pdf = pdf_text(browser.get(f"/vergaderingen/{published.meeting_id}/agenda.pdf").content)
    actions = pdf.split(b"(Openstaande acties nu)", 1)[1].split(b"(Wijzigingen sinds", 1)[0]
    assert b"(Wmo-beschikking" in actions and b"(Geen.)" not in actions
    rows = [r for r in csv_rows(browser, published.meeting_id) if r and r[0] == "acties"]
    assert len(rows) == 1 and rows[0][-1] == "ja"


def test_both_exports_show_the_proposals_current_status(app, client, region, published, chair):
    client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "nominate"},
        headers=region.chair.headers,
    )
    browser = signed_in(app, chair)
    [row] = [r for r in csv_rows(browser, published.meeting_id) if r and r[0] == "voorstellen"]
    assert row[-1] == "Voorgedragen"
    pdf = pdf_text(browser.get(f"/vergaderingen/{published.meeting_id}/agenda.pdf").content)
    assert b"Voorgedragen" in pdf
