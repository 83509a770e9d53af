"""The meeting cycle through the API: publish a frozen agenda, decide, follow up."""

import uuid
from datetime import date, datetime, time

import pytest
import time_machine

from app.proposals.models import Proposal
from app.timeutil import AMSTERDAM
from tests.api.helpers import assert_problem
from tests.clock import START, TODAY, iso
from tests.conftest import (
    OPERATOR,
    create_case,
    create_vacancy,
    make_org,
    make_table,
    push_again,
    vacancy_body,
)

DATE = iso(-14)  # two weeks ago, so a move-in date can follow it


def schedule(client, region, date=DATE):
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": date}, headers=region.chair.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def publish(client, region, meeting):
    response = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    return response.json()


def proposals(client, region, org=None, **params):
    response = client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params=params,
        headers=(org or region.chair).headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def decide(client, org, proposal_id, decision, reason=None, **headers):
    body = {"decision": decision} | ({"reason": reason} if reason else {})
    if decision == "plan_viewing":
        body["viewing_date"] = iso(7)
    return client.post(
        f"/v1/proposals/{proposal_id}/decisions", json=body, headers=org.headers | headers
    )


def case_of(client, region, case_id):
    return client.get(f"/v1/cases/{case_id}", headers=region.chair.headers).json()


def vacancy_of(client, region, vacancy_id):
    return client.get(f"/v1/vacancies/{vacancy_id}", headers=region.chair.headers).json()


@pytest.fixture
def published(client, region):
    """One meeting published with one proposal: case of care_provider, dwelling of corporation,
    the dwelling available from the meeting's day (a move-in may not precede it)."""
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation, available_from=DATE)
    meeting = publish(client, region, schedule(client, region))
    [proposal] = proposals(client, region)
    return meeting, proposal, case, vacancy


def walk_to_tenancy(client, region, proposal_id):
    for org, decision in (
        (region.chair, "nominate"),
        (region.corporation, "corporation_accept"),
        (region.corporation, "plan_viewing"),
        (region.corporation, "sign_tenancy"),
    ):
        response = decide(client, org, proposal_id, decision)
        assert response.status_code == 200, response.text


def test_only_the_chair_schedules_a_meeting(client, region):
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": DATE},
        headers=region.municipality.headers,
    )
    assert_problem(response, 403)


def test_the_operator_sees_a_meeting_in_the_list_and_is_refused_it_not_told_it_is_unknown(
    client, region, published
):
    meeting = published[0]
    listed = client.get(f"/v1/tables/{region.table_id}/meetings", headers=OPERATOR)
    assert meeting["id"] in [m["id"] for m in listed.json()["items"]]
    for path in ("", "/agenda", "/minutes"):
        response = client.get(f"/v1/meetings/{meeting['id']}{path}", headers=OPERATOR)
        assert_problem(response, 403)
    unknown = client.get(f"/v1/meetings/{uuid.uuid4()}", headers=OPERATOR)
    assert_problem(unknown, 404)


def test_a_table_meets_once_per_date(client, region):
    first = schedule(client, region)
    again = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": DATE}, headers=region.chair.headers
    )
    assert_problem(again, 409)
    assert again.headers["Location"] == f"/v1/meetings/{first['id']}"


