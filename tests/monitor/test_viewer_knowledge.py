"""Suppression knows the viewer: what an organisation knows from its own cases and dwellings
counts as known when the monitor decides what it may show.

The issue's case: provider A has 1 ready case, provider B 4. A's suppressed answer hid both
provider cells but showed the total 5; A lists its own case, so B's 4 followed.
"""

import pytest

from tests.clock import iso
from tests.monitor.history import dwelling, figures, house, publish, ready_case


@pytest.fixture
def one_and_four(client, region, limits):
    """Provider A (care_provider) one ready case, provider B (other_care_provider) four."""
    ready_case(client, region.care_provider, region.table_id, iso(-40))
    for _ in range(4):
        ready_case(client, region.other_care_provider, region.table_id, iso(-40))


def total_row(document, group=None):
    return next(r for r in document["totals"] if r["group"] == group)


def test_a_provider_cannot_work_out_the_other_from_the_total_and_its_own_row(
    client, region, one_and_four
):
    document = figures(
        client,
        region.care_provider,
        region.table_id,
        start=iso(-60),
        end=iso(0),
        period="year",
        group_by="care_provider",
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
    document = figures(
        client, region.care_provider, region.table_id, start=iso(-60), end=iso(0), period="year"
    )
    assert total_row(document)["backlog_end"] is None


def test_an_organisation_without_cases_there_still_sees_the_total_of_five(
    client, region, one_and_four
):
    document = figures(
        client, region.corporation, region.table_id, start=iso(-60), end=iso(0), period="year"
    )
    assert total_row(document)["backlog_end"] == 5


def test_a_provider_sees_its_own_small_counts_and_nobody_elses(client, region, limits):
    """The only case is A's own: A sees its 1; B, who knows none of it, sees nothing small."""
    ready_case(client, region.care_provider, region.table_id, iso(-40))
    params = {"start": iso(-60), "end": iso(0), "period": "year"}
    own = figures(client, region.care_provider, region.table_id, **params)
    other = figures(client, region.other_care_provider, region.table_id, **params)
    assert total_row(own)["backlog_end"] == 1
    assert total_row(other)["backlog_end"] is None


def test_the_forecast_hides_what_is_all_but_a_few_the_viewers_own(client, region, one_and_four):
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
            params={"start": iso(-60), "end": iso(0)},
            headers=org.headers,
        ).json()

    assert placements(region.other_care_provider)["total"] == 5
    assert placements(region.corporation)["total"] is None
    assert placements(region.other_corporation)["total"] is None  # 5 - its 1 = 4
