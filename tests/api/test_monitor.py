"""The monitor: figures from a history built through the API, checked independently; and the
privacy rules for organisations that may not see the cases."""

import calendar
import csv
import io
import itertools
from datetime import date, timedelta

import pytest

from app.monitor import years as monitor_years
from tests.api.helpers import assert_problem, invalid_names
from tests.clock import TODAY, iso
from tests.conftest import OPERATOR, create_case
from tests.monitor.history import dwelling, ensure_limits, house, publish, withdraw


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


# Two quarters of history, well in the past whatever the suite's clock says.
FIRST = _quarter_start(TODAY - timedelta(days=300))


def on(month: int, day: int) -> date:
    """Day `day` of the `month`-th month (0-based) of the history."""
    index = FIRST.month - 1 + month
    return date(FIRST.year + index // 12, index % 12 + 1, day)


def last_day(month: int) -> date:
    return on(month + 1, 1) - timedelta(days=1)


def label(month: int) -> str:
    return on(month, 1).strftime("%Y-%m")


RANGE = {"start": FIRST.isoformat(), "end": last_day(5).isoformat()}
MOVED_IN = on(3, 1)


def flows(client, org, table_id, **params):
    response = client.get(
        f"/v1/tables/{table_id}/monitor", params=RANGE | params, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def history(client, region):
    """Six cases over a half year: two housed in the fourth month (own and intermediate lease),
    one returned to care in the fifth, three still waiting."""
    ensure_limits(client)
    cp, other = region.care_provider, region.other_care_provider
    early = create_case(client, cp, region.table_id, ready_since=on(0, 10).isoformat())
    create_case(client, cp, region.table_id, ready_since=on(1, 5).isoformat())
    create_case(client, other, region.table_id, ready_since=on(1, 20).isoformat())
    back = create_case(client, other, region.table_id, ready_since=on(2, 15).isoformat())
    create_case(client, cp, region.table_id, ready_since=on(4, 2).isoformat())
    create_case(client, cp, region.table_id, ready_since=last_day(5).isoformat())
    available = on(2, 25).isoformat()
    dwelling(
        client,
        region.corporation,
        available_from=available,
        contract_forms=["own_lease", "intermediate_lease"],
    )
    dwelling(client, region.corporation, available_from=available)
    proposals = publish(client, region, on(2, 16).isoformat())
    # The meeting proposes the two longest waiting of the four ready cases (waiting dominates).
    assert {p["case_id"] for p in proposals} >= {early["id"]}
    for proposal in proposals:
        forms = "intermediate_lease" if proposal["case_id"] == early["id"] else "own_lease"
        house(client, region, proposal, MOVED_IN.isoformat(), lease_form=forms)
    withdraw(client, other, back["id"], on(4, 10).isoformat()).raise_for_status()
    return proposals


def test_definitions_hold_month_by_month_for_the_chair(client, region, history):
    document = flows(client, region.chair, region.table_id)
    assert document["suppression"] is False
    by_month = {r["period"]: r for r in document["rows"]}
    assert [by_month[label(m)]["new_ready"] for m in (0, 1, 2, 4)] == [1, 2, 1, 1]
    assert by_month[label(5)]["new_ready"] == 1  # ready on the period's last day counts
    assert by_month[label(3)]["housed"] == 2
    assert by_month[label(3)]["housed_own_lease"] == 1
    assert by_month[label(3)]["housed_intermediate_lease"] == 1
    assert by_month[label(4)]["returned"] == 1 and by_month[label(4)]["other_exits"] == 1
    assert [by_month[m]["backlog_end"] for m in sorted(by_month)] == [1, 3, 4, 2, 2, 3]


def test_backlog_follows_from_inflow_and_outflow(client, region, history):
    rows = flows(client, region.chair, region.table_id)["rows"]
    for before, now in itertools.pairwise(rows):
        assert now["backlog_end"] == (
            before["backlog_end"] + now["new_ready"] - now["housed"] - now["other_exits"]
        )


def test_waiting_days_are_move_in_minus_ready_date(client, region, history):
    total = flows(client, region.chair, region.table_id)["totals"][0]
    # Both moved in on the same day: the first from its ready date in the first month, the
    # other from one of the two ready dates in the second.
    longest = (MOVED_IN - on(0, 10)).days
    assert total["housed"] == 2
    assert total["waiting_days_p90"] == float(longest)
    assert total["waiting_days_median"] in (
        (longest + (MOVED_IN - on(1, 5)).days) / 2,
        (longest + (MOVED_IN - on(1, 20)).days) / 2,
    )


def test_groups_add_up_to_the_table_total(client, region, history):
    document = flows(client, region.chair, region.table_id, groupBy="care_provider")
    for period in {r["period"] for r in document["rows"]}:
        rows = [r for r in document["rows"] if r["period"] == period]
        total = next(r for r in rows if r["group"] is None)
        for measure in ("new_ready", "housed", "other_exits", "backlog_end"):
            assert sum(r[measure] for r in rows if r["group"] is not None) == total[measure]
    names = {r["group_name"] for r in document["rows"] if r["group"]}
    assert region.care_provider.name in names


def test_corporation_grouping_has_housing_figures_only(client, region, history):
    document = flows(client, region.chair, region.table_id, groupBy="corporation")
    moved = [r for r in document["rows"] if r["period"] == label(3) and r["group"]]
    # Every member corporation is a row, the other one with nobody housed.
    housed = {r["group"]: r["housed"] for r in moved}
    assert housed == {region.corporation.id: 2, region.other_corporation.id: 0}
    assert all(r["new_ready"] is None and r["backlog_end"] is None for r in moved)


def test_quarters_and_years_sum_the_months(client, region, history):
    quarters = flows(client, region.chair, region.table_id, period="quarter")["rows"]
    first_quarter = f"{FIRST.year}-Q{(FIRST.month - 1) // 3 + 1}"
    assert len(quarters) == 2 and quarters[0]["period"] == first_quarter
    assert [q["new_ready"] for q in quarters] == [4, 2]
    years = flows(client, region.chair, region.table_id, period="year")["rows"]
    assert years[0]["period"] == str(FIRST.year) and sum(y["housed"] for y in years) == 2


def test_csv_export_has_the_same_figures(client, region, history):
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor",
        params=RANGE | {"format": "csv"},
        headers=region.chair.headers,
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    moved = next(r for r in rows if r["period"] == label(3))
    assert moved["housed"] == "2" and moved["housed_own_lease"] == "1"
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


def test_a_corporation_without_housings_gets_no_small_cell_and_cannot_derive_one(
    client, region, history
):
    document = flows(client, region.other_corporation, region.table_id)
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


def test_a_corporation_sees_its_own_housings_but_not_their_waiting_days(client, region, history):
    """Both housings were in its dwellings: it knows them, so their count tells it nothing new;
    the cases' ready dates it does not know, so the waiting days stay hidden."""
    document = flows(client, region.corporation, region.table_id)
    moved = next(r for r in document["rows"] if r["period"] == label(3))
    assert moved["housed"] == 2
    assert moved["waiting_days_median"] is None
    first = next(r for r in document["rows"] if r["period"] == label(0))
    assert first["new_ready"] is None  # one case became ready: not its own


def test_chair_sees_the_same_figures_whole(client, region, history):
    document = flows(client, region.chair, region.table_id)
    assert not any(r["suppressed"] for r in document["rows"] + document["totals"])


def test_too_many_groups_to_protect_for_a_protected_viewer_are_refused(client, region, monkeypatch):
    # A year's table of the two providers and the total is 3 x 17 cells: above a limit of 34.
    monkeypatch.setattr(monitor_years, "MAX_RESTRICTED_CELLS", 34)
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor",
        params={"groupBy": "care_provider"},
        headers=region.corporation.headers,
    )
    body = assert_problem(response, 400)
    assert body["invalidParams"][0]["name"] == "groupBy"
    assert body["invalidParams"][0]["code"] == "too_fine_for_suppression"


RANGED = ["monitor", "monitor/placements", "monitor/sustainment", "monitor/bottlenecks"]


def range_problem(client, region, path, org=None, **params):
    """The one invalid parameter of a monitor answer refused with 400."""
    response = client.get(
        f"/v1/tables/{region.table_id}/{path}",
        params=params,
        headers=(org or region.chair).headers,
    )
    [param] = assert_problem(response, 400)["invalidParams"]
    return param


@pytest.mark.parametrize(
    ("path", "viewer"),
    # The bottleneck history is for the chair and municipalities (a corporation gets a 403).
    [(path, "chair") for path in RANGED]
    + [(path, "corporation") for path in RANGED if path != "monitor/bottlenecks"],
)
def test_a_start_after_today_without_end_names_start_not_the_end_never_sent(
    client, region, path, viewer
):
    assert range_problem(client, region, path, getattr(region, viewer), start=iso(1)) == {
        "name": "start",
        "in": "query",
        "code": "invalid_range",
        "reason": "lies after end (today, when end is omitted)",
    }


@pytest.mark.parametrize("path", RANGED)
def test_an_end_sent_before_start_is_named(client, region, path):
    param = range_problem(client, region, path, start=iso(1), end=iso(0))
    assert (param["name"], param["code"], param["reason"]) == (
        "end",
        "invalid_range",
        "lies before start",
    )


@pytest.mark.parametrize("path", RANGED)
def test_a_start_over_ten_years_back_without_end_names_start(client, region, path):
    param = range_problem(client, region, path, start=iso(-366 * 10 - 1))
    assert (param["name"], param["code"]) == ("start", "range_too_long")


def test_placements_per_neighbourhood(client, region, history):
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/placements",
        params=RANGE,
        headers=region.chair.headers,
    ).json()
    assert response["total"] == 2
    assert sum(r["placements"] for r in response["rows"]) == 2
    assert response["rows"][0]["municipality_code"] == "GM0344"


