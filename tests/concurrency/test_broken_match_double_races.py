"""Two changes that each break the same proposed pair, sent at the same moment to two servers of
one database: the corporation pushes the dwelling with a rent above every cap while the care
provider edits the case to need a wheelchair (which the dwelling lacks), and, on another table,
the push against the corporation's own acceptance of the nominated proposal.

Whatever the order, the proposal is withdrawn by the service exactly once (one `automatic`
decision, reason `dwelling_changed` or `case_changed`), with exactly one `proposal.decided` event
for that withdrawal, every decision of the proposal has its one event, no client sees a 5xx and
no server logs a deadlock (README: a proposal the rules no longer allow ends; every decision is
notified)."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from tests.clock import iso
from tests.concurrency.conftest import Cluster, Table, at_once, new_table
from tests.concurrency.test_broken_match_races import _pushed_body
from tests.concurrency.test_meeting_races import publish
from tests.concurrency.test_retry_safety_races import count as scalar
from tests.concurrency.test_retry_safety_races import send

pytestmark = pytest.mark.xdist_group("two_servers")

PAIRS = 4
WHEELCHAIR = {"needs": {"wheelchair": True}}
ACCEPT = {"decision": "corporation_accept"}
VIEWING = {"decision": "plan_viewing", "viewing_date": iso(0)}
SIGN = {"decision": "sign_tenancy"}


def _decisions(cluster: Cluster, proposal_id: str) -> list[tuple[str, bool, str | None]]:
    with cluster.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT decision, automatic, reason FROM proposal_decisions "
                "WHERE proposal_id = :id ORDER BY at, id"
            ),
            {"id": proposal_id},
        )
        return [(row[0], bool(row[1]), row[2]) for row in rows]


def _events(cluster: Cluster, proposal_id: str) -> int:
    return scalar(
        cluster,
        "SELECT count(*) FROM webhook_events WHERE type = 'proposal.decided' "
        "AND CAST(data AS jsonb) ->> 'proposal_id' = :id",
        id=proposal_id,
    )


def _no_deadlock(cluster: Cluster) -> None:
    """No client saw a 5xx and no server logged a deadlock it could not get past (a deadlock
    whose loser the transient layer ran again is logged at info only: `cluster` counts
    PostgreSQL's, after each module)."""
    log = cluster.server_log().lower()
    assert "deadlock" not in log, cluster.server_log()
    assert cluster.journal.failures() == [], cluster.server_log()


def _withdrawn_once(cluster: Cluster, table: Table, proposal: dict[str, Any]) -> list[str]:
    """The proposal ends withdrawn, its case and dwelling free, with exactly one automatic
    decision and one event per decision; the decisions' names."""
    current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
    case = send(cluster, table.care_provider, 1, "GET", f"/v1/cases/{proposal['case_id']}")
    dwelling = send(cluster, table.corporation, 0, "GET", f"/v1/vacancies/{proposal['vacancy_id']}")
    assert (current["status"], case.json()["status"], dwelling.json()["status"]) == (
        "withdrawn",
        "ready",
        "available",
    )
    assert current["status_reason"] in ("dwelling_changed", "case_changed")
    decisions = _decisions(cluster, proposal["id"])
    automatic = [d for d in decisions if d[1]]
    assert automatic == [("withdraw", True, current["status_reason"])], decisions
    assert _events(cluster, proposal["id"]) == len(decisions), decisions
    return [d[0] for d in decisions]


def _pushed_at_once_with(
    cluster: Cluster, table: Table, proposal: dict[str, Any], other: Callable[[], Any]
) -> Any:
    """The corporation pushes the proposal's dwelling with a rent above every cap (server 0)
    at the same moment as `other` runs (against server 1); the push answers 200. `other`'s
    answer."""
    body = _pushed_body(cluster, table.corporation, proposal["vacancy_id"])
    pushed, answer = at_once(
        [lambda: send(cluster, table.corporation, 0, "POST", "/v1/vacancies", json=body), other]
    )
    assert pushed.status_code == 200, pushed.text
    return answer


def _pushed_at_once_with_decision(
    cluster: Cluster, table: Table, proposal: dict[str, Any], decision: dict[str, Any]
) -> Any:
    """The push at the same moment as the corporation's `decision` on the proposal."""
    path = f"/v1/proposals/{proposal['id']}/decisions"
    return _pushed_at_once_with(
        cluster,
        table,
        proposal,
        lambda: send(cluster, table.corporation, 1, "POST", path, json=decision),
    )


def test_a_rent_push_and_a_wheelchair_edit_at_once_withdraw_the_proposal_once(cluster: Cluster):
    table = new_table(cluster, "GM0570")
    published = publish(cluster, table, "GM0570", PAIRS)
    for proposal in published.proposals:
        case_path = f"/v1/cases/{proposal['case_id']}"
        edited = _pushed_at_once_with(
            cluster,
            table,
            proposal,
            lambda path=case_path: send(
                cluster, table.care_provider, 1, "PATCH", path, json=WHEELCHAIR
            ),
        )
        assert edited.status_code == 200, edited.text
        assert _withdrawn_once(cluster, table, proposal) == ["withdraw"]
    _no_deadlock(cluster)


def test_a_rent_push_and_the_acceptance_at_once_end_in_one_withdrawal(cluster: Cluster):
    table = new_table(cluster, "GM0571")
    published = publish(cluster, table, "GM0571", PAIRS)
    for proposal in published.proposals:
        path = f"/v1/proposals/{proposal['id']}/decisions"
        nominated = send(cluster, table.chair, 0, "POST", path, json={"decision": "nominate"})
        assert nominated.status_code == 200, nominated.text
        accepted = _pushed_at_once_with_decision(cluster, table, proposal, ACCEPT)
        decisions = _withdrawn_once(cluster, table, proposal)
        if accepted.status_code == 200:
            assert decisions == ["nominate", "corporation_accept", "withdraw"]
        else:
            assert accepted.status_code == 409, accepted.text
            assert accepted.headers["content-type"].startswith("application/problem+json")
            assert decisions == ["nominate", "withdraw"]
    _no_deadlock(cluster)


def test_a_rent_push_and_the_signed_lease_at_once_end_in_one_of_the_two(cluster: Cluster):
    """A signed lease is left as it is by a later push (the yearly rent rise): the push and the
    signature at once end either withdrawn (the signature refused, 409) or signed with nothing
    withdrawn, the events matching the decisions."""
    table = new_table(cluster, "GM0572")
    published = publish(cluster, table, "GM0572", PAIRS)
    for proposal in published.proposals:
        path = f"/v1/proposals/{proposal['id']}/decisions"
        for step in ({"decision": "nominate"}, ACCEPT, VIEWING):
            org = table.chair if step["decision"] == "nominate" else table.corporation
            answer = send(cluster, org, 0, "POST", path, json=step)
            assert answer.status_code == 200, answer.text
        signed = _pushed_at_once_with_decision(cluster, table, proposal, SIGN)
        current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
        decisions = _decisions(cluster, proposal["id"])
        assert _events(cluster, proposal["id"]) == len(decisions), decisions
        steps = ["nominate", "corporation_accept", "plan_viewing"]
        if signed.status_code == 200:
            assert current["status"] == "tenancy_signed", current
            assert [d[0] for d in decisions] == [*steps, "sign_tenancy"], decisions
        else:
            assert signed.status_code == 409, signed.text
            assert _withdrawn_once(cluster, table, proposal) == [*steps, "withdraw"]
    _no_deadlock(cluster)
