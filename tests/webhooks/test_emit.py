"""`emit` records an event and queues it for exactly the endpoints that asked for it."""

import json
import uuid

import pytest
from pydantic_core import PydanticSerializationError
from sqlmodel import Session, select

from app.auth import Principal
from app.organisations.models import Organisation, OrganisationKind
from app.webhooks import service
from app.webhooks.models import WebhookDelivery, WebhookEndpointCreate, WebhookEvent
from app.webhooks.outbox import event_body


def organisation(session: Session) -> uuid.UUID:
    org = Organisation(name=f"org {uuid.uuid4().hex[:8]}", kind="municipality")
    session.add(org)
    session.flush()
    return org.id


def endpoint(session: Session, org_id: uuid.UUID, *events: str, active: bool = True) -> uuid.UUID:
    principal = Principal(
        is_operator=False, organisation_id=org_id, organisation_kind=OrganisationKind.municipality
    )
    payload = WebhookEndpointCreate.model_validate({"url": "https://x.example/h", "events": events})
    created, _ = service.create_endpoint(session, principal, payload, allow_private_targets=False)
    created.active = active
    session.add(created)
    session.flush()
    return created.id


def queued_for(session: Session, event_id: uuid.UUID) -> set[uuid.UUID]:
    rows = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event_id))
    return {row.endpoint_id for row in rows}


def test_emit_queues_only_subscribed_active_endpoints_of_the_given_organisations(session):
    concerned, also_concerned, bystander = (organisation(session) for _ in range(3))
    subscribed = endpoint(session, concerned, "agenda.published", "case.housed")
    other_event = endpoint(session, concerned, "case.housed")
    paused = endpoint(session, concerned, "agenda.published", active=False)
    second_org = endpoint(session, also_concerned, "agenda.published")
    not_concerned = endpoint(session, bystander, "agenda.published")

    event_id = service.emit(
        session,
        event_type="agenda.published",
        organisation_ids=[concerned, also_concerned, concerned],
        data={"meeting_id": "m-1"},
    )

    assert queued_for(session, event_id) == {subscribed, second_org}
    assert {other_event, paused, not_concerned}.isdisjoint(queued_for(session, event_id))
    delivery = session.exec(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == subscribed)
    ).one()
    assert (delivery.status, delivery.attempts, delivery.locked_until) == ("pending", 0, None)


def test_an_event_without_subscribers_is_recorded_with_no_deliveries(session):
    event_id = service.emit(
        session, event_type="case.housed", organisation_ids=[], data={"case_id": "c"}
    )
    assert session.get(WebhookEvent, event_id) is not None
    assert queued_for(session, event_id) == set()


def test_emit_refuses_unknown_event_types_and_non_json_data(session):
    with pytest.raises(ValueError, match="unknown webhook event type"):
        service.emit(session, event_type="case.created", organisation_ids=[], data={})
    with pytest.raises(PydanticSerializationError):
        service.emit(session, event_type="case.housed", organisation_ids=[], data={"x": object()})


def test_event_data_is_stored_as_json_and_sent_in_the_standard_webhooks_shape(session):
    case_id = uuid.uuid4()
    event_id = service.emit(
        session,
        event_type="case.housed",
        organisation_ids=[],
        data={"case_id": case_id, "housed_on": None},
    )
    stored = session.get(WebhookEvent, event_id)
    assert stored is not None
    assert stored.data == {"case_id": str(case_id), "housed_on": None}

    body = json.loads(event_body(stored.type, stored.occurred_at, stored.data))
    assert body["type"] == "case.housed"
    assert body["data"] == {"case_id": str(case_id), "housed_on": None}
    assert body["timestamp"].endswith("Z")
    assert body["timestamp"].startswith(stored.occurred_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_the_event_types_are_the_four_of_the_issue_the_stall_alert_and_aftercares():
    from app.webhooks.models import EventType

    assert service.EVENT_TYPES == (
        "agenda.published",
        "proposal.decided",
        "action.assigned",
        "case.housed",
        "proposal.stalled",
        "aftercare.checkpoint_due",
        "aftercare.signal_raised",
    )
    assert {e.value for e in EventType} == set(service.EVENT_TYPES)


def test_an_event_is_stored_with_the_callers_transaction_or_not_at_all(outbox):
    org = outbox.organisation()
    outbox.endpoint("https://x.example/h", org)

    with pytest.raises(RuntimeError), outbox.transaction() as session:
        lost = service.emit(session, event_type="agenda.published", organisation_ids=[org], data={})
        raise RuntimeError("the caller's change failed")
    kept = outbox.emit(org)

    with outbox.transaction() as session:
        assert session.get(WebhookEvent, lost) is None
        assert session.get(WebhookEvent, kept) is not None
        events = {d.event_id for d in session.exec(select(WebhookDelivery))}
    assert events == {kept}
