"""The weekly meeting's flow raced by clients of two servers on one database: decisions on one
proposal by its three parties at once, decisions against the minutes marked final (twice),
next week's agenda published while this week's declines come in, and a publish while cases
are withdrawn and dwellings offered, withdrawn and offered again. No server error, no lost
decision, no double allocation, no declined pair proposed again."""

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from tests.clock import iso
from tests.concurrency.conftest import Cluster, Table, at_once, case_file, dwelling, new_table
from tests.concurrency.test_meeting_races import (
    open_proposals_per,
    publish,
    schedule,
    stock,
)
from tests.locks import wait_until_a_session_waits_for_a_lock, wait_until_sessions_wait_for_locks

pytestmark = pytest.mark.xdist_group("two_servers")

PAIRS = 4
DECLINES = [
    ("care_provider", {"decision": "client_decline", "reason": "location"}),
    ("corporation", {"decision": "corporation_decline", "reason": "other"}),
]


def send(cluster: Cluster, org: Any, server: int, method: str, path: str, **kw: Any):
    api = cluster.client(org, server)
    try:
        return api.request(method, path, **kw)
    finally:
        api.close()


def decline(cluster: Cluster, table: Table, proposal: dict, index: int) -> httpx.Response:
    """The care provider (even `index`) or the corporation (odd) declines the proposal."""
    party, body = DECLINES[index % 2]
    path = f"/v1/proposals/{proposal['id']}/decisions"
    return send(cluster, getattr(table, party), index, "POST", path, json=body)


def declined_pairs(cluster: Cluster, table_id: str) -> set[tuple[str, str]]:
    """The (case, dwelling) pairs of the table declined by a party or withdrawn by the chair."""
    with cluster.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.case_id, p.vacancy_id FROM proposal_decisions d "
                "JOIN proposals p ON p.id = d.proposal_id WHERE p.table_id = :t AND NOT "
                "d.automatic AND d.decision IN "
                "('client_decline', 'corporation_decline', 'withdraw')"
            ),
            {"t": table_id},
        )
        return {(str(c), str(v)) for c, v in rows}


def pairs_of(cluster: Cluster, meeting_id: str) -> set[tuple[str, str]]:
    with cluster.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT case_id, vacancy_id FROM proposals WHERE meeting_id = :m"),
            {"m": meeting_id},
        )
        return {(str(c), str(v)) for c, v in rows}


def ensure_published(
    cluster: Cluster, table: Table, meeting_id: str, answers: Sequence[httpx.Response]
) -> bool:
    """Whether the publishes that raced (`answers`) published the meeting once, or all were
    refused with 409 `inputs_changed` (the inputs kept changing while it computed, which
    declines coming in may do) and a publish afterwards does. Then the agenda is there."""
    won = [r for r in answers if r.status_code == 200]
    if not won:
        assert {r.json()["code"] for r in answers} == {"inputs_changed"}, [r.text for r in answers]
        path = f"/v1/meetings/{meeting_id}/publish"
        won = [send(cluster, table.chair, 0, "POST", path)]
    return [r.status_code for r in won] == [200]


def publishing(
    cluster: Cluster, table: Table, meeting_id: str, answers: dict[str, httpx.Response]
) -> Callable[[], None]:
    """A task for a thread: the chair publishes the meeting on the first server, the answer
    in `answers["publish"]`."""

    def publish_it() -> None:
        path = f"/v1/meetings/{meeting_id}/publish"
        answers["publish"] = send(cluster, table.chair, 0, "POST", path)

    return publish_it


def assert_no_double_allocation(cluster: Cluster, table_id: str) -> None:
    for column in ("case_id", "vacancy_id"):
        counts = open_proposals_per(cluster, column, table_id)
        assert max(counts.values(), default=0) <= 1, (column, counts)


# --- three parties deciding on one proposal at once ------------------------------------------


