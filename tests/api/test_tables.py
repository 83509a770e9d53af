"""Outflow tables: creation by the operator, default policy, membership, and policy edits."""

import json
import uuid

import pytest

from tests.api.helpers import assert_problem, invalid_names
from tests.clock import iso
from tests.conftest import (
    OPERATOR,
    create_case,
    create_vacancy,
    generated_contract,
    make_org,
    make_table,
)

DEFAULT_POLICY = {
    "rooms_by_household_size": {
        "1": [1, 3],
        "2": [2, 3],
        "3": [3, 4],
        "4": [3, 5],
        "5": [4, None],
    },
    "horizon_days": 56,
    "require_stable_income": True,
    "beschikking_required": "requested",
    "min_registration_months": 24,
    "max_per_complex": 2,
    "max_per_neighbourhood": 5,
    "spread_window_months": 24,
}

ALL_SIZES = {"1": [1, 3], "2": [2, 3], "3": [3, 4], "4": [3, 5], "5": [4, None]}


def table_body(chair, members, codes, **extra):
    return {
        "name": f"Tafel {uuid.uuid4().hex[:8]}",
        "municipality_codes": codes,
        "chair_organisation_id": chair.id,
        "member_organisation_ids": [m.id for m in members],
        **extra,
    }


def policy_subset(policy):
    return {k: policy[k] for k in DEFAULT_POLICY}


def test_table_without_policy_gets_the_default_policy(client):
    chair = make_org(client, "municipality")
    response = client.post("/v1/tables", json=table_body(chair, [], ["GM0344"]), headers=OPERATOR)
    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert policy_subset(body["policy"]) == DEFAULT_POLICY


def test_partial_policy_is_merged_with_the_defaults(client):
    chair = make_org(client, "municipality")
    body = table_body(chair, [], ["GM0344"], policy={"horizon_days": 28, "max_per_complex": 1})
    response = client.post("/v1/tables", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    expected = {**DEFAULT_POLICY, "horizon_days": 28, "max_per_complex": 1}
    assert policy_subset(response.json()["policy"]) == expected


def test_chair_is_always_a_member(client):
    chair, cp = make_org(client, "municipality"), make_org(client, "care_provider")
    response = client.post("/v1/tables", json=table_body(chair, [cp], ["GM0344"]), headers=OPERATOR)
    assert sorted(response.json()["member_organisation_ids"]) == sorted([chair.id, cp.id])


def test_municipality_code_of_another_table_conflicts(client):
    chair, other_chair = make_org(client, "municipality"), make_org(client, "municipality")
    make_table(client, chair, [], ["GM0344", "GM0307"])
    response = client.post(
        "/v1/tables", json=table_body(other_chair, [], ["GM0307", "GM0363"]), headers=OPERATOR
    )
    assert_problem(response, 409)


def test_unknown_chair_is_a_400_on_the_chair_field(client):
    body = table_body(make_org(client, "municipality"), [], ["GM0344"])
    body["chair_organisation_id"] = str(uuid.uuid4())
    response = client.post("/v1/tables", json=body, headers=OPERATOR)
    assert invalid_names(response) == ["chair_organisation_id"]


def test_unknown_member_is_a_400_on_the_members_field(client):
    body = table_body(make_org(client, "municipality"), [], ["GM0344"])
    body["member_organisation_ids"] = [str(uuid.uuid4())]
    response = client.post("/v1/tables", json=body, headers=OPERATOR)
    assert invalid_names(response) == ["member_organisation_ids"]


@pytest.mark.parametrize("code", ["GM344", "0344", "gm0344", "WK034401"])
def test_malformed_municipality_code_is_rejected(client, code):
    body = table_body(make_org(client, "municipality"), [], [code])
    response = client.post("/v1/tables", json=body, headers=OPERATOR)
    assert invalid_names(response) == ["municipality_codes[0]"]


def test_organisation_key_cannot_create_a_table(client):
    chair = make_org(client, "municipality")
    response = client.post(
        "/v1/tables", json=table_body(chair, [], ["GM0344"]), headers=chair.headers
    )
    assert_problem(response, 403)


@pytest.mark.parametrize("role", ["chair", "municipality", "care_provider", "corporation"])
def test_members_read_the_table(client, region, role):
    response = client.get(f"/v1/tables/{region.table_id}", headers=getattr(region, role).headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == region.table_id


def test_non_member_gets_404_for_a_table(client, region, other_region):
    response = client.get(f"/v1/tables/{region.table_id}", headers=other_region.chair.headers)
    assert_problem(response, 404)


def test_table_list_shows_only_the_callers_tables(client, region, other_region):
    response = client.get("/v1/tables", headers=region.care_provider.headers)
    assert [t["id"] for t in response.json()["items"]] == [region.table_id]


def test_chair_changes_the_policy(client, small_region):
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"horizon_days": 84}},
        headers=small_region.chair.headers,
    )
    assert response.status_code == 200, response.text
    assert policy_subset(response.json()["policy"]) == {**DEFAULT_POLICY, "horizon_days": 84}


