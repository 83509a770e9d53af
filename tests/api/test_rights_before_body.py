"""A caller without the right to a write gets the rights answer (403, or 404 where the object is
not its to see) whatever body it sends: the same status and problem as with a valid body, never
the 400 that lists which fields to fix. Also where the right depends on a field (a decision only
the chair takes, a tenancy's `transferred_on` only the landlord records, a table's name only
the operator changes, a webhook's url the organisation's): the caller that may not set it is
refused before the rest of the body is judged. The rightful caller still gets the 400.

Found after the kind and chair dependencies (tests/api/test_kind_before_body.py): POST
/v1/proposals/{id}/decisions, the /v1/webhooks writes, the contingent agreements' PUT and the
single-party fields still judged the body first."""

import re
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.aftercare.housing import house
from tests.api.helpers import assert_problem, invalid_names, publish_one_proposal
from tests.clock import iso
from tests.conftest import OPERATOR, seed_org

HOOK = "https://receiver.example.org/hook"


def refused_alike(
    client: Any, method: str, url: str, headers: dict[str, str], valid: Any, invalid: Any
) -> dict[str, Any]:
    """`headers`' caller gets the same refusal (403 or 404, same problem but its `instance`)
    for the invalid body as for the valid one, without `invalidParams`; returns it."""
    with_valid = client.request(method, url, json=valid, headers=headers)
    with_invalid = client.request(method, url, json=invalid, headers=headers)
    assert with_valid.status_code in (403, 404), (url, valid, with_valid.text)
    assert (with_invalid.status_code, with_invalid.json() | {"instance": ""}) == (
        with_valid.status_code,
        with_valid.json() | {"instance": ""},
    ), (url, invalid)
    problem = assert_problem(with_invalid, with_valid.status_code)
    assert "invalidParams" not in problem
    return problem


def told_to_fix(client: Any, method: str, url: str, headers: dict[str, str], body: Any) -> None:
    """The rightful caller is told what is wrong with the body (400 with invalidParams)."""
    invalid_names(client.request(method, url, json=body, headers=headers))


def unseen_as_unknown(
    client: Any, method: str, url: str, seen_id: str, headers: dict[str, str], bodies: list[Any]
) -> None:
    """What a caller that may not see the object gets, with the valid body (the first) and each
    invalid one, is what a random id gets: 404."""
    unknown = url.replace(seen_id, str(uuid.uuid4()))
    valid, *invalids = bodies
    other = client.request(method, unknown, json=valid, headers=headers).json()
    for invalid in invalids:
        problem = refused_alike(client, method, url, headers, valid, invalid)
        assert problem["status"] == 404
        assert other | {"instance": ""} == problem | {"instance": ""}


# --- POST /v1/proposals/{id}/decisions -------------------------------------------------------

BAD = [{"zzz": 1}, {"reason": "nope"}, {"viewing_date": "tomorrow"}, {"effective_date": 7}]


def test_who_may_not_take_a_decision_is_refused_before_its_body_is_judged(client, session, region):
    """The proposal is `proposed`: only the chair nominates. The member municipality takes no
    decision at all; the corporation and the care provider of the proposal take others; the
    other care provider and corporation do not see it (404, as a random id), the operator is
    refused proposals (403)."""
    _, proposal = publish_one_proposal(client, region)
    url = f"/v1/proposals/{proposal['id']}/decisions"
    nominate = {"decision": "nominate"}
    for headers, decision in (
        (region.municipality.headers, "nominate"),
        (region.municipality.headers, "corporation_accept"),
        (region.corporation.headers, "nominate"),
        (region.corporation.headers, "client_decline"),
        (region.care_provider.headers, "nominate"),
        (region.care_provider.headers, "corporation_accept"),
        (OPERATOR, "nominate"),
    ):
        valid = {"decision": decision}
        for bad in BAD:
            refused_alike(client, "post", url, headers, valid, valid | bad)
    # The municipality decides nothing, whatever decision the body names (or none).
    for body in ({}, {"zzz": 1}, {"decision": "nope"}, {"decision": ["nominate"]}):
        refused_alike(client, "post", url, region.municipality.headers, nominate, body)
    outsider = seed_org(session, "municipality")
    for org in (region.other_care_provider, region.other_corporation, outsider):
        bodies = [nominate, nominate | {"zzz": 1}, {}, {"decision": "nope"}]
        unseen_as_unknown(client, "post", url, proposal["id"], org.headers, bodies)
    # Who may take the decision is told what is wrong with the body.
    for bad in BAD:
        told_to_fix(client, "post", url, region.chair.headers, nominate | bad)
        accept = {"decision": "corporation_accept"} | bad
        told_to_fix(client, "post", url, region.corporation.headers, accept)
        client_decline = {"decision": "client_decline"} | bad
        told_to_fix(client, "post", url, region.care_provider.headers, client_decline)
    for org in (region.chair, region.corporation, region.care_provider):
        told_to_fix(client, "post", url, org.headers, {"decision": "nope"})
        told_to_fix(client, "post", url, org.headers, {"decision": {"x": 1}})
    assert (
        client.get(url.removesuffix("/decisions"), headers=region.chair.headers).json()["status"]
        == "proposed"
    )


