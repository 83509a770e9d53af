"""Suppression knows the viewer: what an organisation knows from its own cases and dwellings
counts as known when the monitor decides what it may show.

The issue's case: provider A has 1 ready case, provider B 4. A's suppressed answer hid both
provider cells but showed the total 5; A lists its own case, so B's 4 followed.
"""

from datetime import date, timedelta

import pytest

from app.openapi_examples import VACANCY_EXAMPLE
from tests.clock import TODAY, iso
from tests.monitor.history import dwelling, figures, house, publish, ready_case
from tests.monitor.reader import read, small_sums

DAYS_2, DAYS_3 = timedelta(days=2), timedelta(days=3)


@pytest.fixture
def one_and_four(client, region, limits):
    """Provider A (care_provider) one ready case, provider B (other_care_provider) four."""
    ready_case(client, region.care_provider, region.table_id, iso(-40))
    for _ in range(4):
        ready_case(client, region.other_care_provider, region.table_id, iso(-40))


def year_of(days: int) -> dict[str, str]:
    """The calendar year of the day `days` from the clock's: what a restricted viewer reads."""
    day = TODAY + timedelta(days=days)
    return {"start": date(day.year, 1, 1).isoformat(), "end": date(day.year, 12, 31).isoformat()}


def total_row(document, group=None):
    return next(r for r in document["totals"] if r["group"] == group)


def test_a_provider_cannot_work_out_the_other_from_the_total_and_its_own_row(
    client, region, one_and_four
):
    document = figures(
        client,
        region.care_provider,
        region.table_id,
        **year_of(-40),
        period="year",
        groupBy="care_provider",
    )
    own = total_row(document, region.care_provider.id)
    other = total_row(document, region.other_care_provider.id)
    everyone = total_row(document)
    assert own["new_ready"] == 1 and own["backlog_end"] == 1  # its own row, shown whole
    assert other["new_ready"] is None and other["backlog_end"] is None
    assert everyone["new_ready"] is None and everyone["backlog_end"] is None


def test_the_table_total_is_hidden_when_all_but_a_few_are_the_viewers_own(
    client, region, one_and_four
):
    """Ungrouped, the total 5 minus A's own 1 would give the others' 4."""
    document = figures(client, region.care_provider, region.table_id, **year_of(-40), period="year")
    assert total_row(document)["backlog_end"] is None


def test_an_organisation_without_cases_there_still_sees_the_total_of_five(
    client, region, one_and_four
):
    document = figures(client, region.corporation, region.table_id, **year_of(-40), period="year")
    assert total_row(document)["backlog_end"] == 5


def test_a_provider_sees_its_own_small_counts_and_nobody_elses(client, region, limits):
    """The only case is A's own: A sees its 1; B, who knows none of it, sees nothing small."""
    ready_case(client, region.care_provider, region.table_id, iso(-40))
    params = {**year_of(-40), "period": "year"}
    own = figures(client, region.care_provider, region.table_id, **params)
    other = figures(client, region.other_care_provider, region.table_id, **params)
    assert total_row(own)["backlog_end"] == 1
    assert total_row(other)["backlog_end"] is None


def test_the_forecast_hides_what_is_all_but_a_few_the_viewers_own(client, region, limits):
    # Ready 100 days ago: before the last quarter's end, where a restricted viewer's forecast is.
    ready_case(client, region.care_provider, region.table_id, iso(-100))
    for _ in range(4):
        ready_case(client, region.other_care_provider, region.table_id, iso(-100))

    def outlook(org):
        return client.get(
            f"/v1/tables/{region.table_id}/monitor/forecast", headers=org.headers
        ).json()

    assert outlook(region.corporation)["backlog_now"] == 5
    assert outlook(region.care_provider)["backlog_now"] is None  # 5 - its 1 = the others' 4


