"""A corporation's agenda says of each of its dwellings whether some case fits it (not how
many): 'ja' only for one that is not among its dwellings without a candidate."""

from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.conftest import create_vacancy, generated_contract
from tests.web.conftest import make_person, signed_in
from tests.web.test_limits_pages import pdf_text


def test_a_corporations_dwelling_no_case_fits_is_not_said_to_have_fitting_cases(
    app, client, region
):
    # The page, PDF and CSV said "Passende dossiers: ja" of every dwelling of the
    # corporation, also of the one listed a section further as without a candidate.
    vacancy = create_vacancy(client, region.corporation)  # no case at the table: none fits
    meeting = plan_meeting(client, region, iso(7))
    url = f"/vergaderingen/{meeting['id']}"
    ref = vacancy["external_ref"]
    corporation = signed_in(app, make_person(client, region.corporation))

    page = corporation.get(url).text
    section = page.split("<h3>Per woning</h3>", 1)[1].split("</table>", 1)[0]
    row = next(r for r in section.split("<tr>") if ref in r)
    csv = corporation.get(url + "/agenda.csv").content.decode("utf-8-sig")
    [line] = [r for r in csv.splitlines() if r.startswith("kandidaten_per_woning;")]
    pdf = pdf_text(corporation.get(url + "/agenda.pdf").content)

    assert '<td class="num">nee</td>' in row, row
    assert line.endswith(f";{ref};nee"), line
    assert b"(nee)" in pdf


def test_the_contract_does_not_say_a_case_fits_every_dwelling_a_corporation_is_listed(
    client, region
):
    # The API lists every dwelling of the corporation in `candidates_by_vacancy` (the agenda
    # is paged in that order); the contract said they were the ones some case fits.
    vacancy = create_vacancy(client, region.corporation)
    meeting = plan_meeting(client, region, iso(7))
    agenda = client.get(
        f"/v1/meetings/{meeting['id']}/agenda", headers=region.corporation.headers
    ).json()
    assert [e["vacancy_id"] for e in agenda["candidates_by_vacancy"]] == [vacancy["id"]]
    assert [e["vacancy_id"] for e in agenda["vacancies_without_candidates"]] == [vacancy["id"]]
    schemas = generated_contract()["components"]["schemas"]
    listed = schemas["CorporationAgenda"]["properties"]["candidates_by_vacancy"]
    assert "vacancies_without_candidates" in listed["description"]
    assert "some case fits" not in schemas["CorporationVacancyOut"]["description"]
