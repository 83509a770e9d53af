"""A care provider's worker enters and corrects case files by hand, with the API's rules: the
same validation (in Dutch), If-Match against lost updates, the lifecycle and the access log."""

import re
import uuid
from datetime import date, datetime, time
from types import SimpleNamespace

import time_machine

from app.cases.models import Case, CaseStatus
from app.timeutil import AMSTERDAM
from app.web.formatting import dutch_date
from app.web.query_values import GIVEN_TWICE
from app.web.routes_case_files import _stands
from tests.clock import TODAY, iso
from tests.conftest import create_case, create_vacancy, seed_org, seed_table
from tests.web.conftest import DATE, csrf_of, make_person, other_spellings, publish_one, signed_in
from tests.web.html_rules import problems


def _form(**overrides: str) -> dict[str, str]:
    """A complete case file as the form posts it (API field names, dates as the date input)."""
    values = {
        "external_ref": "K-hand-1",
        "facility": "beschermd_wonen",
        "ready_since": iso(-120),
        "birth_year": str(TODAY.year - 30),
        "household.adults": "1",
        "household.children": "0",
        "income.source": "participatiewet",
        "income.annual_taxable": "15.800,00",
        "income.stable": "ja",
        "support.intensity": "moderate",
        "areas.preferred": "GM0344",
    }
    values.update(overrides)
    return values


def _post(browser, url: str, data: dict, csrf_from: str):  # type: ignore[no-untyped-def]
    return browser.post(url, data={"csrf_token": csrf_of(browser, csrf_from), **data})


def _version(html: str) -> str:
    match = re.search(r'name="versie" value="([^"]*)"', html)
    assert match, "no version on the page"
    return match.group(1).replace("&#34;", '"')


def _log(client, region, case_id: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    items = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case_id},
        headers=region.chair.headers,
    ).json()["items"]
    return [(e["action"], e["endpoint"]) for e in items]


def test_a_worker_creates_a_case_file_on_the_page(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    response = _post(browser, "/dossiers/nieuw", _form(), "/dossiers/nieuw")
    assert response.status_code == 303, response.text
    [case] = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    assert (
        response.headers["location"]
        == f"/dossiers/{case['id']}/bewerken?melding=dossier_opgeslagen"
    )
    assert (case["external_ref"], case["ready_since"], case["status"]) == (
        "K-hand-1",
        iso(-120),
        "ready",
    )
    assert case["income"]["annual_taxable"] == 15800.0
    assert ("create", "POST /dossiers/nieuw") in _log(client, region, case["id"])


def test_bad_fields_are_named_in_dutch_and_nothing_is_stored(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    bad = _form(**{"household.adults": "3", "ready_since": "", "income.annual_taxable": "veel"})
    response = _post(browser, "/dossiers/nieuw", bad, "/dossiers/nieuw")
    assert response.status_code == 400
    assert "Mag hoogstens 2 zijn." in response.text
    assert "Verplicht: niet ingevuld." in response.text
    assert "&#39;veel&#39; is geen bedrag" in response.text
    assert client.get("/v1/cases", headers=region.care_provider.headers).json()["items"] == []


def test_a_reference_in_use_is_refused(app, client, region):
    create_case(client, region.care_provider, region.table_id, external_ref="K-hand-1")
    browser = signed_in(app, make_person(client, region.care_provider))
    response = _post(browser, "/dossiers/nieuw", _form(), "/dossiers/nieuw")
    assert response.status_code == 409
    assert "gebruikt dit kenmerk al" in response.text


def test_the_new_file_form_sent_twice_makes_one_file_and_says_it_is_saved(app, client, region):
    """A double click: the second sending found the reference taken by the first and said the
    organisation used it 'for another file', which invited a second file under another
    reference (found by the eighth breaker)."""
    browser = signed_in(app, make_person(client, region.care_provider))
    form = {"csrf_token": csrf_of(browser, "/dossiers/nieuw"), **_form()}
    first, second = (
        browser.post("/dossiers/nieuw", data=form),
        browser.post("/dossiers/nieuw", data=form),
    )
    assert first.status_code == second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    assert len(client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]) == 1
    other = browser.post("/dossiers/nieuw", data=form | {"birth_year": "1971"})
    assert other.status_code == 409 and "gebruikt dit kenmerk al" in other.text


def test_a_taken_reference_whose_stored_file_no_longer_validates_is_a_409_not_a_500(
    app, client, region, session
):
    """The sent-twice check reads the stored file as a new-file document; a file stored before
    a rule it now breaks (here a birth year too recent) made that a 500 instead of 'the
    reference is taken'."""
    case = create_case(client, region.care_provider, region.table_id, external_ref="K-oud-1")
    stored = session.get(Case, uuid.UUID(case["id"]))
    assert stored is not None
    stored.birth_year = TODAY.year - 5
    session.add(stored)
    session.commit()
    browser = signed_in(app, make_person(client, region.care_provider))
    form = {"csrf_token": csrf_of(browser, "/dossiers/nieuw"), **_form(external_ref="K-oud-1")}
    response = browser.post("/dossiers/nieuw", data=form)
    assert response.status_code == 409
    assert "gebruikt dit kenmerk al" in response.text


def test_an_edit_is_stored_with_the_version_it_was_shown(app, client, region):
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url)
    assert page.status_code == 200
    assert ("read", "GET /dossiers/{case_id}/bewerken") in _log(client, region, case["id"])
    values = {
        name: value
        for name, value in re.findall(
            r'name="([a-z_.]+)" type="(?:text|date)"[^>]*value="([^"]*)"', page.text
        )
    }
    assert values["ready_since"] == case["ready_since"]
    response = _post(
        browser,
        url,
        {**_form(), **values, "household.adults": "2", "versie": _version(page.text)},
        url,
    )
    assert response.status_code == 303, response.text
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["household"]["adults"] == 2 and stored["version"] == 2
    assert stored["ready_since"] == case["ready_since"]


def _stale_edit(app, client, region, **fields):  # type: ignore[no-untyped-def]
    """A case (with `fields`) edited on its page after the API changed it since the page was
    shown: the page's answer and the case."""
    case = create_case(client, region.care_provider, region.table_id, **fields)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    shown = _version(browser.get(url).text)
    client.patch(
        f"/v1/cases/{case['id']}",
        json={"household": {"children": 2}},
        headers=region.care_provider.headers,
    ).raise_for_status()
    return _post(browser, url, {**_form(), "household.adults": "2", "versie": shown}, url), case


def test_a_stale_edit_is_refused_and_shows_the_latest_file(app, client, region):
    response, case = _stale_edit(app, client, region)
    assert response.status_code == 412
    assert "Iemand anders heeft dit dossier intussen gewijzigd" in response.text
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["household"] == {"adults": 1, "children": 2}


def test_a_status_change_sent_twice_stands_and_another_one_is_stale(app, client, region):
    """A double click on 'on hold': the second sending found the version moved by the first
    and answered 412 'someone else changed it, do it again' (found by the eighth breaker)."""
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{case['id']}/bewerken"
    form = {
        "csrf_token": csrf_of(browser, edit),
        "status": "on_hold",
        "reden": "client_request",
        "versie": _version(browser.get(edit).text),
    }
    url = f"/dossiers/{case['id']}/status"
    first, second = browser.post(url, data=form), browser.post(url, data=form)
    assert first.status_code == second.status_code == 303, second.text
    other = browser.post(url, data=form | {"reden": "temporarily_unreachable"})
    assert other.status_code == 412
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert (stored["status"], stored["status_reason"]) == ("on_hold", "client_request")


