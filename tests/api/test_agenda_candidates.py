"""A case's or dwelling's whole candidate list, page by page: the rest of the agenda's top
`candidates`, ranked as the agenda ranks it, for whoever sees that list in the agenda."""

import pytest

from tests.api.helpers import assert_problem, plan_meeting
from tests.clock import iso
from tests.conftest import create_case, create_vacancy

MEETING = iso()


@pytest.fixture
def market(client, region):
    """Three cases of the care provider, one of the other, and five dwellings all of them fit."""
    cases = [
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-900 + 50 * i))
        for i in range(3)
    ] + [create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-400))]
    vacancies = [
        create_vacancy(client, region.corporation, complex_ref=f"C{i}") for i in range(3)
    ] + [create_vacancy(client, region.other_corporation, complex_ref=f"D{i}") for i in range(2)]
    return cases, vacancies


def agenda(client, org, table_id, **params):
    response = client.get(
        f"/v1/tables/{table_id}/agenda", params={"date": MEETING, **params}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def candidates(client, org, table_id, kind, subject_id, **params):
    return client.get(
        f"/v1/tables/{table_id}/agenda/{kind}/{subject_id}/candidates",
        params={"date": MEETING, **params},
        headers=org.headers,
    )


def all_pages(client, org, table_id, kind, subject_id, limit):
    items, cursor = [], None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = candidates(client, org, table_id, kind, subject_id, **params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return page, items


def test_the_agendas_list_is_the_head_of_the_whole_ranked_list(client, region, market):
    document = agenda(client, region.chair, region.table_id, candidates=2)
    for entry in document["candidates_by_case"]:
        page, items = all_pages(client, region.chair, region.table_id, "cases", entry["case_id"], 2)
        assert len(items) == page["feasible_count"] == entry["feasible_count"]
        assert [(c["vacancy_id"], c["score"]) for c in items[:2]] == [
            (c["vacancy_id"], c["score"]) for c in entry["candidates"]
        ]
        assert [c["score"] for c in items] == sorted((c["score"] for c in items), reverse=True)
        assert page["excluded_counts"] == entry["excluded_counts"]
    for entry in document["candidates_by_vacancy"]:
        page, items = all_pages(
            client, region.chair, region.table_id, "vacancies", entry["vacancy_id"], 3
        )
        assert len(items) == entry["feasible_count"]
        assert [c["case_id"] for c in items[:2]] == [c["case_id"] for c in entry["candidates"]]


def test_each_listed_candidate_has_components_that_add_up_to_its_score(client, region, market):
    cases, _ = market
    page = candidates(client, region.chair, region.table_id, "cases", cases[0]["id"]).json()
    assert page["items"]
    for item in page["items"]:
        assert sum(c["points"] for c in item["components"]) == pytest.approx(item["score"], 1e-3)


def test_a_care_provider_pages_its_own_case_and_gets_404_for_another_providers(
    client, region, market
):
    cases, _ = market
    plan_meeting(client, region, MEETING)
    own = candidates(client, region.care_provider, region.table_id, "cases", cases[0]["id"])
    assert own.status_code == 200, own.text
    other = candidates(client, region.care_provider, region.table_id, "cases", cases[3]["id"])
    assert_problem(other, 404)


def test_a_corporation_sees_no_candidate_list(client, region, market):
    cases, vacancies = market
    plan_meeting(client, region, MEETING)
    by_case = candidates(client, region.corporation, region.table_id, "cases", cases[0]["id"])
    assert_problem(by_case, 403)
    own_dwelling = vacancies[0]["id"]
    by_vacancy = candidates(client, region.corporation, region.table_id, "vacancies", own_dwelling)
    assert_problem(by_vacancy, 403)


def test_a_dwellings_ranking_of_cases_is_for_the_table_only(client, region, market):
    _, vacancies = market
    plan_meeting(client, region, MEETING)
    response = candidates(
        client, region.care_provider, region.table_id, "vacancies", vacancies[0]["id"]
    )
    assert_problem(response, 403)


def test_a_case_not_on_the_agenda_is_404(client, region, market):
    later = create_case(client, region.care_provider, region.table_id, ready_since=iso(30))
    response = candidates(client, region.chair, region.table_id, "cases", later["id"])
    assert_problem(response, 404)


def test_a_malformed_cursor_or_page_size_is_400(client, region, market):
    cases, _ = market
    bad_cursor = candidates(
        client, region.chair, region.table_id, "cases", cases[0]["id"], cursor="nope"
    )
    assert_problem(bad_cursor, 400)
    bad_limit = candidates(client, region.chair, region.table_id, "cases", cases[0]["id"], limit=0)
    assert_problem(bad_limit, 400)


def test_a_cursor_whose_entry_left_the_list_is_409(client, region, market):
    cases, vacancies = market
    first = candidates(client, region.chair, region.table_id, "cases", cases[0]["id"], limit=1)
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    listed = first.json()["items"][0]["vacancy_id"]
    withdrawn = client.delete(f"/v1/vacancies/{listed}", headers=_owner(region, vacancies, listed))
    assert withdrawn.status_code in (200, 204), withdrawn.text
    again = candidates(
        client, region.chair, region.table_id, "cases", cases[0]["id"], limit=1, cursor=cursor
    )
    assert_problem(again, 409, "candidates_changed")


def _owner(region, vacancies, vacancy_id):
    index = [v["id"] for v in vacancies].index(vacancy_id)
    return (region.corporation if index < 3 else region.other_corporation).headers


def test_every_case_a_page_names_is_in_the_access_log(client, region, market):
    _, vacancies = market
    page = candidates(
        client, region.chair, region.table_id, "vacancies", vacancies[0]["id"], limit=2
    ).json()
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"limit": 1000},
        headers=region.chair.headers,
    ).json()["items"]
    logged = {e["case_id"] for e in log if e["action"] == "agenda"}
    assert {c["case_id"] for c in page["items"]} <= logged
    assert len(page["items"]) == 2


def test_a_cursor_after_the_list_reordered_before_it_is_409_not_a_skipped_entry(
    client, region, market
):
    """The first page listed the dwelling's two best cases; then the third got an urgency
    declaration and ranks first. Paging on after the second case skipped it: a case nobody
    had seen was left out of the walk without a word."""
    cases, vacancies = market
    dwelling = vacancies[0]["id"]
    first = candidates(client, region.chair, region.table_id, "vacancies", dwelling, limit=2)
    assert first.status_code == 200, first.text
    seen = [c["case_id"] for c in first.json()["items"]]
    assert seen == [cases[0]["id"], cases[1]["id"]]
    cursor = first.json()["next_cursor"]
    changed = client.patch(
        f"/v1/cases/{cases[2]['id']}",
        json={"urgency": True},
        headers={**region.care_provider.headers, "If-Match": f'"{cases[2]["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    now = candidates(client, region.chair, region.table_id, "vacancies", dwelling, limit=10)
    assert now.json()["items"][0]["case_id"] == cases[2]["id"]
    again = candidates(
        client, region.chair, region.table_id, "vacancies", dwelling, limit=2, cursor=cursor
    )
    assert_problem(again, 409, "candidates_changed")


def test_a_cursor_of_another_case_s_list_is_a_400(client, region, market):
    cases, _ = market
    first = candidates(client, region.chair, region.table_id, "cases", cases[0]["id"], limit=1)
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    other = candidates(
        client, region.chair, region.table_id, "cases", cases[1]["id"], limit=1, cursor=cursor
    )
    problem = assert_problem(other, 400, "validation_error")
    assert [p["code"] for p in problem["invalidParams"]] == ["invalid_cursor"]
