"""API keys raced by clients of two servers on one database: a key revoked twice at once keeps
the time of the revocation that came first, and a key being revoked issues no new key, registers
no webhook endpoint and rotates no webhook secret after its revocation committed."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.principal import hash_api_key
from tests.cli import run_cli
from tests.concurrency.conftest import Client, Cluster, new_org
from tests.conftest import OPERATOR, Org
from tests.locks import commit_after_it_waits, wait_until_sessions_wait_for_locks

pytestmark = pytest.mark.xdist_group("two_servers")

FIRST_REVOCATION = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def key_to_revoke(cluster: Cluster) -> tuple[Org, Client, str]:
    """A new care provider, the operator's client of the first server, and a key it issued."""
    org = new_org(cluster, "care_provider")
    operator = cluster.client(None, 0)
    issued = operator.post(f"/v1/organizations/{org.id}/api-keys", json={"label": "twice"})
    assert issued.status_code == 201, issued.text
    return org, operator, issued.json()["id"]


def revoked_first(key_id: str) -> Callable[[Session], None]:
    """The revocation that commits first, at FIRST_REVOCATION, in the transaction the other
    waits for."""

    def revoke(session: Session) -> None:
        session.connection().execute(
            text("UPDATE api_keys SET revoked_at = :at WHERE id = :k"),
            {"at": FIRST_REVOCATION, "k": key_id},
        )

    return revoke


def test_a_key_revoked_while_another_revocation_commits_keeps_the_first_revocation_time(
    cluster: Cluster,
):
    """A second revocation that read the key before the first one committed leaves the first's
    `revoked_at` as it was (a key revoked already keeps its first revocation time), instead of
    overwriting it with its own later time."""
    org, operator, key_id = key_to_revoke(cluster)
    answers = []

    def second_revocation() -> None:
        api = cluster.client(None, 1)
        answers.append(api.delete(f"/v1/organizations/{org.id}/api-keys/{key_id}").status_code)
        api.close()

    commit_after_it_waits(cluster.engine, revoked_first(key_id), second_revocation)
    shown = operator.get(f"/v1/organizations/{org.id}/api-keys/{key_id}")
    operator.close()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert (answers, shown.json()["revoked_at"]) == ([204], "2026-11-30T09:00:00Z")


def test_a_key_revoked_while_it_issues_a_key_issues_none_after_its_revocation(cluster: Cluster):
    """A stolen key that asks for a new key as its organisation revokes it: the issuance read the
    key as live, then waited (here for the organisation's row) while the revocation committed.
    It must not go on to issue a key that outlives the revocation (401 as for a revoked key),
    and the organisation's keys then are the one it kept."""
    org = new_org(cluster, "care_provider")
    operator = cluster.client(None, 0)
    stolen = operator.post(f"/v1/organizations/{org.id}/api-keys", json={"label": "stolen"})
    assert stolen.status_code == 201, stolen.text
    answers = []

    def revoke_and_hold_the_organisation(session: Session) -> None:
        connection = session.connection()
        connection.execute(
            text("SELECT id FROM organisations WHERE id = :o FOR UPDATE"), {"o": org.id}
        )
        connection.execute(
            text("UPDATE api_keys SET revoked_at = now() WHERE id = :k"),
            {"k": stolen.json()["id"]},
        )

    def issue_with_the_stolen_key() -> None:
        thief = httpx.Client(
            base_url=cluster.bases[1],
            headers={"Authorization": f"Bearer {stolen.json()['key']}"},
            timeout=120,
        )
        answers.append(
            thief.post(f"/v1/organizations/{org.id}/api-keys", json={"label": "mine"}).status_code
        )
        thief.close()

    commit_after_it_waits(
        cluster.engine, revoke_and_hold_the_organisation, issue_with_the_stolen_key
    )
    keys = operator.get(f"/v1/organizations/{org.id}/api-keys").json()["items"]
    operator.close()
    unrevoked = sorted(k["label"] for k in keys if k["revoked_at"] is None)
    assert (answers, unrevoked) == ([401], ["concurrency"])


def test_a_key_revoked_on_the_command_line_while_another_revocation_commits_keeps_its_time(
    cluster: Cluster,
):
    """`uitstroomtafel revoke-key` as an API revocation of the same key commits: the key keeps
    the time of the revocation that came first, as two revocations over the API do."""
    org, operator, key_id = key_to_revoke(cluster)
    printed = []

    def on_the_command_line() -> None:
        url = cluster.engine.url.render_as_string(hide_password=False)
        printed.append(run_cli(url, "revoke-key", key_id))

    commit_after_it_waits(cluster.engine, revoked_first(key_id), on_the_command_line)
    shown = operator.get(f"/v1/organizations/{org.id}/api-keys/{key_id}")
    operator.close()
    assert (printed, shown.json()["revoked_at"]) == (
        [f"API key {key_id} was already revoked at 2026-11-30 09:00:00 UTC; nothing changed.\n"],
        "2026-11-30T09:00:00Z",
    )