def test_a_case_is_put_on_hold_resumed_and_withdrawn_with_reasons(app, client, region):
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider, "chair"))
    edit = f"/dossiers/{case['id']}/bewerken"
    status_url = f"/dossiers/{case['id']}/status"

    def change(status: str, reason: str = "") -> str:  # type: ignore[no-untyped-def]
        page = browser.get(edit).text
        response = _post(
            browser,
            status_url,
            {"status": status, "reden": reason, "versie": _version(page)},
            edit,
        )
        assert response.status_code == 303, response.text
        return client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()[
            "status"
        ]

    assert change("on_hold", "client_request") == "on_hold"
    assert change("ready") == "ready"
    without_reason = _post(
        browser,
        status_url,
        {"status": "withdrawn", "versie": _version(browser.get(edit).text)},
        edit,
    )
    assert without_reason.status_code == 400
    assert change("withdrawn", "own_solution") == "withdrawn"
    transitions = client.get(
        f"/v1/cases/{case['id']}/transitions", headers=region.care_provider.headers
    ).json()["items"]
    assert [(t["to_status"], t["reason"]) for t in transitions][-3:] == [
        ("on_hold", "client_request"),
        ("ready", None),
        ("withdrawn", "own_solution"),
    ]


def test_nobody_else_edits_a_care_providers_case(app, client, region, other_region):
    case = create_case(client, region.care_provider, region.table_id)
    url = f"/dossiers/{case['id']}/bewerken"
    for org in (region.other_care_provider, other_region.care_provider):
        browser = signed_in(app, make_person(client, org))
        assert browser.get(url).status_code in (403, 404)
        refused = browser.post(
            url, data={"csrf_token": csrf_of(browser, "/dossiers/nieuw"), **_form(), "versie": ""}
        )
        assert refused.status_code in (403, 404)
    for org, role in ((region.corporation, "member"), (region.care_provider, "viewer")):
        browser = signed_in(app, make_person(client, org, role))
        assert browser.get("/dossiers/nieuw").status_code == 403
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["version"] == 1


def test_rent_arrears_offer_only_the_corporations_of_the_table(app, client, region, other_region):
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get("/dossiers/nieuw").text
    assert region.corporation.id in page and region.other_corporation.id in page
    assert other_region.corporation.id not in page
    data = _form(**{"debts.rent_arrears_corporation_ids": region.corporation.id})
    response = _post(browser, "/dossiers/nieuw", data, "/dossiers/nieuw")
    assert response.status_code == 303, response.text
    [case] = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    assert case["debts"]["rent_arrears_corporation_ids"] == [region.corporation.id]


def test_the_rent_arrears_checkboxes_are_not_explained_as_names_separated_by_commas(
    app, client, region
):
    # The form offers the table's corporations as checkboxes, but their hint was the import
    # column's, which asked for 'hun namen zoals de tafel ze kent, gescheiden door komma's'.
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get("/dossiers/nieuw").text
    hint_id = "veld-debts-rent-arrears-corporation-ids-hulp"
    [hint] = re.findall(rf'<p class="hint" id="{hint_id}">([^<]*)<', page)
    assert "komma" not in hint and "namen" not in hint, hint
    assert hint == (
        "Woningcorporaties aan de tafel waarbij de cliënt huurachterstand heeft zonder "
        "betalingsregeling: vink ze aan (geen vinkje: geen huurachterstand)."
    )


def _shown(html: str) -> dict[str, str]:
    """Every value the edit form shows: text and date inputs and each select's chosen option."""
    values = dict(re.findall(r'name="([a-z_.]+)" type="(?:text|date)"[^>]*value="([^"]*)"', html))
    form = html.split('class="form narrow"', 1)[1].split("</form>", 1)[0]
    for name, options in re.findall(
        r'<select[^>]*name="([a-z_.]+)"[^>]*>(.*?)</select>', form, re.S
    ):
        chosen = re.search(r'<option[^>]* value="([^"]*)" selected', options)
        values[name] = chosen.group(1) if chosen else ""
    return values


def test_saving_an_unchanged_form_stores_nothing_and_keeps_the_version(app, client, region):
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url)
    response = _post(browser, url, {**_shown(page.text), "versie": _version(page.text)}, url)
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("melding=dossier_ongewijzigd")
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["version"] == case["version"]


def test_an_edit_without_a_readable_version_is_refused_and_stores_nothing(app, client, region):
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url)
    for version in ({}, {"versie": ""}, {"versie": "   "}):
        edit = {**_shown(page.text), "household.adults": "2", **version}
        response = _post(browser, url, edit, url)
        assert response.status_code == 400, response.text
        assert "niet welke versie" in response.text
        status = _post(browser, f"/dossiers/{case['id']}/status", {"status": "on_hold",
                       "reden": "client_request", **version}, url)  # fmt: skip
        assert status.status_code == 400
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert (stored["version"], stored["household"]["adults"]) == (case["version"], 1)
    assert stored["status"] == case["status"]


def test_the_case_page_names_the_tables_rules_the_case_fails_on_its_own(app, client, region):
    case = create_case(
        client, region.care_provider, region.table_id, beschikking={"status": "none"}
    )
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(f"/dossiers/{case['id']}/bewerken")
    assert "Wmo-beschikking ontbreekt" in page.text and "beschikking_missing" in page.text
    assert "Inschrijfduur te kort" not in page.text
    complete = create_case(client, region.care_provider, region.table_id)
    assert (
        "voldoet niet aan deze regels"
        not in browser.get(f"/dossiers/{complete['id']}/bewerken").text
    )


def test_a_refused_edit_is_not_said_to_be_saved_beside_the_rules_the_stored_file_fails(
    app, client, region
):
    """The edit page of a file failing a rule of its table said 'Het dossier is opgeslagen, maar
    voldoet niet aan deze regels' on every showing: under 'Dat lukte niet. Controleer de
    gemarkeerde velden.' of a refused edit, and under 'er is niets opgeslagen' of a form
    without its version (found by a breaker). It now speaks of the stored file, which is what
    it checks, and says nothing was saved only where nothing was."""
    case = create_case(
        client, region.care_provider, region.table_id, beschikking={"status": "none"}
    )
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url).text
    rules = "Het opgeslagen dossier voldoet niet aan deze regels van de tafel"
    assert rules in page, page
    for version in ({"versie": _version(page)}, {}):
        edit = {**_shown(page), "household.adults": "3", **version}
        refused = _post(browser, url, edit, url)
        assert refused.status_code == 400, refused.text
        assert rules in refused.text and "Wmo-beschikking ontbreekt" in refused.text
        assert "opgeslagen, maar" not in refused.text, refused.text
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["version"] == case["version"]


def test_a_refused_edit_does_not_say_the_file_is_saved_above_the_rules_it_fails(
    app, client, region
):
    # The rules' notice began 'Het dossier is opgeslagen, maar ...' on every edit page: under
    # 'Dat lukte niet. Iemand anders heeft dit dossier intussen gewijzigd' (412) it told the
    # worker the refused change was saved.
    response, _ = _stale_edit(app, client, region, beschikking={"status": "none"})
    assert response.status_code == 412
    assert "Dat lukte niet" in response.text and "beschikking_missing" in response.text
    assert "is opgeslagen" not in response.text
    assert "Het opgeslagen dossier voldoet niet aan deze regels van de tafel" in response.text


def test_the_form_takes_the_birth_month_the_age_rules_read(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    assert 'name="birth_month"' in browser.get("/dossiers/nieuw").text
    response = _post(browser, "/dossiers/nieuw", _form(birth_month="7"), "/dossiers/nieuw")
    assert response.status_code == 303, response.text
    [case] = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    assert case["birth_month"] == 7
    wrong = _post(
        browser,
        "/dossiers/nieuw",
        _form(external_ref="K-hand-2", birth_month="13"),
        "/dossiers/nieuw",
    )
    assert wrong.status_code == 400


def test_the_case_list_and_page_link_to_the_edit_page_only_for_its_care_providers_writers(
    app, client, region
):
    own = create_case(client, region.care_provider, region.table_id)
    edit = f"/dossiers/{own['id']}/bewerken"
    edit_links = re.compile(r'href="(/dossiers/[^"/]+/bewerken)"')
    worker = signed_in(app, make_person(client, region.care_provider))

    listed = worker.get("/dossiers").text
    assert set(edit_links.findall(listed)) == {edit}
    assert 'href="/dossiers/nieuw"' in listed
    assert set(edit_links.findall(worker.get(f"/dossiers/{own['id']}").text)) == {edit}
    for who in (
        make_person(client, region.care_provider, "viewer"),
        make_person(client, region.chair, "chair"),
    ):
        browser = signed_in(app, who)
        assert edit_links.findall(browser.get("/dossiers").text) == [], who
        assert edit_links.findall(browser.get(f"/dossiers/{own['id']}").text) == [], who
        assert browser.get(edit).status_code in (403, 404), who


def test_an_edit_keeps_a_long_list_of_preferred_areas(app, client, region):
    """The API and the import take up to 100 area codes; the page cut every field at 400
    characters, so saving any edit of a case with 60 preferred neighbourhoods (718 characters
    shown) was refused for a broken code, and a list cut at a comma would have lost codes."""
    codes = [f"BU0344{n:04d}" for n in range(101, 161)]
    areas = {"preferred": codes, "excluded": []}
    case = create_case(client, region.care_provider, region.table_id, areas=areas)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url)
    shown = _shown(page.text)
    assert len(shown["areas.preferred"]) > 400
    edit = {**shown, "household.adults": "2", "versie": _version(page.text)}
    response = _post(browser, url, edit, url)
    assert response.status_code == 303, response.text
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["household"]["adults"] == 2
    assert stored["areas"]["preferred"] == codes


