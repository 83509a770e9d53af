"""Placements in a region of more municipalities than a year's table by municipality protects
(`years.check_cells`): the flows by municipality refuse that grouping, so their per-municipality
sums are not shown anywhere; the placements still answer, protected against the year's table
without groups."""

from tests.clock import day
from tests.conftest import seed_region
from tests.monitor.history import dwelling, ensure_limits, house, publish, ready_case

CODES = [f"GM{n:04d}" for n in range(301, 318)]  # 17 municipalities, one more than 16


def test_placements_answer_a_region_of_more_municipalities_than_a_grouping_protects(
    client, session
):
    region = seed_region(session, CODES)
    ensure_limits(client)
    for code in CODES:
        ready_case(client, region.care_provider, region.table_id, day(-200).isoformat())
        dwelling(client, region.corporation, municipality_code=code)
    proposals = publish(client, region, day(-100).isoformat())
    assert len(proposals) == len(CODES)
    for proposal in proposals:
        house(client, region, proposal, day(-90).isoformat())

    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/placements",
        params={"end": day(-90).isoformat()},
        headers=region.other_care_provider.headers,
    )

    assert response.status_code == 200, response.text
    document = response.json()
    # One housing per neighbourhood, none the viewer's: no row shows, and the total of 17
    # (as the flows show the year's housed) is shown.
    assert document["suppression"] is True and document["rows"] == []
    flows = client.get(
        f"/v1/tables/{region.table_id}/monitor",
        params={"end": day(-90).isoformat(), "period": "year"},
        headers=region.other_care_provider.headers,
    ).json()
    assert document["total"] == flows["totals"][0]["housed"]
