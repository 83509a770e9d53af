"""One dwelling's reference pushed, or its dwelling withdrawn, by two clients of two servers at
the same moment (released together at a barrier): one row, every write counted once in its
version, the last writer's content stored and each answer's ETag one the dwelling had."""

from typing import Any

import httpx
import pytest

from tests.concurrency.conftest import Cluster, at_once, dwelling, new_table
from tests.concurrency.test_retry_safety_races import send

pytestmark = pytest.mark.xdist_group("two_servers")

ROUNDS = 3


def _push(cluster: Cluster, org: Any, server: int, body: dict, **headers: str) -> httpx.Response:
    return send(cluster, org, server, "POST", "/v1/vacancies", json=body, headers=headers)


def _offered(corporation: Any, code: str) -> tuple[dict, str, str, dict]:
    """A dwelling offered in `code`: (its body, its path, its ETag, the body with a new rent)."""
    body = dwelling(code)
    created = corporation.post("/v1/vacancies", json=body)
    assert created.status_code == 201, created.text
    changed = {**body, "rent": {**body["rent"], "base": "777.00"}}
    return body, created.headers["Location"], created.headers["ETag"], changed


def _push_and_withdraw(
    cluster: Cluster, org: Any, path: str, changed: dict, tag: str | None = None
) -> list[httpx.Response]:
    """`changed` pushed to one server and the dwelling at `path` withdrawn on the other, at
    once; with `tag`, both sent with it as `If-Match`."""
    headers = {} if tag is None else {"If-Match": tag}
    return at_once(
        [
            lambda: _push(cluster, org, 0, changed, **headers),
            lambda: send(cluster, org, 1, "DELETE", path, headers=headers),
        ]
    )


def test_one_new_reference_pushed_at_once_is_one_dwelling_created_then_updated(cluster: Cluster):
    """Pushes of one new reference with other rents to both servers: one 201, one 200 (the
    loser of the insert runs again and updates the row the winner made), one row at version
    2 holding the rent of the 200, whose ETag a GET then shows."""
    table = new_table(cluster, "GM0463")
    outcomes = []
    for _ in range(ROUNDS):
        body = dwelling("GM0463")

        def push(server: int, body: dict = body) -> httpx.Response:
            rent = {**body["rent"], "base": f"{600 + server}.00"}
            return _push(cluster, table.corporation, server, {**body, "rent": rent})

        responses = at_once([lambda s=s: push(s) for s in range(2)])
        [updated] = [r for r in responses if r.status_code == 200] or [responses[0]]
        current = send(cluster, table.corporation, 0, "GET", updated.headers["Location"])
        reference = body["external_ref"]
        listed = send(
            cluster, table.corporation, 1, "GET", f"/v1/vacancies?externalRef={reference}"
        )
        outcomes.append(
            (
                sorted(r.status_code for r in responses),
                len({r.json()["id"] for r in responses}),
                len(listed.json()["items"]),
                current.json()["version"],
                current.json()["rent"] == updated.json()["rent"],
                current.headers["ETag"] == updated.headers["ETag"],
            )
        )
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [([200, 201], 1, 1, 2, True, True)] * ROUNDS


def test_a_push_and_a_withdrawal_at_once_both_count(cluster: Cluster):
    """A push of a new rent and a DELETE of the same dwelling at once: both 2xx, the version
    up by two (neither write lost), and the status the later one left: withdrawn after the
    push, or on offer again when the push came after the withdrawal."""
    table = new_table(cluster, "GM0464")
    corporation = cluster.client(table.corporation, 0)
    outcomes = []
    for _ in range(ROUNDS):
        _, path, _, changed = _offered(corporation, "GM0464")
        pushed, withdrawn = _push_and_withdraw(cluster, table.corporation, path, changed)
        current = corporation.get(path).json()
        outcomes.append(
            (
                pushed.status_code,
                withdrawn.status_code,
                current["version"],
                current["rent"]["base"],
                current["status"] in ("available", "withdrawn"),
            )
        )
    corporation.close()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [(200, 204, 3, 777.0, True)] * ROUNDS


def test_one_etag_on_a_push_and_a_withdrawal_at_once_lets_one_in(cluster: Cluster):
    """A push and a DELETE with the ETag both read: one is taken, the other 412, and the
    dwelling shows the one taken (a withdrawal, or the pushed rent still on offer)."""
    table = new_table(cluster, "GM0465")
    corporation = cluster.client(table.corporation, 0)
    outcomes = []
    for _ in range(ROUNDS):
        _, path, tag, changed = _offered(corporation, "GM0465")
        pushed, withdrawn = _push_and_withdraw(cluster, table.corporation, path, changed, tag)
        current = corporation.get(path).json()
        shown = (
            (current["status"], current["rent"]["base"])
            if pushed.status_code == 200
            else (current["status"],)
        )
        expected = ("available", 777.0) if pushed.status_code == 200 else ("withdrawn",)
        outcomes.append(
            (
                sorted([pushed.status_code, withdrawn.status_code]) in ([200, 412], [204, 412]),
                current["version"],
                shown == expected,
            )
        )
    corporation.close()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [(True, 2, True)] * ROUNDS