@pytest.mark.parametrize(
    ("date", "code"),
    [
        (iso(367), "date_too_far_ahead"),  # a typo's 2100 would be planned and never held
        ("1900-01-07", "no_limits_for_year"),  # no agenda can be computed for it
    ],
)
def test_a_meeting_is_planned_only_on_a_date_its_agenda_can_be_computed_for(
    client, region, date, code
):
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": date}, headers=region.chair.headers
    )
    [param] = assert_problem(response, 400, "validation_error")["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == ("date", "body", code)


def test_a_meeting_a_year_ahead_can_be_planned(client, region):
    assert schedule(client, region, iso(366))["date"] == iso(366)


def test_publishing_turns_the_agenda_into_proposals(client, region, published):
    meeting, proposal, case, vacancy = published
    assert meeting["status"] == "published" and meeting["proposals"] == 1
    assert proposal["case_id"] == case["id"] and proposal["vacancy_id"] == vacancy["id"]
    assert proposal["status"] == "proposed"
    assert case_of(client, region, case["id"])["status"] == "proposed"
    assert vacancy_of(client, region, vacancy["id"])["status"] == "proposed"


def test_publishing_twice_is_refused(client, region, published):
    meeting, *_ = published
    response = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert_problem(response, 409)


def test_a_publish_with_the_meetings_etag_lands_and_moves_it(client, region):
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    meeting = schedule(client, region)
    path = f"/v1/meetings/{meeting['id']}"
    read = client.get(path, headers=region.chair.headers).headers["ETag"]
    published = client.post(f"{path}/publish", headers={**region.chair.headers, "If-Match": read})
    assert published.status_code == 200, published.text
    assert published.headers["ETag"] != read
    current = client.get(path, headers=region.chair.headers)
    assert current.headers["ETag"] == published.headers["ETag"]


def test_a_publish_retried_with_the_etag_read_before_it_is_412_and_proposes_nothing_more(
    client, region
):
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    meeting = schedule(client, region)
    path = f"/v1/meetings/{meeting['id']}"
    read = client.get(path, headers=region.chair.headers).headers["ETag"]
    headers = {**region.chair.headers, "If-Match": read}
    assert client.post(f"{path}/publish", headers=headers).status_code == 200
    retried = client.post(f"{path}/publish", headers=headers)
    assert_problem(retried, 412, "precondition_failed")
    assert len(proposals(client, region)) == 1


def test_only_the_chair_publishes(client, region):
    meeting = schedule(client, region)
    response = client.post(
        f"/v1/meetings/{meeting['id']}/publish", headers=region.municipality.headers
    )
    assert_problem(response, 403)


def test_published_agenda_is_frozen_and_later_edits_show_as_changes(client, region, published):
    meeting, _, case, _ = published
    client.patch(
        f"/v1/cases/{case['id']}",
        json={"needs": {"pets": True}},
        headers=region.care_provider.headers,
    )
    newcomer = create_case(client, region.care_provider, region.table_id)
    document = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=region.chair.headers)
    assert document.status_code == 200
    body = document.json()
    assert body["frozen"] is True
    assert [p["case_id"] for p in body["proposals"]] == [case["id"]]
    changes = {(c["id"], c["change"]) for c in body["changes"]}
    assert (case["id"], "updated") in changes
    assert (newcomer["id"], "added") in changes


def test_changes_are_cut_to_the_callers_view(client, region, published):
    meeting, _, case, _ = published
    client.patch(
        f"/v1/cases/{case['id']}", json={"urgency": True}, headers=region.care_provider.headers
    )
    body = client.get(
        f"/v1/meetings/{meeting['id']}/agenda", headers=region.corporation.headers
    ).json()
    assert all(c["subject"] == "vacancy" for c in body["changes"])
    assert set(body["proposals"][0]) == {"case_id", "vacancy_id"}  # no score, no components


def test_the_full_cycle_houses_the_client_and_lets_the_dwelling(client, region, published):
    _, proposal, case, vacancy = published
    walk_to_tenancy(client, region, proposal["id"])
    housed = decide(client, region.corporation, proposal["id"], "house")
    assert housed.status_code == 200
    assert housed.json()["status"] == "housed"
    assert [d["decision"] for d in housed.json()["decisions"]] == [
        "nominate",
        "corporation_accept",
        "plan_viewing",
        "sign_tenancy",
        "house",
    ]
    assert case_of(client, region, case["id"])["status"] == "housed"
    assert vacancy_of(client, region, vacancy["id"])["status"] == "let"


def test_an_illegal_transition_is_a_409_naming_the_current_status(client, region, published):
    _, proposal, *_ = published
    response = decide(client, region.corporation, proposal["id"], "house")
    body = assert_problem(response, 409)
    assert body["code"] == "illegal_transition"
    assert body["current_status"] == "proposed"


def test_a_care_provider_cannot_nominate(client, region, published):
    _, proposal, *_ = published
    assert_problem(decide(client, region.care_provider, proposal["id"], "nominate"), 403)


def test_another_corporation_cannot_see_the_proposal(client, region, published):
    _, proposal, *_ = published
    assert_problem(
        decide(client, region.other_corporation, proposal["id"], "corporation_accept"), 404
    )
    response = client.get(
        f"/v1/proposals/{proposal['id']}", headers=region.other_care_provider.headers
    )
    assert_problem(response, 404)


def test_a_decline_needs_a_reason(client, region, published):
    _, proposal, *_ = published
    body = assert_problem(
        decide(client, region.corporation, proposal["id"], "corporation_decline"), 400
    )
    assert body["invalidParams"][0]["name"] == "reason"


