"""An action changed by clients of two servers at once (its owner and the chair, with and without
`If-Match`, and a move of its case to another table): every change that was answered 200 and
changed the action is one transition of its history, in the order the changes were committed
(each one's `from` is the one before's `to`, and the n-th change is version n + 1), and a
refused or stale one (409, 412) leaves none (README: an action's history is kept whole,
`action_transitions`, written in the transaction of each change)."""

import random
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.clock import iso
from tests.concurrency.conftest import Cluster, Table, at_once, case_file, new_table
from tests.concurrency.test_retry_safety_races import send

pytestmark = pytest.mark.xdist_group("two_servers")

ROUNDS = 4


@pytest.fixture(scope="module")
def tables(cluster: Cluster) -> list[Table]:
    """Tables in GM0434 and GM0435 with the same chair, care provider and corporation."""
    first = new_table(cluster, "GM0434")
    return [first, new_table(cluster, "GM0435", seated=first)]


def new_action(cluster: Cluster, at: Table) -> tuple[str, str]:
    """A new case at `at` and an action about it owned by its care provider: (case, action)."""
    created = send(cluster, at.care_provider, 0, "POST", "/v1/cases", json=case_file(at.id))
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    body = {"kind": "other", "owner_organisation_id": at.care_provider.id, "due_date": iso(14)}
    handed = send(
        cluster,
        at.chair,
        1,
        "POST",
        f"/v1/tables/{at.id}/actions",
        json=body | {"case_id": case_id},
    )
    assert handed.status_code == 201, handed.text
    return case_id, handed.json()["id"]


def change(
    cluster: Cluster, org: Any, server: int, action_id: str, body: dict[str, Any], etag: str | None
):
    headers = {} if etag is None else {"If-Match": etag}
    return lambda: send(
        cluster, org, server, "PATCH", f"/v1/actions/{action_id}", json=body, headers=headers
    )


def history(cluster: Cluster, at: Table, action_id: str) -> list[dict[str, Any]]:
    response = send(
        cluster, at.chair, 0, "GET", f"/v1/actions/{action_id}/transitions", params={"limit": 1000}
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def check_history(
    cluster: Cluster, at: Table, action_id: str, answers: list[httpx.Response]
) -> None:
    """The history against the action as it is and the answers the changes got."""
    rows = history(cluster, at, action_id)
    now = send(cluster, at.chair, 1, "GET", f"/v1/actions/{action_id}")
    assert now.status_code == 200, now.text
    action = now.json()
    # One row per committed change: the hand-out, then one per version it moved to.
    assert len(rows) == action["version"], (rows, action)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    # The timeline lists them by time: in the same order, whichever server's clock made each.
    moments = [datetime.fromisoformat(r["at"]) for r in rows]
    assert moments == sorted(set(moments)), [(r["change"], r["at"]) for r in rows]
    status, due = rows[0]["to_status"], rows[0]["to_due_date"]
    assert (rows[0]["change"], status, due) == ("created", "open", iso(14))
    for row in rows[1:]:
        assert row["from_status"] == status, rows
        assert row["from_due_date"] in (None, due), rows
        status, due = row["to_status"], row["to_due_date"] or due
        assert (row["from_due_date"] is None) == (row["to_due_date"] is None), rows
    assert (status, due) == (action["status"], action["due_date"])
    # Each 200 is the change of the version it answers (a change that changed nothing answers
    # the version it found, whose row is the change before it).
    for answer in answers:
        assert answer.status_code in (200, 409, 412), answer.text
        if answer.status_code == 200:
            shown = answer.json()
            row = rows[shown["version"] - 1]
            assert row["to_status"] == shown["status"], (rows, shown)


def test_changes_of_one_action_at_once_are_each_one_transition_in_commit_order(
    cluster: Cluster, tables: list[Table]
) -> None:
    at = tables[0]
    rng = random.Random(434)
    codes = set()
    for _ in range(ROUNDS):
        _, action_id = new_action(cluster, at)
        bodies = [
            {"status": "done"},
            {"status": "cancelled", "due_date": iso(20)},
            {"due_date": iso(rng.randint(15, 30))},
            {"status": "open"},
            {"due_date": iso(rng.randint(31, 40)), "status": "done"},
            {"status": "cancelled"},
        ]
        tasks = [
            change(
                cluster,
                at.care_provider if n % 2 else at.chair,
                n,
                action_id,
                body,
                '"1"' if n % 3 == 0 else None,
            )
            for n, body in enumerate(bodies)
        ]
        answers = at_once(tasks)
        codes |= {(a.status_code, a.json().get("code")) for a in answers}
        check_history(cluster, at, action_id, answers)
    assert cluster.journal.failures() == [], cluster.server_log()
    # A new due date for an action another request closed first: 409 (a closed action keeps it).
    assert codes <= {(200, None), (412, "precondition_failed"), (409, "action_closed")}, codes


def test_a_move_of_the_case_and_changes_of_its_action_at_once_each_leave_one_transition(
    cluster: Cluster, tables: list[Table]
) -> None:
    at, elsewhere = tables
    codes = set()
    for _ in range(ROUNDS):
        case_id, action_id = new_action(cluster, at)
        answers = at_once(
            [
                lambda case_id=case_id: send(
                    cluster,
                    at.care_provider,
                    0,
                    "PATCH",
                    f"/v1/cases/{case_id}",
                    json={"table_id": elsewhere.id},
                ),
                change(cluster, at.care_provider, 1, action_id, {"due_date": iso(21)}, None),
                change(cluster, at.chair, 0, action_id, {"status": "done"}, '"1"'),
                change(cluster, at.chair, 1, action_id, {"status": "open"}, None),
            ]
        )
        assert answers[0].status_code == 200, answers[0].text
        codes |= {(a.status_code, a.json().get("code")) for a in answers[1:]}
        check_history(cluster, at, action_id, answers[1:])
        rows = history(cluster, at, action_id)
        moved = [r for r in rows if r["change"] == "case_moved"]
        assert len(moved) <= 1 and all(r["from_status"] == "open" for r in moved), rows
    assert cluster.journal.failures() == [], cluster.server_log()
    allowed = {(200, None), (412, "precondition_failed"), (409, "case_moved")}
    assert codes <= allowed | {(409, "action_closed")}, codes  # the new date after the close
