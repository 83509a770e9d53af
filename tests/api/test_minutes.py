"""The minutes (besluitenlijst): every decision on the meeting's proposals (and the follow-ups on
earlier ones in its period), every action handed out, the open proposals; not before the
meeting has taken place; frozen once the chair marks them final; each party sees
only its own."""

from datetime import timedelta

import time_machine

from tests.api.test_open_proposals import meeting, two_open_proposals
from tests.clock import START, iso
from tests.conftest import create_case, create_vacancy


def decide(client, org, proposal_id, decision, **body):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/proposals/{proposal_id}/decisions",
        json={"decision": decision, **body},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text


def minutes(client, org, meeting_id, status=200):  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/meetings/{meeting_id}/minutes", headers=org.headers)
    assert response.status_code == status, response.text
    return response


def hand_out(client, region, meeting_id, owner, case_id=None):  # type: ignore[no-untyped-def]
    body = {
        "kind": "request_beschikking",
        "owner_organisation_id": owner.id,
        "due_date": iso(-1),
        "meeting_id": meeting_id,
    } | ({"case_id": case_id} if case_id else {})
    response = client.post(
        f"/v1/tables/{region.table_id}/actions", json=body, headers=region.chair.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_minutes_list_the_decisions_actions_and_open_proposals_of_the_meeting(client, region):
    last_week, _, proposals = two_open_proposals(client, region)
    decide(client, region.chair, proposals[0]["id"], "nominate")
    action = hand_out(client, region, last_week, region.care_provider)
    body = minutes(client, region.chair, last_week).json()
    assert body["view"] == "table" and body["final"] is False
    assert [(d["proposal_id"], d["decision"]) for d in body["decisions"]] == [
        (proposals[0]["id"], "nominate")
    ]
    assert [a["id"] for a in body["actions"]] == [action["id"]]
    assert body["actions"][0]["overdue"] is True
    assert {p["proposal_id"] for p in body["open_proposals"]} == {p["id"] for p in proposals}


def test_a_decision_belongs_to_the_minutes_of_the_meeting_that_made_the_proposal(client, region):
    last_week, _, proposals = two_open_proposals(client, region)
    yesterday = meeting(client, region, -1)
    decide(client, region.chair, proposals[0]["id"], "nominate")
    own = minutes(client, region.chair, last_week).json()["decisions"]
    assert [(d["proposal_id"], d["follow_up"]) for d in own] == [(proposals[0]["id"], False)]
    assert own[0]["proposal_meeting_date"] == iso(-7)
    # The later meeting, in whose period it was taken, lists it as a follow-up of last week's.
    later = minutes(client, region.chair, yesterday).json()["decisions"]
    assert [(d["proposal_id"], d["follow_up"]) for d in later] == [(proposals[0]["id"], True)]


def test_a_later_meetings_decisions_are_not_in_an_earlier_meetings_minutes(client, region):
    before, _, _ = two_open_proposals(client, region)  # a week ago, its proposals still open
    for provider in (region.care_provider, region.other_care_provider):
        create_case(client, provider, region.table_id)
    for corporation in (region.corporation, region.other_corporation):
        create_vacancy(client, corporation)
    today = meeting(client, region, 0)
    published = client.post(f"/v1/meetings/{today}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    todays = client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"meetingId": today},
        headers=region.chair.headers,
    ).json()["items"]
    assert todays
    decide(client, region.chair, todays[0]["id"], "nominate")
    assert minutes(client, region.chair, before).json()["decisions"] == []
    own = minutes(client, region.chair, today).json()["decisions"]
    assert [d["proposal_id"] for d in own] == [todays[0]["id"]]


def test_the_minutes_of_a_meeting_not_yet_held_cannot_be_marked_final(client, region):
    _, next_week, _ = two_open_proposals(client, region)
    published = client.post(f"/v1/meetings/{next_week}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    tag = minutes(client, region.chair, next_week).headers["ETag"]
    final = client.post(
        f"/v1/meetings/{next_week}/minutes/final",
        headers=region.chair.headers | {"If-Match": tag},
    )
    assert final.status_code == 409, final.text
    assert final.headers["content-type"].startswith("application/problem+json")
    assert final.json()["code"] == "meeting_not_held"
    assert minutes(client, region.chair, next_week).json()["final"] is False


def future_proposal(client, region):  # type: ignore[no-untyped-def]
    """Next week's meeting, published, with one proposal."""
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    next_week = meeting(client, region, 7)
    published = client.post(f"/v1/meetings/{next_week}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    items = client.get(
        f"/v1/tables/{region.table_id}/proposals", headers=region.chair.headers
    ).json()["items"]
    assert len(items) == 1
    return next_week, items[0]


def test_no_decision_is_taken_before_the_proposals_meeting_has_taken_place(client, region):
    _, proposal = future_proposal(client, region)
    early = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "nominate"},
        headers=region.chair.headers,
    )
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "meeting_not_held"
    unchanged = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers)
    assert unchanged.json()["status"] == "proposed" and unchanged.json()["decisions"] == []
    with time_machine.travel(START + timedelta(days=7), tick=True):
        decide(client, region.chair, proposal["id"], "nominate")
        early_accept = client.post(
            f"/v1/proposals/{proposal['id']}/decisions",
            json={"decision": "corporation_accept"},
            headers=region.corporation.headers,
        )
    assert early_accept.status_code == 200, early_accept.text


