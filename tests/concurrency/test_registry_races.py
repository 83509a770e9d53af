"""Registry writes from clients that overlap and retry, against two servers on one database."""

import random
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from tests.concurrency.conftest import Cluster, Table, at_once, case_file, dwelling, new_table
from tests.conftest import Org

pytestmark = pytest.mark.xdist_group("two_servers")

CLIENTS = 8
BATCHES_PER_CLIENT = 3
REFERENCES = 40
PER_BATCH = 25


def test_overlapping_batches_store_every_write_once_and_report_it_exactly(cluster: Cluster):
    table = new_table(cluster, "GM0344")
    refs = [f"V-{i:03d}-{uuid.uuid4().hex[:6]}" for i in range(REFERENCES)]
    rng = random.Random(10)
    plans = []  # per client, its batches: (rent, references in the order sent)
    for client in range(CLIENTS):
        batches = []
        for batch in range(BATCHES_PER_CLIENT):
            chosen = rng.sample(refs, PER_BATCH)  # shuffled: overlapping sets in other orders
            rent = f"{500 + client * 10 + batch}.00"  # every batch writes content of its own
            batches.append((rent, chosen))
        plans.append(batches)

    def push(client: int) -> list[tuple[str, dict]]:
        api = cluster.client(table.corporation, client)
        answers = []
        for rent, chosen in plans[client]:
            items = [dwelling("GM0344", external_ref=ref, rent={"base": rent}) for ref in chosen]
            response = api.post("/v1/vacancies/batch", json={"items": items})
            assert response.status_code == 200, response.text
            answers.append((rent, response.json()))
        api.close()
        return answers

    results = at_once([lambda c=c: push(c) for c in range(CLIENTS)])

    assert cluster.journal.failures() == [], cluster.server_log()
    outcomes: dict[str, Counter[str]] = {ref: Counter() for ref in refs}
    acknowledged: dict[str, set[str]] = {ref: set() for ref in refs}
    for answers in results:
        for rent, answer in answers:
            assert answer["created"] + answer["updated"] + answer["unchanged"] == PER_BATCH
            for item in answer["items"]:
                outcomes[item["external_ref"]][item["outcome"]] += 1
                acknowledged[item["external_ref"]].add(rent)
    with cluster.engine.connect() as connection:
        stored = {
            ref: (version, rent_cents)
            for ref, version, rent_cents in connection.execute(
                text(
                    "SELECT external_ref, version, rent_base FROM vacancies "
                    "WHERE corporation_id = :corporation"
                ),
                {"corporation": table.corporation.id},
            )
        }
    for ref in refs:
        sent = sum(ref in chosen for batches in plans for _, chosen in batches)
        if sent == 0:
            assert ref not in stored
            continue
        # Created by exactly one batch; every other batch changed the rent, so each one is an
        # update that moved the version by one: no write lost, none counted twice.
        assert outcomes[ref] == Counter(created=1, updated=sent - 1), ref
        version, rent_cents = stored[ref]
        assert version == sent, ref
        assert f"{rent_cents / 100:.2f}" in acknowledged[ref], ref


def test_the_same_idempotency_key_at_once_creates_one_case_and_replays_it(cluster: Cluster):
    table = new_table(cluster, "GM0307")
    body = case_file(table.id)
    key = f"create-{uuid.uuid4()}"

    def create(client: int) -> tuple[int, dict, dict]:
        api = cluster.client(table.care_provider, client)
        response = api.post("/v1/cases", json=body, headers={"Idempotency-Key": key})
        api.close()
        return response.status_code, response.json(), dict(response.headers)

    answers = at_once([lambda c=c: create(c) for c in range(6)])

    assert cluster.journal.failures() == [], cluster.server_log()
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200, 200, 200, 200, 200, 201]
    assert len({answer["id"] for _, answer, _ in answers}) == 1
    replays = [headers for status, _, headers in answers if status == 200]
    assert all(headers.get("idempotent-replayed") == "true" for headers in replays)
    with cluster.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM cases WHERE care_provider_id = :cp AND external_ref = :r"),
            {"cp": table.care_provider.id, "r": body["external_ref"]},
        ).scalar()
    assert count == 1


