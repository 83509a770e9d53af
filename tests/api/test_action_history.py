"""An action's history is kept whole (`action_transitions`): its hand-out with the due date it
was given, every closing, reopening and due-date change, each with its actor and moment, in
the transaction of the change. Before, the case timeline showed an action's current due date as
the one it was handed out with, only its latest closing, and no actor of it."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from app.access_log.models import AccessLogEntry
from app.organisations.models import ApiKey
from app.principal import hash_api_key
from app.sqltypes import utcnow
from tests.api.helpers import assert_problem
from tests.api.test_actions import hand_out
from tests.api.test_actions_of_a_moved_case import move_to_a_second_table
from tests.clock import iso
from tests.conftest import Org, create_case, make_org, make_table
from tests.other_server import another_server, next_millisecond


def patch(client, org: Org, action: dict, **body):  # type: ignore[no-untyped-def]
    response = client.patch(f"/v1/actions/{action['id']}", json=body, headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def history(client, org: Org, action: dict, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/actions/{action['id']}/transitions", params=params, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def timeline(client, org: Org, case: dict) -> list[dict]:
    response = client.get(f"/v1/cases/{case['id']}/timeline", headers=org.headers)
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["kind"].startswith("action_")]


def key_id(session: Session, org: Org) -> str:
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_api_key(org.key))).one()
    return str(key.id)


def test_a_reopened_action_keeps_its_first_closing_in_its_history(client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    patch(client, region.care_provider, action, status="done")
    patch(client, region.chair, action, status="open")
    patch(client, region.chair, action, status="cancelled")

    rows = history(client, region.care_provider, action)

    assert [(r["change"], r["from_status"], r["to_status"]) for r in rows] == [
        ("created", None, "open"),
        ("complete", "open", "done"),
        ("reopen", "done", "open"),
        ("cancel", "open", "cancelled"),
    ]
    actors = [r["actor_organisation_id"] for r in rows]
    assert actors == [region.chair.id, region.care_provider.id, region.chair.id, region.chair.id]
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    entries = timeline(client, region.care_provider, case)
    assert [(e["kind"], e["to_status"], e["actor_organisation_id"]) for e in entries] == [
        ("action_created", "open", region.chair.id),
        ("action_closed", "done", region.care_provider.id),
        ("action_reopened", "open", region.chair.id),
        ("action_closed", "cancelled", region.chair.id),
    ]
    # The closing's moment is the action's `completed_at` of then, not of its last closing.
    shown = client.get(f"/v1/actions/{action['id']}", headers=region.chair.headers).json()
    assert entries[-1]["at"] == shown["completed_at"] != entries[1]["at"]


def test_an_action_keeps_the_due_date_it_was_handed_out_with(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, due_date=iso(14), case_id=case["id"])
    patch(client, region.care_provider, action, due_date=iso(21))
    # Closed with a new date in one request: one transition carrying both.
    patch(client, region.chair, action, status="done", due_date=iso(28))

    entries = timeline(client, region.chair, case)

    assert entries[0]["kind"] == "action_created" and entries[0]["due_date"] == iso(14)
    moved = entries[1]
    assert moved["kind"] == "action_due_date_changed"
    assert (moved["from_due_date"], moved["due_date"]) == (iso(14), iso(21))
    assert moved["actor_organisation_id"] == region.care_provider.id
    closed = entries[2]
    assert (closed["kind"], closed["to_status"]) == ("action_closed", "done")
    assert (closed["from_due_date"], closed["due_date"]) == (iso(21), iso(28))
    rows = history(client, region.chair, action)
    assert [(r["change"], r["from_due_date"], r["to_due_date"]) for r in rows] == [
        ("created", None, iso(14)),
        ("move_due_date", iso(14), iso(21)),
        ("complete", iso(21), iso(28)),
    ]


def test_a_change_that_changes_nothing_or_fails_adds_nothing_to_the_history(client, region):
    action = hand_out(client, region, region.care_provider, due_date=iso(14))
    patch(client, region.care_provider, action, status="open", due_date=iso(14))
    stale = client.patch(
        f"/v1/actions/{action['id']}",
        json={"status": "done"},
        headers=region.care_provider.headers | {"If-Match": 'W/"999"'},
    )
    assert stale.status_code == 412, stale.text
    too_far = client.patch(
        f"/v1/actions/{action['id']}",
        json={"status": "done", "due_date": iso(800)},
        headers=region.care_provider.headers,
    )
    assert too_far.status_code == 400, too_far.text

    assert [r["change"] for r in history(client, region.chair, action)] == ["created"]


@pytest.mark.parametrize("closed_as", ["done", "cancelled"])
def test_a_closed_action_keeps_its_due_date_until_it_is_reopened(client, region, closed_as):
    """A closed action's due date is what it was closed against (on time or late, in its
    history and the minutes): moved afterwards, it was rewritten while nothing was left to do.
    Reopened, it takes a new one in the same request; closed and moved at once from open, the
    move is an open action's."""
    action = hand_out(client, region, region.care_provider, due_date=iso(-3))
    patch(client, region.care_provider, action, status=closed_as)

    for org, body in [
        (region.care_provider, {"due_date": iso(21)}),
        (region.chair, {"due_date": iso(-10)}),
        (
            region.chair,
            {"status": "done" if closed_as == "cancelled" else "cancelled", "due_date": iso(21)},
        ),
    ]:
        refused = client.patch(f"/v1/actions/{action['id']}", json=body, headers=org.headers)
        assert_problem(refused, 409, code="action_closed")
    assert [r["change"] for r in history(client, region.chair, action)][1:] == [
        "complete" if closed_as == "done" else "cancel"
    ]
    # Sent back as stored, it changes nothing; reopened with a new date, it moves.
    patch(client, region.chair, action, status=closed_as, due_date=iso(-3))
    reopened = patch(client, region.care_provider, action, status="open", due_date=iso(21))
    assert (reopened["status"], reopened["due_date"]) == ("open", iso(21))


