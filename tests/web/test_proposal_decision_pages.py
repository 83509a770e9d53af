"""Decisions on the proposal page by the parties themselves, also at a table one of them chairs."""

from tests.clock import iso
from tests.conftest import create_case, create_vacancy, seed_org, seed_table
from tests.web.conftest import DATE, make_person, post_form, signed_in


def test_a_member_of_a_corporation_chairing_the_table_decides_for_its_own_dwelling(
    app, client, session
):
    """A corporation may chair the table (README: chair of a table, any kind). Its people with
    the member role record what the corporation decides on its own dwelling's proposals
    (accept, decline, plan the viewing, sign, house), as at a table it does not chair; only
    the chair's own work (nominate, withdraw) asks for the chair role."""
    corporation = seed_org(session, "housing_corporation")
    provider = seed_org(session, "care_provider")
    table_id = seed_table(session, corporation, [provider], ["GM0344"])
    create_case(client, provider, table_id)
    create_vacancy(client, corporation, available_from=DATE)
    meeting = client.post(
        f"/v1/tables/{table_id}/meetings", json={"date": DATE}, headers=corporation.headers
    ).json()
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=corporation.headers)
    assert published.status_code == 200, published.text
    listed = client.get(f"/v1/tables/{table_id}/proposals", headers=corporation.headers)
    [proposal] = listed.json()["items"]
    url = f"/voorstellen/{proposal['id']}"
    chair = signed_in(app, make_person(client, corporation, "chair"))
    nominated = post_form(chair, url + "/besluit", {"besluit": "nominate", "versie": "1"}, url)
    assert nominated.status_code == 303, nominated.text

    member = signed_in(app, make_person(client, corporation, "member"))
    page = member.get(url)
    assert page.status_code == 200
    assert 'value="corporation_accept"' in page.text
    assert 'value="nominate"' not in page.text and 'value="withdraw"' not in page.text
    accepted = post_form(
        member, url + "/besluit", {"besluit": "corporation_accept", "versie": "2"}, url
    )
    assert accepted.status_code == 303, accepted.text
    viewing = post_form(
        member,
        url + "/besluit",
        {"besluit": "plan_viewing", "versie": "3", "bezichtiging": iso(0)},
        url,
    )
    assert viewing.status_code == 303, viewing.text
    api = client.get(f"/v1/proposals/{proposal['id']}", headers=corporation.headers).json()
    assert api["status"] == "viewing_planned"
    # The chair's own decision still asks for the chair role.
    withdrawn = post_form(
        member,
        url + "/besluit",
        {"besluit": "withdraw", "reden": "other", "versie": "4"},
        url,
    )
    assert withdrawn.status_code == 403, withdrawn.text
    assert "Dit doet iemand met de rol voorzitter." in withdrawn.text


def test_a_withdrawal_without_a_reason_says_the_reason_is_not_filled_in(
    app, client, region, published, chair
):
    browser = signed_in(app, chair)
    url = f"/voorstellen/{published.proposal_id}"
    sent = post_form(browser, url + "/besluit", {"besluit": "withdraw", "versie": "1"}, url)
    assert sent.status_code == 400, sent.text
    assert "Niet ingevuld: Reden." in sent.text and "Ongeldige invoer" not in sent.text


def test_a_municipality_that_does_not_chair_is_refused_before_its_decision_form_is_read(
    app, client, region, published
):
    """A member municipality takes no decision on any proposal (README: the chair, the
    corporation, the care provider). Its person sending the decision form with the decision
    left out, or one that does not exist, was told which field was wrong (400), and only once
    a real decision was chosen that it may take none (403; found posting every page form as
    each organisation on the demo). Every form of it is now a 403, and nothing is recorded."""
    browser = signed_in(app, make_person(client, region.municipality))
    url = f"/voorstellen/{published.proposal_id}"
    for data in ({}, {"besluit": "zzz"}, {"besluit": ""}, {"besluit": "nominate", "versie": "1"}):
        refused = post_form(browser, url + "/besluit", data, url)
        assert refused.status_code == 403, (data, refused.text)
        assert "Ongeldige invoer" not in refused.text and "Niet ingevuld" not in refused.text
    shown = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert shown.json()["status"] == "proposed" and shown.json()["decisions"] == []


def test_who_may_not_take_a_decision_is_refused_before_its_fields_are_judged(
    app, client, region, published
):
    """A member municipality (which decides nothing) or a party posting another party's
    decision, with fields the form cannot read, got the proposal page again with 400 and the
    wrong fields marked (the API answers 403 before it judges the body): only the party that
    takes the decision is told what is wrong beside its fields. Another table member's
    organisation does not see the proposal at all (404)."""
    url = f"/voorstellen/{published.proposal_id}"
    unreadable = {"bezichtiging": "31-12-2027", "verhuisdatum": "morgen", "versie": "1"}
    refused = [
        (region.municipality, {"besluit": "nominate", "reden": "zzz"}),
        (region.municipality, {"besluit": "zzz"}),
        (region.corporation, {"besluit": "client_decline", "reden": "zzz"}),
        (region.care_provider, {"besluit": "corporation_accept", "contractvorm": "zzz"}),
        (region.care_provider, {"besluit": "withdraw", "reden": "zzz"}),
    ]
    for org, sent in refused:
        browser = signed_in(app, make_person(client, org))
        response = post_form(browser, url + "/besluit", unreadable | sent, url)
        assert response.status_code == 403, (org.kind, sent, response.status_code)
        assert "field-error" not in response.text and "Niet (goed) ingevuld" not in response.text
    for org in (region.other_corporation, region.other_care_provider):
        browser = signed_in(app, make_person(client, org))
        sent = unreadable | {"besluit": "plan_viewing"}
        assert post_form(browser, url + "/besluit", sent, "/account").status_code == 404
    browser = signed_in(app, make_person(client, region.care_provider))
    sent = unreadable | {"besluit": "client_decline", "reden": "zzz"}
    response = post_form(browser, url + "/besluit", sent, url)
    assert response.status_code == 400, response.text
    assert 'id="reden-client_decline-fout"' in response.text
    stored = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert stored.json()["decisions"] == []
