"""The omklap: an intermediate lease goes to the client when the conditions are met; the
corporation records it, overdue transfers come onto the agenda, the timeline shows it all."""

import uuid
from datetime import date, timedelta

from app.aftercare.models import Tenancy
from app.matching.ages import add_months
from tests.aftercare.housing import house
from tests.aftercare.test_follow_up import agenda, record
from tests.api.helpers import assert_problem, invalid_names, plan_meeting
from tests.clock import iso
from tests.conftest import OPERATOR


def patch(client, org, case_id, **body):
    return client.patch(f"/v1/cases/{case_id}/tenancy", json=body, headers=org.headers)


def test_the_corporation_records_the_transfer_of_an_intermediate_lease(client, region):
    case = house(client, region, -400, "intermediate_lease")
    response = patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "running"
    assert body["transfer"]["transferred_on"] == iso(-20)
    assert body["transfer"]["overdue"] is False


def test_only_the_corporation_records_the_transfer(client, region):
    case = house(client, region, -400, "intermediate_lease")
    response = patch(client, region.care_provider, case["id"], transferred_on=iso(-20))
    assert_problem(response, 403)


def test_a_corporation_chairing_the_table_keeps_its_tenants_tenancy(client, region):
    """A corporation may chair the table; it reads its tenant's tenancy in the chair's full
    view, and still lets the dwelling: it plans and records the omklap and ends the tenancy
    (403 'the care provider and the corporation keep the tenancy' as if only a reader). The
    other corporation, not the landlord, keeps nothing of it."""
    case = house(client, region, -400, "intermediate_lease")
    other = house(client, region, -300, "intermediate_lease", corporation=region.other_corporation)
    chaired = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"chair_organisation_id": region.corporation.id},
        headers=OPERATOR,
    )
    assert chaired.status_code == 200, chaired.text
    planned = patch(client, region.corporation, case["id"], transfer_planned_on=iso(-30))
    assert planned.status_code == 200, planned.text
    assert planned.json()["view"] == "full"
    moved = patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    assert moved.status_code == 200, moved.text
    assert moved.json()["transfer"]["transferred_on"] == iso(-20)
    ended = patch(client, region.corporation, case["id"], ended_on=iso(-1), end_reason="moved_on")
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    assert_problem(patch(client, region.corporation, other["id"], transferred_on=iso(-20)), 403)


def test_no_transfer_while_conditions_are_open(client, region):
    case = house(client, region, -400, "intermediate_lease")
    planned = patch(
        client,
        region.care_provider,
        case["id"],
        transfer_open_conditions=["rent_paid_on_time", "support_in_place"],
        transfer_planned_on=iso(30),
    )
    assert planned.status_code == 200, planned.text
    assert planned.json()["transfer"]["open_conditions"] == [
        "rent_paid_on_time",
        "support_in_place",
    ]
    refused = patch(client, region.corporation, case["id"], transferred_on=iso(-1))
    assert_problem(refused, 409, "transfer_conditions_open")
    met = patch(
        client,
        region.corporation,
        case["id"],
        transfer_open_conditions=[],
        transferred_on=iso(-1),
    )
    assert met.status_code == 200, met.text


def test_an_own_lease_has_no_transfer(client, region):
    case = house(client, region, -400, "own_lease")
    response = patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    assert_problem(response, 409, "not_awaiting_transfer")


def test_a_lease_is_transferred_once(client, region):
    case = house(client, region, -400, "intermediate_lease")
    patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    again = patch(client, region.corporation, case["id"], transferred_on=iso(-10))
    assert_problem(again, 409, "not_awaiting_transfer")


def test_a_lease_not_awaiting_its_omklap_refuses_a_transfer_whatever_its_date(client, region):
    """An own lease, or one transferred already, has no omklap to record: 409
    `not_awaiting_transfer`, also for a day in the future or before the move-in (a 400 about
    the day sent the client to fix a day that was never the problem)."""
    own = house(client, region, -400, "own_lease")
    moved = house(client, region, -400, "intermediate_lease")
    first = patch(client, region.corporation, moved["id"], transferred_on=iso(-20))
    assert first.status_code == 200, first.text
    for case in (own, moved):
        for day in (iso(3), iso(-401)):
            response = patch(client, region.corporation, case["id"], transferred_on=day)
            assert_problem(response, 409, "not_awaiting_transfer")


def test_repeating_the_transfer_as_recorded_is_no_change(client, region):
    """A retry of the recorded omklap (its answer lost) answers 200 with the same ETag."""
    case = house(client, region, -400, "intermediate_lease")
    first = patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    assert first.status_code == 200, first.text
    retry = patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    assert retry.status_code == 200, retry.text
    assert retry.headers["ETag"] == first.headers["ETag"]