def test_corporation_decline_puts_case_and_dwelling_back(client, region, published):
    _, proposal, case, vacancy = published
    response = decide(
        client, region.corporation, proposal["id"], "corporation_decline", "income_insufficient"
    )
    assert response.json()["status"] == "declined_by_corporation"
    assert case_of(client, region, case["id"])["status"] == "ready"
    assert vacancy_of(client, region, vacancy["id"])["status"] == "available"


def test_dwelling_unavailable_withdraws_the_dwelling(client, region, published):
    _, proposal, _, vacancy = published
    decide(
        client, region.corporation, proposal["id"], "corporation_decline", "dwelling_unavailable"
    )
    assert vacancy_of(client, region, vacancy["id"])["status"] == "withdrawn"


def test_client_decline_parks_the_case_for_the_policy_period(client, region, published):
    _, proposal, case, _ = published
    response = decide(client, region.care_provider, proposal["id"], "client_decline", "no_show")
    assert response.status_code == 200
    [decision] = response.json()["decisions"]
    assert decision["parked_until"] is not None
    stored = case_of(client, region, case["id"])
    assert stored["status"] == "on_hold"
    assert stored["parked_until"] == decision["parked_until"]
    agenda = client.get(
        f"/v1/tables/{region.table_id}/agenda",
        params={"date": DATE},
        headers=region.chair.headers,
    ).json()
    assert agenda["summary"]["ready_cases"] == 0


def test_a_decline_reason_without_parking_leaves_the_case_ready(client, region, published):
    _, proposal, case, _ = published
    decide(client, region.care_provider, proposal["id"], "client_decline", "location")
    assert case_of(client, region, case["id"])["status"] == "ready"


def test_a_stale_etag_loses_the_race(client, region, published):
    _, proposal, *_ = published
    etag = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).headers[
        "ETag"
    ]
    first = decide(client, region.chair, proposal["id"], "nominate", **{"If-Match": etag})
    assert first.status_code == 200
    second = decide(
        client,
        region.corporation,
        proposal["id"],
        "corporation_decline",
        "other",
        **{"If-Match": etag},
    )
    assert_problem(second, 412)


def test_each_party_reads_a_proposal_with_the_etag_of_its_own_view(client, region, published):
    """The corporation's read leaves out the score (it reveals case details): another
    representation than the chair's, so another ETag, and the chair's is no 304 to it. A
    decision takes the caller's read ETag, answers the one its GET then gives, and a stale
    one's 412 names that."""
    _, proposal, *_ = published
    url = f"/v1/proposals/{proposal['id']}"
    chair = client.get(url, headers=region.chair.headers)
    corporation = client.get(url, headers=region.corporation.headers)
    assert chair.json()["score"] is not None and corporation.json()["score"] is None
    assert corporation.headers["ETag"] != chair.headers["ETag"]
    held = {**region.corporation.headers, "If-None-Match": chair.headers["ETag"]}
    assert client.get(url, headers=held).status_code == 200
    first = decide(
        client, region.chair, proposal["id"], "nominate", **{"If-Match": chair.headers["ETag"]}
    )
    assert first.status_code == 200, first.text
    assert client.get(url, headers=region.chair.headers).headers["ETag"] == first.headers["ETag"]
    now = client.get(url, headers=region.corporation.headers).headers["ETag"]
    stale = decide(
        client,
        region.corporation,
        proposal["id"],
        "corporation_accept",
        **{"If-Match": corporation.headers["ETag"]},
    )
    assert f"current ETag {now}" in assert_problem(stale, 412)["detail"]
    accepted = decide(
        client, region.corporation, proposal["id"], "corporation_accept", **{"If-Match": now}
    )
    assert accepted.status_code == 200, accepted.text
    assert (
        client.get(url, headers=region.corporation.headers).headers["ETag"]
        == accepted.headers["ETag"]
    )


def test_each_organisation_reads_a_meeting_with_the_etag_of_its_own_view(client, region):
    """A care provider with none of the proposals reads their count as null (the monitor's
    suppression), the chair reads it: two representations, so two ETags, and the chair's copy
    is no 304 to the care provider. Publishing takes the ETag its GET gave and answers the one
    its GET then gives; a stale one's 412 names that."""
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=DATE)
    meeting = schedule(client, region)
    url = f"/v1/meetings/{meeting['id']}"
    read = client.get(url, headers=region.chair.headers).headers["ETag"]
    refused = client.post(f"{url}/publish", headers={**region.chair.headers, "If-Match": '"9"'})
    assert f"current ETag {read}" in assert_problem(refused, 412)["detail"]
    published = client.post(f"{url}/publish", headers={**region.chair.headers, "If-Match": read})
    assert published.status_code == 200, published.text
    chair = client.get(url, headers=region.chair.headers)
    assert chair.headers["ETag"] == published.headers["ETag"]
    outsider = client.get(url, headers=region.other_care_provider.headers)
    assert chair.json()["proposals"] == 1 and outsider.json()["proposals"] is None
    assert outsider.headers["ETag"] != chair.headers["ETag"]
    held = {**region.other_care_provider.headers, "If-None-Match": chair.headers["ETag"]}
    assert client.get(url, headers=held).status_code == 200