def test_a_corporation_cannot_work_out_the_others_placements_from_its_own(client, region, limits):
    """Five housings in one neighbourhood, four in the corporation's dwellings: a stranger may
    see the 5, the corporation would learn the other corporation housed 1 there."""
    cases = [ready_case(client, region.care_provider, region.table_id, iso(-60)) for _ in range(5)]
    for k in range(5):
        owner = region.corporation if k < 4 else region.other_corporation
        dwelling(client, owner, complex_ref=f"C{k}")
    proposals = publish(client, region, iso(-30))
    assert len(proposals) == len(cases)
    for proposal in proposals:
        house(client, region, proposal, iso(-20), by=region.chair)

    def placements(org):
        return client.get(
            f"/v1/tables/{region.table_id}/monitor/placements",
            params=year_of(-20),  # the year of the housings
            headers=org.headers,
        ).json()

    assert placements(region.other_care_provider)["total"] == 5
    assert placements(region.corporation)["total"] is None
    assert placements(region.other_corporation)["total"] is None  # 5 - its 1 = 4


def test_a_hidden_neighbourhood_is_left_out_so_its_listing_says_nothing(client, region, limits):
    """The tester's case: the total and the corporation's own rows shown, the other
    corporation's single housings in two other neighbourhoods hidden as null rows. A listed row
    holds at least 1, so two null rows summing to total - own = 2 were 1 each. Hidden rows are
    left out now, and the total that would give their sum (2 of others) is hidden too."""
    places = ["BU03440101"] * 5 + ["BU03440102", "BU03440103"]
    cases = [ready_case(client, region.care_provider, region.table_id, iso(-60)) for _ in places]
    for k, place in enumerate(places):
        owner = region.corporation if k < 5 else region.other_corporation
        address = {**VACANCY_EXAMPLE["address"], "neighbourhood_code": place}
        dwelling(client, owner, complex_ref=f"C{k}", address=address)
    proposals = publish(client, region, iso(-30))
    assert len(proposals) == len(cases)
    for proposal in proposals:
        house(client, region, proposal, iso(-20), by=region.chair)

    seen = client.get(
        f"/v1/tables/{region.table_id}/monitor/placements",
        params=year_of(-20),  # the year of the housings
        headers=region.corporation.headers,
    ).json()

    assert seen["rows"] == [
        {"neighbourhood_code": "BU03440101", "municipality_code": "GM0344", "placements": 5}
    ]
    assert seen["total"] is None


def _cells(document):
    cells = {}
    for part in ("rows", "totals"):
        for row in document[part]:
            for measure, value in row.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    cells[(part, row["period"], row["group"], measure)] = value
    cells |= {("hist", b["bucket"]): b["count"] for b in document["waiting_days_histogram"]}
    return cells


def _what_a_knows(region, truth):
    """Provider A's own part of every cell: its whole row, and its share of the table's."""
    mine = region.care_provider.id
    known = {cell for cell in truth if cell[0] != "hist" and cell[2] == mine}
    own = {cell: truth[cell] for cell in known}
    own |= {
        (part, period, None, measure): truth[(part, period, group, measure)]
        for part, period, group, measure in known
    }
    own |= {("start", mine): 0, ("start", None): 0}  # A's case became ready inside the range
    return own, known


def test_a_reader_with_a_s_own_case_works_out_b_from_the_answer_a_stranger_gets(
    client, region, one_and_four
):
    """The reader the property test uses is able to find the leak: the corporation's answer
    (the total 5 shown) read with A's knowledge gives B's 4, A's own answer does not."""
    params = {**year_of(-40), "period": "year", "groupBy": "care_provider"}
    truth = _cells(figures(client, region.chair, region.table_id, **params))
    own, known = _what_a_knows(region, truth)
    strangers = figures(client, region.corporation, region.table_id, **params)
    pinned = {r.cell for r in read(strangers, truth, own, known) if r.worked_out}
    assert ("totals", "total", region.other_care_provider.id, "backlog_end") in pinned
    as_a = figures(client, region.care_provider, region.table_id, **params)
    assert not [r for r in read(as_a, truth, own, known) if r.worked_out_over_integers]


