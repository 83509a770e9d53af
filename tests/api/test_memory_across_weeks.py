"""The table remembers across weeks: a declined pair stays out of every later agenda, whatever
happens to the case or the dwelling in between, and why-not says so as the agenda does."""

from datetime import date, timedelta

import pytest

from tests.api import weeks
from tests.clock import TODAY, iso
from tests.conftest import make_table, push_again


@pytest.fixture(autouse=True)
def limits(client):
    weeks.limits_for(client, -28, 400)


def declined_at_week_one(client, region, decision="client_decline", reason_code="location"):
    """Three weeks ago the pair was proposed and declined (or withdrawn by the chair)."""
    case = weeks.ready_case(client, region.care_provider, region.table_id)
    home = weeks.fitting_dwelling(client, region.corporation, "A")
    [proposal] = weeks.publish_meeting(client, region, -21)
    assert (proposal["case_id"], proposal["vacancy_id"]) == (case["id"], home["id"])
    org = {
        "client_decline": region.care_provider,
        "corporation_decline": region.corporation,
        "withdraw": region.chair,
    }[decision]
    weeks.decide(client, org, proposal, decision, reason_code)
    return case, home, proposal


def still_declined(client, region, case, home, offset=0):
    """The agenda of `offset` leaves the pair out and why-not says it was declined earlier."""
    document = weeks.agenda(client, region.chair, region.table_id, offset)
    assert (case["id"], home["id"]) not in weeks.pairs(document)
    answer = weeks.why_not(client, region.chair, region.table_id, case, home, offset)
    assert not answer["proposed"] and "declined_earlier" in weeks.codes(answer), answer
    return document, answer


