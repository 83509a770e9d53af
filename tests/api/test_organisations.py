"""Organisations and API keys: created by the operator, keys shown once, hashed, revocable."""

import hashlib
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from app.idempotency_records import IdempotencyRecord
from app.organisations.models import ApiKey
from app.principal import hash_api_key
from app.rate_limits import deps as rate_limit_deps
from app.sqltypes import utcnow
from tests.api.helpers import assert_problem, invalid_names, me
from tests.cli import run_cli
from tests.conftest import OPERATOR, make_org


@pytest.mark.parametrize("kind", ["municipality", "care_provider", "housing_corporation"])
def test_operator_creates_an_organisation_of_each_kind(client, kind):
    response = client.post(
        "/v1/organizations", json={"name": f"Org {kind}", "kind": kind}, headers=OPERATOR
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == f"Org {kind}"
    assert body["kind"] == kind
    assert uuid.UUID(body["id"])


def test_unknown_organisation_kind_is_rejected(client):
    response = client.post(
        "/v1/organizations", json={"name": "Ziekenhuis", "kind": "hospital"}, headers=OPERATOR
    )
    assert invalid_names(response) == ["kind"]


def test_organisation_key_cannot_create_organisations(client):
    municipality = make_org(client, "municipality")
    response = client.post(
        "/v1/organizations",
        json={"name": "Stiekem", "kind": "care_provider"},
        headers=municipality.headers,
    )
    assert_problem(response, 403)


def test_duplicate_organisation_name_conflicts(client):
    make_org(client, "municipality", name="Gemeente Utrecht")
    response = client.post(
        "/v1/organizations",
        json={"name": "Gemeente Utrecht", "kind": "municipality"},
        headers=OPERATOR,
    )
    assert_problem(response, 409)


def test_new_api_key_is_returned_once_with_its_id(client):
    org = make_org(client, "care_provider")
    response = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": "koppeling"}, headers=OPERATOR
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["key"]
    assert body["label"] == "koppeling"
    assert me(client, {"Authorization": f"Bearer {body['key']}"})["api_key_id"] == body["id"]


def test_a_retried_key_issuance_issues_no_second_key_and_names_the_first(client, session):
    org = make_org(client, "care_provider")
    path = f"/v1/organizations/{org.id}/api-keys"
    retry = {**org.headers, "Idempotency-Key": "sleutel-1"}
    first = client.post(path, json={"label": "koppeling"}, headers=retry)
    assert first.status_code == 201, first.text
    again = client.post(path, json={"label": "koppeling"}, headers=retry)
    problem = assert_problem(again, 409)
    assert problem["code"] == "api_key_issued"
    assert problem["existing_id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert first.json()["key"] not in again.text
    listing = client.get(path, headers=org.headers).json()["items"]
    assert sorted(k["id"] for k in listing) == sorted(
        [me(client, org.headers)["api_key_id"], first.json()["id"]]
    )
    stored = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "sleutel-1")
    ).one()
    assert first.json()["key"] not in json.dumps(stored.response_body)
    other = client.post(path, json={"label": "ander"}, headers=retry)
    assert assert_problem(other, 422)["code"] == "idempotency_key_reused"
    fresh = client.post(
        path, json={"label": "koppeling"}, headers={**org.headers, "Idempotency-Key": "sleutel-2"}
    )
    assert fresh.status_code == 201, fresh.text


def test_a_key_issuance_retried_with_the_id_written_otherwise_is_the_same_request(client):
    org = make_org(client, "care_provider")
    retry = {**org.headers, "Idempotency-Key": "sleutel-1"}
    first = client.post(f"/v1/organizations/{org.id}/api-keys", json={"label": "x"}, headers=retry)
    assert first.status_code == 201, first.text
    # Upper case is the same id (RFC 9562); a spelling the API never writes (no hyphens) is
    # no address of ours since 3235063: 404, issuing nothing.
    again = client.post(
        f"/v1/organizations/{org.id.upper()}/api-keys", json={"label": "x"}, headers=retry
    )
    assert assert_problem(again, 409)["existing_id"] == first.json()["id"]
    elsewhere = f"/v1/organizations/{org.id.replace('-', '')}/api-keys"
    assert_problem(client.post(elsewhere, json={"label": "x"}, headers=retry), 404, "not_found")


