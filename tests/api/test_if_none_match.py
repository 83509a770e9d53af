"""`If-None-Match` on a PATCH (RFC 9110 section 13.1.2): `*` asks that the resource not exist,
so on one that does the write is refused with 412 and changes nothing; a list of ETags refuses
the write when it names the current one. Checked where `If-Match` is, on every PATCH."""

import pytest

from tests.aftercare.housing import house
from tests.api.helpers import assert_problem, assign_action
from tests.clock import iso
from tests.conftest import case_body, create_case


def _table(client, region):
    return f"/v1/tables/{region.table_id}", region.chair.headers, {"policy": {"horizon_days": 30}}


def _case(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    return f"/v1/cases/{case['id']}", region.care_provider.headers, {"urgency": True}


def _action(client, region):
    action = assign_action(client, region, region.care_provider, None)
    assert action.status_code == 201, action.text
    return f"/v1/actions/{action.json()['id']}", region.chair.headers, {"due_date": iso(14)}


def _webhook(client, region):
    body = {"url": "https://receiver.example.org/hook", "events": ["agenda.published"]}
    endpoint = client.post("/v1/webhooks", json=body, headers=region.chair.headers)
    assert endpoint.status_code == 201, endpoint.text
    return f"/v1/webhooks/{endpoint.json()['id']}", region.chair.headers, {"active": False}


def _tenancy(client, region):
    case = house(client, region, -100)
    body = {"ended_on": iso(-5), "end_reason": "moved_on"}
    return f"/v1/cases/{case['id']}/tenancy", region.corporation.headers, body


def _person(client, region):
    url = f"/v1/organizations/{region.chair.id}/people"
    body = {"email": "voorzitter@gemeente.nl", "display_name": "Voorzitter", "role": "chair"}
    person = client.post(url, json=body, headers=region.chair.headers)
    assert person.status_code == 201, person.text
    return f"{url}/{person.json()['id']}", region.chair.headers, {"display_name": "Wethouder"}


RESOURCES = [
    pytest.param(_table, id="table"),
    pytest.param(_person, id="person"),
    pytest.param(_case, id="case"),
    pytest.param(_action, id="action"),
    pytest.param(_webhook, id="webhook"),
    pytest.param(_tenancy, id="tenancy"),
]


@pytest.mark.parametrize("make", RESOURCES)
def test_if_none_match_star_on_an_existing_resource_is_412_and_changes_nothing(
    client, region, make
):
    url, headers, body = make(client, region)
    before = client.get(url, headers=headers)
    refused = client.patch(url, json=body, headers={**headers, "If-None-Match": "*"})
    problem = assert_problem(refused, 412, "precondition_failed")
    assert "If-None-Match: *" in problem["detail"]
    after = client.get(url, headers=headers)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json() == before.json()


@pytest.mark.parametrize("make", RESOURCES)
def test_if_none_match_naming_the_current_etag_is_412_and_another_etag_lets_it_through(
    client, region, make
):
    url, headers, body = make(client, region)
    current = client.get(url, headers=headers).headers["ETag"]
    refused = client.patch(url, json=body, headers={**headers, "If-None-Match": f'"0", {current}'})
    assert_problem(refused, 412, "precondition_failed")
    weak = client.patch(url, json=body, headers={**headers, "If-None-Match": f"W/{current}"})
    assert_problem(weak, 412, "precondition_failed")  # the weak comparison (RFC 9110 13.1.2)
    passed = client.patch(url, json=body, headers={**headers, "If-None-Match": '"0"'})
    assert passed.status_code == 200, passed.text


def test_if_match_is_checked_before_if_none_match(client, region):
    url, headers, body = _table(client, region)
    stale = client.patch(
        url, json=body, headers={**headers, "If-Match": '"0"', "If-None-Match": "*"}
    )
    assert "changed" in assert_problem(stale, 412, "precondition_failed")["detail"]


@pytest.mark.parametrize("value", ["garbage", '"3', "W/3", "**"])
def test_an_if_none_match_that_is_no_entity_tag_is_invalid_input(client, region, value):
    url, headers, body = _table(client, region)
    response = client.patch(url, json=body, headers={**headers, "If-None-Match": value})
    assert_problem(response, 400)
    [param] = response.json()["invalidParams"]
    assert (param["name"], param["in"]) == ("If-None-Match", "header")


def test_every_patch_that_takes_if_match_takes_if_none_match(app):
    contract = app.openapi()
    for path, operations in contract["paths"].items():
        patch = operations.get("patch")
        if patch is None:
            continue
        headers = {p["name"] for p in patch.get("parameters", []) if p["in"] == "header"}
        if "If-Match" in headers:
            assert "If-None-Match" in headers, path


@pytest.mark.parametrize("make", RESOURCES)
def test_a_condition_on_two_header_lines_is_read_as_one_list(client, region, make):
    """RFC 9110 section 5.3: two field lines of a list-based header are one list. Only the
    first line was read, so `"0"` then `*` let a write through that `"0", *` (no valid
    If-None-Match) refuses, and `"0"` then the current ETag refused an If-Match that holds."""
    url, headers, body = make(client, region)
    before = client.get(url, headers=headers)
    current = before.headers["ETag"]
    lines = list(headers.items())

    star_after_tag = client.patch(
        url, json=body, headers=[*lines, ("If-None-Match", '"0"'), ("If-None-Match", "*")]
    )
    assert_problem(star_after_tag, 400)
    assert client.get(url, headers=headers).json() == before.json()

    naming_current = client.patch(
        url, json=body, headers=[*lines, ("If-None-Match", '"0"'), ("If-None-Match", current)]
    )
    assert_problem(naming_current, 412, "precondition_failed")

    matched = client.patch(
        url, json=body, headers=[*lines, ("If-Match", '"0"'), ("If-Match", current)]
    )
    assert matched.status_code == 200, matched.text


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
def test_a_condition_the_operation_does_not_check_is_refused_not_ignored(client, region, header):
    """RFC 9110 section 13.1.1: a server receiving `If-Match` evaluates it. Operations that
    check neither header (creations, batches, checkpoints) ignored them, so a client that sent
    one believed its write was guarded. A 400 naming the header says the operation takes none,
    as an unknown query key is refused; nothing is stored."""
    body = case_body(region.table_id)
    headers = {**region.care_provider.headers, header: '"1"'}
    response = client.post("/v1/cases", json=body, headers=headers)
    problem = assert_problem(response, 400, "validation_error")
    [param] = problem["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == (header, "header", "unknown_parameter")
    listed = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    assert body["external_ref"] not in {case["external_ref"] for case in listed}


def test_a_read_may_carry_if_none_match_where_it_has_no_etag(client, region):
    """A GET compares `If-None-Match` with its answer's ETag (304) or has nothing to compare:
    caches send it, so reads never refuse a well-formed one."""
    headers = {**region.care_provider.headers, "If-None-Match": '"1"'}
    assert client.get("/v1/cases", headers=headers).status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("value", ["garbage", "3", '"3', "W/3", "**", '"' + "x" * 300 + '"'])
def test_a_read_whose_if_none_match_is_no_entity_tag_is_invalid_input(
    client, region, method, value
):
    """README: an `If-None-Match` that is not `*` or a list of ETags is a 400 naming it. A read
    ignored it: compared as it stood it never matched, so a client that sent its ETag unquoted
    (`3`) read the whole case file every time, never a 304, and never learnt why."""
    case = create_case(client, region.care_provider, region.table_id)
    headers = {**region.care_provider.headers, "If-None-Match": value}
    for url in (f"/v1/cases/{case['id']}", "/v1/cases"):
        response = client.request(method, url, headers=headers)
        assert response.status_code == 400, (url, response.status_code)
        if method == "GET":
            [param] = response.json()["invalidParams"]
            assert (param["name"], param["in"]) == ("If-None-Match", "header")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_read_with_if_match_is_refused_not_ignored(client, region, method):
    """RFC 9110 section 13.1.1: a server that receives `If-Match` evaluates it. A read ignored
    it, so a client asking for the version it held ("only if still "1"") read any version as
    if it were that one."""
    case = create_case(client, region.care_provider, region.table_id)
    headers = {**region.care_provider.headers, "If-Match": '"1"'}
    response = client.request(method, f"/v1/cases/{case['id']}", headers=headers)
    assert response.status_code == 400
    if method == "GET":
        [param] = assert_problem(response, 400, "validation_error")["invalidParams"]
        assert (param["name"], param["code"]) == ("If-Match", "unknown_parameter")