def test_a_contingent_agreement_of_another_json_type_is_400(client, region):
    # As a case file's: pydantic's lax mode stored "agreed": "10" as 10 and `true` as 1.
    url = (
        f"/v1/tables/{region.table_id}/contingent-agreements/{MOVED_IN.year}/"
        f"{region.corporation.id}"
    )
    headers = region.municipality.headers
    for agreed in ("10", True, 10.0):
        refused = client.put(url, json={"agreed": agreed}, headers=headers)
        assert invalid_names(refused) == ["agreed"]
    listed = client.get(f"/v1/tables/{region.table_id}/contingent-agreements", headers=headers)
    assert listed.json()["items"] == []
    put = client.put(url, json={"agreed": 10}, headers=headers)
    assert put.status_code == 201, put.text
    assert put.json()["agreed"] == 10


def test_contingent_agreed_against_realised(client, region, history):
    put = client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/{MOVED_IN.year}/{region.corporation.id}",
        json={"agreed": 10},
        headers=region.municipality.headers,
    )
    assert put.status_code == 201
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/contingent/{MOVED_IN.year}",
        headers=region.chair.headers,
    ).json()
    row = next(r for r in document["rows"] if r["corporation_id"] == region.corporation.id)
    assert (row["agreed"], row["realised"], row["realised_share"]) == (10, 2, 0.2)