def test_the_parties_deciding_on_one_proposal_at_once_lose_no_answered_decision(cluster: Cluster):
    """The chair nominates, the care provider and the corporation decline, all at once on both
    servers: each decision answered 200 is on the proposal (and nothing else is), each refusal
    is a 409 that says why, and the case and dwelling follow the proposal's last state."""
    table = new_table(cluster, "GM0410")
    published = publish(cluster, table, "GM0410", PAIRS)
    bodies = [(table.chair, {"decision": "nominate"})] + [
        (getattr(table, party), body) for party, body in DECLINES
    ]
    tasks = []
    for index, proposal in enumerate(published.proposals):
        for turn, (org, body) in enumerate(bodies):
            path = f"/v1/proposals/{proposal['id']}/decisions"

            def decide(org=org, body=body, path=path, server=index + turn) -> tuple:
                return path, send(cluster, org, server, "POST", path, json=body)

            tasks.append(decide)
    results = at_once(tasks)

    assert cluster.journal.failures() == [], cluster.server_log()
    refused = Counter()
    answered: dict[str, set[str]] = {}
    for path, response in results:
        assert response.status_code in (200, 409), response.text
        proposal_id = path.split("/")[3]
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json")
            refused[response.json()["code"]] += 1
        else:
            answered.setdefault(proposal_id, set()).add(response.json()["decisions"][-1]["id"])
    assert set(refused) <= {"decided_concurrently", "illegal_transition"}, refused
    chair = cluster.client(table.chair, 1)
    for proposal in published.proposals:
        current = chair.get(f"/v1/proposals/{proposal['id']}").json()
        recorded = {d["id"] for d in current["decisions"]}
        assert recorded == answered.get(proposal["id"], set()), current
        case = chair.get(f"/v1/cases/{proposal['case_id']}").json()
        expected = {"proposed": "proposed", "nominated": "nominated"}.get(current["status"])
        assert case["status"] == (expected or "ready"), (current["status"], case["status"])
    chair.close()
    assert_no_double_allocation(cluster, table.id)


# --- decisions against the minutes marked final ----------------------------------------------


def test_declines_raced_against_final_minutes_are_each_in_one_minutes(cluster: Cluster):
    """Declines recorded while the chair marks the minutes final on both servers: one marking
    wins, the other is 409 `minutes_final`; every answered decline is in the final minutes or,
    as a follow-up, in the next meeting's, never in both and never in neither; and next week's
    agenda does not propose a declined pair again."""
    outcomes = []
    for code in ("GM0411", "GM0412"):
        table = new_table(cluster, code)
        published = publish(cluster, table, code, PAIRS)
        meeting_id = published.meeting_id

        def finalize(server: int, table=table, meeting_id=meeting_id) -> httpx.Response:
            path = f"/v1/meetings/{meeting_id}/minutes/final"
            return send(cluster, table.chair, server, "POST", path)

        tasks = [
            lambda i=i, p=p, table=table: decline(cluster, table, p, i)
            for i, p in enumerate(published.proposals)
        ] + [lambda s=s: finalize(s) for s in range(2)]
        *declines, first, second = at_once(tasks)
        assert cluster.journal.failures() == [], cluster.server_log()
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        [final] = [r for r in (first, second) if r.status_code == 200]
        [refused] = [r for r in (first, second) if r.status_code == 409]
        assert refused.json()["code"] == "minutes_final"
        assert [r.status_code for r in declines] == [200] * PAIRS, [r.text for r in declines]
        answered = {r.json()["decisions"][-1]["id"] for r in declines}

        chair = cluster.client(table.chair, 1)
        stored = chair.get(f"/v1/meetings/{meeting_id}/minutes").json()
        next_id = chair.post(f"/v1/tables/{table.id}/meetings", json={"date": iso(7)}).json()["id"]
        follow_ups = chair.get(f"/v1/meetings/{next_id}/minutes").json()
        republished = chair.post(f"/v1/meetings/{next_id}/publish")
        chair.close()
        in_final = [d["id"] for d in final.json()["decisions"]]
        in_next = [d["id"] for d in follow_ups["decisions"]]
        outcomes.append(
            (
                [d["id"] for d in stored["decisions"]] == in_final,
                sorted(in_final + in_next) == sorted(answered),
                republished.status_code,
                pairs_of(cluster, next_id) & declined_pairs(cluster, table.id),
            )
        )
        assert_no_double_allocation(cluster, table.id)
    assert outcomes == [(True, True, 200, set())] * 2