def test_withdrawing_the_case_ends_its_proposal_and_frees_the_dwelling(client, region, published):
    _, proposal, case, vacancy = published
    client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "own_solution"},
        headers=region.care_provider.headers,
    )
    current = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert current["status"] == "withdrawn" and current["status_reason"] == "case_changed"
    assert vacancy_of(client, region, vacancy["id"])["status"] == "available"


def test_withdrawing_the_dwelling_ends_its_proposal_and_frees_the_case(client, region, published):
    _, proposal, case, vacancy = published
    client.delete(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    current = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert current["status"] == "withdrawn"
    assert case_of(client, region, case["id"])["status"] == "ready"


def test_re_pushing_a_proposed_dwelling_keeps_it_in_the_proposal(client, region, published):
    _, _, _, vacancy = published
    pushed = push_again(client, region.corporation, vacancy, rooms=3)
    assert pushed["status"] == "proposed"


def test_open_proposals_count_towards_the_spread_cap_next_week(client, region):
    for _ in range(2):
        create_case(client, region.care_provider, region.table_id)
        create_vacancy(client, region.corporation, complex_ref="TOREN")
    publish(client, region, schedule(client, region))
    create_case(client, region.care_provider, region.table_id)
    third = create_vacancy(client, region.corporation, complex_ref="TOREN")
    agenda = client.get(
        f"/v1/tables/{region.table_id}/agenda",
        params={"date": iso(7)},  # the next meeting, three weeks later
        headers=region.chair.headers,
    ).json()
    assert agenda["summary"]["people_housed"] == 0
    [without] = agenda["vacancies_without_candidates"]
    assert without["vacancy_id"] == third["id"]
    assert "complex_cap_reached" in without["excluded_counts"]


def test_corporation_reads_only_the_minimal_profile_and_it_is_logged(client, region, published):
    _, proposal, case, _ = published
    response = client.get(
        f"/v1/proposals/{proposal['id']}/case-profile", headers=region.corporation.headers
    )
    assert response.status_code == 200
    profile = response.json()
    assert set(profile) == {
        "proposal_id",
        "case_id",
        "household_size",
        "support_intensity",
        "needs_complex_manager",
        "income_category",
        "contract_form",
    }
    assert profile["household_size"] == 1
    assert profile["income_category"] == "within_passend_toewijzen_limit"
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case["id"]},
        headers=region.chair.headers,
    ).json()["items"]
    assert any(
        e["action"] == "profile" and e["organisation_id"] == region.corporation.id for e in log
    )


def test_another_corporation_cannot_read_the_profile(client, region, published):
    _, proposal, *_ = published
    response = client.get(
        f"/v1/proposals/{proposal['id']}/case-profile", headers=region.other_corporation.headers
    )
    assert_problem(response, 404)


def test_corporation_sees_no_score_components_on_its_proposal(client, region, published):
    _, proposal, *_ = published
    mine = client.get(f"/v1/proposals/{proposal['id']}", headers=region.corporation.headers).json()
    assert mine["components"] is None
    chair = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert chair["components"]


def test_case_timeline_lists_status_changes_proposal_and_decisions_in_order(
    client, region, published
):
    _, proposal, case, _ = published
    decide(client, region.chair, proposal["id"], "nominate")
    decide(client, region.corporation, proposal["id"], "corporation_decline", "rent_arrears")
    response = client.get(f"/v1/cases/{case['id']}/timeline", headers=region.care_provider.headers)
    kinds = [(e["kind"], e.get("decision") or e.get("to_status")) for e in response.json()["items"]]
    assert kinds[0] == ("status_changed", "ready")
    assert ("proposed", "proposed") in kinds
    decisions = [k for k in kinds if k[0] == "decision"]
    assert decisions == [("decision", "nominate"), ("decision", "corporation_decline")]
    times = [e["at"] for e in response.json()["items"]]
    assert times == sorted(times)


