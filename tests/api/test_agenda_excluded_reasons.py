"""The per-reason counts of a case's or dwelling's excluded partners outside the table view.

A care provider's and a corporation's summary hide the number of dwellings and cases taking
part (`RestrictedSummary`: two agendas side by side gave the change in others' cases and the
proposals a suppressed `people_housed` hid). A reason of the client alone (a missing
beschikking) excludes every dwelling, so its count was the number of dwellings taking part; a
reason of the dwelling alone (not available in the horizon) excludes every ready case. Outside
the table view only the reasons are given (`excluded_reasons`), most-excluding first."""

import pytest

from tests.api.test_agenda import MEETING, agenda, meeting
from tests.api.test_agenda_privacy import keys_in
from tests.clock import iso
from tests.conftest import create_case, create_vacancy

pytestmark = pytest.mark.usefixtures(meeting.__name__)


@pytest.fixture
def blocked_case(client, region):
    """A case of the care provider without a beschikking (it excludes all four dwellings) in a
    household too small for one of them (six rooms), and another provider's case."""
    for _ in range(3):
        create_vacancy(client, region.corporation)
    create_vacancy(client, region.other_corporation, rooms=6)
    create_case(client, region.other_care_provider, region.table_id)
    return create_case(
        client, region.care_provider, region.table_id, beschikking={"status": "none"}
    )


def candidates_page(client, org, table_id, case_id):
    return client.get(
        f"/v1/tables/{table_id}/agenda/cases/{case_id}/candidates",
        params={"date": MEETING},
        headers=org.headers,
    )


def test_a_care_providers_view_does_not_give_away_how_many_dwellings_take_part(
    client, region, blocked_case
):
    document = agenda(client, region.care_provider, region.table_id)
    assert "excluded_counts" not in keys_in(document)
    [entry] = document["candidates_by_case"]
    assert entry["case_id"] == blocked_case["id"]
    assert entry["excluded_reasons"] == ["beschikking_missing", "size_mismatch"]
    [blocked] = document["bottlenecks"]["blocked_cases"]
    assert blocked["excluded_reasons"] == ["beschikking_missing", "size_mismatch"]
    by_reason = {r["code"]: r for r in document["bottlenecks"]["by_reason"]}
    assert by_reason["beschikking_missing"]["blocked_cases_failing"] == 1  # its own case


def test_a_care_providers_candidate_list_names_the_reasons_without_counts(
    client, region, blocked_case
):
    response = candidates_page(client, region.care_provider, region.table_id, blocked_case["id"])
    assert response.status_code == 200, response.text
    page = response.json()
    assert "excluded_counts" not in page
    assert page["excluded_reasons"] == ["beschikking_missing", "size_mismatch"]
    assert page["feasible_count"] == 0


def test_the_table_still_sees_how_many_partners_each_reason_excludes(client, region, blocked_case):
    late = create_vacancy(client, region.corporation, available_from=iso(400))
    document = agenda(client, region.chair, region.table_id)
    entry = next(e for e in document["candidates_by_case"] if e["case_id"] == blocked_case["id"])
    assert entry["excluded_counts"] == {
        "beschikking_missing": 5,  # every dwelling taking part
        "not_available_in_horizon": 1,
        "size_mismatch": 1,
    }
    assert "excluded_reasons" not in keys_in(document)
    [blocked] = document["bottlenecks"]["blocked_cases"]
    assert blocked["excluded_counts"] == entry["excluded_counts"]
    without = {v["vacancy_id"]: v for v in document["vacancies_without_candidates"]}
    assert without[late["id"]]["excluded_counts"]["not_available_in_horizon"] == 2  # every case
    page = candidates_page(client, region.chair, region.table_id, blocked_case["id"]).json()
    assert page["excluded_counts"] == entry["excluded_counts"]
    assert "excluded_reasons" not in page


def test_a_corporations_view_does_not_give_away_how_many_cases_are_ready(
    client, region, blocked_case
):
    late = create_vacancy(client, region.corporation, available_from=iso(400))
    document = agenda(client, region.corporation, region.table_id)
    assert not {"excluded_counts", "excluded_reasons", "feasible_count"} & keys_in(document)
    assert late["id"] in {v["vacancy_id"] for v in document["vacancies_without_candidates"]}