# --- /v1/webhooks ----------------------------------------------------------------------------


def register(client: Any, headers: dict[str, str]) -> str:
    body = {"url": HOOK, "events": ["agenda.published"]}
    response = client.post("/v1/webhooks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_the_operator_registering_an_endpoint_is_refused_before_its_body_is_judged(client, region):
    valid = {"url": HOOK, "events": ["agenda.published"]}
    for invalid in ({"zzz": 1}, {}, {"url": "nope", "events": ["agenda.published"]}):
        refused_alike(client, "post", "/v1/webhooks", OPERATOR, valid, invalid)
        for org in (region.chair, region.care_provider, region.corporation):
            told_to_fix(client, "post", "/v1/webhooks", org.headers, invalid)


WEBHOOK_WRITES = [
    ("patch", "", {"description": "x"}, [{"zzz": 1}, {"active": "maybe"}, {"url": "nope"}]),
    ("post", "/secret-rotations", {}, [{"zzz": 1}, {"previous_secret_hours": 500}]),
]


@pytest.mark.parametrize(("method", "suffix", "valid", "invalids"), WEBHOOK_WRITES)
def test_another_organisations_endpoint_is_unknown_whatever_the_body(
    client, session, region, method, suffix, valid, invalids
):
    endpoint = register(client, region.care_provider.headers)
    url = f"/v1/webhooks/{endpoint}{suffix}"
    others = (
        region.other_care_provider,
        region.corporation,
        region.other_corporation,
        region.chair,
        region.municipality,
        seed_org(session, "care_provider"),
    )
    for org in others:
        unseen_as_unknown(client, method, url, endpoint, org.headers, [valid, *invalids])
    for invalid in invalids:
        told_to_fix(client, method, url, region.care_provider.headers, invalid)


def test_the_operator_is_refused_what_is_the_organisations_before_the_body_is_judged(
    client, region
):
    """The operator pauses, resumes, describes or deletes an endpoint; its url and events, and
    its secret, are the organisation's (403)."""
    endpoint = register(client, region.corporation.headers)
    url = f"/v1/webhooks/{endpoint}"
    for valid, invalid in (
        ({"url": HOOK + "2"}, {"url": "nope"}),
        ({"url": HOOK + "2"}, {"url": HOOK + "2", "zzz": 1}),
        ({"events": ["case.housed"]}, {"events": ["nope"]}),
        ({"events": ["case.housed"]}, {"events": ["case.housed"], "active": "maybe"}),
    ):
        refused_alike(client, "patch", url, OPERATOR, valid, invalid)
    told_to_fix(client, "patch", url, OPERATOR, {"active": "maybe"})
    told_to_fix(client, "patch", url, region.corporation.headers, {"url": "nope"})
    rotation = f"{url}/secret-rotations"
    refused_alike(client, "post", rotation, OPERATOR, {}, {"previous_secret_hours": 500})
    refused_alike(client, "post", rotation, OPERATOR, {}, {"zzz": 1})


# --- single-party fields ---------------------------------------------------------------------


def test_the_care_provider_recording_the_transfer_is_refused_before_its_body_is_judged(
    client, region
):
    """Both keep the tenancy; only the corporation records that the lease became the
    client's."""
    case = house(client, region, -100, lease_form="intermediate_lease")
    url = f"/v1/cases/{case['id']}/tenancy"
    valid = {"transferred_on": iso(-1)}
    for invalid in (
        {"transferred_on": "yesterday"},
        {"transferred_on": iso(-1), "zzz": 1},
        {"transferred_on": iso(-1), "ended_on": "soon"},
    ):
        refused_alike(client, "patch", url, region.care_provider.headers, valid, invalid)
        told_to_fix(client, "patch", url, region.corporation.headers, invalid)
    told_to_fix(client, "patch", url, region.care_provider.headers, {"ended_on": "soon"})


def test_the_chair_changing_what_the_operator_manages_is_refused_before_its_body_is_judged(
    client, small_region
):
    """The chair changes the table's policy; its name, chair, members and municipalities are
    the operator's."""
    url = f"/v1/tables/{small_region.table_id}"
    chair = small_region.chair.headers
    for valid, invalid in (
        ({"name": "Other name"}, {"name": ""}),
        ({"name": "Other name"}, {"name": "Other name", "zzz": 1}),
        ({"name": "Other name"}, {"name": "Other name", "policy": {"zzz": 1}}),
        ({"member_organisation_ids": []}, {"member_organisation_ids": "all"}),
        ({"municipality_codes": ["GM0344"]}, {"municipality_codes": ["nope"]}),
    ):
        refused_alike(client, "patch", url, chair, valid, invalid)
        told_to_fix(client, "patch", url, OPERATOR, invalid)
    told_to_fix(client, "patch", url, chair, {"policy": {"zzz": 1}})
    told_to_fix(client, "patch", url, chair, {"zzz": 1})


# --- PUT /v1/tables/{id}/contingent-agreements/{year}/{corporation_id} ----------------------


def test_who_may_not_record_a_contingent_is_refused_before_its_body_is_judged(
    client, session, region
):
    url = f"/v1/tables/{region.table_id}/contingent-agreements/{iso(0)[:4]}/{region.corporation.id}"
    valid = {"agreed": 3}
    invalids = [{"zzz": 1}, {}, {"agreed": -1}]
    for org in (region.care_provider, region.other_care_provider, region.corporation):
        for invalid in invalids:
            refused_alike(client, "put", url, org.headers, valid, invalid)
    outsider = seed_org(session, "municipality")
    unseen_as_unknown(client, "put", url, region.table_id, outsider.headers, [valid, *invalids])
    for org in (region.chair, region.municipality):
        for invalid in invalids:
            told_to_fix(client, "put", url, org.headers, invalid)


# --- the spreadsheet imports (a form) ---------------------------------------------------------

SHEET = ("import.csv", b"external_ref;household_adults\nX-1;1\n")
IMPORTS = [
    ("/v1/cases/imports", "care_provider", ["corporation", "other_corporation"]),
    ("/v1/vacancies/imports", "corporation", ["care_provider", "other_care_provider"]),
]


@pytest.mark.parametrize(("url", "rightful", "others"), IMPORTS)
def test_another_kind_importing_is_refused_before_its_form_is_judged(
    client, region, url, rightful, others
):
    """A corporation importing case files (or a care provider dwellings), a municipality or the
    operator, with no file, two files, a dryRun that is no boolean or no multipart form, was
    told what was wrong with its request (400, 415), and only once it had fixed it that it may
    not import there at all."""
    forms: list[dict[str, Any]] = [
        {"files": {"other": SHEET}},
        {"files": [("file", SHEET), ("file", SHEET)]},
        {"files": {"file": SHEET}, "params": {"dryRun": "maybe"}},
    ]
    for headers in [
        *(getattr(region, name).headers for name in [*others, "chair", "municipality"]),
        OPERATOR,
    ]:
        with_file = client.post(url, files={"file": SHEET}, headers=headers)
        problem = assert_problem(with_file, 403, "forbidden")
        for form in [*forms, {"data": {"file": "x"}}]:  # the last one no multipart form (415)
            refused = client.post(url, headers=headers, **form)
            assert refused.json() | {"instance": ""} == problem | {"instance": ""}, form
    for form in forms:
        invalid_names(client.post(url, headers=getattr(region, rightful).headers, **form))


# --- every write ---------------------------------------------------------------------------


def _writes_naming_an_object(routes: list[Any]) -> list[tuple[str, str]]:
    """Every API write with a JSON body whose path names an object by its id: method, path."""
    found = []
    for route in routes:
        if hasattr(route, "original_router"):
            found += _writes_naming_an_object(route.original_router.routes)
        elif (
            isinstance(route, APIRoute)
            and route.path.startswith("/v1/")
            and route.body_field is not None
            and re.search(r"{\w+_id}", route.path)
        ):
            found += [(m, route.path) for m in sorted(route.methods - {"GET", "HEAD"})]
    return found


MADE_UP = {"year": "2027", "code": "WK034401"}
"""The path parameters that are no object's id: a year, an area code."""


def test_a_write_to_an_unknown_object_is_404_whatever_the_body(client, app, region):
    """A write naming an object that does not exist answers 404 before the body is judged, so
    another organisation's object (404, as unknown) is refused alike, whatever it sends."""
    writes = _writes_naming_an_object(app.routes)
    assert len(writes) >= 12, writes
    answered = {}
    for method, path in writes:
        url = re.sub(r"{(\w+)}", lambda m: MADE_UP.get(m[1], str(uuid.uuid4())), path)
        for name in ("chair", "municipality", "care_provider", "corporation"):
            headers = getattr(region, name).headers
            for body in ({"zzz": 1}, {}):
                response = client.request(method, url, json=body, headers=headers)
                if response.status_code != 404:
                    answered[f"{method} {path} {name} {body}"] = response.status_code
    assert answered == {}
