"""The POSTs that once took no `Idempotency-Key` (publishing a meeting, marking its minutes
final, creating a person): a retry after a lost answer with the key gets the first answer, the
same key for another request is refused, and a body sent where none is read is refused.

Found by the breaker: the key was silently ignored on these three, so a retry answered 409
(`already_published`, `minutes_final`, `duplicate_email`) for a request that had succeeded; and
`POST /v1/meetings/{id}/minutes/final -d '{"x":1}'` marked the minutes final, 200."""

import hashlib
import uuid

import pytest
from sqlmodel import select

from app.idempotency import IdempotencyRecord
from app.people.models import Person, PersonCreate
from app.people.security import verify_password
from tests.api.helpers import assert_problem
from tests.api.test_meetings import DATE, proposals, schedule
from tests.api.test_open_proposals import two_open_proposals
from tests.clock import iso
from tests.conftest import create_case, create_vacancy


def _stocked_meeting(client, region):  # type: ignore[no-untyped-def]
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=DATE)
    return schedule(client, region)["id"]


def test_a_publish_retried_with_its_key_gets_the_first_answer_and_publishes_once(client, region):
    meeting = _stocked_meeting(client, region)
    headers = region.chair.headers | {"Idempotency-Key": "publish-1"}
    first = client.post(f"/v1/meetings/{meeting}/publish", headers=headers)
    assert first.status_code == 200, first.text
    retried = client.post(f"/v1/meetings/{meeting}/publish", headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json() == first.json()
    assert retried.headers["ETag"] == first.headers["ETag"]
    assert len(proposals(client, region)) == 1


def test_a_publish_without_the_key_is_still_refused_a_second_time(client, region):
    meeting = _stocked_meeting(client, region)
    path = f"/v1/meetings/{meeting}/publish"
    first = client.post(path, headers=region.chair.headers | {"Idempotency-Key": "publish-2"})
    assert first.status_code == 200, first.text
    assert_problem(client.post(path, headers=region.chair.headers), 409, "already_published")


def test_a_publish_key_reused_on_another_meeting_is_422(client, region):
    first = _stocked_meeting(client, region)
    second = schedule(client, region, date=iso(-7))["id"]
    headers = region.chair.headers | {"Idempotency-Key": "publish-4"}
    assert client.post(f"/v1/meetings/{first}/publish", headers=headers).status_code == 200
    reused = client.post(f"/v1/meetings/{second}/publish", headers=headers)
    assert_problem(reused, 422, "idempotency_key_reused")
    read = client.get(f"/v1/meetings/{second}", headers=region.chair.headers)
    assert read.json()["status"] == "draft"


@pytest.mark.parametrize("body", ['{"x":1}', "null", "[]", '{"final": false}'])
def test_a_body_sent_to_publish_is_refused_and_publishes_nothing(client, region, body):
    meeting = _stocked_meeting(client, region)
    response = client.post(
        f"/v1/meetings/{meeting}/publish",
        content=body,
        headers=region.chair.headers | {"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 400, "validation_error")
    assert [(p["name"], p["in"]) for p in problem["invalidParams"]] == [("body", "body")]
    read = client.get(f"/v1/meetings/{meeting}", headers=region.chair.headers)
    assert read.json()["status"] == "draft"


@pytest.mark.parametrize("body", ["{}", " { } ", ""])
def test_an_empty_object_sent_to_publish_says_nothing_and_publishes(client, region, body):
    """HTTP libraries send `{}` with a JSON POST by default: it holds nothing publish would
    ignore, so it is no reason to refuse."""
    meeting = _stocked_meeting(client, region)
    response = client.post(
        f"/v1/meetings/{meeting}/publish",
        content=body,
        headers=region.chair.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    read = client.get(f"/v1/meetings/{meeting}", headers=region.chair.headers)
    assert read.json()["status"] == "published"


def test_a_body_to_publish_without_a_key_is_still_401_first(client, region):
    meeting = _stocked_meeting(client, region)
    response = client.post(f"/v1/meetings/{meeting}/publish", json={"x": 1})
    assert_problem(response, 401)


def test_final_minutes_retried_with_their_key_get_the_first_answer(client, region):
    last_week, _, _ = two_open_proposals(client, region)
    path = f"/v1/meetings/{last_week}/minutes/final"
    headers = region.chair.headers | {"Idempotency-Key": "final-1"}
    first = client.post(path, headers=headers)
    assert first.status_code == 200, first.text
    retried = client.post(path, headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json() == first.json()
    assert retried.headers["ETag"] == first.headers["ETag"]
    again = client.post(path, headers=region.chair.headers | {"Idempotency-Key": "final-2"})
    assert_problem(again, 409, "minutes_final")


def test_a_body_sent_to_final_minutes_is_refused_and_leaves_them_live(client, region):
    last_week, _, _ = two_open_proposals(client, region)
    refused = client.post(
        f"/v1/meetings/{last_week}/minutes/final", json={"x": 1}, headers=region.chair.headers
    )
    problem = assert_problem(refused, 400, "validation_error")
    assert [(p["name"], p["in"]) for p in problem["invalidParams"]] == [("body", "body")]
    minutes = client.get(f"/v1/meetings/{last_week}/minutes", headers=region.chair.headers)
    assert minutes.json()["final"] is False


def _person(**fields):  # type: ignore[no-untyped-def]
    return {"email": "anna@example.org", "display_name": "Anna", **fields}


def _people(client, org):  # type: ignore[no-untyped-def]
    listed = client.get(f"/v1/organizations/{org.id}/people", headers=org.headers)
    return [p["email"] for p in listed.json()["items"]]


def test_a_person_with_a_given_password_retried_with_the_key_is_the_same_person(client, region):
    org = region.care_provider
    path = f"/v1/organizations/{org.id}/people"
    headers = org.headers | {"Idempotency-Key": "person-1"}
    body = _person(password="a-long-enough-password-1")
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    retried = client.post(path, json=body, headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.headers["Location"] == first.headers["Location"]
    assert retried.headers["Cache-Control"] == "no-store"
    assert retried.json() == first.json()
    assert _people(client, org).count("anna@example.org") == 1


def test_a_person_key_reused_with_another_password_is_422(client, region):
    org = region.care_provider
    path = f"/v1/organizations/{org.id}/people"
    headers = org.headers | {"Idempotency-Key": "person-2"}
    made = client.post(path, json=_person(password="a-long-enough-password-1"), headers=headers)
    assert made.status_code == 201, made.text
    other = client.post(path, json=_person(password="a-long-enough-password-2"), headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")


def test_the_idempotency_record_of_a_person_holds_nothing_of_the_password(client, session, region):
    org = region.care_provider
    password = "a-long-enough-password-1"
    body = _person(password=password)
    headers = org.headers | {"Idempotency-Key": "person-3"}
    client.post(f"/v1/organizations/{org.id}/people", json=body, headers=headers)
    stored = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "person-3")
    ).one()
    assert stored.response_body is None
    assert password not in str(stored.response_headers)
    # Not a plain hash of the request as sent, from which a dictionary attack finds the password.
    as_sent = f"POST /v1/organizations/{org.id}/people\n{PersonCreate(**body).model_dump_json()}"
    assert stored.request_hash != hashlib.sha256(as_sent.encode()).hexdigest()


def test_a_person_with_a_generated_password_retried_with_the_key_is_named_not_made_again(
    client, region
):
    org = region.care_provider
    path = f"/v1/organizations/{org.id}/people"
    headers = org.headers | {"Idempotency-Key": "person-4"}
    first = client.post(path, json=_person(), headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["initial_password"]
    retried = client.post(path, json=_person(), headers=headers)
    problem = assert_problem(retried, 409, "person_created")
    assert problem["existing_id"] == first.json()["id"]
    assert retried.headers["Location"] == first.headers["Location"]
    assert first.json()["initial_password"] not in retried.text
    assert _people(client, org).count("anna@example.org") == 1


FIRST_PASSWORD, NEW_PASSWORD = "a-long-enough-password-1", "a-long-enough-password-2"


def _made_then_given_a_new_password(client, org, key):  # type: ignore[no-untyped-def]
    """A person created with `FIRST_PASSWORD` under `key`, then given `NEW_PASSWORD` (as an
    admin or the person may within the key's 24 hours); the creation's answer."""
    path = f"/v1/organizations/{org.id}/people"
    headers = org.headers | {"Idempotency-Key": key}
    first = client.post(path, json=_person(password=FIRST_PASSWORD), headers=headers)
    assert first.status_code == 201, first.text
    patch = {"password": NEW_PASSWORD}
    changed = client.patch(first.headers["Location"], json=patch, headers=org.headers)
    assert changed.status_code == 200, changed.text
    return first


def test_a_person_retried_after_a_new_password_gets_the_first_answer(client, region):
    """A client that lost the answer retries the creation unchanged, while the person (or an
    admin) already gave the account a new password: the retry is the first request, so it
    replays (it was 422, 'used for a different request', as the password was checked against
    the person's current hash)."""
    org = region.care_provider
    first = _made_then_given_a_new_password(client, org, "person-5")
    retried = client.post(
        f"/v1/organizations/{org.id}/people",
        json=_person(password=FIRST_PASSWORD),
        headers=org.headers | {"Idempotency-Key": "person-5"},
    )
    assert retried.status_code == 200, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.headers["Location"] == first.headers["Location"]
    assert retried.json()["id"] == first.json()["id"]
    assert retried.json()["initial_password"] is None
    assert _people(client, org).count("anna@example.org") == 1


def test_a_person_key_tells_nothing_of_the_new_password(client, session, region):
    """The key's retry answers the same whatever the person's password is now: only the first
    request's password replays, so the key is no oracle for a password chosen since (with the
    new one it answered 200 and with any other 422)."""
    org = region.care_provider
    first = _made_then_given_a_new_password(client, org, "person-6")
    for guess in (NEW_PASSWORD, "a-long-enough-password-3"):
        refused = client.post(
            f"/v1/organizations/{org.id}/people",
            json=_person(password=guess),
            headers=org.headers | {"Idempotency-Key": "person-6"},
        )
        assert_problem(refused, 422, "idempotency_key_reused")
    session.expire_all()
    person = session.get(Person, uuid.UUID(first.json()["id"]))
    assert person is not None
    assert verify_password(person.password_hash, NEW_PASSWORD)  # the new password stands


def test_a_person_key_recorded_before_the_secret_hash_is_checked_against_the_person(
    client, session, region
):
    """A record written before `secret_hash` existed (within the TTL of an upgrade) keeps the
    old check, against the person's own hash: the same password replays, another is a 422."""
    org = region.care_provider
    path = f"/v1/organizations/{org.id}/people"
    headers = org.headers | {"Idempotency-Key": "person-7"}
    body = _person(password=FIRST_PASSWORD)
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    record = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "person-7")
    ).one()
    assert record.secret_hash is not None
    record.secret_hash = None
    session.add(record)
    session.commit()
    assert client.post(path, json=body, headers=headers).status_code == 200
    other = client.post(path, json=_person(password=NEW_PASSWORD), headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
