"""The lists of cases and dwellings (`GET /v1/cases`, `GET /v1/vacancies`): who sees what, the
filters (organisation, facility, household size, blocking reason, reference), the sort by
waiting time across cursor pages, and the access log of every case listed."""

import base64
import uuid

import pytest

from app.cursors import encode_cursor
from tests.api.helpers import assert_problem, invalid_names
from tests.api.test_access_log_reads import log_of
from tests.clock import iso
from tests.conftest import create_case, create_vacancy, vacancy_body


def ids(client, org, path: str, **params) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(path, params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_care_provider_lists_only_its_own_cases_even_when_it_names_another(client, region):  # type: ignore[no-untyped-def]
    own = create_case(client, region.care_provider, region.table_id)
    other = create_case(client, region.other_care_provider, region.table_id)
    assert ids(client, region.care_provider, "/v1/cases") == [own["id"]]
    assert ids(client, region.other_care_provider, "/v1/cases") == [other["id"]]
    named = {"organisationId": region.other_care_provider.id}
    assert ids(client, region.care_provider, "/v1/cases", **named) == []


def test_the_chair_and_municipalities_list_the_tables_cases_and_others_none(  # type: ignore[no-untyped-def]
    client, region, other_region
):
    own = create_case(client, region.care_provider, region.table_id)
    other = create_case(client, region.other_care_provider, region.table_id)
    both = sorted([own["id"], other["id"]])
    assert sorted(ids(client, region.chair, "/v1/cases")) == both
    assert sorted(ids(client, region.municipality, "/v1/cases")) == both
    named = {"organisationId": region.other_care_provider.id}
    assert ids(client, region.chair, "/v1/cases", **named) == [other["id"]]
    for outsider in (other_region.chair, other_region.municipality, other_region.care_provider):
        assert ids(client, outsider, "/v1/cases") == []
    for corporation in (region.corporation, region.other_corporation):
        assert ids(client, corporation, "/v1/cases") == []


def test_a_corporation_lists_only_its_own_dwellings_and_the_table_all(client, region):  # type: ignore[no-untyped-def]
    own = create_vacancy(client, region.corporation)
    other = create_vacancy(client, region.other_corporation)
    assert ids(client, region.corporation, "/v1/vacancies") == [own["id"]]
    assert ids(client, region.other_corporation, "/v1/vacancies") == [other["id"]]
    named = {"organisationId": region.other_corporation.id}
    assert ids(client, region.corporation, "/v1/vacancies", **named) == []
    assert sorted(ids(client, region.chair, "/v1/vacancies")) == sorted([own["id"], other["id"]])
    assert ids(client, region.chair, "/v1/vacancies", **named) == [other["id"]]
    for provider in (region.care_provider, region.other_care_provider):
        assert ids(client, provider, "/v1/vacancies") == []


def test_longest_waiting_first_runs_on_across_cursor_pages(client, region):  # type: ignore[no-untyped-def]
    cp = region.care_provider
    waits = {
        days: create_case(client, cp, region.table_id, ready_since=iso(-days))["id"]
        for days in (100, 300, 200, 50)
    }
    expected = [waits[d] for d in (300, 200, 100, 50)]
    seen: list[str] = []
    params = {"sort": "-waitingTime", "limit": 3}
    first = client.get("/v1/cases", params=params, headers=cp.headers).json()
    seen += [c["id"] for c in first["items"]]
    assert first["next_cursor"]
    params["cursor"] = first["next_cursor"]
    second = client.get("/v1/cases", params=params, headers=cp.headers).json()
    seen += [c["id"] for c in second["items"]]
    assert seen == expected and second["next_cursor"] is None
    assert ids(client, cp, "/v1/cases", sort="waitingTime") == expected[::-1]


def test_dwellings_sort_by_how_long_they_have_been_available(client, region):  # type: ignore[no-untyped-def]
    corp = region.corporation
    made = {d: create_vacancy(client, corp, available_from=iso(-d))["id"] for d in (5, 30, 10)}
    assert ids(client, corp, "/v1/vacancies", sort="-waitingTime") == [made[30], made[10], made[5]]
    assert ids(client, corp, "/v1/vacancies", sort="waitingTime", limit=1) == [made[5]]


def test_cases_filter_by_facility_household_size_and_part_of_the_reference(client, region):  # type: ignore[no-untyped-def]
    cp = region.care_provider
    couple = create_case(
        client,
        cp,
        region.table_id,
        external_ref="Noord-0042",
        facility="maatschappelijke_opvang",
        household={"adults": 2, "children": 1},
    )
    single = create_case(client, cp, region.table_id, external_ref="Zuid-0007")
    assert ids(client, cp, "/v1/cases", facility="maatschappelijke_opvang") == [couple["id"]]
    assert ids(client, cp, "/v1/cases", householdSize=3) == [couple["id"]]
    assert ids(client, cp, "/v1/cases", householdSize=1) == [single["id"]]
    assert ids(client, cp, "/v1/cases", reference="Noord") == [couple["id"]]


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/vacancies"])
@pytest.mark.parametrize("part", ["%", "_%", "\x00", "K 1"])
def test_a_reference_filter_takes_only_a_references_characters(client, region, path, part):  # type: ignore[no-untyped-def]
    """A NUL byte cut SQLite's LIKE pattern short and listed every case; a wildcard or a space
    can never be part of a reference either."""
    create_case(client, region.care_provider, region.table_id)
    response = client.get(path, params={"reference": part}, headers=region.care_provider.headers)
    assert_problem(response, 400, "validation_error")
    assert invalid_names(response) == ["reference"]


def test_dwellings_filter_by_the_rooms_the_policy_gives_a_household_size(client, region):  # type: ignore[no-untyped-def]
    corp = region.corporation
    small = create_vacancy(client, corp, rooms=1)
    large = create_vacancy(client, corp, rooms=5)
    # The default policy: one person 1-3 rooms, five or more people at least 4.
    assert ids(client, corp, "/v1/vacancies", householdSize=1) == [small["id"]]
    assert ids(client, corp, "/v1/vacancies", householdSize=6) == [large["id"]]
    assert ids(client, corp, "/v1/vacancies", reference=small["external_ref"][2:].lower()) == [
        small["id"]
    ]


def test_a_dwellings_reference_is_matched_with_its_case_as_it_is_keyed(client, region):  # type: ignore[no-untyped-def]
    """A corporation's reference is its own key, case and all: `ABC-1` and `abc-1` are two
    dwellings (the upsert, `externalRef` and If-Match tell them apart), so the filter on part
    of it does too; it listed both for `reference=ABC-1`, as if they were one."""
    corp = region.corporation
    upper = create_vacancy(client, corp, external_ref="ABC-1")
    lower = create_vacancy(client, corp, external_ref="abc-1")
    assert ids(client, corp, "/v1/vacancies", reference="ABC-1") == [upper["id"]]
    assert ids(client, corp, "/v1/vacancies", reference="bc-") == [lower["id"]]
    assert ids(client, corp, "/v1/vacancies", externalRef="abc-1") == [lower["id"]]
    assert ids(client, region.chair, "/v1/vacancies", reference="C-1") == [upper["id"]]


def test_a_cases_reference_is_matched_with_its_case_as_it_is_keyed(client, region):  # type: ignore[no-untyped-def]
    """A care provider's reference is its own key, case and all: `ABC-1` and `abc-1` are two
    cases (registration, `externalRef`, the import tell them apart), so the filter on part of
    it does too, as the dwellings' does; it listed both for `reference=ABC-1`, as if one."""
    cp = region.care_provider
    upper = create_case(client, cp, region.table_id, external_ref="ABC-1")
    lower = create_case(client, cp, region.table_id, external_ref="abc-1")
    assert ids(client, cp, "/v1/cases", reference="ABC-1") == [upper["id"]]
    assert ids(client, cp, "/v1/cases", reference="bc-") == [lower["id"]]
    assert ids(client, cp, "/v1/cases", externalRef="abc-1") == [lower["id"]]
    assert ids(client, region.chair, "/v1/cases", reference="C-1") == [upper["id"]]


def test_blocking_reason_filter_finds_the_cases_no_dwelling_fits_because_of_it(client, region):  # type: ignore[no-untyped-def]
    cp = region.care_provider
    create_vacancy(client, region.corporation, wheelchair_accessible=False)
    needs_wheelchair = create_case(
        client,
        cp,
        region.table_id,
        needs={"wheelchair": True, "step_free": True, "max_floor": None, "pets": False},
    )
    fits = create_case(client, cp, region.table_id)
    not_ready = create_case(client, cp, region.table_id, ready_since=iso(30))
    blocked = ids(client, cp, "/v1/cases", blockingReason="not_wheelchair_accessible")
    assert blocked == [needs_wheelchair["id"]]
    assert ids(client, cp, "/v1/cases", blockingReason="case_not_ready_yet") == [not_ready["id"]]
    assert fits["id"] not in ids(client, region.chair, "/v1/cases", blockingReason="rent_above_cap")
    # The other care provider's view of the same table names none of them.
    other = region.other_care_provider
    assert ids(client, other, "/v1/cases", blockingReason="not_wheelchair_accessible") == []


def test_blocking_reason_filter_finds_dwellings_no_case_fits(client, region):  # type: ignore[no-untyped-def]
    corp = region.corporation
    create_case(client, region.care_provider, region.table_id)  # a single person
    too_big = create_vacancy(client, corp, rooms=6)
    fitting = create_vacancy(client, corp)
    found = ids(client, region.chair, "/v1/vacancies", blockingReason="size_mismatch")
    assert found == [too_big["id"]]
    assert fitting["id"] not in found


def test_a_corporation_cannot_learn_a_lone_clients_needs_by_filtering_its_dwellings(client, region):  # type: ignore[no-untyped-def]
    """A rule that keeps every case from a dwelling describes the cases; with one ready case,
    filtering (and re-pushing the dwelling) named that client's needs and age."""
    corp = region.corporation
    create_case(client, region.care_provider, region.table_id)  # a single person
    too_big = create_vacancy(client, corp, rooms=6)
    assert ids(client, region.chair, "/v1/vacancies", blockingReason="size_mismatch") == [
        too_big["id"]
    ]
    for org in (corp, region.other_corporation):
        assert ids(client, org, "/v1/vacancies", blockingReason="size_mismatch") == []


def test_unknown_filter_values_are_refused(client, region):  # type: ignore[no-untyped-def]
    headers = region.chair.headers
    for path, params in (
        ("/v1/cases", {"blockingReason": "bad_weather"}),
        ("/v1/cases", {"sort": "name"}),
        ("/v1/cases", {"householdSize": 0}),
        ("/v1/vacancies", {"blockingReason": "case_on_hold"}),
    ):
        assert_problem(client.get(path, params=params, headers=headers), 400)


def test_every_case_listed_is_in_the_access_log(client, region):  # type: ignore[no-untyped-def]
    case = create_case(client, region.care_provider, region.table_id, external_ref="Oost-1")
    before = len(log_of(client, region, case["id"]))
    assert ids(client, region.municipality, "/v1/cases", reference="Oost") == [case["id"]]
    entries = log_of(client, region, case["id"])[before:]
    assert [(e["action"], e["organisation_id"]) for e in entries] == [
        ("list", region.municipality.id)
    ]


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/vacancies"])
def test_a_sorted_list_tells_nothing_of_anothers_file_its_cursor_names(client, region, path):  # type: ignore[no-untyped-def]
    """A cursor is the id of the last file shown; one naming a file the caller may not see (an
    id it read at a table it chaired, say, before the file moved on) pages like an unknown id:
    placed in the order, it gave away the other file's ready or available date."""
    if path == "/v1/cases":
        me, other = region.care_provider, region.other_care_provider
        for days in (300, 100):
            create_case(client, me, region.table_id, ready_since=iso(-days))
        theirs = create_case(client, other, region.table_id, ready_since=iso(-200))
    else:
        me, other = region.corporation, region.other_corporation
        for days in (300, 100):
            create_vacancy(client, me, available_from=iso(-days))
        theirs = create_vacancy(client, other, available_from=iso(-200))
    named, unknown = (encode_cursor(uuid.UUID(i)) for i in (theirs["id"], str(uuid.uuid4())))
    for sort in ("-waitingTime", "waitingTime"):
        assert ids(client, me, path, sort=sort, cursor=named) == ids(
            client, me, path, sort=sort, cursor=unknown
        )


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/vacancies"])
def test_a_sorted_walk_skips_nothing_when_the_last_file_shown_changes_its_date(  # type: ignore[no-untyped-def]
    client, region, path
):
    """The cursor of a sorted page placed the next page at the last file's date as it is now:
    when that file's date moved between two pages (a care provider corrects a ready date), the
    walk jumped with it and files nobody touched were never listed (or listed twice). The
    cursor carries the date the page was cut at."""
    if path == "/v1/cases":
        org = region.care_provider
        made = {
            d: create_case(client, org, region.table_id, ready_since=iso(-d))
            for d in (300, 200, 100, 50)
        }
    else:
        org = region.corporation
        made = {d: create_vacancy(client, org, available_from=iso(-d)) for d in (300, 200, 100, 50)}
    expected = [made[d]["id"] for d in (300, 200, 100, 50)]
    first = client.get(path, params={"sort": "-waitingTime", "limit": 2}, headers=org.headers)
    assert [i["id"] for i in first.json()["items"]] == expected[:2]
    if path == "/v1/cases":
        moved = client.patch(
            f"/v1/cases/{made[200]['id']}", json={"ready_since": iso(-10)}, headers=org.headers
        )
    else:
        body = vacancy_body(
            "GM0344", external_ref=made[200]["external_ref"], available_from=iso(-10)
        )
        moved = client.post("/v1/vacancies", json=body, headers=org.headers)
    assert moved.status_code == 200, moved.text
    cursor = first.json()["next_cursor"]
    rest = ids(client, org, path, sort="-waitingTime", limit=2, cursor=cursor)
    assert rest == expected[2:]


@pytest.mark.parametrize(
    "cursor", ["A" * 21, "A" * 23, "A" * 28, "A" * 36, "A" * 21 + "=", "+" * 22, "A" * 21 + " "]
)
def test_a_cursor_of_no_form_the_api_gives_out_is_an_invalid_cursor(client, region, cursor):  # type: ignore[no-untyped-def]
    """A cursor of the wrong length or characters was `string_pattern_mismatch`, "22 to 35
    characters" (23 or 28 are not), where one of the right form the API refuses is
    `invalid_cursor`: one code, and the lengths it takes, for every cursor it did not give."""
    response = client.get(
        "/v1/cases", params={"cursor": cursor}, headers=region.care_provider.headers
    )
    assert_problem(response, 400, "validation_error")
    assert invalid_names(response) == ["cursor"]
    (param,) = response.json()["invalidParams"]
    assert param["code"] == "invalid_cursor"
    assert "22, 27, 30 or 35 characters" in param["reason"]


def test_a_cursor_whose_date_is_no_date_is_refused(client, region):  # type: ignore[no-untyped-def]
    """The date a sorted page's cursor carries is read back as a date: day 0 is none (400)."""
    cursor = base64.urlsafe_b64encode(uuid.uuid4().bytes + bytes(4)).decode().rstrip("=")
    response = client.get(
        "/v1/cases",
        params={"sort": "-waitingTime", "cursor": cursor},
        headers=region.care_provider.headers,
    )
    assert_problem(response, 400, "validation_error")
    assert response.json()["invalidParams"][0]["code"] == "invalid_cursor"
    assert invalid_names(response) == ["cursor"]


def files_waiting(client, region, path, days):  # type: ignore[no-untyped-def]
    """An organisation's cases ready (or dwellings available) `days` ago, in that order."""
    if path == "/v1/cases":
        org = region.care_provider
        return org, [create_case(client, org, region.table_id, ready_since=iso(-d)) for d in days]
    org = region.corporation
    return org, [create_vacancy(client, org, available_from=iso(-d)) for d in days]


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/vacancies"])
def test_a_sorted_lists_cursor_pages_only_the_order_it_was_cut_in(client, region, path):  # type: ignore[no-untyped-def]
    """A sorted page's cursor sent without the sort paged by id from the wrong row (an empty
    page), and with the other sort it went on in the wrong order, both with a 200: a client
    that dropped or changed the sort between pages read a list that skipped files. Such a
    cursor is a 400 `invalid_cursor`; with the sort of its first page it pages on."""
    org, made = files_waiting(client, region, path, (30, 20, 10))
    for sort, order in (("-waitingTime", made), ("waitingTime", made[::-1])):
        first = client.get(path, params={"sort": sort, "limit": 1}, headers=org.headers)
        cursor = first.json()["next_cursor"]
        other = "waitingTime" if sort.startswith("-") else "-waitingTime"
        for params in ({"cursor": cursor}, {"cursor": cursor, "sort": other}):
            refused = client.get(path, params=params, headers=org.headers)
            assert_problem(refused, 400, "validation_error")
            assert refused.json()["invalidParams"][0]["code"] == "invalid_cursor", params
        rest = ids(client, org, path, sort=sort, cursor=cursor)
        assert rest == [m["id"] for m in order[1:]]


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/vacancies"])
def test_an_unsorted_lists_cursor_is_refused_with_a_sort(client, region, path):  # type: ignore[no-untyped-def]
    """An unsorted page's `next_cursor` sent with `sort` placed the page at its last file's
    date now, a 200 that skipped the files sorted before it: a client that added a sort
    between pages read a list with a hole. A cursor without a date pages any order only when
    it has no list tag either (given out before sorted cursors carried their date)."""
    org, made = files_waiting(client, region, path, (10, 30, 20))
    first = client.get(path, params={"limit": 1}, headers=org.headers).json()
    assert [i["id"] for i in first["items"]] == [made[0]["id"]]
    for sort in ("-waitingTime", "waitingTime"):
        refused = client.get(
            path, params={"sort": sort, "cursor": first["next_cursor"]}, headers=org.headers
        )
        assert_problem(refused, 400, "validation_error")
        assert refused.json()["invalidParams"][0]["code"] == "invalid_cursor", sort
        assert invalid_names(refused) == ["cursor"]
    rest = ids(client, org, path, cursor=first["next_cursor"])
    assert rest == [m["id"] for m in made[1:]]
    # Shortest waiting first, after the file of 10 days: those of 20 and 30.
    untagged = encode_cursor(uuid.UUID(made[0]["id"]))
    after = ids(client, org, path, sort="waitingTime", cursor=untagged)
    assert after == [made[2]["id"], made[1]["id"]]


@pytest.mark.parametrize("sort", [None, "-waitingTime"])
def test_a_cursor_of_another_list_is_refused(client, region, sort):  # type: ignore[no-untyped-def]
    """A `next_cursor` of the dwellings list sent to the cases list (or the other way round)
    paged the cases from that dwelling's id, with a 200: a client that mixed up its cursors
    read a list that skipped or repeated files. Each cursor is tied to its list: 400
    `invalid_cursor` naming `cursor`; on its own list it pages on."""
    for d in (30, 20):
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-d))
        create_vacancy(client, region.corporation, available_from=iso(-d))
    chair = region.chair
    params = {"limit": 1} | ({} if sort is None else {"sort": sort})
    cursors = {
        path: client.get(path, params=params, headers=chair.headers).json()["next_cursor"]
        for path in ("/v1/cases", "/v1/vacancies")
    }
    for path, other in (("/v1/cases", "/v1/vacancies"), ("/v1/vacancies", "/v1/cases")):
        refused = client.get(
            path, params=params | {"cursor": cursors[other]}, headers=chair.headers
        )
        assert_problem(refused, 400, "validation_error")
        assert refused.json()["invalidParams"][0]["code"] == "invalid_cursor"
        assert invalid_names(refused) == ["cursor"]
        own = client.get(path, params=params | {"cursor": cursors[path]}, headers=chair.headers)
        assert own.status_code == 200 and len(own.json()["items"]) == 1, own.text


