"""Lost updates of dwellings: reads carry an ETag, and a write with `If-Match` is refused (412)
when the dwelling changed since it was read, as for case files."""

from tests.api.helpers import assert_problem
from tests.conftest import create_vacancy, vacancy_body


def test_a_read_carries_the_etag_of_the_dwellings_version(client, region):
    vacancy = create_vacancy(client, region.corporation)

    read = client.get(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)

    assert read.headers["ETag"] == f'"{vacancy["version"]}"'


def test_an_update_with_the_current_etag_is_stored_and_a_stale_one_is_412(client, region):
    corporation = region.corporation
    body = vacancy_body()
    created = client.post("/v1/vacancies", json=body, headers=corporation.headers)
    first_etag = created.headers["ETag"]

    fresh = client.post(
        "/v1/vacancies",
        json={**body, "rooms": 3},
        headers={**corporation.headers, "If-Match": first_etag},
    )
    stale = client.post(
        "/v1/vacancies",
        json={**body, "rooms": 4},
        headers={**corporation.headers, "If-Match": first_etag},
    )

    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["ETag"] != first_etag
    assert_problem(stale, 412, "precondition_failed")
    now = client.get(f"/v1/vacancies/{created.json()['id']}", headers=corporation.headers)
    assert now.json()["rooms"] == 3


def test_if_match_on_a_dwelling_that_does_not_exist_is_412_and_creates_nothing(client, region):
    body = vacancy_body()

    answer = client.post(
        "/v1/vacancies", json=body, headers={**region.corporation.headers, "If-Match": '"1"'}
    )

    assert_problem(answer, 412, "precondition_failed")
    listed = client.get("/v1/vacancies", headers=region.corporation.headers).json()["items"]
    assert body["external_ref"] not in {v["external_ref"] for v in listed}


def test_withdrawing_with_a_stale_etag_is_412_and_leaves_the_dwelling_on_offer(client, region):
    corporation = region.corporation
    body = vacancy_body()
    created = client.post("/v1/vacancies", json=body, headers=corporation.headers)
    client.post("/v1/vacancies", json={**body, "rooms": 5}, headers=corporation.headers)
    url = f"/v1/vacancies/{created.json()['id']}"

    stale = client.delete(url, headers={**corporation.headers, "If-Match": created.headers["ETag"]})
    current = client.get(url, headers=corporation.headers)
    withdrawn = client.delete(
        url, headers={**corporation.headers, "If-Match": current.headers["ETag"]}
    )

    assert_problem(stale, 412, "precondition_failed")
    assert current.json()["status"] == "available"
    assert withdrawn.status_code == 204
    assert client.get(url, headers=corporation.headers).json()["status"] == "withdrawn"


def test_if_none_match_star_on_a_known_dwelling_is_412_and_overwrites_nothing(client, region):
    corporation = region.corporation
    body = vacancy_body(rooms=2)
    created = client.post("/v1/vacancies", json=body, headers=corporation.headers)

    answer = client.post(
        "/v1/vacancies",
        json={**body, "rooms": 5},
        headers={**corporation.headers, "If-None-Match": "*"},
    )

    assert_problem(answer, 412, "precondition_failed")
    now = client.get(f"/v1/vacancies/{created.json()['id']}", headers=corporation.headers)
    assert (now.json()["rooms"], now.headers["ETag"]) == (2, created.headers["ETag"])


def test_if_none_match_star_offers_a_new_dwelling(client, region):
    answer = client.post(
        "/v1/vacancies",
        json=vacancy_body(),
        headers={**region.corporation.headers, "If-None-Match": "*"},
    )

    assert answer.status_code == 201, answer.text


def test_if_none_match_naming_the_current_etag_is_412(client, region):
    corporation = region.corporation
    body = vacancy_body(rooms=2)
    created = client.post("/v1/vacancies", json=body, headers=corporation.headers)
    headers = {**corporation.headers, "If-None-Match": created.headers["ETag"]}

    answer = client.post("/v1/vacancies", json={**body, "rooms": 5}, headers=headers)

    assert_problem(answer, 412, "precondition_failed")
