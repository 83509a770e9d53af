"""A care provider or corporation reads no count of the whole table's cases from the agendas.

Published agendas are frozen week by week. A count each one protected on its own (hidden when
1 to 4 of the cases are not the viewer's) still gave, read side by side with the next week's,
the difference: 10 other providers' ready cases at one meeting and 12 at the next said that 2
became ready in between, which the monitor's year tables hide (found by a tester). The weekly
change of a table's counts is a few cases, so no week-by-week protection would show much: these
viewers get the table's case counts from the monitor only, protected across every answer.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_agenda import straddling_complex
from tests.clock import iso
from tests.conftest import Org, Region, vacancy_body
from tests.monitor.history import dwelling, publish_on, ready_case

TABLE_COUNTS = {"ready_cases", "feasible_pairs", "blocked_cases"}


def frozen_agenda(client: TestClient, org: Org, meeting_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def two_weeks(client: TestClient, region: Region) -> tuple[str, str]:
    """Another provider's 10 cases ready before the first meeting and 2 more between the two;
    the care provider's one case throughout. The meetings' ids."""
    ready_case(client, region.care_provider, region.table_id, iso(-90))
    for _ in range(10):
        ready_case(client, region.other_care_provider, region.table_id, iso(-90))
    first = publish_on(client, region, iso(-60))
    for _ in range(2):
        ready_case(client, region.other_care_provider, region.table_id, iso(-40))
    return first, publish_on(client, region, iso(-20))


def test_two_published_agendas_give_no_difference_of_another_providers_cases(
    client, region, limits
):
    first, second = two_weeks(client, region)
    whole = [
        frozen_agenda(client, region.chair, m)["summary"]["ready_cases"] for m in (first, second)
    ]
    assert whole == [11, 13]
    for viewer in (region.care_provider, region.corporation, region.other_corporation):
        for meeting_id in (first, second):
            summary = frozen_agenda(client, viewer, meeting_id)["summary"]
            assert not TABLE_COUNTS & summary.keys(), summary


def test_the_live_agenda_gives_a_party_no_count_of_the_tables_cases(client, region, limits):
    ready_case(client, region.other_care_provider, region.table_id, iso(-90))
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    ).json()
    for viewer in (region.care_provider, region.corporation):
        response = client.get(
            f"/v1/tables/{region.table_id}/agenda",
            params={"date": meeting["date"]},
            headers=viewer.headers,
        )
        assert response.status_code == 200, response.text
        assert not TABLE_COUNTS & response.json()["summary"].keys()


def test_a_corporation_reads_no_count_of_the_cases_fitting_its_dwelling(client, region, limits):
    """A dwelling on two agendas gave the change in the cases that fit it, week to week."""
    for _ in range(6):
        ready_case(client, region.other_care_provider, region.table_id, iso(-90))
    home = dwelling(client, region.corporation)
    meeting_id = publish_on(client, region, iso(-20))
    document = frozen_agenda(client, region.corporation, meeting_id)
    entries = document["candidates_by_vacancy"] + document["vacancies_without_candidates"]
    assert [e["vacancy_id"] for e in entries] == [home["id"]]
    assert all("feasible_count" not in e for e in entries)


def test_the_bottleneck_history_is_for_the_chair_and_municipalities(client, region, limits):
    """Its counts are each meeting's whole table, side by side: what the agendas no longer give
    a party, the history would."""
    first, second = two_weeks(client, region)
    path = f"/v1/tables/{region.table_id}/monitor/bottlenecks"
    params = {"start": iso(-90), "end": iso(0)}
    for reader in (region.chair, region.municipality):
        answer = client.get(path, params=params, headers=reader.headers)
        assert answer.status_code == 200, answer.text
        meetings = answer.json()["meetings"]
        assert [(m["meeting_id"], m["ready_cases"]) for m in meetings] == [
            (first, 11),
            (second, 13),
        ]
    for party in (
        region.care_provider,
        region.other_care_provider,
        region.corporation,
        region.other_corporation,
    ):
        refused = client.get(path, params=params, headers=party.headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"


def live_summary(client: TestClient, org: Org, region: Region, date: str) -> dict[str, Any]:
    response = client.get(
        f"/v1/tables/{region.table_id}/agenda", params={"date": date}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["summary"])


def test_the_dwellings_taking_part_give_no_count_of_the_proposals_a_party_may_not_read(
    client, region, limits
):
    """Dwellings proposed at a meeting leave the next agenda: the table's count of dwellings
    taking part, read on the published agenda and on the next meeting's live one, fell by the
    meeting's proposals, which its own `people_housed` hid (3 of another provider's clients,
    on the other corporation's dwellings)."""
    ready_case(client, region.care_provider, region.table_id, iso(-90))
    for _ in range(3):
        ready_case(client, region.other_care_provider, region.table_id, iso(-90))
    for corporation, homes in ((region.corporation, 1), (region.other_corporation, 5)):
        for _ in range(homes):
            dwelling(client, corporation, complex_ref=None)
    first = publish_on(client, region, iso(-7))
    nxt = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    )
    assert nxt.status_code == 201, nxt.text
    assert frozen_agenda(client, region.chair, first)["summary"]["people_housed"] == 4
    assert live_summary(client, region.chair, region, iso(7))["vacancies"] == 2
    for viewer in (region.care_provider, region.corporation):
        frozen = frozen_agenda(client, viewer, first)["summary"]
        assert frozen["people_housed"] is None  # 3 proposals not its own
        live = live_summary(client, viewer, region, iso(7))
        assert "vacancies" not in frozen and "vacancies" not in live, (frozen, live)