def test_chair_policy_change_is_visible_to_members(client, small_region):
    client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"require_stable_income": False}},
        headers=small_region.chair.headers,
    )
    table = client.get(
        f"/v1/tables/{small_region.table_id}", headers=small_region.corporation.headers
    ).json()
    assert table["policy"]["require_stable_income"] is False


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Nieuwe naam"},
        {"municipality_codes": ["GM0344"]},
        {"member_organisation_ids": []},
    ],
    ids=["name", "municipality_codes", "member_organisation_ids"],
)
def test_chair_may_not_change_other_fields(client, small_region, change):
    response = client.patch(
        f"/v1/tables/{small_region.table_id}", json=change, headers=small_region.chair.headers
    )
    assert_problem(response, 403)
    table = client.get(
        f"/v1/tables/{small_region.table_id}", headers=small_region.chair.headers
    ).json()
    assert table["version"] == 1


@pytest.mark.parametrize("role", ["municipality", "care_provider", "corporation"])
def test_non_chair_member_may_not_change_the_policy(client, region, role):
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"horizon_days": 7}},
        headers=getattr(region, role).headers,
    )
    assert_problem(response, 403)


def test_operator_changes_any_field(client, region):
    new_chair = region.municipality
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={
            "name": "Regio Utrecht",
            "municipality_codes": ["GM0344", "GM0307", "GM0310"],
            "chair_organisation_id": new_chair.id,
            "policy": {"max_per_neighbourhood": 3},
        },
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Regio Utrecht"
    assert body["municipality_codes"] == ["GM0307", "GM0310", "GM0344"]
    assert body["chair_organisation_id"] == new_chair.id
    assert body["policy"]["max_per_neighbourhood"] == 3


def test_operator_cannot_move_a_municipality_owned_by_another_table(client, region, other_region):
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"municipality_codes": ["GM0344", "GM0363"]},
        headers=OPERATOR,
    )
    assert_problem(response, 409)


def test_patch_with_the_current_etag_succeeds(client, small_region):
    current = client.get(f"/v1/tables/{small_region.table_id}", headers=small_region.chair.headers)
    etag = current.headers["ETag"]
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"horizon_days": 30}},
        headers={**small_region.chair.headers, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != etag


def test_a_patch_that_repeats_the_current_values_keeps_the_etag(client, small_region):
    url = f"/v1/tables/{small_region.table_id}"
    current = client.get(url, headers=OPERATOR)
    table = current.json()
    same = {
        "name": table["name"],
        "member_organisation_ids": table["member_organisation_ids"][::-1],
        "municipality_codes": table["municipality_codes"],
    }
    response = client.patch(
        url, json=same, headers={**OPERATOR, "If-Match": current.headers["ETag"]}
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == current.headers["ETag"]


def test_a_change_of_members_alone_moves_the_etag(client, small_region):
    url = f"/v1/tables/{small_region.table_id}"
    current = client.get(url, headers=OPERATOR)
    members = current.json()["member_organisation_ids"]
    response = client.patch(url, json={"member_organisation_ids": members[:-1]}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != current.headers["ETag"]


def test_patch_with_a_stale_etag_is_412(client, small_region):
    stale = client.get(f"/v1/tables/{small_region.table_id}", headers=small_region.chair.headers)
    client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"horizon_days": 30}},
        headers=small_region.chair.headers,
    )
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"horizon_days": 14}},
        headers={**small_region.chair.headers, "If-Match": stale.headers["ETag"]},
    )
    assert_problem(response, 412)
    table = client.get(
        f"/v1/tables/{small_region.table_id}", headers=small_region.chair.headers
    ).json()
    assert table["policy"]["horizon_days"] == 30


