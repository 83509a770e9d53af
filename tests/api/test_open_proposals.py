"""Open proposals come back: each agenda lists the open proposals of the table's earlier
meetings with their status, days in it, whose turn it is and whether they are stalled; a stall
is announced once (`proposal.stalled`), each party sees only its own."""

from datetime import timedelta

import time_machine
from sqlmodel import col, select

from app.webhooks.models import WebhookEvent
from tests.clock import START, iso
from tests.conftest import create_case, create_vacancy


def meeting(client, region, offset):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(offset)},
        headers=region.chair.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def two_open_proposals(client, region):  # type: ignore[no-untyped-def]
    """Last week's meeting, published with a proposal for each care provider and corporation;
    and next week's meeting, not yet published."""
    for provider in (region.care_provider, region.other_care_provider):
        create_case(client, provider, region.table_id)
    for corporation in (region.corporation, region.other_corporation):
        create_vacancy(client, corporation)
    last_week = meeting(client, region, -7)
    published = client.post(f"/v1/meetings/{last_week}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    proposals = client.get(
        f"/v1/tables/{region.table_id}/proposals", headers=region.chair.headers
    ).json()["items"]
    assert len(proposals) == 2
    return last_week, meeting(client, region, 7), proposals


def agenda(client, org, meeting_id):  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def stalled_events(session):  # type: ignore[no-untyped-def]
    return session.exec(
        select(WebhookEvent).where(col(WebhookEvent.type) == "proposal.stalled")
    ).all()


def test_open_proposals_of_an_earlier_meeting_come_back_on_the_next_agenda(client, region):
    last_week, next_week, proposals = two_open_proposals(client, region)
    decision = client.post(
        f"/v1/proposals/{proposals[0]['id']}/decisions",
        json={"decision": "nominate"},
        headers=region.chair.headers,
    )
    assert decision.status_code == 200
    entries = agenda(client, region.chair, next_week)["open_proposals"]
    by_id = {e["proposal_id"]: e for e in entries}
    assert set(by_id) == {p["id"] for p in proposals}
    nominated = by_id[proposals[0]["id"]]
    assert nominated["status"] == "nominated" and nominated["turn"] == "corporation"
    assert nominated["meeting_id"] == last_week and nominated["days_in_status"] == 0
    assert nominated["limit_days"] == 14 and nominated["stalled"] is False
    assert by_id[proposals[1]["id"]]["turn"] == "chair"
    # Not on the agenda of the meeting that made them.
    assert agenda(client, region.chair, last_week)["open_proposals"] == []


def test_a_proposal_past_its_status_limit_is_flagged_stalled(client, region):
    _, next_week, _ = two_open_proposals(client, region)
    with time_machine.travel(START + timedelta(days=8), tick=True):
        entries = agenda(client, region.chair, next_week)["open_proposals"]
    assert {e["days_in_status"] for e in entries} == {8}
    assert all(e["stalled"] and e["limit_days"] == 7 for e in entries)


def test_stalled_proposal_is_announced_once(client, region, session):
    _, next_week, proposals = two_open_proposals(client, region)
    with time_machine.travel(START + timedelta(days=8), tick=True):
        agenda(client, region.chair, next_week)
        agenda(client, region.corporation, next_week)
        agenda(client, region.chair, next_week)
    events = stalled_events(session)
    assert sorted(e.data["proposal_id"] for e in events) == sorted(p["id"] for p in proposals)
    assert {e.data["status"] for e in events} == {"proposed"}


def test_a_stall_in_the_next_status_is_a_new_crossing(client, region, session):
    _, next_week, proposals = two_open_proposals(client, region)
    first = proposals[0]["id"]
    with time_machine.travel(START + timedelta(days=8), tick=True):
        agenda(client, region.chair, next_week)
        client.post(
            f"/v1/proposals/{first}/decisions",
            json={"decision": "nominate"},
            headers=region.chair.headers,
        )
    with time_machine.travel(START + timedelta(days=8 + 15), tick=True):
        agenda(client, region.chair, next_week)
    statuses = sorted(
        e.data["status"] for e in stalled_events(session) if e.data["proposal_id"] == first
    )
    assert statuses == ["nominated", "proposed"]


def test_the_chair_sets_the_stall_limits_in_the_policy(client, region):
    _, next_week, _ = two_open_proposals(client, region)
    changed = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"stalled_after_days": {"proposed": 30}}},
        headers=region.chair.headers,
    )
    assert changed.status_code == 200, changed.text
    limits = changed.json()["policy"]["stalled_after_days"]
    assert limits["proposed"] == 30 and limits["nominated"] == 14  # merged per status
    with time_machine.travel(START + timedelta(days=8), tick=True):
        entries = agenda(client, region.chair, next_week)["open_proposals"]
    assert not any(e["stalled"] for e in entries)


def test_a_stall_limit_for_a_closed_status_is_refused(client, region):
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"stalled_after_days": {"housed": 3}}},
        headers=region.chair.headers,
    )
    assert response.status_code == 400


def test_each_party_sees_only_its_own_open_proposals(client, region):
    _, next_week, proposals = two_open_proposals(client, region)
    for provider in (region.care_provider, region.other_care_provider):
        entries = agenda(client, provider, next_week)["open_proposals"]
        expected = [p["id"] for p in proposals if p["care_provider_id"] == provider.id]
        assert [e["proposal_id"] for e in entries] == expected
    for corporation in (region.corporation, region.other_corporation):
        entries = agenda(client, corporation, next_week)["open_proposals"]
        expected = [p["id"] for p in proposals if p["corporation_id"] == corporation.id]
        assert [e["proposal_id"] for e in entries] == expected
        assert all("score" not in e and "care_provider_id" not in e for e in entries)


def test_a_frozen_agenda_keeps_the_open_proposals_it_was_published_with(client, region):
    _, next_week, proposals = two_open_proposals(client, region)
    published = client.post(f"/v1/meetings/{next_week}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    client.post(
        f"/v1/proposals/{proposals[0]['id']}/decisions",
        json={"decision": "withdraw", "reason": "other"},
        headers=region.chair.headers,
    )
    frozen = agenda(client, region.chair, next_week)
    assert frozen["frozen"] and len(frozen["open_proposals"]) == 2


def test_a_proposal_published_before_its_meeting_stalls_counting_from_the_meeting_day(
    client, region, session
):
    """Nobody but the chair's withdrawal decides before the meeting's day, so a proposal
    published ten days ahead is not stalled before its meeting, and its first stall is still
    announced after it."""
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    ahead = meeting(client, region, 10)
    published = client.post(f"/v1/meetings/{ahead}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    later = meeting(client, region, 30)
    with time_machine.travel(START + timedelta(days=9), tick=True):
        [entry] = agenda(client, region.chair, later)["open_proposals"]
    assert (entry["since"], entry["days_in_status"], entry["stalled"]) == (iso(10), 0, False)
    assert stalled_events(session) == []
    with time_machine.travel(START + timedelta(days=18), tick=True):
        [entry] = agenda(client, region.chair, later)["open_proposals"]
    assert (entry["days_in_status"], entry["stalled"]) == (8, True)
    assert [e.data["days_in_status"] for e in stalled_events(session)] == [8]
