"""Actions: handed out by the chair, back on the agenda while open, overdue after their date."""

import uuid
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlmodel import col, select

from app.access_log.models import AccessLogEntry
from app.actions.models import Action
from app.webhooks.models import WebhookEvent
from tests.api.helpers import assert_problem, plan_meeting
from tests.clock import iso
from tests.conftest import OPERATOR, create_case

DATE = iso()


def post_action(client, region, owner, due_date=iso(14), **extra):
    """The chair hands out a `request_beschikking` action to `owner`: the response."""
    return client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": "request_beschikking",
            "owner_organisation_id": owner.id,
            "due_date": due_date,
        }
        | extra,
        headers=region.chair.headers,
    )


def hand_out(client, region, owner, due_date=iso(14), **extra):
    response = post_action(client, region, owner, due_date, **extra)
    assert response.status_code == 201, response.text
    return response.json()


def agenda(client, region, org, date=DATE):
    return client.get(
        f"/v1/tables/{region.table_id}/agenda", params={"date": date}, headers=org.headers
    ).json()


def test_open_actions_appear_on_the_next_agenda_and_overdue_is_flagged(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    listed = {a["id"]: a for a in agenda(client, region, region.chair)["open_actions"]}
    assert listed[action["id"]]["overdue"] is False
    later = {a["id"]: a for a in agenda(client, region, region.chair, iso(21))["open_actions"]}
    assert later[action["id"]]["overdue"] is True


def test_a_done_action_leaves_the_agenda(client, region):
    action = hand_out(client, region, region.care_provider)
    response = client.patch(
        f"/v1/actions/{action['id']}", json={"status": "done"}, headers=region.care_provider.headers
    )
    assert response.status_code == 200 and response.json()["completed_at"]
    assert agenda(client, region, region.chair)["open_actions"] == []


def test_only_the_chair_hands_out_actions(client, region):
    response = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": "other",
            "owner_organisation_id": region.care_provider.id,
            "due_date": iso(14),
        },
        headers=region.municipality.headers,
    )
    assert_problem(response, 403)


def test_owner_must_be_a_member_of_the_table(client, region, other_region):
    response = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={"kind": "other", "owner_organisation_id": other_region.chair.id, "due_date": DATE},
        headers=region.chair.headers,
    )
    assert_problem(response, 400)


def test_someone_else_cannot_close_an_action(client, region):
    action = hand_out(client, region, region.care_provider)
    response = client.patch(
        f"/v1/actions/{action['id']}",
        json={"status": "done"},
        headers=region.other_care_provider.headers,
    )
    assert response.status_code in (403, 404)


def test_corporation_sees_its_own_actions_without_the_case(client, region):
    plan_meeting(client, region, DATE)  # the corporation's live agenda is a meeting date's
    case = create_case(client, region.care_provider, region.table_id)
    hand_out(client, region, region.care_provider, case_id=case["id"])
    own = hand_out(client, region, region.corporation, case_id=case["id"], kind="plan_viewing")
    listed = client.get(
        f"/v1/tables/{region.table_id}/actions", headers=region.corporation.headers
    ).json()["items"]
    assert [a["id"] for a in listed] == [own["id"]]
    assert listed[0]["case_id"] is None
    on_agenda = agenda(client, region, region.corporation)["open_actions"]
    assert [a["id"] for a in on_agenda] == [own["id"]]


def test_a_corporation_chairing_the_table_reads_its_actions_cases_and_is_logged(
    client, region, session
):
    """The chair reads every case of its table, whatever its kind. A corporation chairing the
    table was shown the case of the action it handed out in the answer (not logged as a read of
    the case) and then never again: not in the list, nor the action, nor its webhook. It reads
    it everywhere now, logged each time; a corporation that only owns an action still does not."""
    chaired = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"chair_organisation_id": region.corporation.id},
        headers=OPERATOR,
    )
    assert chaired.status_code == 200, chaired.text
    chair = region.corporation
    hook = {"url": "https://hooks.example.org/a", "events": ["action.assigned"]}
    assert client.post("/v1/webhooks", json=hook, headers=chair.headers).status_code == 201
    case = create_case(client, region.care_provider, region.table_id)

    def logged() -> list[str]:
        return sorted(
            session.exec(
                select(AccessLogEntry.action).where(
                    AccessLogEntry.case_id == uuid.UUID(case["id"]),
                    AccessLogEntry.organisation_id == uuid.UUID(chair.id),
                )
            ).all()
        )

    body = {
        "kind": "request_beschikking",
        "owner_organisation_id": region.care_provider.id,
        "due_date": iso(14),
        "case_id": case["id"],
    }
    before = logged()
    made = client.post(f"/v1/tables/{region.table_id}/actions", json=body, headers=chair.headers)
    assert made.status_code == 201, made.text
    assert made.json()["case_id"] == case["id"]
    assert logged() == sorted([*before, "action", "notification"])  # the answer, the webhook
    url = f"/v1/actions/{made.json()['id']}"
    assert client.get(url, headers=chair.headers).json()["case_id"] == case["id"]
    listed = client.get(f"/v1/tables/{region.table_id}/actions", headers=chair.headers)
    assert [a["case_id"] for a in listed.json()["items"]] == [case["id"]]
    assert logged() == sorted([*before, "action", "action", "action", "notification"])
    told = session.exec(
        select(WebhookEvent.data).where(col(WebhookEvent.type) == "action.assigned")
    ).all()
    assert [data["case_id"] for data in told] == [case["id"]]