def test_a_corporation_that_left_the_table_keeps_its_contingent_of_the_year(
    client, region, history
):
    """Its closed files stay as history: the housings in its contingent dwellings and what it
    agreed count in the year's contingent as they count in the flows."""
    year = MOVED_IN.year
    put = client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/{year}/{region.corporation.id}",
        json={"agreed": 10},
        headers=region.municipality.headers,
    )
    assert put.status_code == 201, put.text
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    left = [m for m in members if m != region.corporation.id]
    response = client.patch(url, json={"member_organisation_ids": left}, headers=OPERATOR)
    assert response.status_code == 200, response.text

    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/contingent/{year}", headers=region.chair.headers
    ).json()

    by_corporation = flows(
        client,
        region.chair,
        region.table_id,
        start=f"{year}-01-01",
        end=f"{year}-12-31",
        period="year",
        groupBy="corporation",
    )
    housed = next(r for r in by_corporation["totals"] if r["group"] is None)["housed"]
    assert housed == 2
    row = next(r for r in document["rows"] if r["corporation_id"] == region.corporation.id)
    assert (row["agreed"], row["realised"]) == (10, 2)
    assert (document["total_agreed"], document["total_realised"]) == (10, housed)


def _leave(client, region, org):
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    left = [m for m in members if m != org.id]
    response = client.patch(url, json={"member_organisation_ids": left}, headers=OPERATOR)
    assert response.status_code == 200, response.text