def test_vacancy_timeline_shows_its_proposals_to_the_corporation(client, region, published):
    _, proposal, _, vacancy = published
    decide(client, region.chair, proposal["id"], "nominate")
    items = client.get(
        f"/v1/vacancies/{vacancy['id']}/timeline", headers=region.corporation.headers
    ).json()["items"]
    assert [e["kind"] for e in items] == ["proposed", "decision"]


def test_move_in_date_is_recorded_and_cannot_precede_the_meeting(client, region, published):
    _, proposal, case, _ = published
    walk_to_tenancy(client, region, proposal["id"])
    early = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "house", "effective_date": iso(-29)},
        headers=region.corporation.headers,
    )
    assert assert_problem(early, 400)["invalidParams"][0]["name"] == "effective_date"
    housed = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "house", "effective_date": iso(-10)},
        headers=region.corporation.headers,
    ).json()
    assert housed["housed_on"] == iso(-10) and housed["lease_form"] == "own_lease"
    assert case_of(client, region, case["id"])["exit_date"] == iso(-10)


def test_a_move_in_cannot_precede_the_day_the_dwelling_is_available(client, region, published):
    """The meeting may propose a dwelling that comes free after it (within the horizon); the
    client moves in on that day at the earliest, also when the corporation pushes it later."""
    _, proposal, _, vacancy = published
    walk_to_tenancy(client, region, proposal["id"])
    later = push_again(client, region.corporation, vacancy, available_from=iso(-3))
    assert later["status"] == "proposed"  # a proposed dwelling keeps its proposal
    path = f"/v1/proposals/{proposal['id']}/decisions"
    early = client.post(
        path,
        json={"decision": "house", "effective_date": iso(-4)},
        headers=region.corporation.headers,
    )
    [invalid] = assert_problem(early, 400)["invalidParams"]
    assert (invalid["name"], invalid["code"]) == ("effective_date", "date_before_available_from")
    assert iso(-3) in invalid["reason"]
    unchanged = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers)
    assert unchanged.json()["status"] == "tenancy_signed"
    housed = client.post(
        path,
        json={"decision": "house", "effective_date": iso(-3)},
        headers=region.corporation.headers,
    )
    assert housed.status_code == 200, housed.text
    assert housed.json()["housed_on"] == iso(-3)


def test_lease_form_is_required_when_both_are_possible(client, region):
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(
        client,
        region.corporation,
        contract_forms=["own_lease", "intermediate_lease"],
        available_from=iso(0),
    )
    publish(client, region, schedule(client, region))
    [proposal] = proposals(client, region)
    walk_to_tenancy(client, region, proposal["id"])
    missing = decide(client, region.corporation, proposal["id"], "house")
    assert assert_problem(missing, 400)["invalidParams"][0]["name"] == "lease_form"
    response = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "house", "lease_form": "intermediate_lease"},
        headers=region.corporation.headers,
    )
    assert response.json()["lease_form"] == "intermediate_lease"


def test_withdrawal_records_its_exit_date(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    response = client.patch(
        f"/v1/cases/{case['id']}",
        json={
            "status": "withdrawn",
            "status_reason": "returned_to_care",
            "exit_date": iso(-60),
        },
        headers=region.care_provider.headers,
    )
    assert response.json()["exit_date"] == iso(-60)


def test_a_proposed_case_cannot_move_to_another_table(client, region):
    second_table = make_table(client, region.chair, [region.care_provider], ["GM0363"])
    case = create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    publish(client, region, schedule(client, region))
    moved = client.patch(
        f"/v1/cases/{case['id']}",
        json={"table_id": second_table},
        headers=region.care_provider.headers,
    )
    body = assert_problem(moved, 409, "case_in_proposal")
    assert body["current_status"] == "proposed"
    assert case_of(client, region, case["id"])["table_id"] == region.table_id


def test_a_proposed_dwelling_cannot_move_to_another_tables_municipality(client, region):
    """Pushed again with a municipality of another table of its corporation, a proposed
    dwelling would leave its proposal behind and show the proposal's case, meeting and
    proposal ids to the other table's members in its timeline."""
    elsewhere = make_org(client, "municipality")
    make_table(client, elsewhere, [region.corporation], ["GM0363"])
    create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation)
    publish(client, region, schedule(client, region))
    body = {k: v for k, v in vacancy.items() if k in vacancy_body()}
    body["address"] |= {"municipality_code": "GM0363", "neighbourhood_code": "BU03630101"}
    for path, payload in (("/v1/vacancies", body), ("/v1/vacancies/batch", {"items": [body]})):
        moved = client.post(path, json=payload, headers=region.corporation.headers)
        problem = assert_problem(moved, 409, "vacancy_in_proposal")
        assert (problem["current_status"], problem["external_ref"]) == (
            "proposed",
            vacancy["external_ref"],
        )
    shown = client.get(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    assert shown.json()["table_id"] == region.table_id
    timeline = client.get(f"/v1/vacancies/{vacancy['id']}/timeline", headers=elsewhere.headers)
    assert_problem(timeline, 404, "not_found")


def test_a_proposed_dwelling_is_still_updated_within_its_table(client, region):
    """Only the move is refused: a proposed dwelling pushed again at the same table's
    municipality (GM0307 is the region's too) is updated as before."""
    create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation)
    publish(client, region, schedule(client, region))
    pushed = push_again(client, region.corporation, vacancy, municipality_code="GM0307")
    assert (pushed["status"], pushed["table_id"]) == ("proposed", region.table_id)