def thief_of(cluster: Cluster, org: Org) -> httpx.Client:
    """A client of the second server holding `org`'s key, as one who stole it would."""
    return httpx.Client(base_url=cluster.bases[1], headers=org.headers, timeout=120)


def revoke_holding(org: Org, rows: str) -> Callable[[Session], None]:
    """A revocation of `org`'s key in a transaction that holds `rows` first (`SELECT ... FOR
    UPDATE` naming the rows), so a request waiting for those rows waits for the revocation's
    commit: the request read the key as live before the revocation committed."""

    def revoke(session: Session) -> None:
        connection = session.connection()
        connection.execute(text(rows), {"o": org.id})
        connection.execute(
            text("UPDATE api_keys SET revoked_at = now() WHERE key_hash = :h"),
            {"h": hash_api_key(org.key)},
        )

    return revoke


def test_a_key_revoked_while_it_registers_a_webhook_endpoint_registers_none(cluster: Cluster):
    """A stolen key that registers a webhook endpoint as its organisation revokes it: the
    registration waited for the organisation's row while the revocation committed. It must not
    go on to register an endpoint (events with case ids sent to the thief's URL) that the
    organisation, listing its endpoints after the revocation, does not see yet: 401 as for a
    revoked key, and no endpoint."""
    org = new_org(cluster, "care_provider")
    answers = []

    def register() -> None:
        thief = thief_of(cluster, org)
        hook = {"url": "https://thief.example.nl/in", "events": ["proposal.decided"]}
        answers.append(thief.post("/v1/webhooks", json=hook).status_code)
        thief.close()

    hold = revoke_holding(org, "SELECT id FROM organisations WHERE id = :o FOR UPDATE")
    commit_after_it_waits(cluster.engine, hold, register)
    with cluster.engine.connect() as connection:
        endpoints = connection.execute(
            text("SELECT count(*) FROM webhook_endpoints WHERE organisation_id = :o"),
            {"o": org.id},
        ).scalar_one()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert (answers, endpoints) == ([401], 0)


def test_a_key_revoked_while_it_rotates_a_webhook_secret_rotates_nothing(cluster: Cluster):
    """A stolen key that rotates an endpoint's signing secret as its organisation revokes it
    (waiting for the endpoint's row meanwhile) must not go on to set a secret that only the
    thief was shown: 401 as for a revoked key, and the secret stays as it was."""
    org = new_org(cluster, "care_provider")
    owner = cluster.client(org, 0)
    hook = {"url": "https://hooks.example.nl/in", "events": ["proposal.decided"]}
    created = owner.post("/v1/webhooks", json=hook)
    owner.close()
    assert created.status_code == 201, created.text
    endpoint = created.json()
    answers = []

    def rotate() -> None:
        thief = thief_of(cluster, org)
        rotated = thief.post(f"/v1/webhooks/{endpoint['id']}/secret-rotations")
        answers.append(rotated.status_code)
        thief.close()

    hold = revoke_holding(
        org, "SELECT id FROM webhook_endpoints WHERE organisation_id = :o FOR UPDATE"
    )
    commit_after_it_waits(cluster.engine, hold, rotate)
    with cluster.engine.connect() as connection:
        secret = connection.execute(
            text("SELECT secret FROM webhook_endpoints WHERE id = :e"), {"e": endpoint["id"]}
        ).scalar_one()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert (answers, secret) == ([401], endpoint["secret"])


def two_endpoints_and_the_key(cluster: Cluster, org: Org) -> tuple[list[dict[str, str]], str]:
    """Two webhook endpoints `org` registers, and the id of its key."""
    owner = cluster.client(org, 0)
    hook = {"url": "https://hooks.example.nl/in", "events": ["proposal.decided"]}
    endpoints = [owner.post("/v1/webhooks", json=hook).json() for _ in range(2)]
    key_id = owner.get("/v1/me").json()["api_key_id"]
    owner.close()
    return endpoints, key_id


