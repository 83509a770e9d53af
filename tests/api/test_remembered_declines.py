"""The table remembers: a declined pair never comes back; a corporation's decline for some
reasons keeps the case from all its dwellings for a while; automatic closures are no declines."""

import pytest

from tests.api.helpers import invalid_names, withdraw_case
from tests.api.weeks import (
    agenda,
    codes,
    decide,
    excluded,
    fitting_dwelling,
    limits_for,
    pairs,
    publish_meeting,
    ready_case,
    reason,
    why_not,
)
from tests.clock import iso


@pytest.fixture(autouse=True)
def limits(client):
    limits_for(client, -14, 400)


def test_declined_pair_is_not_proposed_again(client, region):
    """The issue's weeks: week 1 the client declines (location); week 2 the pair stays out."""
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    assert (proposal["case_id"], proposal["vacancy_id"]) == (case["id"], home["id"])
    decide(client, region.care_provider, proposal, "client_decline", "location")

    week_2 = agenda(client, region.chair, region.table_id)
    assert week_2["proposals"] == []
    assert excluded(week_2, case) == {"declined_earlier": 1}
    [blocked] = week_2["bottlenecks"]["blocked_cases"]
    assert blocked["case_id"] == case["id"] and blocked["unblocked_by"] == ["declined_earlier"]
    assert week_2["bottlenecks"]["by_reason"][0]["code"] == "declined_earlier"
    assert publish_meeting(client, region, 0) == []

    answer = why_not(client, region.chair, region.table_id, case, home)
    assert not answer["feasible"] and codes(answer) == ["declined_earlier"]
    assert reason(answer, "declined_earlier") == {
        "decision": "client_decline",
        "reason": "location",
        "decided_on": iso(0),
        "proposal_id": proposal["id"],
        "times": 1,
    }


def test_a_declined_case_is_proposed_another_dwelling(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    first = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.chair, proposal, "withdraw", "table_decision")
    second = fitting_dwelling(client, region.corporation, "B")
    document = agenda(client, region.chair, region.table_id)
    assert pairs(document) == {(case["id"], second["id"])}
    assert excluded(document, case) == {"declined_earlier": 1}
    assert (
        reason(why_not(client, region.chair, region.table_id, case, first), "declined_earlier")[
            "decision"
        ]
        == "withdraw"
    )


def test_corporation_decline_for_a_failed_reference_check_covers_all_its_dwellings(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    declined = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.corporation, proposal, "corporation_decline", "failed_reference_check")
    sibling = fitting_dwelling(client, region.corporation, "B")
    elsewhere = fitting_dwelling(client, region.other_corporation, "C")

    document = agenda(client, region.chair, region.table_id)
    assert pairs(document) == {(case["id"], elsewhere["id"])}
    assert excluded(document, case) == {
        "declined_earlier": 1,
        "declined_by_corporation_earlier": 2,
    }
    answer = why_not(client, region.chair, region.table_id, case, sibling)
    assert codes(answer) == ["declined_by_corporation_earlier"]
    assert reason(answer, "declined_by_corporation_earlier") == {
        "corporation_id": region.corporation.id,
        "reason": "failed_reference_check",
        "decided_on": iso(0),
        "until": iso(365),
        "vacancy_id": declined["id"],
        "proposal_id": proposal["id"],
    }
    # A year later the corporation's other dwellings are open again, the declined one is not.
    later = why_not(client, region.chair, region.table_id, case, sibling, offset=365)
    assert later["feasible"]
    assert codes(why_not(client, region.chair, region.table_id, case, declined, 365)) == [
        "declined_earlier"
    ]


def test_the_chair_can_narrow_or_widen_the_corporation_decline_scope(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.corporation, proposal, "corporation_decline", "unsuitable_for_dwelling")
    sibling = fitting_dwelling(client, region.corporation, "B")
    assert pairs(agenda(client, region.chair, region.table_id)) == {(case["id"], sibling["id"])}

    table = client.get(f"/v1/tables/{region.table_id}", headers=region.chair.headers).json()
    assert table["policy"]["corporation_decline_scope_days"] == {
        "failed_reference_check": 365,
        "rent_arrears": 365,
    }
    patched = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"corporation_decline_scope_days": {"unsuitable_for_dwelling": 30}}},
        headers=region.chair.headers,
    )
    assert patched.status_code == 200, patched.text
    document = agenda(client, region.chair, region.table_id)
    assert document["proposals"] == []
    assert document["policy"]["corporation_decline_scope_days"] == {"unsuitable_for_dwelling": 30}
    assert excluded(document, case) == {"declined_by_corporation_earlier": 2, "declined_earlier": 1}
    assert agenda(client, region.chair, region.table_id, offset=30)["proposals"] != []