def test_a_dwelling_moved_to_another_table_shows_it_none_of_the_earlier_tables_proposals(
    client, region, published
):
    """Once its proposal is closed a dwelling may move to another table of its corporation;
    that table's members then read its timeline, but not the earlier table's proposals, which
    name that table's cases. The corporation keeps its dwelling's whole history."""
    _, proposal, case, vacancy = published
    declined = decide(client, region.corporation, proposal["id"], "corporation_decline", "other")
    assert declined.status_code == 200, declined.text
    elsewhere = make_org(client, "municipality")
    make_table(client, elsewhere, [region.corporation], ["GM0363"])
    push_again(client, region.corporation, vacancy, municipality_code="GM0363")
    path = f"/v1/vacancies/{vacancy['id']}/timeline"
    theirs = client.get(path, headers=elsewhere.headers)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["items"] == []
    own = client.get(path, headers=region.corporation.headers).json()["items"]
    assert {e["case_id"] for e in own} == {case["id"]}


def test_a_table_reads_no_profile_of_a_case_that_moved_to_another_table(client, region, published):
    """The profile is read live: once the case (its proposal closed by a hold) has moved to
    another table, the old table reads its file no more, so neither its profile through the
    old proposal; the care provider still does, and a chair of both tables too."""
    _, proposal, case, _ = published
    held = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "on_hold", "status_reason": "client_request"},
        headers=region.care_provider.headers,
    )
    assert held.status_code == 200, held.text
    path = f"/v1/proposals/{proposal['id']}/case-profile"
    for org in (region.chair, region.municipality, region.care_provider):
        assert client.get(path, headers=org.headers).status_code == 200
    elsewhere = make_org(client, "municipality")
    second_table = make_table(client, elsewhere, [region.care_provider], ["GM0363"])
    moved = client.patch(
        f"/v1/cases/{case['id']}",
        json={"table_id": second_table, "household": {"adults": 2}},
        headers=region.care_provider.headers,
    )
    assert moved.status_code == 200, moved.text
    for org in (region.chair, region.municipality):
        assert_problem(client.get(f"/v1/cases/{case['id']}", headers=org.headers), 404)
        assert_problem(client.get(path, headers=org.headers), 403, "case_moved")
    profile = client.get(path, headers=region.care_provider.headers)
    assert profile.json()["household_size"] == 2
    client.patch(
        f"/v1/tables/{second_table}",
        json={"chair_organisation_id": region.chair.id},
        headers=OPERATOR,
    ).raise_for_status()
    assert client.get(path, headers=region.chair.headers).json()["household_size"] == 2


def test_a_case_on_hold_moves_to_another_table(client, region, published):
    _, proposal, case, _ = published
    second_table = make_table(client, region.chair, [region.care_provider], ["GM0363"])
    hold_and_move(client, region, case, second_table)
    current = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert current["status"] == "withdrawn"


def hold_and_move(client, region, case, table_id):
    """The care provider puts the case on hold (which ends its proposal) and moves it."""
    held = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "on_hold", "status_reason": "client_request"},
        headers=region.care_provider.headers,
    )
    assert held.status_code == 200, held.text
    moved = client.patch(
        f"/v1/cases/{case['id']}", json={"table_id": table_id}, headers=region.care_provider.headers
    )
    assert moved.status_code == 200, moved.text


