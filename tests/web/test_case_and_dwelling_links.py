"""The agenda, dwelling and case pages link a case's or a dwelling's page where it opens for the
signed-in person's organisation, and only there: each link shown answers 200, none a 404."""

import re

from tests.web.conftest import chairs_the_table, make_person, signed_in


def _links(browser, page_path: str, kind: str) -> set[str]:
    """The `/dossiers/…` or `/woningen/…` pages `page_path` links, each checked to open."""
    page = browser.get(page_path)
    assert page.status_code == 200, page.text
    links = set(re.findall(rf'href="(/{kind}/[0-9a-f-]{{36}})"', page.text))
    for link in links:
        assert browser.get(link).status_code == 200, link
    return links


def test_the_corporation_agenda_links_its_own_proposals_case(app, client, region, published):
    """The corporation's agenda showed the case of a proposal for its own dwelling as plain
    text, though the case's profile page opens for it; now it is a link. The other corporation
    (no proposal, not chairing) gets no case link: each would be a 404."""
    agenda, case = f"/vergaderingen/{published.meeting_id}", f"/dossiers/{published.case_id}"
    corporation = signed_in(app, make_person(client, region.corporation))
    assert case in _links(corporation, agenda, "dossiers")
    other = signed_in(app, make_person(client, region.other_corporation))
    assert _links(other, agenda, "dossiers") == set()
    provider = signed_in(app, make_person(client, region.care_provider))
    assert case in _links(provider, agenda, "dossiers")


def test_the_dwelling_page_links_the_proposals_case(app, client, region, published, chair):
    """The dwelling page's "Voorstel … voor dossier D-…" (open proposal and timeline) named the
    case as plain text inside the proposal's link; the case is linked now for whom it opens."""
    dwelling, case = f"/woningen/{published.vacancy_id}", f"/dossiers/{published.case_id}"
    for person in (make_person(client, region.corporation), chair):
        browser = signed_in(app, person)
        assert case in _links(browser, dwelling, "dossiers")
        page = browser.get(dwelling).text
        assert f'voor dossier <a href="{case}">' in page


def test_a_care_provider_chairing_the_table_is_linked_to_the_dwellings(
    app, client, region, published
):
    """The case page hid every dwelling link from a care provider, though one that chairs the
    table opens the table's dwelling pages; it now links those that open, and still none for a
    care provider that does not chair (each a 404)."""
    case, dwelling = f"/dossiers/{published.case_id}", f"/woningen/{published.vacancy_id}"
    provider = signed_in(app, make_person(client, region.care_provider))
    assert provider.get(dwelling).status_code == 404
    assert _links(provider, case, "woningen") == set()
    chairs_the_table(client, region, region.care_provider)
    chairing = signed_in(app, make_person(client, region.care_provider, "chair"))
    assert dwelling in _links(chairing, case, "woningen")