def test_a_revocation_is_not_held_off_by_the_writes_its_key_starts_while_it_waits(
    cluster: Cluster,
):
    """A thief keeping writes under way with a stolen key (each started while the one before
    still runs) must not hold its revocation off: a write that starts while the revocation waits
    for the writes under way does not start (503 with Retry-After; a retry after the revocation
    gets 401). Else the revocation (the API's DELETE, `revoke-key`) waited as long as the thief
    kept one write going, the key writing on unrevoked all the while: PostgreSQL lets a FOR
    SHARE join the holders of a row's share lock ahead of a FOR UPDATE waiting for them."""
    org = new_org(cluster, "care_provider")
    endpoints, key_id = two_endpoints_and_the_key(cluster, org)
    answers: dict[str, int] = {}
    steps: list[str] = []

    def rotate(n: int) -> None:
        answers[f"write {n}"] = rotate_with_the_stolen_key(cluster, org, endpoints[n]).status_code

    def revoke() -> None:
        operator = httpx.Client(base_url=cluster.bases[0], headers=OPERATOR, timeout=120)
        revoked = operator.delete(f"/v1/organizations/{org.id}/api-keys/{key_id}")
        answers["revocation"] = revoked.status_code
        steps.append("revoked")
        operator.close()

    holding_endpoint = "SELECT id FROM webhook_endpoints WHERE id = :e FOR UPDATE"
    with Session(cluster.engine) as first, Session(cluster.engine) as second:
        first.connection().execute(text(holding_endpoint), {"e": endpoints[0]["id"]})
        second.connection().execute(text(holding_endpoint), {"e": endpoints[1]["id"]})
        threads = [
            threading.Thread(target=rotate, args=(0,)),  # under way, waits for `first`
            threading.Thread(target=revoke),  # waits for write 0
            threading.Thread(target=rotate, args=(1,)),  # starts while the revocation waits
        ]
        for waiting, thread in enumerate(threads, start=1):
            thread.start()
            wait_until_sessions_wait_for_locks([first, second], thread, waiting)
        first.commit()  # write 0 ends; the revocation must not wait for write 1 as well
        threads[1].join(timeout=60)
        steps.append("write 1 let go")
        second.commit()
        for thread in threads:
            thread.join(timeout=120)
    with cluster.engine.connect() as connection:
        secret = connection.execute(
            text("SELECT secret FROM webhook_endpoints WHERE id = :e"), {"e": endpoints[1]["id"]}
        ).scalar_one()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert (steps, answers, secret) == (
        ["revoked", "write 1 let go"],
        {"write 0": 200, "revocation": 204, "write 1": 503},
        endpoints[1]["secret"],
    )


def rotate_with_the_stolen_key(
    cluster: Cluster, org: Org, endpoint: dict[str, str]
) -> httpx.Response:
    """A rotation of `endpoint`'s secret by a thief holding `org`'s key (second server)."""
    thief = thief_of(cluster, org)
    try:
        return thief.post(f"/v1/webhooks/{endpoint['id']}/secret-rotations")
    finally:
        thief.close()


HOLDING_ENDPOINT = "SELECT id FROM webhook_endpoints WHERE id = :e FOR UPDATE"


def another_organisation_asks(
    cluster: Cluster, other: Org, answers: dict[str, httpx.Response]
) -> threading.Thread:
    """`other`'s `GET /v1/me` on the first server (`answers["other"]`), waited for up to a
    minute: its thread, still alive if the server did not answer meanwhile."""

    def ask() -> None:
        client = httpx.Client(base_url=cluster.bases[0], headers=other.headers, timeout=120)
        answers["other"] = client.get("/v1/me")
        client.close()

    asking = threading.Thread(target=ask)
    asking.start()
    asking.join(timeout=60)
    return asking


def test_writes_sent_while_their_key_is_revoked_leave_the_server_to_other_organisations(
    cluster: Cluster,
):
    """A key's revocation waits for the key's writes under way, here one held up (a slow write);
    the writes the key sends meanwhile must not wait for the revocation: each such wait held
    one of the server's request slots (4), so three of them beside the revocation stalled every
    request of every organisation on that server until the slow write ended (another
    organisation's `GET /v1/me` waited as long as the write was held). They are answered 503
    with Retry-After at once, and the server answers the others meanwhile."""
    org = new_org(cluster, "care_provider")
    other = new_org(cluster, "housing_corporation")
    endpoints, key_id = two_endpoints_and_the_key(cluster, org)
    answers: dict[str, httpx.Response] = {}

    def slow_write() -> None:
        answers["slow write"] = rotate_with_the_stolen_key(cluster, org, endpoints[0])

    def revoke() -> None:
        operator = httpx.Client(base_url=cluster.bases[0], headers=OPERATOR, timeout=120)
        answers["revocation"] = operator.delete(f"/v1/organizations/{org.id}/api-keys/{key_id}")
        operator.close()

    def write_meanwhile(n: int) -> None:
        thief = httpx.Client(base_url=cluster.bases[0], headers=org.headers, timeout=120)
        rotated = thief.post(f"/v1/webhooks/{endpoints[1]['id']}/secret-rotations")
        answers[f"write {n}"] = rotated
        thief.close()

    with Session(cluster.engine) as holder:
        holder.connection().execute(text(HOLDING_ENDPOINT), {"e": endpoints[0]["id"]})
        threads = [threading.Thread(target=slow_write), threading.Thread(target=revoke)]
        threads += [threading.Thread(target=write_meanwhile, args=(n,)) for n in range(3)]
        for waiting, thread in enumerate(threads, start=1):
            thread.start()
            wait_until_sessions_wait_for_locks(holder, thread, waiting)
        asking = another_organisation_asks(cluster, other, answers)
        answered_while_held = not asking.is_alive()
        holder.commit()
        for thread in [*threads, asking]:
            thread.join(timeout=120)
    meanwhile = [
        (answers[f"write {n}"].status_code, answers[f"write {n}"].headers.get("Retry-After"))
        for n in range(3)
    ]
    assert cluster.journal.failures() == [], cluster.server_log()
    assert answered_while_held, "another organisation waited for the key's revocation"
    assert (meanwhile, answers["other"].status_code) == ([(503, "1")] * 3, 200)
    assert (answers["slow write"].status_code, answers["revocation"].status_code) == (200, 204)