def test_a_withdrawn_file_offers_no_edit_form_it_would_refuse(app, client, region):
    """A housed or withdrawn file changes no more (409 `case_closed`); the pages offered the
    edit link and form anyway, and a worker filled it in only to be refused."""
    # Without a beschikking: an open file's page lists that rule, a closed one's no longer.
    case = create_case(
        client, region.care_provider, region.table_id, beschikking={"status": "none"}
    )
    withdrawn = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "own_solution"},
        headers=region.care_provider.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{case['id']}/bewerken"
    assert edit not in browser.get(f"/dossiers/{case['id']}").text
    assert edit not in browser.get("/dossiers?status=withdrawn").text
    page = browser.get(edit)
    assert page.status_code == 200
    assert "verandert niet meer" in page.text and "beschikking_missing" not in page.text
    assert 'name="versie"' not in page.text and f'action="{edit}"' not in page.text
    sent = _post(browser, edit, {"household.adults": "2"}, edit)  # a partial form, say
    assert sent.status_code == 409 and "verandert niet meer" in sent.text


def test_days_since_a_proposal_changed_count_from_the_amsterdam_day(app, client, region, chair):
    """A proposal made at 00:30 in Amsterdam is the evening before in UTC: on the case page it
    has been in its status since today, not since yesterday's UTC date; said plainly ('sinds
    vandaag'), where it read 'sinds <today> (0 dagen)'."""
    with time_machine.travel(datetime.combine(TODAY, time(0, 30), tzinfo=AMSTERDAM), tick=True):
        published = publish_one(client, region)
    page = signed_in(app, chair).get(f"/dossiers/{published.case_id}").text
    said = re.findall(r"sinds [^<]*", page)
    assert "sinds vandaag." in page and "0 dagen" not in page, said


def test_a_refused_status_change_shows_the_file_and_logs_that_read(app, client, region):
    """A status change without its reason showed the file again without an access-log entry,
    where every page that shows a case's details is logged."""
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{case['id']}/bewerken"
    version = _version(browser.get(edit).text)
    before = _log(client, region, case["id"]).count(("read", "POST /dossiers/{case_id}/status"))
    for data in ({"status": "withdrawn", "versie": version}, {"status": "gone", "versie": version}):
        refused = _post(browser, f"/dossiers/{case['id']}/status", data, edit)
        assert refused.status_code == 400 and case["external_ref"] in refused.text
    after = _log(client, region, case["id"]).count(("read", "POST /dossiers/{case_id}/status"))
    assert after == before + 2


def test_digits_of_another_script_on_the_form_are_refused_as_the_api_refuses_them(
    app, client, region
):
    """The form read `\u0662` (Arabic-Indic 2) as 2 adults and `\u0661\u0669\u0667\u0660` as
    1970, where the API answers 400 for the same text."""
    browser = signed_in(app, make_person(client, region.care_provider))
    for changes in ({"household.adults": "\u0662"}, {"birth_year": "\u0661\u0669\u0667\u0660"}):
        form = _form(external_ref=f"K-hand-{uuid.uuid4().hex[:6]}", **changes)
        response = _post(browser, "/dossiers/nieuw", form, "/dossiers/nieuw")
        assert response.status_code == 400, changes


def test_a_returning_client_is_registered_from_the_closed_file(app, client, region):
    """A withdrawn client comes back: the closed file's page offers the form of a new file
    under the same reference, filled in from the closed one; the new file follows it."""
    cp = region.care_provider
    case = create_case(client, cp, region.table_id, external_ref="K-terug-1")
    withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
    assert client.patch(f"/v1/cases/{case['id']}", json=withdrawn, headers=cp.headers).is_success
    browser = signed_in(app, make_person(client, cp))
    again = f"/dossiers/nieuw?vorig={case['id']}"
    assert again in browser.get(f"/dossiers/{case['id']}").text
    # The plain form under the same reference says where to go instead of 'another file'.
    plain = _post(browser, "/dossiers/nieuw", _form(external_ref="K-terug-1"), "/dossiers/nieuw")
    assert plain.status_code == 409 and "Meld de cliënt" in plain.text
    form = browser.get(again)
    assert form.status_code == 200 and problems(form.text) == []
    assert f'name="previous_case_id" value="{case["id"]}"' in form.text
    assert 'name="external_ref" value="K-terug-1"' in form.text
    assert "andere regio" not in form.text  # the provider sits at one table
    sent = _post(browser, "/dossiers/nieuw", _hidden(form.text), again)
    assert sent.status_code == 303, sent.text
    items = client.get("/v1/cases", params={"externalRef": "K-terug-1"}, headers=cp.headers)
    closed, returned = items.json()["items"]
    assert closed["id"] == case["id"]
    assert returned["previous_case_id"] == case["id"] and returned["status"] == "ready"
    assert returned["household"] == case["household"]
    closed_page = browser.get(f"/dossiers/{case['id']}").text
    assert again not in closed_page and f"/dossiers/{returned['id']}" in closed_page
    # A followed file offers no second return: its form leads to the file (the breaker).
    assert browser.get(again, follow_redirects=False).status_code == 303
    # Each page that names the other file is a read of it.
    assert ("read", "GET /dossiers/nieuw") in _log(client, region, case["id"])
    assert ("read", "GET /dossiers/{case_id}") in _log(client, region, returned["id"])
    # Sent again (a double click), the form finds the reference's open file and no new one.
    twice = _post(browser, "/dossiers/nieuw", _hidden(form.text), "/dossiers/nieuw")
    assert twice.status_code == 303 and twice.headers["location"] == sent.headers["location"]
    assert len(client.get("/v1/cases", headers=cp.headers).json()["items"]) == 2


def test_a_client_back_in_another_region_is_registered_at_the_table_chosen(
    app, client, region, session
):
    """The return form offers the care provider's tables, the closed file's chosen first."""
    cp = region.care_provider
    case = create_case(client, cp, region.table_id, external_ref="K-terug-2")
    withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
    assert client.patch(f"/v1/cases/{case['id']}", json=withdrawn, headers=cp.headers).is_success
    elsewhere = seed_table(session, seed_org(session, "municipality"), [cp], ["GM0518"])
    browser = signed_in(app, make_person(client, cp))
    again = f"/dossiers/nieuw?vorig={case['id']}"
    form = browser.get(again)
    assert form.status_code == 200 and problems(form.text) == []
    values = _hidden(form.text)
    assert values["table_id"] == region.table_id
    assert f'value="{elsewhere}"' in form.text and "andere regio" in form.text
    # The browser sends checked boxes only; the region's corporations are not at the new table.
    values = {k: v for k, v in values.items() if not k.startswith("debts.")}
    values |= {"table_id": elsewhere, "areas.preferred": "", "areas.excluded": ""}
    sent = _post(browser, "/dossiers/nieuw", values, again)
    assert sent.status_code == 303, sent.text
    items = client.get("/v1/cases", params={"externalRef": "K-terug-2"}, headers=cp.headers)
    returned = items.json()["items"][1]
    assert (returned["table_id"], returned["previous_case_id"]) == (elsewhere, case["id"])