def test_overdue_filter_lists_open_actions_past_their_date(client, region):
    late = hand_out(client, region, region.care_provider, due_date=iso(-329))
    hand_out(client, region, region.care_provider, due_date=iso(300))
    listed = client.get(
        f"/v1/tables/{region.table_id}/actions",
        params={"overdue": True},
        headers=region.chair.headers,
    ).json()["items"]
    assert [a["id"] for a in listed] == [late["id"]]


def test_an_action_of_another_table_is_404(client, region, other_region):
    action = hand_out(client, region, region.care_provider)
    response = client.get(f"/v1/actions/{action['id']}", headers=other_region.chair.headers)
    assert_problem(response, 404)


def test_an_action_update_with_a_stale_etag_is_412_and_changes_nothing(client, region):
    action = hand_out(client, region, region.care_provider, due_date=iso(14))
    path = f"/v1/actions/{action['id']}"
    read = client.get(path, headers=region.care_provider.headers).headers["ETag"]
    moved = client.patch(
        path,
        json={"due_date": iso(21)},
        headers={**region.chair.headers, "If-Match": read},
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] != read
    closed = client.patch(
        path, json={"status": "done"}, headers={**region.care_provider.headers, "If-Match": read}
    )
    assert_problem(closed, 412, "precondition_failed")
    current = client.get(path, headers=region.care_provider.headers)
    assert current.json()["status"] == "open"
    assert current.json()["due_date"] == iso(21)
    assert current.headers["ETag"] == moved.headers["ETag"]


