"""A client who returns to the table (a tenancy that failed, a withdrawal followed by a new
start): the care provider registers a new case under the same reference, naming the closed
case it follows (`previous_case_id`). Without that name a closed case's reference stays a 409,
as before: a system that pushes all its clients and reads 409 as "known" registers nobody
twice."""

import pytest

from tests.api.helpers import assert_problem, invalid_names
from tests.api.test_access_log import log_of
from tests.conftest import case_body, create_case, seed_org, seed_table


def withdraw(client, org, case_id):
    response = client.patch(
        f"/v1/cases/{case_id}",
        json={"status": "withdrawn", "status_reason": "returned_to_care"},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def register(client, org, table_id, **overrides):
    return client.post("/v1/cases", json=case_body(table_id, **overrides), headers=org.headers)


NO_AREAS = {"preferred": [], "excluded": []}


@pytest.fixture
def closed_case(client, small_region):
    case = create_case(client, small_region.care_provider, small_region.table_id)
    return withdraw(client, small_region.care_provider, case["id"])


def test_a_closed_case_reference_is_a_409_that_names_the_case_and_the_way_back(
    client, small_region, closed_case
):
    again = register(
        client,
        small_region.care_provider,
        small_region.table_id,
        external_ref=closed_case["external_ref"],
    )
    assert_problem(again, 409, "duplicate_external_ref")
    assert again.json()["existing_id"] == closed_case["id"]
    assert again.headers["Location"] == f"/v1/cases/{closed_case['id']}"
    assert "previous_case_id" in again.json()["detail"]


def test_a_returning_client_is_registered_under_the_same_reference(
    client, small_region, closed_case
):
    cp, ref = small_region.care_provider, closed_case["external_ref"]
    returned = register(
        client, cp, small_region.table_id, external_ref=ref, previous_case_id=closed_case["id"]
    )
    assert returned.status_code == 201, returned.text
    case = returned.json()
    assert case["previous_case_id"] == closed_case["id"]
    assert case["external_ref"] == ref
    assert case["status"] == "ready"
    assert (
        client.get(f"/v1/cases/{closed_case['id']}", headers=cp.headers).json()["previous_case_id"]
        is None
    )
    listed = client.get("/v1/cases", params={"externalRef": ref}, headers=cp.headers).json()
    assert {c["id"] for c in listed["items"]} == {closed_case["id"], case["id"]}


def test_only_the_care_provider_reads_the_link_to_the_earlier_case(
    client, small_region, closed_case
):
    """A case moves between tables, and the earlier case stays at its own: the chair of the
    new table would learn of a case it cannot read."""
    cp, ref = small_region.care_provider, closed_case["external_ref"]
    case = register(
        client, cp, small_region.table_id, external_ref=ref, previous_case_id=closed_case["id"]
    ).json()
    chair = small_region.chair.headers
    assert client.get(f"/v1/cases/{case['id']}", headers=chair).json()["previous_case_id"] is None
    listed = client.get("/v1/cases", params={"externalRef": ref}, headers=chair).json()["items"]
    assert [c["previous_case_id"] for c in listed] == [None, None]
    owned = client.get("/v1/cases", params={"externalRef": ref}, headers=cp.headers).json()
    assert [c["previous_case_id"] for c in owned["items"]] == [None, closed_case["id"]]


def test_each_reader_of_a_returning_clients_case_has_the_etag_of_its_own_view(
    client, small_region, closed_case
):
    """The care provider reads the link to the earlier case, the chair reads null: each view
    has its own ETag (a digest of what it shows), so the chair's copy is not revalidated with
    the care provider's ETag, nor the other way round."""
    cp, ref = small_region.care_provider, closed_case["external_ref"]
    case = register(
        client, cp, small_region.table_id, external_ref=ref, previous_case_id=closed_case["id"]
    ).json()
    path = f"/v1/cases/{case['id']}"
    mine = client.get(path, headers=cp.headers)
    theirs = client.get(path, headers=small_region.chair.headers)
    assert mine.headers["ETag"] != theirs.headers["ETag"]
    for reader, own, other in ((cp, mine, theirs), (small_region.chair, theirs, mine)):
        cached = client.get(path, headers=reader.headers | {"If-None-Match": own.headers["ETag"]})
        assert cached.status_code == 304, cached.status_code
        crossed = {"If-None-Match": other.headers["ETag"]}
        read = client.get(path, headers=reader.headers | crossed)
        assert read.status_code == 200, read.status_code
        assert read.json() == own.json()


def test_a_client_back_in_another_region_is_registered_at_that_table(
    client, session, small_region, closed_case
):
    """The care provider sits at both tables: registering at the old one and moving the case
    on gets the same, so the new table needs no detour. Its chair sees no link to the case
    at the table it does not read."""
    cp, ref = small_region.care_provider, closed_case["external_ref"]
    other_chair = seed_org(session, "municipality")
    elsewhere = seed_table(session, other_chair, [cp], ["GM0363"])
    returned = register(
        client, cp, elsewhere, external_ref=ref, previous_case_id=closed_case["id"], areas=NO_AREAS
    )
    assert returned.status_code == 201, returned.text
    case = returned.json()
    assert (case["table_id"], case["previous_case_id"]) == (elsewhere, closed_case["id"])
    shown = client.get(f"/v1/cases/{case['id']}", headers=other_chair.headers)
    assert shown.status_code == 200 and shown.json()["previous_case_id"] is None
    # The old table's chair reads its closed case and nothing of the new one.
    chair = small_region.chair.headers
    assert client.get(f"/v1/cases/{case['id']}", headers=chair).status_code == 404
    listed = client.get("/v1/cases", params={"externalRef": ref}, headers=chair).json()["items"]
    assert [c["id"] for c in listed] == [closed_case["id"]]


def test_registering_the_return_again_answers_409_naming_the_open_case(
    client, small_region, closed_case
):
    cp, ref = small_region.care_provider, closed_case["external_ref"]
    body = case_body(small_region.table_id, external_ref=ref, previous_case_id=closed_case["id"])
    first = client.post("/v1/cases", json=body, headers=cp.headers)
    assert first.status_code == 201, first.text
    retried = client.post("/v1/cases", json=body, headers=cp.headers)
    assert_problem(retried, 409, "duplicate_external_ref")
    assert retried.json()["existing_id"] == first.json()["id"]
    # Without previous_case_id too: the reference's open case is the one named.
    plain = register(client, cp, small_region.table_id, external_ref=ref)
    assert plain.json()["existing_id"] == first.json()["id"]


def test_a_closed_case_is_followed_once(client, small_region, closed_case):
    cp, ref, table = small_region.care_provider, closed_case["external_ref"], small_region.table_id
    second = register(client, cp, table, external_ref=ref, previous_case_id=closed_case["id"])
    withdraw(client, cp, second.json()["id"])
    from_first = register(client, cp, table, external_ref=ref, previous_case_id=closed_case["id"])
    assert_problem(from_first, 409, "previous_case_followed")
    assert from_first.json()["existing_id"] == second.json()["id"]
    assert from_first.headers["Location"] == f"/v1/cases/{second.json()['id']}"
    # The newest closed case is the one a 409 without previous_case_id names.
    plain = register(client, cp, table, external_ref=ref)
    assert plain.json()["existing_id"] == second.json()["id"]
    third = register(client, cp, table, external_ref=ref, previous_case_id=second.json()["id"])
    assert third.status_code == 201, third.text


def test_the_previous_case_is_a_closed_case_of_the_organisation_with_the_reference(
    client, session, small_region, closed_case
):
    cp, table = small_region.care_provider, small_region.table_id
    other_cp = seed_org(session, "care_provider")
    open_case = create_case(client, cp, table)
    other_table = seed_table(session, small_region.chair, [other_cp], ["GM0518"])
    others = create_case(client, other_cp, other_table, areas=NO_AREAS)
    withdraw(client, other_cp, others["id"])

    def follow(case):
        ref = case["external_ref"]
        return register(client, cp, table, external_ref=ref, previous_case_id=case["id"])

    refused = {
        "unknown": register(client, cp, table, previous_case_id=others["id"]),
        "open": follow(open_case),
        "another reference": register(client, cp, table, previous_case_id=closed_case["id"]),
    }
    for why, response in refused.items():
        if why == "open":  # the open case's reference is taken: the usual 409
            assert_problem(response, 409, "duplicate_external_ref")
            continue
        assert_problem(response, 400, "validation_error")
        assert invalid_names(response) == ["previous_case_id"], why
        assert response.json()["invalidParams"][0]["code"] == "unknown_case"
    # Another organisation's case gets the answer of an id that does not exist.
    unknown = register(client, cp, table, previous_case_id="0190a000-0000-7000-8000-000000000000")
    assert unknown.json()["invalidParams"] == refused["unknown"].json()["invalidParams"]


def test_showing_the_earlier_cases_id_is_logged_as_a_read_of_it(client, small_region, closed_case):
    """The returning client's case names the closed one to its care provider: a read of the
    closed file, as a 409 naming a case is; the chair, shown no link, reads nothing of it."""
    cp, ref = small_region.care_provider, closed_case["external_ref"]
    case = register(
        client, cp, small_region.table_id, external_ref=ref, previous_case_id=closed_case["id"]
    ).json()
    client.get(f"/v1/cases/{case['id']}", headers=cp.headers)
    client.get(f"/v1/cases/{case['id']}", headers=small_region.chair.headers)
    client.get("/v1/cases", params={"externalRef": ref}, headers=cp.headers)
    reads = [
        (e["endpoint"], e["organisation_id"])
        for e in log_of(client, small_region, caseId=closed_case["id"])
        if e["action"] == "read"
    ]
    assert reads == [
        ("POST /v1/cases", cp.id),
        ("GET /v1/cases/{case_id}", cp.id),
        ("GET /v1/cases", cp.id),  # named by the open case (listed itself: a `list` entry)
    ]
