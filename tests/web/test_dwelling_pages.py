"""A corporation's worker offers and corrects its dwellings by hand, with the API's rules: the
same validation (in Dutch), If-Match against lost updates, and the lifecycle."""

import re
import uuid

import pytest
from sqlmodel import col, update

from app.proposals.models import OPEN_PROPOSAL
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy
from tests.clock import iso
from tests.conftest import create_vacancy
from tests.web.conftest import csrf_of, make_person, signed_in


def _form(**overrides: str) -> dict[str, str]:
    """A complete dwelling as the form posts it (API field names, dates as the date input)."""
    values = {
        "external_ref": "W-hand-1",
        "address.street": "Kastanjelaan",
        "address.house_number": "12A",
        "address.postcode": "3512 AB",
        "address.municipality_code": "GM0344",
        "address.neighbourhood_code": "BU03440101",
        "dwelling_type": "apartment",
        "rooms": "2",
        "floor": "1",
        "has_lift": "ja",
        "wheelchair_accessible": "nee",
        "rent.base": "650,00",
        "rent.eligible_service_costs": "35,00",
        "available_from": iso(14),
        "respond_before": iso(7),
    }
    values.update(overrides)
    return values


def _post(browser, url: str, data: dict, csrf_from: str):  # type: ignore[no-untyped-def]
    return browser.post(url, data={"csrf_token": csrf_of(browser, csrf_from), **data})


def _set_status(browser, vacancy_id: str, status: str, page):  # type: ignore[no-untyped-def]
    """Post `status` from the dwelling's edit `page`, with the version it shows."""
    edit = f"/woningen/{vacancy_id}/bewerken"
    data = {"status": status, "versie": _version(page.text)}
    return _post(browser, f"/woningen/{vacancy_id}/status", data, edit)


def _version(html: str) -> str:
    match = re.search(r'name="versie" value="([^"]*)"', html)
    assert match, "no version on the page"
    return match.group(1).replace("&#34;", '"')


def _dwellings(client, org) -> list[dict]:  # type: ignore[no-untyped-def]
    return client.get("/v1/vacancies", headers=org.headers).json()["items"]


def test_a_corporation_worker_offers_a_dwelling_on_the_page(app, client, region):
    browser = signed_in(app, make_person(client, region.corporation))

    response = _post(browser, "/woningen/nieuw", _form(), "/woningen/nieuw")

    assert response.status_code == 303, response.text
    [dwelling] = _dwellings(client, region.corporation)
    assert response.headers["location"] == (
        f"/woningen/{dwelling['id']}/bewerken?melding=woning_opgeslagen"
    )
    assert (dwelling["external_ref"], dwelling["status"], dwelling["rooms"]) == (
        "W-hand-1",
        "available",
        2,
    )
    assert dwelling["address"]["postcode"] == "3512AB"
    assert float(dwelling["rent"]["base"]) == 650.0


def _as_a_browser_sends(html: str, name: str) -> str:
    """The value a browser posts for the select `name`: its selected option, else its first."""
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    options = re.findall(r'<option[^>]* value="([^"]*)"([^>]*)>', select.group(1))
    return next((v for v, attrs in options if "selected" in attrs), options[0][0])


def test_a_new_dwelling_left_as_shown_allows_pets_as_the_field_says_empty_does(app, client, region):
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get("/woningen/nieuw").text
    assert "Ja of nee (leeg is ja)." in page
    shown = {n: _as_a_browser_sends(page, n) for n in ("pets_allowed", "has_lift", "contingent")}
    assert shown == {"pets_allowed": "ja", "has_lift": "nee", "contingent": "nee"}

    response = _post(browser, "/woningen/nieuw", _form(**shown), "/woningen/nieuw")

    assert response.status_code == 303, response.text
    [dwelling] = _dwellings(client, region.corporation)
    assert dwelling["pets_allowed"] is True


def test_invalid_fields_are_named_in_dutch_and_nothing_is_stored(app, client, region):
    browser = signed_in(app, make_person(client, region.corporation))

    response = _post(
        browser, "/woningen/nieuw", _form(rooms="veel", dwelling_type=""), "/woningen/nieuw"
    )

    assert response.status_code == 400
    assert "Verplicht: niet ingevuld." in response.text
    assert 'aria-invalid="true"' in response.text
    assert _dwellings(client, region.corporation) == []


def test_a_dwelling_outside_the_corporations_tables_is_refused_as_the_api_does(app, client, region):
    browser = signed_in(app, make_person(client, region.corporation))

    response = _post(
        browser,
        "/woningen/nieuw",
        _form(
            **{"address.municipality_code": "GM0363", "address.neighbourhood_code": "BU03630101"}
        ),
        "/woningen/nieuw",
    )

    assert response.status_code == 400, response.text
    assert _dwellings(client, region.corporation) == []