def test_an_open_file_offers_no_return_and_another_providers_file_is_not_found(
    app, client, region, other_region
):
    cp = region.care_provider
    case = create_case(client, cp, region.table_id)
    browser = signed_in(app, make_person(client, cp))
    assert "vorig=" not in browser.get(f"/dossiers/{case['id']}").text
    refused = browser.get(f"/dossiers/nieuw?vorig={case['id']}", follow_redirects=False)
    assert refused.status_code == 303
    other = signed_in(app, make_person(client, other_region.care_provider))
    assert other.get(f"/dossiers/nieuw?vorig={case['id']}").status_code == 404


def test_a_closed_file_given_twice_in_the_address_is_named_not_guessed(app, client, region):
    """`/dossiers/nieuw?vorig=A&vorig=B` showed the return form of B without a word (the page
    took the last value), where every other field of a page's address given twice is named,
    as the API refuses a repeated key: now a 400 naming it, and neither file is read. A
    stranger is still only sent to sign in."""
    cp = region.care_provider
    withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
    closed = []
    for ref in ("K-twee-1", "K-twee-2"):
        case = create_case(client, cp, region.table_id, external_ref=ref)
        assert client.patch(
            f"/v1/cases/{case['id']}", json=withdrawn, headers=cp.headers
        ).is_success
        closed.append(case["id"])
    browser = signed_in(app, make_person(client, cp))
    sent = [("vorig", closed[0]), ("vorig", closed[1])]
    response = browser.get("/dossiers/nieuw", params=sent)
    assert response.status_code == 400, response.text
    assert f"Deze waarde klopt niet: Vorig dossier. {GIVEN_TWICE}" in response.text
    assert "previous_case_id" not in response.text
    for case_id in closed:
        assert ("read", "GET /dossiers/nieuw") not in _log(client, region, case_id)
    stranger = client.get("/dossiers/nieuw", params=sent, follow_redirects=False)
    assert stranger.status_code == 303 and "/aanmelden" in stranger.headers["location"]


def test_a_closed_file_in_the_address_is_read_only_as_the_api_writes_its_id(app, client, region):
    """`/dossiers/nieuw?vorig={<id>}` (braces, `urn:uuid:`, no hyphens) showed the return form,
    where the API refuses such an id in a query (400): now a 400 naming the field, nothing read.
    Upper case stays read, as by the API; text that is no id is named too (it was a 404)."""
    cp = region.care_provider
    case = create_case(client, cp, region.table_id, external_ref="K-spelling")
    withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
    assert client.patch(f"/v1/cases/{case['id']}", json=withdrawn, headers=cp.headers).is_success
    browser = signed_in(app, make_person(client, cp))
    canonical = case["id"]
    for other in [*other_spellings(canonical), "x"]:
        response = browser.get("/dossiers/nieuw", params={"vorig": other})
        assert response.status_code == 400, (other, response.text)
        assert "Deze waarde klopt niet: Vorig dossier. Gebruik de link" in response.text, other
    assert ("read", "GET /dossiers/nieuw") not in _log(client, region, canonical)
    upper = browser.get("/dossiers/nieuw", params={"vorig": canonical.upper()})
    assert upper.status_code == 200 and f'name="previous_case_id" value="{canonical}"' in upper.text


def _hidden(html: str) -> dict[str, str]:
    """The form's fields as filled in on the page (inputs and selected options)."""
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]* value="([^"]*)"[^>]*selected', body)
        values[name] = chosen.group(1) if chosen else ""
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in values.items()}


def test_a_form_shown_again_with_its_errors_keeps_the_version_the_worker_saw(app, client, region):
    """A worker's edit refused for a typo came back with the stored file's newest version, so
    fixing the typo and saving overwrote a colleague's change made meanwhile, unseen: the
    re-shown form holds what the worker typed over the file they were shown (found by a
    breaker)."""
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url)
    shown = {**_shown(page.text), "versie": _version(page.text)}
    client.patch(
        f"/v1/cases/{case['id']}",
        json={"household": {"children": 2}},
        headers=region.care_provider.headers,
    ).raise_for_status()
    typo = _post(browser, url, {**shown, "birth_year": "19x0"}, url)
    assert typo.status_code == 400
    assert _version(typo.text) == shown["versie"] and _shown(typo.text)["birth_year"] == "19x0"
    retyped = {**_shown(typo.text), "birth_year": shown["birth_year"]}
    fixed = _post(browser, url, {**retyped, "versie": _version(typo.text)}, url)
    assert fixed.status_code == 412
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["household"]["children"] == 2


def test_a_ready_date_after_the_meeting_that_proposed_the_case_is_refused_in_words(
    app, client, region
):
    """Moving the ready date of a proposed case past its meeting is refused by the service
    (`ready_since_after_meeting`); the page said only 'Dit kan niet.', on the field and above
    the form, which tells the worker neither what nor why (found by a breaker)."""
    published = publish_one(client, region)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{published.case_id}/bewerken"
    page = browser.get(url)
    edit = {**_shown(page.text), "ready_since": iso(-1), "versie": _version(page.text)}
    response = _post(browser, url, edit, url)
    assert response.status_code == 400
    assert "Dit kan niet." not in response.text
    # It names the meeting's day, which the API's reason names too: without it the worker had
    # to find out which ready date would do (found walking the README).
    said = "kies een datum op of vóór die vergadering (vergadering van {})."
    assert said.format(dutch_date(DATE)) in response.text


def test_resuming_sent_twice_stands_without_someone_else_changed_it(app, client, region):
    """A double click on 'Uit de wacht halen': the second sending found the version moved by
    the first and, as `ready` is never stored (a resumed case is `registered`), did not see
    its own change: it said someone else had changed the file (found by a breaker)."""
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{case['id']}/bewerken"
    url = f"/dossiers/{case['id']}/status"
    held = _post(browser, url, {"status": "on_hold", "reden": "client_request",
                                "versie": _version(browser.get(edit).text)}, edit)  # fmt: skip
    assert held.status_code == 303, held.text
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready",
            "versie": _version(browser.get(edit).text)}  # fmt: skip
    first, second = browser.post(url, data=form), browser.post(url, data=form)
    assert first.status_code == 303, first.text
    assert second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["status"] == "ready"


def test_an_edit_sent_twice_says_the_file_is_saved(app, client, region):
    """A double click on 'Opslaan': the second sending found the stored file already as it
    asks and answered 'Er was niets gewijzigd; het dossier is niet opnieuw opgeslagen', the
    page the browser shows, so the worker took the edit for lost (found by a breaker). As the
    dwelling's edit sent twice, it says the file is saved."""
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(url)
    form = {"csrf_token": csrf_of(browser, url), **_shown(page.text),
            "household.adults": "2", "versie": _version(page.text)}  # fmt: skip
    first, second = browser.post(url, data=form), browser.post(url, data=form)
    assert first.status_code == second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["location"].endswith("melding=dossier_opgeslagen")
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert (stored["household"]["adults"], stored["version"]) == (2, case["version"] + 1)


def _decline_parks(client, region, published) -> date:  # type: ignore[no-untyped-def]
    """The client declines the published proposal for a reason that parks the case: its date."""
    declined = client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "client_decline", "reason": "no_show"},
        headers=region.care_provider.headers,
    )
    assert declined.status_code == 200, declined.text
    return date.fromisoformat(declined.json()["decisions"][0]["parked_until"])


def _status_buttons(html: str) -> list[str]:
    return re.findall(r'name="status" value="([^"]*)"', html)


def _parked_edit_page(app, client, region, published):  # type: ignore[no-untyped-def]
    """The published proposal declined so that its case is parked, and the case's edit page as
    its care provider opens it (offering a hold or a withdrawal, no resume): the parking's
    date, the page's and the status form's paths, the signed-in browser and the page."""
    parked_until = _decline_parks(client, region, published)
    edit = f"/dossiers/{published.case_id}/bewerken"
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(edit).text
    assert _status_buttons(page) == ["on_hold", "withdrawn"]
    return parked_until, edit, f"/dossiers/{published.case_id}/status", browser, page


