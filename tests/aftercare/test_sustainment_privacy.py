"""The figures after the move show a restricted viewer nothing the flows hide.

The tester's attack: a cohort's housed count is the flows' housed count of the same period (a
tenancy starts on the day its case is housed), and the sustainment answer was protected on its
own, so its housed total settled cells the flows hid. Now both are cut from one decision per
calendar year, and the cohort counts that equal the housed count (every housing of an old
cohort has reached six months) are hidden with it.
"""

from datetime import date, timedelta
from typing import Any

import pytest

from tests.aftercare.housing import ensure_limits, house, record_signals
from tests.clock import TODAY
from tests.monitor.history import figures, two_years_refused

# Five housings publish five meetings in a few seconds, beyond the per-key publish limit.
pytestmark = pytest.mark.settings(rate_limits_enabled=False)
YEAR = TODAY.year - 1  # every housing below is more than six months old on every clock
THE_YEAR = {"start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31"}


def _sustainment(client: Any, region: Any, org: Any, **params: Any) -> dict[str, Any]:
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/sustainment", params=params, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def housings(client, region):
    """Three housings in the corporation's dwellings and two in the other's, in the first
    quarter of last year: the corporation's year total has a rest of 2, to be hidden."""
    ensure_limits(client, (TODAY - date(YEAR, 1, 1)).days + 500)
    # Five housings in one complex and neighbourhood: lift the spread caps (not the subject).
    spread = {"max_per_complex": 100, "max_per_neighbourhood": 100}
    response = client.patch(
        f"/v1/tables/{region.table_id}", json={"policy": spread}, headers=region.chair.headers
    )
    assert response.status_code == 200, response.text
    plan = [
        (date(YEAR, 1, 10), region.corporation),
        (date(YEAR, 1, 24), region.other_corporation),
        (date(YEAR, 2, 7), region.corporation),
        (date(YEAR, 3, 6), region.other_corporation),
        (date(YEAR, 3, 20), region.corporation),
    ]
    for moved_in, corporation in plan:
        house(client, region, -(TODAY - moved_in).days, corporation=corporation)


@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_the_cohorts_housed_are_hidden_exactly_where_the_flows_hide_the_housings(
    client, region, housings, period
):
    viewer = region.corporation
    flows = figures(client, viewer, region.table_id, period=period, **THE_YEAR)
    after = _sustainment(client, region, viewer, period=period, **THE_YEAR)
    assert after["suppression"] is True
    flows_housed = {r["period"]: r["housed"] for r in flows["rows"] if r["group"] is None}
    flows_housed["total"] = next(t["housed"] for t in flows["totals"] if t["group"] is None)
    cohorts = {r["cohort"]: r for r in after["cohorts"]} | {"total": after["cohorts_total"]}
    assert {label: row["housed"] for label, row in cohorts.items()} == flows_housed
    assert flows_housed["total"] is None  # the rest of 2 in the year
    # Every housing of last year has reached six months, so reached_6 is the housed count:
    # hidden too where others' housings are in it.
    others = {f"{YEAR}-01", f"{YEAR}-03", f"{YEAR}-Q1", str(YEAR), "total"}
    assert {label for label, row in cohorts.items() if row["reached_6"] is None} >= (
        others & cohorts.keys()
    )


def test_one_day_ranges_give_a_restricted_viewer_the_whole_year_of_sustainment(
    client, region, housings
):
    viewer = region.corporation
    whole = _sustainment(client, region, viewer, period="month", **THE_YEAR)
    assert (whole["start"], whole["end"]) == (THE_YEAR["start"], THE_YEAR["end"])
    for one_day in (date(YEAR, 1, 24), date(YEAR, 3, 31), date(YEAR, 12, 31)):
        asked = one_day.isoformat()
        assert _sustainment(client, region, viewer, period="month", start=asked, end=asked) == whole
    by_default = _sustainment(client, region, viewer, period="month", end=THE_YEAR["end"])
    assert by_default == whole


def test_a_range_over_two_years_is_refused_for_a_restricted_viewer_and_not_for_the_chair(
    client, region, housings
):
    url = f"/v1/tables/{region.table_id}/monitor/sustainment"
    two_years_refused(client, url, region.corporation, region.chair, YEAR)
    default = _sustainment(client, region, region.chair, end=THE_YEAR["end"])
    assert default["start"] == (date(YEAR, 12, 31) - timedelta(days=3 * 365)).isoformat()


def test_a_corporation_is_not_shown_the_care_signals_of_its_own_tenant(client, region):
    # Its view of the tenancy shows a checkpoint's landlord signals only (rent arrears,
    # nuisance): the others are no part of what it knows, so they count as anyone's.
    recorded = TODAY - timedelta(days=3)
    ensure_limits(client, 900)
    spread = {"max_per_complex": 100, "max_per_neighbourhood": 100}
    response = client.patch(
        f"/v1/tables/{region.table_id}", json={"policy": spread}, headers=region.chair.headers
    )
    assert response.status_code == 200, response.text
    # Five of its tenants moved in that month: whole counts it knows are shown to it.
    cases = [house(client, region, -60) for _ in range(5)]
    record_signals(client, region, cases[0]["id"])
    year = {"start": f"{recorded.year}-01-01", "end": f"{recorded.year}-12-31"}
    month = f"{recorded:%Y-%m}"

    def signals(org: Any) -> dict[str, Any]:
        answer = _sustainment(client, region, org, period="month", **year)
        [row] = [r for r in answer["signals"] if r["period"] == month]
        return row

    whole = signals(region.chair)
    assert (whole["needs_table"], whole["support_stopped"], whole["rent_arrears"]) == (1, 1, 1)
    seen = signals(region.corporation)
    assert (seen["needs_table"], seen["support_stopped"]) == (None, None)
