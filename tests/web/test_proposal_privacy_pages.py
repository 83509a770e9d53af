"""On the pages too, a corporation sees the case profile only while the proposal is open."""

from tests.web.conftest import make_person, signed_in


def test_a_closed_proposal_shows_the_corporation_no_case_profile(app, client, region, published):
    corporation = signed_in(app, make_person(client, region.corporation))
    other = signed_in(app, make_person(client, region.other_corporation))
    proposal_url = f"/voorstellen/{published.proposal_id}"
    case_url = f"/dossiers/{published.case_id}"
    assert "Huishoudgrootte" in corporation.get(proposal_url).text
    assert "Huishoudgrootte" in corporation.get(case_url).text
    assert other.get(case_url).status_code == 404
    withdrawn = client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "withdraw", "reason": "table_decision"},
        headers=region.chair.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    page = corporation.get(proposal_url)
    assert page.status_code == 200
    assert (
        "Huishoudgrootte" not in page.text and "alleen zolang het voorstel openstaat" in page.text
    )
    case_page = corporation.get(case_url)
    assert case_page.status_code == 200
    assert "Huishoudgrootte" not in case_page.text and "niet meer zichtbaar" in case_page.text
    assert other.get(case_url).status_code == 404
    # The care provider still sees the profile section of its own case's proposal.
    provider = signed_in(app, make_person(client, region.care_provider))
    assert "Huishoudgrootte" in provider.get(proposal_url).text