def test_a_corporation_that_left_is_listed_alike_in_years_it_realised_nothing(
    client, region, history
):
    """A row listed only in the years a corporation that left realised a contingent housing
    says that it realised one there, however its count is hidden: the other care provider
    (none of its cases housed) read that the hidden count was at least 1, as a placements row
    shown as null said someone was placed. It is listed as the flows by corporation list it,
    in every year (it housed someone at the table), so the listing tells nothing of a year."""
    _leave(client, region, region.corporation)

    def listed(year):
        response = client.get(
            f"/v1/tables/{region.table_id}/monitor/contingent/{year}",
            headers=region.other_care_provider.headers,
        )
        assert response.status_code == 200, response.text
        return {r["corporation_id"]: r["realised"] for r in response.json()["rows"]}

    housed_year, quiet_year = listed(MOVED_IN.year), listed(MOVED_IN.year - 1)
    assert housed_year[region.corporation.id] is None  # 2 housings, neither the viewer's
    assert set(housed_year) == set(quiet_year)


def contingent_json_and_csv(client, region, org):
    """The contingent of the housings' year as `org` reads it: JSON, and the CSV's rows."""
    url = f"/v1/tables/{region.table_id}/monitor/contingent/{MOVED_IN.year}"
    document = client.get(url, headers=org.headers).json()
    response = client.get(url, params={"format": "csv"}, headers=org.headers)
    assert response.headers["content-type"].startswith("text/csv")
    return document, list(csv.DictReader(io.StringIO(response.text)))


def _cell(value):
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    "viewer", ["chair", "care_provider", "other_care_provider", "corporation", "other_corporation"]
)
def test_contingent_csv_ends_with_the_totals_of_the_json(client, region, history, viewer):
    client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/{MOVED_IN.year}/{region.corporation.id}",
        json={"agreed": 10},
        headers=region.municipality.headers,
    ).raise_for_status()
    document, rows = contingent_json_and_csv(client, region, getattr(region, viewer))
    assert [r["corporation_id"] for r in rows[:-1]] == [
        r["corporation_id"] for r in document["rows"]
    ]
    assert rows[-1] == {
        "corporation_id": "total",
        "corporation_name": "",
        "agreed": _cell(document["total_agreed"]),
        "realised": _cell(document["total_realised"]),
        "realised_share": "",
    }


def test_a_contingent_total_the_json_hides_stays_empty_in_the_csv(client, region, history):
    """The other care provider had no case housed: the total of 2 holds other people only."""
    document, rows = contingent_json_and_csv(client, region, region.other_care_provider)
    assert document["suppression"] is True and document["total_realised"] is None
    assert rows[-1]["corporation_id"] == "total" and rows[-1]["realised"] == ""


def test_only_municipalities_record_contingent_agreements(client, region):
    response = client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/{TODAY.year}/{region.corporation.id}",
        json={"agreed": 10},
        headers=region.corporation.headers,
    )
    assert_problem(response, 403)


def test_corporation_sees_only_its_own_contingent_row(client, region, history):
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/contingent/{MOVED_IN.year}",
        headers=region.other_corporation.headers,
    ).json()
    assert [r["corporation_id"] for r in document["rows"]] == [region.other_corporation.id]


def test_forecast_applies_the_stated_method(client, region, history):
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/forecast",
        params={"date": RANGE["end"]},
        headers=region.chair.headers,
    ).json()
    assert document["backlog_now"] == 3
    assert document["monthly_new_ready"] == round(6 / 12, 2)
    assert document["dwellings_needed_12_months"] == (3 + 6 - 1)
    assert "12 x" in document["method"]


def _last_leap_year_before(year: int) -> int:
    return next(y for y in range(year - 1, year - 9, -1) if calendar.isleap(y))


