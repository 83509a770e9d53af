"""Idempotency-Key: claimed before the effect, never stuck after a failure, expiring, and never
a second copy of a case file."""

import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from alembic import command
from sqlalchemy import create_engine, text
from sqlmodel import select

from app.access_log.models import AccessLogEntry
from app.idempotency import IdempotencyRecord, purge_expired
from app.migrate import alembic_config
from app.sqltypes import UTCDateTime, utcnow
from tests.api.helpers import assert_problem
from tests.conftest import case_body, vacancy_body


def post_case(client, org, body, key):
    return client.post("/v1/cases", json=body, headers={**org.headers, "Idempotency-Key": key})


def record(session, key: str) -> IdempotencyRecord:
    return session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).one()


def test_the_record_of_a_case_creation_holds_no_case_data(client, session, small_region):
    created = post_case(client, small_region.care_provider, case_body(small_region.table_id), "k1")
    stored = record(session, "k1")
    assert stored.response_body is None
    assert stored.resource_id == uuid.UUID(created.json()["id"])
    assert stored.response_headers == {
        "Location": created.headers["Location"],
        "ETag": created.headers["ETag"],
    }


def test_two_idempotency_keys_on_one_request_are_refused_and_nothing_is_created(
    client, small_region
):
    provider = small_region.care_provider
    headers = [*provider.headers.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    body = case_body(small_region.table_id)
    response = client.post("/v1/cases", json=body, headers=headers)
    problem = assert_problem(response, 400)
    [param] = problem["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == (
        "Idempotency-Key",
        "header",
        "repeated_parameter",
    )
    # Nothing was created: the same body with one of the keys is a first request.
    assert post_case(client, provider, body, "a").status_code == 201


@pytest.mark.parametrize("key", ["", "   "], ids=["empty", "blank"])
def test_an_empty_idempotency_key_is_refused_not_read_as_none(client, small_region, key):
    # (A server's HTTP parser strips the blanks around a value, so a blank key reaches it empty.)
    body = case_body(small_region.table_id)
    response = post_case(client, small_region.care_provider, body, key)
    problem = assert_problem(response, 400)
    assert [(p["name"], p["in"]) for p in problem["invalidParams"]] == [
        ("Idempotency-Key", "header")
    ]
    assert client.get("/v1/cases", headers=small_region.care_provider.headers).json()["items"] == []


def test_a_replayed_case_creation_shows_the_case_as_it_is_now(client, small_region):
    provider = small_region.care_provider
    body = case_body(small_region.table_id)
    created = post_case(client, provider, body, "k2").json()
    client.patch(
        f"/v1/cases/{created['id']}", json={"birth_year": 1985}, headers=provider.headers
    ).raise_for_status()
    replay = post_case(client, provider, body, "k2")
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["birth_year"] == 1985
    read = client.get(f"/v1/cases/{created['id']}", headers=provider.headers)
    assert replay.headers["ETag"] == read.headers["ETag"]
    assert replay.headers["ETag"].startswith(f'"{created["version"] + 1}-')
    assert replay.headers["Location"] == f"/v1/cases/{created['id']}"


def test_a_replayed_case_creation_is_logged_as_a_read(client, session, small_region):
    body = case_body(small_region.table_id)
    created = post_case(client, small_region.care_provider, body, "k3").json()
    post_case(client, small_region.care_provider, body, "k3")
    actions = session.exec(
        select(AccessLogEntry.action)
        .where(AccessLogEntry.case_id == uuid.UUID(created["id"]))
        .order_by(AccessLogEntry.id)
    ).all()
    assert actions == ["create", "read"]


def test_a_replay_checks_access_again(client, small_region):
    """The key belongs to the organisation: another one with the same key gets its own run."""
    body = case_body(small_region.table_id)
    post_case(client, small_region.care_provider, body, "k4")
    other = client.post(
        "/v1/cases",
        json=body,
        headers={**small_region.chair.headers, "Idempotency-Key": "k4"},
    )
    assert_problem(other, 403)


def test_a_failed_request_leaves_its_key_free(client, small_region, other_region):
    provider = small_region.care_provider
    refused = post_case(client, provider, case_body(other_region.table_id), "k5")
    assert_problem(refused, 400)
    retried = post_case(client, provider, case_body(small_region.table_id), "k5")
    assert retried.status_code == 201, retried.text


def test_an_expired_key_is_claimed_afresh(client, small_region, settings):
    provider = small_region.care_provider
    post_case(client, provider, case_body(small_region.table_id), "k6")
    ttl = settings.idempotency_ttl_hours
    with time_machine.travel(utcnow() + timedelta(hours=ttl, minutes=1), tick=True):
        again = post_case(client, provider, case_body(small_region.table_id), "k6")
    assert again.status_code == 201, again.text


def test_the_retention_job_deletes_expired_records(client, session, small_region, settings):
    post_case(client, small_region.care_provider, case_body(small_region.table_id), "k7")
    ttl = settings.idempotency_ttl_hours
    assert purge_expired(session, utcnow(), ttl) == 0
    assert purge_expired(session, utcnow() + timedelta(hours=ttl, minutes=1), ttl) == 1
    assert session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == "k7")).all() == []


def test_a_vacancy_answer_is_stored_and_replayed_as_it_was(client, small_region):
    corporation = small_region.corporation
    body = vacancy_body()
    headers = {**corporation.headers, "Idempotency-Key": "k8"}
    first = client.post("/v1/vacancies", json=body, headers=headers)
    client.post(
        "/v1/vacancies", json={**body, "rooms": 3}, headers=corporation.headers
    ).raise_for_status()
    replay = client.post("/v1/vacancies", json=body, headers=headers)
    assert replay.status_code == 200
    assert replay.json() == first.json()  # no case data: the first answer itself