def test_a_decline_scope_for_a_reason_a_corporation_cannot_give_is_refused(client, region):
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"corporation_decline_scope_days": {"location": 30}}},
        headers=region.chair.headers,
    )
    assert invalid_names(response)
    assert "not a corporation decline reason" in response.text


def test_putting_a_proposed_case_on_hold_is_not_a_decline_of_the_pair(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    for body in (
        {"status": "on_hold", "status_reason": "temporarily_unreachable"},
        {"status": "ready"},
    ):
        response = client.patch(
            f"/v1/cases/{case['id']}", json=body, headers=region.care_provider.headers
        )
        assert response.status_code == 200, response.text
    closed = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert closed["status"] == "withdrawn"
    assert [d["automatic"] for d in closed["decisions"]] == [True]
    assert pairs(agenda(client, region.chair, region.table_id)) == {(case["id"], home["id"])}


def test_a_withdrawn_dwelling_closes_its_proposal_without_remembering_a_decline(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    response = client.delete(f"/v1/vacancies/{home['id']}", headers=region.corporation.headers)
    assert response.status_code in (200, 204), response.text
    closed = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert [(d["reason"], d["automatic"]) for d in closed["decisions"]] == [
        ("dwelling_changed", True)
    ]
    other = fitting_dwelling(client, region.corporation, "B")
    assert pairs(agenda(client, region.chair, region.table_id)) == {(case["id"], other["id"])}
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert codes(answer) == ["vacancy_withdrawn"]


def test_decisions_taken_by_people_are_not_automatic(client, region):
    ready_case(client, region.care_provider, region.table_id)
    fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decided = decide(client, region.care_provider, proposal, "client_decline", "no_show")
    assert [d["automatic"] for d in decided["decisions"]] == [False]


def test_a_returning_client_brings_the_declines_of_the_case_it_follows(client, region):
    """A corporation declined the client for a failed reference check (its dwellings closed to
    the client for a year) and the client declined another dwelling. The care provider withdrew
    the case and registered the client again, naming the closed case: the new case was proposed the
    declined dwellings the next week, the table's memory left behind with the old case id."""
    case = ready_case(client, region.care_provider, region.table_id)
    declined = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -14)
    assert proposal["vacancy_id"] == declined["id"]
    decide(client, region.corporation, proposal, "corporation_decline", "failed_reference_check")
    other = fitting_dwelling(client, region.other_corporation, "B")
    [second] = publish_meeting(client, region, -7)
    assert second["vacancy_id"] == other["id"]
    decide(client, region.care_provider, second, "client_decline", "location")
    returned = _registered_again(client, region, case)
    sibling = fitting_dwelling(client, region.corporation, "C")

    document = agenda(client, region.chair, region.table_id)
    assert pairs(document) == set()
    assert excluded(document, returned) == {
        "declined_earlier": 2,
        "declined_by_corporation_earlier": 2,
    }
    answer = why_not(client, region.chair, region.table_id, returned, sibling)
    assert codes(answer) == ["declined_by_corporation_earlier"]
    assert reason(answer, "declined_by_corporation_earlier")["until"] == iso(365)
    assert codes(why_not(client, region.chair, region.table_id, returned, other)) == [
        "declined_earlier"
    ]


def _registered_again(client, region, case):  # type: ignore[no-untyped-def]
    """The care provider withdraws `case` (back to care) and registers the client again,
    naming the closed case: the returning client's new case."""
    withdraw_case(client, region.care_provider, case["id"], "returned_to_care")
    return ready_case(
        client,
        region.care_provider,
        region.table_id,
        external_ref=case["external_ref"],
        previous_case_id=case["id"],
    )


def test_a_returning_client_stays_parked_as_the_case_it_follows_was(client, region):
    """A no-show parks the case (policy: 90 days), and a parked case cannot be resumed early
    (409). Withdrawing it and registering the client again, naming the closed case, gave a
    case that the next agenda proposed another dwelling: the parking was lifted at once."""
    case = ready_case(client, region.care_provider, region.table_id)
    fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.care_provider, proposal, "client_decline", "no_show")
    parked = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert parked["parked_until"] == iso(90)
    returned = _registered_again(client, region, case)
    assert (returned["parked_until"], returned["status"]) == (iso(90), "on_hold")
    history = client.get(
        f"/v1/cases/{returned['id']}/transitions", headers=region.care_provider.headers
    ).json()["items"]
    assert [t["to_status"] for t in history] == ["on_hold"]
    other = fitting_dwelling(client, region.other_corporation, "B")
    assert pairs(agenda(client, region.chair, region.table_id)) == set()
    answer = why_not(client, region.chair, region.table_id, returned, other)
    assert codes(answer) == ["case_parked"]
    assert pairs(agenda(client, region.chair, region.table_id, offset=90)) == {
        (returned["id"], other["id"])
    }