def test_the_live_agenda_asked_on_two_days_gives_a_party_no_change_in_the_proposals(
    client, region, limits
):
    """The live agenda of a planned meeting is computed from each day's records: its
    `people_housed` went from 6 to 7 when another provider registered one client a dwelling
    fits, 5 other proposals or more each day, so each shown, the one between them hidden in
    the monitor's flows. A party reads the count of proposals on the published agenda only."""
    ready_case(client, region.care_provider, region.table_id, iso(-90))
    for _ in range(5):
        ready_case(client, region.other_care_provider, region.table_id, iso(-90))
    for n in range(9):  # in neighbourhoods of their own: no spread cap bites
        address = vacancy_body()["address"] | {"neighbourhood_code": f"BU034401{n:02d}"}
        dwelling(client, region.other_corporation, complex_ref=None, address=address)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    )
    assert meeting.status_code == 201, meeting.text
    viewers = (region.chair, region.care_provider, region.corporation)
    before = [live_summary(client, viewer, region, iso(7)) for viewer in viewers]
    ready_case(client, region.other_care_provider, region.table_id, iso(-3))
    after = [live_summary(client, viewer, region, iso(7)) for viewer in viewers]
    assert (before[0]["people_housed"], after[0]["people_housed"]) == (6, 7)
    for earlier, later in zip(before[1:], after[1:], strict=True):
        counts = ("people_housed", "persons_housed", "optimality")
        assert [earlier[key] for key in counts] == [later[key] for key in counts] == [None] * 3
        draft = client.get(
            f"/v1/meetings/{meeting.json()['id']}/agenda", headers=region.care_provider.headers
        )
        assert draft.status_code == 200, draft.text
        assert draft.json()["summary"]["people_housed"] is None


@pytest.mark.settings(solver_time_budget_seconds=0.000000001)
def test_a_proposal_not_proven_optimal_gives_a_party_no_bound_on_the_people_housed(
    client, region, limits
):
    """The bound is the smallest of the cases some dwelling fits, the dwellings some case fits
    and the rooms of their complexes and neighbourhoods: where the cases or the dwellings are
    the smallest, it is the count the parties' summary no longer carries (ready cases less the
    blocked ones; the dwellings taking part), meeting by meeting. The chair keeps it."""
    straddling_complex(client, region)
    meeting_id = publish_on(client, region, iso(0))
    whole = frozen_agenda(client, region.chair, meeting_id)["summary"]
    assert whole["optimal"] is False and whole["optimality"]["people_housed_bound"] is not None
    for viewer in (region.corporation, region.care_provider):
        summary = frozen_agenda(client, viewer, meeting_id)["summary"]
        assert summary["people_housed"] == whole["people_housed"]  # all the viewer's own
        assert summary["optimality"]["people_housed_bound"] is None, summary
