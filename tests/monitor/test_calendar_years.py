"""An organisation that gets suppressed figures cannot learn more by asking again: every answer
it gets is cut from one protected table per calendar year and grouping.

The tester's attacks: one-day ranges at successive month ends gave another provider's backlog
day by day, and the forecast's backlog for successive dates gave the days on which others' cases
became ready. Answers by month, by quarter and by year, and answers with and without groups,
were each protected on their own, so cells one hid another could show.
"""

from datetime import date, timedelta

import pytest

from app.monitor import years as monitor_years
from tests.clock import TODAY, day, iso
from tests.monitor.history import (
    dwelling,
    figures,
    house,
    publish,
    ready_case,
    two_years_refused,
)

YEAR = day(-40).year  # a year with at least 40 past days in it, on every clock
JANUARY_1, DECEMBER_31 = date(YEAR, 1, 1), date(YEAR, 12, 31)
THE_YEAR = {"start": JANUARY_1.isoformat(), "end": DECEMBER_31.isoformat()}


@pytest.fixture
def spread(client, region, limits):
    """Ten of the other provider's cases and three of A's, ready on days spread over the year's
    past; a few of the others' every month, so small counts that must be hidden."""
    past = (day(-40) - JANUARY_1).days
    for k in range(10):
        when = JANUARY_1 + timedelta(days=k * past // 10)
        ready_case(client, region.other_care_provider, region.table_id, when.isoformat())
    for k in range(3):
        when = JANUARY_1 + timedelta(days=k * past // 3)
        ready_case(client, region.care_provider, region.table_id, when.isoformat())


def _forecast(client, region, org, on: date):
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/forecast",
        params={"date": on.isoformat()},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_one_day_ranges_give_a_restricted_viewer_the_whole_year_and_nothing_more(
    client, region, spread
):
    whole = figures(client, region.care_provider, region.table_id, **THE_YEAR)
    assert (whole["start"], whole["end"]) == (THE_YEAR["start"], THE_YEAR["end"])
    assert whole["suppression"] is True
    month_ends = [date(YEAR, m + 1, 1) - timedelta(days=1) for m in range(1, 12)]
    for one_day in [JANUARY_1 + timedelta(days=9), *month_ends, DECEMBER_31]:
        asked = one_day.isoformat()
        seen = figures(client, region.care_provider, region.table_id, start=asked, end=asked)
        assert seen == whole, asked


def test_a_restricted_viewer_reads_this_calendar_year_by_default(client, region, spread):
    seen = figures(client, region.care_provider, region.table_id)
    assert (seen["start"], seen["end"]) == (f"{TODAY.year}-01-01", f"{TODAY.year}-12-31")
    chair = figures(client, region.chair, region.table_id)
    assert chair["start"] == (TODAY - timedelta(days=364)).isoformat()


def test_a_range_over_two_years_is_refused_for_a_restricted_viewer_and_not_for_the_chair(
    client, region, spread
):
    url = f"/v1/tables/{region.table_id}/monitor"
    two_years_refused(client, url, region.care_provider, region.chair, YEAR)


def test_answers_by_month_quarter_and_year_show_the_year_the_same_way(client, region, spread):
    """The year's totals are one cell each in the year's table: every period shows them alike,
    hidden or not."""
    totals = []
    for period in ("month", "quarter", "year"):
        seen = figures(client, region.care_provider, region.table_id, **THE_YEAR, period=period)
        totals.append((seen["totals"], seen["waiting_days_histogram"]))
        rows = {r["period"] for r in seen["rows"]}
        assert len(rows) == {"month": 12, "quarter": 4, "year": 1}[period]
    assert totals[0] == totals[1] == totals[2]


@pytest.mark.parametrize("viewer", ["care_provider", "corporation"])
def test_the_total_row_is_the_same_in_every_grouping(client, region, spread, viewer):
    """The row for everyone (group null) stands in every grouping's answer: it is decided once,
    in the ungrouped table, so no grouping shows a cell another hides."""
    org = getattr(region, viewer)
    params = {**THE_YEAR, "period": "quarter"}

    def total_rows(group_by: str) -> list[dict]:
        seen = figures(client, org, region.table_id, **params, groupBy=group_by)
        return [
            {k: v for k, v in r.items() if k != "group_name"}
            for r in seen["rows"] + seen["totals"]
            if r["group"] is None
        ]

    ungrouped = total_rows("none")
    assert total_rows("care_provider") == ungrouped
    housing = ("housed", "housed_own_lease", "housed_intermediate_lease")
    for grouping in ("corporation", "municipality"):
        for row, alone in zip(total_rows(grouping), ungrouped, strict=True):
            assert {m: row[m] for m in housing} == {m: alone[m] for m in housing}


def test_the_forecast_is_the_same_for_every_date_in_a_quarter(client, region, spread):
    """For a restricted viewer the forecast stands at the last quarter's end on or before the
    date, so successive dates no longer give the days on which others' cases became ready."""
    quarter_end = day(-80)
    while (quarter_end + timedelta(days=1)).month not in (1, 4, 7, 10) or (
        quarter_end + timedelta(days=1)
    ).day != 1:
        quarter_end -= timedelta(days=1)
    days = [quarter_end + timedelta(days=k) for k in range(0, 80, 9)]  # all in the next quarter
    seen = [_forecast(client, region, region.care_provider, on) for on in days]
    assert {s["date"] for s in seen} == {quarter_end.isoformat()}
    assert all(s == seen[0] for s in seen)
    chair = [_forecast(client, region, region.chair, on)["date"] for on in days]
    assert chair == [on.isoformat() for on in days]


def test_placements_show_the_total_as_the_flows_do(client, region, limits):
    """Placements count the flows' housings: their total is the year's housed total, shown or
    hidden as the flows show it, for every restricted viewer."""
    moved = day(-20)
    cases = [ready_case(client, region.care_provider, region.table_id, iso(-60)) for _ in range(7)]
    for k in range(7):
        owner = region.corporation if k < 5 else region.other_corporation
        dwelling(client, owner, complex_ref=f"C{k}")
    for proposal in publish(client, region, iso(-30))[: len(cases)]:
        house(client, region, proposal, moved.isoformat(), by=region.chair)
    year = {"start": date(moved.year, 1, 1).isoformat(), "end": moved.isoformat()}
    for org in (
        region.care_provider,
        region.other_care_provider,
        region.corporation,
        region.other_corporation,
    ):
        flows = figures(client, org, region.table_id, **year, period="year")
        housed = next(r for r in flows["totals"] if r["group"] is None)["housed"]
        placed = client.get(
            f"/v1/tables/{region.table_id}/monitor/placements", params=year, headers=org.headers
        ).json()
        assert (placed["start"], placed["end"]) == (flows["start"], flows["end"])
        assert placed["total"] == housed, org.kind


def test_a_year_after_next_is_refused_for_a_restricted_viewer(client, region, spread):
    """Each year's table stands on all the years before it: a far year would cost the
    protection of every year up to it."""
    later = date(TODAY.year + 2, 6, 30).isoformat()
    url = f"/v1/tables/{region.table_id}/monitor"
    for path, params, name in (
        ("", {"end": later}, "end"),
        ("/placements", {"end": later}, "end"),
        ("/forecast", {"date": later}, "date"),
    ):
        refused = client.get(url + path, params=params, headers=region.corporation.headers)
        assert refused.status_code == 400, path
        assert refused.json()["invalidParams"][0]["name"] == name
        assert refused.json()["invalidParams"][0]["code"] == "year_too_late"
        assert (
            client.get(url + path, params=params, headers=region.chair.headers).status_code == 200
        )
    next_year = date(TODAY.year + 1, 6, 30).isoformat()
    seen = figures(client, region.corporation, region.table_id, end=next_year)
    assert seen["end"] == f"{TODAY.year + 1}-12-31"


def test_a_case_ready_long_ago_does_not_make_a_table_of_every_year_since(
    client, region, spread, monkeypatch
):
    """A ready date typed as 1926 would have made a century of tables to protect, one standing
    on the other: the chain reaches CHAIN_YEARS back from this year at most."""
    # Born by then: a ready date before the birth year is refused (a 400).
    ready_case(client, region.other_care_provider, region.table_id, "1926-05-01", birth_year=1900)
    protected: list[int] = []
    real = monitor_years.year_system

    def counting(grid, *args, **kwargs):
        protected.append(grid.rows[0]["period_start"].year)
        return real(grid, *args, **kwargs)

    monkeypatch.setattr(monitor_years, "year_system", counting)
    seen = figures(client, region.corporation, region.table_id)
    assert seen["suppression"] is True
    assert min(protected) == TODAY.year - monitor_years.CHAIN_YEARS


def test_the_contingent_shows_a_care_provider_no_housed_count_the_flows_hide(
    client, region, limits
):
    """Every housing here is in a contingent dwelling, so a corporation's realised count is its
    housed count in the year: shown or hidden as the flows by corporation show it, and the
    total as the flows' year total."""
    moved = day(-20)
    for k in range(7):
        owner = region.care_provider if k < 4 else region.other_care_provider
        ready_case(client, owner, region.table_id, iso(-60))
        dwelling(
            client, region.corporation if k < 5 else region.other_corporation, complex_ref=f"C{k}"
        )
    for proposal in publish(client, region, iso(-30))[:7]:
        house(client, region, proposal, moved.isoformat(), by=region.chair)
    year = {"start": date(moved.year, 1, 1).isoformat(), "end": moved.isoformat()}
    for org in (region.care_provider, region.other_care_provider):
        flows = figures(client, org, region.table_id, **year, period="year", groupBy="corporation")
        housed = {r["group"]: r["housed"] for r in flows["totals"]}
        response = client.get(
            f"/v1/tables/{region.table_id}/monitor/contingent/{moved.year}", headers=org.headers
        )
        assert response.status_code == 200, response.text
        contingent = response.json()
        assert contingent["suppression"] is True
        realised = {r["corporation_id"]: r["realised"] for r in contingent["rows"]}
        for corporation in (region.corporation, region.other_corporation):
            assert realised[corporation.id] == housed.get(corporation.id, 0), org.name
        assert contingent["total_realised"] == housed[None], org.name