def test_an_action_cancelled_as_its_case_moved_names_the_care_provider_that_moved_it(
    client, region
):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.municipality, case_id=case["id"])

    move_to_a_second_table(client, region, case["id"])

    last = history(client, region.chair, action)[-1]
    assert (last["change"], last["from_status"], last["to_status"]) == (
        "case_moved",
        "open",
        "cancelled",
    )
    assert last["actor_organisation_id"] == region.care_provider.id
    closed = timeline(client, region.care_provider, case)[-1]
    assert (closed["kind"], closed["automatic"]) == ("action_closed", True)
    assert closed["actor_organisation_id"] == region.care_provider.id


def test_an_actions_history_names_only_the_callers_own_keys(client, region, session):
    action = hand_out(client, region, region.care_provider)
    patch(client, region.care_provider, action, status="done")

    own = history(client, region.care_provider, action)[-1]
    assert own["actor_api_key_id"] == key_id(session, region.care_provider)
    assert own["actor_person_id"] is None
    seen_by_chair = history(client, region.chair, action)
    assert seen_by_chair[-1]["actor_organisation_id"] == region.care_provider.id
    assert seen_by_chair[-1]["actor_api_key_id"] is None
    assert seen_by_chair[0]["actor_api_key_id"] == key_id(session, region.chair)
    assert history(client, region.care_provider, action)[0]["actor_api_key_id"] is None


def test_an_actions_history_is_shown_only_to_who_sees_the_action(client, region, other_region):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    path = f"/v1/actions/{action['id']}/transitions"

    for stranger in (region.other_care_provider, region.corporation, other_region.chair):
        assert_problem(client.get(path, headers=stranger.headers), 404)
    assert history(client, region.municipality, action)[0]["change"] == "created"


def test_a_corporation_is_not_shown_who_moved_the_case_its_action_was_about(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.corporation, case_id=case["id"])

    move_to_a_second_table(client, region, case["id"])

    rows = history(client, region.corporation, action)
    assert [r["change"] for r in rows] == ["created", "cancel"]
    assert rows[0]["actor_organisation_id"] == region.chair.id
    assert rows[1]["actor_organisation_id"] is None
    assert region.care_provider.id not in str(rows) and case["id"] not in str(rows)