def _month_start(months_back: int) -> date:
    """The first day of the month `months_back` months before the clock's."""
    month = TODAY.year * 12 + TODAY.month - 1 - months_back
    return date(month // 12, month % 12 + 1, 1)


def test_a_provider_cannot_work_out_others_new_cases_from_two_backlogs_months_apart(
    client, region, limits
):
    """The tester's case. Month by month, ungrouped: A knows its own 2 cases that became ready
    in the middle months. Shown: the backlog before and after them, no exits in between, the
    new ready cases of each month hidden. The later backlog minus the earlier is every case that
    became ready in between (3), so A would learn the others had 1: a sum of hidden cells over
    several periods must not hold 1 to 4 of other organisations' people either."""
    long_ago = _month_start(8).isoformat()
    for _ in range(8):
        ready_case(client, region.other_care_provider, region.table_id, long_ago)
    for _ in range(6):
        ready_case(client, region.care_provider, region.table_id, long_ago)
    ready_case(client, region.other_care_provider, region.table_id, str(_month_start(3) + DAYS_3))
    for _ in range(2):
        ready_case(client, region.care_provider, region.table_id, str(_month_start(2) + DAYS_3))
    ready_case(client, region.other_care_provider, region.table_id, str(_month_start(1) + DAYS_2))
    day = _month_start(1)  # A reads one calendar year: the last month's
    params = {**year_of((day - TODAY).days), "period": "month"}
    seen = figures(client, region.care_provider, region.table_id, **params)
    truth = _cells(figures(client, region.chair, region.table_id, **params))
    by_provider = figures(client, region.chair, region.table_id, **params, groupBy="care_provider")
    mine = region.care_provider.id
    own = {  # A's share of every cell: its row of the grouped answer (it housed nobody)
        (cell[0], cell[1], None, cell[3]): value
        for cell, value in _cells(by_provider).items()
        if cell[0] != "hist" and cell[2] == mine
    }
    own[("start", None)] = 6 if seen["start"] > long_ago else 0

    assert seen["suppression"] is True
    assert small_sums(seen, truth, own, set()) is None
    assert not [r for r in read(seen, truth, own, set()) if r.worked_out]


def test_waiting_statistics_show_a_restricted_viewer_only_the_waits_it_knows(
    client, region, limits
):
    """The tester's attack: the other provider's five housings and one of A's in a year; B's row
    median is one of B's clients' waits, p90 the longest, and with the total's median another
    followed. Only A's own row keeps its statistics; the corporation, which knows no ready date,
    sees none."""
    moved = TODAY - timedelta(days=20)
    spread = {"max_per_complex": 100, "max_per_neighbourhood": 100}  # one neighbourhood here
    response = client.patch(
        f"/v1/tables/{region.table_id}", json={"policy": spread}, headers=region.chair.headers
    )
    assert response.status_code == 200, response.text
    for k in range(6):
        owner = region.care_provider if k == 0 else region.other_care_provider
        ready_case(client, owner, region.table_id, iso(-60 - 17 * k))
        dwelling(client, region.corporation, complex_ref=f"W{k}")
    for proposal in publish(client, region, iso(-30))[:6]:
        house(client, region, proposal, moved.isoformat(), by=region.chair)
    year = year_of(-20)
    chair = figures(client, region.chair, region.table_id, **year, groupBy="care_provider")
    assert total_row(chair)["housed"] == 6
    assert total_row(chair)["waiting_days_median"] is not None
    seen = figures(client, region.care_provider, region.table_id, **year, groupBy="care_provider")
    assert total_row(seen)["waiting_days_median"] is None
    assert total_row(seen, region.other_care_provider.id)["waiting_days_p90"] is None
    assert total_row(seen, region.care_provider.id)["waiting_days_median"] is not None
    corporation = figures(
        client, region.corporation, region.table_id, **year, groupBy="corporation"
    )
    assert all(r["waiting_days_p90"] is None for r in corporation["rows"] + corporation["totals"])
