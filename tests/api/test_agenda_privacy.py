"""What the agenda gives away about cases to organisations that may not see them (issue 10 item 6,
issue 11 item 4): a corporation gets no score, case date, waiting time, rank or rule failure of
any case, and nobody outside the table view can count another organisation's cases out of the
summary (the monitor's suppression: a rest of 1 to 4 is hidden)."""

import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from app.agenda.models import AGENDA, CorporationAgenda
from app.monitor.suppression import PRIMARY_MAX
from app.webhooks.models import WebhookDelivery, WebhookEvent
from tests.api.helpers import assert_problem, plan_meeting
from tests.api.test_agenda import MEETING, agenda, meeting, why_not
from tests.api.test_meetings import proposals, publish
from tests.clock import iso
from tests.conftest import create_case, create_vacancy

CASE_DETAILS = {
    "score",
    "components",
    "points",
    "ready_since",
    "waiting_days",
    "passed_over",
    "candidates",
    "candidates_by_case",
    "left_unhoused",
    "longest_waiting",
    "bottlenecks",
    "blocked_cases_failing",
    "excluded_counts",
    "score_bound",
    "total_score_if_given",
    "closest_reasons",
}
"""Keys that carry a case's score, its dates, its rank among cases or the rules it fails."""

# The parties see live agendas on the table's meeting dates only (app.agenda.dates).
pytestmark = pytest.mark.usefixtures(meeting.__name__)


def keys_in(value: Any) -> set[str]:
    """Every key anywhere in a JSON document (or JSON schema's property names)."""
    if isinstance(value, dict):
        found = set(value)
        for item in value.values():
            found |= keys_in(item)
        return found
    if isinstance(value, list):
        return set().union(*(keys_in(item) for item in value)) if value else set()
    return set()


def cases_of(client, org, table_id, count, **overrides):
    return [
        create_case(client, org, table_id, ready_since=iso(-400 - 37 * i), **overrides)
        for i in range(count)
    ]


@pytest.fixture
def two_of_each(client, region):
    """Two cases of each care provider, two dwellings of each corporation: every count small."""
    for org in (region.care_provider, region.other_care_provider):
        cases_of(client, org, region.table_id, 2)
    for org, complexes in ((region.corporation, "AB"), (region.other_corporation, "CD")):
        for complex_ref in complexes:
            create_vacancy(client, org, complex_ref=complex_ref)


def test_the_corporation_model_has_no_field_for_a_case_detail():
    properties = keys_in(
        {
            name: schema.get("properties", {})
            for name, schema in CorporationAgenda.model_json_schema()["$defs"].items()
        }
    ) | set(CorporationAgenda.model_fields)
    assert not properties & CASE_DETAILS


def test_a_forgotten_case_detail_fails_the_corporation_view_instead_of_reaching_it(
    client, region, two_of_each
):
    document = agenda(client, region.corporation, region.table_id)
    document["proposals"][0]["score"] = 1.0
    with pytest.raises(ValidationError):
        AGENDA.validate_python(document)


@pytest.mark.parametrize("corporation", ["corporation", "other_corporation"])
def test_a_corporation_sees_no_score_date_rank_or_failed_rule_of_any_case(
    client, region, two_of_each, corporation
):
    document = agenda(client, getattr(region, corporation), region.table_id)
    assert document["view"] == "housing_corporation"
    assert document["proposals"], "the corporation's dwellings are proposed"
    assert not keys_in(document) & CASE_DETAILS


def test_a_corporation_gets_its_proposals_in_dwelling_order_not_ranked_by_score(
    client, region, two_of_each
):
    whole = agenda(client, region.chair, region.table_id)["proposals"]
    scores = [p["score"] for p in whole]
    assert scores == sorted(scores, reverse=True)  # the table's order ranks the cases
    document = agenda(client, region.corporation, region.table_id)
    listed = [p["vacancy_id"] for p in document["proposals"]]
    assert len(listed) == 2
    assert listed == sorted(listed)


