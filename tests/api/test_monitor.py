"""The monitor: figures from a history built through the API, checked independently; and the
privacy rules for organisations that may not see the cases."""

import csv
import io
import itertools

import pytest

from tests.api.helpers import assert_problem
from tests.conftest import OPERATOR, create_case, create_vacancy

# The history is a fixed half year in the past (every date below is explicit), so its figures do
# not move with the clock; only its cases' registration would, so that is fixed too.
RANGE = {"start": "2026-01-01", "end": "2026-06-30"}
REGISTERED = "2022-01-15"


def publish(client, region, date):
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": date}, headers=region.chair.headers
    ).json()
    response = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    return client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"meeting_id": meeting["id"]},
        headers=region.chair.headers,
    ).json()["items"]


def house(client, region, proposal, moved_in, lease_form=None):
    steps = [
        (region.chair, {"decision": "nominate"}),
        (region.corporation, {"decision": "corporation_accept"}),
        (region.corporation, {"decision": "sign_tenancy"}),
        (region.corporation, {"decision": "house", "effective_date": moved_in})
        if lease_form is None
        else (
            region.corporation,
            {"decision": "house", "effective_date": moved_in, "lease_form": lease_form},
        ),
    ]
    for org, body in steps:
        response = client.post(
            f"/v1/proposals/{proposal['id']}/decisions", json=body, headers=org.headers
        )
        assert response.status_code == 200, response.text


def flows(client, org, table_id, **params):
    response = client.get(
        f"/v1/tables/{table_id}/monitor", params=RANGE | params, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def history(client, region):
    """Six cases over a half year: two housed in April (own and intermediate lease), one
    returned to care in May, three still waiting."""
    cp, other = region.care_provider, region.other_care_provider

    def case(org, ready_since, **fields):  # type: ignore[no-untyped-def]
        return create_case(
            client,
            org,
            region.table_id,
            ready_since=ready_since,
            registration_date=REGISTERED,
            **fields,
        )

    early = case(cp, "2026-01-10")
    case(cp, "2026-02-05")
    case(other, "2026-02-20", contract_form="either")
    back = case(other, "2026-03-15")
    case(cp, "2026-05-02")
    case(cp, "2026-06-30")
    create_vacancy(
        client,
        region.corporation,
        complex_ref="A",
        available_from="2026-03-25",
        contract_forms=["own_lease", "intermediate_lease"],
    )
    create_vacancy(client, region.corporation, complex_ref="B", available_from="2026-03-25")
    proposals = publish(client, region, "2026-03-16")
    # The meeting proposes the two longest waiting of the four ready cases (waiting dominates).
    assert {p["case_id"] for p in proposals} >= {early["id"]}
    for proposal in proposals:
        forms = "intermediate_lease" if proposal["case_id"] == early["id"] else "own_lease"
        house(client, region, proposal, "2026-04-01", lease_form=forms)
    client.patch(
        f"/v1/cases/{back['id']}",
        json={
            "status": "withdrawn",
            "status_reason": "returned_to_care",
            "exit_date": "2026-05-10",
        },
        headers=other.headers,
    ).raise_for_status()
    return proposals


def test_definitions_hold_month_by_month_for_the_chair(client, region, history):
    document = flows(client, region.chair, region.table_id)
    assert document["suppression"] is False
    by_month = {r["period"]: r for r in document["rows"]}
    assert [by_month[m]["new_ready"] for m in ("2026-01", "2026-02", "2026-03", "2026-05")] == [
        1,
        2,
        1,
        1,
    ]
    assert by_month["2026-06"]["new_ready"] == 1  # ready on the period's last day counts
    assert by_month["2026-04"]["housed"] == 2
    assert by_month["2026-04"]["housed_own_lease"] == 1
    assert by_month["2026-04"]["housed_intermediate_lease"] == 1
    assert by_month["2026-05"]["returned"] == 1 and by_month["2026-05"]["other_exits"] == 1
    assert [by_month[m]["backlog_end"] for m in sorted(by_month)] == [1, 3, 4, 2, 2, 3]


def test_backlog_follows_from_inflow_and_outflow(client, region, history):
    rows = flows(client, region.chair, region.table_id)["rows"]
    for before, now in itertools.pairwise(rows):
        assert now["backlog_end"] == (
            before["backlog_end"] + now["new_ready"] - now["housed"] - now["other_exits"]
        )


def test_waiting_days_are_move_in_minus_ready_date(client, region, history):
    total = flows(client, region.chair, region.table_id)["totals"][0]
    # Housed on 2026-04-01: from 2026-01-10 (81 days) and from 2026-02-05 or 02-20.
    assert total["housed"] == 2
    assert total["waiting_days_p90"] == 81.0
    assert total["waiting_days_median"] in ((81 + 55) / 2, (81 + 40) / 2)


def test_groups_add_up_to_the_table_total(client, region, history):
    document = flows(client, region.chair, region.table_id, group_by="care_provider")
    for period in {r["period"] for r in document["rows"]}:
        rows = [r for r in document["rows"] if r["period"] == period]
        total = next(r for r in rows if r["group"] is None)
        for measure in ("new_ready", "housed", "other_exits", "backlog_end"):
            assert sum(r[measure] for r in rows if r["group"] is not None) == total[measure]
    names = {r["group_name"] for r in document["rows"] if r["group"]}
    assert region.care_provider.name in names


def test_corporation_grouping_has_housing_figures_only(client, region, history):
    document = flows(client, region.chair, region.table_id, group_by="corporation")
    april = [r for r in document["rows"] if r["period"] == "2026-04" and r["group"]]
    assert [r["housed"] for r in april] == [2]
    assert all(r["new_ready"] is None and r["backlog_end"] is None for r in april)


def test_quarters_and_years_sum_the_months(client, region, history):
    quarters = flows(client, region.chair, region.table_id, period="quarter")["rows"]
    assert [q["period"] for q in quarters] == ["2026-Q1", "2026-Q2"]
    assert [q["new_ready"] for q in quarters] == [4, 2]
    year = flows(client, region.chair, region.table_id, period="year")["rows"]
    assert year[0]["period"] == "2026" and year[0]["housed"] == 2


def test_csv_export_has_the_same_figures(client, region, history):
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor",
        params=RANGE | {"format": "csv"},
        headers=region.chair.headers,
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    april = next(r for r in rows if r["period"] == "2026-04")
    assert april["housed"] == "2" and april["housed_own_lease"] == "1"
    assert rows[-1]["period"] == "total"


def test_every_export_is_in_the_access_log(client, region, history):
    flows(client, region.corporation, region.table_id)
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log", headers=region.chair.headers
    ).json()["items"]
    exports = [e for e in log if e["action"] == "monitor_export"]
    assert exports and exports[-1]["organisation_id"] == region.corporation.id
    assert exports[-1]["case_id"] is None