LEAP = _last_leap_year_before(TODAY.year)


@pytest.mark.parametrize(
    ("forecast_on", "ready_dates"),
    [
        # The calendar year of a leap year: its 1 January is one of the twelve months.
        (f"{LEAP}-12-31", [f"{LEAP}-01-01", f"{LEAP}-06-01"]),
        # On the leap day: the twelve months run from 1 March of the year before.
        (f"{LEAP}-02-29", [f"{LEAP - 1}-03-01", f"{LEAP}-02-29"]),
    ],
)
def test_the_forecast_reads_twelve_whole_months_also_over_a_leap_day(
    client, region, forecast_on, ready_dates
):
    ensure_limits(client)
    for ready in ready_dates:
        create_case(client, region.care_provider, region.table_id, ready_since=ready)
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/forecast",
        params={"date": forecast_on},
        headers=region.chair.headers,
    ).json()
    # Both cases became ready in the twelve months up to the date, as the flows count them.
    year_of_flows = flows(
        client,
        region.chair,
        region.table_id,
        start=(date.fromisoformat(forecast_on) - timedelta(days=365)).isoformat(),
        end=forecast_on,
        period="year",
    )["totals"][0]
    assert year_of_flows["new_ready"] == 2
    assert document["backlog_now"] == 2
    assert document["monthly_new_ready"] == round(2 / 12, 2)
    assert document["dwellings_needed_12_months"] == 2 + 2


def test_bottleneck_history_comes_from_published_agendas(client, region, history):
    document = client.get(
        f"/v1/tables/{region.table_id}/monitor/bottlenecks",
        params=RANGE,
        headers=region.chair.headers,
    ).json()
    [meeting] = document["meetings"]
    assert meeting["date"] == on(2, 16).isoformat()
    assert meeting["ready_cases"] == 4


def test_operator_and_outsiders_cannot_read_the_monitor(client, region, other_region):
    assert_problem(client.get(f"/v1/tables/{region.table_id}/monitor", headers=OPERATOR), 403)
    assert_problem(
        client.get(f"/v1/tables/{region.table_id}/monitor", headers=other_region.chair.headers),
        404,
    )


@pytest.mark.parametrize(
    "written", ["2026.0", "+2026", "2026%20", "\uff12\uff10\uff12\uff16", "02026", "002026"]
)
def test_a_year_in_a_path_is_written_in_digits(client, region, written):
    """Digits only, and without a leading zero: `02026` read as 2026 gave one year two
    spellings (the API refuses other ids written otherwise than their one form)."""
    for path in (
        f"/v1/tables/{region.table_id}/monitor/contingent/{written}",
        f"/v1/tables/{region.table_id}/contingent-agreements/{written}/{region.corporation.id}",
        f"/v1/tables/{region.table_id}/contingent-agreements?year={written}",
        f"/v1/limits/{written}",
    ):
        response = client.get(path, headers=region.chair.headers)
        assert response.status_code == 400, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["invalidParams"][0]["name"] == "year"


def test_a_hidden_housed_count_hides_its_waiting_statistics_whatever_the_count(
    client, region, history
):
    """`suppressed` named the waiting median and p90 only where the period had a housing, so a
    row whose housed count was hidden told 0 from at least 1 by that list alone. A hidden count
    names them always."""
    whole = {
        (group_by, r["period"], r["group"]): r["housed"]
        for group_by in ("none", "care_provider", "corporation", "municipality")
        for r in flows(client, region.chair, region.table_id, groupBy=group_by)["rows"]
    }
    hidden_zeros = 0
    for viewer in ("care_provider", "other_care_provider", "corporation", "other_corporation"):
        for group_by in ("none", "care_provider", "corporation", "municipality"):
            document = flows(client, getattr(region, viewer), region.table_id, groupBy=group_by)
            for row in document["rows"] + document["totals"]:
                if "housed" not in row["suppressed"]:
                    continue
                assert {"waiting_days_median", "waiting_days_p90"} <= set(row["suppressed"])
                hidden_zeros += whole.get((group_by, row["period"], row["group"])) == 0
    assert hidden_zeros  # the history hides some empty housed counts as complements