def test_the_chair_may_withdraw_a_proposal_before_its_meeting(client, region):
    _, proposal = future_proposal(client, region)
    decide(client, region.chair, proposal["id"], "withdraw", reason="table_decision")


def test_final_minutes_stay_as_they_were_marked(client, region):
    last_week, _, proposals = two_open_proposals(client, region)
    decide(client, region.chair, proposals[0]["id"], "nominate")
    tag = minutes(client, region.chair, last_week).headers["ETag"]
    final = client.post(
        f"/v1/meetings/{last_week}/minutes/final",
        headers=region.chair.headers | {"If-Match": tag},
    )
    assert final.status_code == 200, final.text
    assert final.json()["final"] is True and final.headers["ETag"] != tag
    decide(client, region.chair, proposals[1]["id"], "nominate")
    decide(client, region.chair, proposals[0]["id"], "withdraw", reason="other")
    again = minutes(client, region.chair, last_week)
    assert again.json() == final.json() and again.headers["ETag"] == final.headers["ETag"]
    twice = client.post(
        f"/v1/meetings/{last_week}/minutes/final",
        headers=region.chair.headers | {"If-Match": again.headers["ETag"]},
    )
    assert twice.status_code == 409 and twice.json()["code"] == "minutes_final"


def test_a_decision_recorded_after_the_minutes_were_marked_final_comes_in_the_next_minutes(
    client, region
):
    """A decision recorded in a meeting's period after its minutes were marked final was in no
    minutes: not in those (frozen before it), nor in the next meeting's, whose follow-ups begin
    on its own day (found by the fifth breaker). The next meeting's minutes carry it as a
    follow-up, and only it: what the final minutes hold is not repeated."""
    last_week, next_week, proposals = two_open_proposals(client, region)
    decide(client, region.chair, proposals[0]["id"], "nominate")
    final = client.post(f"/v1/meetings/{last_week}/minutes/final", headers=region.chair.headers)
    assert final.status_code == 200, final.text
    decide(client, region.chair, proposals[1]["id"], "nominate")

    later = minutes(client, region.chair, next_week).json()["decisions"]

    assert [(d["proposal_id"], d["decision"], d["follow_up"]) for d in later] == [
        (proposals[1]["id"], "nominate", True)
    ]


def test_a_decision_in_the_week_of_a_skipped_meeting_comes_in_the_next_held_meetings_minutes(
    client, region
):
    """Weekly meetings are planned ahead; one is skipped (never published: a holiday week, or
    moved to another day). A decision recorded in its week on a proposal whose minutes were
    final fell in that skipped meeting's period only, whose minutes cannot be marked final
    (`not_published`): it was in no final minutes. A meeting counts for the periods once
    published, so the next held meeting's minutes carry it as a follow-up."""
    for provider in (region.care_provider, region.other_care_provider):
        create_case(client, provider, region.table_id)
    for corporation in (region.corporation, region.other_corporation):
        create_vacancy(client, corporation)
    held, skipped, next_held = (meeting(client, region, offset) for offset in (-21, -14, -7))
    with time_machine.travel(START - timedelta(days=21), tick=True):
        published = client.post(f"/v1/meetings/{held}/publish", headers=region.chair.headers)
        assert published.status_code == 200, published.text
        proposals = client.get(
            f"/v1/tables/{region.table_id}/proposals", headers=region.chair.headers
        ).json()["items"]
        final = client.post(f"/v1/meetings/{held}/minutes/final", headers=region.chair.headers)
        assert final.status_code == 200, final.text
    with time_machine.travel(START - timedelta(days=10), tick=True):  # the skipped week
        decide(client, region.chair, proposals[0]["id"], "nominate")
    with time_machine.travel(START - timedelta(days=7), tick=True):
        published = client.post(f"/v1/meetings/{next_held}/publish", headers=region.chair.headers)
        assert published.status_code == 200, published.text
        final = client.post(f"/v1/meetings/{next_held}/minutes/final", headers=region.chair.headers)
        assert final.status_code == 200, final.text

    assert [(d["proposal_id"], d["follow_up"]) for d in final.json()["decisions"]] == [
        (proposals[0]["id"], True)
    ]
    unpublishable = client.post(
        f"/v1/meetings/{skipped}/minutes/final", headers=region.chair.headers
    )
    assert unpublishable.json()["code"] == "not_published"