def test_a_parked_case_offers_no_resume_it_would_refuse_and_says_until_when(
    app, client, region, published
):
    """A case parked after a decline shows 'Aangehouden' and its form offered 'Uit de wacht
    halen', which the lifecycle refuses until the parking ends: the worker got 409 'Deze
    statuswijziging kan in de huidige status niet.' and the same button again. The page now
    says until when the case is held and offers no resume; a resume sent anyway says so. Once
    the parking has ended (the clock on its day) the case is ready, and a resume is done."""
    parked_until, edit, url, browser, page = _parked_edit_page(app, client, region, published)
    said = f"Aangehouden</strong> tot {dutch_date(parked_until)}, na een afwijzing"
    assert said in page
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    refused = browser.post(url, data=form)
    assert refused.status_code == 409, refused.text
    assert said in refused.text and _status_buttons(refused.text) == ["on_hold", "withdrawn"]
    assert f"aangehouden tot {dutch_date(parked_until)} en kan niet eerder" in refused.text
    stored = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    assert stored.json()["status"] == "on_hold"
    on_its_day = datetime.combine(parked_until, time(0, 10), tzinfo=AMSTERDAM)
    with time_machine.travel(on_its_day, tick=True):
        browser = signed_in(app, make_person(client, region.care_provider))
        form["csrf_token"] = csrf_of(browser, edit)
        done = browser.post(url, data=form)
        assert done.status_code == 303, done.text
        page = browser.get(done.headers["location"]).text
        assert "Status: <strong>Klaar voor uitstroom</strong>" in page, page
        assert "ready" not in _status_buttons(page)


def test_a_parked_case_put_on_hold_still_says_until_when_a_decline_holds_it(
    app, client, region, published
):
    """A case parked after a decline and then put on hold by its care provider showed only
    'Status: Aangehouden.' with 'Uit de wacht halen': the parking's date was gone from the page,
    so the worker resumed it and found it still held until that date. The page names the
    parking beside the hold; the resume lifts the hold alone, and the page then says so."""
    parked_until = _decline_parks(client, region, published)
    path = f"/v1/cases/{published.case_id}"
    held = client.patch(path, json={"status": "on_hold", "status_reason": "client_request"},
                        headers=region.care_provider.headers)  # fmt: skip
    assert held.status_code == 200, held.text
    assert held.json()["parked_until"] == parked_until.isoformat()
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{published.case_id}/bewerken"
    page = browser.get(edit).text
    assert _status_buttons(page) == ["ready", "withdrawn"]
    assert f"na een afwijzing ook aangehouden tot {dutch_date(parked_until)}" in page, page
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    done = browser.post(f"/dossiers/{published.case_id}/status", data=form)
    assert done.status_code == 303, done.text
    page = browser.get(done.headers["location"]).text
    said = f"Aangehouden</strong> tot {dutch_date(parked_until)}, na een afwijzing"
    assert said in page and _status_buttons(page) == ["on_hold", "withdrawn"]


def test_a_parked_case_is_put_on_hold_from_its_page_as_the_api_allows(
    app, client, region, published
):
    """The lifecycle holds a case parked after a decline (README: 'Put on hold by its care
    provider while parked'), and the API's PATCH does; its page offered only 'Afmelden', so a
    worker whose client became unreachable during the parking could not say so there (only a
    crafted post could). The page offers 'In de wacht zetten' with the hold's reasons; the hold
    keeps the parking, and the page then names both, the hold's reason included."""
    parked_until = _decline_parks(client, region, published)
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{published.case_id}/bewerken"
    page = browser.get(edit).text
    assert _status_buttons(page) == ["on_hold", "withdrawn"]
    assert '<option value="temporarily_unreachable">Tijdelijk onbereikbaar</option>' in page
    form = {"csrf_token": csrf_of(browser, edit), "status": "on_hold",
            "reden": "temporarily_unreachable", "versie": _version(page)}  # fmt: skip
    done = browser.post(f"/dossiers/{published.case_id}/status", data=form)
    assert done.status_code == 303, done.text
    stored = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    assert stored.json()["status"] == "on_hold"
    assert stored.json()["status_reason"] == "temporarily_unreachable"
    assert stored.json()["parked_until"] == parked_until.isoformat()
    page = browser.get(done.headers["location"]).text
    held = "Aangehouden</strong> (Tijdelijk onbereikbaar); na een afwijzing ook aangehouden tot"
    assert f"{held} {dutch_date(parked_until)}" in page, page
    assert _status_buttons(page) == ["ready", "withdrawn"]


def test_a_parked_case_held_from_its_page_stays_held_on_the_parkings_date(
    app, client, region, published
):
    """Held from its page while parked after a decline (the client unreachable beyond the
    parking), the case stays held once the parking's date has come: it does not come back on
    the agenda by itself, the page names the hold's reason and no parking any more, and offers
    'Uit de wacht halen', which makes it ready. Another care provider can neither hold nor
    resume it from the page."""
    parked_until, edit, url, browser, page = _parked_edit_page(app, client, region, published)
    form = {"csrf_token": csrf_of(browser, edit), "status": "on_hold",
            "reden": "temporarily_unreachable", "versie": _version(page)}  # fmt: skip
    held = browser.post(url, data=form)
    assert held.status_code == 303, held.text
    api = f"/v1/cases/{published.case_id}"
    on_its_day = datetime.combine(parked_until, time(0, 10), tzinfo=AMSTERDAM)
    with time_machine.travel(on_its_day, tick=True):
        stranger = signed_in(app, make_person(client, region.other_care_provider))
        stored = client.get(api, headers=region.care_provider.headers).json()
        assert (stored["status"], stored["status_reason"]) == ("on_hold", "temporarily_unreachable")
        why_not = client.get(
            f"/v1/tables/{region.table_id}/why-not",
            params={"caseId": published.case_id, "vacancyId": published.vacancy_id,
                    "date": parked_until.isoformat()},
            headers=region.chair.headers,
        )  # fmt: skip
        assert why_not.status_code == 200, why_not.text
        assert [r["code"] for r in why_not.json()["reasons"]] == ["case_on_hold"], why_not.text
        browser = signed_in(app, make_person(client, region.care_provider))
        page = browser.get(edit).text
        assert "Status: <strong>Aangehouden</strong> (Tijdelijk onbereikbaar). Eigen" in page, page
        assert "na een afwijzing" not in page
        assert _status_buttons(page) == ["ready", "withdrawn"]
        resume = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
        for status in ("ready", "on_hold"):
            stranger_form = {"csrf_token": csrf_of(stranger), "status": status,
                             "reden": "client_request", "versie": _version(page)}  # fmt: skip
            refused = stranger.post(url, data=stranger_form)
            assert refused.status_code == 404, refused.text
            assert stranger.get(edit).status_code == 404
        unchanged = client.get(api, headers=region.care_provider.headers).json()
        assert (unchanged["status"], unchanged["version"]) == ("on_hold", stored["version"])
        done = browser.post(url, data=resume)
        assert done.status_code == 303, done.text
        page = browser.get(done.headers["location"]).text
        assert "Status: <strong>Klaar voor uitstroom</strong>" in page, page
        assert client.get(api, headers=region.care_provider.headers).json()["status"] == "ready"


