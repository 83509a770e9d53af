"""A proposed dwelling pushed with a rent its case may not pay, at the same moment as the chair
nominates the case and its care provider edits the case so that it needs a wheelchair, on two
servers of one database: whatever the order, nobody sees a 5xx (no deadlock left unresolved
between the push, which locks the proposal's case before the dwelling, and the decision and
the edit, which lock the case first too), and the proposal ends withdrawn with its case and
dwelling free (README: a proposal the rules no longer allow ends)."""

from typing import Any

import pytest

from tests.concurrency.conftest import Cluster, at_once, new_table
from tests.concurrency.test_meeting_races import publish
from tests.concurrency.test_retry_safety_races import send
from tests.conftest import vacancy_body

pytestmark = pytest.mark.xdist_group("two_servers")

PAIRS = 3
ABOVE_EVERY_CAP = {"base": "1150.00", "eligible_service_costs": "0.00"}


def _pushed_body(cluster: Cluster, corporation: Any, vacancy_id: str) -> dict:
    current = send(cluster, corporation, 0, "GET", f"/v1/vacancies/{vacancy_id}")
    assert current.status_code == 200, current.text
    body = {k: v for k, v in current.json().items() if k in vacancy_body()}
    return body | {"rent": ABOVE_EVERY_CAP}


def test_a_rule_breaking_push_raced_by_a_nomination_and_a_case_edit_withdraws_the_proposal(
    cluster: Cluster,
):
    table = new_table(cluster, "GM0515")
    published = publish(cluster, table, "GM0515", PAIRS)
    answers = []
    for proposal in published.proposals:
        body = _pushed_body(cluster, table.corporation, proposal["vacancy_id"])
        case_path = f"/v1/cases/{proposal['case_id']}"
        pushed, nominated, edited = at_once(
            [
                lambda body=body: send(
                    cluster, table.corporation, 0, "POST", "/v1/vacancies", json=body
                ),
                lambda p=proposal: send(
                    cluster,
                    table.chair,
                    1,
                    "POST",
                    f"/v1/proposals/{p['id']}/decisions",
                    json={"decision": "nominate"},
                ),
                lambda path=case_path: send(
                    cluster,
                    table.care_provider,
                    1,
                    "PATCH",
                    path,
                    json={"needs": {"wheelchair": True}},
                ),
            ]
        )
        assert pushed.status_code == 200, pushed.text
        assert edited.status_code == 200, edited.text
        assert nominated.status_code in (200, 409), nominated.text
        if nominated.status_code == 409:
            answers.append(nominated.json()["code"])
        current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
        case = send(cluster, table.care_provider, 0, "GET", case_path).json()
        dwelling = send(
            cluster, table.corporation, 1, "GET", f"/v1/vacancies/{proposal['vacancy_id']}"
        ).json()
        assert (current["status"], case["status"], dwelling["status"]) == (
            "withdrawn",
            "ready",
            "available",
        )
        assert current["status_reason"] in ("dwelling_changed", "case_changed")
    assert set(answers) <= {"illegal_transition", "decided_concurrently"}
    assert cluster.journal.failures() == [], cluster.server_log()
