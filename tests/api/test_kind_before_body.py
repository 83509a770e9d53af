"""A write only one kind of organisation may make is refused for another kind (403) before its
body is read: a care provider's system posting a dwelling, or a corporation's a case, was told
first which fields were wrong (400), and only once it had fixed them that it may not post there
at all (found walking the README as a new user). The rightful kind still gets the 400."""

import uuid

import pytest

from tests.aftercare.housing import house
from tests.api.helpers import assert_problem
from tests.api.test_actions import hand_out
from tests.clock import iso
from tests.conftest import OPERATOR, create_case, create_vacancy, seed_org

BODIES = [{"zzz": 1}, {}, {"items": []}, {"items": [{"external_ref": "V-1"}]}]


# Each write with the kind that may make it and another kind.
WRITES = [
    ("/v1/cases", "care_provider", "corporation"),
    ("/v1/vacancies", "corporation", "care_provider"),
    ("/v1/vacancies/batch", "corporation", "care_provider"),
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize(("url", "rightful", "other"), WRITES)
def test_another_kind_is_told_403_before_its_body_is_judged(
    client, small_region, url, rightful, other, body
):
    wrong = client.post(url, json=body, headers=getattr(small_region, other).headers)
    problem = assert_problem(wrong, 403, "forbidden")
    assert "invalidParams" not in problem
    assert_problem(client.post(url, json=body, headers=OPERATOR), 403, "forbidden")
    right = client.post(url, json=body, headers=getattr(small_region, rightful).headers)
    assert_problem(right, 400, "validation_error")


def test_an_unreadable_body_of_another_kind_is_403_too(client, small_region):
    headers = {**small_region.corporation.headers, "Content-Type": "application/json"}
    assert_problem(client.post("/v1/cases", content=b"{", headers=headers), 403, "forbidden")


def assert_unseen_as_unknown(client, method, url, seen_id, body, headers):  # type: ignore[no-untyped-def]
    """A caller that may not see the object gets what a random id gets: 404, the same body
    (but its `instance`), whatever it sends."""
    unseen = client.request(method, url, json=body, headers=headers)
    unknown = client.request(
        method, url.replace(seen_id, str(uuid.uuid4())), json=body, headers=headers
    )
    assert_problem(unseen, 404)
    assert unseen.json() | {"instance": ""} == unknown.json() | {"instance": ""}


# A write only the table's chair makes: a member that does not chair it is told 403 before its
# body is judged, a caller not at the table 404 as for a table that does not exist.
CHAIR_WRITES = ["meetings", "actions"]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("what", CHAIR_WRITES)
def test_a_member_that_does_not_chair_is_told_403_before_its_body_is_judged(
    client, session, small_region, what, body
):
    url = f"/v1/tables/{small_region.table_id}/{what}"
    for member in (small_region.care_provider, small_region.corporation):
        problem = assert_problem(client.post(url, json=body, headers=member.headers), 403)
        assert "invalidParams" not in problem
    assert_problem(client.post(url, json=body, headers=OPERATOR), 403, "forbidden")
    chair = client.post(url, json=body, headers=small_region.chair.headers)
    assert_problem(chair, 400, "validation_error")
    outsider = seed_org(session, "municipality")
    assert_unseen_as_unknown(client, "post", url, small_region.table_id, body, outsider.headers)


# A write only the case's care provider makes: who sees the case and may not write there (the
# chair, a municipality, the landlord) is told 403 before its body is judged; who does not see
# it 404, as for a case that does not exist.
CARE_PROVIDER_WRITES = [("put", "aftercare-agreement"), ("post", "checkpoints")]


@pytest.mark.parametrize("body", [{"zzz": 1}, {}])
@pytest.mark.parametrize(("method", "what"), CARE_PROVIDER_WRITES)
def test_who_sees_a_case_but_may_not_write_its_aftercare_is_told_403_first(
    client, region, method, what, body
):
    case = house(client, region, -100)
    url = f"/v1/cases/{case['id']}/{what}"
    for reader in (region.chair, region.municipality, region.corporation):
        response = client.request(method, url, json=body, headers=reader.headers)
        problem = assert_problem(response, 403, "forbidden")
        assert "invalidParams" not in problem
    own = client.request(method, url, json=body, headers=region.care_provider.headers)
    assert_problem(own, 400, "validation_error")
    other = region.other_care_provider.headers
    assert_unseen_as_unknown(client, method, url, case["id"], body, other)


@pytest.mark.parametrize("body", [{"zzz": 1}, {"ended_on": "tomorrow"}])
def test_a_reader_changing_the_tenancy_is_told_403_before_its_body_is_judged(client, region, body):
    """The care provider and the landlord keep the tenancy (omklap, end); the chair and a
    municipality read it, and were told which fields were wrong first."""
    case = house(client, region, -100)
    url = f"/v1/cases/{case['id']}/tenancy"
    for reader in (region.chair, region.municipality):
        problem = assert_problem(client.patch(url, json=body, headers=reader.headers), 403)
        assert "invalidParams" not in problem
    for keeper in (region.care_provider, region.corporation):
        assert_problem(client.patch(url, json=body, headers=keeper.headers), 400)
    other = region.other_corporation.headers
    assert_unseen_as_unknown(client, "patch", url, case["id"], body, other)


@pytest.mark.parametrize("body", [{"zzz": 1}, {"status": "lost"}])
def test_who_sees_an_action_but_may_not_update_it_is_told_403_first(client, region, body):
    """The owner or the chair updates an action; a municipality at the table reads it, and was
    told which fields were wrong first."""
    action = hand_out(client, region, region.care_provider)
    url = f"/v1/actions/{action['id']}"
    problem = assert_problem(client.patch(url, json=body, headers=region.municipality.headers), 403)
    assert "invalidParams" not in problem
    for writer in (region.care_provider, region.chair):
        assert_problem(client.patch(url, json=body, headers=writer.headers), 400)
    other = region.other_care_provider.headers
    assert_unseen_as_unknown(client, "patch", url, action["id"], body, other)


# Changes of the table itself: its area names (the chair), the table (the chair its policy,
# the operator anything); another member was told which fields were wrong first.
TABLE_WRITES = [("put", "/areas/WK034401", 403), ("patch", "", 400)]


@pytest.mark.parametrize("body", [{"zzz": 1}, {"policy": {"zzz": 1}}])
@pytest.mark.parametrize(("method", "suffix", "operator_status"), TABLE_WRITES)
def test_a_member_that_does_not_chair_changing_the_table_is_told_403_first(
    client, session, small_region, method, suffix, operator_status, body
):
    url = f"/v1/tables/{small_region.table_id}{suffix}"
    for member in (small_region.care_provider, small_region.corporation):
        response = client.request(method, url, json=body, headers=member.headers)
        assert "invalidParams" not in assert_problem(response, 403, "forbidden")
    assert_problem(client.request(method, url, json=body, headers=OPERATOR), operator_status)
    chair = client.request(method, url, json=body, headers=small_region.chair.headers)
    assert_problem(chair, 400, "validation_error")
    outsider = seed_org(session, "municipality").headers
    assert_unseen_as_unknown(client, method, url, small_region.table_id, body, outsider)


@pytest.mark.parametrize("body", [{"zzz": 1}, {"status": "lost"}])
def test_who_sees_a_case_but_did_not_register_it_changing_it_is_told_403_first(
    client, region, body
):
    """The care provider that registered a case changes it; the chair and a municipality read
    it, and were told which fields were wrong first."""
    case = create_case(client, region.care_provider, region.table_id)
    url = f"/v1/cases/{case['id']}"
    for reader in (region.chair, region.municipality):
        response = client.patch(url, json=body, headers=reader.headers)
        assert "invalidParams" not in assert_problem(response, 403, "forbidden")
    own = client.patch(url, json=body, headers=region.care_provider.headers)
    assert_problem(own, 400, "validation_error")
    other = region.other_care_provider.headers
    assert_unseen_as_unknown(client, "patch", url, case["id"], body, other)


# The spreadsheet imports: a care provider's system imports case files, a corporation's
# dwellings. Another kind (or the operator) sending a form the import would refuse (no file,
# two files, no boundary, no multipart at all, a wrong query value) was told what was wrong
# with it (400, 415), and only once it had fixed it that it may not import there at all (403;
# found posting the demo's CSV to the other kind's import).
CSV = ("import.csv", "\ufeffEigen kenmerk *\r\n".encode(), "text/csv")
FORM_MISTAKES = [
    {"params": {"dryRun": "maybe"}, "files": {"file": CSV}},
    {"params": {"zzz": "1"}, "files": {"file": CSV}},
    {"files": {"other": CSV}},
    {"files": [("file", CSV), ("file", CSV)]},
    {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data"}},
    {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=zz"}},
    {"json": {"zzz": 1}},
]
IMPORTS = [
    ("/v1/cases/imports", "care_provider", "corporation"),
    ("/v1/vacancies/imports", "corporation", "care_provider"),
]


@pytest.mark.parametrize("mistake", range(len(FORM_MISTAKES)))
@pytest.mark.parametrize(("url", "rightful", "other"), IMPORTS)
def test_another_kind_importing_is_told_403_before_its_form_is_judged(
    client, small_region, url, rightful, other, mistake
):
    request = FORM_MISTAKES[mistake]
    for caller in (getattr(small_region, other).headers, OPERATOR):
        headers = {**caller, **request.get("headers", {})}
        sent = {k: v for k, v in request.items() if k != "headers"}
        response = client.post(url, headers=headers, **sent)
        assert "invalidParams" not in assert_problem(response, 403, "forbidden"), request
    own = {**getattr(small_region, rightful).headers, **request.get("headers", {})}
    sent = {k: v for k, v in request.items() if k != "headers"}
    assert client.post(url, headers=own, **sent).status_code in (400, 415), request


# Reads only one party makes: the chair its table's access log, the care provider its case's,
# the chair and municipalities the bottleneck history. Another member sending a query the read
# would refuse (an unknown key, a value out of range) was told which query key to fix (400),
# and only once it had fixed it that it may not read there at all (403; found on the demo, e.g.
# GET /v1/tables/{id}/access-log?limit=0 with a corporation's key).
BAD_QUERIES = [{"zzz": "1"}, {"limit": "0"}, {"start": "x"}]


def _party_reads(client, region):  # type: ignore[no-untyped-def]
    """(url, who may read it, who sees the table but may not) per read."""
    case = create_case(client, region.care_provider, region.table_id)
    table = f"/v1/tables/{region.table_id}"
    return [
        (
            f"{table}/access-log",
            region.chair,
            [region.municipality, region.care_provider, region.corporation],
        ),
        (
            f"/v1/cases/{case['id']}/access-log",
            region.care_provider,
            [region.chair, region.municipality],
        ),
        (
            f"{table}/monitor/bottlenecks",
            region.municipality,
            [region.care_provider, region.corporation],
        ),
    ]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_a_member_that_may_not_make_a_read_is_told_403_before_its_query_is_judged(
    client, region, query
):
    for url, reader, others in _party_reads(client, region):
        for other in others:
            assert_problem(client.get(url, headers=other.headers), 403, "forbidden")
            refused = client.get(url, params=query, headers=other.headers)
            assert "invalidParams" not in assert_problem(refused, 403, "forbidden"), (url, query)
        judged = client.get(url, params=query, headers=reader.headers)
        assert judged.status_code in (200, 400), (url, query, judged.text)
        if "zzz" in query:
            assert_problem(judged, 400, "validation_error")


def _agenda_reads(client, region):  # type: ignore[no-untyped-def]
    """(url, the chair, who sees the table but may not read it) per agenda read: a case's
    options and alternative are case detail (not for a corporation), a dwelling's candidate
    list ranks cases (the table only)."""
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    ).json()
    agenda = f"/v1/tables/{region.table_id}/agenda"
    return [
        (f"{agenda}/cases/{case['id']}/candidates", [region.corporation]),
        (f"{agenda}/cases/{case['id']}/alternative", [region.corporation]),
        (
            f"/v1/meetings/{meeting['id']}/agenda/cases/{case['id']}/alternative",
            [region.corporation],
        ),
        (
            f"{agenda}/vacancies/{vacancy['id']}/candidates",
            [region.care_provider, region.corporation],
        ),
    ]


@pytest.mark.parametrize("query", [{"zzz": "1"}, {"limit": "0"}, {"date": "x"}])
def test_a_member_that_may_not_read_an_agenda_list_is_told_403_before_its_query_is_judged(
    client, region, query
):
    """A corporation asking a case's candidates or alternative, or a care provider a dwelling's
    candidates, with a query the read refuses was told which key to fix (400), and only then
    that it may not read there (403; found on the demo with ?limit=0)."""
    for url, others in _agenda_reads(client, region):
        for other in others:
            assert_problem(client.get(url, headers=other.headers), 403, "forbidden")
            refused = client.get(url, params=query, headers=other.headers)
            assert "invalidParams" not in assert_problem(refused, 403, "forbidden"), (url, query)
        judged = client.get(url, params=query, headers=region.chair.headers)
        assert_problem(judged, 400, "validation_error")