def test_a_published_agenda_gives_a_corporation_no_more_than_the_live_one(client, region, meeting):
    cases_of(client, region.care_provider, region.table_id, 1)
    create_vacancy(client, region.corporation)
    published = publish(client, region, meeting)
    for corporation in (region.corporation, region.other_corporation):
        frozen = client.get(f"/v1/meetings/{published['id']}/agenda", headers=corporation.headers)
        assert frozen.status_code == 200, frozen.text
        assert frozen.json()["frozen"] is True
        assert not keys_in(frozen.json()) & CASE_DETAILS
    shown = proposals(client, region, region.corporation)
    assert [(p["score"], p["components"]) for p in shown] == [(None, None)]


TABLE_COUNTS = {"ready_cases", "feasible_pairs", "blocked_cases"}
"""The summary's counts of the table's cases: the table view's only (two agendas side by side
gave a party the change in other organisations' cases: tests/monitor/
test_meeting_counts_over_time.py)."""


@pytest.mark.parametrize(
    "viewer", ["care_provider", "other_care_provider", "corporation", "other_corporation"]
)
def test_summary_counts_of_two_other_cases_are_suppressed(client, region, two_of_each, viewer):
    whole = agenda(client, region.chair, region.table_id)["summary"]
    assert (whole["ready_cases"], whole["people_housed"]) == (4, 4)
    summary = agenda(client, getattr(region, viewer), region.table_id)["summary"]
    # Two (care provider) or four (corporation) proposals are not the viewer's own: 1 to 4.
    assert summary["people_housed"] is None
    assert summary["persons_housed"] is None
    assert not TABLE_COUNTS & summary.keys()
    assert whole["vacancies"] == 4
    assert "vacancies" not in summary  # the next agenda's count fell by the proposals


def test_no_care_provider_can_count_the_other_providers_proposals(client, region, meeting):
    """One provider has one case, the other six: on the published agenda each sees the people
    housed exactly when the proposals not its own are not 1 to 4 (on the live one never: asked
    on two days, it moved with others' cases, tests/monitor/test_meeting_counts_over_time.py)."""
    cases_of(client, region.care_provider, region.table_id, 1)
    cases_of(client, region.other_care_provider, region.table_id, 6)
    for complex_ref in "ABCDEFG":
        create_vacancy(client, region.corporation, complex_ref=complex_ref)
    whole = agenda(client, region.chair, region.table_id)["summary"]["people_housed"]
    for provider in (region.care_provider, region.other_care_provider):
        assert agenda(client, provider, region.table_id)["summary"]["people_housed"] is None
    publish(client, region, meeting)
    for provider in (region.care_provider, region.other_care_provider):
        response = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=provider.headers)
        assert response.status_code == 200, response.text
        document = response.json()
        rest = whole - len(document["proposals"])
        expected = None if 0 < rest <= PRIMARY_MAX else whole
        assert document["summary"]["people_housed"] == expected, (whole, rest)


def test_a_corporation_sees_which_of_its_dwellings_cases_fit_but_not_how_many(client, region):
    cases_of(client, region.care_provider, region.table_id, 3)
    cases_of(client, region.other_care_provider, region.table_id, 3)
    for complex_ref in "AB":
        create_vacancy(client, region.corporation, complex_ref=complex_ref)
    create_vacancy(client, region.other_corporation, complex_ref="C")
    whole = agenda(client, region.chair, region.table_id)
    assert [e["feasible_count"] for e in whole["candidates_by_vacancy"]] == [6, 6, 6]
    for corporation, own_dwellings in ((region.corporation, 2), (region.other_corporation, 1)):
        document = agenda(client, corporation, region.table_id)
        entries = document["candidates_by_vacancy"]
        assert [set(e) for e in entries] == [{"vacancy_id"}] * own_dwellings
        assert not TABLE_COUNTS & document["summary"].keys()