def test_a_meeting_planned_into_a_final_minutes_period_does_not_list_its_decisions_again(
    client, region
):
    """A meeting planned afterwards on a day inside an earlier meeting's period, whose final
    minutes hold the decisions of that period, listed them again as its follow-ups (breaker
    32): each decision is in one set of minutes."""
    last_week, _, proposals = two_open_proposals(client, region)
    decide(client, region.chair, proposals[0]["id"], "nominate")
    final = client.post(f"/v1/meetings/{last_week}/minutes/final", headers=region.chair.headers)
    assert final.status_code == 200, final.text
    assert [d["proposal_id"] for d in final.json()["decisions"]] == [proposals[0]["id"]]
    yesterday = meeting(client, region, -1)
    decide(client, region.chair, proposals[1]["id"], "nominate")

    inserted = minutes(client, region.chair, yesterday).json()["decisions"]

    assert [(d["proposal_id"], d["follow_up"]) for d in inserted] == [(proposals[1]["id"], True)]


def test_a_stale_if_match_does_not_mark_the_minutes_final(client, region):
    last_week, *_ = two_open_proposals(client, region)
    response = client.post(
        f"/v1/meetings/{last_week}/minutes/final",
        headers=region.chair.headers | {"If-Match": '"stale"'},
    )
    assert response.status_code == 412
    live = minutes(client, region.chair, last_week)
    assert live.json()["final"] is False
    # The 412 names the ETag the minutes' GET gives, to read them again with.
    assert f"current ETag {live.headers['ETag']}" in response.json()["detail"]


def test_only_the_chair_marks_the_minutes_final(client, region):
    last_week, *_ = two_open_proposals(client, region)
    for org in (region.municipality, region.care_provider, region.corporation):
        response = client.post(f"/v1/meetings/{last_week}/minutes/final", headers=org.headers)
        assert response.status_code == 403


def test_each_party_reads_only_its_own_part_of_the_minutes(client, region):
    last_week, _, proposals = two_open_proposals(client, region)
    for p in proposals:
        decide(client, region.chair, p["id"], "nominate")
    # The provider's own proposal: a publication's proposals list in no order (c324001).
    [mine] = [p for p in proposals if p["care_provider_id"] == region.care_provider.id]
    hand_out(client, region, last_week, region.care_provider, mine["case_id"])
    hand_out(client, region, last_week, region.corporation)
    for provider in (region.care_provider, region.other_care_provider):
        body = minutes(client, provider, last_week).json()
        own = {p["id"] for p in proposals if p["care_provider_id"] == provider.id}
        assert {d["proposal_id"] for d in body["decisions"]} == own
        assert {p["proposal_id"] for p in body["open_proposals"]} == own
    for corporation in (region.corporation, region.other_corporation):
        body = minutes(client, corporation, last_week).json()
        own = {p["id"] for p in proposals if p["corporation_id"] == corporation.id}
        assert {d["proposal_id"] for d in body["decisions"]} == own
        assert all("score" not in p for p in body["open_proposals"])
        assert all(a["case_id"] is None for a in body["actions"])
        assert len(body["actions"]) == (1 if corporation == region.corporation else 0)


