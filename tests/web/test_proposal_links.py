"""The proposal page links the case's and the dwelling's pages for whom they open, and only
for them: each link shown answers that person with a page, none leads to a 404."""

import re

from tests.api.test_actions_of_a_moved_case import move_to_a_second_table
from tests.web.conftest import chairs_the_table, make_person, signed_in


def _links(browser, proposal_id: str) -> set[str]:
    """The case and dwelling pages the proposal page links, each checked to open (200)."""
    page = browser.get(f"/voorstellen/{proposal_id}")
    assert page.status_code == 200, page.text
    links = set(re.findall(r'href="(/(?:dossiers|woningen)/[^"]+)"', page.text))
    for link in links:
        assert browser.get(link).status_code == 200, link
    return links


def test_each_party_is_linked_to_the_pages_it_may_read(app, client, region, published, chair):
    """The corporation was shown its own dwelling and the case's profile as plain text, though
    both pages open for it; the care provider gets its case, not the dwelling (a 404 for it)."""
    case, dwelling = f"/dossiers/{published.case_id}", f"/woningen/{published.vacancy_id}"
    corporation = signed_in(app, make_person(client, region.corporation))
    assert _links(corporation, published.proposal_id) == {case, dwelling}
    assert "profiel</a>" in corporation.get(f"/voorstellen/{published.proposal_id}").text
    provider = signed_in(app, make_person(client, region.care_provider))
    assert provider.get(dwelling).status_code == 404
    assert _links(provider, published.proposal_id) == {case}
    for person in (chair, make_person(client, region.municipality)):
        assert _links(signed_in(app, person), published.proposal_id) == {case, dwelling}


def test_a_corporation_chairing_the_table_reads_the_cases_its_pages_link(
    app, client, region, published
):
    """A corporation that chairs the table reads every case of it through the API, and its
    agenda and proposal pages (the chair's view) link each case; but the case page showed a
    corporation only the cases proposed for its own dwellings, so each link was a 404. It now
    shows the chair the whole file, as its key reads it; the dwelling (its table's) opens too."""
    chairs_the_table(client, region, region.other_corporation)
    other = signed_in(app, make_person(client, region.other_corporation, "chair"))
    case, dwelling = f"/dossiers/{published.case_id}", f"/woningen/{published.vacancy_id}"
    assert _links(other, published.proposal_id) == {case, dwelling}
    agenda = other.get(f"/vergaderingen/{published.meeting_id}").text
    assert f'href="{case}"' in agenda
    page = other.get(case).text
    assert "Het dossier" in page and "alleen het profiel" not in page
    api = client.get(f"/v1/cases/{published.case_id}", headers=region.other_corporation.headers)
    assert api.status_code == 200, api.text
    # A corporation that does not chair still reads only the profile of its own proposal's case.
    mine = signed_in(app, make_person(client, region.corporation)).get(case).text
    assert "alleen het profiel" in mine and "Het dossier" not in mine


def test_the_table_a_case_left_is_not_linked_to_it(app, client, region, published, chair):
    """A case moved on to another table once its proposal was withdrawn is no longer the first
    table's to read (its page a 404 there); the chair's page of that proposal linked it all
    the same. The care provider keeps its link."""
    withdrawn = client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "withdraw", "reason": "table_decision"},
        headers=region.chair.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    move_to_a_second_table(client, region, published.case_id)
    browser = signed_in(app, chair)
    assert browser.get(f"/dossiers/{published.case_id}").status_code == 404
    assert _links(browser, published.proposal_id) == {f"/woningen/{published.vacancy_id}"}
    provider = signed_in(app, make_person(client, region.care_provider))
    assert _links(provider, published.proposal_id) == {f"/dossiers/{published.case_id}"}