def test_a_cursor_of_the_same_list_under_another_id_is_refused(client, region):  # type: ignore[no-untyped-def]
    """The transitions of one case are another list than those of another case."""
    cp = region.care_provider
    made = [create_case(client, cp, region.table_id)["id"] for _ in range(2)]
    for case_id in made:
        held = {"status": "on_hold", "status_reason": "other"}
        assert client.patch(f"/v1/cases/{case_id}", json=held, headers=cp.headers).is_success
    paths = [f"/v1/cases/{case_id}/transitions" for case_id in made]
    first = client.get(paths[0], params={"limit": 1}, headers=cp.headers).json()
    assert first["next_cursor"], first
    refused = client.get(paths[1], params={"cursor": first["next_cursor"]}, headers=cp.headers)
    assert_problem(refused, 400, "validation_error")
    assert invalid_names(refused) == ["cursor"]


def test_a_cursor_pages_its_list_under_any_spelling_of_the_lists_id(client, region):  # type: ignore[no-untyped-def]
    """The API reads a path id in upper case as the same object, but the
    list's tag was cut from the id as spelt: a `next_cursor` of `/cases/{id}/transitions` sent
    with the id in upper case was refused, 400 "not a cursor of this list", for the very list
    it came from. The tag is cut from the id itself."""
    cp = region.care_provider
    case_id = create_case(client, cp, region.table_id)["id"]
    held = {"status": "on_hold", "status_reason": "other"}
    assert client.patch(f"/v1/cases/{case_id}", json=held, headers=cp.headers).is_success
    first = client.get(
        f"/v1/cases/{case_id}/transitions", params={"limit": 1}, headers=cp.headers
    ).json()
    assert first["next_cursor"], first
    for spelt in (case_id.upper(), case_id[:9] + case_id[9:].upper()):
        own = client.get(
            f"/v1/cases/{spelt}/transitions",
            params={"limit": 1, "cursor": first["next_cursor"]},
            headers=cp.headers,
        )
        assert own.status_code == 200, own.text
        assert own.json()["items"] != first["items"], spelt