# --- next week's agenda published while this week's declines come in -------------------------


def test_next_weeks_agenda_published_while_declines_come_in_proposes_no_declined_pair(
    cluster: Cluster,
):
    """This week's proposals declined while next week's agenda is published on both servers:
    one publish wins (200, the other 409), the declined pairs are not proposed again (the
    cases and dwellings they free may be, crosswise), and nobody is proposed twice."""
    outcomes = []
    for code in ("GM0413", "GM0414"):
        table = new_table(cluster, code)
        published = publish(cluster, table, code, PAIRS)
        chair = cluster.client(table.chair, 0)
        later = chair.post(f"/v1/tables/{table.id}/meetings", json={"date": iso(7)})
        chair.close()
        assert later.status_code == 201, later.text
        next_id = later.json()["id"]

        def publish_next(server: int, table=table, next_id=next_id) -> httpx.Response:
            return send(cluster, table.chair, server, "POST", f"/v1/meetings/{next_id}/publish")

        tasks = [
            lambda i=i, p=p, table=table: decline(cluster, table, p, i)
            for i, p in enumerate(published.proposals)
        ] + [lambda s=s: publish_next(s) for s in range(2)]
        *declines, first, second = at_once(tasks)
        assert cluster.journal.failures() == [], cluster.server_log()
        assert [r.status_code for r in declines] == [200] * PAIRS, [r.text for r in declines]
        refused = {r.json()["code"] for r in (first, second) if r.status_code != 200}
        published_once = ensure_published(cluster, table, next_id, (first, second))
        outcomes.append(
            (
                published_once,
                refused <= {"already_published", "inputs_changed"},
                pairs_of(cluster, next_id) & declined_pairs(cluster, table.id),
            )
        )
        assert_no_double_allocation(cluster, table.id)
    assert outcomes == [(True, True, set())] * 2


# --- a publish while cases are withdrawn and dwellings come and go ---------------------------


