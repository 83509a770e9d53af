"""The small things a chair trips over on the pages, each fixed with the rule it breaks."""

import re

from app.web.formatting import detail_value, dutch_date
from tests.clock import iso
from tests.conftest import create_case, create_vacancy, push_again
from tests.web.conftest import DATE, csrf_of, make_person, post_form, signed_in


def decide(client, org, proposal_id, decision, **body):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/proposals/{proposal_id}/decisions",
        json={"decision": decision, **body},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def signed_tenancy(client, region, published):  # type: ignore[no-untyped-def]
    """Take the published proposal to a signed tenancy; the dwelling as its corporation reads it."""
    decide(client, region.chair, published.proposal_id, "nominate")
    decide(client, region.corporation, published.proposal_id, "corporation_accept")
    decide(client, region.corporation, published.proposal_id, "sign_tenancy")
    return client.get(
        f"/v1/vacancies/{published.vacancy_id}", headers=region.corporation.headers
    ).json()


def test_the_unblock_table_names_the_reasons_not_the_letters_of_any(app, client, region, chair):
    # One case blocked by the rooms alone (waive any), one by rooms and pets together (all).
    create_vacancy(client, region.corporation, rooms=1, pets_allowed=False)
    large = {"adults": 2, "children": 3}
    create_case(client, region.care_provider, region.table_id, household=large)
    needs = {"wheelchair": False, "step_free": False, "max_floor": None, "pets": True}
    create_case(client, region.care_provider, region.table_id, household=large, needs=needs)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": DATE}, headers=region.chair.headers
    ).json()
    page = signed_in(app, chair).get(f"/vergaderingen/{meeting['id']}").text
    table = page.split("Wat dossiers zou deblokkeren", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]*)</th>', table)
    assert rows == [
        "Aantal kamers past niet bij het huishouden",
        "Aantal kamers past niet bij het huishouden + Huisdieren niet toegestaan",
    ]


def test_the_notice_after_handing_out_an_action_comes_before_the_fragment(
    app, client, region, published, chair
):
    browser = signed_in(app, chair)
    meeting = f"/vergaderingen/{published.meeting_id}"
    response = post_form(
        browser,
        f"/tafels/{region.table_id}/acties",
        {
            "soort": "request_beschikking",
            "eigenaar": region.care_provider.id,
            "uiterlijk": iso(7),
            "vergadering": published.meeting_id,
            "terug": meeting + "#acties",
        },
        meeting,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == f"{meeting}?melding=actie#acties"
    shown = browser.get(location.split("#")[0]).text
    assert "De actie is uitgezet." in shown


def test_a_proposal_before_its_meeting_day_offers_no_move_in_date_the_browser_refuses(
    app, client, region, chair
):
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    ).json()
    client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    [proposal] = client.get(
        f"/v1/tables/{region.table_id}/proposals", headers=region.chair.headers
    ).json()["items"]
    # Before its meeting's day no decision is taken (tests/api/test_minutes.py), so no
    # move-in form either: only the chair's withdrawal is offered.
    page = signed_in(app, chair).get(f"/voorstellen/{proposal['id']}").text
    for field in re.findall(r'<input[^>]*type="date"[^>]*>', page):
        low = re.search(r'min="([^"]+)"', field)
        high = re.search(r'max="([^"]+)"', field)
        if low and high:
            assert low.group(1) <= high.group(1), field
    assert 'value="house"' not in page
    assert "heeft nog niet plaatsgevonden" in page


def test_a_planned_viewing_records_its_date(app, client, region, published):
    corporation = signed_in(app, make_person(client, region.corporation))
    decide(client, region.chair, published.proposal_id, "nominate")
    decide(client, region.corporation, published.proposal_id, "corporation_accept")
    url = f"/voorstellen/{published.proposal_id}"
    page = corporation.get(url).text
    assert 'name="bezichtiging" type="date" required' in page
    # Without the date (the browser's `required` skipped), the page says what is missing.
    missing = {"besluit": "plan_viewing", "bezichtiging": "", "versie": "3"}
    refused = post_form(corporation, url + "/besluit", missing, url)
    assert refused.status_code == 400
    assert "Niet ingevuld: Datum van de bezichtiging." in refused.text
    response = post_form(
        corporation,
        url + "/besluit",
        {"besluit": "plan_viewing", "bezichtiging": iso(5), "versie": "3"},
        url,
    )
    assert response.status_code == 303, response.text
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["viewing_on"] == iso(5)
    assert "Bezichtiging" in corporation.get(url).text


def test_a_stale_viewing_form_with_another_date_is_not_taken_for_sent_twice(
    app, client, region, published
):
    """A colleague planned the viewing on another day from the same version: the stale form's
    day is not what stands, so it is refused (412), not redirected as if recorded."""
    corporation = signed_in(app, make_person(client, region.corporation))
    decide(client, region.chair, published.proposal_id, "nominate")
    decide(client, region.corporation, published.proposal_id, "corporation_accept")
    url = f"/voorstellen/{published.proposal_id}"
    csrf = csrf_of(corporation, url)
    decide(client, region.corporation, published.proposal_id, "plan_viewing", viewing_date=iso(5))
    form = {"csrf_token": csrf, "besluit": "plan_viewing", "bezichtiging": iso(9), "versie": "3"}
    assert corporation.post(url + "/besluit", data=form).status_code == 412
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["viewing_on"] == iso(5)
    # The same day sent twice (a double click) still stands.
    again = corporation.post(url + "/besluit", data=form | {"bezichtiging": iso(5)})
    assert again.status_code == 303