def test_a_case_moved_to_another_table_shows_it_none_of_the_earlier_tables_proposals(
    client, region, published
):
    """A case whose proposal is closed may move to another table; that table's chair then
    reads its timeline, but not the earlier table's proposals, meetings and decisions. The
    care provider keeps its case's whole history."""
    _, proposal, case, _ = published
    elsewhere = make_org(client, "municipality")
    second_table = make_table(client, elsewhere, [region.care_provider], ["GM0363"])
    hold_and_move(client, region, case, second_table)
    path = f"/v1/cases/{case['id']}/timeline"
    theirs = client.get(path, headers=elsewhere.headers)
    assert theirs.status_code == 200, theirs.text
    items = theirs.json()["items"]
    assert [(e["proposal_id"], e["meeting_id"], e["vacancy_id"]) for e in items] == [
        (None, None, None)
    ] * len(items)
    assert {e["kind"] for e in items} == {"status_changed"}  # the case's own history stays
    own = client.get(path, headers=region.care_provider.headers).json()["items"]
    assert proposal["id"] in {e.get("proposal_id") for e in own}


def test_a_frozen_agenda_shows_the_earlier_table_no_change_of_a_case_that_moved_away(
    client, region, published
):
    """The published agenda's `changes` read the frozen cases and dwellings as they are now:
    one that moved to another table showed the earlier table its status and versions there
    (`withdrawn`, after the move), though it answers 404 for the case (found by the fifth
    breaker). Its care provider, and a chair of both tables, still see the change."""
    meeting, _, case, _ = published
    elsewhere = make_org(client, "municipality")
    second_table = make_table(client, elsewhere, [region.care_provider], ["GM0363"])
    hold_and_move(client, region, case, second_table)
    withdrawn = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "deceased"},
        headers=region.care_provider.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    def changed(org):  # type: ignore[no-untyped-def]
        agenda = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=org.headers)
        assert agenda.status_code == 200, agenda.text
        return {(c["id"], c["status"]) for c in agenda.json()["changes"]}

    for org in (region.chair, region.municipality):
        assert_problem(client.get(f"/v1/cases/{case['id']}", headers=org.headers), 404)
        assert case["id"] not in {case_id for case_id, _ in changed(org)}
    assert (case["id"], "withdrawn") in changed(region.care_provider)
    client.patch(
        f"/v1/tables/{second_table}",
        json={"chair_organisation_id": region.chair.id},
        headers=OPERATOR,
    ).raise_for_status()
    assert (case["id"], "withdrawn") in changed(region.chair)


def test_a_second_open_proposal_for_a_case_is_a_409_not_a_500(client, region, session):
    """Even data that slipped past every check cannot put a case in two open proposals: the
    database refuses, and the API says so with a 409."""
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation)
    earlier = schedule(client, region, iso(-14))
    session.add(
        Proposal(
            meeting_id=uuid.UUID(earlier["id"]),
            table_id=uuid.UUID(region.table_id),
            case_id=uuid.UUID(case["id"]),
            vacancy_id=uuid.UUID(create_vacancy(client, region.other_corporation)["id"]),
            care_provider_id=uuid.UUID(region.care_provider.id),
            corporation_id=uuid.UUID(region.other_corporation.id),
            complex_key="elsewhere",
            neighbourhood_code=vacancy["address"]["neighbourhood_code"],
            contingent=True,
            score=1.0,
        )
    )
    session.flush()  # the case itself still says `ready`: inconsistent on purpose
    response = client.post(
        f"/v1/meetings/{schedule(client, region, iso(-7))['id']}/publish",
        headers=region.chair.headers,
    )
    assert_problem(response, 409, "open_proposal_exists")


