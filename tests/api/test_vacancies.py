"""Vacancies: upsert by external_ref, all-or-nothing batches, table derived from municipality."""

import copy

import pytest
from sqlalchemy import update
from sqlmodel import col

from app.vacancies.models import Vacancy
from tests.api.helpers import assert_problem, invalid_names
from tests.clock import iso
from tests.conftest import create_vacancy, make_org, make_table, vacancy_body


def push(client, org, body, **headers):
    return client.post("/v1/vacancies", json=body, headers={**org.headers, **headers})


def push_batch(client, org, items):
    return client.post("/v1/vacancies/batch", json={"items": items}, headers=org.headers)


def own_vacancies(client, org, **params):
    response = client.get("/v1/vacancies", params={"limit": 1000, **params}, headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


# --- single upsert --------------------------------------------------------------------------


def test_new_vacancy_is_201_in_the_table_of_its_municipality(client, small_region):
    response = push(client, small_region.corporation, vacancy_body("GM0307"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["table_id"] == small_region.table_id
    assert body["corporation_id"] == small_region.corporation.id
    assert body["status"] == "available"
    assert response.headers["Location"] == f"/v1/vacancies/{body['id']}"


def test_table_follows_the_municipality_for_a_corporation_at_two_tables(client, small_region):
    second_table = make_table(
        client, make_org(client, "municipality"), [small_region.corporation], ["GM0518"]
    )
    here = create_vacancy(client, small_region.corporation, "GM0344")
    there = create_vacancy(client, small_region.corporation, "GM0518")
    assert here["table_id"] == small_region.table_id
    assert there["table_id"] == second_table


def test_known_external_ref_is_updated_with_200(client, small_region):
    body = vacancy_body()
    first = push(client, small_region.corporation, body).json()
    response = push(client, small_region.corporation, {**body, "rooms": 3})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == first["id"]
    assert response.json()["rooms"] == 3
    assert response.json()["version"] == first["version"] + 1
    assert len(own_vacancies(client, small_region.corporation)) == 1


def test_postcode_is_normalised(client, small_region):
    body = vacancy_body()
    body["address"] = {**body["address"], "postcode": "3512 ab"}
    assert (
        create_vacancy(client, small_region.corporation, **body)["address"]["postcode"] == "3512AB"
    )


def test_a_complex_reference_sent_with_blanks_around_it_is_the_same_complex(client, small_region):
    # The spreadsheet import and the dwelling's page trim what they read; the API stored
    # `CPX-1 ` as sent: a complex of its own for the spread cap (`max_per_complex`), and a
    # page edit of the rent alone then moved the dwelling into `CPX-1`.
    corporation = small_region.corporation
    padded = create_vacancy(client, corporation, complex_ref="CPX-1\u00a0")
    invisible = create_vacancy(client, corporation, complex_ref="\u200bCPX-1 ")
    plain = create_vacancy(client, corporation, complex_ref="CPX-1")
    assert padded["complex_ref"] == invisible["complex_ref"] == plain["complex_ref"] == "CPX-1"


@pytest.mark.parametrize("role", ["care_provider", "chair", "municipality"])
def test_only_corporations_offer_vacancies(client, region, role):
    assert_problem(push(client, getattr(region, role), vacancy_body()), 403)


def test_municipality_outside_the_corporations_tables_is_400(client, region, other_region):
    response = push(client, region.corporation, vacancy_body("GM0363"))
    assert invalid_names(response) == ["address.municipality_code"]


def test_municipality_without_any_table_is_400(client, small_region):
    response = push(client, small_region.corporation, vacancy_body("GM0999"))
    assert invalid_names(response) == ["address.municipality_code"]


def test_neighbourhood_outside_the_municipality_is_400(client, small_region):
    body = vacancy_body("GM0344")
    body["address"] = {**body["address"], "neighbourhood_code": "BU03070101"}
    names = invalid_names(push(client, small_region.corporation, body))
    assert any(name.startswith("address") for name in names), names
    assert own_vacancies(client, small_region.corporation) == []


@pytest.mark.parametrize(
    ("path", "value", "name"),
    [
        (("rent", "base"), "650.001", "rent.base"),
        (("rent", "base"), -5, "rent.base"),
        (("rooms",), 0, "rooms"),
        (("dwelling_type",), "castle", "dwelling_type"),
        (("contract_forms",), ["koop"], "contract_forms[0]"),
        (("contract_forms",), [], "contract_forms"),
        (("address", "postcode"), "0123AB", "address.postcode"),
        (("address", "municipality_code"), "GM344", "address.municipality_code"),
        (("address", "neighbourhood_code"), "WK034401", "address.neighbourhood_code"),
        (("available_from",), "2026-02-29", "available_from"),
        (("external_ref",), "V 1", "external_ref"),
        (("price",), 100, "price"),
    ],
)
def test_invalid_vacancy_field_is_named(client, small_region, path, value, name):
    body = vacancy_body()
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert name in invalid_names(push(client, small_region.corporation, body))


# Every number and yes/no of a dwelling in another JSON type, as pydantic's lax mode took them
# ("3" as 3 rooms, 1.0 as floor 1, true as age 1, "yes" as true, "off" and 0 as false), and the
# same in their own types.
LAX_DWELLING = {
    "rooms": "3",
    "floor": 1.0,
    "min_age": True,
    "has_lift": "yes",
    "wheelchair_accessible": 1,
    "contingent": "off",
    "complex_manager": "true",
    "pets_allowed": 0,
}
JSON_DWELLING = {
    "rooms": 3,
    "floor": 1,
    "min_age": 55,
    "has_lift": True,
    "wheelchair_accessible": True,
    "contingent": False,
    "complex_manager": True,
    "pets_allowed": False,
}


def test_a_dwellings_number_or_yes_no_of_another_json_type_is_400(client, small_region):
    # As a case file's: pydantic's lax mode stored "has_lift": "yes" as a lift and
    # "contingent": "off" as outside the contingent, a client's mapping error taken for a fact.
    corporation = small_region.corporation
    body = vacancy_body(**LAX_DWELLING)
    assert sorted(invalid_names(push(client, corporation, body))) == sorted(LAX_DWELLING)
    assert own_vacancies(client, corporation) == []
    stored = push(client, corporation, {**body, **JSON_DWELLING})
    assert stored.status_code == 201, stored.text
    assert {k: stored.json()[k] for k in JSON_DWELLING} == JSON_DWELLING


# --- batch ----------------------------------------------------------------------------------


def batch_of(n, code="GM0344"):
    return [vacancy_body(code, complex_ref=f"CPX-{i}") for i in range(n)]


def test_batch_creates_every_item(client, small_region):
    items = batch_of(4)
    response = push_batch(client, small_region.corporation, items)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (4, 0, 0)
    assert [i["external_ref"] for i in body["items"]] == [i["external_ref"] for i in items]
    assert len(own_vacancies(client, small_region.corporation)) == 4


def test_batch_items_are_stored_as_sent_whether_their_values_repeat_or_differ(client, small_region):
    # The batch insert converts a repeated value once for all rows that share it.
    items = [
        vacancy_body(complex_ref="CPX-A", contract_forms=["own_lease"], min_age=None),
        vacancy_body(complex_ref=None, contract_forms=["intermediate_lease", "own_lease"]),
        vacancy_body(complex_ref="CPX-A", contract_forms=["own_lease"], min_age=55),
        vacancy_body(respond_before=None, available_from=iso(30), has_lift=True, floor=4),
    ]
    items[1]["rent"] = {"base": "512.37", "eligible_service_costs": "0.00"}
    items[2]["rent"] = {"base": "712.50", "eligible_service_costs": "41.05"}
    response = push_batch(client, small_region.corporation, items)
    assert response.status_code == 200, response.text
    for sent, outcome in zip(items, response.json()["items"], strict=True):
        stored = client.get(
            f"/v1/vacancies/{outcome['id']}", headers=small_region.corporation.headers
        ).json()
        rent = {k: float(v) for k, v in sent["rent"].items()}
        expected = {**sent, "rent": rent, "contract_forms": sorted(sent["contract_forms"])}
        assert {name: stored[name] for name in sent} == expected


def test_same_batch_twice_creates_nothing_the_second_time(client, small_region):
    items = batch_of(5)
    first = push_batch(client, small_region.corporation, items).json()
    response = push_batch(client, small_region.corporation, items)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 5)
    assert [i["id"] for i in body["items"]] == [i["id"] for i in first["items"]]
    assert len(own_vacancies(client, small_region.corporation)) == 5


def test_changing_one_item_updates_only_that_item(client, small_region):
    items = batch_of(5)
    push_batch(client, small_region.corporation, items)
    changed = copy.deepcopy(items)
    changed[2]["rent"]["base"] = "700.00"
    body = push_batch(client, small_region.corporation, changed).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 4)
    assert [i["outcome"] for i in body["items"]] == [
        "unchanged",
        "unchanged",
        "updated",
        "unchanged",
        "unchanged",
    ]


def test_one_invalid_item_rejects_the_batch_and_stores_nothing(client, small_region):
    items = batch_of(5)
    items[3]["rent"]["base"] = "abc"
    body = assert_problem(push_batch(client, small_region.corporation, items), 400)
    assert [p["name"] for p in body["invalidParams"]] == ["items[3].rent.base"]
    assert own_vacancies(client, small_region.corporation) == []


def test_every_invalid_item_and_field_is_listed(client, small_region):
    items = batch_of(6)
    items[1]["rooms"] = 0
    items[3]["rent"]["base"] = "-1"
    items[3]["dwelling_type"] = "castle"
    items[5]["address"]["postcode"] = "nope"
    body = assert_problem(push_batch(client, small_region.corporation, items), 400)
    assert sorted(p["name"] for p in body["invalidParams"]) == [
        "items[1].rooms",
        "items[3].dwelling_type",
        "items[3].rent.base",
        "items[5].address.postcode",
    ]
    listed = [(i["index"], i["external_ref"]) for i in body["invalidItems"]]
    assert listed == [(n, items[n]["external_ref"]) for n in (1, 3, 5)]
    assert own_vacancies(client, small_region.corporation) == []


def test_a_batch_item_is_refused_with_the_reason_a_single_push_gives(client, small_region):
    # The batch listed pydantic's own reason, which quotes the regex a street failed (and
    # keeps its trailing space), where the push of the same dwelling says what is wrong.
    corporation = small_region.corporation
    body = vacancy_body()
    body["address"] = body["address"] | {"street": "\u202eDorpsstraat", "house_number": " "}
    alone = assert_problem(push(client, corporation, body), 400)["invalidParams"]
    listed = assert_problem(push_batch(client, corporation, [body]), 400)["invalidParams"]
    assert [(p["name"], p["reason"]) for p in listed] == [
        (f"items[0].{p['name']}", p["reason"]) for p in alone
    ]
    assert all("^" not in p["reason"] for p in listed)


def test_a_batch_items_number_or_yes_no_of_another_json_type_is_400(client, small_region):
    corporation = small_region.corporation
    items = batch_of(3)
    items[1] |= LAX_DWELLING
    body = assert_problem(push_batch(client, corporation, items), 400)
    names = sorted(p["name"] for p in body["invalidParams"])
    assert names == sorted(f"items[1].{name}" for name in LAX_DWELLING)
    assert own_vacancies(client, corporation) == []
    items[1] |= JSON_DWELLING
    stored = push_batch(client, corporation, items)
    assert stored.status_code == 200, stored.text
    [second] = [
        v
        for v in own_vacancies(client, corporation)
        if v["external_ref"] == items[1]["external_ref"]
    ]
    assert {k: second[k] for k in JSON_DWELLING} == JSON_DWELLING


def test_an_item_that_is_no_object_is_named_once_by_its_index(client, small_region):
    items = [*batch_of(1), "V-1", None]
    body = assert_problem(push_batch(client, small_region.corporation, items), 400)
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [
        ("items[1]", "dict_type"),
        ("items[2]", "dict_type"),
    ]
    assert [i["index"] for i in body["invalidItems"]] == [1, 2]


def test_an_item_that_is_no_object_does_not_hide_the_other_items_errors(client, small_region):
    """One item that is no object answered for itself only: the client fixed it and sent the
    batch again to learn of the next bad item (README: a 400 lists every invalid field)."""
    items = [*batch_of(3), 7]
    items[0]["rooms"] = 0
    items[2]["external_ref"] = items[1]["external_ref"]
    body = assert_problem(push_batch(client, small_region.corporation, items), 400)
    assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [
        ("items[0].rooms", "greater_than_equal"),
        ("items[2].external_ref", "duplicate_in_batch"),
        ("items[3]", "dict_type"),
    ]
    listed = [(i["index"], i["external_ref"]) for i in body["invalidItems"]]
    assert listed == [(0, items[0]["external_ref"]), (2, items[1]["external_ref"]), (3, None)]
    assert own_vacancies(client, small_region.corporation) == []


def test_uncovered_municipalities_are_listed_per_item(client, region, other_region):
    items = batch_of(4)
    items[0] = vacancy_body("GM0363")
    items[2] = vacancy_body("GM0999")
    body = assert_problem(push_batch(client, region.corporation, items), 400)
    assert [p["name"] for p in body["invalidParams"]] == [
        "items[0].address.municipality_code",
        "items[2].address.municipality_code",
    ]
    listed = [(i["index"], i["external_ref"]) for i in body["invalidItems"]]
    assert listed == [(0, items[0]["external_ref"]), (2, items[2]["external_ref"])]
    assert own_vacancies(client, region.corporation) == []


def test_schema_errors_and_uncovered_municipalities_are_listed_together(client, small_region):
    items = batch_of(4)
    items[1]["rent"]["base"] = "abc"
    items[3] = vacancy_body("GM0999")
    body = assert_problem(push_batch(client, small_region.corporation, items), 400)
    assert sorted(p["name"] for p in body["invalidParams"]) == [
        "items[1].rent.base",
        "items[3].address.municipality_code",
    ]
    assert [i["index"] for i in body["invalidItems"]] == [1, 3]


def test_invalid_batch_does_not_update_known_items(client, small_region):
    items = batch_of(3)
    push_batch(client, small_region.corporation, items)
    changed = copy.deepcopy(items)
    changed[0]["rooms"] = 4
    changed[2]["rooms"] = 0
    assert_problem(push_batch(client, small_region.corporation, changed), 400)
    stored = {v["external_ref"]: v for v in own_vacancies(client, small_region.corporation)}
    assert stored[items[0]["external_ref"]]["rooms"] == 2


def test_duplicate_external_ref_in_a_batch_is_400(client, small_region):
    items = batch_of(3)
    items[2]["external_ref"] = items[0]["external_ref"]
    body = assert_problem(push_batch(client, small_region.corporation, items), 400)
    assert [p["name"] for p in body["invalidParams"]] == ["items[2].external_ref"]
    assert own_vacancies(client, small_region.corporation) == []


def test_batch_of_1000_is_accepted(client, small_region):
    response = push_batch(client, small_region.corporation, batch_of(1000))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1000


def test_batch_of_1001_is_413(client, small_region):
    assert_problem(push_batch(client, small_region.corporation, batch_of(1001)), 413)
    assert own_vacancies(client, small_region.corporation) == []


def test_empty_batch_is_400(client, small_region):
    assert invalid_names(push_batch(client, small_region.corporation, [])) == ["items"]


def test_only_corporations_push_batches(client, small_region):
    assert_problem(push_batch(client, small_region.care_provider, batch_of(1)), 403)


def test_a_street_and_house_number_sent_with_blanks_around_them_are_stored_trimmed(
    client, small_region
):
    # The spreadsheet import and the dwelling's page trim every cell; the API stored
    # ` Dorpsstraat ` and ` 12A ` as sent (shown so on the pages, the agenda and exports), and
    # a later push of `Dorpsstraat` counted as a change.
    corporation = small_region.corporation
    body = vacancy_body()
    body["address"] = body["address"] | {
        "street": "\u00a0Dorpsstraat ",
        "house_number": " 12A\u200b",
    }
    created = push(client, corporation, body).json()
    assert (created["address"]["street"], created["address"]["house_number"]) == (
        "Dorpsstraat",
        "12A",
    )
    in_batch = vacancy_body()
    in_batch["address"] = in_batch["address"] | {
        "street": " Kerkweg\u2003",
        "house_number": "\ufeff3 ",
    }
    outcome = push_batch(client, corporation, [in_batch]).json()["items"][0]
    stored = client.get(f"/v1/vacancies/{outcome['id']}", headers=corporation.headers).json()
    assert (stored["address"]["street"], stored["address"]["house_number"]) == ("Kerkweg", "3")
    body["address"] = body["address"] | {"street": "Dorpsstraat", "house_number": "12A"}
    again = push(client, corporation, body)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == created["version"]


# --- read and withdraw ----------------------------------------------------------------------


def test_corporation_reads_its_vacancy(client, small_region):
    vacancy = create_vacancy(client, small_region.corporation)
    response = client.get(
        f"/v1/vacancies/{vacancy['id']}", headers=small_region.corporation.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == vacancy


def test_corporation_lists_its_vacancies(client, small_region):
    ids = [create_vacancy(client, small_region.corporation)["id"] for _ in range(3)]
    assert sorted(v["id"] for v in own_vacancies(client, small_region.corporation)) == sorted(ids)


def test_withdrawn_vacancy_shows_as_withdrawn(client, small_region):
    vacancy = create_vacancy(client, small_region.corporation)
    response = client.delete(
        f"/v1/vacancies/{vacancy['id']}", headers=small_region.corporation.headers
    )
    assert response.status_code == 204, response.text
    stored = client.get(f"/v1/vacancies/{vacancy['id']}", headers=small_region.corporation.headers)
    assert stored.json()["status"] == "withdrawn"


def test_withdrawing_again_is_a_204_that_changes_nothing(client, small_region):
    """As the README says of a DELETE sent again (where it said every one was a 404): a
    withdrawal is kept, so a retry of it answers 204 and leaves the dwelling's version."""
    vacancy = create_vacancy(client, small_region.corporation)
    url, headers = f"/v1/vacancies/{vacancy['id']}", small_region.corporation.headers
    assert client.delete(url, headers=headers).status_code == 204
    version = client.get(url, headers=headers).json()["version"]
    again = client.delete(url, headers=headers)
    assert again.status_code == 204, again.text
    stored = client.get(url, headers=headers).json()
    assert (stored["status"], stored["version"]) == ("withdrawn", version)


def test_status_filter_separates_withdrawn_vacancies(client, small_region):
    kept = create_vacancy(client, small_region.corporation)
    gone = create_vacancy(client, small_region.corporation)
    client.delete(f"/v1/vacancies/{gone['id']}", headers=small_region.corporation.headers)
    available = own_vacancies(client, small_region.corporation, status="available")
    withdrawn = own_vacancies(client, small_region.corporation, status="withdrawn")
    assert [v["id"] for v in available] == [kept["id"]]
    assert [v["id"] for v in withdrawn] == [gone["id"]]


def test_re_push_re_offers_a_withdrawn_vacancy(client, small_region):
    body = vacancy_body()
    vacancy = push(client, small_region.corporation, body).json()
    client.delete(f"/v1/vacancies/{vacancy['id']}", headers=small_region.corporation.headers)
    response = push(client, small_region.corporation, body)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == vacancy["id"]
    assert response.json()["status"] == "available"


def test_withdrawing_an_unknown_vacancy_is_404(client, small_region):
    response = client.delete(
        "/v1/vacancies/01930000-0000-7000-8000-000000000000",
        headers=small_region.corporation.headers,
    )
    assert_problem(response, 404)


def test_a_dwelling_stored_with_a_blank_street_before_the_rule_still_reads(
    client, small_region, session
):
    vacancy = create_vacancy(client, small_region.corporation)
    # Written as a dwelling sent before blank text was refused was stored.
    session.execute(
        update(Vacancy)
        .where(col(Vacancy.external_ref) == vacancy["external_ref"])
        .values(address_street="  ", complex_ref=" ")
    )
    session.expire_all()
    headers = small_region.corporation.headers
    response = client.get(f"/v1/vacancies/{vacancy['id']}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["address"]["street"] == "  "
    listed = client.get("/v1/vacancies", headers=headers).json()["items"]
    assert [v["complex_ref"] for v in listed] == [" "]