def test_the_minutes_leave_out_the_open_proposals_of_a_later_meeting_published_ahead(
    client, region
):
    last_week, next_week, proposals = two_open_proposals(client, region)
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    published = client.post(f"/v1/meetings/{next_week}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    body = minutes(client, region.chair, last_week).json()
    assert {p["proposal_id"] for p in body["open_proposals"]} == {p["id"] for p in proposals}
    assert {p["meeting_id"] for p in body["open_proposals"]} == {last_week}


def action_body(owner, meeting_id):  # type: ignore[no-untyped-def]
    return {
        "kind": "request_beschikking",
        "owner_organisation_id": owner.id,
        "due_date": iso(7),
        "meeting_id": meeting_id,
    }


def test_no_action_is_handed_out_for_a_meeting_whose_minutes_are_final(client, region):
    """It was handed out and then in no minutes: those are frozen, and the next meeting's take
    only actions without a meeting."""
    last_week, *_ = two_open_proposals(client, region)
    final = client.post(f"/v1/meetings/{last_week}/minutes/final", headers=region.chair.headers)
    assert final.status_code == 200, final.text
    url = f"/v1/tables/{region.table_id}/actions"

    refused = client.post(
        url, json=action_body(region.care_provider, last_week), headers=region.chair.headers
    )

    assert refused.status_code == 409 and refused.json()["code"] == "minutes_final"
    assert client.get(url, headers=region.chair.headers).json()["items"] == []


def test_an_action_handed_out_after_the_minutes_were_marked_final_comes_in_the_next_minutes(
    client, region
):
    """Handed out without a meeting in a period whose minutes were final already, it was in no
    minutes (as decisions were, see above): the next meeting's minutes carry it."""
    last_week, next_week, _ = two_open_proposals(client, region)
    before = hand_out(client, region, None, region.care_provider)
    final = client.post(f"/v1/meetings/{last_week}/minutes/final", headers=region.chair.headers)
    assert final.status_code == 200, final.text

    after = hand_out(client, region, None, region.care_provider)

    assert [a["id"] for a in final.json()["actions"]] == [before["id"]]
    later = minutes(client, region.chair, next_week).json()["actions"]
    assert [a["id"] for a in later] == [after["id"]]


def test_an_action_final_minutes_hold_is_in_no_minutes_of_meetings_planned_into_their_period(
    client, region
):
    """Two meetings planned afterwards on days inside a period whose minutes are final: the
    later one's previous meeting is the earlier inserted one, not the final one, and it listed
    again the action those final minutes hold. What final minutes hold is in no other minutes."""
    last_week, next_week, _ = two_open_proposals(client, region)
    handed = hand_out(client, region, None, region.care_provider)
    final = client.post(f"/v1/meetings/{last_week}/minutes/final", headers=region.chair.headers)
    assert final.status_code == 200, final.text
    assert [a["id"] for a in final.json()["actions"]] == [handed["id"]]

    inserted = [meeting(client, region, offset) for offset in (-3, -1)]

    for meeting_id in [*inserted, next_week]:
        assert minutes(client, region.chair, meeting_id).json()["actions"] == []


def test_live_minutes_that_changed_are_no_304_to_a_client_holding_the_earlier_copy(client, region):
    # A decision changes the live minutes but not the meeting: its version was their ETag, so a
    # client asking with `If-None-Match` kept its copy without the decision.
    last_week, _, proposals = two_open_proposals(client, region)
    earlier = minutes(client, region.chair, last_week)
    decide(client, region.chair, proposals[0]["id"], "nominate")
    again = client.get(
        f"/v1/meetings/{last_week}/minutes",
        headers=region.chair.headers | {"If-None-Match": earlier.headers["ETag"]},
    )
    assert again.status_code == 200, again.text
    assert [d["proposal_id"] for d in again.json()["decisions"]] == [proposals[0]["id"]]
    assert again.headers["ETag"] != earlier.headers["ETag"]
    unchanged = client.get(
        f"/v1/meetings/{last_week}/minutes",
        headers=region.chair.headers | {"If-None-Match": again.headers["ETag"]},
    )
    assert unchanged.status_code == 304


def test_minutes_that_changed_since_they_were_read_are_not_marked_final_with_their_etag(
    client, region
):
    # If-Match with the minutes' ETag means "these minutes": a decision since is a 412, not
    # frozen unread into the final minutes.
    last_week, _, proposals = two_open_proposals(client, region)
    read = minutes(client, region.chair, last_week).headers["ETag"]
    decide(client, region.chair, proposals[0]["id"], "nominate")
    stale = client.post(
        f"/v1/meetings/{last_week}/minutes/final",
        headers=region.chair.headers | {"If-Match": read},
    )
    assert stale.status_code == 412, stale.text
    # Named: the minutes' ETag now (the meeting itself is unchanged, its version alone misled).
    now = minutes(client, region.chair, last_week).headers["ETag"]
    assert f"The minutes changed (current ETag {now})" in stale.json()["detail"]
    meeting_tag = client.get(f"/v1/meetings/{last_week}", headers=region.chair.headers)
    final = client.post(
        f"/v1/meetings/{last_week}/minutes/final",
        headers=region.chair.headers | {"If-Match": meeting_tag.headers["ETag"]},
    )
    assert final.status_code == 200, final.text