INVALID_POLICIES = [
    pytest.param(
        {"rooms_by_household_size": {**ALL_SIZES, "2": [3, 2]}},
        "policy.rooms_by_household_size",
        id="rooms-max-below-min",
    ),
    pytest.param(
        {"rooms_by_household_size": {k: v for k, v in ALL_SIZES.items() if k != "5"}},
        "policy.rooms_by_household_size",
        id="household-size-missing",
    ),
    pytest.param({"horizon_days": -1}, "policy.horizon_days", id="negative-horizon"),
    pytest.param(
        {"beschikking_required": "maybe"}, "policy.beschikking_required", id="unknown-level"
    ),
    pytest.param({"horizon_dayz": 10}, "policy.horizon_dayz", id="unknown-field"),
    # A null named `policy` alone: the client looked for the field in vain.
    pytest.param({"horizon_days": None}, "policy.horizon_days", id="null-field"),
]


# Every number and yes/no of the policy in another JSON type, as pydantic's lax mode took them
# ("28" as 28 days, "no" as false, 12.0 as 12, true as 1), and the same in their own types.
LAX_POLICY = {
    "horizon_days": "28",
    "require_stable_income": "no",
    "min_registration_months": 12.0,
    "max_per_complex": True,
    "max_per_neighbourhood": "3",
    "spread_window_months": "12",
    "rooms_by_household_size": {**ALL_SIZES, "1": ["1", 2]},
    "decline_parking_days": {"no_show": "30"},
    "corporation_decline_scope_days": {"rent_arrears": 180.0},
    "stalled_after_days": {"proposed": "10"},
    "aftercare_checkpoint_months": [3, "6"],
    "lease_transfer_months": "18",
}
LAX_POLICY_NAMES = sorted(
    [
        "policy.horizon_days",
        "policy.require_stable_income",
        "policy.min_registration_months",
        "policy.max_per_complex",
        "policy.max_per_neighbourhood",
        "policy.spread_window_months",
        "policy.rooms_by_household_size.1[0]",
        "policy.decline_parking_days.no_show",
        "policy.corporation_decline_scope_days.rent_arrears",
        "policy.stalled_after_days.proposed",
        "policy.aftercare_checkpoint_months[1]",
        "policy.lease_transfer_months",
    ]
)
JSON_POLICY = {
    "horizon_days": 28,
    "require_stable_income": False,
    "min_registration_months": 12,
    "max_per_complex": 1,
    "max_per_neighbourhood": 3,
    "spread_window_months": 12,
    "rooms_by_household_size": {**ALL_SIZES, "1": [1, 2]},
    "decline_parking_days": {"no_show": 30},
    "corporation_decline_scope_days": {"rent_arrears": 180},
    "stalled_after_days": {"proposed": 10},
    "aftercare_checkpoint_months": [3, 6],
    "lease_transfer_months": 18,
}


def _policy_as_sent(policy):  # type: ignore[no-untyped-def]
    """The stored policy's fields of `JSON_POLICY` (stalls merge into the defaults)."""
    shown = {k: policy[k] for k in JSON_POLICY}
    shown["stalled_after_days"] = {"proposed": policy["stalled_after_days"]["proposed"]}
    return shown


def test_a_new_tables_policy_number_or_yes_no_of_another_json_type_is_400(client):
    # The policy's integers and yes/no fields are JSON integers and booleans, as a case
    # file's are: pydantic's lax mode stored "require_stable_income": "no" as false and
    # "horizon_days": "28" as 28, a client's mapping error taken for a policy.
    chair = make_org(client, "municipality")
    lax = table_body(chair, [], ["GM0344"], policy=LAX_POLICY)
    response = client.post("/v1/tables", json=lax, headers=OPERATOR)
    assert sorted(invalid_names(response)) == LAX_POLICY_NAMES
    listed = client.get("/v1/tables", headers=OPERATOR).json()["items"]
    assert lax["name"] not in [t["name"] for t in listed]
    created = client.post("/v1/tables", json={**lax, "policy": JSON_POLICY}, headers=OPERATOR)
    assert created.status_code == 201, created.text
    assert _policy_as_sent(created.json()["policy"]) == JSON_POLICY


