"""Two writes that must come one after the other, raced by clients of two servers on one
database: actions handed out while the minutes are marked final, and webhook secrets rotated
at once. Each holds its invariant in the database (a row lock), not in a process."""

import httpx
import pytest
from sqlalchemy import text

from tests.clock import iso
from tests.concurrency.conftest import Cluster, at_once, new_table
from tests.concurrency.test_meeting_races import publish

pytestmark = pytest.mark.xdist_group("two_servers")

HANDED_OUT = 3


def test_an_action_raced_against_final_minutes_is_in_them_or_refused(cluster: Cluster):
    """Each action naming the meeting is either in the final minutes or refused with 409
    `minutes_final`: none is stored where no minutes would ever show it."""
    outcomes = []
    for code in ("GM0080", "GM0081", "GM0082"):
        published = publish(cluster, new_table(cluster, code), code, 1)
        table, meeting_id = published.table, published.meeting_id

        def hand_out(server: int, table=table, meeting_id=meeting_id) -> httpx.Response:
            api = cluster.client(table.chair, server)
            body = {
                "kind": "request_beschikking",
                "owner_organisation_id": table.care_provider.id,
                "due_date": iso(7),
                "meeting_id": meeting_id,
            }
            response = api.post(f"/v1/tables/{table.id}/actions", json=body)
            api.close()
            return response

        def finalize(meeting_id=meeting_id, table=table) -> httpx.Response:
            api = cluster.client(table.chair, 1)
            response = api.post(f"/v1/meetings/{meeting_id}/minutes/final")
            api.close()
            return response

        *actions, final = at_once([lambda s=s: hand_out(s) for s in range(HANDED_OUT)] + [finalize])
        assert final.status_code == 200, final.text
        created = {r.json()["id"] for r in actions if r.status_code == 201}
        refused = [r.json()["code"] for r in actions if r.status_code != 201]
        in_minutes = {a["id"] for a in final.json()["actions"]}
        with cluster.engine.connect() as connection:
            stored = {
                str(row[0])
                for row in connection.execute(
                    text("SELECT id FROM actions WHERE meeting_id = :m"), {"m": meeting_id}
                )
            }
        outcomes.append(
            (
                created == in_minutes == stored,
                refused == ["minutes_final"] * (HANDED_OUT - len(created)),
            )
        )
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [(True, True)] * 3


def test_secret_rotations_at_once_each_replace_the_one_before(cluster: Cluster):
    """Four rotations without `If-Match` come one after the other: the stored secret is one
    that was shown, and the one signing beside it was shown too (not the secret the endpoint
    had before all of them, which a lost update would keep). With the same `If-Match`, one
    wins and the others get 412."""
    table = new_table(cluster, "GM0083")
    owner = cluster.client(table.corporation, 0)
    outcomes = []
    for if_match in (False, True):
        hook = {"url": "https://hooks.example.nl/in", "events": ["proposal.decided"]}
        created = owner.post("/v1/webhooks", json=hook)
        assert created.status_code == 201, created.text
        endpoint = created.json()
        headers = {"If-Match": created.headers["ETag"]} if if_match else {}

        def rotate(server: int, endpoint_id=endpoint["id"], headers=headers) -> httpx.Response:
            api = cluster.client(table.corporation, server)
            response = api.post(f"/v1/webhooks/{endpoint_id}/secret-rotations", headers=headers)
            api.close()
            return response

        responses = at_once([lambda s=s: rotate(s % 2) for s in range(4)])
        shown = {r.json()["secret"] for r in responses if r.status_code == 200}
        with cluster.engine.connect() as connection:
            secret, previous = connection.execute(
                text("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = :e"),
                {"e": endpoint["id"]},
            ).one()
        outcomes.append(
            (
                sorted(r.status_code for r in responses),
                secret in shown,
                previous in (shown - {secret} if not if_match else {endpoint["secret"]}),
            )
        )
    owner.close()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [([200] * 4, True, True), ([200, 412, 412, 412], True, True)]
