"""Every tenancy `GET /v1/tables/{id}/tenancies` answers with is one access-log row for its case,
and only those it answers with (not the row it reads ahead to know a next page exists); a write
that shows a tenancy is one row too, not a read and a write."""

from collections import Counter

import pytest

from tests.aftercare.housing import access_log, house
from tests.clock import iso

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


def _agreement(region) -> dict:  # type: ignore[no-untyped-def]
    return {
        "support_intensity": "intensive",
        "support_organisation_id": region.care_provider.id,
        "contact_frequency": "fortnightly",
        "starts_on": iso(-30),
        "action_signals": ["needs_table"],
    }


WRITES = [
    ("PUT", "/v1/cases/{case_id}/aftercare-agreement", "care_provider", _agreement),
    (
        "POST",
        "/v1/cases/{case_id}/checkpoints",
        "care_provider",
        lambda region: {
            "months": 3,
            "recorded_on": iso(-3),
            "still_living_there": True,
            "support_active": True,
        },
    ),
    (
        "PATCH",
        "/v1/cases/{case_id}/tenancy",
        "corporation",
        lambda region: {"ended_on": iso(-5), "end_reason": "moved_on"},
    ),
]


@pytest.mark.parametrize(
    ("method", "template", "actor", "body"), WRITES, ids=[f"{m} {t}" for m, t, _, _ in WRITES]
)
def test_a_tenancy_write_is_one_access_log_row_not_two(
    client, region, method, template, actor, body
):
    case_id = house(client, region, -100)["id"]
    org = getattr(region, actor)
    response = client.request(
        method, template.format(case_id=case_id), json=body(region), headers=org.headers
    )
    assert response.status_code in (200, 201), response.text
    rows = [
        e
        for e in access_log(client, region)
        if e["case_id"] == case_id and e["endpoint"] == f"{method} {template}"
    ]
    assert [(e["action"], e["organisation_id"]) for e in rows] == [("aftercare", org.id)]
