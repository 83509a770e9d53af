"""A case the agenda leaves unhoused: the agenda names the first `candidates` proposals its best
alternative changes and how many there are; the case's own answer names them all, for whoever
sees the entry in the agenda, also once the meeting is published and its agenda frozen."""

import uuid

import pytest

from app.meetings import service as meetings
from app.meetings.models import Meeting
from tests.aftercare.housing import access_log
from tests.api.helpers import assert_problem, plan_meeting
from tests.clock import iso
from tests.conftest import case_body, create_case, vacancy_body

MEETING = iso()
N1, N2 = "BU03440101", "BU03440102"


def vacancy_in(client, org, complex_ref, neighbourhood, **overrides):
    """A vacancy of `org` in that complex and neighbourhood."""
    body = vacancy_body(complex_ref=complex_ref, **overrides)
    body["address"]["neighbourhood_code"] = neighbourhood
    response = client.post("/v1/vacancies", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


def one_per_complex_and_neighbourhood(client, region) -> None:
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"max_per_complex": 1, "max_per_neighbourhood": 1}},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def chain(client, region):
    """The engine's longest-waiting case left unhoused so that two others are housed
    (tests/matching/test_match.py), through the API: one per complex and per neighbourhood, the
    longest-waiting case fits only the one dwelling that fills both rooms the others need, so
    housing it displaces both. It and the pet owner are the care provider's, the third case the
    other provider's."""
    one_per_complex_and_neighbourhood(client, region)
    needs = case_body(region.table_id)["needs"]
    longest = create_case(
        client,
        region.care_provider,
        region.table_id,
        ready_since=iso(-1200),
        needs=needs | {"wheelchair": True},
    )
    second = create_case(
        client,
        region.other_care_provider,
        region.table_id,
        ready_since=iso(-400),
        areas={"preferred": [], "excluded": [N1]},
    )
    third = create_case(
        client,
        region.care_provider,
        region.table_id,
        ready_since=iso(-400),
        needs=needs | {"pets": True},
    )
    vacancy_in(client, region.corporation, "X", N1, wheelchair_accessible=True, pets_allowed=False)
    vacancy_in(client, region.corporation, "X", N2, pets_allowed=False)
    vacancy_in(client, region.corporation, "Y", N1)
    return longest, second, third


def agenda(client, org, table_id, **params):
    response = client.get(
        f"/v1/tables/{table_id}/agenda", params={"date": MEETING, **params}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def alternative(client, org, table_id, case_id):
    return client.get(
        f"/v1/tables/{table_id}/agenda/cases/{case_id}/alternative",
        params={"date": MEETING},
        headers=org.headers,
    )


def test_the_agenda_lists_at_most_the_requested_displaced_proposals_and_counts_them(
    client, region, chain
):
    longest, second, third = chain
    for candidates, listed in ((1, 1), (5, 2)):
        document = agenda(client, region.chair, region.table_id, candidates=candidates)
        [entry] = document["left_unhoused"]
        assert entry["case_id"] == longest["id"]
        assert (len(entry["displaced"]), entry["displaced_count"]) == (listed, 2)
    assert {c["case_id"] for c in entry["displaced"]} == {second["id"], third["id"]}


def test_a_cases_alternative_names_every_proposal_it_changes_and_the_agenda_its_head(
    client, region, chain
):
    longest, _, _ = chain
    [entry] = agenda(client, region.chair, region.table_id, candidates=1)["left_unhoused"]
    response = alternative(client, region.chair, region.table_id, longest["id"])
    assert response.status_code == 200, response.text
    whole = response.json()
    assert len(whole["displaced"]) == whole["displaced_count"] == entry["displaced_count"]
    assert whole["displaced"][:1] == entry["displaced"]
    same = ("case_id", "vacancy_id", "score", "housed_if_given", "total_score_if_given")
    same += ("trade_off",)
    assert {k: whole[k] for k in same} == {k: entry[k] for k in same}
    assert whole["date"] == MEETING


def providers_cut(response, second, third) -> dict:
    """The care provider's answer for the chain's longest waiter: no totals, both changes
    counted, its own case (third) shown and the other provider's (second) without id or score."""
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["housed_if_given"], answer["total_score_if_given"]) == (None, None)
    assert answer["displaced_count"] == 2
    assert {(c["case_id"], c["score"] is None) for c in answer["displaced"]} == {
        (third["id"], False),
        (None, True),
    }
    assert second["id"] not in response.text
    return answer


def test_a_care_provider_gets_its_own_cases_alternative_without_the_other_providers_case(
    client, region, chain
):
    longest, second, third = chain
    plan_meeting(client, region, MEETING)
    response = alternative(client, region.care_provider, region.table_id, longest["id"])
    answer = providers_cut(response, second, third)
    # Its agenda shows the same entry, cut the same way.
    [entry] = agenda(client, region.care_provider, region.table_id)["left_unhoused"]
    assert (entry["displaced"], entry["displaced_count"]) == (answer["displaced"], 2)