def test_a_parked_case_says_where_it_is_held_that_a_hold_outlasts_the_parking(
    app, client, region, published
):
    """A case parked after a decline comes back by itself on the parking's date; put on hold
    from its page, it does not (it stays held until it is resumed). The page offered the hold
    without a word of that, and the case page of the held case then read 'Aangehouden
    (Tijdelijk onbereikbaar) (aangehouden tot <date>)', as if the hold ended on that date, and
    still so once it had passed. Now the hold's button is described by a note that says so,
    and the case page says the held case does not come back by itself on that date: to its
    care provider 'tot uw organisatie het uit de wacht haalt' (it read 'tot de zorgaanbieder',
    the reader named in the third person: found by a breaker), to the chair 'tot de
    zorgaanbieder'."""
    parked_until, edit, url, browser, page = _parked_edit_page(app, client, region, published)
    day = dutch_date(parked_until)
    note = (
        f'<p id="let-op-on_hold" class="hint">Na een afwijzing is het dossier aangehouden tot '
        f"{day}; op die dag komt het vanzelf weer in aanmerking. Zet u het in de wacht, dan "
        f"gebeurt dat niet: het blijft in de wacht, ook na {day}, tot u het uit de wacht haalt.</p>"
    )
    assert note in page, page
    assert '<button type="submit" aria-describedby="let-op-on_hold">In de wacht zetten' in page
    assert page.count("let-op-") == 2  # the note and its reference: none for the withdrawal
    assert problems(page) == []
    show = f"/dossiers/{published.case_id}"
    parked = browser.get(show).text
    assert f"<strong>Aangehouden</strong> (aangehouden tot {day})</dd>" in parked, parked
    form = {"csrf_token": csrf_of(browser, edit), "status": "on_hold",
            "reden": "temporarily_unreachable", "versie": _version(page)}  # fmt: skip
    assert browser.post(url, data=form).status_code == 303
    held = browser.get(show).text
    said = (
        f"<strong>Aangehouden</strong> (Tijdelijk onbereikbaar); na een afwijzing ook aangehouden "
        f"tot {day}. Het dossier komt op die dag niet vanzelf weer in aanmerking: het blijft in "
        "de wacht tot {} het uit de wacht haalt</dd>"
    )
    assert said.format("uw organisatie") in held, held
    assert "de zorgaanbieder" not in held
    chair = signed_in(app, make_person(client, region.chair))
    assert said.format("de zorgaanbieder") in chair.get(show).text
    page = browser.get(edit).text
    assert (
        "Het dossier komt op die dag niet vanzelf weer in aanmerking: het blijft in de wacht "
        "tot u het uit de wacht haalt" in page
    ), page
    assert "let-op-" not in page  # no hold offered any more, so no note
    on_its_day = datetime.combine(parked_until, time(0, 10), tzinfo=AMSTERDAM)
    with time_machine.travel(on_its_day, tick=True):
        browser = signed_in(app, make_person(client, region.care_provider))
        held = browser.get(show).text
        assert "<strong>Aangehouden</strong> (Tijdelijk onbereikbaar)</dd>" in held, held


def test_a_held_case_page_names_the_reason_it_is_held(app, client, region):
    """A case on hold read 'Status: Aangehouden.' on its edit page, without the reason its file
    records (the case page and the API show it): whoever opened it could not tell a client's
    own request from an unreachable client without the timeline. It now names the reason, in
    Dutch; resumed, the case has no reason and the page shows none."""
    case = create_case(client, region.care_provider, region.table_id)
    path = f"/v1/cases/{case['id']}"
    held = client.patch(path, json={"status": "on_hold", "status_reason": "support_needs_changed"},
                        headers=region.care_provider.headers)  # fmt: skip
    assert held.status_code == 200, held.text
    browser = signed_in(app, make_person(client, region.care_provider))
    edit = f"/dossiers/{case['id']}/bewerken"
    page = browser.get(edit).text
    assert "Status: <strong>Aangehouden</strong> (Ondersteuningsbehoefte veranderd)." in page, page
    resumed = client.patch(path, json={"status": "ready"}, headers=region.care_provider.headers)
    assert resumed.status_code == 200, resumed.text
    page = browser.get(edit).text
    assert "Status: <strong>Klaar voor uitstroom</strong>. Eigen kenmerk" in page, page


def test_a_stale_resume_of_a_case_parked_since_is_refused_with_the_parking_shown(
    app, client, region
):
    """A resume form opened while the case was held, sent after a colleague resumed it and the
    client declined a proposal (the case parked): the stale form's 412 found the case stored
    `registered`, as a resume asks, and said 'De status van het dossier is gewijzigd.' while the
    case stays 'Aangehouden' until its date. It now says the case is held until then."""
    case = create_case(client, region.care_provider, region.table_id)
    path = f"/v1/cases/{case['id']}"
    headers = region.care_provider.headers
    held = client.patch(path, json={"status": "on_hold", "status_reason": "client_request"},
                        headers=headers)  # fmt: skip
    assert held.status_code == 200, held.text
    browser = signed_in(app, make_person(client, region.care_provider))
    edit, url = f"/dossiers/{case['id']}/bewerken", f"/dossiers/{case['id']}/status"
    page = browser.get(edit).text
    assert "ready" in _status_buttons(page)
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    assert client.patch(path, json={"status": "ready"}, headers=headers).status_code == 200
    create_vacancy(client, region.corporation, available_from=DATE)
    meeting = client.post(f"/v1/tables/{region.table_id}/meetings", json={"date": DATE},
                          headers=region.chair.headers).json()  # fmt: skip
    publish = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert publish.status_code == 200, publish.text
    [proposal] = client.get(f"/v1/tables/{region.table_id}/proposals",
                            headers=region.chair.headers).json()["items"]  # fmt: skip
    parked_until = _decline_parks(client, region, SimpleNamespace(proposal_id=proposal["id"]))
    sent = browser.post(url, data=form)
    assert sent.status_code == 409, sent.headers.get("location")
    assert f"aangehouden tot {dutch_date(parked_until)} en kan niet eerder" in sent.text
    assert f"Aangehouden</strong> tot {dutch_date(parked_until)}" in sent.text
    assert client.get(path, headers=headers).json()["status"] == "on_hold"


def test_a_resume_found_parked_on_the_locked_row_is_not_said_to_be_done() -> None:
    """The status form's check for a parked case reads the case before it is locked; a decline
    that parks it in between leaves it stored `registered`, as a resume does, and the stale
    resume's 412 was then taken for the form sent twice ('gewijzigd', the case held). A case
    parked on the locked row is not as a resume asks; one merely resumed is."""
    with time_machine.travel(datetime.combine(TODAY, time(12), tzinfo=AMSTERDAM), tick=False):
        parked = SimpleNamespace(
            status=CaseStatus.registered, parked_until=date(TODAY.year + 1, 1, 1)
        )
        resumed = SimpleNamespace(status=CaseStatus.registered, parked_until=None)
        assert not _stands(parked, {"status": "ready"})  # type: ignore[arg-type]
        assert _stands(resumed, {"status": "ready"})  # type: ignore[arg-type]


def test_holding_or_withdrawing_a_proposed_case_says_its_proposal_is_withdrawn(
    app, client, region, published
):
    """Putting a proposed case on hold (or withdrawing it) from its edit page withdraws its
    running proposal (`close_for_case`), the dwelling free again; the page offered both buttons
    without a word of it and then said only 'De status van het dossier is gewijzigd.' (found by
    a breaker: the worker learnt it from the timeline, or from the corporation). A note beside
    both buttons says so beforehand, and the notice afterwards."""
    edit, url = f"/dossiers/{published.case_id}/bewerken", f"/dossiers/{published.case_id}/status"
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(edit).text
    assert _status_buttons(page) == ["on_hold", "withdrawn"]
    note = (
        "Het dossier zit in een lopend voorstel. Zet u het in de wacht of meldt u het af, dan "
        "wordt dat voorstel ingetrokken.</p>"
    )
    for status in ("on_hold", "withdrawn"):
        assert f'<p id="let-op-{status}" class="hint">{note}' in page, page
        assert f'aria-describedby="let-op-{status}">' in page
    assert problems(page) == []
    form = {"csrf_token": csrf_of(browser, edit), "status": "on_hold",
            "reden": "client_request", "versie": _version(page)}  # fmt: skip
    held = browser.post(url, data=form)
    assert held.status_code == 303, held.text
    shown = browser.get(held.headers["location"]).text
    said = (
        '<div class="notice" role="status"><p>De status van het dossier is gewijzigd; het '
        "lopende voorstel is ingetrokken.</p></div>"
    )
    assert said in shown, shown
    assert "lopend voorstel" not in shown.split("</h1>", 1)[1], shown  # no note any more
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["status"] == "withdrawn", proposal.text
    resumed = browser.post(url, data={"csrf_token": csrf_of(browser, edit), "status": "ready",
                                      "versie": _version(shown)})  # fmt: skip
    assert resumed.headers["location"].endswith("melding=dossier_status"), resumed.text


