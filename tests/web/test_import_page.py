"""A care provider's worker (or a corporation's) reads a spreadsheet in on a page: checked
first with every problem named in Dutch, then stored all or nothing."""

import io
import re

import pytest
from openpyxl import load_workbook

from app.idempotency import Idempotency, IdempotencyKeyInProgress
from tests.conftest import OPERATOR
from tests.imports.sheets import case_row, dwelling_row, table, xlsx
from tests.web.conftest import csrf_of, form_token, make_person, other_spellings, signed_in
from tests.web.html_rules import problems


def _send(browser, content: bytes, step: str, name: str = "wachtlijst.xlsx", **fields):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_of(browser, "/inlezen"), "stap": step, **fields}
    return browser.post("/inlezen", data=data, files={"bestand": (name, content)})


def _refs(client, org) -> list[str]:  # type: ignore[no-untyped-def]
    items = client.get("/v1/cases", headers=org.headers).json()["items"]
    return sorted(c["external_ref"] for c in items)


def test_a_check_on_the_page_names_each_bad_cell_in_dutch_and_stores_nothing(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    rows = [case_row("K-1"), case_row("K-2", Volwassenen=3)]
    page = _send(browser, xlsx(table(rows)), "controleren", tafel=region.table_id)
    assert page.status_code == 200, page.text
    assert "1 fout gevonden" in page.text and "Er is niets opgeslagen" in page.text
    assert "<td>Volwassenen</td><td>E3</td><td>Mag hoogstens 2 zijn.</td>" in page.text
    assert _refs(client, region.care_provider) == []


def test_reading_in_on_the_page_stores_all_rows_and_again_changes_nothing(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    content = xlsx(table([case_row("K-1"), case_row("K-2")]))
    page = _send(browser, content, "inlezen", tafel=region.table_id)
    assert page.status_code == 200, page.text
    assert "2 nieuw, 0 gewijzigd, 0 ongewijzigd" in page.text
    assert _refs(client, region.care_provider) == ["K-1", "K-2"]
    again = _send(browser, content, "inlezen", tafel=region.table_id)
    assert "0 nieuw, 0 gewijzigd, 2 ongewijzigd" in again.text


def test_a_double_click_on_inlezen_reads_the_file_in_once_and_shows_what_it_stored(
    app, client, region
):
    """Both clicks send the same form; the browser shows the second answer. It said every row
    was 'ongewijzigd' (the first click had stored them), so the worker read that the file had
    been in already, or that nothing happened (found by breaker 32c). The form's own token
    makes the second click show the first one's report; the same file sent from a fresh page
    is an import again (nothing changes)."""
    browser = signed_in(app, make_person(client, region.care_provider))
    content = xlsx(table([case_row("K-1"), case_row("K-2")]))
    form = {"formulier": form_token(browser.get("/inlezen").text)}

    first = _send(browser, content, "inlezen", tafel=region.table_id, **form)
    second = _send(browser, content, "inlezen", tafel=region.table_id, **form)

    assert "2 nieuw, 0 gewijzigd, 0 ongewijzigd" in first.text
    assert second.status_code == 200, second.text
    assert "2 nieuw, 0 gewijzigd, 0 ongewijzigd" in second.text
    assert _refs(client, region.care_provider) == ["K-1", "K-2"]
    again = _send(browser, content, "inlezen", tafel=region.table_id)
    assert "0 nieuw, 0 gewijzigd, 2 ongewijzigd" in again.text


def test_a_second_click_while_the_first_is_still_reading_in_says_so_in_dutch(
    app, client, region, monkeypatch
):
    """A large file takes a while; the second click finds the first one's claim unfinished
    and used to show 'De toestand is intussen veranderd', as if the import had failed. It says
    the form is still being read in and that sending it again shows the result."""
    browser = signed_in(app, make_person(client, region.care_provider))
    content = xlsx(table([case_row("K-1")]))
    form = {"formulier": form_token(browser.get("/inlezen").text)}

    def unfinished(self):  # type: ignore[no-untyped-def]
        raise IdempotencyKeyInProgress()

    monkeypatch.setattr(Idempotency, "_claim", unfinished)
    second = _send(browser, content, "inlezen", tafel=region.table_id, **form)
    assert second.status_code == 409, second.text
    assert "wordt nog verwerkt" in second.text
    assert "De toestand is intussen veranderd" not in second.text


def test_a_refused_import_is_not_replayed_when_the_same_form_is_sent_again(
    app, client, region, other_region
):
    """A file refused whole stores nothing, and the API forgets its Idempotency-Key with it;
    the page kept its form's claim with the refusal, so the same form sent again once the
    cause was gone (here: the corporation named joined the table) showed the old refusal and
    stored nothing, without saying why."""
    browser = signed_in(app, make_person(client, region.care_provider))
    elsewhere = other_region.corporation
    content = xlsx(table([case_row("K-1", **{"Huurachterstand bij": elsewhere.name})]))
    form = {"formulier": form_token(browser.get("/inlezen").text)}
    refused = _send(browser, content, "inlezen", tafel=region.table_id, **form)
    assert refused.status_code == 400, refused.text
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    joined = {"member_organisation_ids": [*members, elsewhere.id]}
    assert client.patch(url, json=joined, headers=OPERATOR).is_success

    again = _send(browser, content, "inlezen", tafel=region.table_id, **form)

    assert again.status_code == 200, again.text
    assert "1 nieuw, 0 gewijzigd, 0 ongewijzigd" in again.text
    assert _refs(client, region.care_provider) == ["K-1"]


def test_reading_in_a_file_with_one_bad_row_stores_nothing(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    rows = [case_row("K-1"), case_row("K-2", Voorziening="Kliniek")]
    page = _send(browser, xlsx(table(rows)), "inlezen", tafel=region.table_id)
    assert page.status_code == 400
    assert "&#39;Kliniek&#39; kennen we niet" in page.text
    assert _refs(client, region.care_provider) == []


def test_a_care_provider_cannot_read_into_a_table_it_does_not_sit_at(
    app, client, region, other_region
):
    browser = signed_in(app, make_person(client, region.care_provider))
    page = _send(browser, xlsx(table([case_row("K-1")])), "inlezen", tafel=other_region.table_id)
    assert page.status_code == 400
    assert "Kies de tafel" in page.text
    assert _refs(client, other_region.care_provider) == []
    assert _refs(client, region.care_provider) == []


def test_the_table_is_read_only_as_the_api_writes_its_id_and_refused_beside_its_field(
    app, client, region, other_region
):
    """The import read its Tafel leniently: `{id}` and 32 digits read in into that table, and
    a value that is no id (`xx`, `urn:uuid:<id>` cut at 41) counted as no choice, so the care
    provider's only table took the file; `POST /v1/cases/imports?tableId=` refuses them all.
    Each is now refused with the form, the error beside Tafel, nothing stored; another
    organisation's table and an unknown one are answered alike."""
    browser = signed_in(app, make_person(client, region.care_provider))
    content = xlsx(table([case_row("K-1")]))
    unknown = "01a24f14-54a9-73a9-a43b-000000000000"
    answers = set()
    for given in [*other_spellings(region.table_id), "xx", other_region.table_id, unknown]:
        page = _send(browser, content, "inlezen", tafel=given)
        assert page.status_code == 400, (given, page.text)
        assert (
            '<select id="tafel" name="tafel" aria-invalid="true" aria-describedby="tafel-fout">'
            in page.text
        ), given
        assert (
            '<p class="field-error" id="tafel-fout">Kies de tafel waar de dossiers bij horen.</p>'
            in page.text
        )
        assert '<a href="#tafel">Tafel: Kies de tafel' in page.text and problems(page.text) == []
        shown = page.text.split("<main", 1)[1].split("</form>", 1)[0]
        answers.add(re.sub(r'name="formulier" value="\w+"', "", shown))
    assert len(answers) == 1  # says nothing of which table exists
    assert (
        _refs(client, region.care_provider) == []
        and _refs(client, other_region.care_provider) == []
    )
    assert _send(browser, content, "inlezen", tafel=region.table_id.upper()).status_code == 200


def test_the_table_list_shows_only_the_organisations_own_tables(app, client, region, other_region):
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get("/inlezen")
    assert page.status_code == 200
    assert f'value="{region.table_id}"' in page.text
    assert other_region.table_id not in page.text


def test_a_corporation_reads_in_its_dwellings(app, client, region):
    browser = signed_in(app, make_person(client, region.corporation))
    content = xlsx(table([dwelling_row("V-1"), dwelling_row("V-2")]), sheet="Woningen")
    page = _send(browser, content, "inlezen")
    assert page.status_code == 200, page.text
    assert "2 nieuw" in page.text
    mine = client.get("/v1/vacancies", headers=region.corporation.headers).json()["items"]
    assert sorted(v["external_ref"] for v in mine) == ["V-1", "V-2"]
    theirs = client.get("/v1/vacancies", headers=region.other_corporation.headers).json()
    assert theirs["items"] == []


def test_a_municipality_and_a_viewer_read_nothing_in(app, client, region):
    municipality = signed_in(app, make_person(client, region.municipality))
    assert municipality.get("/inlezen").status_code == 403
    viewer = signed_in(app, make_person(client, region.care_provider, "viewer"))
    assert viewer.get("/inlezen").status_code == 403


def test_the_template_explains_every_column(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    response = browser.get("/inlezen/sjabloon.xlsx")
    assert response.status_code == 200
    assert 'filename="sjabloon-dossiers.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Dossiers", "Toelichting"]
    headers = [c.value for c in workbook["Dossiers"][1]]
    explained = {
        row[0]: row[2] for row in workbook["Toelichting"].iter_rows(min_row=7, values_only=True)
    }
    assert {h.removesuffix(" *") for h in headers} == set(explained)
    assert all(explained.values())
    csv = browser.get("/inlezen/sjabloon.csv")
    assert csv.content.startswith("\ufeffEigen kenmerk *;".encode())


@pytest.mark.settings(rate_limit_batch_per_minute=1)
def test_reading_in_on_the_page_draws_from_the_batch_rate_limit(app, client, region):
    """The API's import draws from the key's batch budget; the page, which runs the same check
    and import, drew from none, so a signed-in person could send 10,000-row files without end."""
    browser = signed_in(app, make_person(client, region.care_provider))
    content = xlsx(table([case_row("K-1")]))
    assert _send(browser, content, "controleren", tafel=region.table_id).status_code == 200
    refused = _send(browser, content, "controleren", tafel=region.table_id)
    assert refused.status_code == 429
    assert "Even wachten" in refused.text
    assert int(refused.headers["Retry-After"]) >= 1


def test_a_refused_import_on_the_page_logs_a_read_of_each_case_its_rows_show(app, client, region):
    """A file refused whole lists its rows on the page as a check does: the stored case a row
    names, 'ongewijzigd' or 'gewijzigd', is read as in a check, and the check logs it. The
    refusal logged nothing (the API's refusal names only the problems)."""
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    stored = _send(browser, xlsx(table([case_row("K-1")])), "inlezen", tafel=region.table_id)
    assert stored.status_code == 200, stored.text
    [case] = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    rows = [case_row("K-1"), case_row("K-2", Volwassenen=3)]

    refused = _send(browser, xlsx(table(rows)), "inlezen", tafel=region.table_id)

    assert refused.status_code == 400, refused.text
    assert "<td>K-1</td><td>ongewijzigd</td>" in refused.text
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case["id"], "limit": 1000},
        headers=region.chair.headers,
    ).json()["items"]
    assert [(e["action"], e["endpoint"]) for e in log if e["person_id"] == person.id] == [
        ("create", "POST /inlezen"),
        ("read", "POST /inlezen"),
    ]


def test_the_row_limit_is_written_the_dutch_way(app, client, region):
    """The page said 'Hoogstens 5 MB en 10000 rijen'; in Dutch a thousand takes a dot, as every
    other figure on the pages does (`getal`): 10.000."""
    for org in (region.care_provider, region.corporation):
        page = signed_in(app, make_person(client, org)).get("/inlezen").text
        assert "10000 rijen" not in page and "10.000 rijen" in page
