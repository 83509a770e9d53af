"""Who sees what: every endpoint that takes an id, asked by every kind of organisation.

`region` holds two municipalities (one chairs), two care providers and two corporations;
`other_region` is a second table with its own organisations (the `outsider_*` actors). The
case belongs to `region.care_provider`, the vacancy to `region.corporation`.
"""

from tests.api.helpers import assert_problem, me
from tests.conftest import OPERATOR, create_case, create_vacancy

INSIDERS = [
    "chair",
    "municipality",
    "care_provider",
    "other_care_provider",
    "corporation",
    "other_corporation",
]
OUTSIDERS = [
    "outsider_chair",
    "outsider_municipality",
    "outsider_care_provider",
    "outsider_corporation",
]


def headers_of(region, other_region, actor):
    if actor == "operator":
        return OPERATOR
    if actor.startswith("outsider_"):
        return getattr(other_region, actor.removeprefix("outsider_")).headers
    return getattr(region, actor).headers


def statuses(region, other_region, actors, call):
    """{actor: status} for `call(headers)` made by each actor; every error is a problem."""
    result = {}
    for actor in actors:
        response = call(headers_of(region, other_region, actor))
        if response.status_code >= 400:
            assert_problem(response, response.status_code)
        result[actor] = response.status_code
    return result


def expected(default, exceptions, actors):
    return {actor: exceptions.get(actor, default) for actor in actors}


EVERYONE = [*INSIDERS, *OUTSIDERS, "operator"]
ORGANISATIONS = [*INSIDERS, *OUTSIDERS]

# --- case files -----------------------------------------------------------------------------


def test_who_may_read_a_case_file(client, region, other_region):
    case = create_case(client, region.care_provider, region.table_id)
    observed = statuses(
        region, other_region, EVERYONE, lambda h: client.get(f"/v1/cases/{case['id']}", headers=h)
    )
    readers = {"care_provider": 200, "chair": 200, "municipality": 200, "operator": 403}
    assert observed == expected(404, readers, EVERYONE)


def test_who_may_read_a_case_history(client, region, other_region):
    case = create_case(client, region.care_provider, region.table_id)
    observed = statuses(
        region,
        other_region,
        EVERYONE,
        lambda h: client.get(f"/v1/cases/{case['id']}/transitions", headers=h),
    )
    readers = {"care_provider": 200, "chair": 200, "municipality": 200, "operator": 403}
    assert observed == expected(404, readers, EVERYONE)


def test_who_may_change_a_case_file(client, region, other_region):
    changed = {}

    def patch(headers):
        case = create_case(client, region.care_provider, region.table_id)
        response = client.patch(f"/v1/cases/{case['id']}", json={"urgency": True}, headers=headers)
        stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers)
        changed[response.status_code] = changed.get(response.status_code, set()) | {
            stored.json()["urgency"]
        }
        return response

    observed = statuses(region, other_region, EVERYONE, patch)
    writers = {"care_provider": 200, "chair": 403, "municipality": 403, "operator": 403}
    assert observed == expected(404, writers, EVERYONE)
    assert changed == {200: {True}, 403: {False}, 404: {False}}


# --- vacancies ------------------------------------------------------------------------------


def test_who_may_read_a_vacancy(client, region, other_region):
    vacancy = create_vacancy(client, region.corporation)
    observed = statuses(
        region,
        other_region,
        ORGANISATIONS,
        lambda h: client.get(f"/v1/vacancies/{vacancy['id']}", headers=h),
    )
    readers = {"corporation": 200, "chair": 200, "municipality": 200}
    assert observed == expected(404, readers, ORGANISATIONS)