def patch_case(client, org, case, body):
    response = client.patch(f"/v1/cases/{case['id']}", json=body, headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("decision", ["client_decline", "corporation_decline", "withdraw"])
def test_declined_pair_is_not_proposed_again_after_the_dwelling_is_repushed(
    client, region, decision
):
    reason_code = {"withdraw": "table_decision", "corporation_decline": "other"}.get(
        decision, "location"
    )
    case, home, proposal = declined_at_week_one(client, region, decision, reason_code)
    push_again(
        client,
        region.corporation,
        home,
        rent={"base": "640.00", "eligible_service_costs": "30.00"},
        floor=2,
    )
    for week in (-14, -7):
        assert weeks.publish_meeting(client, region, week) == []
    _, answer = still_declined(client, region, case, home)
    assert weeks.reason(answer, "declined_earlier")["proposal_id"] == proposal["id"]


def test_declined_pair_is_not_proposed_again_after_the_case_is_edited_held_and_resumed(
    client, region
):
    case, home, _ = declined_at_week_one(client, region)
    patch_case(client, region.care_provider, case, {"household": {"adults": 1, "children": 0}})
    weeks.publish_meeting(client, region, -14)
    patch_case(
        client,
        region.care_provider,
        case,
        {"status": "on_hold", "status_reason": "temporarily_unreachable"},
    )
    held = weeks.why_not(client, region.chair, region.table_id, case, home)
    assert weeks.codes(held) == ["case_on_hold"]
    weeks.publish_meeting(client, region, -7)
    patch_case(client, region.care_provider, case, {"status": "ready"})
    assert weeks.publish_meeting(client, region, 0) == []
    still_declined(client, region, case, home)


def test_declined_pair_is_not_proposed_again_after_the_case_moved_to_another_table_and_back(
    client, region
):
    case, home, _ = declined_at_week_one(client, region)
    second = make_table(client, region.chair, [region.care_provider], ["GM0363"])
    patch_case(client, region.care_provider, case, {"status": "on_hold", "status_reason": "other"})
    patch_case(client, region.care_provider, case, {"table_id": second})
    weeks.publish_meeting(client, region, -14)
    patch_case(client, region.care_provider, case, {"table_id": region.table_id})
    patch_case(client, region.care_provider, case, {"status": "ready"})
    assert weeks.publish_meeting(client, region, -7) == []
    still_declined(client, region, case, home)


def test_declined_pair_is_not_proposed_again_after_both_moved_to_another_table(client, region):
    """The client declined the dwelling at one table; both then moved to another table of the
    same care provider and corporation. The pair is the same pair: it stays out there too (the
    other table's memory was read by the proposal's table, so it proposed the pair again).
    That table is not told the earlier table's proposal id."""
    case, home, _ = declined_at_week_one(client, region)
    second = make_table(
        client, region.chair, [region.care_provider, region.corporation], ["GM0363"]
    )
    patch_case(client, region.care_provider, case, {"status": "on_hold", "status_reason": "other"})
    patch_case(client, region.care_provider, case, {"table_id": second})
    patch_case(client, region.care_provider, case, {"status": "ready"})
    push_again(client, region.corporation, home, "GM0363")
    document = weeks.agenda(client, region.chair, second)
    assert (case["id"], home["id"]) not in weeks.pairs(document)
    answer = weeks.why_not(client, region.chair, second, case, home)
    assert weeks.codes(answer) == ["declined_earlier"], answer
    assert weeks.reason(answer, "declined_earlier") == {
        "decision": "client_decline",
        "reason": "location",
        "decided_on": iso(0),
        "proposal_id": None,
        "times": 1,
    }


def test_a_corporation_decline_made_at_another_table_names_no_dwelling_of_that_table(
    client, region
):
    """The widened decline (a failed reference check keeps the case from all of that
    corporation's dwellings) follows the case to another table, but that table's members may
    read neither the earlier table's proposal nor its dwelling: the explanation names neither."""
    case, home, _ = declined_at_week_one(
        client, region, "corporation_decline", "failed_reference_check"
    )
    second = make_table(
        client, region.chair, [region.care_provider, region.corporation], ["GM0363"]
    )
    patch_case(client, region.care_provider, case, {"status": "on_hold", "status_reason": "other"})
    patch_case(client, region.care_provider, case, {"table_id": second})
    patch_case(client, region.care_provider, case, {"status": "ready"})
    there = push_again(
        client,
        region.corporation,
        weeks.fitting_dwelling(client, region.corporation, "B"),
        "GM0363",
    )
    answer = weeks.why_not(client, region.chair, second, case, there)
    assert weeks.codes(answer) == ["declined_by_corporation_earlier"], answer
    detail = weeks.reason(answer, "declined_by_corporation_earlier")
    assert (detail["vacancy_id"], detail["proposal_id"]) == (None, None)
    assert home["id"] not in str(answer)


def test_declined_pair_is_not_proposed_again_after_the_dwelling_is_withdrawn_and_reoffered(
    client, region
):
    case, home, _ = declined_at_week_one(client, region)
    deleted = client.delete(f"/v1/vacancies/{home['id']}", headers=region.corporation.headers)
    assert deleted.status_code in (200, 204), deleted.text
    assert weeks.publish_meeting(client, region, -14) == []
    assert push_again(client, region.corporation, home)["status"] == "available"
    assert weeks.publish_meeting(client, region, -7) == []
    still_declined(client, region, case, home)


def test_a_case_parked_after_a_decline_comes_back_for_other_dwellings_only(client, region):
    """A no-show parks the case (policy: 28 days from the decision); meetings before that date
    leave it out as parked, the first one on it proposes another dwelling, never the
    declined one."""
    case, home, proposal = declined_at_week_one(client, region, reason_code="no_show")
    decided = client.get(f"/v1/proposals/{proposal['id']}", headers=region.chair.headers).json()
    parked_until = decided["decisions"][-1]["parked_until"]
    assert parked_until is not None
    other = weeks.fitting_dwelling(client, region.corporation, "B")
    answer = weeks.why_not(client, region.chair, region.table_id, case, other, -14)
    assert weeks.codes(answer) == ["case_parked"]
    assert weeks.reason(answer, "case_parked") == {"parked_until": parked_until}
    assert weeks.publish_meeting(client, region, -14) == []
    back = (date.fromisoformat(parked_until) - TODAY).days
    document = weeks.agenda(client, region.chair, region.table_id, back)
    assert weeks.pairs(document) == {(case["id"], other["id"])}
    assert weeks.why_not(client, region.chair, region.table_id, case, other, back)["proposed"]
    answer = weeks.why_not(client, region.chair, region.table_id, case, home, back)
    assert weeks.codes(answer) == ["declined_earlier"]
    before = weeks.why_not(client, region.chair, region.table_id, case, other, back - 1)
    assert weeks.codes(before) == ["case_parked"]


def test_a_registration_reaching_the_minimum_between_two_meetings_opens_regular_dwellings(
    client, region
):
    """24 full months of registration are reached between two meetings: the first offers the
    case contingent dwellings only, the next regular ones too; why-not agrees on each date."""
    second_meeting = TODAY + timedelta(days=7)
    registered = second_meeting.replace(year=second_meeting.year - 2)
    case = weeks.ready_case(
        client,
        region.care_provider,
        region.table_id,
        registration_date=registered.isoformat(),
    )
    regular = weeks.fitting_dwelling(client, region.corporation, "A", contingent=False)
    first = weeks.why_not_agrees(client, region, [case], [regular], TODAY)
    assert first["proposals"] == []
    answer = weeks.why_not(client, region.chair, region.table_id, case, regular)
    assert weeks.codes(answer) == ["registration_too_short"]
    contingent = weeks.fitting_dwelling(client, region.other_corporation, "B")
    first = weeks.why_not_agrees(client, region, [case], [regular, contingent], TODAY)
    assert weeks.pairs(first) == {(case["id"], contingent["id"])}
    second = weeks.why_not_agrees(client, region, [case], [regular, contingent], second_meeting)
    answer = weeks.why_not(client, region.chair, region.table_id, case, regular, 7)
    assert answer["feasible"], answer
    assert len(weeks.pairs(second)) == 1


def test_tied_cases_why_not_names_the_one_the_agenda_chose_week_after_week(client, region):
    """Two cases alike in every scored respect, two alike dwellings, one of them declined by
    the first case's client: each week why-not answers what that week's agenda does, and the
    tie never brings the declined pair back."""
    twins = [
        weeks.ready_case(client, org, region.table_id)
        for org in (region.care_provider, region.other_care_provider)
    ]
    homes = [
        weeks.fitting_dwelling(client, org, ref)
        for org, ref in ((region.corporation, "A"), (region.other_corporation, "B"))
    ]
    week_one = weeks.why_not_agrees(client, region, twins, homes, TODAY - timedelta(days=14))
    assert len(weeks.pairs(week_one)) == 2
    proposals = weeks.publish_meeting(client, region, -14)
    assert {(p["case_id"], p["vacancy_id"]) for p in proposals} == weeks.pairs(week_one)
    first = next(p for p in proposals if p["case_id"] == twins[0]["id"])
    other = next(p for p in proposals if p["case_id"] == twins[1]["id"])
    weeks.decide(client, region.care_provider, first, "client_decline", "location")
    weeks.decide(client, region.chair, other, "withdraw", "table_decision")
    week_two = weeks.why_not_agrees(client, region, twins, homes, TODAY - timedelta(days=7))
    # Each case may only have the dwelling the other declined: both are housed, swapped.
    assert weeks.pairs(week_two) == {
        (twins[0]["id"], other["vacancy_id"]),
        (twins[1]["id"], first["vacancy_id"]),
    }


def test_a_beschikking_expiring_between_two_meetings_changes_nothing_until_its_status_does(
    client, region
):
    """The rule reads the status the care provider reports, not `valid_until` (domain.md):
    the week after that date the pair is still proposed, and why-not agrees; once the care
    provider reports it ended (`none`), the pair is out and why-not shows the date."""
    case = weeks.ready_case(
        client,
        region.care_provider,
        region.table_id,
        beschikking={"status": "granted", "valid_until": (TODAY + timedelta(days=3)).isoformat()},
    )
    home = weeks.fitting_dwelling(client, region.corporation, "A")
    for on in (TODAY, TODAY + timedelta(days=7)):
        document = weeks.why_not_agrees(client, region, [case], [home], on)
        assert weeks.pairs(document) == {(case["id"], home["id"])}
    patch_case(
        client,
        region.care_provider,
        case,
        {"beschikking": {"status": "none", "valid_until": (TODAY + timedelta(days=3)).isoformat()}},
    )
    answer = weeks.why_not(client, region.chair, region.table_id, case, home, 7)
    assert weeks.codes(answer) == ["beschikking_missing"]
    assert (
        weeks.reason(answer, "beschikking_missing")["valid_until"]
        == (TODAY + timedelta(days=3)).isoformat()
    )
    weeks.why_not_agrees(client, region, [case], [home], TODAY + timedelta(days=7))
