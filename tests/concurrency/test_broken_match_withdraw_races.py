"""The service's own withdrawal of a broken match raced, on two servers of one database, by the
parties' decisions and edits of the same proposal:

- the chair's withdrawal, or the corporation's decline at the meeting, at the moment the
  corporation pushes the proposed dwelling with a rent its client may not pay;
- a batch push of two proposed dwellings at the moment another batch of the same two dwellings
  (in the other order) and an edit of one of their cases come in from the other server;
- an edit of the case and a push of its dwelling that break nothing alone and together break a
  rule of the pair (the client now has a pet, the dwelling no longer allows one).

Whatever the order: one decision ends the proposal (the party's, or the service's `automatic`
withdrawal, never both), one `proposal.decided` event and one e-mail notice per decision, the
party that lost the race told 409 (problem+json), no 5xx and no deadlock; every push and edit
kept (each dwelling's version counts both pushes and its release, its content is that of one
of them), and no proposal is left open whose pair fails the rule a change broke (README: a
proposal the rules no longer allow ends; every decision is notified)."""

import uuid
from functools import partial
from typing import Any

import pytest

from tests.clock import day, iso
from tests.concurrency.conftest import Cluster, Table, at_once, deadlocks, new_table
from tests.concurrency.test_broken_match_double_races import _decisions, _events, _no_deadlock
from tests.concurrency.test_broken_match_races import ABOVE_EVERY_CAP, _pushed_body
from tests.concurrency.test_meeting_races import Published, publish
from tests.concurrency.test_page_form_races import person
from tests.concurrency.test_retry_safety_races import count, send
from tests.conftest import vacancy_body
from tests.imports.sheets import case_row, csv_file, nl
from tests.imports.sheets import table as sheet

pytestmark = pytest.mark.xdist_group("two_servers")

PAIRS = 4
ROUNDS = 8  # the chair's race: the push comes first in some of them only
IMPORTED, PER_FILE = 16, 4  # the import's race: its pairs, and those of one file and batch
WITHDRAW = {"decision": "withdraw", "reason": "table_decision"}
DECLINE = {"decision": "corporation_decline", "reason": "other"}
WHEELCHAIR = {"needs": {"wheelchair": True}}
BATCH = "/v1/vacancies/batch"


@pytest.fixture(scope="module")
def published_0591(cluster: Cluster) -> Published:
    """GM0591's one meeting, proposing PAIRS pairs for the batches and IMPORTED for the
    imports."""
    table = new_table(cluster, "GM0591")
    _told(cluster, table)
    return publish(cluster, table, "GM0591", PAIRS + IMPORTED)


@pytest.fixture(scope="module")
def published_0592(cluster: Cluster) -> Published:
    """GM0592's one meeting, proposing 2 * PAIRS pairs: each test takes its own."""
    table = new_table(cluster, "GM0592")
    _told(cluster, table)
    return publish(cluster, table, "GM0592", 2 * PAIRS)


def _as_read(cluster: Cluster, corporation: Any, vacancy_id: str) -> tuple[dict, int]:
    """The dwelling's push body as the corporation reads it now, and its version."""
    current = send(cluster, corporation, 0, "GET", f"/v1/vacancies/{vacancy_id}")
    assert current.status_code == 200, current.text
    read = current.json()
    return {k: v for k, v in read.items() if k in vacancy_body()}, read["version"]


def _pushed(body: dict) -> tuple[float, str]:
    """What the two pushes of a dwelling differ in: its base rent and its respond-before day."""
    return float(body["rent"]["base"]), body["respond_before"]


def _refused(answer: Any) -> None:
    """409 problem+json: the proposal moved on since it was read, or is closed already (README:
    `illegal_transition` with `current_status`)."""
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] in ("decided_concurrently", "illegal_transition"), problem
    if problem["code"] == "illegal_transition":
        assert problem["current_status"] == "withdrawn", problem


def _why_not(cluster: Cluster, table: Table, proposal: dict) -> list[str]:
    """The rules why-not names against the proposal's pair on the meeting's day (today)."""
    params = {"caseId": proposal["case_id"], "vacancyId": proposal["vacancy_id"], "date": iso(0)}
    answer = send(cluster, table.chair, 1, "GET", f"/v1/tables/{table.id}/why-not", params=params)
    assert answer.status_code == 200, answer.text
    return [reason["code"] for reason in answer.json()["reasons"]]