def test_a_corporation_reads_an_action_cancelled_as_its_case_moved_as_a_plain_cancel(
    client, region
):
    """Its history said `case_moved` to the corporation owning it, which is not shown the case:
    it learned when the client moved to another table (found by the breaker). It now reads the
    entry as any cancellation, while the chair, which reads the case, still reads why."""
    case = create_case(client, region.other_care_provider, region.table_id)
    moved = hand_out(client, region, region.corporation, case_id=case["id"])
    cancelled = hand_out(client, region, region.other_corporation, case_id=case["id"])
    patch(client, region.chair, cancelled, status="cancelled")
    elsewhere = make_table(
        client, make_org(client, "municipality"), [region.other_care_provider], ["GM0363"]
    )
    shifted = client.patch(
        f"/v1/cases/{case['id']}",
        json={"table_id": elsewhere},
        headers=region.other_care_provider.headers,
    )
    assert shifted.status_code == 200, shifted.text

    for corporation, action in ((region.corporation, moved), (region.other_corporation, cancelled)):
        rows = history(client, corporation, action)
        assert [(r["change"], r["to_status"]) for r in rows] == [
            ("created", "open"),
            ("cancel", "cancelled"),
        ]
        assert "case_moved" not in str(rows)
    assert history(client, region.chair, moved)[-1]["change"] == "case_moved"
    assert history(client, region.municipality, moved)[-1]["change"] == "case_moved"


def test_an_actions_history_pages_oldest_first(client, region):
    action = hand_out(client, region, region.care_provider, due_date=iso(10))
    for offset in (11, 12, 13, 14):
        patch(client, region.care_provider, action, due_date=iso(offset))
    path = f"/v1/actions/{action['id']}/transitions"

    first = client.get(path, params={"limit": 3}, headers=region.chair.headers).json()
    cursor = first["next_cursor"]
    rest = client.get(path, params={"limit": 3, "cursor": cursor}, headers=region.chair.headers)

    assert cursor and rest.json()["next_cursor"] is None
    dues = [r["to_due_date"] for r in first["items"] + rest.json()["items"]]
    assert dues == [iso(10), iso(11), iso(12), iso(13), iso(14)]


def test_reading_an_actions_history_is_logged_as_an_access_to_its_case(client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    own = hand_out(client, region, region.care_provider, case_id=case["id"])
    corporations = hand_out(client, region, region.corporation, case_id=case["id"])

    def logged(org: Org) -> int:
        return len(
            session.exec(
                select(AccessLogEntry).where(
                    AccessLogEntry.endpoint == "GET /v1/actions/{action_id}/transitions",
                    AccessLogEntry.organisation_id == uuid.UUID(org.id),
                    AccessLogEntry.case_id == uuid.UUID(case["id"]),
                )
            ).all()
        )

    history(client, region.care_provider, own)
    history(client, region.corporation, corporations)  # not shown the case: no access to it

    assert (logged(region.care_provider), logged(region.corporation)) == (1, 0)


def test_an_actions_changes_list_in_the_order_they_were_made_whatever_the_servers_clocks(
    client, region
):
    """Changes made one after the other by two servers, in one millisecond or on a clock a
    second behind the other's: the timeline, in time order, listed a reopening before the
    closing it reopened (one instant sorts by the actor's id; a clock behind, by its time)."""
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    now = utcnow()
    with time_machine.travel(now, tick=False):  # all in one millisecond
        patch(client, region.care_provider, action, status="done")
        patch(client, region.chair, action, status="open")
    with time_machine.travel(now - timedelta(seconds=1), tick=False):  # a server behind
        patch(client, region.chair, action, due_date=iso(20))
        closed = patch(client, region.care_provider, action, status="cancelled")

    entries = timeline(client, region.chair, case)

    assert [(e["kind"], e["to_status"]) for e in entries] == [
        ("action_created", "open"),
        ("action_closed", "done"),
        ("action_reopened", "open"),
        ("action_due_date_changed", "open"),
        ("action_closed", "cancelled"),
    ]
    moments = [datetime.fromisoformat(r["at"]) for r in history(client, region.chair, action)]
    assert moments == sorted(set(moments))
    assert entries[4]["at"] == closed["completed_at"]  # the closing's moment is completed_at


def test_a_change_made_after_another_servers_lists_after_it(client, region):
    # Two servers' ids within one millisecond are unordered: a reopening made just after
    # another server's closing listed before it, and the history ended on `done`.
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    with time_machine.travel(next_millisecond(), tick=False):  # both in one millisecond
        with another_server():
            patch(client, region.care_provider, action, status="done")
        patch(client, region.chair, action, status="open")

    rows = history(client, region.care_provider, action)

    assert [r["change"] for r in rows] == ["created", "complete", "reopen"]
