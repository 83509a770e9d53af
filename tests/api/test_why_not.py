"""One truth for "why not": the answer for a date is what the agenda of that date does with the
pair: statuses, caps with the usage the agenda counted, earlier declines, and the trade-off."""

import uuid

import pytest

from app.agenda import inputs as agenda_inputs
from app.agenda import why_not as why_not_service
from app.tables.models import OutflowTable
from tests.api.helpers import plan_meeting
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
from tests.clock import day, iso


@pytest.fixture(autouse=True)
def limits(client):
    limits_for(client, -14, 120)


def set_policy(client, region, **policy):
    response = client.patch(
        f"/v1/tables/{region.table_id}", json={"policy": policy}, headers=region.chair.headers
    )
    assert response.status_code == 200, response.text


def patch_case(client, region, case, body):
    response = client.patch(
        f"/v1/cases/{case['id']}", json=body, headers=region.care_provider.headers
    )
    assert response.status_code == 200, response.text


def test_why_not_names_the_cap_usage_that_blocked_the_pair(client, region):
    set_policy(client, region, max_per_complex=1)
    first = ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    second = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    assert proposal["case_id"] == first["id"]
    neighbour = fitting_dwelling(client, region.corporation, "A")

    document = agenda(client, region.chair, region.table_id)
    assert document["proposals"] == []
    assert excluded(document, second) == {"complex_cap_reached": 1}
    answer = why_not(client, region.chair, region.table_id, second, neighbour)
    assert (answer["feasible"], answer["proposed"]) == (False, False)
    assert reason(answer, "complex_cap_reached") == {
        "complex": f"{region.corporation.id}:A",
        "usage": 1,
        "cap": 1,
        "window_months": 24,
    }
    assert codes(why_not(client, region.chair, region.table_id, second, home)) == [
        "vacancy_in_open_proposal"
    ]


def test_a_care_provider_is_not_told_how_many_were_placed_in_a_full_complex(client, region):
    plan_meeting(client, region, iso(0))  # a care provider asks on a meeting date
    set_policy(client, region, max_per_complex=1)
    ready_case(client, region.other_care_provider, region.table_id, ready_since=iso(-700))
    mine = ready_case(client, region.care_provider, region.table_id)
    fitting_dwelling(client, region.corporation, "A")
    publish_meeting(client, region, -7)  # the other provider's client is proposed in A
    neighbour = fitting_dwelling(client, region.corporation, "A")

    seen = why_not(client, region.care_provider, region.table_id, mine, neighbour)
    assert reason(seen, "complex_cap_reached") == {
        "complex": f"{region.corporation.id}:A",
        "usage": None,
        "cap": 1,
        "window_months": 24,
    }
    table = why_not(client, region.chair, region.table_id, mine, neighbour)
    assert reason(table, "complex_cap_reached")["usage"] == 1