def _one_decision_each(cluster: Cluster, proposal_id: str) -> list[tuple[str, bool, str | None]]:
    """The proposal's decisions, each told once: one `proposal.decided` event, and one e-mail
    notice to the care provider's one person (`_told`)."""
    decisions = _decisions(cluster, proposal_id)
    assert _events(cluster, proposal_id) == len(decisions), decisions
    mails = count(
        cluster,
        "SELECT count(*) FROM mail_messages WHERE kind = 'proposal_decided' "
        "AND CAST(data AS jsonb) ->> 'proposal_id' = :id",
        id=proposal_id,
    )
    assert mails == len(decisions), decisions
    return decisions


def _told(cluster: Cluster, table: Table) -> None:
    """One person at the care provider, who is e-mailed every decision on its proposals."""
    person(cluster, table.care_provider)


def test_the_chairs_withdrawal_and_a_rent_push_at_once_end_the_proposal_once(cluster: Cluster):
    """Half the proposals withdrawn by the chair, half nominated and declined by the
    corporation, each at the moment of a push raising the dwelling's rent above every cap:
    either the party's decision stands and the push withdraws nothing, or the service's
    withdrawal stands and the party is told 409."""
    table = new_table(cluster, "GM0590")
    _told(cluster, table)
    published = publish(cluster, table, "GM0590", ROUNDS)
    for index, proposal in enumerate(published.proposals):
        path = f"/v1/proposals/{proposal['id']}/decisions"
        steps: list[tuple[str, bool, str | None]] = []
        if index % 2:
            nominated = send(cluster, table.chair, 0, "POST", path, json={"decision": "nominate"})
            assert nominated.status_code == 200, nominated.text
            steps, decider, decision = [("nominate", False, None)], table.corporation, DECLINE
        else:
            decider, decision = table.chair, WITHDRAW
        body = _pushed_body(cluster, table.corporation, proposal["vacancy_id"])
        pushed, decided = at_once(
            [
                lambda body=body: send(
                    cluster, table.corporation, 0, "POST", "/v1/vacancies", json=body
                ),
                lambda d=decider, decision=decision, path=path: send(
                    cluster, d, 1, "POST", path, json=decision
                ),
            ]
        )
        assert pushed.status_code == 200, pushed.text
        assert float(pushed.json()["rent"]["base"]) == float(ABOVE_EVERY_CAP["base"])
        decisions = _one_decision_each(cluster, proposal["id"])
        current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
        dwelling = send(
            cluster, table.corporation, 1, "GET", f"/v1/vacancies/{proposal['vacancy_id']}"
        ).json()
        assert dwelling["status"] == "available", dwelling
        if decided.status_code == 200:
            ended = (decision["decision"], False, decision["reason"])
            assert decisions == [*steps, ended], decisions
            assert current["status_reason"] == decision["reason"], current
        else:
            _refused(decided)
            assert decisions == [*steps, ("withdraw", True, "dwelling_changed")], decisions
            assert (current["status"], current["status_reason"]) == (
                "withdrawn",
                "dwelling_changed",
            )
    _no_deadlock(cluster)


