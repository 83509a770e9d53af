"""A webhook tells each organisation exactly what the API shows it: a corporation that may not
see which case an action is about does not learn it from the event either, and organisations
that see nothing of a housing are not told of it."""

import uuid

import pytest
from sqlmodel import select

from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.api.helpers import assign_action, publish_one_proposal, withdraw_case
from tests.conftest import Org, create_case

ALL_EVENTS = ["agenda.published", "proposal.decided", "action.assigned", "case.housed"]


def register(client, org: Org) -> None:
    response = client.post(
        "/v1/webhooks",
        json={"url": f"https://hooks.example.org/{org.id}", "events": ALL_EVENTS},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text


def payloads(session, event_type: str) -> dict[str, list[dict]]:
    """Per organisation id, the data of every queued event of that type."""
    rows = session.exec(
        select(WebhookEndpoint.organisation_id, WebhookEvent.data)
        .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookEvent.type == event_type)
    ).all()
    found: dict[str, list[dict]] = {}
    for organisation_id, data in rows:
        found.setdefault(str(organisation_id), []).append(data)
    return found


def shown(payload: dict, api_view: dict, id_field: str) -> None:
    """Every field of the payload is what the API shows the same organisation."""
    for name, value in payload.items():
        assert value == api_view["id" if name == id_field else name], name


@pytest.fixture
def subscribed(client, region):
    for org in (
        region.chair,
        region.municipality,
        region.care_provider,
        region.other_care_provider,
        region.corporation,
        region.other_corporation,
    ):
        register(client, org)
    return region


def test_an_action_for_a_corporation_reaches_it_without_the_case_the_api_hides(
    client, subscribed, session
):
    region = subscribed
    case = create_case(client, region.care_provider, region.table_id)
    created = assign_action(client, region, region.corporation, case["id"])
    assert created.status_code == 201, created.text

    sent = payloads(session, "action.assigned")
    assert set(sent) == {region.chair.id, region.corporation.id}
    for org in (region.chair, region.corporation):
        [payload] = sent[org.id]
        api_view = client.get(f"/v1/actions/{created.json()['id']}", headers=org.headers).json()
        shown(payload, api_view, "action_id")
    assert sent[region.corporation.id][0]["case_id"] is None
    assert sent[region.chair.id][0]["case_id"] == case["id"]


def test_an_action_for_a_care_provider_names_the_case_it_may_see(client, subscribed, session):
    region = subscribed
    case = create_case(client, region.care_provider, region.table_id)
    created = assign_action(client, region, region.care_provider, case["id"])
    assert created.status_code == 201, created.text
    [payload] = payloads(session, "action.assigned")[region.care_provider.id]
    api_view = client.get(
        f"/v1/actions/{created.json()['id']}", headers=region.care_provider.headers
    ).json()
    shown(payload, api_view, "action_id")
    assert payload["case_id"] == case["id"]


def house_one(client, region) -> dict:
    """Publish a meeting with one proposal (care_provider's case, corporation's dwelling) and
    take it to `housed`; returns the proposal."""
    proposal = signed_proposal(client, region)
    response = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "house"},
        headers=region.corporation.headers,
    )
    assert response.status_code == 200, response.text
    return proposal


def test_a_housing_is_told_only_to_those_who_can_see_the_proposal(client, subscribed, session):
    region = subscribed
    proposal = house_one(client, region)

    sent = payloads(session, "case.housed")
    assert set(sent) == {
        region.chair.id,
        region.municipality.id,
        region.care_provider.id,
        region.corporation.id,
    }
    parties = (region.chair, region.municipality, region.care_provider, region.corporation)
    for org in parties:
        [payload] = sent[org.id]
        api_view = client.get(f"/v1/proposals/{proposal['id']}", headers=org.headers)
        assert api_view.status_code == 200, org.kind
        assert payload["case_id"] == api_view.json()["case_id"]
        assert payload["vacancy_id"] == api_view.json()["vacancy_id"]
    for bystander in (region.other_care_provider, region.other_corporation):
        hidden = client.get(f"/v1/proposals/{proposal['id']}", headers=bystander.headers)
        assert hidden.status_code == 404