def test_a_publish_racing_withdrawals_and_new_dwellings_proposes_only_what_is_on_offer(
    cluster: Cluster,
):
    """While the chair publishes (on both servers), the care provider withdraws cases and puts
    one back from hold, the corporation offers new dwellings, withdraws one and offers a
    withdrawn one again: whatever the agenda proposes was open and on offer when it was
    written (no withdrawn case or dwelling in an open proposal), each case and dwelling is in
    at most one, and every party's answer is 200/201/204 or a 409 that says why."""
    outcomes = []
    for code in ("GM0415", "GM0416"):
        table = new_table(cluster, code)
        chair = cluster.client(table.chair, 0)
        raised = chair.patch(
            f"/v1/tables/{table.id}", json={"policy": {"max_per_neighbourhood": 3 * PAIRS}}
        )
        chair.close()
        assert raised.status_code == 200, raised.text
        stock(cluster, table, code, PAIRS)
        provider = cluster.client(table.care_provider, 0)
        corporation = cluster.client(table.corporation, 1)
        cases = [c["id"] for c in provider.get("/v1/cases").json()["items"]]
        held = provider.post("/v1/cases", json=case_file(table.id)).json()["id"]
        on_hold = {"status": "on_hold", "status_reason": "other"}
        assert provider.patch(f"/v1/cases/{held}", json=on_hold).status_code == 200
        dwellings = corporation.get("/v1/vacancies").json()["items"]
        gone_body = dwelling(code)
        gone = corporation.post("/v1/vacancies", json=gone_body).json()["id"]
        assert corporation.delete(f"/v1/vacancies/{gone}").status_code == 204
        provider.close()
        corporation.close()
        meeting_id = schedule(cluster, table)

        def publish_it(server: int, table=table, meeting_id=meeting_id) -> httpx.Response:
            return send(cluster, table.chair, server, "POST", f"/v1/meetings/{meeting_id}/publish")

        def withdraw_case(case_id: str, server: int, table=table) -> httpx.Response:
            body = {"status": "withdrawn", "status_reason": "own_solution"}
            return send(
                cluster, table.care_provider, server, "PATCH", f"/v1/cases/{case_id}", json=body
            )

        def back_from_hold(table=table, held=held) -> httpx.Response:
            body = {"status": "ready"}
            return send(cluster, table.care_provider, 1, "PATCH", f"/v1/cases/{held}", json=body)

        def offer(body: dict, server: int, table=table) -> httpx.Response:
            return send(cluster, table.corporation, server, "POST", "/v1/vacancies", json=body)

        def withdraw_dwelling(vacancy_id: str, table=table) -> httpx.Response:
            path = f"/v1/vacancies/{vacancy_id}"
            return send(cluster, table.corporation, 0, "DELETE", path)

        tasks = [
            partial(publish_it, 0),
            partial(publish_it, 1),
            partial(withdraw_case, cases[0], 0),
            partial(withdraw_case, cases[1], 1),
            back_from_hold,
            partial(offer, dwelling(code), 0),
            partial(offer, dwelling(code), 1),
            partial(offer, gone_body, 0),
            partial(withdraw_dwelling, dwellings[0]["id"]),
        ]
        published_a, published_b, *writes = at_once(tasks)
        assert cluster.journal.failures() == [], cluster.server_log()
        for response in writes:
            assert response.status_code in (200, 201, 204), response.text
        refused = {r.json()["code"] for r in (published_a, published_b) if r.status_code != 200}
        assert refused <= {"already_published", "inputs_changed"}, refused
        published_once = ensure_published(cluster, table, meeting_id, (published_a, published_b))
        with cluster.engine.connect() as connection:
            stale = connection.execute(
                text(
                    "SELECT p.id, c.status, v.status FROM proposals p "
                    "JOIN cases c ON c.id = p.case_id JOIN vacancies v ON v.id = p.vacancy_id "
                    "WHERE p.meeting_id = :m AND p.status = 'proposed' AND "
                    "(c.status <> 'proposed' OR v.status <> 'proposed')"
                ),
                {"m": meeting_id},
            ).all()
        outcomes.append((published_once, stale))
        assert_no_double_allocation(cluster, table.id)
    assert outcomes == [(True, [])] * 2


# --- a dwelling withdrawn while the publish that proposes it writes --------------------------


def test_a_dwelling_withdrawn_while_the_agenda_proposes_it_is_withdrawn_and_its_case_freed(
    cluster: Cluster,
):
    """The corporation withdraws a dwelling on one server while a publish on the other is
    writing the proposal for it (the publish waits for the dwelling's row, held here, and the
    withdrawal waits behind the publish). The withdrawal read no open proposal of the dwelling
    before the publish committed one: it still withdraws the dwelling (204) and ends that
    proposal, freeing the case, as it does for a proposal made earlier. It answered 409
    `changed_concurrently` without `Retry-After`, which a client takes as final, for a race
    the server can settle by running the request again."""
    table = new_table(cluster, "GM0439")
    stock(cluster, table, "GM0439", 1)
    corporation = cluster.client(table.corporation, 1)
    [offered] = corporation.get("/v1/vacancies").json()["items"]
    corporation.close()
    meeting_id = schedule(cluster, table)
    answers: dict[str, httpx.Response] = {}
    publish_it = publishing(cluster, table, meeting_id, answers)

    def withdraw() -> None:
        path = f"/v1/vacancies/{offered['id']}"
        answers["withdraw"] = send(cluster, table.corporation, 1, "DELETE", path)

    with Session(cluster.engine) as holder:
        holder.execute(
            text("SELECT id FROM vacancies WHERE id = :v FOR UPDATE"), {"v": offered["id"]}
        )
        threads = [threading.Thread(target=publish_it), threading.Thread(target=withdraw)]
        for waiting, thread in enumerate(threads, start=1):
            thread.start()
            wait_until_sessions_wait_for_locks(holder, thread, waiting)
        holder.commit()
    for thread in threads:
        thread.join(timeout=120)

    assert cluster.journal.failures() == [], cluster.server_log()
    assert answers["publish"].status_code == 200, answers["publish"].text
    assert answers["withdraw"].status_code == 204, answers["withdraw"].text
    chair = cluster.client(table.chair, 0)
    [proposal] = chair.get(
        f"/v1/tables/{table.id}/proposals", params={"meetingId": meeting_id}
    ).json()["items"]
    case = chair.get(f"/v1/cases/{proposal['case_id']}").json()
    chair.close()
    assert (proposal["vacancy_id"], proposal["status"]) == (offered["id"], "withdrawn")
    assert case["status"] == "ready"
    assert_no_double_allocation(cluster, table.id)