def test_two_batches_of_the_same_dwellings_and_a_case_edit_at_once_lose_nothing(
    cluster: Cluster, published_0591: Published
):
    """Server 0 pushes dwellings A and B with a rent above every cap; server 1 at the same
    moment pushes B and A (that order) with their rent as it was and another respond_before,
    and its care provider edits A's case to need a wheelchair. Both proposals end withdrawn by
    the service exactly once, each dwelling's version counts both pushes and holds one push's
    content whole, the case keeps the edit."""
    table, mine = published_0591.table, published_0591.proposals[:PAIRS]
    for first, second in zip(mine[::2], mine[1::2], strict=True):
        pair = (first, second)
        read = [_as_read(cluster, table.corporation, p["vacancy_id"]) for p in pair]
        raised = [body | {"rent": ABOVE_EVERY_CAP} for body, _ in read]
        moved = [body | {"respond_before": iso(5)} for body, _ in reversed(read)]
        case_path = f"/v1/cases/{first['case_id']}"
        corporation, provider = table.corporation, table.care_provider
        answers = at_once(
            [
                partial(send, cluster, corporation, 0, "POST", BATCH, json={"items": raised}),
                partial(send, cluster, corporation, 1, "POST", BATCH, json={"items": moved}),
                partial(send, cluster, provider, 1, "PATCH", case_path, json=WHEELCHAIR),
            ]
        )
        for answer in answers:
            assert answer.status_code == 200, answer.text
        assert [o["outcome"] for o in answers[0].json()["items"]] == ["updated", "updated"]
        assert [o["outcome"] for o in answers[1].json()["items"]] == ["updated", "updated"]
        case = send(cluster, table.care_provider, 0, "GET", case_path).json()
        assert case["needs"]["wheelchair"] is True, case
        assert case["status"] == "ready", case
        for proposal, (body, version), up in zip(pair, read, raised, strict=True):
            now, now_version = _as_read(cluster, table.corporation, proposal["vacancy_id"])
            # Each push and the release of the dwelling by the withdrawal are a version each.
            assert now_version == version + 3, (version, now_version)
            assert _pushed(now) in (_pushed(up), _pushed(body | {"respond_before": iso(5)})), now
            dwelling = send(
                cluster, table.corporation, 1, "GET", f"/v1/vacancies/{proposal['vacancy_id']}"
            ).json()
            assert dwelling["status"] == "available", dwelling
            current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
            assert current["status"] == "withdrawn", current
            reasons = ("dwelling_changed", "case_changed") if proposal is first else ()
            assert current["status_reason"] in (*reasons, "dwelling_changed"), current
            decisions = _one_decision_each(cluster, proposal["id"])
            assert decisions == [("withdraw", True, current["status_reason"])], decisions
    _no_deadlock(cluster)


def test_a_case_edit_and_a_push_that_only_together_break_the_pair_withdraw_it_once(
    cluster: Cluster, published_0592: Published
):
    """The care provider records that the client has a pet while the corporation pushes the
    dwelling as no longer allowing pets: alone, neither breaks the pair; together they break
    `pets_not_allowed`. The one that comes second withdraws the proposal (as `case_changed` or
    `dwelling_changed`), never neither (judged against the other as it was before it
    committed), never both."""
    table = published_0592.table
    for proposal in published_0592.proposals[:PAIRS]:
        body, version = _as_read(cluster, table.corporation, proposal["vacancy_id"])
        assert body["pets_allowed"] is True
        case_path = f"/v1/cases/{proposal['case_id']}"
        pushed, edited = at_once(
            [
                lambda body=body: send(
                    cluster,
                    table.corporation,
                    0,
                    "POST",
                    "/v1/vacancies",
                    json=body | {"pets_allowed": False},
                ),
                lambda path=case_path: send(
                    cluster, table.care_provider, 1, "PATCH", path, json={"needs": {"pets": True}}
                ),
            ]
        )
        assert pushed.status_code == 200, pushed.text
        assert edited.status_code == 200, edited.text
        current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
        assert current["status"] == "withdrawn", current
        assert current["status_reason"] in ("dwelling_changed", "case_changed"), current
        decisions = _one_decision_each(cluster, proposal["id"])
        assert decisions == [("withdraw", True, current["status_reason"])], decisions
        case = send(cluster, table.care_provider, 0, "GET", case_path).json()
        assert (case["status"], case["needs"]["pets"]) == ("ready", True), case
        now, now_version = _as_read(cluster, table.corporation, proposal["vacancy_id"])
        # The push and the release of the dwelling by the withdrawal: a version each.
        assert (now["pets_allowed"], now_version) == (False, version + 2), now
        assert _why_not(cluster, table, proposal) == ["pets_not_allowed"]
    _no_deadlock(cluster)