def test_withdrawing_a_proposed_case_sent_twice_says_its_proposal_is_withdrawn_both_times(
    app, client, region, published
):
    """A double click on 'Afmelden' of a proposed case: the first sending withdraws the case
    and its proposal; the second found the change made (it stands) and said only 'De status
    van het dossier is gewijzigd.', the page the browser shows. Both now say the proposal was
    withdrawn; a change sent twice of a case in no proposal still says only the status."""
    edit, url = f"/dossiers/{published.case_id}/bewerken", f"/dossiers/{published.case_id}/status"
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(edit).text
    form = {"csrf_token": csrf_of(browser, edit), "status": "withdrawn",
            "reden": "own_solution", "versie": _version(page)}  # fmt: skip
    first, second = browser.post(url, data=form), browser.post(url, data=form)
    assert first.status_code == second.status_code == 303, second.text
    for sent in (first, second):
        assert sent.headers["location"].endswith("melding=dossier_status_voorstel_ingetrokken")
    other = create_case(client, region.care_provider, region.table_id)
    edit, url = f"/dossiers/{other['id']}/bewerken", f"/dossiers/{other['id']}/status"
    page = browser.get(edit).text
    form = {"csrf_token": csrf_of(browser, edit), "status": "on_hold",
            "reden": "client_request", "versie": _version(page)}  # fmt: skip
    first, second = browser.post(url, data=form), browser.post(url, data=form)
    for sent in (first, second):
        assert sent.headers["location"].endswith("melding=dossier_status"), sent.text


def _held_while_parked(app, client, region, published):  # type: ignore[no-untyped-def]
    """As `_parked_edit_page`, the case then put on hold from that page: its edit page offers
    'Uit de wacht halen', which lifts the hold and leaves the parking."""
    parked_until, edit, url, browser, page = _parked_edit_page(app, client, region, published)
    hold = {"csrf_token": csrf_of(browser, edit), "status": "on_hold",
            "reden": "temporarily_unreachable", "versie": _version(page)}  # fmt: skip
    held = browser.post(url, data=hold)
    assert held.status_code == 303, held.text
    page = browser.get(edit).text
    assert _status_buttons(page) == ["ready", "withdrawn"]
    return parked_until, edit, url, browser, page


def test_lifting_a_hold_kept_by_a_parking_sent_twice_says_the_hold_is_lifted(
    app, client, region, published
):
    """A double click on 'Uit de wacht halen' of a case put on hold from its page while parked
    after a decline: the first lifts the hold (the parking stays until its date); the second
    found the case parked and answered 409 'Dat lukte niet. ... er is niets gewijzigd', though
    the worker's change was made (found by a breaker). Both now say the hold is lifted and the
    case stays held until its date, as other double clicks show the first click's result."""
    parked_until, edit, url, browser, page = _held_while_parked(app, client, region, published)
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    first, second = browser.post(url, data=form), browser.post(url, data=form)
    assert first.status_code == 303, first.text
    assert second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    shown = browser.get(second.headers["location"]).text
    assert "Dat lukte niet" not in shown, shown
    notice = '<div class="notice" role="status"><p>Het dossier is uit de wacht gehaald.'
    assert notice in shown, shown
    said = f"Aangehouden</strong> tot {dutch_date(parked_until)}, na een afwijzing"
    assert said in shown and _status_buttons(shown) == ["on_hold", "withdrawn"]
    assert problems(shown) == []
    stored = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    assert (stored.json()["status"], stored.json()["status_reason"]) == ("on_hold", None)
    assert stored.json()["parked_until"] == parked_until.isoformat()
    edited = client.patch(f"/v1/cases/{published.case_id}", json={"household": {"adults": 2}},
                          headers=region.care_provider.headers)  # fmt: skip
    assert edited.status_code == 200, edited.text
    stale = browser.post(url, data=form)  # sent again after another change: not the click's
    assert stale.status_code == 409, stale.headers.get("location")


def test_the_notice_of_a_hold_lifted_while_parked_stays_true_when_the_page_is_reloaded(
    app, client, region, published
):
    """Lifting the hold of a case parked after a decline said 'Na de afwijzing blijft het
    aangehouden tot de datum hieronder', read from the address (`?melding=`): reloaded once the
    parking's date had come, the page showed no date below, the case ready (found by a
    breaker). The notice now names the date itself while the parking lasts, and afterwards
    says only that the hold was lifted; on another page the address's notice says only that."""
    parked_until, edit, url, browser, page = _held_while_parked(app, client, region, published)
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    done = browser.post(url, data=form)
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    day = dutch_date(parked_until)
    lifted = '<div class="notice" role="status"><p>Het dossier is uit de wacht gehaald.'
    parked = (
        f"{lifted} Na de afwijzing blijft het aangehouden tot {day}; op die dag komt het vanzelf "
        "weer in aanmerking.</p></div>"
    )
    assert parked in browser.get(location).text
    notice = location.split("?", 1)[1]
    assert f"{lifted}</p></div>" in browser.get(f"/dossiers/{published.case_id}?{notice}").text
    on_its_day = datetime.combine(parked_until, time(0, 10), tzinfo=AMSTERDAM)
    with time_machine.travel(on_its_day, tick=True):
        browser = signed_in(app, make_person(client, region.care_provider))
        reloaded = browser.get(location).text
        assert "Status: <strong>Klaar voor uitstroom</strong>" in reloaded, reloaded
        assert f"{lifted}</p></div>" in reloaded, reloaded
        assert "hieronder" not in reloaded and "aangehouden tot" not in reloaded, reloaded


def test_a_resume_of_a_case_a_decline_parked_since_is_not_taken_for_a_double_click(
    app, client, region, published
):
    """The double click above is told apart from a resume sent on a form shown before another
    change parked the case, one version later too: a proposed case's form (a resume crafted,
    or the no-op of a case already ready) sent after the client declined says the case is
    held until the parking's date, and nothing changed."""
    edit, url = f"/dossiers/{published.case_id}/bewerken", f"/dossiers/{published.case_id}/status"
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(edit).text
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    before = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    parked_until = _decline_parks(client, region, published)
    after = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    assert after.json()["version"] == before.json()["version"] + 1
    sent = browser.post(url, data=form)
    assert sent.status_code == 409, sent.headers.get("location")
    assert f"aangehouden tot {dutch_date(parked_until)} en kan niet eerder" in sent.text


def test_a_status_change_to_the_status_the_case_has_says_nothing_changed(app, client, region):
    """A crafted 'Uit de wacht halen' (`status=ready` with the page's version) of a case that
    is ready answered 303 'De status van het dossier is gewijzigd.' though nothing changed
    (found by a breaker). As the edit form that changes nothing, it now says nothing was
    changed; the version stays."""
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, region.care_provider))
    edit, url = f"/dossiers/{case['id']}/bewerken", f"/dossiers/{case['id']}/status"
    page = browser.get(edit).text
    assert "ready" not in _status_buttons(page)
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    sent = browser.post(url, data=form)
    assert sent.status_code == 303, sent.text
    shown = browser.get(sent.headers["location"]).text
    assert "De status van het dossier is gewijzigd." not in shown, shown
    said = '<div class="notice" role="status"><p>Er was niets gewijzigd: het dossier stond niet '
    assert said in shown, shown
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert (stored["status"], stored["version"]) == ("ready", case["version"])
    form |= {"status": "on_hold", "reden": "client_request"}
    held = browser.post(url, data=form)  # a change still says so
    assert held.headers["location"].endswith("melding=dossier_status"), held.text