def test_a_policy_changes_number_or_yes_no_of_another_json_type_is_400(client, small_region):
    url = f"/v1/tables/{small_region.table_id}"
    chair = small_region.chair.headers
    response = client.patch(url, json={"policy": LAX_POLICY}, headers=chair)
    assert sorted(invalid_names(response)) == LAX_POLICY_NAMES
    assert policy_subset(client.get(url, headers=chair).json()["policy"]) == DEFAULT_POLICY
    changed = client.patch(url, json={"policy": JSON_POLICY}, headers=chair)
    assert changed.status_code == 200, changed.text
    assert _policy_as_sent(changed.json()["policy"]) == JSON_POLICY


@pytest.mark.parametrize(("policy", "name"), INVALID_POLICIES)
def test_chair_gets_400_naming_the_invalid_policy_field(client, small_region, policy, name):
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": policy},
        headers=small_region.chair.headers,
    )
    assert name in invalid_names(response)
    table = client.get(
        f"/v1/tables/{small_region.table_id}", headers=small_region.chair.headers
    ).json()
    assert policy_subset(table["policy"]) == DEFAULT_POLICY


@pytest.mark.parametrize(("policy", "name"), INVALID_POLICIES)
def test_table_with_an_invalid_policy_is_rejected(client, policy, name):
    body = table_body(make_org(client, "municipality"), [], ["GM0344"], policy=policy)
    response = client.post("/v1/tables", json=body, headers=OPERATOR)
    assert name in invalid_names(response)


@pytest.mark.parametrize("value", ["garbage", '"3', "W/3", '"3" "4"', '"a"b"'])
def test_an_if_match_that_is_no_entity_tag_is_invalid_input(client, small_region, value):
    url = f"/v1/tables/{small_region.table_id}"
    response = client.patch(
        url,
        json={"policy": {"horizon_days": 30}},
        headers={**small_region.chair.headers, "If-Match": value},
    )
    assert_problem(response, 400)
    [param] = response.json()["invalidParams"]
    assert param["name"] == "If-Match"
    assert param["reason"].startswith("Should be `*` or a comma-separated list of ETags")


@pytest.mark.parametrize(
    "value", ['"1"', "*", ' "7", "1" ', '"7","1"', ',"1"', '"1",', '"7", ,"1"', 'W/"1", "1"']
)
def test_an_if_match_listing_the_current_etag_or_a_star_is_met(client, small_region, value):
    url = f"/v1/tables/{small_region.table_id}"
    assert client.get(url, headers=small_region.chair.headers).headers["ETag"] == '"1"'
    response = client.patch(
        url,
        json={"policy": {"horizon_days": 30}},
        headers={**small_region.chair.headers, "If-Match": value},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", ['W/"1"', 'W/"7", W/"1"'])
def test_a_weak_etag_never_meets_if_match(client, small_region, value):
    """RFC 9110 section 13.1.1: `If-Match` uses the strong comparison, so `W/"1"` is a 412
    even at version 1 (it was read as `"1"` and the PATCH went through), and nothing changes."""
    url = f"/v1/tables/{small_region.table_id}"
    headers = small_region.chair.headers
    assert client.get(url, headers=headers).headers["ETag"] == '"1"'
    response = client.patch(
        url, json={"policy": {"horizon_days": 30}}, headers={**headers, "If-Match": value}
    )
    assert_problem(response, 412)
    assert "strong" in response.json()["detail"]
    assert client.get(url, headers=headers).headers["ETag"] == '"1"'


def _members_without(client, region, leaving):
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    body = {"member_organisation_ids": [m for m in members if m != leaving.id]}
    return client.patch(url, json=body, headers=OPERATOR)


def test_a_care_provider_with_open_cases_cannot_leave_the_table(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    refused = _members_without(client, region, region.care_provider)
    assert_problem(refused, 409)
    assert refused.json()["code"] == "member_has_open_files"
    assert "1 open case(s)" in refused.json()["detail"]
    table = client.get(f"/v1/tables/{region.table_id}", headers=OPERATOR).json()
    assert region.care_provider.id in table["member_organisation_ids"]  # nothing changed

    withdrawn = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "own_solution"},
        headers=region.care_provider.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    left = _members_without(client, region, region.care_provider)
    assert left.status_code == 200, left.text
    assert region.care_provider.id not in left.json()["member_organisation_ids"]


def test_a_corporation_with_an_available_dwelling_cannot_leave_the_table(client, region):
    dwelling = create_vacancy(client, region.corporation)
    refused = _members_without(client, region, region.corporation)
    assert_problem(refused, 409)
    assert refused.json()["code"] == "member_has_open_files"

    gone = client.delete(f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers)
    assert gone.status_code in (200, 204), gone.text
    assert _members_without(client, region, region.corporation).status_code == 200


def test_an_organisation_owning_an_open_action_cannot_leave_the_table(client, region):
    action = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={"kind": "other", "owner_organisation_id": region.corporation.id, "due_date": iso(14)},
        headers=region.chair.headers,
    )
    assert action.status_code == 201, action.text
    refused = _members_without(client, region, region.corporation)
    assert_problem(refused, 409)
    assert refused.json()["code"] == "member_has_open_files"
    assert "1 open action(s)" in refused.json()["detail"]

    done = client.patch(
        f"/v1/actions/{action.json()['id']}",
        json={"status": "done"},
        headers=region.corporation.headers,
    )
    assert done.status_code == 200, done.text
    assert _members_without(client, region, region.corporation).status_code == 200


