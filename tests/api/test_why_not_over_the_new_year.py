"""The legal limits change on 1 January: the last meeting of a year and the first of the next
read each its own year's caps and income limits, and why-not on each date answers exactly what
that date's agenda does, with the same year's figures."""

from datetime import date, timedelta

import pytest
import time_machine

from tests.api import weeks
from tests.clock import START, TODAY
from tests.conftest import OPERATOR, writable_limits

NEW_YEAR = date(TODAY.year + 1, 1, 1)
LAST_MEETING = NEW_YEAR - timedelta(days=4)  # a Monday in 2026: 28 December
FIRST_MEETING = NEW_YEAR + timedelta(days=3)  # ... and 4 January


def offset(on: date) -> int:
    return (on - TODAY).days


@pytest.fixture
def next_year_limits(client):
    """This year's figures for every year up to the next; the next year's caps and income
    limit for a single person a little higher (as each January)."""
    weeks.limits_for(client, -30, offset(FIRST_MEETING))
    figures = writable_limits(client.get(f"/v1/limits/{TODAY.year}", headers=OPERATOR).json())
    raised = figures | {
        "low_cap": f"{float(figures['low_cap']) + 27:.2f}",
        "high_cap": f"{float(figures['high_cap']) + 29:.2f}",
        "income_limit_single": str(int(float(figures["income_limit_single"])) + 1000),
        "service_costs_count": False,
        "service_costs_max": None,
    }
    response = client.put(f"/v1/limits/{NEW_YEAR.year}", json=raised, headers=OPERATOR)
    assert response.status_code in (200, 201), response.text
    this_year = figures | {"service_costs_count": False, "service_costs_max": None}
    response = client.put(f"/v1/limits/{TODAY.year}", json=this_year, headers=OPERATOR)
    assert response.status_code in (200, 201), response.text
    return float(figures["low_cap"]), int(float(figures["income_limit_single"]))


def earning_just_over(client, org, region, income_limit: int) -> dict:
    """A single whose taxable income is this year's income limit + 500 (under next year's)."""
    income = {
        "source": "employment",
        "annual_taxable": f"{income_limit + 500}.00",
        "net_monthly": "1900.00",
        "stable": True,
        "budget_management": "none",
    }
    return weeks.ready_case(client, org, region.table_id, income=income)


def renting_at(client, org, complex_ref: str, rent: float) -> dict:
    """A fitting dwelling with this base rent and no service costs."""
    amounts = {"base": f"{rent:.2f}", "eligible_service_costs": "0.00"}
    return weeks.fitting_dwelling(client, org, complex_ref, rent=amounts)


def test_why_not_and_the_agenda_read_the_same_years_limits_either_side_of_new_year(
    client, region, next_year_limits
):
    """A dwelling whose rent is over this year's low cap and under next year's: a low-income
    single is refused it on 28 December and proposed it on 4 January; a single earning just
    over this year's income limit (under next year's) may take a dearer dwelling in December
    (DAEB limit), not in January (low cap)."""
    low_cap, income_limit = next_year_limits
    low = weeks.ready_case(client, region.care_provider, region.table_id)
    just_over = earning_just_over(client, region.other_care_provider, region, income_limit)
    between = renting_at(client, region.corporation, "A", low_cap + 12)
    dearer = renting_at(client, region.other_corporation, "B", low_cap + 40)
    cases, dwellings = [low, just_over], [between, dearer]

    december = weeks.why_not_agrees(client, region, cases, dwellings, LAST_MEETING)
    assert weeks.codes(
        weeks.why_not(client, region.chair, region.table_id, low, between, offset(LAST_MEETING))
    ) == ["rent_above_cap"]
    assert weeks.pairs(december) == {(just_over["id"], between["id"])}
    answer = weeks.why_not(
        client, region.chair, region.table_id, just_over, dearer, offset(LAST_MEETING)
    )
    assert answer["feasible"] and answer["trade_off"]["case_proposed_vacancy_id"] == between["id"]
    january = weeks.why_not_agrees(client, region, cases, dwellings, FIRST_MEETING)
    assert weeks.pairs(january) == {(low["id"], between["id"])}
    answer = weeks.why_not(
        client, region.chair, region.table_id, just_over, dearer, offset(FIRST_MEETING)
    )
    assert weeks.codes(answer) == ["rent_above_cap"]


def test_a_december_proposal_still_open_in_january_keeps_both_out_of_the_january_agenda(
    client, region, next_year_limits
):
    """Published on 28 December and left open, the proposal is on 4 January's agenda among the
    open proposals, its case and dwelling in no new proposal, and why-not on 4 January names it,
    though the new year's limits would refuse the pair now."""
    low_cap, income_limit = next_year_limits
    just_over = earning_just_over(client, region.care_provider, region, income_limit)
    dearer = renting_at(client, region.corporation, "B", low_cap + 40)
    with time_machine.travel(START + (LAST_MEETING - TODAY), tick=True):
        [proposal] = weeks.publish_meeting(client, region, offset(LAST_MEETING))
    assert (proposal["case_id"], proposal["vacancy_id"]) == (just_over["id"], dearer["id"])
    with time_machine.travel(START + (FIRST_MEETING - TODAY), tick=True):
        document = weeks.why_not_agrees(client, region, [], [], FIRST_MEETING)
        assert document["proposals"] == []
        assert [p["proposal_id"] for p in document["open_proposals"]] == [proposal["id"]]
        answer = weeks.why_not(
            client, region.chair, region.table_id, just_over, dearer, offset(FIRST_MEETING)
        )
        assert weeks.codes(answer) == ["case_in_open_proposal", "vacancy_in_open_proposal"]
        assert weeks.reason(answer, "case_in_open_proposal")["meeting_date"] == (
            LAST_MEETING.isoformat()
        )
        # The December agenda stays frozen on December's limits.
        frozen = client.get(
            f"/v1/meetings/{proposal['meeting_id']}/agenda", headers=region.chair.headers
        )
        assert frozen.status_code == 200, frozen.text
        assert frozen.json()["limits"]["year"] == LAST_MEETING.year
        assert weeks.pairs(frozen.json()) == {(just_over["id"], dearer["id"])}