def test_a_reference_in_use_is_not_overwritten_from_the_new_dwelling_page(app, client, region):
    existing = create_vacancy(client, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))

    response = _post(
        browser, "/woningen/nieuw", _form(external_ref=existing["external_ref"]), "/woningen/nieuw"
    )

    assert response.status_code == 409
    assert _dwellings(client, region.corporation)[0]["version"] == existing["version"]


def test_an_edit_is_stored_and_a_stale_edit_shows_the_latest_version(app, client, region):
    dwelling = create_vacancy(client, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/woningen/{dwelling['id']}/bewerken"
    page = browser.get(url)
    shown = _version(page.text)
    values = _form(rooms="3")

    saved = browser.post(url, data={"csrf_token": csrf_of(browser, url), "versie": shown, **values})
    stale = browser.post(
        url,
        data={"csrf_token": csrf_of(browser, url), "versie": shown, **_form(rooms="5")},
    )

    assert saved.status_code == 303, saved.text
    assert stale.status_code == 412
    assert "Iemand anders heeft deze woning intussen gewijzigd" in stale.text
    now = client.get(f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers).json()
    assert (now["rooms"], now["external_ref"]) == (3, dwelling["external_ref"])


def test_a_dwelling_is_taken_off_the_market_and_offered_again(app, client, region):
    dwelling = create_vacancy(client, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/woningen/{dwelling['id']}"

    def change(status: str):  # type: ignore[no-untyped-def]
        page = browser.get(f"{url}/bewerken")
        data = {"csrf_token": csrf_of(browser, f"{url}/bewerken"), "versie": _version(page.text)}
        return browser.post(f"{url}/status", data={**data, "status": status})

    withdrawn = change("withdrawn")
    status_after_withdraw = client.get(
        f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers
    ).json()["status"]
    reoffered = change("available")
    status_after_reoffer = client.get(
        f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers
    ).json()["status"]

    assert (withdrawn.status_code, reoffered.status_code) == (303, 303)
    assert (status_after_withdraw, status_after_reoffer) == ("withdrawn", "available")


@pytest.mark.parametrize("status", ["withdrawn", "available"])
def test_a_status_change_sent_twice_stands_without_someone_else_changed_it(
    app, client, region, status
):
    """A double click on 'withdraw' or 'offer again': the second sending found the version
    moved by the first and answered 412 'someone else changed it, do it again' (found by the
    eighth and ninth breakers)."""
    dwelling = create_vacancy(client, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))
    if status == "available":  # on offer only after it was taken off
        page = browser.get(f"/woningen/{dwelling['id']}/bewerken")
        assert _set_status(browser, dwelling["id"], "withdrawn", page).status_code == 303
    page = browser.get(f"/woningen/{dwelling['id']}/bewerken")
    first = _set_status(browser, dwelling["id"], status, page)
    second = _set_status(browser, dwelling["id"], status, page)
    assert first.status_code == second.status_code == 303, second.text
    now = client.get(f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers)
    assert now.json()["status"] == status


def test_withdrawing_with_a_stale_version_is_412_and_the_dwelling_stays_on_offer(
    app, client, region
):
    dwelling = create_vacancy(client, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/woningen/{dwelling['id']}"

    response = browser.post(
        f"{url}/status",
        data={
            "csrf_token": csrf_of(browser, f"{url}/bewerken"),
            "versie": '"99"',
            "status": "withdrawn",
        },
    )

    assert response.status_code == 412
    now = client.get(f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers)
    assert now.json()["status"] == "available"


def test_only_the_dwellings_own_corporation_and_not_a_viewer_edits_it(app, client, region):
    dwelling = create_vacancy(client, region.corporation)
    url = f"/woningen/{dwelling['id']}/bewerken"
    other = signed_in(app, make_person(client, region.other_corporation))
    viewer = signed_in(app, make_person(client, region.corporation, "viewer"))
    care = signed_in(app, make_person(client, region.care_provider))

    assert other.get(url).status_code in (403, 404)
    assert viewer.get(url).status_code == 403
    assert care.get("/woningen/nieuw").status_code == 403


def _edit_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/woningen/[^"/]+/bewerken)"', html))


def test_the_dwelling_list_and_page_link_to_the_edit_page_only_for_its_corporations_writers(
    app, client, region
):
    own = create_vacancy(client, region.corporation)
    theirs = create_vacancy(client, region.other_corporation)
    edit = f"/woningen/{own['id']}/bewerken"
    worker = signed_in(app, make_person(client, region.corporation))

    listed = worker.get("/woningen").text
    assert _edit_links(listed) == {edit}
    assert 'href="/woningen/nieuw"' in listed
    assert _edit_links(worker.get(f"/woningen/{own['id']}").text) == {edit}
    assert worker.get(edit).status_code == 200
    for who in (
        make_person(client, region.corporation, "viewer"),
        make_person(client, region.other_corporation),
        make_person(client, region.chair, "chair"),
    ):
        browser = signed_in(app, who)
        listed = browser.get("/woningen").text
        assert not _edit_links(listed) - {f"/woningen/{theirs['id']}/bewerken"}, who
        assert _edit_links(browser.get(f"/woningen/{own['id']}").text) == set(), who
        assert browser.get(edit).status_code in (403, 404), who
    assert (
        'href="/woningen/nieuw"'
        not in signed_in(app, make_person(client, region.corporation, "viewer"))
        .get("/woningen")
        .text
    )


def test_a_proposed_dwelling_says_its_proposal_ends_when_taken_off_the_market(
    app, client, region, published
):
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/woningen/{published.vacancy_id}/bewerken")

    assert "Status: <strong>Voorgesteld</strong>" in page.text
    assert "Het lopende voorstel voor deze woning vervalt" in page.text
    withdrawn = _set_status(browser, published.vacancy_id, "withdrawn", page)

    assert withdrawn.status_code == 303, withdrawn.text
    proposal = client.get(
        f"/v1/proposals/{published.proposal_id}", headers=region.corporation.headers
    ).json()
    assert proposal["status"] not in {s.value for s in OPEN_PROPOSAL}
    again = browser.get(f"/woningen/{published.vacancy_id}/bewerken").text
    assert "Status: <strong>Ingetrokken</strong>" in again
    assert "Opnieuw aanbieden" in again


def test_the_dwelling_page_logs_the_case_of_its_proposal_as_read(app, client, region, published):
    person = make_person(client, region.corporation)
    page = signed_in(app, person).get(f"/woningen/{published.vacancy_id}")

    assert page.status_code == 200
    assert f"/voorstellen/{published.proposal_id}" in page.text
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": published.case_id, "limit": 1000},
        headers=region.chair.headers,
    ).json()["items"]
    assert ("timeline", "GET /woningen/{vacancy_id}") in {
        (e["action"], e["endpoint"]) for e in log if e["person_id"] == person.id
    }


def test_a_dwelling_stored_before_a_rule_it_breaks_is_not_offered_again_as_it_stands(
    app, client, region, session
):
    """A street of only spaces was stored before such text was refused: offering the withdrawn
    dwelling again asks for the fix on the edit form (400) instead of failing (500)."""
    vacancy = create_vacancy(client, region.corporation)
    withdrawn = client.delete(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    assert withdrawn.status_code == 204, withdrawn.text
    session.execute(
        update(Vacancy)
        .where(col(Vacancy.id) == uuid.UUID(vacancy["id"]))
        .values(address_street="  ")
    )
    session.commit()
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/woningen/{vacancy['id']}/bewerken")
    again = _set_status(browser, vacancy["id"], "available", page)

    assert again.status_code == 400, again.text
    assert "voldoet niet aan de regels van nu" in again.text
    stored = client.get(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    assert stored.json()["status"] == "withdrawn"


def test_a_proposal_ended_by_its_dwellings_withdrawal_reads_as_automatic(
    app, client, region, published, chair
):
    response = client.delete(
        f"/v1/vacancies/{published.vacancy_id}", headers=region.corporation.headers
    )
    assert response.status_code in (200, 204), response.text

    browser = signed_in(app, chair)
    page = browser.get(f"/voorstellen/{published.proposal_id}").text

    history = page.split("<h2>Verloop</h2>", 1)[1]
    assert "<td>Voorstel intrekken (automatisch)</td>" in history
    for url in (f"/dossiers/{published.case_id}", f"/woningen/{published.vacancy_id}"):
        assert "Voorstel intrekken (automatisch)</a>" in browser.get(url).text, url
    timeline = client.get(
        f"/v1/cases/{published.case_id}/timeline", headers=region.chair.headers
    ).json()["items"]
    assert [e["automatic"] for e in timeline if e["kind"] == "decision"] == [True]


def test_an_edit_sent_twice_stands_without_someone_else_changed_it(app, client, region):
    """A double click on saving an edited dwelling: the second sending found the version moved
    by the first and answered 412 'someone else changed this dwelling meanwhile' (found by
    breaker 39). It stands as asked; another change from the stale form is still refused."""
    browser = signed_in(app, make_person(client, region.corporation))
    assert _post(browser, "/woningen/nieuw", _form(), "/woningen/nieuw").status_code == 303
    [dwelling] = _dwellings(client, region.corporation)
    url = f"/woningen/{dwelling['id']}/bewerken"
    page = browser.get(url)
    edited = _form(rooms="3") | {"versie": _version(page.text)}

    first, second = _post(browser, url, edited, url), _post(browser, url, edited, url)
    other = _post(browser, url, edited | {"rooms": "4"}, url)

    assert (first.status_code, second.status_code, other.status_code) == (303, 303, 412)
    [now] = _dwellings(client, region.corporation)
    assert (now["rooms"], now["version"]) == (3, 2)


def test_a_new_dwelling_sent_twice_opens_it_instead_of_calling_it_another(app, client, region):
    """A double click on offering a new dwelling: the second sending answered 409 'you use this
    reference for another dwelling already', which it is not (found by breaker 39; the case
    file form was mended so before). It opens the dwelling the first sending made; a
    different dwelling under that reference is still refused."""
    browser = signed_in(app, make_person(client, region.corporation))
    url = "/woningen/nieuw"

    first, second = _post(browser, url, _form(), url), _post(browser, url, _form(), url)
    other = _post(browser, url, _form(rooms="4"), url)

    assert (first.status_code, second.status_code, other.status_code) == (303, 303, 409)
    assert second.headers["location"] == first.headers["location"]
    [dwelling] = _dwellings(client, region.corporation)
    assert (dwelling["rooms"], dwelling["version"]) == (2, 1)


def test_a_form_shown_again_with_its_errors_keeps_the_version_the_worker_saw(app, client, region):
    """A worker's edit refused for a typo came back with the stored dwelling's newest version,
    so fixing the typo and saving overwrote a colleague's change made meanwhile, unseen
    (found by a breaker)."""
    dwelling = create_vacancy(client, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/woningen/{dwelling['id']}/bewerken"
    shown = _version(browser.get(url).text)
    colleague = _post(browser, url, {"versie": shown, **_form(rooms="3")}, url)
    assert colleague.status_code == 303, colleague.text
    typo = _post(browser, url, {"versie": shown, **_form(rooms="drie")}, url)
    assert typo.status_code == 400
    assert _version(typo.text) == shown
    fixed = _post(browser, url, {"versie": _version(typo.text), **_form(rooms="4")}, url)
    assert fixed.status_code == 412
    now = client.get(f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers).json()
    assert now["rooms"] == 3


def test_a_new_dwelling_does_not_overwrite_one_stored_meanwhile_under_its_reference(
    app, client, region, monkeypatch
):
    """The new-dwelling page looked the reference up and then wrote through the upsert: a
    colleague's dwelling stored under that reference between the two (two people entering the
    same dwelling at once) was overwritten with this form, where the page refuses a reference
    in use (found by a breaker). The lookup here misses it, as in that race."""
    theirs = create_vacancy(client, region.corporation, external_ref="W-hand-1")
    looked_up = vacancies_service.get_by_refs
    calls: list[object] = []

    def first_misses(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args)
        return {} if len(calls) == 1 else looked_up(*args, **kwargs)

    monkeypatch.setattr(vacancies_service, "get_by_refs", first_misses)
    browser = signed_in(app, make_person(client, region.corporation))
    response = _post(browser, "/woningen/nieuw", _form(rooms="4"), "/woningen/nieuw")
    assert response.status_code == 409, response.text
    assert "U gebruikt dit kenmerk al" in response.text
    now = client.get(f"/v1/vacancies/{theirs['id']}", headers=region.corporation.headers).json()
    assert now["version"] == theirs["version"]


def test_a_dwellings_timeline_says_it_was_proposed_for_a_case(app, client, region, published):
    """The dwelling's timeline named its proposal 'Voorgesteld voor een woning' (the case
    timeline's wording) on the dwelling's own page; it was proposed for a case."""
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/woningen/{published.vacancy_id}")
    assert page.status_code == 200, page.text
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", page.text, re.S)
    [proposed] = [r for r in rows if "/voorstellen/" in r and "voor dossier" in r]
    assert "Voorgesteld voor een dossier" in proposed
    assert "Voorgesteld voor een woning" not in page.text


def test_a_dwellings_conditions_name_its_lease_forms_in_lower_case(app, client, region, published):
    """'Voorwaarden: contingent; geen huismeester; huisdieren toegestaan; Tussenhuur
    (omklapconstructie) of Eigen huurcontract': the lease forms, mid-list, began with capitals."""
    page = signed_in(app, make_person(client, region.corporation)).get(
        f"/woningen/{published.vacancy_id}"
    )
    [conditions] = re.findall(r"<dt>Voorwaarden</dt><dd>(.*?)</dd>", page.text, re.S)
    assert "huurcontract" in conditions or "tussenhuur" in conditions, conditions
    assert conditions == conditions.lower(), conditions