def _equations(document):
    """Independently: the sums and identities a reader can use on the corporation's answer."""
    rows = document["rows"] + document["totals"]
    yield from ([r["housed"], r["housed_own_lease"], r["housed_intermediate_lease"]] for r in rows)
    yield from ([r["other_exits"], r["returned"], r["withdrawn"]] for r in rows)
    months = document["rows"]
    for measure in ("new_ready", "housed", "other_exits"):
        yield [r[measure] for r in months] + [document["totals"][0][measure]]
    for before, now in itertools.pairwise(months):
        yield [
            now["backlog_end"],
            before["backlog_end"],
            now["new_ready"],
            now["housed"],
            now["other_exits"],
        ]


def test_corporation_gets_no_small_cell_and_cannot_derive_a_hidden_one(client, region, history):
    document = flows(client, region.corporation, region.table_id)
    assert document["suppression"] is True
    visible = [
        r[m]
        for r in document["rows"] + document["totals"]
        for m in ("new_ready", "housed", "other_exits", "backlog_end", "returned", "withdrawn")
        if r[m] is not None
    ]
    assert all(v == 0 or v >= 5 for v in visible)
    for equation in _equations(document):
        assert sum(v is None for v in equation) != 1, equation
    assert all(r["waiting_days_median"] is None for r in document["rows"] + document["totals"])


def test_chair_sees_the_same_figures_whole(client, region, history):
    document = flows(client, region.chair, region.table_id)
    assert not any(r["suppressed"] for r in document["rows"] + document["totals"])


def test_too_fine_a_grid_for_a_protected_viewer_is_refused(client, region):
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor",
        params={"start": "2017-01-01", "end": "2026-06-30", "group_by": "care_provider"},
        headers=region.corporation.headers,
    )
    body = assert_problem(response, 422)
    assert body["code"] == "validation_error"


def test_placements_per_neighbourhood(client, region, history):
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/placements",
        params=RANGE,
        headers=region.chair.headers,
    ).json()
    assert response["total"] == 2
    assert sum(r["placements"] for r in response["rows"]) == 2
    assert response["rows"][0]["municipality_code"] == "GM0344"


def test_contingent_agreed_against_realised(client, region, history):
    put = client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/2026/{region.corporation.id}",
        json={"agreed": 10},
        headers=region.municipality.headers,
    )
    assert put.status_code == 201
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/contingent/2026", headers=region.chair.headers
    ).json()
    row = next(r for r in document["rows"] if r["corporation_id"] == region.corporation.id)
    assert (row["agreed"], row["realised"], row["realised_share"]) == (10, 2, 0.2)


def test_only_municipalities_record_contingent_agreements(client, region):
    response = client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/2026/{region.corporation.id}",
        json={"agreed": 10},
        headers=region.corporation.headers,
    )
    assert_problem(response, 403)


def test_corporation_sees_only_its_own_contingent_row(client, region, history):
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/contingent/2026",
        headers=region.other_corporation.headers,
    ).json()
    assert [r["corporation_id"] for r in document["rows"]] == [region.other_corporation.id]


def test_forecast_applies_the_stated_method(client, region, history):
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/forecast",
        params={"date": "2026-06-30"},
        headers=region.chair.headers,
    ).json()
    assert document["backlog_now"] == 3
    assert document["monthly_new_ready"] == round(6 / 12, 2)
    assert document["dwellings_needed_12_months"] == (3 + 6 - 1)
    assert "12 x" in document["method"]


def test_bottleneck_history_comes_from_published_agendas(client, region, history):
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/bottlenecks",
        params=RANGE,
        headers=region.chair.headers,
    ).json()
    [meeting] = document["meetings"]
    assert meeting["date"] == "2026-03-16"
    assert meeting["ready_cases"] == 4


def test_operator_and_outsiders_cannot_read_the_monitor(client, region, other_region):
    assert_problem(client.get(f"/v1/tables/{region.table_id}/monitor", headers=OPERATOR), 403)
    assert_problem(
        client.get(f"/v1/tables/{region.table_id}/monitor", headers=other_region.chair.headers),
        404,
    )
