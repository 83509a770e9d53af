"""A case moving to another table, raced by clients of two servers on one database: hand-outs
of actions about it at the table it leaves, a reopening, a close, a second move, and a move back
while the first table's chair reopens its action. Whatever the order, no action about the case
stays open at a table the case is not at (README: an action about a case belongs to the case's
table; the hand-out and reopening read the case FOR SHARE, the move cancels what it left), and
nobody sees a 5xx."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.clock import iso
from tests.concurrency.conftest import Cluster, Table, at_once, case_file, new_table
from tests.concurrency.test_retry_safety_races import count, send

pytestmark = pytest.mark.xdist_group("two_servers")

ROUNDS = 4

LEFT_OPEN = (
    "SELECT count(*) FROM actions a JOIN cases c ON c.id = a.case_id "
    "WHERE a.status = 'open' AND a.table_id <> c.table_id AND c.id = :c"
)


@pytest.fixture(scope="module")
def tables(cluster: Cluster) -> list[Table]:
    """Tables in GM0431, GM0432 and GM0433 with the same chair, care provider and corporation
    (a municipality sits at one table, so the module's tests share them)."""
    first = new_table(cluster, "GM0431")
    return [first, *(new_table(cluster, code, seated=first) for code in ("GM0432", "GM0433"))]


def hand_out(cluster: Cluster, at: Table, case_id: str, server: int) -> Any:
    body = {"kind": "request_beschikking", "owner_organisation_id": at.care_provider.id}
    body |= {"due_date": iso(14), "case_id": case_id}
    return send(cluster, at.chair, server, "POST", f"/v1/tables/{at.id}/actions", json=body)


def move(cluster: Cluster, case_id: str, to: Table, server: int) -> Any:
    body = {"table_id": to.id}
    return send(cluster, to.care_provider, server, "PATCH", f"/v1/cases/{case_id}", json=body)


def set_status(cluster: Cluster, at: Table, action_id: str, status: str, server: int) -> Any:
    body = {"status": status}
    return send(cluster, at.chair, server, "PATCH", f"/v1/actions/{action_id}", json=body)


def rounds(
    cluster: Cluster,
    at: Table,
    race: Callable[[str, str], list[Callable[[], httpx.Response]]],
    ready: Callable[[str, str], Any] = lambda case_id, action_id: None,
) -> list[tuple[int, str | None]]:
    """ROUNDS times: a new case at `at` with an action about it, `ready(case, action)`, then
    the tasks `race(case, action)` gives at once, the first of them a move that succeeds; after
    each, no action about the case is open at a table it is not at. The other tasks' answers
    (status, problem code)."""
    answers = []
    for _ in range(ROUNDS):
        created = send(cluster, at.care_provider, 0, "POST", "/v1/cases", json=case_file(at.id))
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        handed = hand_out(cluster, at, case_id, 1)
        assert handed.status_code == 201, handed.text
        ready(case_id, handed.json()["id"])
        moved, *others = at_once(race(case_id, handed.json()["id"]))
        assert moved.status_code == 200, moved.text
        answers += [(r.status_code, r.json().get("code")) for r in others]
        assert count(cluster, LEFT_OPEN, c=case_id) == 0
    assert cluster.journal.failures() == [], cluster.server_log()
    return answers


# Each race: what runs at once with the move from the first table to the second (`with_move`,
# named tasks), what is done before it (`first`), and the answers the other tasks may get.
RACES: dict[str, tuple[list[str], str | None, set[tuple[int, str | None]]]] = {
    "hand-outs": (["hand out", "hand out"], None, {(201, None), (400, "validation_error")}),
    "reopening": (["reopen"], "cancel", {(200, None), (409, "case_moved")}),
    # A close after the move finds the action kept as history there: 409 (it turned the
    # move's cancellation into `done` before).
    "close and second move": (["close", "move on"], None, {(200, None), (409, "case_moved")}),
}


@pytest.mark.parametrize("race", RACES)
def test_a_move_raced_leaves_no_open_action_behind(
    cluster: Cluster, tables: list[Table], race: str
) -> None:
    a, b, c = tables
    others, first, allowed = RACES[race]

    def task(name: str, case: str, action: str, server: int) -> Callable[[], httpx.Response]:
        return {
            "hand out": lambda: hand_out(cluster, a, case, server),
            "reopen": lambda: set_status(cluster, a, action, "open", server),
            "cancel": lambda: set_status(cluster, a, action, "cancelled", server),
            "close": lambda: set_status(cluster, a, action, "done", server),
            "move on": lambda: move(cluster, case, c, server),
        }[name]

    answers = rounds(
        cluster,
        a,
        lambda case, action: [
            lambda: move(cluster, case, b, 0),
            *(task(name, case, action, n + 1) for n, name in enumerate(others)),
        ],
        lambda case, action: None if first is None else task(first, case, action, 0)(),
    )
    assert set(answers) <= allowed, answers


def test_a_move_back_raced_by_the_first_tables_reopening_leaves_no_open_action_behind(
    cluster: Cluster, tables: list[Table]
) -> None:
    a, b, _ = tables

    def away_with_an_action_there(case_id: str, _: str) -> None:
        assert move(cluster, case_id, b, 1).status_code == 200
        assert hand_out(cluster, b, case_id, 0).status_code == 201

    answers = rounds(
        cluster,
        a,
        lambda case, action: [
            lambda: move(cluster, case, a, 0),
            lambda: set_status(cluster, a, action, "open", 1),
        ],
        away_with_an_action_there,
    )
    assert set(answers) <= {(200, None), (409, "case_moved")}, answers