def test_a_resume_of_a_case_not_yet_ready_does_not_say_it_had_that_status(app, client, region):
    """A crafted 'Uit de wacht halen' of a registered case whose ready date lies ahead (status
    'Aangemeld', never held) answered 'Er was niets gewijzigd; het dossier had deze status al.'
    above 'Status: Aangemeld' (found by a breaker): it never was 'Klaar voor uitstroom'. The
    notice now says what is true of every resume that changes nothing: the case was not held.
    A hold sent again with the reason it has still says the case had that status."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(3))
    assert case["status"] == "registered"
    browser = signed_in(app, make_person(client, region.care_provider))
    edit, url = f"/dossiers/{case['id']}/bewerken", f"/dossiers/{case['id']}/status"
    page = browser.get(edit).text
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    sent = browser.post(url, data=form)
    assert sent.status_code == 303, sent.text
    shown = browser.get(sent.headers["location"]).text
    assert "Status: <strong>Aangemeld</strong>" in shown, shown
    assert "had deze status al" not in shown, shown
    said = (
        '<div class="notice" role="status"><p>Er was niets gewijzigd: het dossier stond niet in '
        "de wacht.</p></div>"
    )
    assert said in shown, shown
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert (stored["status"], stored["version"]) == ("registered", case["version"])
    hold = {"status": "on_hold", "reden": "client_request"}
    held = browser.post(url, data=form | hold)
    assert held.headers["location"].endswith("melding=dossier_status"), held.text
    page = browser.get(edit).text
    again = {"csrf_token": csrf_of(browser, edit), "versie": _version(page), **hold}
    same = browser.post(url, data=again)
    assert same.headers["location"].endswith("melding=dossier_status_ongewijzigd"), same.text
    assert "het dossier had deze status al" in browser.get(same.headers["location"]).text


def test_lifting_a_parked_cases_hold_sent_twice_at_once_says_the_hold_is_lifted(
    app, client, region, published, monkeypatch
):
    """The two sendings of a double click at once: the second read the case held (before the
    first's write) and found it parked on the locked row, which `_stands` does not take for a
    resume ('Iemand anders heeft dit dossier intussen gewijzigd'). The first sending's write is
    made here between the second's check and its write."""
    from app.web import routes_case_files as pages

    parked_until, edit, url, browser, page = _held_while_parked(app, client, region, published)
    write = pages._write

    def first_sending_wins(request, session, web, case, patch, version, *rest):  # type: ignore[no-untyped-def]
        update = pages.CaseUpdate.model_validate(patch)
        pages.cases.update_case(session, web.access(), case, update, version)
        return write(request, session, web, case, patch, version, *rest)

    monkeypatch.setattr(pages, "_write", first_sending_wins)
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    sent = browser.post(url, data=form)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith("melding=dossier_uit_de_wacht_aangehouden")
    stored = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    assert (stored.json()["status"], stored.json()["parked_until"]) == (
        "on_hold", parked_until.isoformat())  # fmt: skip


def test_a_case_withdrawn_while_parked_is_not_said_to_be_held_until_the_parkings_date(
    app, client, region, published
):
    """A case parked after a decline and then withdrawn (closed: it never comes back) read
    'Afgemeld (Verhuisd) (aangehouden tot <date>)' on its case page, for the chair and the
    corporations too, as if it came back on that date (found by a breaker). A closed case's
    page names no parking; its edit page named none already."""
    parked_until, edit, url, browser, page = _parked_edit_page(app, client, region, published)
    form = {"csrf_token": csrf_of(browser, edit), "status": "withdrawn",
            "reden": "left_region", "versie": _version(page)}  # fmt: skip
    sent = browser.post(url, data=form)
    assert sent.status_code == 303, sent.text
    stored = client.get(f"/v1/cases/{published.case_id}", headers=region.care_provider.headers)
    assert stored.json()["status"] == "withdrawn"
    assert stored.json()["parked_until"] == parked_until.isoformat()  # kept, as the API shows
    show = f"/dossiers/{published.case_id}"
    chair = signed_in(app, make_person(client, region.chair))
    for reader in (browser, chair):
        shown = reader.get(show).text
        assert "<strong>Afgemeld</strong>" in shown, shown
        assert "aangehouden tot" not in shown, shown
        assert problems(shown) == []


def test_the_case_timeline_names_a_hold_lifted_while_parked_not_aangehouden_twice(
    app, client, region, published
):
    """'Uit de wacht halen' of a case put on hold while parked after a decline lifts the hold
    and keeps the parking: the case page's timeline showed 'Status gewijzigd: Aangehouden ->
    Aangehouden', a change from a status to itself that said nothing of what was done."""
    _, edit, url, browser, page = _held_while_parked(app, client, region, published)
    form = {"csrf_token": csrf_of(browser, edit), "status": "ready", "versie": _version(page)}
    assert browser.post(url, data=form).status_code == 303
    shown = browser.get(f"/dossiers/{published.case_id}").text
    cells = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", shown, re.S)]
    assert "Aangehouden → Aangehouden" not in cells, cells
    held = "In de wacht gezet (Tijdelijk onbereikbaar); na de afwijzing al aangehouden"
    assert held in cells, cells
    assert "Uit de wacht gehaald; na de afwijzing nog aangehouden" in cells, cells


def _timeline_cells(browser, case_id):  # type: ignore[no-untyped-def]
    shown = browser.get(f"/dossiers/{case_id}").text
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", shown, re.S)]


def test_the_case_timeline_names_a_hold_put_on_while_parked_as_a_hold_not_a_new_reason(
    app, client, region, published
):
    """A case parked after a decline (its status Aangehouden), then put on hold from its page:
    the timeline read 'Aangehouden → Aangehouden (Tijdelijk onbereikbaar)', as if a held case's
    reason had changed. It now names what the case was before, as a hold of an active case
    does ('Klaar voor uitstroom → Aangehouden (...)'). A held case whose reason does change
    still reads 'Aangehouden → Aangehouden (<new reason>)'."""
    _, _, _, browser, _ = _held_while_parked(app, client, region, published)
    cells = _timeline_cells(browser, published.case_id)
    held = "In de wacht gezet (Tijdelijk onbereikbaar); na de afwijzing al aangehouden"
    assert held in cells, cells
    assert "Aangehouden → Aangehouden (Tijdelijk onbereikbaar)" not in cells, cells
    other = {"status": "on_hold", "status_reason": "client_request"}
    headers = region.care_provider.headers
    assert client.patch(f"/v1/cases/{published.case_id}", json=other, headers=headers).is_success
    cells = _timeline_cells(browser, published.case_id)
    assert "Aangehouden → Aangehouden (Op verzoek van de cliënt)" in cells, cells


def test_an_edit_that_withdraws_the_cases_proposal_says_so(app, client, region, published):
    """An edit of a proposed case that makes it fail a rule of its pair (a household too large
    for the dwelling) withdraws its running proposal (`withdraw_for_case`, reason 'Dossier
    gewijzigd'), the dwelling free again; the page said only 'Het dossier is opgeslagen.', as
    the status form said only 'De status van het dossier is gewijzigd.' of a hold that did so.
    The notice now says the proposal was withdrawn; an edit that keeps the pair does not."""
    edit = f"/dossiers/{published.case_id}/bewerken"
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(edit).text
    url = f"/v1/proposals/{published.proposal_id}"
    kept = _post(browser, edit, {**_shown(page), "versie": _version(page),
                                 "support.intensity": "light"}, edit)  # fmt: skip
    assert kept.status_code == 303, kept.text
    assert kept.headers["location"].endswith("melding=dossier_opgeslagen"), kept.headers
    assert client.get(url, headers=region.chair.headers).json()["status"] == "proposed"
    page = browser.get(edit).text
    larger = {"household.adults": "2", "household.children": "5", "versie": _version(page)}
    edited = _post(browser, edit, {**_shown(page), **larger}, edit)
    assert edited.status_code == 303, edited.text
    assert client.get(url, headers=region.chair.headers).json()["status"] == "withdrawn"
    shown = browser.get(edited.headers["location"]).text
    said = (
        '<div class="notice" role="status"><p>Het dossier is opgeslagen; het past niet meer bij '
        "de woning van het lopende voorstel, dat daarom is ingetrokken.</p></div>"
    )
    assert said in shown, shown
