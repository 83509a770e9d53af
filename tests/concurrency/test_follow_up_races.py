"""Newer features raced by clients of two servers on one database: a checkpoint retried with
its `Idempotency-Key` to both processes, a returning client registered while a decision on the
closed case's proposal is taken, and one spreadsheet imported twice at once. Each ends with its
invariant intact and no 5xx."""

import uuid

import httpx
import pytest

from tests.clock import day, iso
from tests.concurrency.conftest import Cluster, at_once, case_file, new_table
from tests.concurrency.test_meeting_races import publish
from tests.concurrency.test_retry_safety_races import count, house, send
from tests.imports.sheets import csv_file, dwelling_row, nl
from tests.imports.sheets import table as sheet

pytestmark = pytest.mark.xdist_group("two_servers")


def test_a_checkpoint_sent_to_both_servers_with_one_key_is_recorded_once(cluster: Cluster):
    """The same checkpoint with the same `Idempotency-Key` to both servers at once (a client
    retrying on another replica): one 201, one replay (200, `Idempotent-Replayed`) with the
    same checkpoint; one row."""
    table = new_table(cluster, "GM0405")
    case_id, _ = house(cluster, table, "GM0405")
    provider = table.care_provider
    key = f"checkpoint-{uuid.uuid4()}"
    body = {"months": 3, "recorded_on": iso(0), "still_living_there": True}
    answers = at_once(
        [
            lambda s=s: send(
                cluster,
                provider,
                s,
                "POST",
                f"/v1/cases/{case_id}/checkpoints",
                json=body | {"support_active": True},
                headers={"Idempotency-Key": key},
            )
            for s in range(2)
        ]
    )
    stored = count(
        cluster,
        "SELECT count(*) FROM aftercare_checkpoints WHERE case_id = :c AND months = 3",
        c=case_id,
    )
    assert cluster.journal.failures() == [], cluster.server_log()
    assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
    [replayed] = [r for r in answers if r.status_code == 200]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert answers[0].json() == answers[1].json()
    assert stored == 1


def test_a_returning_client_registered_while_the_closed_case_was_declined_keeps_the_parking(
    cluster: Cluster,
):
    """A `no_show` decline (parks the case) raced by the care provider withdrawing the case and
    registering the client again: whichever comes first, the new case is parked as long as the
    case it follows is (the decline waits for the withdrawal or refuses, 409), never a 500."""
    table = new_table(cluster, "GM0406")
    published = publish(cluster, table, "GM0406", 2)
    outcomes = []
    for index, proposal in enumerate(published.proposals):
        pid, case_id = proposal["id"], proposal["case_id"]
        old = send(cluster, table.care_provider, 0, "GET", f"/v1/cases/{case_id}").json()

        def decline(server: int = index, pid: str = pid) -> httpx.Response:
            body = {"decision": "client_decline", "reason": "no_show"}
            return send(
                cluster,
                table.care_provider,
                server,
                "POST",
                f"/v1/proposals/{pid}/decisions",
                json=body,
            )

        def return_(
            server: int = index + 1, case_id: str = case_id, ref: str = old["external_ref"]
        ) -> httpx.Response:
            withdrawn = send(
                cluster,
                table.care_provider,
                server,
                "PATCH",
                f"/v1/cases/{case_id}",
                json={"status": "withdrawn", "status_reason": "other"},
            )
            assert withdrawn.status_code == 200, withdrawn.text
            again = case_file(table.id, external_ref=ref)
            return send(
                cluster,
                table.care_provider,
                server,
                "POST",
                "/v1/cases",
                json=again | {"previous_case_id": case_id},
            )

        declined, registered = at_once([decline, return_])
        assert registered.status_code == 201, registered.text
        closed = send(cluster, table.care_provider, 0, "GET", f"/v1/cases/{case_id}").json()
        new = send(
            cluster, table.care_provider, 1, "GET", f"/v1/cases/{registered.json()['id']}"
        ).json()
        outcomes.append(
            (
                declined.status_code in (200, 409),
                new["parked_until"] == closed["parked_until"],
                (declined.status_code == 200) == (closed["parked_until"] is not None),
            )
        )
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [(True, True, True)] * len(published.proposals)


def test_one_dwelling_sheet_imported_twice_at_once_offers_each_dwelling_once(cluster: Cluster):
    """The same dwellings file sent by two colleagues at once, one to each server: both imports
    are stored (200), every dwelling once, and the two reports together name each dwelling
    created once and unchanged (or updated) once."""
    table = new_table(cluster, "GM0407")
    refs = [f"SHEET-{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(10)]
    rows = [
        dwelling_row(ref, "GM0407", **{"Complex": f"CPX-{ref}", "Beschikbaar vanaf": nl(day(14))})
        for ref in refs
    ]
    content = csv_file(sheet(rows))

    def upload(server: int) -> httpx.Response:
        return send(
            cluster,
            table.corporation,
            server,
            "POST",
            "/v1/vacancies/imports",
            params={"dryRun": "false"},
            files={"file": ("woningen.csv", content)},
        )

    answers = at_once([lambda s=s: upload(s) for s in range(2)])
    assert cluster.journal.failures() == [], cluster.server_log()
    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    outcomes: dict[str, list[str]] = {}
    for answer in answers:
        for item in answer.json()["items"]:
            outcomes.setdefault(item["external_ref"], []).append(item["outcome"])
    stored = count(
        cluster, "SELECT count(*) FROM vacancies WHERE corporation_id = :c", c=table.corporation.id
    )
    assert stored == len(refs)
    assert {ref: sorted(o)[0] for ref, o in outcomes.items()} == dict.fromkeys(refs, "created")
    assert all(len(o) == 2 and o.count("created") == 1 for o in outcomes.values()), outcomes