def test_an_action_of_an_organisation_that_left_the_table_cannot_be_reopened(client, region):
    """Closing its actions let the owner leave; the chair then reopened one, and an open
    action stood on the agenda again with an owner that could no longer reach it."""
    action = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={"kind": "other", "owner_organisation_id": region.corporation.id, "due_date": iso(14)},
        headers=region.chair.headers,
    ).json()
    url = f"/v1/actions/{action['id']}"
    done = client.patch(url, json={"status": "done"}, headers=region.corporation.headers)
    assert done.status_code == 200, done.text
    assert _members_without(client, region, region.corporation).status_code == 200

    reopened = client.patch(url, json={"status": "open"}, headers=region.chair.headers)

    assert_problem(reopened, 409)
    assert reopened.json()["code"] == "owner_not_member"
    assert client.get(url, headers=region.chair.headers).json()["status"] == "done"
    cancelled = client.patch(url, json={"status": "cancelled"}, headers=region.chair.headers)
    assert cancelled.status_code == 200, cancelled.text  # a closed one may still be corrected


def test_a_municipality_with_open_dwellings_cannot_leave_the_table(client, region):
    """An available dwelling of a municipality the operator took off the table stayed on the
    table's agenda, though the municipality was no longer the table's (another table could
    claim it), until the corporation's next push silently moved it."""
    dwelling = create_vacancy(client, region.corporation, "GM0307")
    url = f"/v1/tables/{region.table_id}"
    refused = client.patch(url, json={"municipality_codes": ["GM0344"]}, headers=OPERATOR)
    assert_problem(refused, 409)
    assert refused.json()["code"] == "municipality_has_open_dwellings"
    assert "GM0307" in refused.json()["detail"]
    table = client.get(url, headers=OPERATOR).json()
    assert table["municipality_codes"] == ["GM0307", "GM0344"]  # nothing changed

    # A dwelling elsewhere does not hold a municipality back; a withdrawn one neither.
    assert client.patch(url, json={"municipality_codes": ["GM0307"]}, headers=OPERATOR).json()[
        "municipality_codes"
    ] == ["GM0307"]
    gone = client.delete(f"/v1/vacancies/{dwelling['id']}", headers=region.corporation.headers)
    assert gone.status_code in (200, 204), gone.text
    moved = client.patch(url, json={"municipality_codes": ["GM0344"]}, headers=OPERATOR)
    assert moved.status_code == 200, moved.text
    assert moved.json()["municipality_codes"] == ["GM0344"]


