"""Every tenancy `GET /v1/tables/{id}/tenancies` answers with is one access-log row for its case,
and only those it answers with (not the row it reads ahead to know a next page exists)."""

from collections import Counter

from tests.aftercare.housing import access_log, house

ENDPOINT = "GET /v1/tables/{table_id}/tenancies"


def logged(client, region, org) -> Counter:  # type: ignore[no-untyped-def]
    """How often each case was logged for `org` on the tenancies list."""
    return Counter(
        e["case_id"]
        for e in access_log(client, region)
        if e["endpoint"] == ENDPOINT and e["organisation_id"] == org.id
    )


def tenancies(client, region, org, **params):  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/tables/{region.table_id}/tenancies", params=params, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_each_tenancy_listed_is_one_access_log_row_of_its_case(client, region):
    first = house(client, region, -60)["id"]
    second = house(client, region, -50)["id"]
    other = house(
        client,
        region,
        -40,
        care_provider=region.other_care_provider,
        corporation=region.other_corporation,
    )["id"]
    page = tenancies(client, region, region.municipality, limit=1)
    assert len(page["items"]) == 1 and page["next_cursor"]
    shown = page["items"][0]["case_id"]
    assert logged(client, region, region.municipality) == Counter({shown: 1})
    rest = tenancies(client, region, region.municipality, cursor=page["next_cursor"])
    assert logged(client, region, region.municipality) == Counter(
        {c["case_id"]: 1 for c in page["items"] + rest["items"]}
    )
    assert {c["case_id"] for c in page["items"] + rest["items"]} == {first, second, other}
    tenancies(client, region, region.corporation)
    assert logged(client, region, region.corporation) == Counter({first: 1, second: 1})
    tenancies(client, region, region.other_care_provider)
    assert logged(client, region, region.other_care_provider) == Counter({other: 1})