def test_the_location_of_an_issued_key_shows_it_without_the_key(client):
    org, other = make_org(client, "care_provider"), make_org(client, "care_provider")
    issued = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": "x"}, headers=org.headers
    )
    shown = client.get(issued.headers["Location"], headers=org.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["id"] == issued.json()["id"]
    assert shown.json()["label"] == "x"
    assert issued.json()["key"] not in shown.text and "key" not in shown.json()
    assert client.get(issued.headers["Location"], headers=OPERATOR).status_code == 200
    assert_problem(client.get(issued.headers["Location"], headers=other.headers), 404)
    elsewhere = f"/v1/organizations/{other.id}/api-keys/{issued.json()['id']}"
    assert_problem(client.get(elsewhere, headers=OPERATOR), 404)


def test_key_listing_never_shows_the_key(client):
    org = make_org(client, "care_provider")
    response = client.get(f"/v1/organizations/{org.id}/api-keys", headers=OPERATOR)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1
    assert "key" not in items[0]
    assert org.key not in response.text


def test_database_stores_only_a_hash_of_the_key(client, session):
    org = make_org(client, "care_provider")
    rows = session.exec(select(ApiKey).where(ApiKey.organisation_id == uuid.UUID(org.id))).all()
    assert len(rows) == 1
    assert rows[0].key_hash == hashlib.sha256(org.key.encode()).hexdigest()
    assert all(org.key not in str(value) for value in rows[0].model_dump().values())


def test_revoked_key_gets_401(client):
    org = make_org(client, "care_provider")
    key_id = me(client, org.headers)["api_key_id"]
    response = client.delete(f"/v1/organizations/{org.id}/api-keys/{key_id}", headers=OPERATOR)
    assert response.status_code == 204, response.text
    assert_problem(client.get("/v1/me", headers=org.headers), 401)


def test_revocation_shows_in_the_key_listing(client):
    org = make_org(client, "care_provider")
    key_id = me(client, org.headers)["api_key_id"]
    client.delete(f"/v1/organizations/{org.id}/api-keys/{key_id}", headers=OPERATOR)
    [item] = client.get(f"/v1/organizations/{org.id}/api-keys", headers=OPERATOR).json()["items"]
    assert item["revoked_at"] is not None


def test_last_used_at_is_set_once_the_key_is_used(client):
    org = make_org(client, "care_provider")
    listing = client.get(f"/v1/organizations/{org.id}/api-keys", headers=OPERATOR).json()
    assert listing["items"][0]["last_used_at"] is None
    client.get("/v1/me", headers=org.headers)
    listing = client.get(f"/v1/organizations/{org.id}/api-keys", headers=OPERATOR).json()
    assert listing["items"][0]["last_used_at"] is not None


def test_organisation_issues_a_key_for_itself(client):
    org = make_org(client, "housing_corporation")
    response = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": "rotatie"}, headers=org.headers
    )
    assert response.status_code == 201, response.text
    new_headers = {"Authorization": f"Bearer {response.json()['key']}"}
    assert me(client, new_headers)["organisation"]["id"] == org.id


def test_an_organisation_sees_which_of_its_keys_the_operator_issued(client):
    """The operator can issue a key for any organisation, and the key then acts as it: the
    organisation reads which keys it issued itself and which the operator did."""
    org = make_org(client, "care_provider")  # its first key issued by the operator
    own = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": "eigen"}, headers=org.headers
    )
    assert own.json()["issued_by"] == "organisation"

    listed = client.get(f"/v1/organizations/{org.id}/api-keys", headers=org.headers).json()

    assert {k["label"]: k["issued_by"] for k in listed["items"]} == {
        "test": "operator",
        "eigen": "organisation",
    }


def test_the_command_line_records_the_keys_it_issues(databases):  # type: ignore[no-untyped-def]
    url = databases.migrated_url()
    org = run_cli(url, "create-organisation", "Gemeente Zeewolde", "municipality").strip()
    run_cli(url, "create-key", org, "beheer")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            issued = connection.execute(text("SELECT issued_by FROM api_keys")).scalars().all()
    finally:
        engine.dispose()
    assert issued == ["command_line"]


def test_organisation_revokes_its_own_key(client):
    org = make_org(client, "housing_corporation")
    spare = client.post(
        f"/v1/organizations/{org.id}/api-keys", json={"label": "oud"}, headers=org.headers
    ).json()
    response = client.delete(
        f"/v1/organizations/{org.id}/api-keys/{spare['id']}", headers=org.headers
    )
    assert response.status_code == 204, response.text
    spare_headers = {"Authorization": f"Bearer {spare['key']}"}
    assert_problem(client.get("/v1/me", headers=spare_headers), 401)