def test_only_who_sees_the_entry_in_the_agenda_gets_the_alternative(client, region, chain):
    longest, second, _ = chain
    plan_meeting(client, region, MEETING)
    other = alternative(client, region.other_care_provider, region.table_id, longest["id"])
    assert_problem(other, 404)
    corporation = alternative(client, region.corporation, region.table_id, longest["id"])
    assert_problem(corporation, 403)
    # A proposed case has no entry in `left_unhoused`; nor has a case not on the agenda.
    assert_problem(alternative(client, region.chair, region.table_id, second["id"]), 404)
    later = create_case(client, region.care_provider, region.table_id, ready_since=iso(30))
    assert_problem(alternative(client, region.chair, region.table_id, later["id"]), 404)


def test_the_alternative_logs_every_case_it_names(client, region, chain):
    longest, second, third = chain
    response = alternative(client, region.chair, region.table_id, longest["id"])
    assert response.status_code == 200, response.text
    for case in (longest, second, third):
        log = client.get(
            f"/v1/tables/{region.table_id}/access-log",
            params={"caseId": case["id"]},
            headers=region.chair.headers,
        ).json()["items"]
        endpoints = [e["endpoint"] for e in log if e["action"] == "agenda"]
        assert endpoints == ["GET /v1/tables/{table_id}/agenda/cases/{case_id}/alternative"]


MEETING_ALTERNATIVE = "GET /v1/meetings/{meeting_id}/agenda/cases/{case_id}/alternative"


def meeting_alternative(client, org, meeting_id, case_id):
    return client.get(
        f"/v1/meetings/{meeting_id}/agenda/cases/{case_id}/alternative", headers=org.headers
    )


@pytest.fixture
def cut_at_one(monkeypatch):
    """Publishing freezes the first `SNAPSHOT_CANDIDATES` changes of each alternative; at one,
    the chain's longest-waiting case (whose alternative changes two proposals) is cut."""
    monkeypatch.setattr(meetings, "SNAPSHOT_CANDIDATES", 1)


def publish(client, region) -> str:
    meeting = plan_meeting(client, region, MEETING)
    response = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    return meeting["id"]


def frozen_entry(client, org, meeting_id) -> dict:
    response = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=org.headers)
    assert response.status_code == 200, response.text
    [entry] = response.json()["left_unhoused"]
    return entry


def test_a_published_meetings_alternative_is_the_whole_list_the_live_agenda_gave_before(
    client, region, chain, cut_at_one
):
    longest, _, _ = chain
    before = alternative(client, region.chair, region.table_id, longest["id"])
    assert before.status_code == 200, before.text
    meeting_id = publish(client, region)
    entry = frozen_entry(client, region.chair, meeting_id)
    assert (len(entry["displaced"]), entry["displaced_count"]) == (1, 2)
    after = meeting_alternative(client, region.chair, meeting_id, longest["id"])
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()["displaced"][:1] == entry["displaced"]


def test_after_publication_the_tables_alternative_points_to_the_meetings(client, region, chain):
    longest, _, _ = chain
    meeting_id = publish(client, region)
    body = assert_problem(alternative(client, region.chair, region.table_id, longest["id"]), 404)
    assert f"/v1/meetings/{meeting_id}/agenda/cases/{longest['id']}/alternative" in body["detail"]


def test_a_care_provider_gets_its_own_cases_frozen_alternative_without_the_other_providers_case(
    client, region, chain, cut_at_one
):
    longest, second, third = chain
    meeting_id = publish(client, region)
    response = meeting_alternative(client, region.care_provider, meeting_id, longest["id"])
    answer = providers_cut(response, second, third)
    entry = frozen_entry(client, region.care_provider, meeting_id)
    assert answer["displaced"][:1] == entry["displaced"]


def test_only_who_sees_the_entry_in_the_frozen_agenda_gets_the_meetings_alternative(
    client, region, chain
):
    longest, second, _ = chain
    meeting_id = publish(client, region)
    other = meeting_alternative(client, region.other_care_provider, meeting_id, longest["id"])
    unknown = meeting_alternative(client, region.other_care_provider, meeting_id, uuid.uuid4())
    other_body, unknown_body = assert_problem(other, 404), assert_problem(unknown, 404)
    assert {k: v for k, v in other_body.items() if k != "instance"} == {
        k: v for k, v in unknown_body.items() if k != "instance"
    }
    corporation = meeting_alternative(client, region.corporation, meeting_id, longest["id"])
    assert_problem(corporation, 403)
    # A proposed case has no entry in `left_unhoused`.
    assert_problem(meeting_alternative(client, region.chair, meeting_id, second["id"]), 404)