def _registered_once(cluster: Cluster, care_provider: Org, body: dict) -> dict:
    """Post the case file six times at once across both servers: one 201, and five 409
    `duplicate_external_ref` naming the created case. Returns the created case."""

    def create(client: int) -> tuple[int, dict]:
        api = cluster.client(care_provider, client)
        response = api.post("/v1/cases", json=body)
        api.close()
        return response.status_code, response.json()

    answers = at_once([lambda c=c: create(c) for c in range(6)])

    assert cluster.journal.failures() == [], cluster.server_log()
    assert sorted(status for status, _ in answers) == [201, 409, 409, 409, 409, 409]
    created = next(answer for status, answer in answers if status == 201)
    refusals = [answer for status, answer in answers if status == 409]
    assert all(a["code"] == "duplicate_external_ref" for a in refusals)
    assert {a["existing_id"] for a in refusals} == {created["id"]}
    return created


def test_the_same_reference_at_once_creates_one_case_and_refuses_the_others(cluster: Cluster):
    table = new_table(cluster, "GM0353")
    _registered_once(cluster, table.care_provider, case_file(table.id))


def _closed_case(cluster: Cluster, table: Table) -> dict:
    """A case of the table's care provider, registered and withdrawn."""
    api = cluster.client(table.care_provider, 0)
    closed = api.post("/v1/cases", json=case_file(table.id)).json()
    withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
    assert api.patch(f"/v1/cases/{closed['id']}", json=withdrawn).status_code == 200
    api.close()
    return closed


def test_a_returning_client_registered_at_once_is_registered_once(cluster: Cluster):
    table = new_table(cluster, "GM0398")
    closed = _closed_case(cluster, table)
    body = case_file(table.id) | {
        "external_ref": closed["external_ref"],
        "previous_case_id": closed["id"],
    }
    created = _registered_once(cluster, table.care_provider, body)
    assert created["previous_case_id"] == closed["id"]


def test_a_returning_client_registered_at_once_at_two_tables_is_registered_once(
    cluster: Cluster,
):
    """A closed case may be followed at any of the care provider's tables (a client back in
    another region): two returns from it at once, at the old table and at another, register
    one case (201) and refuse the other (409 naming it), on either server."""
    old = new_table(cluster, "GM0402")
    other = new_table(cluster, "GM0403", seated=old)
    closed = _closed_case(cluster, old)
    follows = {"external_ref": closed["external_ref"], "previous_case_id": closed["id"]}

    def create(client: int) -> tuple[int, dict]:
        table_id = old.id if client % 2 == 0 else other.id
        api = cluster.client(old.care_provider, client)
        response = api.post("/v1/cases", json=case_file(table_id) | follows)
        api.close()
        return response.status_code, response.json()

    answers = at_once([lambda c=c: create(c) for c in range(4)])

    assert cluster.journal.failures() == [], cluster.server_log()
    assert sorted(status for status, _ in answers) == [201, 409, 409, 409]
    created = next(answer for status, answer in answers if status == 201)
    assert created["previous_case_id"] == closed["id"]
    refusals = [answer for status, answer in answers if status == 409]
    assert {a["existing_id"] for a in refusals} == {created["id"]}


def test_the_same_batch_with_one_key_at_once_is_stored_once(cluster: Cluster):
    table = new_table(cluster, "GM0363")
    items = [dwelling("GM0363") for _ in range(50)]
    key = f"batch-{uuid.uuid4()}"

    def push(client: int) -> dict:
        api = cluster.client(table.corporation, client)
        response = api.post(
            "/v1/vacancies/batch", json={"items": items}, headers={"Idempotency-Key": key}
        )
        api.close()
        assert response.status_code == 200, response.text
        return response.json()

    answers = at_once([lambda c=c: push(c) for c in range(4)])

    assert cluster.journal.failures() == [], cluster.server_log()
    # Every client gets the first answer: 50 created, not a later "unchanged" run.
    assert [answer["created"] for answer in answers] == [50, 50, 50, 50]
    assert len({tuple(i["id"] for i in answer["items"]) for answer in answers}) == 1
