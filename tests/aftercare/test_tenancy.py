"""The tenancy a housing starts, the aftercare agreement, and the end of a tenancy."""

import uuid
from datetime import date, timedelta

import time_machine

from app.aftercare.models import AftercareAgreement
from app.matching.ages import add_months
from tests.aftercare.housing import house, record_visit
from tests.api.helpers import assert_problem, invalid_names
from tests.clock import iso

AGREEMENT = {
    "support_intensity": "moderate",
    "contact_frequency": "fortnightly",
    "action_signals": ["rent_arrears", "needs_table"],
}


def agreement(region, **overrides):
    return (
        AGREEMENT
        | {
            "support_organisation_id": region.care_provider.id,
            "starts_on": iso(-30),
            "planned_end_on": iso(335),
        }
        | overrides
    )


def tenancy(client, org, case_id):
    response = client.get(f"/v1/cases/{case_id}/tenancy", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_housing_starts_a_tenancy_with_its_lease_form(client, region):
    case = house(client, region, -40, "own_lease")
    seen = tenancy(client, region.care_provider, case["id"])
    assert (seen["moved_in"], seen["lease_form"], seen["status"]) == (
        iso(-40),
        "own_lease",
        "running",
    )
    assert seen["transfer"] is None and seen["has_aftercare_agreement"] is False


def test_an_intermediate_lease_is_planned_to_transfer_after_the_policy_months(client, region):
    case = house(client, region, -40, "intermediate_lease")
    seen = tenancy(client, region.chair, case["id"])
    assert seen["status"] == "awaiting_transfer"
    # The policy default: 12 months after the move-in.
    moved_in = seen["moved_in"]
    assert seen["transfer"]["planned_on"][5:7] == moved_in[5:7]
    assert int(seen["transfer"]["planned_on"][:4]) == int(moved_in[:4]) + 1


def test_the_care_provider_makes_the_agreement_and_edits_it_with_if_match(client, region):
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(url, json=agreement(region), headers=region.care_provider.headers)
    assert made.status_code == 201, made.text
    etag = made.headers["ETag"]
    changed = client.put(
        url,
        json=agreement(region, contact_frequency="monthly"),
        headers=region.care_provider.headers | {"If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_frequency"] == "monthly"
    stale = client.put(
        url, json=agreement(region), headers=region.care_provider.headers | {"If-Match": etag}
    )
    assert_problem(stale, 412)


def test_if_none_match_makes_the_agreement_only_when_there_is_none(client, region):
    """`If-None-Match: *` on a PUT asks that the agreement not exist yet (RFC 9110 section
    13.1.2): a colleague's agreement made meanwhile is a 412, not overwritten unseen; a list of
    ETags is a 412 when it names the current one. The PUT ignored the header and replaced it."""
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    only_new = region.care_provider.headers | {"If-None-Match": "*"}
    made = client.put(url, json=agreement(region), headers=only_new)
    assert made.status_code == 201, made.text
    again = client.put(url, json=agreement(region, contact_frequency="monthly"), headers=only_new)
    assert_problem(again, 412)
    named = region.care_provider.headers | {"If-None-Match": made.headers["ETag"]}
    assert_problem(
        client.put(url, json=agreement(region, contact_frequency="monthly"), headers=named), 412
    )
    seen = client.get(url, headers=region.care_provider.headers)
    assert (seen.json()["contact_frequency"], seen.headers["ETag"]) == (
        "fortnightly",
        made.headers["ETag"],
    )
    other = region.care_provider.headers | {"If-None-Match": '"7"'}
    changed = client.put(url, json=agreement(region, contact_frequency="monthly"), headers=other)
    assert changed.status_code == 200, changed.text


def test_if_match_star_changes_an_agreement_but_makes_none(client, region):
    """`If-Match: *` asks that the agreement exist (RFC 9110 section 13.1.1): a client that
    means to change the one it knows must not make one where none is (it was made with
    `If-Match: *` as if the header were absent)."""
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    existing = region.care_provider.headers | {"If-Match": "*"}
    assert_problem(client.put(url, json=agreement(region), headers=existing), 412)
    missing = client.get(url, headers=region.care_provider.headers)
    assert_problem(missing, 404)
    made = client.put(url, json=agreement(region), headers=region.care_provider.headers)
    assert made.status_code == 201, made.text
    changed = client.put(url, json=agreement(region, contact_frequency="monthly"), headers=existing)
    assert changed.status_code == 200, changed.text


def test_if_match_with_an_etag_where_there_is_no_agreement_is_a_412(client, region):
    """A listed ETag cannot match an agreement that does not exist (RFC 9110 section 13.1.1):
    412, as for `*` and the other PUTs that make or replace (`app.versioning.get_checked`), not
    a 404 that tells the client the case or its tenancy is gone."""
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    stale = region.care_provider.headers | {"If-Match": '"1"'}
    assert_problem(client.put(url, json=agreement(region), headers=stale), 412)
    assert_problem(client.get(url, headers=region.care_provider.headers), 404)


def test_writes_that_repeat_the_current_values_keep_the_etags(client, region):
    case = house(client, region, -40, "intermediate_lease")
    provider = region.care_provider.headers
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(url, json=agreement(region), headers=provider)
    tenancy_url = f"/v1/cases/{case['id']}/tenancy"
    before = client.get(tenancy_url, headers=provider)
    again = client.put(
        url, json=agreement(region), headers=provider | {"If-Match": made.headers["ETag"]}
    )
    assert again.status_code == 200, again.text
    assert again.headers["ETag"] == made.headers["ETag"]
    planned = before.json()["transfer"]["planned_on"]
    for org in (region.care_provider, region.corporation):
        # Each organisation's own read: the ETag is a digest of what its view shows.
        before = client.get(tenancy_url, headers=org.headers)
        same = client.patch(
            tenancy_url,
            json={"transfer_planned_on": planned},
            headers=org.headers | {"If-Match": before.headers["ETag"]},
        )
        assert same.status_code == 200, same.text
        assert same.headers["ETag"] == before.headers["ETag"]


def test_the_corporation_sees_that_an_agreement_exists_but_not_its_content(client, region):
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    client.put(url, json=agreement(region), headers=region.care_provider.headers)
    seen = tenancy(client, region.corporation, case["id"])
    assert seen["view"] == "corporation" and seen["has_aftercare_agreement"] is True
    assert_problem(client.get(url, headers=region.corporation.headers), 403)
    assert client.get(url, headers=region.municipality.headers).status_code == 200


def test_only_the_cases_care_provider_makes_the_agreement(client, region):
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    for org in (region.chair, region.corporation):
        assert_problem(client.put(url, json=agreement(region), headers=org.headers), 403)
    assert_problem(
        client.put(url, json=agreement(region), headers=region.other_care_provider.headers), 404
    )


def test_an_agreement_takes_codes_and_an_end_after_its_start(client, region):
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    headers = region.care_provider.headers
    bad_signal = client.put(
        url, json=agreement(region, action_signals=["worried"]), headers=headers
    )
    assert invalid_names(bad_signal) == ["action_signals[0]"]
    reversed_dates = client.put(
        url, json=agreement(region, planned_end_on=iso(-60)), headers=headers
    )
    assert invalid_names(reversed_dates) == ["planned_end_on"]
    outsider = client.put(
        url, json=agreement(region, support_organisation_id=region.corporation.id), headers=headers
    )
    assert invalid_names(outsider) == ["support_organisation_id"]


def test_an_agreements_dates_lie_within_the_tenancys_follow_up(client, region):
    """The aftercare is support after the move: its start is not before the move-in, and
    neither its start nor its planned end lies more than the follow-up's ten years (the policy's
    last checkpoint and omklap, 120 months) after it; a start in 1900 or an end in 2100 was
    stored as the agreement. 400 naming the field."""
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    headers = region.care_provider.headers
    moved_in = date.fromisoformat(iso(-40))
    latest = add_months(moved_in, 120)
    refused = {
        ("starts_on", "date_before_move_in"): [moved_in - timedelta(days=1), date(1900, 1, 1)],
        ("starts_on", "date_too_far_after_move_in"): [latest + timedelta(days=1)],
        ("planned_end_on", "date_too_far_after_move_in"): [
            latest + timedelta(days=1),
            date(2100, 12, 31),
        ],
    }
    for (name, code), days in refused.items():
        for day in days:
            body = {name: day.isoformat()}
            if name == "starts_on" and day > moved_in:
                body["planned_end_on"] = None
            response = client.put(url, json=agreement(region, **body), headers=headers)
            assert invalid_names(response) == [name], (name, day)
            assert response.json()["invalidParams"][0]["code"] == code
    assert_problem(client.get(url, headers=headers), 404)
    edges = agreement(region, starts_on=moved_in.isoformat(), planned_end_on=latest.isoformat())
    made = client.put(url, json=edges, headers=headers)
    assert made.status_code == 201, made.text


def test_an_agreements_day_stored_before_the_bound_sent_back_is_no_change(client, region, session):
    """An agreement made before its days were bounded: a client PUTting back the days it read
    (with the contact it changes) is not refused."""
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    headers = region.care_provider.headers
    made = client.put(url, json=agreement(region), headers=headers)
    assert made.status_code == 201, made.text
    row = session.get(AftercareAgreement, uuid.UUID(case["id"]))
    row.starts_on, row.planned_end_on = date(1900, 1, 1), date(2100, 12, 31)
    session.add(row)
    session.flush()
    old = {"starts_on": "1900-01-01", "planned_end_on": "2100-12-31"}
    changed = client.put(
        url, json=agreement(region, contact_frequency="monthly", **old), headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["starts_on"], changed.json()["contact_frequency"]) == (
        "1900-01-01",
        "monthly",
    )


def test_other_organisations_do_not_see_the_tenancy(client, region, other_region):
    case = house(client, region, -40)
    for org in (
        region.other_care_provider,
        region.other_corporation,
        other_region.chair,
        other_region.corporation,
    ):
        assert_problem(client.get(f"/v1/cases/{case['id']}/tenancy", headers=org.headers), 404)


def end(client, org, case_id, ended_on, reason="moved_on", **headers):
    return client.patch(
        f"/v1/cases/{case_id}/tenancy",
        json={"ended_on": ended_on, "end_reason": reason},
        headers=org.headers | headers,
    )


def test_ending_a_tenancy_records_reason_and_date(client, region):
    case = house(client, region, -100)
    response = end(client, region.corporation, case["id"], iso(-5), "evicted")
    assert response.status_code == 200, response.text
    seen = tenancy(client, region.care_provider, case["id"])
    assert (seen["status"], seen["ended_on"], seen["end_reason"]) == ("ended", iso(-5), "evicted")
    again = end(client, region.care_provider, case["id"], iso(-4))
    assert_problem(again, 409, "tenancy_ended")


def test_repeating_the_end_as_recorded_is_no_change(client, region):
    """A retry of the PATCH that ended the tenancy (its answer lost) repeats the current values:
    like any PATCH that changes nothing it answers 200 with the same ETag, not 409."""
    case = house(client, region, -100)
    first = end(client, region.corporation, case["id"], iso(-5), "evicted")
    assert first.status_code == 200, first.text
    retry = end(client, region.corporation, case["id"], iso(-5), "evicted")
    assert retry.status_code == 200, retry.text
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.json()["status"] == "ended"
    other_reason = end(client, region.corporation, case["id"], iso(-5), "moved_on")
    assert_problem(other_reason, 409, "tenancy_ended")


def test_an_ended_tenancy_refuses_another_end_as_ended_whatever_its_date(client, region):
    """Once ended, another end is a 409 `tenancy_ended` (README: an ended tenancy changes no
    more), not a 400 about its date: a client told its day lies in the future or before the
    move-in corrects the day only to be refused for the state."""
    case = house(client, region, -100)
    first = end(client, region.corporation, case["id"], iso(-5), "evicted")
    assert first.status_code == 200, first.text
    for day in (iso(3), iso(-101)):
        again = end(client, region.care_provider, case["id"], day)
        assert_problem(again, 409, "tenancy_ended")


def test_an_end_is_not_in_the_future_nor_before_the_move_in(client, region):
    case = house(client, region, -100)
    future = end(client, region.care_provider, case["id"], iso(1))
    assert invalid_names(future) == ["ended_on"]
    early = end(client, region.care_provider, case["id"], iso(-101))
    assert invalid_names(early) == ["ended_on"]
    no_reason = client.patch(
        f"/v1/cases/{case['id']}/tenancy",
        json={"ended_on": iso(-1)},
        headers=region.care_provider.headers,
    )
    assert invalid_names(no_reason) == ["end_reason"]
    unknown = end(client, region.care_provider, case["id"], iso(-1), "vanished")
    assert invalid_names(unknown) == ["end_reason"]


def house_with_checkpoint(client, region, living_there):
    """A housing of 100 days ago with its 3-month checkpoint recorded 10 days ago."""
    case = house(client, region, -100)
    record_visit(client, region, case["id"], 10, living_there)
    return case


def test_an_end_is_not_before_a_checkpoint_that_found_the_client_living_there(client, region):
    """A 3-month checkpoint recorded 10 days ago says the client still lives there: an end
    dated before it would make the figures count the tenancy as lost at 3 months while the
    follow-up says otherwise. A checkpoint that found the client gone allows an earlier end
    (the end is often learnt at the visit)."""
    case = house_with_checkpoint(client, region, living_there=True)
    for org in (region.care_provider, region.corporation):
        early = end(client, org, case["id"], iso(-40), "evicted")
        assert_problem(early, 400)
        assert invalid_names(early) == ["ended_on"]
        assert early.json()["invalidParams"][0]["code"] == "date_before_checkpoint"
    assert tenancy(client, region.chair, case["id"])["status"] == "running"
    on_the_day = end(client, region.corporation, case["id"], iso(-10), "evicted")
    assert on_the_day.status_code == 200, on_the_day.text


def test_an_end_may_precede_a_checkpoint_that_found_the_client_gone(client, region):
    case = house_with_checkpoint(client, region, living_there=False)
    response = end(client, region.care_provider, case["id"], iso(-40), "returned_to_care")
    assert response.status_code == 200, response.text


def test_a_corporation_is_held_to_every_recorded_checkpoint_whatever_it_found(client, region):
    """The corporation ending a tenancy before a checkpoint was refused "which found the client
    living there" when it did, and let through when it found the client gone: the answer told
    the landlord the `not_living_there` its view hides (found by the breaker). It is now held
    to every recorded checkpoint, in the same words; the care provider, which is shown the
    outcome (and learnt the end at the visit), still records the earlier end."""
    for corporation in (region.corporation, region.other_corporation):
        answers = []
        for living_there in (True, False):
            case = house(client, region, -100, corporation=corporation)
            record_visit(client, region, case["id"], 10, living_there)
            early = end(client, corporation, case["id"], iso(-40), "evicted")
            assert_problem(early, 400)
            answers.append(early.json()["invalidParams"])
            assert tenancy(client, region.chair, case["id"])["status"] == "running"
            if not living_there:
                ended = end(client, region.care_provider, case["id"], iso(-40), "moved_on")
                assert ended.status_code == 200, ended.text
        assert answers[0] == answers[1], answers
        assert answers[0][0]["code"] == "date_before_checkpoint"
        assert "living" not in str(answers[0]) and "gone" not in str(answers[0])


def test_a_stale_if_match_does_not_end_the_tenancy(client, region):
    case = house(client, region, -100)
    response = end(client, region.care_provider, case["id"], iso(-1), **{"If-Match": '"7"'})
    assert_problem(response, 412)
    assert tenancy(client, region.chair, case["id"])["status"] == "running"


def test_retention_waits_for_the_follow_up_and_then_drops_the_agreement(client, region, session):
    from datetime import timedelta

    from app.aftercare.models import AftercareAgreement
    from app.cases.models import Case
    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    client.put(url, json=agreement(region), headers=region.care_provider.headers)
    # Housed longer ago than the retention period, but the follow-up was written just now.
    stored = session.get(Case, uuid.UUID(case["id"]))
    stored.closed_at = utcnow() - timedelta(days=800)
    session.add(stored)
    session.flush()
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 0
    later = utcnow() + timedelta(days=731)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    assert session.get(AftercareAgreement, uuid.UUID(case["id"])) is None
    seen = tenancy(client, region.chair, case["id"])
    assert (seen["moved_in"], seen["has_aftercare_agreement"]) == (iso(-40), False)


def test_no_agreement_can_be_made_for_an_anonymised_case(client, region, session):
    """Retention deleted the agreement with the case's other personal details; a new one would
    bring them back into a file retention no longer visits (found by the eighteenth breaker)."""
    from datetime import timedelta

    from app.cases.models import Case
    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(url, json=agreement(region), headers=region.care_provider.headers)
    assert made.status_code == 201, made.text
    stored = session.get(Case, uuid.UUID(case["id"]))
    stored.closed_at = utcnow() - timedelta(days=800)
    session.add(stored)
    session.flush()
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) == 1
    session.commit()  # as a request's would: a refused request rolls back only its own writes
    for headers in ({}, {"If-None-Match": "*"}):
        again = client.put(
            url, json=agreement(region), headers={**region.care_provider.headers, **headers}
        )
        assert_problem(again, 409)
        assert again.json()["code"] == "case_anonymised"
    assert client.get(url, headers=region.care_provider.headers).status_code == 404


def test_the_corporation_does_not_see_when_the_agreement_changes(client, region):
    """Its view shows only that an agreement exists: a change of the agreement moved the
    tenancy's version, ETag and updated_at, so the landlord learnt when the care provider
    changed the support (found by the eighth breaker)."""
    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(url, json=agreement(region), headers=region.care_provider.headers)
    assert made.status_code == 201, made.text
    before = client.get(f"/v1/cases/{case['id']}/tenancy", headers=region.corporation.headers)
    changed = client.put(
        url,
        json=agreement(region, support_intensity="intensive"),
        headers={**region.care_provider.headers, "If-Match": made.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] != made.headers["ETag"]  # the agreement's own version moves
    after = client.get(f"/v1/cases/{case['id']}/tenancy", headers=region.corporation.headers)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json() == before.json()


def test_retention_waits_for_a_changed_agreement_too(client, region, session):
    from datetime import timedelta

    from app.cases.models import Case
    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(url, json=agreement(region), headers=region.care_provider.headers)
    stored = session.get(Case, uuid.UUID(case["id"]))
    stored.closed_at = utcnow() - timedelta(days=800)
    session.add(stored)
    session.flush()
    # Made now and changed 731 days later: the change keeps the file 730 days from then.
    with time_machine.travel(utcnow() + timedelta(days=731)):
        changed = client.put(
            url,
            json=agreement(region, support_intensity="intensive"),
            headers={**region.care_provider.headers, "If-Match": made.headers["ETag"]},
        )
        assert changed.status_code == 200, changed.text
    later = utcnow() + timedelta(days=731 + 400)
    assert anonymise_closed_cases(session, later, retention_days=730) == 0
    assert anonymise_closed_cases(session, later + timedelta(days=400), retention_days=730) == 1