# --- If-Match on the minutes while a decision comes in ---------------------------------------


def test_minutes_marked_final_with_the_etag_they_were_read_with_hold_no_later_decision(
    cluster: Cluster,
):
    """The chair marks the minutes final with the ETag they were read with, while a decline
    is recorded on the other server after the ETag was checked but before the minutes are
    stored (the meeting's row is held meanwhile, as a publish or another marking holds it):
    412, as for a decline recorded before the request. Frozen, the minutes would hold a
    decision the chair had not read, which `If-Match` is there to prevent."""
    table = new_table(cluster, "GM0418")
    published = publish(cluster, table, "GM0418", 1)
    [proposal] = published.proposals
    path = f"/v1/meetings/{published.meeting_id}/minutes"
    read = send(cluster, table.chair, 0, "GET", path)
    assert read.json()["decisions"] == []
    answers: dict[str, httpx.Response] = {}

    def finalize() -> None:
        headers = {"If-Match": read.headers["ETag"]}
        answers["final"] = send(cluster, table.chair, 0, "POST", f"{path}/final", headers=headers)

    with Session(cluster.engine) as holder:
        holder.execute(
            text("SELECT id FROM meetings WHERE id = :m FOR UPDATE"),
            {"m": published.meeting_id},
        )
        writer = threading.Thread(target=finalize)
        writer.start()
        wait_until_a_session_waits_for_a_lock(holder, writer)
        answers["decline"] = decline(cluster, table, proposal, 1)
        holder.commit()
    writer.join(timeout=120)

    assert cluster.journal.failures() == [], cluster.server_log()
    assert answers["decline"].status_code == 200, answers["decline"].text
    final = answers["final"]
    assert final.status_code == 412, final.json()["decisions"]
    assert final.headers["content-type"].startswith("application/problem+json")
    now = send(cluster, table.chair, 1, "GET", path).json()
    assert [d["decision"] for d in now["decisions"]] == ["corporation_decline"]
    assert now["final"] is False


# --- one decline retried with its Idempotency-Key on both servers -----------------------------