def test_repeating_the_cleared_conditions_with_the_transfer_is_no_change(client, region):
    """The omklap sent in one PATCH with the conditions it clears: its retry (the answer lost)
    answered 409 `not_awaiting_transfer`, as the plan it repeats is refused once the lease is
    the client's, though the PATCH changes nothing (found by breaker 32)."""
    case = house(client, region, -400, "intermediate_lease")
    body = {"transfer_open_conditions": [], "transferred_on": iso(-20)}
    first = patch(client, region.corporation, case["id"], **body)
    assert first.status_code == 200, first.text
    retry = patch(client, region.corporation, case["id"], **body)
    assert retry.status_code == 200, retry.text
    assert retry.headers["ETag"] == first.headers["ETag"]
    # The plan as the tenancy shows it, sent back, is no change either; a new one is refused.
    planned = first.json()["transfer"]["planned_on"]
    echoed = patch(client, region.care_provider, case["id"], transfer_planned_on=planned)
    assert echoed.status_code == 200, echoed.text
    # Same version (each organisation's view has its own ETag, a digest of what it shows).
    assert (echoed.json()["version"], echoed.json()["updated_at"]) == (
        first.json()["version"],
        first.json()["updated_at"],
    )
    moved = patch(client, region.care_provider, case["id"], transfer_planned_on=iso(-10))
    assert_problem(moved, 409, "not_awaiting_transfer")
    reopened = patch(
        client, region.corporation, case["id"], transfer_open_conditions=["no_nuisance"]
    )
    assert_problem(reopened, 409, "not_awaiting_transfer")


def test_an_omklap_is_planned_at_most_ten_years_after_the_move_in(client, region):
    """A planned day in 2100 would never make the omklap overdue on the agenda; the policy's
    own default goes up to 120 months, so a day planned by hand does too."""
    case = house(client, region, -400, "intermediate_lease")
    moved_in = date.fromisoformat(iso(-400))
    latest = add_months(moved_in, 120)
    for org in (region.care_provider, region.corporation):
        for day in (latest + timedelta(days=1), date(2100, 1, 1)):
            refused = patch(client, org, case["id"], transfer_planned_on=day.isoformat())
            assert_problem(refused, 400)
            assert invalid_names(refused) == ["transfer_planned_on"]
            assert refused.json()["invalidParams"][0]["code"] == "date_too_far_after_move_in"
    planned = patch(client, region.corporation, case["id"], transfer_planned_on=latest.isoformat())
    assert planned.status_code == 200, planned.text
    assert planned.json()["transfer"]["planned_on"] == latest.isoformat()


def test_an_omklap_day_stored_before_the_bound_sent_back_is_no_change(client, region, session):
    """A tenancy whose omklap was planned further ahead before the bound existed: a client
    PATCHing back what it read (with the open conditions it changes) is not refused."""
    case = house(client, region, -400, "intermediate_lease")
    far = date(2100, 1, 1)
    row = session.get(Tenancy, uuid.UUID(case["id"]))
    row.transfer_planned_on = far
    session.add(row)
    session.flush()
    response = patch(
        client,
        region.corporation,
        case["id"],
        transfer_planned_on=far.isoformat(),
        transfer_open_conditions=["rent_paid_on_time"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["transfer"]["planned_on"] == far.isoformat()
    assert response.json()["transfer"]["open_conditions"] == ["rent_paid_on_time"]


def test_a_transfer_date_is_not_in_the_future_nor_before_the_move_in(client, region):
    case = house(client, region, -400, "intermediate_lease")
    for day in (iso(1), iso(-401)):
        response = patch(client, region.corporation, case["id"], transferred_on=day)
        assert invalid_names(response) == ["transferred_on"]


def test_an_overdue_transfer_comes_onto_the_agenda(client, region):
    late = house(client, region, -400, "intermediate_lease")
    house(client, region, -100, "intermediate_lease")  # planned in about eight months
    meeting = plan_meeting(client, region, iso(7))
    items = [
        i
        for i in agenda(client, region, region.chair, meeting["date"])
        if i["kind"] == "transfer_overdue"
    ]
    assert [(i["case_id"], i["overdue"]) for i in items] == [(late["id"], True)]
    [seen] = agenda(client, region, region.corporation, meeting["date"])[-1:]
    assert seen["kind"] == "transfer_overdue" and seen["case_id"] == late["id"]


def test_the_timeline_shows_what_happened_after_the_move(client, region):
    case = house(client, region, -400, "intermediate_lease")
    record(client, region.care_provider, case["id"], months=3, signals=["rent_arrears"])
    patch(client, region.corporation, case["id"], transferred_on=iso(-20))
    # Not before yesterday's checkpoint, which found the client living there.
    end = patch(client, region.care_provider, case["id"], ended_on=iso(0), end_reason="moved_on")
    assert end.status_code == 200, end.text
    response = client.get(f"/v1/cases/{case['id']}/timeline", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    kinds = [e["kind"] for e in response.json()["items"]]
    assert kinds[-4:] == [
        "tenancy_started",
        "checkpoint_recorded",
        "lease_transferred",
        "tenancy_ended",
    ]
    ended = response.json()["items"][-1]
    assert (ended["effective_date"], ended["reason"]) == (iso(0), "moved_on")