def test_a_key_revoked_after_its_rate_limit_token_was_committed_makes_no_person(
    live_app, monkeypatch
):
    """Making a person takes a token of the caller's rate limit and commits it before the
    person is made, so the key was read as live in a transaction that has ended. A revocation
    committed in between must refuse the person (401, as for a revoked key): else a stolen key
    made a person with a password its thief knows after its organisation had revoked it, and
    the organisation, listing its people after the revocation, could have missed it."""
    with TestClient(live_app) as client:
        org = make_org(client, "care_provider")
        engine = live_app.state.engine
        take = rate_limit_deps._enforce

        def then_revoked(*args, **kwargs):  # type: ignore[no-untyped-def]
            take(*args, **kwargs)
            with Session(engine) as revoker:
                revoker.connection().execute(
                    text("UPDATE api_keys SET revoked_at = :now WHERE key_hash = :h"),
                    {"now": utcnow(), "h": hash_api_key(org.key)},
                )
                revoker.commit()

        monkeypatch.setattr(rate_limit_deps, "_enforce", then_revoked)
        person = {"email": "dief@zorg.nl", "display_name": "Dief", "password": "x" * 16}
        made = client.post(f"/v1/organizations/{org.id}/people", json=person, headers=org.headers)
        monkeypatch.undo()
        people = client.get(f"/v1/organizations/{org.id}/people", headers=OPERATOR)
    assert (made.status_code, people.json()["items"]) == (401, [])


def test_organisation_lists_its_own_keys(client):
    org = make_org(client, "municipality")
    response = client.get(f"/v1/organizations/{org.id}/api-keys", headers=org.headers)
    assert response.status_code == 200, response.text
    assert [k["organisation_id"] for k in response.json()["items"]] == [org.id]


def test_organisation_gets_404_creating_a_key_for_another(client):
    org, other = make_org(client, "municipality"), make_org(client, "municipality")
    response = client.post(
        f"/v1/organizations/{other.id}/api-keys", json={"label": "x"}, headers=org.headers
    )
    assert_problem(response, 404)


def test_organisation_gets_404_listing_another_organisations_keys(client):
    org, other = make_org(client, "municipality"), make_org(client, "municipality")
    response = client.get(f"/v1/organizations/{other.id}/api-keys", headers=org.headers)
    assert_problem(response, 404)


def test_organisation_gets_404_revoking_another_organisations_key(client):
    org, other = make_org(client, "municipality"), make_org(client, "municipality")
    other_key_id = me(client, other.headers)["api_key_id"]
    response = client.delete(
        f"/v1/organizations/{other.id}/api-keys/{other_key_id}", headers=org.headers
    )
    assert_problem(response, 404)
    assert me(client, other.headers)["organisation"]["id"] == other.id


def test_another_organisations_key_id_is_unknown_under_ones_own_path(client):
    org, other = make_org(client, "municipality"), make_org(client, "municipality")
    other_key_id = me(client, other.headers)["api_key_id"]
    response = client.delete(
        f"/v1/organizations/{org.id}/api-keys/{other_key_id}", headers=org.headers
    )
    assert_problem(response, 404)
    assert me(client, other.headers)["organisation"]["id"] == other.id


def test_me_names_the_organisation_and_key(client):
    org = make_org(client, "care_provider")
    body = me(client, org.headers)
    assert body["is_operator"] is False
    assert body["organisation"] == {
        "id": org.id,
        "name": org.name,
        "kind": "care_provider",
        "created_at": body["organisation"]["created_at"],
    }
    assert uuid.UUID(body["api_key_id"])


def test_me_for_the_operator(client):
    body = me(client, OPERATOR)
    assert body["is_operator"] is True
    assert body["organisation"] is None


def test_an_organisation_holds_at_most_ten_unrevoked_keys(client):
    """Each key has its own rate-limit budget: keys without end multiplied it."""
    org = make_org(client, "care_provider")  # holds one key already
    path = f"/v1/organizations/{org.id}/api-keys"
    issued = [client.post(path, json={"label": f"k{n}"}, headers=org.headers) for n in range(9)]
    assert [r.status_code for r in issued] == [201] * 9
    refused = client.post(path, json={"label": "one too many"}, headers=OPERATOR)
    assert assert_problem(refused, 409)["code"] == "too_many_api_keys"
    revoked = client.delete(f"{path}/{issued[0].json()['id']}", headers=OPERATOR)
    assert revoked.status_code == 204, revoked.text
    assert client.post(path, json={"label": "in its place"}, headers=OPERATOR).status_code == 201


def test_the_demo_run_again_revokes_its_earlier_keys(session):  # type: ignore[no-untyped-def]
    """As it gives each demo person a new password: twelve runs stay under the cap on keys."""
    import io

    from app.demo import load_demo

    for _ in range(12):
        load_demo(session, io.StringIO())
    keys = session.exec(select(ApiKey).where(ApiKey.label == "demo")).all()
    active = [k for k in keys if k.revoked_at is None]
    assert len(keys) == 12 * len(active) and len({k.organisation_id for k in active}) == len(active)