def test_revocations_retried_while_the_first_waits_take_no_more_of_the_server(cluster: Cluster):
    """A revocation waits for the key's writes under way, here a slow one. Its client gives up
    (a timeout) and sends the revocation again, three times: each retry waited for the same
    write beside the one before (still waiting, its client gone), one of the server's 4 request
    slots each, so the key's owner stalled every request of every organisation on that server
    just by retrying (another organisation's `GET /v1/me` waited as long as the write was
    held). A retry must not add a waiting revocation to the one under way: it is answered at
    once (503 with Retry-After) and one revocation waits; when it has committed, a retry gets
    its 204 and the key stays revoked, and nothing is left behind that holds up the
    organisation's other key."""
    org = new_org(cluster, "care_provider")
    other = new_org(cluster, "housing_corporation")
    endpoints, key_id = two_endpoints_and_the_key(cluster, org)
    answers: dict[str, httpx.Response] = {}
    url = f"/v1/organizations/{org.id}/api-keys/{key_id}"

    def slow_write() -> None:
        answers["slow write"] = rotate_with_the_stolen_key(cluster, org, endpoints[0])

    def revoke(n: int) -> None:
        operator = httpx.Client(base_url=cluster.bases[0], headers=OPERATOR, timeout=120)
        answers[f"revocation {n}"] = operator.delete(url)
        operator.close()

    with Session(cluster.engine) as holder:
        holder.connection().execute(text(HOLDING_ENDPOINT), {"e": endpoints[0]["id"]})
        writing = threading.Thread(target=slow_write)
        writing.start()
        wait_until_sessions_wait_for_locks(holder, writing, 1)
        revocations: list[threading.Thread] = []
        for n in range(4):  # the first, and three retries after its client gave up
            revocations.append(threading.Thread(target=revoke, args=(n,)))
            revocations[-1].start()
            for thread in revocations:  # a retry answered at once has ended
                thread.join(timeout=0.5 if thread is revocations[-1] else 0)
            waiting = sum(thread.is_alive() for thread in revocations)
            wait_until_sessions_wait_for_locks(holder, revocations[-1], 1 + waiting)
        asking = another_organisation_asks(cluster, other, answers)
        answered_while_held = not asking.is_alive()
        holder.commit()
        for thread in [writing, *revocations, asking]:
            thread.join(timeout=120)
    again = httpx.Client(base_url=cluster.bases[1], headers=OPERATOR, timeout=120)
    answers["after"] = again.delete(url)
    spare = again.post(f"/v1/organizations/{org.id}/api-keys", json={"label": "spare"}).json()
    again.close()
    with httpx.Client(
        base_url=cluster.bases[0], headers={"Authorization": f"Bearer {spare['key']}"}, timeout=30
    ) as owner:
        answers["spare key writes"] = owner.post(
            f"/v1/webhooks/{endpoints[1]['id']}/secret-rotations"
        )
    retries = [answers[f"revocation {n}"] for n in range(1, 4)]
    assert answered_while_held, "another organisation waited for the retried revocations"
    assert [(r.status_code, r.headers.get("Retry-After")) for r in retries] == [(503, "1")] * 3
    assert (answers["slow write"].status_code, answers["revocation 0"].status_code) == (200, 204)
    assert (answers["after"].status_code, answers["spare key writes"].status_code) == (204, 200)
    with cluster.engine.connect() as connection:
        revoked_at = connection.execute(
            text("SELECT revoked_at FROM api_keys WHERE id = :k"), {"k": key_id}
        ).scalar_one()
    assert revoked_at is not None