def test_one_batch_sent_to_both_servers_under_one_key_withdraws_each_proposal_once(
    cluster: Cluster, published_0592: Published
):
    """A corporation's client that sends its rule-breaking batch again to the other server
    before the first answer (one `Idempotency-Key`): the batch runs once, each of its
    dwellings' proposals is withdrawn once, with one event and one e-mail notice, and both
    answers are the same 200."""
    table = published_0592.table
    mine = published_0592.proposals[PAIRS:]
    for pair in zip(mine[::2], mine[1::2], strict=True):
        read = [_as_read(cluster, table.corporation, p["vacancy_id"]) for p in pair]
        items = [body | {"rent": ABOVE_EVERY_CAP} for body, _ in read]
        headers = {"Idempotency-Key": f"broken-batch-{uuid.uuid4()}"}
        answers = at_once(
            [
                partial(
                    send,
                    cluster,
                    table.corporation,
                    s,
                    "POST",
                    BATCH,
                    json={"items": items},
                    headers=headers,
                )
                for s in (0, 1)
            ]
        )
        for answer in answers:
            assert answer.status_code == 200, answer.text
        assert answers[0].json() == answers[1].json()
        for proposal, (_, version) in zip(pair, read, strict=True):
            current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
            assert (current["status"], current["status_reason"]) == (
                "withdrawn",
                "dwelling_changed",
            )
            decisions = _one_decision_each(cluster, proposal["id"])
            assert decisions == [("withdraw", True, "dwelling_changed")], decisions
            _, now_version = _as_read(cluster, table.corporation, proposal["vacancy_id"])
            # One push and the release of the dwelling by the withdrawal: a version each.
            assert now_version == version + 2, (version, now_version)
    _no_deadlock(cluster)


def test_a_case_file_import_and_a_batch_push_of_the_same_pairs_at_once_do_not_deadlock(
    cluster: Cluster, published_0591: Published
):
    """The care provider imports a file that marks four proposed clients as wheelchair users
    (rows in the reverse order of the cases' ids) while the corporation pushes their four
    dwellings in one batch with a rent above every cap: both 200, every proposal withdrawn
    once (one event, one e-mail notice), every import edit kept, and no deadlock in the
    database: the import locks its cases together in id order, as the push does, not one by
    one in the file's order (before, PostgreSQL broke a deadlock in about one round in four
    and ran the loser again, a second late)."""
    table, mine = published_0591.table, published_0591.proposals[PAIRS:]
    before = deadlocks(cluster)
    for start in range(0, IMPORTED, PER_FILE):
        group = sorted(mine[start : start + PER_FILE], key=lambda p: p["case_id"])
        refs = [
            send(cluster, table.care_provider, 0, "GET", f"/v1/cases/{p['case_id']}").json()[
                "external_ref"
            ]
            for p in group
        ]
        cells = {"Rolstoel": "ja", "Voorkeursgebieden": "GM0591"}
        rows = [
            case_row(ref, **cells, **{"Klaar voor uitstroom sinds": nl(day(-200))}) for ref in refs
        ]
        content = csv_file(sheet(rows[::-1]))
        items = [
            _as_read(cluster, table.corporation, p["vacancy_id"])[0] | {"rent": ABOVE_EVERY_CAP}
            for p in group
        ]
        imported, pushed = at_once(
            [
                partial(
                    send,
                    cluster,
                    table.care_provider,
                    0,
                    "POST",
                    "/v1/cases/imports",
                    params={"tableId": table.id, "dryRun": "false"},
                    files={"file": ("dossiers.csv", content)},
                ),
                partial(send, cluster, table.corporation, 1, "POST", BATCH, json={"items": items}),
            ]
        )
        assert imported.status_code == 200, imported.text
        assert pushed.status_code == 200, pushed.text
        for proposal in group:
            case = send(cluster, table.care_provider, 1, "GET", f"/v1/cases/{proposal['case_id']}")
            assert (case.json()["status"], case.json()["needs"]["wheelchair"]) == ("ready", True)
            current = send(cluster, table.chair, 0, "GET", f"/v1/proposals/{proposal['id']}").json()
            assert current["status"] == "withdrawn", current
            decisions = _one_decision_each(cluster, proposal["id"])
            assert decisions == [("withdraw", True, current["status_reason"])], decisions
    broken = deadlocks(cluster) - before
    assert broken == 0, f"PostgreSQL broke {broken} deadlock(s)"
    _no_deadlock(cluster)