def test_a_stale_housing_form_with_another_move_in_day_is_not_taken_for_sent_twice(
    app, client, region, published
):
    """A colleague recorded the move-in on another day from the same version: the stale form
    is refused (412), not redirected as if its day stood."""
    corporation = signed_in(app, make_person(client, region.corporation))
    decide(client, region.chair, published.proposal_id, "nominate")
    decide(client, region.corporation, published.proposal_id, "corporation_accept")
    decide(client, region.corporation, published.proposal_id, "sign_tenancy")
    url = f"/voorstellen/{published.proposal_id}"
    csrf = csrf_of(corporation, url)
    decide(client, region.corporation, published.proposal_id, "house", effective_date=iso(0))
    form = {"csrf_token": csrf, "besluit": "house", "verhuisdatum": DATE, "versie": "4"}
    assert corporation.post(url + "/besluit", data=form).status_code == 412
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["housed_on"] == iso(0)
    again = corporation.post(url + "/besluit", data=form | {"verhuisdatum": iso(0)})
    assert again.status_code == 303


def test_a_move_in_before_the_dwelling_is_available_is_refused_in_dutch(
    app, client, region, published
):
    corporation = signed_in(app, make_person(client, region.corporation))
    vacancy = signed_tenancy(client, region, published)
    url = f"/voorstellen/{published.proposal_id}"
    form = {
        "csrf_token": csrf_of(corporation, url),
        "besluit": "house",
        "verhuisdatum": iso(-1),
        "versie": "4",
    }
    pushed = push_again(client, region.corporation, vacancy, available_from=iso(0))
    assert pushed["status"] == "proposed"
    refused = corporation.post(url + "/besluit", data=form)
    assert refused.status_code == 400
    # The day it is available is named: the API's reason names it, and without it the
    # corporation had to look up which move-in day would do (found walking the README).
    available = dutch_date(iso(0))
    said = f"De verhuisdatum ligt vóór de datum waarop de woning beschikbaar is ({available})."
    assert said in refused.text
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["status"] == "tenancy_signed"


def test_the_move_in_form_starts_on_the_day_the_dwelling_is_available(
    app, client, region, published
):
    """Walking the README's demo: the dwelling came free after the meeting, and the form still
    offered today as the move-in day (refused while the dwelling was not available yet) and
    the meeting's date as its earliest. It starts on the day the dwelling is available, and
    before that day says so instead of offering a form every date of which is refused."""
    corporation = signed_in(app, make_person(client, region.corporation))
    vacancy = signed_tenancy(client, region, published)
    url = f"/voorstellen/{published.proposal_id}"
    vacancy = push_again(client, region.corporation, vacancy, available_from=iso(-3))
    field = re.search(r'<input id="verhuisdatum"[^>]*>', corporation.get(url).text)
    assert field is not None
    assert f'min="{iso(-3)}"' in field.group(0)
    assert f'value="{iso(0)}"' in field.group(0)
    push_again(client, region.corporation, vacancy, available_from=iso(4))
    page = corporation.get(url).text
    assert 'value="house"' not in page
    assert f"De woning is beschikbaar vanaf {dutch_date(iso(4))}" in page
    assert "niet aan uw organisatie" not in page
    # The API refuses such a move-in indeed: the page follows its rule.
    refused = client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "house", "effective_date": iso(0)},
        headers=region.corporation.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["invalidParams"][0]["code"] == "date_before_available_from"


def test_a_viewing_without_a_date_is_refused(client, region, published):
    decide(client, region.chair, published.proposal_id, "nominate")
    decide(client, region.corporation, published.proposal_id, "corporation_accept")
    response = client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "plan_viewing"},
        headers=region.corporation.headers,
    )
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "viewing_date"


def test_a_spread_cap_usage_hidden_from_a_care_provider_reads_afgeschermd_not_a_dash():
    assert detail_value("usage", None) == "afgeschermd"
    assert detail_value("usage", 2) == "2"
    assert detail_value("status_reason", None) == "\u2013"  # an empty figure stays a dash


def test_a_decision_form_without_its_version_records_nothing(app, client, region, published):
    """The action and aftercare forms refuse a post that does not say which version it showed;
    the decision form recorded it unchecked, so a form changed by hand overwrote unseen."""
    corporation = signed_in(app, make_person(client, region.corporation))
    decide(client, region.chair, published.proposal_id, "nominate")
    url = f"/voorstellen/{published.proposal_id}"
    csrf = csrf_of(corporation, url)
    form = {"csrf_token": csrf, "besluit": "corporation_accept"}
    refused = corporation.post(url + "/besluit", data=form)
    assert refused.status_code == 400
    assert "niet welke versie" in refused.text
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["status"] == "nominated"