def test_an_action_update_with_the_current_etag_lands(client, region):
    action = hand_out(client, region, region.care_provider, due_date=iso(14))
    path = f"/v1/actions/{action['id']}"
    read = client.get(path, headers=region.care_provider.headers).headers["ETag"]
    closed = client.patch(
        path, json={"status": "done"}, headers={**region.care_provider.headers, "If-Match": read}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "done"


def test_an_action_about_a_case_is_not_given_to_another_care_provider(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    response = post_action(client, region, region.other_care_provider, case_id=case["id"])
    body = assert_problem(response, 400, "validation_error")
    assert body["invalidParams"][0]["name"] == "owner_organisation_id"
    assert body["invalidParams"][0]["code"] == "owner_cannot_see_case"
    listed = client.get(
        f"/v1/tables/{region.table_id}/actions", headers=region.other_care_provider.headers
    )
    assert case["id"] not in listed.text
    # Its own care provider, the municipality and a corporation (never shown the case) may own it.
    for owner in (region.care_provider, region.municipality, region.corporation):
        hand_out(client, region, owner, case_id=case["id"])


def codes(response) -> list[tuple[str, str]]:
    body = assert_problem(response, 400)
    return [(p["name"], p["code"]) for p in body["invalidParams"]]


def test_a_due_date_more_than_a_year_away_is_taken_for_a_typing_error(client, region):
    ahead = post_action(client, region, region.care_provider, due_date=iso(400))
    assert codes(ahead) == [("due_date", "date_too_far_ahead")]
    back = post_action(client, region, region.care_provider, due_date=iso(-400))
    assert codes(back) == [("due_date", "date_too_far_back")]
    # Overdue already, within the year: handed out (a late action to catch up on).
    action = hand_out(client, region, region.care_provider, due_date=iso(-30))
    url = f"/v1/actions/{action['id']}"
    moved = client.patch(url, json={"due_date": iso(400)}, headers=region.chair.headers)
    assert codes(moved) == [("due_date", "date_too_far_ahead")]
    kept = client.get(url, headers=region.chair.headers).json()
    assert kept["due_date"] == iso(-30)


def test_a_rule_is_checked_only_once_the_schema_passes_as_the_readme_says(client, region):
    """A new user read "a 400 lists every invalid field" and got `kind` alone for a body with a
    due date two years ahead too. The README now says what a 400 lists: every field the schema
    refuses; a rule (the date's horizon) is checked once the schema passes, naming its field."""
    far = iso(730)
    schema = post_action(client, region, region.care_provider, due_date=far, kind="nope")
    assert codes(schema) == [("kind", "enum")]
    rule = post_action(client, region, region.care_provider, due_date=far)
    assert codes(rule) == [("due_date", "date_too_far_ahead")]


def test_an_old_actions_own_due_date_sent_back_is_no_change(client, region, session):
    """An action due more than a year ago (handed out within the year, then left open) is
    closed with its stored `due_date` sent back, as a client that PATCHes what it read does."""
    action = hand_out(client, region, region.care_provider, due_date=iso(-300))
    row = session.get(Action, uuid.UUID(action["id"]))
    row.due_date = date.fromisoformat(iso(-400))
    session.add(row)
    session.flush()
    response = client.patch(
        f"/v1/actions/{action['id']}",
        json={"status": "done", "due_date": iso(-400)},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["due_date"]) == ("done", iso(-400))


def test_a_replayed_action_creation_about_a_case_is_logged_as_an_access_to_the_case(
    client, region, session
):
    """The answer names the case: a replay for its `Idempotency-Key` is an access to that case
    file like the creation and any read of the action, so it is logged too, and shows the
    action as it is now (read with the caller's access), not a stored copy."""
    case = create_case(client, region.care_provider, region.table_id)
    body = {
        "kind": "request_beschikking",
        "owner_organisation_id": region.care_provider.id,
        "due_date": iso(14),
        "case_id": case["id"],
    }
    headers = {**region.chair.headers, "Idempotency-Key": "actie-1"}
    path = f"/v1/tables/{region.table_id}/actions"
    created = client.post(path, json=body, headers=headers)
    assert created.status_code == 201, created.text
    client.patch(
        f"/v1/actions/{created.json()['id']}", json={"status": "done"}, headers=region.chair.headers
    ).raise_for_status()

    def logged() -> list[str]:
        return list(
            session.exec(
                select(AccessLogEntry.action).where(
                    AccessLogEntry.case_id == uuid.UUID(case["id"]),
                    AccessLogEntry.organisation_id == uuid.UUID(region.chair.id),
                )
            ).all()
        )

    before = logged()
    replay = client.post(path, json=body, headers=headers)
    assert replay.status_code == 200, replay.text
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == created.json()["id"]
    assert replay.json()["status"] == "done"
    assert replay.headers["Location"] == f"/v1/actions/{created.json()['id']}"
    assert logged() == [*before, "action"]


def test_a_care_provider_sees_on_the_agenda_the_open_actions_about_its_cases_not_matched(
    client, region
):
    """README: a care provider sees on the agenda its own actions and those about its cases. The
    agenda told the cases apart by the matched ones only, so an action another member owns about
    the provider's case not yet ready, on hold or in a proposal (a beschikking the municipality
    is to request before the client can move) was left out, though its list of actions has it."""
    plan_meeting(client, region, DATE)
    not_ready = create_case(client, region.care_provider, region.table_id, ready_since=iso(30))
    ready = create_case(client, region.care_provider, region.table_id)
    others = create_case(client, region.other_care_provider, region.table_id, ready_since=iso(30))
    about_not_ready = hand_out(client, region, region.municipality, case_id=not_ready["id"])
    about_ready = hand_out(client, region, region.municipality, case_id=ready["id"])
    hand_out(client, region, region.municipality, case_id=others["id"])
    listed = client.get(
        f"/v1/tables/{region.table_id}/actions", headers=region.care_provider.headers
    ).json()["items"]
    expected = sorted([about_not_ready["id"], about_ready["id"]])
    assert sorted(a["id"] for a in listed) == expected
    on_agenda = agenda(client, region, region.care_provider)["open_actions"]
    assert sorted(a["id"] for a in on_agenda) == expected
    fields = {"id", "kind", "owner_organisation_id", "case_id", "meeting_id", "due_date"}
    assert all(set(a) == fields | {"overdue"} for a in on_agenda)
    table_view = agenda(client, region, region.chair)["open_actions"]
    assert len(table_view) == 3 and all(set(a) == fields | {"overdue"} for a in table_view)


def test_a_published_agenda_shows_a_care_provider_the_actions_about_its_cases_not_matched(
    client, region
):
    """As the live agenda: frozen, the agenda keeps whose case each open action is about."""
    meeting = plan_meeting(client, region, DATE)
    not_ready = create_case(client, region.care_provider, region.table_id, ready_since=iso(30))
    action = hand_out(client, region, region.municipality, case_id=not_ready["id"])
    chair = region.chair.headers
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair)
    assert published.status_code == 200, published.text
    frozen = client.get(
        f"/v1/meetings/{meeting['id']}/agenda", headers=region.care_provider.headers
    )
    assert [a["id"] for a in frozen.json()["open_actions"]] == [action["id"]]
    other = client.get(
        f"/v1/meetings/{meeting['id']}/agenda", headers=region.other_care_provider.headers
    )
    assert other.json()["open_actions"] == []


def test_an_action_read_with_its_etag_after_its_due_date_passed_shows_it_overdue(client, region):
    """`overdue` counts from today, but the action's ETag was its version: once the due date had
    passed, a client that sent back the ETag it read (If-None-Match) got 304 and kept
    `overdue: false`. A write takes the ETag its read answered as well as the version's; a copy
    that no longer reads so is a 412."""
    action = hand_out(client, region, region.care_provider, due_date=iso(5))
    path = f"/v1/actions/{action['id']}"
    owner = region.care_provider.headers
    before = client.get(path, headers=owner)
    assert before.json()["overdue"] is False
    tag = before.headers["ETag"]
    assert client.get(path, headers=owner | {"If-None-Match": tag}).status_code == 304
    with time_machine.travel(datetime.now(UTC) + timedelta(days=10), tick=True):
        read = client.get(path, headers=owner | {"If-None-Match": tag})
        assert read.status_code == 200, read.status_code
        assert read.json()["overdue"] is True
        assert read.headers["ETag"] != tag
        again = client.get(path, headers=owner)
        assert (again.headers["ETag"], again.json()) == (read.headers["ETag"], read.json())
        stale = client.patch(path, json={"status": "done"}, headers=owner | {"If-Match": tag})
        assert_problem(stale, 412, "precondition_failed")
        done = client.patch(
            path, json={"status": "done"}, headers=owner | {"If-Match": read.headers["ETag"]}
        )
        assert done.status_code == 200, done.text
        fresh = client.get(path, headers=owner | {"If-None-Match": done.headers["ETag"]})
        assert fresh.status_code == 304, fresh.status_code
        by_version = {"If-Match": f'"{done.json()["version"]}"'}
        reopened = client.patch(path, json={"status": "open"}, headers=owner | by_version)
        assert reopened.status_code == 200, reopened.text


def test_the_operator_is_refused_the_actions_not_told_there_are_none(client, region):
    """The operator reads no actions (they name case files, as proposals do): the table's list
    was a 200 with no items while the table had open actions, which an operator's overview took
    for a table with nothing left to do, and the action itself a 404 'No such action'. Both are
    refused with 403, as the proposals are (the list before its query is judged); an action or
    table that does not exist stays a 404."""
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, case_id=case["id"])
    url = f"/v1/tables/{region.table_id}/actions"
    body = assert_problem(client.get(url, headers=OPERATOR), 403, "forbidden")
    assert "operator" in body["detail"]
    assert_problem(client.get(url, params={"status": "nope"}, headers=OPERATOR), 403)
    assert_problem(client.get(url, params={"overdue": "true"}, headers=OPERATOR), 403)
    for path in (f"/v1/actions/{action['id']}", f"/v1/actions/{action['id']}/transitions"):
        assert_problem(client.get(path, headers=OPERATOR), 403, "forbidden")
    patched = client.patch(f"/v1/actions/{action['id']}", json={"status": "done"}, headers=OPERATOR)
    assert_problem(patched, 403, "forbidden")
    assert_problem(client.get(f"/v1/tables/{uuid.uuid4()}/actions", headers=OPERATOR), 404)
    assert_problem(client.get(f"/v1/actions/{uuid.uuid4()}", headers=OPERATOR), 404)
    # The chair still reads them, unchanged by the operator's attempt.
    [listed] = client.get(url, headers=region.chair.headers).json()["items"]
    assert listed["id"] == action["id"] and listed["status"] == "open"