@pytest.mark.parametrize(("ready", "shown"), [(2, False), (5, True)])
def test_a_corporation_reads_what_would_open_its_dwelling_only_beside_five_ready_cases(
    client, region, ready, shown
):
    """With 1 to 4 ready cases at the table, a rule that alone would open a dwelling to some
    case describes them (a lone client's age), so it is withheld (null), not an empty list."""
    cases_of(client, region.other_care_provider, region.table_id, ready)
    home = create_vacancy(client, region.corporation, min_age=120)
    [whole] = agenda(client, region.chair, region.table_id)["vacancies_without_candidates"]
    assert whole["unblocked_by"] == ["age_restricted"]
    [entry] = agenda(client, region.corporation, region.table_id)["vacancies_without_candidates"]
    assert entry["vacancy_id"] == home["id"]
    assert entry["unblocked_by"] == (["age_restricted"] if shown else None)


def test_a_corporation_reads_no_rule_that_alone_keeps_one_client_from_its_dwelling(client, region):
    """Five or more ready cases at the table did not mean five behind each rule: a dwelling of
    six rooms, which no single person fits, showed `beschikking_missing` as a rule that alone
    would open it, and so told the corporation that the one household of five ready to move
    has no Wmo decision. A rule that alone keeps 1 to 4 cases out describes them: withheld."""
    cases_of(client, region.care_provider, region.table_id, 5)
    family = {"household": {"adults": 2, "children": 3}, "beschikking": {"status": "none"}}
    create_case(client, region.other_care_provider, region.table_id, **family)
    home = create_vacancy(client, region.corporation, rooms=6)
    [whole] = agenda(client, region.chair, region.table_id)["vacancies_without_candidates"]
    assert set(whole["unblocked_by"]) == {"size_mismatch", "beschikking_missing"}
    [entry] = agenda(client, region.corporation, region.table_id)["vacancies_without_candidates"]
    assert entry == {"vacancy_id": home["id"], "unblocked_by": None}


def test_a_care_provider_gets_no_table_total_through_why_not_or_an_alternative(client, region):
    """`housed` and `housed_if_given` are counts over every case at the table (the summary's
    people housed, give or take one): a care provider would read the suppressed total there."""
    longer = cases_of(client, region.other_care_provider, region.table_id, 1)[0]
    shorter = create_case(client, region.care_provider, region.table_id, ready_since=iso(-30))
    home = create_vacancy(client, region.corporation)
    whole = why_not(client, region.chair, region.table_id, shorter["id"], home["id"]).json()
    assert (whole["trade_off"]["housed"], whole["trade_off"]["housed_if_given"]) == (1, 1)
    answer = why_not(client, region.care_provider, region.table_id, shorter["id"], home["id"])
    trade = answer.json()["trade_off"]
    assert trade["code"] == whole["trade_off"]["code"]
    assert (trade["housed"], trade["housed_if_given"]) == (None, None)
    document = agenda(client, region.care_provider, region.table_id)
    assert [u["housed_if_given"] for u in document["left_unhoused"]] == [None]
    assert document["summary"]["people_housed"] is None
    assert longer["id"] not in str(document)


@pytest.mark.parametrize("party", ["care_provider", "corporation"])
def test_a_party_cannot_step_the_live_agenda_through_dates_between_meetings(client, region, party):
    """Stepping the date a day at a time shows when a case starts fitting (a registration period
    completed, a birthday): the parties get the agenda of the table's meeting dates only."""
    org = getattr(region, party)
    for offset in (-1, 1, 7):
        response = client.get(
            f"/v1/tables/{region.table_id}/agenda",
            params={"date": iso(offset)},
            headers=org.headers,
        )
        assert_problem(response, 403, "forbidden")
    assert agenda(client, org, region.table_id)["date"] == MEETING


def test_a_party_asking_no_date_gets_the_next_meeting(client, region):
    plan_meeting(client, region, iso(14))
    plan_meeting(client, region, iso(-7))  # past: the next one from today is MEETING (today)
    for org in (region.care_provider, region.corporation):
        response = client.get(f"/v1/tables/{region.table_id}/agenda", headers=org.headers)
        assert response.status_code == 200, response.text
        assert response.json()["date"] == MEETING


