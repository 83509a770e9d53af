"""A let dwelling is offered again by pushing it with a later `available_from` (its next
vacancy); that day must lie after its tenant's move-in, on every path that pushes it: the API,
the batch, the spreadsheet import and the dwelling page (found by the eighteenth breaker: a
dwelling came free before its tenant had moved in and went onto the agenda occupied)."""

from datetime import timedelta

from app.vacancies.models import VacancyIn
from tests.aftercare.housing import house, housed_proposal
from tests.api.helpers import assert_problem, invalid_names
from tests.clock import TODAY, iso
from tests.conftest import vacancy_body
from tests.imports.sheets import dwelling_row, nl, table, upload, xlsx
from tests.web.conftest import csrf_of, make_person, signed_in
from tests.web.test_dwelling_pages import _form, _version

MOVED_IN = -40  # days from today; the dwelling was on offer from 100 days before


def let_dwelling(client, region) -> dict:  # type: ignore[no-untyped-def]
    """The dwelling of a case housed MOVED_IN days ago, as its corporation reads it."""
    housed = housed_proposal(client, region, house(client, region, MOVED_IN)["id"])
    dwelling = client.get(
        f"/v1/vacancies/{housed['vacancy_id']}", headers=region.corporation.headers
    ).json()
    assert dwelling["status"] == "let"
    return dwelling


def pushed(dwelling: dict, day: int) -> dict:
    body = {k: v for k, v in dwelling.items() if k in VacancyIn.model_fields}
    return body | {"available_from": iso(day), "respond_before": iso(day)}


def stored(client, region, dwelling) -> dict:  # type: ignore[no-untyped-def]
    url = f"/v1/vacancies/{dwelling['id']}"
    return client.get(url, headers=region.corporation.headers).json()


def test_a_let_dwelling_cannot_come_free_before_or_on_its_tenants_move_in(client, region):
    dwelling = let_dwelling(client, region)
    headers = region.corporation.headers
    for day in (MOVED_IN - 10, MOVED_IN):
        refused = client.post("/v1/vacancies", json=pushed(dwelling, day), headers=headers)
        assert_problem(refused, 400)
        assert invalid_names(refused) == ["available_from"]
        assert refused.json()["invalidParams"][0]["code"] == "available_before_move_in"
    assert stored(client, region, dwelling) == dwelling
    offered = client.post("/v1/vacancies", json=pushed(dwelling, MOVED_IN + 1), headers=headers)
    assert offered.status_code == 200, offered.text
    assert offered.json()["status"] == "available"


def test_a_batch_names_the_item_that_offers_a_let_dwelling_too_early(client, region):
    dwelling = let_dwelling(client, region)
    items = [vacancy_body("GM0344", external_ref="W-new"), pushed(dwelling, MOVED_IN - 1)]
    response = client.post(
        "/v1/vacancies/batch", json={"items": items}, headers=region.corporation.headers
    )
    assert_problem(response, 400)
    [item] = response.json()["invalidItems"]
    assert (item["index"], item["external_ref"]) == (1, dwelling["external_ref"])
    assert [p["name"] for p in item["invalidParams"]] == ["items[1].available_from"]
    assert stored(client, region, dwelling)["status"] == "let"
    listed = client.get("/v1/vacancies", headers=region.corporation.headers).json()["items"]
    assert "W-new" not in {v["external_ref"] for v in listed}  # all or nothing


def test_the_import_names_the_row_that_offers_a_let_dwelling_too_early(client, region):
    dwelling = let_dwelling(client, region)
    early = TODAY + timedelta(days=MOVED_IN - 5)
    row = dwelling_row(dwelling["external_ref"], **{"Beschikbaar vanaf": nl(early)})
    content = xlsx(table([row]), sheet="Woningen")
    checked = upload(client, "/v1/vacancies/imports", content, region.corporation.headers)
    assert checked.status_code == 200, checked.text
    [issue] = checked.json()["issues"]
    assert (issue["row"], issue["code"]) == (2, "available_before_move_in")
    assert "na de verhuisdatum" in issue["message"]
    assert stored(client, region, dwelling)["status"] == "let"


def test_the_dwelling_page_refuses_a_day_before_the_move_in_in_dutch(app, client, region):
    dwelling = let_dwelling(client, region)
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/woningen/{dwelling['id']}/bewerken"
    page = browser.get(url)
    assert page.status_code == 200, page.text
    early = iso(MOVED_IN - 5)
    form = _form(available_from=early, respond_before=early) | {"versie": _version(page.text)}
    sent = browser.post(url, data={"csrf_token": csrf_of(browser, url), **form})
    assert sent.status_code == 400
    assert "na de verhuisdatum" in sent.text
    assert stored(client, region, dwelling) == dwelling