def test_a_let_dwelling_cannot_be_withdrawn(client, region, published):
    _, proposal, _, vacancy = published
    walk_to_tenancy(client, region, proposal["id"])
    assert decide(client, region.corporation, proposal["id"], "house").status_code == 200
    response = client.delete(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    assert_problem(response, 409, "dwelling_let")


def test_a_let_dwelling_pushed_with_a_later_available_from_is_offered_again(
    client, region, published
):
    _, proposal, _, vacancy = published
    walk_to_tenancy(client, region, proposal["id"])
    assert decide(client, region.corporation, proposal["id"], "house").status_code == 200
    body = {k: v for k, v in vacancy.items() if k in vacancy_body()}
    headers = region.corporation.headers

    synced = client.post("/v1/vacancies", json=body | {"rooms": 3}, headers=headers)
    assert synced.status_code == 200, synced.text
    assert synced.json()["status"] == "let"  # the same date: a sync of what is stored
    earlier = client.post(
        "/v1/vacancies/batch",
        json={"items": [body | {"available_from": iso(-20)}]},
        headers=headers,
    )
    assert earlier.status_code == 200, earlier.text
    assert vacancy_of(client, region, vacancy["id"])["status"] == "let"

    next_vacancy = body | {"available_from": iso(90), "respond_before": iso(60)}
    again = client.post("/v1/vacancies/batch", json={"items": [next_vacancy]}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["updated"] == 1
    offered = vacancy_of(client, region, vacancy["id"])
    assert (offered["id"], offered["status"]) == (vacancy["id"], "available")
    # The housing stays in its history: the proposal that let it is still housed.
    housed = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    assert housed["status"] == "housed"


def test_a_viewing_day_is_not_before_the_amsterdam_day_the_proposal_was_made(client, region):
    """A proposal made just after midnight in Amsterdam is still the evening before in UTC: the
    day before its Amsterdam day is before the proposal, not the day it was made."""
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    with time_machine.travel(datetime.combine(TODAY, time(0, 30), tzinfo=AMSTERDAM), tick=True):
        publish(client, region, schedule(client, region))
    [proposal] = proposals(client, region)
    for org, decision in ((region.chair, "nominate"), (region.corporation, "corporation_accept")):
        assert decide(client, org, proposal["id"], decision).status_code == 200
    url = f"/v1/proposals/{proposal['id']}/decisions"
    body = {"decision": "plan_viewing", "viewing_date": iso(-1)}
    refused = client.post(url, json=body, headers=region.corporation.headers)
    problem = assert_problem(refused, 400)["invalidParams"][0]
    assert problem["code"] == "date_before_proposal"
    assert iso(0) in problem["reason"]
    body["viewing_date"] = iso(0)
    assert client.post(url, json=body, headers=region.corporation.headers).status_code == 200


def test_a_viewing_day_before_the_proposal_or_over_a_year_ahead_is_refused(
    client, region, published
):
    _, proposal, _, _ = published
    for org, decision in ((region.chair, "nominate"), (region.corporation, "corporation_accept")):
        assert decide(client, org, proposal["id"], decision).status_code == 200
    url = f"/v1/proposals/{proposal['id']}/decisions"
    for day, code in ((iso(-30), "date_before_proposal"), (iso(400), "date_too_far_ahead")):
        body = {"decision": "plan_viewing", "viewing_date": day}
        refused = client.post(url, json=body, headers=region.corporation.headers)
        assert assert_problem(refused, 400)["invalidParams"][0]["code"] == code
    assert decide(client, region.corporation, proposal["id"], "plan_viewing").status_code == 200


def test_a_parked_case_read_with_its_etag_after_its_parking_ended_shows_it_ready(
    client, region, published
):
    """A case parked after a decline reads `on_hold` until its date, then `ready`, without a
    write: its ETag was its version, so a reader that revalidated its copy (If-None-Match)
    got 304 and kept `on_hold`, the chair and the care provider alike."""
    _, proposal, case, _ = published
    response = decide(client, region.care_provider, proposal["id"], "client_decline", "no_show")
    assert response.status_code == 200, response.text
    path = f"/v1/cases/{case['id']}"
    readers = [region.chair, region.care_provider]
    reads = [client.get(path, headers=org.headers) for org in readers]
    assert [r.json()["status"] for r in reads] == ["on_hold", "on_hold"]
    parked_until = date.fromisoformat(response.json()["decisions"][0]["parked_until"])
    with time_machine.travel(START + (parked_until - TODAY), tick=True):
        for org, before in zip(readers, reads, strict=True):
            cached = {"If-None-Match": before.headers["ETag"]}
            again = client.get(path, headers=org.headers | cached)
            assert again.status_code == 200, again.status_code
            assert again.json()["status"] == "ready"


def test_a_case_parked_after_a_decline_is_listed_on_hold_until_its_date_not_ready(
    client, region, published
):
    _, proposal, case, _ = published
    response = decide(client, region.care_provider, proposal["id"], "client_decline", "no_show")
    assert response.status_code == 200, response.text

    def listed(status: str) -> list[str]:
        page = client.get(
            "/v1/cases",
            params={"tableId": region.table_id, "status": status},
            headers=region.chair.headers,
        )
        assert page.status_code == 200, page.text
        return [c["id"] for c in page.json()["items"]]

    assert case_of(client, region, case["id"])["status"] == "on_hold"
    assert case["id"] in listed("on_hold")
    assert case["id"] not in listed("ready")
    parked_until = date.fromisoformat(response.json()["decisions"][0]["parked_until"])
    with time_machine.travel(START + (parked_until - TODAY), tick=True):
        assert case_of(client, region, case["id"])["status"] == "ready"
        assert case["id"] in listed("ready")
        assert case["id"] not in listed("on_hold")