@pytest.mark.settings(idempotency_wait_seconds=0.2)
def test_a_key_in_use_by_an_unfinished_request_answers_409_in_progress(
    client, engine, small_region
):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the second request waits and replays")
    provider = small_region.care_provider
    scope = client.get("/v1/me", headers=provider.headers).json()["organisation"]["id"]
    with engine.connect() as first_request:  # has claimed the key and not finished yet
        first_request.begin()
        first_request.execute(
            text(
                "INSERT INTO idempotency_records (id, scope, key, request_hash, "
                "response_headers, created_at) VALUES (:id, :scope, 'k9', 'x', '{}', now())"
            ),
            {"id": uuid.uuid4(), "scope": scope},
        )
        waiting = post_case(client, provider, case_body(small_region.table_id), "k9")
        first_request.rollback()  # the first request fails: its claim goes with it
    assert_problem(waiting, 409, "idempotency_key_in_progress")
    assert waiting.headers["Retry-After"] == "1"
    retried = post_case(client, provider, case_body(small_region.table_id), "k9")
    assert retried.status_code == 201, retried.text


def test_the_migration_turns_stored_case_files_into_references(databases):
    url = databases.new_url()
    config = alembic_config(url)
    command.upgrade(config, "0007_rate_limits")
    records = sa.table(
        "idempotency_records",
        sa.column("id", sa.Uuid()),
        sa.column("scope", sa.String()),
        sa.column("key", sa.String()),
        sa.column("request_hash", sa.String()),
        sa.column("status_code", sa.Integer()),
        sa.column("response_body", sa.JSON()),
        sa.column("response_headers", sa.JSON()),
        sa.column("resource_id", sa.Uuid()),
        sa.column("created_at", UTCDateTime()),
    )
    case_id = uuid.uuid4()
    case_answer = {"id": str(case_id), "facility": "beschermd_wonen", "household": {}}
    case_answer |= {"income": {}, "beschikking": {}}
    vacancy_answer = {"id": str(uuid.uuid4()), "rooms": 2}
    engine = create_engine(url)
    with engine.begin() as connection:
        for key, body in (("case", case_answer), ("vacancy", vacancy_answer)):
            connection.execute(
                sa.insert(records).values(
                    id=uuid.uuid4(),
                    scope="s",
                    key=key,
                    request_hash="h",
                    status_code=201,
                    response_body=body,
                    response_headers={},
                    created_at=utcnow(),
                )
            )
    command.upgrade(config, "heads")
    with engine.connect() as connection:
        rows = {
            row.key: row
            for row in connection.execute(
                sa.select(records.c.key, records.c.response_body, records.c.resource_id)
            )
        }
    engine.dispose()
    assert (rows["case"].response_body, rows["case"].resource_id) == (None, case_id)
    assert (rows["vacancy"].response_body, rows["vacancy"].resource_id) == (vacancy_answer, None)


def _batch(*refs: str) -> dict:
    return {"items": [{**vacancy_body(), "external_ref": ref} for ref in refs]}


def test_a_batch_answer_is_replayed_for_its_key_and_another_batch_is_refused(client, small_region):
    headers = {**small_region.corporation.headers, "Idempotency-Key": "k9"}
    first = client.post("/v1/vacancies/batch", json=_batch("B-1", "B-2"), headers=headers)
    assert first.status_code == 200, first.text
    replay = client.post("/v1/vacancies/batch", json=_batch("B-1", "B-2"), headers=headers)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    other = client.post("/v1/vacancies/batch", json=_batch("B-3"), headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")


def _reversed(value):
    """The same JSON value with every object's fields in reverse order."""
    if isinstance(value, dict):
        return {key: _reversed(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(item) for item in value]
    return value


def test_a_batch_retried_with_its_fields_in_another_order_replays(client, small_region):
    # A client may serialise its retry afresh: the same dwellings, their fields (and the
    # address's) in another order. That is the same request; only another batch is refused.
    headers = {**small_region.corporation.headers, "Idempotency-Key": "k10"}
    body = _batch("B-4", "B-5")
    assert list(_reversed(body)["items"][0]) != list(body["items"][0])
    first = client.post("/v1/vacancies/batch", json=body, headers=headers)
    assert first.status_code == 200, first.text
    retry = client.post("/v1/vacancies/batch", json=_reversed(body), headers=headers)
    assert retry.status_code == 200, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


def test_a_batch_key_is_fingerprinted_from_the_dwellings_it_validates_to(
    client, session, small_region
):
    # Whether the items came validated (a valid batch, app.vacancies.batch_body) or as sent,
    # the fingerprint is that of the dwellings: the model's fields in the model's order.
    import hashlib

    from app.vacancies.models import VacancyBatch, VacancyIn

    body = _batch("B-6")
    headers = {**small_region.corporation.headers, "Idempotency-Key": "k11"}
    client.post("/v1/vacancies/batch", json=_reversed(body), headers=headers).raise_for_status()
    items = [VacancyIn.model_validate(item) for item in body["items"]]
    sent = VacancyBatch.model_construct(items=items).model_dump_json()
    expected = hashlib.sha256(f"POST /v1/vacancies/batch\n{sent}".encode()).hexdigest()
    assert record(session, "k11").request_hash == expected


def _operations_taking_a_key(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    ]


def test_every_operation_taking_a_key_authenticates_before_it_reads_the_key(app, client):
    # The key's dependency does not depend on the caller (the route hands it over), so each
    # route must name its caller before the key: a stranger learns nothing about the key.
    operations = _operations_taking_a_key(app)
    assert len(operations) >= 10
    headers = [("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    for method, path in operations:
        url = path.format_map(defaultdict(lambda: str(uuid.uuid4())))
        response = client.request(method, "/v1" + url, json={}, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