def test_a_decline_sent_to_both_servers_with_one_key_is_recorded_once(cluster: Cluster):
    """A client that lost the answer sends its decline again, with the same `Idempotency-Key`,
    to the other server while the first is still running (twice each), as next week's agenda
    is published: one decision is recorded and every answer is it (200), the case is free once,
    and the new agenda does not propose the declined pair."""
    table = new_table(cluster, "GM0419")
    published = publish(cluster, table, "GM0419", PAIRS)
    chair = cluster.client(table.chair, 0)
    later = chair.post(f"/v1/tables/{table.id}/meetings", json={"date": iso(7)})
    chair.close()
    assert later.status_code == 201, later.text
    next_id = later.json()["id"]
    tasks: list[Any] = []
    for index, proposal in enumerate(published.proposals):
        party, body = DECLINES[index % 2]
        path = f"/v1/proposals/{proposal['id']}/decisions"
        key = {"Idempotency-Key": f"decline-{proposal['id']}"}
        tasks += [
            partial(send, cluster, getattr(table, party), s, "POST", path, json=body, headers=key)
            for s in range(4)
        ]
    tasks.append(partial(send, cluster, table.chair, 1, "POST", f"/v1/meetings/{next_id}/publish"))
    *answers, publication = at_once(tasks)

    assert cluster.journal.failures() == [], cluster.server_log()
    assert ensure_published(cluster, table, next_id, [publication])
    assert [r.status_code for r in answers] == [200] * len(answers), [r.text for r in answers]
    with cluster.engine.connect() as connection:
        recorded = Counter(
            str(row[0])
            for row in connection.execute(
                text(
                    "SELECT d.proposal_id FROM proposal_decisions d JOIN proposals p "
                    "ON p.id = d.proposal_id WHERE p.meeting_id = :m"
                ),
                {"m": published.meeting_id},
            )
        )
    assert recorded == Counter({p["id"]: 1 for p in published.proposals})
    for start in range(0, len(answers), 4):
        ids = {r.json()["decisions"][-1]["id"] for r in answers[start : start + 4]}
        assert len(ids) == 1, ids
    assert pairs_of(cluster, next_id) & declined_pairs(cluster, table.id) == set()
    assert_no_double_allocation(cluster, table.id)


# --- a case edited while a publish writes its proposals -------------------------------------


def test_a_case_edited_while_the_agenda_is_written_shows_as_changed_since_publication(
    cluster: Cluster,
):
    """The agenda reads two cases for one dwelling and proposes the one waiting longest; while
    the publish waits for that case's lock, the care provider edits the other case on the
    other server. The agenda was computed on the other case as it was before the edit, so its
    `changes` list it as `updated` (the version it was computed on, then the edited one): the
    frozen snapshot must not take the edited version for the one it read, which hid the edit."""
    table = new_table(cluster, "GM0417")
    provider = cluster.client(table.care_provider, 0)
    first = provider.post("/v1/cases", json=case_file(table.id, ready_since=iso(-300))).json()
    other = provider.post("/v1/cases", json=case_file(table.id, ready_since=iso(-100))).json()
    provider.close()
    corporation = cluster.client(table.corporation, 1)
    assert corporation.post("/v1/vacancies", json=dwelling("GM0417")).status_code == 201
    corporation.close()
    meeting_id = schedule(cluster, table)
    answers: dict[str, httpx.Response] = {}
    publish_it = publishing(cluster, table, meeting_id, answers)

    with Session(cluster.engine) as holder:
        holder.execute(text("SELECT id FROM cases WHERE id = :c FOR UPDATE"), {"c": first["id"]})
        writer = threading.Thread(target=publish_it)
        writer.start()
        wait_until_a_session_waits_for_a_lock(holder, writer)
        answers["edit"] = send(
            cluster,
            table.care_provider,
            1,
            "PATCH",
            f"/v1/cases/{other['id']}",
            json={"income": {"net_monthly": "1234.00"}},
        )
        holder.commit()
    writer.join(timeout=120)

    assert cluster.journal.failures() == [], cluster.server_log()
    assert answers["edit"].status_code == 200, answers["edit"].text
    assert answers["publish"].status_code == 200, answers["publish"].text
    chair = cluster.client(table.chair, 1)
    agenda = chair.get(f"/v1/meetings/{meeting_id}/agenda").json()
    chair.close()
    assert [(p["case_id"]) for p in agenda["proposals"]] == [first["id"]]
    updated = [
        (c["id"], c["version_then"], c["version_now"])
        for c in agenda["changes"]
        if c["change"] == "updated"
    ]
    assert updated == [(other["id"], other["version"], answers["edit"].json()["version"])]