def test_the_meetings_alternative_logs_every_case_it_names(client, region, chain, cut_at_one):
    longest, second, third = chain
    meeting_id = publish(client, region)
    response = meeting_alternative(client, region.chair, meeting_id, longest["id"])
    assert response.status_code == 200, response.text
    for case in (longest, second, third):
        log = client.get(
            f"/v1/tables/{region.table_id}/access-log",
            params={"caseId": case["id"]},
            headers=region.chair.headers,
        ).json()["items"]
        endpoints = [e["endpoint"] for e in log if e["action"] == "agenda"]
        assert endpoints.count(MEETING_ALTERNATIVE) == 1, endpoints


def test_before_publication_the_meetings_alternative_is_the_live_agendas(client, region, chain):
    longest, _, _ = chain
    meeting = plan_meeting(client, region, MEETING)
    live = alternative(client, region.care_provider, region.table_id, longest["id"])
    assert live.status_code == 200, live.text
    draft = meeting_alternative(client, region.care_provider, meeting["id"], longest["id"])
    assert draft.status_code == 200, draft.text
    assert draft.json() == live.json()


def frozen_before_whole_alternatives_were_kept(session, meeting_id, **entry_without) -> None:
    """The meeting's snapshot as publishing wrote it before the rest of each cut `displaced`
    list was kept (and, with `displaced_count=None`, before the lists were bounded)."""
    row = session.get(Meeting, uuid.UUID(meeting_id))
    kept = (meetings.DISPLACED_REST, meetings.ALSO_HOUSED_REST)
    snapshot = {k: v for k, v in row.snapshot.items() if k not in kept}
    document = snapshot["document"]
    left = [
        {k: v for k, v in u.items() if k not in entry_without} for u in document["left_unhoused"]
    ]
    row.snapshot = {**snapshot, "document": {**document, "left_unhoused": left}}
    session.add(row)
    session.flush()


def test_a_meeting_frozen_before_whole_alternatives_were_kept_says_so_for_a_cut_list(
    client, region, chain, cut_at_one, session
):
    longest, _, _ = chain
    meeting_id = publish(client, region)
    frozen_before_whole_alternatives_were_kept(session, meeting_id)
    response = meeting_alternative(client, region.chair, meeting_id, longest["id"])
    body = assert_problem(response, 404, "alternative_not_kept")
    assert "first 1 of the 2" in body["detail"]


def test_a_meeting_frozen_before_whole_alternatives_were_kept_gives_a_list_it_kept_whole(
    client, region, chain, session
):
    longest, _, _ = chain
    before = alternative(client, region.chair, region.table_id, longest["id"]).json()
    meeting_id = publish(client, region)
    # Frozen before the lists were bounded: whole, without a count.
    frozen_before_whole_alternatives_were_kept(session, meeting_id, displaced_count=None)
    response = meeting_alternative(client, region.chair, meeting_id, longest["id"])
    assert response.status_code == 200, response.text
    assert response.json() == before


def agenda_reads(client, region, case_id: str) -> list[str]:
    """The endpoints of the case's `agenda` entries, oldest first."""
    log = access_log(client, region)
    return [e["endpoint"] for e in log if (e["case_id"], e["action"]) == (case_id, "agenda")]


def test_a_404_saying_the_case_is_on_the_agenda_is_logged_as_a_read_of_it(client, region, chain):
    """A case the agenda proposes answers 404 with a detail of its own ("it is proposed, no
    dwelling fits it, ..."), unlike a case not on the agenda: the municipality learned that
    the case was ready and open on the date it named, case detail, without an entry in the
    log. Probing a date at a time read a case's agenda history unlogged."""
    _, second, _ = chain
    later = create_case(client, region.care_provider, region.table_id, ready_since=iso(30))
    on_it = alternative(client, region.municipality, region.table_id, second["id"])
    off_it = alternative(client, region.municipality, region.table_id, later["id"])
    assert assert_problem(on_it, 404)["detail"] != assert_problem(off_it, 404)["detail"]
    assert agenda_reads(client, region, second["id"]) == [
        "GET /v1/tables/{table_id}/agenda/cases/{case_id}/alternative"
    ]
    assert agenda_reads(client, region, later["id"]) == []


def test_a_frozen_agendas_404_saying_the_case_is_on_it_is_logged_as_a_read_of_it(
    client, region, chain
):
    """The same for a published meeting: its frozen agenda lists the proposed case; a case of
    the table not on it answers as an unknown one, and is not logged."""
    _, second, _ = chain
    meeting_id = publish(client, region)
    later = create_case(client, region.care_provider, region.table_id, ready_since=iso(30))
    on_it = meeting_alternative(client, region.municipality, meeting_id, second["id"])
    off_it = meeting_alternative(client, region.municipality, meeting_id, later["id"])
    assert assert_problem(on_it, 404)["detail"] != assert_problem(off_it, 404)["detail"]
    assert agenda_reads(client, region, second["id"]) == [MEETING_ALTERNATIVE]
    assert agenda_reads(client, region, later["id"]) == []