def test_each_decision_goes_to_the_parties_with_what_their_proposal_view_shows(
    client, subscribed, session
):
    region = subscribed
    proposal = house_one(client, region)

    sent = payloads(session, "proposal.decided")
    assert set(sent) == {region.chair.id, region.care_provider.id, region.corporation.id}
    for org in (region.chair, region.care_provider, region.corporation):
        api_view = client.get(f"/v1/proposals/{proposal['id']}", headers=org.headers).json()
        decisions = [d["decision"] for d in api_view["decisions"]]
        assert [p["decision"] for p in sent[org.id]] == decisions
        for payload in sent[org.id]:
            assert payload["proposal_id"] == api_view["id"]
            assert payload["case_id"] == api_view["case_id"]
            assert payload["vacancy_id"] == api_view["vacancy_id"]


def test_one_event_with_views_is_one_webhook_id_per_distinct_view(session):
    from app.organisations.models import Organisation
    from app.webhooks import service

    orgs = []
    for _ in range(3):
        org = Organisation(name=f"org {uuid.uuid4().hex[:8]}", kind="municipality")
        session.add(org)
        session.flush()
        orgs.append(org.id)
    full = {"case_id": "c-1", "kind": "other"}
    main = service.emit(
        session,
        event_type="action.assigned",
        organisation_ids=orgs,
        data=full,
        views={orgs[2]: {**full, "case_id": None}},
    )
    events = session.exec(select(WebhookEvent).where(WebhookEvent.type == "action.assigned"))
    by_data = {e.data["case_id"]: e.id for e in events}
    assert by_data == {"c-1": main, None: by_data[None]}
    assert by_data[None] != main


def signed_proposal(client, region) -> dict:
    """A proposal the corporation has signed the lease for; returns it."""
    _, proposal = publish_one_proposal(client, region)
    for org, decision in (
        (region.chair, "nominate"),
        (region.corporation, "corporation_accept"),
        (region.corporation, "sign_tenancy"),
    ):
        response = client.post(
            f"/v1/proposals/{proposal['id']}/decisions",
            json={"decision": decision},
            headers=org.headers,
        )
        assert response.status_code == 200, response.text
    return proposal


def test_a_proposal_closed_by_withdrawing_its_case_is_told_to_the_parties(
    client, subscribed, session
):
    region = subscribed
    proposal = signed_proposal(client, region)

    withdraw_case(client, region.care_provider, proposal["case_id"])

    sent = payloads(session, "proposal.decided")
    for org in (region.chair, region.care_provider, region.corporation):
        api_view = client.get(f"/v1/proposals/{proposal['id']}", headers=org.headers).json()
        assert api_view["status"] == "withdrawn"
        assert [p["decision"] for p in sent[org.id]] == [
            d["decision"] for d in api_view["decisions"]
        ]
        last = sent[org.id][-1]
        assert (last["from_status"], last["to_status"], last["reason"]) == (
            "tenancy_signed",
            "withdrawn",
            "case_changed",
        )


def test_a_proposal_closed_by_withdrawing_its_dwelling_is_told_to_the_parties(
    client, subscribed, session
):
    region = subscribed
    proposal = signed_proposal(client, region)

    response = client.delete(
        f"/v1/vacancies/{proposal['vacancy_id']}", headers=region.corporation.headers
    )
    assert response.status_code == 204, response.text

    sent = payloads(session, "proposal.decided")
    for org in (region.chair, region.care_provider, region.corporation):
        last = sent[org.id][-1]
        assert (last["decision"], last["to_status"], last["reason"]) == (
            "withdraw",
            "withdrawn",
            "dwelling_changed",
        )