def test_a_case_keeps_its_rent_arrears_at_a_corporation_that_left_and_its_debts_still_change(
    client, region
):
    """A corporation with no open dwellings left the table; a case stating rent arrears at it
    could then change no debt field at all: `{"debts": {"problematic": true}}` was a 400 on
    `rent_arrears_corporation_ids`, which the care provider had not sent. Only ids a change
    adds must name a corporation at the table; the stored one stays until the provider drops
    it."""
    debts = {"rent_arrears_corporation_ids": [region.corporation.id]}
    case = create_case(client, region.care_provider, region.table_id, debts=debts)
    assert _members_without(client, region, region.corporation).status_code == 200
    url = f"/v1/cases/{case['id']}"

    changed = client.patch(
        url, json={"debts": {"problematic": True}}, headers=region.care_provider.headers
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["debts"]["problematic"] is True
    assert changed.json()["debts"]["rent_arrears_corporation_ids"] == [region.corporation.id]
    both = {"rent_arrears_corporation_ids": [region.corporation.id, region.other_corporation.id]}
    added = client.patch(url, json={"debts": both}, headers=region.care_provider.headers)
    assert added.status_code == 200, added.text
    outsider = make_org(client, "housing_corporation").id
    refused = client.patch(
        url,
        json={"debts": {"rent_arrears_corporation_ids": [region.corporation.id, outsider]}},
        headers=region.care_provider.headers,
    )
    assert invalid_names(refused) == ["debts.rent_arrears_corporation_ids"]
    assert outsider in refused.json()["invalidParams"][0]["reason"]
    assert region.corporation.id not in refused.json()["invalidParams"][0]["reason"]


def test_a_policy_weight_as_a_string_or_yes_no_is_400(client, small_region):
    # A weight is a JSON number, as the policy's integers are JSON integers: pydantic's lax
    # mode stored {"urgency": "7.5", "registration": true} as 7.5 and 1.0 points, a client's
    # mapping error taken for the table's scoring. An integer is a number (7 is 7.0).
    url = f"/v1/tables/{small_region.table_id}"
    chair = small_region.chair.headers
    before = client.get(url, headers=chair).json()["policy"]["score_weights"]
    lax = {"urgency": "7.5", "registration": True, "waiting_time": "12"}
    response = client.patch(url, json={"policy": {"score_weights": lax}}, headers=chair)
    assert sorted(invalid_names(response)) == [
        "policy.score_weights.registration",
        "policy.score_weights.urgency",
        "policy.score_weights.waiting_time",
    ]
    assert client.get(url, headers=chair).json()["policy"]["score_weights"] == before
    weights = {"urgency": 7, "registration": 1.5, "waiting_time": 12}
    changed = client.patch(url, json={"policy": {"score_weights": weights}}, headers=chair)
    assert changed.status_code == 200, changed.text
    stored = changed.json()["policy"]["score_weights"]
    assert {k: stored[k] for k in weights} == {
        "urgency": 7.0,
        "registration": 1.5,
        "waiting_time": 12.0,
    }


def test_a_new_tables_policy_weight_as_a_string_or_yes_no_is_400(client):
    chair = make_org(client, "municipality")
    lax = table_body(
        chair,
        [],
        ["GM0344"],
        policy={"score_weights": {"support_fit": "2", "rent_headroom": False}},
    )
    response = client.post("/v1/tables", json=lax, headers=OPERATOR)
    assert sorted(invalid_names(response)) == [
        "policy.score_weights.rent_headroom",
        "policy.score_weights.support_fit",
    ]
    listed = client.get("/v1/tables", headers=OPERATOR).json()["items"]
    assert lax["name"] not in [t["name"] for t in listed]
    numbers = {"score_weights": {"support_fit": 2, "rent_headroom": 0.5}}
    created = client.post("/v1/tables", json={**lax, "policy": numbers}, headers=OPERATOR)
    assert created.status_code == 201, created.text
    stored = created.json()["policy"]["score_weights"]
    assert (stored["support_fit"], stored["rent_headroom"]) == (2.0, 0.5)


@pytest.mark.parametrize(
    "field", ["name", "municipality_codes", "chair_organisation_id", "member_organisation_ids"]
)
def test_a_null_the_server_refuses_in_a_table_patch_the_contract_refuses_too(
    client, small_region, field
):
    # "cannot be null; leave it out to keep the current value": the contract allowed null.
    response = client.patch(
        f"/v1/tables/{small_region.table_id}", json={field: None}, headers=OPERATOR
    )
    assert invalid_names(response) == [field]
    schema = generated_contract()["components"]["schemas"]["TableUpdate"]["properties"][field]
    assert "null" not in json.dumps(schema)