def test_why_not_says_a_case_on_hold_takes_no_part_in_the_agenda(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    patch_case(client, region, case, {"status": "on_hold", "status_reason": "client_request"})
    assert agenda(client, region.chair, region.table_id)["candidates_by_case"] == []
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert answer["feasible"] is False and answer["score"] is None
    assert answer["reasons"] == [
        {"code": "case_on_hold", "detail": {"status_reason": "client_request"}}
    ]


def test_why_not_says_a_parked_case_waits_until_its_date(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.care_provider, proposal, "client_decline", "no_show")
    other = fitting_dwelling(client, region.corporation, "B")
    answer = why_not(client, region.chair, region.table_id, case, other)
    assert answer["reasons"] == [{"code": "case_parked", "detail": {"parked_until": iso(90)}}]
    assert agenda(client, region.chair, region.table_id)["proposals"] == []
    after = why_not(client, region.chair, region.table_id, case, other, offset=90)
    assert (after["feasible"], after["proposed"]) == (True, True)
    assert pairs(agenda(client, region.chair, region.table_id, 90)) == {(case["id"], other["id"])}


def test_why_not_names_the_open_proposal_a_case_or_dwelling_is_in(client, region):
    plan_meeting(client, region, iso(0))  # a care provider asks on a meeting date
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    other_case = ready_case(client, region.other_care_provider, region.table_id)
    other_home = fitting_dwelling(client, region.corporation, "B")
    answer = why_not(client, region.chair, region.table_id, case, other_home)
    assert answer["reasons"] == [
        {
            "code": "case_in_open_proposal",
            "detail": {
                "proposal_id": proposal["id"],
                "proposal_status": "proposed",
                "meeting_date": iso(-7),
                "vacancy_id": home["id"],
                "case_id": case["id"],
            },
        }
    ]
    # The other care provider learns the dwelling is taken, not by whom.
    taken = why_not(client, region.other_care_provider, region.table_id, other_case, home)
    assert codes(taken) == ["vacancy_in_open_proposal"]
    assert reason(taken, "vacancy_in_open_proposal")["case_id"] is None
    both = why_not(client, region.chair, region.table_id, case, home)
    assert codes(both) == ["case_in_open_proposal", "vacancy_in_open_proposal"]


def test_why_not_says_a_case_is_not_ready_before_its_ready_date(client, region):
    case = ready_case(client, region.care_provider, region.table_id, ready_since=iso(10))
    home = fitting_dwelling(client, region.corporation, "A")
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert answer["reasons"] == [{"code": "case_not_ready_yet", "detail": {"ready_since": iso(10)}}]
    on_the_day = why_not(client, region.chair, region.table_id, case, home, offset=10)
    assert on_the_day["proposed"] is True


def test_why_not_says_a_housed_case_and_a_let_dwelling_are_done(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    for org, decision in (
        (region.chair, "nominate"),
        (region.corporation, "corporation_accept"),
        (region.corporation, "sign_tenancy"),
        (region.corporation, "house"),
    ):
        decide(client, org, proposal, decision)
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert answer["reasons"] == [
        {"code": "case_housed", "detail": {"exit_date": iso(0)}},
        {"code": "vacancy_let", "detail": {}},
    ]


def test_why_not_says_a_withdrawn_case_is_closed(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    patch_case(client, region, case, {"status": "withdrawn", "status_reason": "own_solution"})
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert answer["reasons"] == [
        {"code": "case_withdrawn", "detail": {"status_reason": "own_solution"}}
    ]


def test_why_not_reports_a_proposed_pair_as_proposed(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert (answer["feasible"], answer["proposed"], answer["trade_off"]) == (True, True, None)
    [proposal] = agenda(client, region.chair, region.table_id)["proposals"]
    assert answer["score"] == proposal["score"]


def test_why_not_names_the_case_that_received_the_contested_dwelling(client, region):
    plan_meeting(client, region, iso(0))  # a care provider asks on a meeting date
    longer = ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    shorter = ready_case(client, region.other_care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    answer = why_not(client, region.chair, region.table_id, shorter, home)
    assert (answer["feasible"], answer["proposed"]) == (True, False)
    trade = answer["trade_off"]
    assert trade["code"] == "lower_total_score"
    assert (trade["housed"], trade["housed_if_given"]) == (1, 1)
    assert trade["total_score_if_given"] < trade["total_score"]
    assert (trade["vacancy_proposed"], trade["vacancy_proposed_to"]) == (True, longer["id"])
    assert trade["case_proposed_vacancy_id"] is None
    assert trade["changes"] == [
        {
            "case_id": longer["id"],
            "vacancy_id": home["id"],
            "score": agenda(client, region.chair, region.table_id)["proposals"][0]["score"],
            "moves_to_vacancy_id": None,
        }
    ]
    # The shorter-waiting case's own care provider sees the trade-off, not the other case.
    own = why_not(client, region.other_care_provider, region.table_id, shorter, home)["trade_off"]
    assert (own["code"], own["vacancy_proposed"], own["vacancy_proposed_to"]) == (
        "lower_total_score",
        True,
        None,
    )
    assert own["total_score"] is None and own["total_score_if_given"] is None
    assert own["changes"] == [
        {"case_id": None, "vacancy_id": home["id"], "score": None, "moves_to_vacancy_id": None}
    ]


def test_why_not_logs_every_case_it_names(client, region):
    longer = ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    shorter = ready_case(client, region.other_care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    why_not(client, region.chair, region.table_id, shorter, home)
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"limit": 1000},  # the log has no `action` filter: filtered below
        headers=region.chair.headers,
    ).json()["items"]
    assert {e["case_id"] for e in log if e["action"] == "why_not"} == {
        longer["id"],
        shorter["id"],
    }


def test_a_corporation_may_not_ask_why_not(client, region):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    response = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": case["id"], "vacancyId": home["id"], "date": iso(0)},
        headers=region.corporation.headers,
    )
    assert response.status_code == 403


def stale_agenda_inputs(session, region, monkeypatch, times: int) -> None:
    """The next `times` loads of the agenda's inputs return what they were before now, as when a
    change commits between why-not's reads of the pair and of the inputs."""
    table = session.get(OutflowTable, uuid.UUID(region.table_id))
    stale = agenda_inputs.load(session, table, day(0))
    real = agenda_inputs.load
    left = [times]

    def load(*args, **kwargs):
        if left[0] > 0:
            left[0] -= 1
            return stale
        return real(*args, **kwargs)

    monkeypatch.setattr(why_not_service, "load", load)


def test_why_not_reads_again_when_the_case_changed_between_its_reads(
    client, region, session, monkeypatch
):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    stale_agenda_inputs(session, region, monkeypatch, times=1)
    patch_case(client, region, case, {"status": "on_hold", "status_reason": "client_request"})
    answer = why_not(client, region.chair, region.table_id, case, home)
    assert codes(answer) == ["case_on_hold"]


def test_why_not_answers_409_when_the_case_keeps_changing(client, region, session, monkeypatch):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    stale_agenda_inputs(session, region, monkeypatch, times=why_not_service.WHY_NOT_ATTEMPTS)
    patch_case(client, region, case, {"status": "on_hold", "status_reason": "client_request"})
    response = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": case["id"], "vacancyId": home["id"], "date": iso(0)},
        headers=region.chair.headers,
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "inputs_changed"
    assert response.headers["Retry-After"] == "1"  # a lost race, worth repeating


def test_a_care_provider_learns_nothing_of_another_providers_case(client, region):
    plan_meeting(client, region, iso(0))  # a care provider asks on a meeting date
    other = ready_case(client, region.other_care_provider, region.table_id)
    response = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": other["id"], "vacancyId": str(uuid.uuid4()), "date": iso(0)},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "No such case at this table."


def test_a_care_provider_reads_nothing_of_another_providers_proposal_in_why_not(client, region):
    """Why-not tells another care provider that the dwelling is taken and since which meeting,
    not the proposal: its id and status (accepted, a viewing planned, signed) follow another
    provider's client, whose proposal answers that provider 404."""
    plan_meeting(client, region, iso(0))  # a care provider asks on a meeting date
    ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.chair, proposal, "nominate")
    other_case = ready_case(client, region.other_care_provider, region.table_id)
    taken = why_not(client, region.other_care_provider, region.table_id, other_case, home)
    assert reason(taken, "vacancy_in_open_proposal") == {
        "proposal_id": None,
        "proposal_status": None,
        "meeting_date": iso(-7),
        "vacancy_id": home["id"],
        "case_id": None,
    }
    hidden = client.get(
        f"/v1/proposals/{proposal['id']}", headers=region.other_care_provider.headers
    )
    assert hidden.status_code == 404
