"""A PUT that replaces a figure someone else may have changed carries `If-Match`: two
municipalities at one table (the contingent) or two operators (a year's limits) no longer
overwrite each other unseen. `If-None-Match: *` makes a resource only where there is none."""

from tests.api.helpers import assert_problem
from tests.api.test_limits import NEW_YEAR_FIGURES, a_year_without_limits
from tests.clock import TODAY
from tests.conftest import OPERATOR, generated_contract


def agreement_path(region, year=TODAY.year) -> str:
    return f"/v1/tables/{region.table_id}/contingent-agreements/{year}/{region.corporation.id}"


def put_agreement(client, region, org, agreed, **headers):
    return client.put(
        agreement_path(region), json={"agreed": agreed}, headers={**org.headers, **headers}
    )


def listed_agreement(client, region, org) -> dict:
    response = client.get(
        f"/v1/tables/{region.table_id}/contingent-agreements", headers=org.headers
    )
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    return item


def test_a_contingent_figure_changed_meanwhile_is_not_overwritten(client, region):
    made = put_agreement(client, region, region.chair, 10)
    assert made.status_code == 201 and made.headers["ETag"] == '"1"'
    read = listed_agreement(client, region, region.municipality)
    assert read["version"] == 1
    assert put_agreement(client, region, region.chair, 12, **{"If-Match": '"1"'}).status_code == 200
    stale = put_agreement(client, region, region.municipality, 8, **{"If-Match": '"1"'})
    assert_problem(stale, 412)
    assert "changed" in stale.json()["detail"]
    now = listed_agreement(client, region, region.municipality)
    assert (now["agreed"], now["version"]) == (12, 2)
    fresh = put_agreement(client, region, region.municipality, 8, **{"If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'
    assert listed_agreement(client, region, region.chair)["agreed"] == 8


def test_recording_the_contingent_figure_that_stands_keeps_its_etag(client, region):
    put_agreement(client, region, region.municipality, 10)
    again = put_agreement(client, region, region.municipality, 10, **{"If-Match": '"1"'})
    assert again.status_code == 200 and again.headers["ETag"] == '"1"'
    by_the_chair = put_agreement(client, region, region.chair, 10)
    assert by_the_chair.headers["ETag"] == '"2"'  # recorded last by another organisation
    assert listed_agreement(client, region, region.chair)["updated_by_organisation_id"] == (
        region.chair.id
    )


def test_if_none_match_star_makes_the_contingent_agreement_only_once(client, region):
    first = put_agreement(client, region, region.chair, 10, **{"If-None-Match": "*"})
    assert first.status_code == 201
    second = put_agreement(client, region, region.municipality, 7, **{"If-None-Match": "*"})
    assert_problem(second, 412)
    assert listed_agreement(client, region, region.chair)["agreed"] == 10


def test_if_match_on_a_contingent_agreement_not_made_yet_is_412_and_makes_none(client, region):
    for tag in ('"1"', "*"):
        assert_problem(put_agreement(client, region, region.chair, 10, **{"If-Match": tag}), 412)
    response = client.get(
        f"/v1/tables/{region.table_id}/contingent-agreements", headers=region.chair.headers
    )
    assert response.json()["items"] == []


def test_a_malformed_if_match_on_the_contingent_is_400(client, region):
    response = put_agreement(client, region, region.chair, 10, **{"If-Match": "1"})
    assert_problem(response, 400)
    assert response.json()["invalidParams"][0]["name"] == "If-Match"


def test_limits_changed_by_another_operator_meanwhile_are_not_overwritten(client, region):
    year = a_year_without_limits(client, region.chair)
    made = client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    assert made.status_code == 201
    read = client.get(f"/v1/limits/{year}", headers=region.chair.headers)
    assert read.headers["ETag"] == made.headers["ETag"] == '"1"'
    corrected = {**NEW_YEAR_FIGURES, "low_cap": "741.00"}
    first = client.put(
        f"/v1/limits/{year}", json=corrected, headers={**OPERATOR, "If-Match": '"1"'}
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    other = {**NEW_YEAR_FIGURES, "high_cap": "794.00"}
    stale = client.put(f"/v1/limits/{year}", json=other, headers={**OPERATOR, "If-Match": '"1"'})
    assert_problem(stale, 412)
    now = client.get(f"/v1/limits/{year}", headers=region.chair.headers)
    assert (now.json()["low_cap"], now.json()["high_cap"]) == (741.0, 793.0)
    assert now.headers["ETag"] == '"2"'


def test_limits_put_again_as_they_stand_keep_their_etag(client, region):
    year = a_year_without_limits(client, region.chair)
    client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    again = client.put(
        f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers={**OPERATOR, "If-Match": '"1"'}
    )
    assert again.status_code == 200 and again.headers["ETag"] == '"1"'


def test_if_none_match_star_adds_a_year_only_when_it_has_no_limits(client, region):
    year = a_year_without_limits(client, region.chair)
    headers = {**OPERATOR, "If-None-Match": "*"}
    assert (
        client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=headers).status_code == 201
    )
    changed = {**NEW_YEAR_FIGURES, "low_cap": "1.00"}
    assert_problem(client.put(f"/v1/limits/{year}", json=changed, headers=headers), 412)
    kept = client.get(f"/v1/limits/{year}", headers=region.chair.headers).json()
    assert kept["low_cap"] == 740.0


def test_if_match_on_a_year_without_limits_is_412_and_adds_none(client, region):
    year = a_year_without_limits(client, region.chair)
    response = client.put(
        f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers={**OPERATOR, "If-Match": "*"}
    )
    assert_problem(response, 412)
    assert client.get(f"/v1/limits/{year}", headers=region.chair.headers).status_code == 404


def test_the_gets_that_send_an_etag_for_if_match_document_it(client, region):
    """A client coding against the contract looks up which answers carry the ETag it must send
    back; the GETs of a year's limits, a webhook endpoint and a tenancy sent it undocumented."""
    spec = generated_contract()
    for path in ("/limits/{year}", "/webhooks/{endpoint_id}", "/cases/{case_id}/tenancy"):
        assert "ETag" in spec["paths"][path]["get"]["responses"]["200"]["headers"], path
    year = a_year_without_limits(client, region.chair)
    client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    assert client.get(f"/v1/limits/{year}", headers=region.chair.headers).headers["ETag"] == '"1"'
    endpoint = client.post(
        "/v1/webhooks",
        json={"url": "https://receiver.example.org/hook", "events": ["agenda.published"]},
        headers=region.care_provider.headers,
    ).json()
    read = client.get(f"/v1/webhooks/{endpoint['id']}", headers=region.care_provider.headers)
    assert read.headers["ETag"] == '"1"'


def test_a_corporation_lists_only_its_own_contingent_agreement(client, region):
    """The monitor's contingent shows a corporation only its own row; the list of agreements
    showed it every other corporation's figure, and which municipality recorded it."""
    for corporation, agreed in ((region.corporation, 10), (region.other_corporation, 4)):
        path = f"/v1/tables/{region.table_id}/contingent-agreements/{TODAY.year}/{corporation.id}"
        made = client.put(path, json={"agreed": agreed}, headers=region.municipality.headers)
        assert made.status_code == 201, made.text

    def listed(org) -> dict[str, int]:
        response = client.get(
            f"/v1/tables/{region.table_id}/contingent-agreements", headers=org.headers
        )
        assert response.status_code == 200, response.text
        return {i["corporation_id"]: i["agreed"] for i in response.json()["items"]}

    both = {region.corporation.id: 10, region.other_corporation.id: 4}
    assert listed(region.corporation) == {region.corporation.id: 10}
    assert listed(region.other_corporation) == {region.other_corporation.id: 4}
    for reader in (region.chair, region.municipality, region.care_provider):
        assert listed(reader) == both


def test_the_operator_is_refused_the_contingent_agreements_as_the_contract_says(client, region):
    """The operator's list answered 403 (the monitor is the members'), which the contract did
    not name among the list's answers (401 and 404 only)."""
    path = f"/v1/tables/{region.table_id}/contingent-agreements"
    assert_problem(client.get(path, headers=OPERATOR), 403)
    documented = generated_contract()["paths"]["/tables/{table_id}/contingent-agreements"]
    assert "403" in documented["get"]["responses"]


def test_the_location_of_a_new_agreement_is_read_with_its_etag(client, region):
    """A PUT's 201 named the agreement's address, which answered only PUT: 405 for a client
    that followed it, and the ETag for its next If-Match was in the list alone."""
    made = put_agreement(client, region, region.chair, 10)
    assert made.status_code == 201
    read = client.get(made.headers["Location"], headers=region.municipality.headers)
    assert read.status_code == 200, read.text
    assert read.json()["agreed"] == 10 and read.headers["ETag"] == made.headers["ETag"]
    again = put_agreement(client, region, region.chair, 11, **{"If-Match": read.headers["ETag"]})
    assert again.status_code == 200
    assert (
        client.get(made.headers["Location"], headers=region.corporation.headers).status_code == 200
    )


def test_another_corporations_agreement_reads_as_one_never_recorded(client, region):
    assert put_agreement(client, region, region.chair, 10).status_code == 201
    theirs = client.get(agreement_path(region), headers=region.other_corporation.headers)
    never = client.get(agreement_path(region, TODAY.year + 1), headers=region.chair.headers)
    assert_problem(theirs, 404)
    assert_problem(never, 404)