def test_who_may_withdraw_a_vacancy(client, region, other_region):
    outcome = {}

    def withdraw(headers):
        vacancy = create_vacancy(client, region.corporation)
        response = client.delete(f"/v1/vacancies/{vacancy['id']}", headers=headers)
        stored = client.get(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
        outcome.setdefault(response.status_code, set()).add(stored.json()["status"])
        return response

    observed = statuses(region, other_region, ORGANISATIONS, withdraw)
    withdrawers = {"corporation": 204, "chair": 403, "municipality": 403}
    assert observed == expected(404, withdrawers, ORGANISATIONS)
    assert outcome == {204: {"withdrawn"}, 403: {"available"}, 404: {"available"}}


# --- tables ---------------------------------------------------------------------------------


def test_who_may_read_a_table(client, region, other_region):
    observed = statuses(
        region,
        other_region,
        EVERYONE,
        lambda h: client.get(f"/v1/tables/{region.table_id}", headers=h),
    )
    assert observed == expected(404, {a: 200 for a in [*INSIDERS, "operator"]}, EVERYONE)


def test_who_may_change_a_tables_policy(client, region, other_region):
    applied: dict[int, set[int]] = {}
    tries = iter(range(30, 100))  # a new value each time: a patch that changes nothing is no write

    def patch(headers):
        before = client.get(f"/v1/tables/{region.table_id}", headers=OPERATOR).json()["version"]
        response = client.patch(
            f"/v1/tables/{region.table_id}",
            json={"policy": {"horizon_days": next(tries)}},
            headers=headers,
        )
        after = client.get(f"/v1/tables/{region.table_id}", headers=OPERATOR).json()["version"]
        applied.setdefault(response.status_code, set()).add(after - before)
        return response

    observed = statuses(region, other_region, EVERYONE, patch)
    editors = {"chair": 200, "operator": 200, **{a: 403 for a in INSIDERS if a != "chair"}}
    assert observed == expected(404, editors, EVERYONE)
    assert applied == {200: {1}, 403: {0}, 404: {0}}


def test_who_may_read_a_tables_access_log(client, region, other_region):
    create_case(client, region.care_provider, region.table_id)
    observed = statuses(
        region,
        other_region,
        ORGANISATIONS,
        lambda h: client.get(f"/v1/tables/{region.table_id}/access-log", headers=h),
    )
    readers = {"chair": 200, **{a: 403 for a in INSIDERS if a != "chair"}}
    assert observed == expected(404, readers, ORGANISATIONS)


# --- organisations and their keys -----------------------------------------------------------


def test_who_may_read_an_organisation(client, region, other_region):
    observed = statuses(
        region,
        other_region,
        EVERYONE,
        lambda h: client.get(f"/v1/organizations/{region.care_provider.id}", headers=h),
    )
    assert observed == expected(404, {a: 200 for a in [*INSIDERS, "operator"]}, EVERYONE)


# An organisation on the same table sees the care provider exists (it may read it, above), so it
# is refused with 403; one outside its tables gets 404.
CO_MEMBERS = {a: 403 for a in INSIDERS}


def test_who_may_list_an_organisations_keys(client, region, other_region):
    observed = statuses(
        region,
        other_region,
        EVERYONE,
        lambda h: client.get(f"/v1/organizations/{region.care_provider.id}/api-keys", headers=h),
    )
    assert observed == expected(
        404, {**CO_MEMBERS, "care_provider": 200, "operator": 200}, EVERYONE
    )


def test_who_may_issue_an_organisations_key(client, region, other_region):
    observed = statuses(
        region,
        other_region,
        EVERYONE,
        lambda h: client.post(
            f"/v1/organizations/{region.care_provider.id}/api-keys",
            json={"label": "extra"},
            headers=h,
        ),
    )
    assert observed == expected(
        404, {**CO_MEMBERS, "care_provider": 201, "operator": 201}, EVERYONE
    )


def test_who_may_revoke_an_organisations_key(client, region, other_region):
    still_works = {}

    def revoke(headers):
        spare = client.post(
            f"/v1/organizations/{region.care_provider.id}/api-keys",
            json={"label": "reserve"},
            headers=OPERATOR,
        ).json()
        response = client.delete(
            f"/v1/organizations/{region.care_provider.id}/api-keys/{spare['id']}", headers=headers
        )
        spare_me = client.get("/v1/me", headers={"Authorization": f"Bearer {spare['key']}"})
        still_works.setdefault(response.status_code, set()).add(spare_me.status_code)
        # A spare left unrevoked goes: an organisation holds at most 10 unrevoked keys.
        path = f"/v1/organizations/{region.care_provider.id}/api-keys/{spare['id']}"
        assert client.delete(path, headers=OPERATOR).status_code == 204
        return response

    observed = statuses(region, other_region, EVERYONE, revoke)
    assert observed == expected(
        404, {**CO_MEMBERS, "care_provider": 204, "operator": 204}, EVERYONE
    )
    assert still_works == {204: {401}, 403: {200}, 404: {200}}


# --- lists ----------------------------------------------------------------------------------


def listed(client, region, other_region, path, labels):
    """{actor: labels of the ids the actor's list holds} for every organisation."""
    by_id = {v: k for k, v in labels.items()}
    result = {}
    for actor in ORGANISATIONS:
        response = client.get(
            path, params={"limit": 1000}, headers=headers_of(region, other_region, actor)
        )
        assert response.status_code == 200, response.text
        ids = [item["id"] for item in response.json()["items"]]
        result[actor] = {by_id.get(i, f"foreign {i}") for i in ids}
    return result


def test_case_list_holds_only_the_cases_the_caller_may_see(client, region, other_region):
    cases = {
        "own": create_case(client, region.care_provider, region.table_id)["id"],
        "other": create_case(client, region.other_care_provider, region.table_id)["id"],
        "outside": create_case(client, other_region.care_provider, other_region.table_id)["id"],
    }
    assert listed(client, region, other_region, "/v1/cases", cases) == {
        "chair": {"own", "other"},
        "municipality": {"own", "other"},
        "care_provider": {"own"},
        "other_care_provider": {"other"},
        "corporation": set(),
        "other_corporation": set(),
        "outsider_chair": {"outside"},
        "outsider_municipality": {"outside"},
        "outsider_care_provider": {"outside"},
        "outsider_corporation": set(),
    }


def test_operator_cannot_list_case_files(client, region):
    create_case(client, region.care_provider, region.table_id)
    assert_problem(client.get("/v1/cases", headers=OPERATOR), 403)


def test_vacancy_list_holds_only_the_vacancies_the_caller_may_see(client, region, other_region):
    vacancies = {
        "own": create_vacancy(client, region.corporation, "GM0344")["id"],
        "other": create_vacancy(client, region.other_corporation, "GM0307")["id"],
        "outside": create_vacancy(client, other_region.corporation, "GM0363")["id"],
    }
    assert listed(client, region, other_region, "/v1/vacancies", vacancies) == {
        "chair": {"own", "other"},
        "municipality": {"own", "other"},
        "care_provider": set(),
        "other_care_provider": set(),
        "corporation": {"own"},
        "other_corporation": {"other"},
        "outsider_chair": {"outside"},
        "outsider_municipality": {"outside"},
        "outsider_care_provider": set(),
        "outsider_corporation": {"outside"},
    }


def test_organisation_list_holds_only_the_callers_table_partners(client, region, other_region):
    labels = {f"{a}": getattr(region, a).id for a in INSIDERS}
    labels |= {f"outsider_{a}": getattr(other_region, a).id for a in INSIDERS}
    observed = listed(client, region, other_region, "/v1/organizations", labels)
    home = set(INSIDERS)
    away = {f"outsider_{a}" for a in INSIDERS}
    assert observed == {a: away if a.startswith("outsider_") else home for a in ORGANISATIONS}


def test_key_list_holds_only_the_callers_keys(client, region, other_region):
    observed = {}
    for actor in ORGANISATIONS:
        headers = headers_of(region, other_region, actor)
        org_id = me(client, headers)["organisation"]["id"]
        response = client.get(f"/v1/organizations/{org_id}/api-keys", headers=headers)
        assert response.status_code == 200, response.text
        observed[actor] = {k["organisation_id"] == org_id for k in response.json()["items"]}
    assert observed == {actor: {True} for actor in ORGANISATIONS}
