"""The pages and exports print a corporation's agenda view: no score, case date or waiting time
of any case, and suppressed counts as "afgeschermd" (issue 10 item 6)."""

import csv
import io

import pytest

from tests.web.conftest import make_person, signed_in
from tests.web.test_limits_pages import pdf_text

CASE_COLUMNS = ("Score", "Opbouw van de score", "Klaar sinds", "Dagen wachtend", "Voorgegaan")


@pytest.mark.parametrize("corporation", ["corporation", "other_corporation"])
def test_a_corporations_csv_has_no_case_detail_column(app, client, region, published, corporation):
    browser = signed_in(app, make_person(client, getattr(region, corporation)))
    response = browser.get(f"/vergaderingen/{published.meeting_id}/agenda.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    cells = {cell for row in rows for cell in row}
    assert not cells & set(CASE_COLUMNS)
    proposals = [r for r in rows if r and r[0] == "voorstellen"]
    own = corporation == "corporation"  # the published proposal is in its dwelling
    assert [(r[1], r[2]) for r in proposals] == (
        [(published.case_id, published.vacancy_id)] if own else []
    )


def test_a_corporations_pdf_and_proposal_page_show_no_score(app, client, region, published, chair):
    whole = signed_in(app, chair).get(f"/vergaderingen/{published.meeting_id}/agenda.pdf")
    assert b"(Score)" in pdf_text(whole.content)  # what the table view prints
    browser = signed_in(app, make_person(client, region.corporation))
    pdf = browser.get(f"/vergaderingen/{published.meeting_id}/agenda.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.content)
    assert b"(Score)" not in text and b"Dagen wachtend" not in text
    # One case at the table: the count of cases ready is suppressed.
    assert b"afgeschermd" in text
    page = browser.get(f"/voorstellen/{published.proposal_id}")
    assert page.status_code == 200
    assert "<dt>Score</dt>" not in page.text


def test_a_corporations_agenda_says_its_summary_counts_the_whole_table(
    app, client, region, published
):
    corporation = signed_in(app, make_person(client, region.corporation))
    url = f"/vergaderingen/{published.meeting_id}"
    section = corporation.get(url).text.split('id="samenvatting"', 1)[1].split("</section>")[0]
    assert "De samenvatting telt de hele tafel, niet alleen uw deel" in section
    csv = corporation.get(url + "/agenda.csv").content.decode("utf-8-sig")
    assert "De samenvatting telt de hele tafel" in csv
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    assert "De samenvatting telt de hele tafel" not in chair.get(url).text


def test_a_care_providers_agenda_does_not_say_no_one_was_passed_over(
    app, client, region, published, chair
):
    # A care provider's view lists only its own cases passed over for a proposal; its page
    # said "niemand" when none of them was, as if no other provider's case had been either.
    url = f"/vergaderingen/{published.meeting_id}"
    provider = signed_in(app, make_person(client, region.care_provider))

    def row(browser):  # type: ignore[no-untyped-def]
        page = browser.get(url).text
        return page.split('<table class="proposals">', 1)[1].split('id="openstaand"', 1)[0]

    assert "geen van uw dossiers" in row(provider) and "niemand" not in row(provider)
    assert "niemand" in row(signed_in(app, chair))
    csv_text = provider.get(url + "/agenda.csv").content.decode("utf-8-sig")
    [line] = [r for r in csv_text.splitlines() if r.startswith("voorstellen;")]
    assert ";geen van uw dossiers;" in line
    assert b"(geen van uw dossiers)" in pdf_text(provider.get(url + "/agenda.pdf").content)


def test_an_agenda_without_proposals_in_the_viewers_share_does_not_say_there_are_none(
    app, client, region, published
):
    """The agenda had a proposal (care_provider's case, corporation's dwelling), yet another
    care provider or corporation, with no part in it, read 'Er zijn geen voorstellen.': it
    says their view holds none, as the agenda's other sections do."""
    for org in (region.other_care_provider, region.other_corporation):
        page = signed_in(app, make_person(client, org)).get(
            f"/vergaderingen/{published.meeting_id}"
        )
        assert page.status_code == 200, page.text
        assert "Er zijn geen voorstellen." not in page.text
        assert "Geen voorstellen in uw weergave." in page.text