def test_the_chair_still_plans_with_any_date(client, region):
    response = client.get(
        f"/v1/tables/{region.table_id}/agenda",
        params={"date": iso(3)},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["date"] == iso(3)


def test_why_not_keeps_a_care_provider_to_the_meeting_dates_too(client, region):
    """Why-not answers what the agenda of its date does, so it has the agenda's dates."""
    [case] = cases_of(client, region.care_provider, region.table_id, 1)
    dwelling = create_vacancy(client, region.corporation)
    url = f"/v1/tables/{region.table_id}/why-not"
    pair = {"caseId": case["id"], "vacancyId": dwelling["id"]}
    stepped = client.get(url, params=pair | {"date": iso(1)}, headers=region.care_provider.headers)
    assert_problem(stepped, 403, "forbidden")
    on_the_meeting = client.get(url, params=pair, headers=region.care_provider.headers)
    assert on_the_meeting.status_code == 200, on_the_meeting.text
    assert on_the_meeting.json()["date"] == MEETING


PARTIES = ("care_provider", "other_care_provider", "corporation", "other_corporation")


def agenda_published_payloads(session, endpoint_ids):
    """Per webhook endpoint, the `agenda.published` data queued for it."""
    rows = session.exec(
        select(WebhookDelivery.endpoint_id, WebhookEvent.data)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookEvent.type == "agenda.published")
    ).all()
    return {endpoint: data for endpoint, data in rows if endpoint in endpoint_ids}


def test_a_meetings_proposal_count_is_suppressed_as_the_agendas_people_housed_is(
    client, session, region, two_of_each, meeting
):
    """The meeting's `proposals` is the published agenda's `people_housed`: a party whose agenda
    hides it (the proposals not its own are 1 to 4) reads it nowhere else either, not in the
    meeting, the table's list of meetings or the `agenda.published` event."""
    hooks = {}
    for name in ("chair", *PARTIES):
        org = getattr(region, name)
        body = {"url": "https://receiver.example.org/hook", "events": ["agenda.published"]}
        response = client.post("/v1/webhooks", json=body, headers=org.headers)
        assert response.status_code == 201, response.text
        hooks[uuid.UUID(response.json()["id"])] = name
    assert publish(client, region, meeting)["proposals"] == 4
    sent = {
        hooks[e]: data["proposals"] for e, data in agenda_published_payloads(session, hooks).items()
    }
    assert sent == {"chair": 4} | dict.fromkeys(PARTIES, None)
    for name in PARTIES:
        org = getattr(region, name)
        frozen = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=org.headers).json()
        assert frozen["summary"]["people_housed"] is None
        assert len(frozen["proposals"]) == 2  # the rest, 2, is the other party's
        one = client.get(f"/v1/meetings/{meeting['id']}", headers=org.headers)
        listed = client.get(f"/v1/tables/{region.table_id}/meetings", headers=org.headers)
        assert one.json()["proposals"] is None
        assert [m["proposals"] for m in listed.json()["items"]] == [None]


def test_a_party_with_no_other_partys_proposal_reads_the_meetings_count(client, region, meeting):
    """A rest of 0 reveals nobody: the only care provider's own proposals are the whole count."""
    cases_of(client, region.care_provider, region.table_id, 2)
    for complex_ref in "AB":
        create_vacancy(client, region.corporation, complex_ref=complex_ref)
    publish(client, region, meeting)
    for org in (region.care_provider, region.corporation, region.municipality):
        shown = client.get(f"/v1/meetings/{meeting['id']}", headers=org.headers).json()
        assert shown["proposals"] == 2
    shown = client.get(f"/v1/meetings/{meeting['id']}", headers=region.other_care_provider.headers)
    assert shown.json()["proposals"] is None
