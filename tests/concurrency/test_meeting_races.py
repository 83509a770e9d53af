"""Meetings, proposals and case edits raced by clients of two servers on one database: no
server error, no double allocation, no lost acknowledged write, every webhook event once."""

import time
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from tests.clock import iso
from tests.concurrency.conftest import (
    Cluster,
    Table,
    at_once,
    case_file,
    dwelling,
    new_table,
)
from tests.webhooks.conftest import Receiver, wait_for

pytestmark = pytest.mark.xdist_group("two_servers")


@dataclass
class Published:
    table: Table
    meeting_id: str
    proposals: list[dict]  # as the chair lists them


def stock(cluster: Cluster, table: Table, code: str, pairs: int, **dated: str) -> None:
    """`pairs` ready cases and as many dwellings, each in a complex of its own (`dated`: their
    `available_from` and `respond_before` if not `dwelling`'s)."""
    provider = cluster.client(table.care_provider, 0)
    corporation = cluster.client(table.corporation, 1)
    for _ in range(pairs):
        assert provider.post("/v1/cases", json=case_file(table.id)).status_code == 201
    items = [dwelling(code, **dated) for _ in range(pairs)]
    assert corporation.post("/v1/vacancies/batch", json={"items": items}).status_code == 200
    provider.close()
    corporation.close()


def schedule(cluster: Cluster, table: Table) -> str:
    chair = cluster.client(table.chair, 0)
    # Today: decisions are taken from the meeting's day on (409 meeting_not_held before it).
    meeting = chair.post(f"/v1/tables/{table.id}/meetings", json={"date": iso(0)})
    assert meeting.status_code == 201, meeting.text
    chair.close()
    return meeting.json()["id"]


def publish(cluster: Cluster, table: Table, code: str, pairs: int, **dated: str) -> Published:
    """Stock (`dated` as there) and publish a meeting that proposes all `pairs`: the dwellings
    share one neighbourhood, so the table's cap per neighbourhood is raised to let every pair
    in."""
    chair = cluster.client(table.chair, 0)
    policy = {"policy": {"max_per_neighbourhood": pairs}}
    raised = chair.patch(f"/v1/tables/{table.id}", json=policy)
    assert raised.status_code == 200, raised.text
    chair.close()
    stock(cluster, table, code, pairs, **dated)
    meeting_id = schedule(cluster, table)
    chair = cluster.client(table.chair, 1)
    published = chair.post(f"/v1/meetings/{meeting_id}/publish")
    assert published.status_code == 200, published.text
    listed = chair.get(f"/v1/tables/{table.id}/proposals", params={"meetingId": meeting_id})
    chair.close()
    proposals = listed.json()["items"]
    assert len(proposals) == pairs
    return Published(table, meeting_id, proposals)


def subscribe(cluster: Cluster, table: Table, org_attr: str, receiver: Receiver, events: list):
    api = cluster.client(getattr(table, org_attr), 0)
    created = api.post("/v1/webhooks", json={"url": receiver.url, "events": events})
    api.close()
    assert created.status_code == 201, created.text
    return created.json()["id"]


def open_proposals_per(cluster: Cluster, column: str, table_id: str) -> Counter[str]:
    """How many open proposals each case (or dwelling) of the table is in."""
    with cluster.engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT {column} FROM proposals WHERE table_id = :table AND status IN "
                "('proposed', 'nominated', 'accepted', 'viewing_planned', 'tenancy_signed')"
            ),
            {"table": table_id},
        )
        return Counter(str(row[0]) for row in rows)


def delivered_events(cluster: Cluster, endpoint_id: str, expected: int) -> set[str]:
    """The event ids of the endpoint's deliveries, once there are `expected` and all of them
    are delivered."""

    def settled() -> set[str] | None:
        with cluster.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT event_id, status FROM webhook_deliveries WHERE endpoint_id = :e"),
                {"e": endpoint_id},
            ).all()
        if len(rows) < expected or any(status != "delivered" for _, status in rows):
            return None
        return {str(event_id) for event_id, _ in rows}

    return wait_for(settled, timeout=60, what=f"{expected} webhook deliveries")


# --- decisions racing holds and withdrawals --------------------------------------------------

RACED_PAIRS = 4
KINDS = ("decision", "hold", "withdraw")


def race(cluster: Cluster, published: Published, kinds: tuple[str, ...]) -> list:
    """For every proposal at once, each of `kinds`: a `decision` (the chair nominates, or the
    care provider declines for the client), the care provider putting the case on `hold`, the
    corporation withdrawing the dwelling (`withdraw`). Returns (kind, proposal, response)."""
    table = published.table
    tasks = []
    for index, proposal in enumerate(published.proposals):
        pid, case_id, vacancy_id = proposal["id"], proposal["case_id"], proposal["vacancy_id"]
        if index % 2:
            decider, decision = table.chair, {"decision": "nominate"}
        else:
            decider, decision = (
                table.care_provider,
                {
                    "decision": "client_decline",
                    "reason": "location",
                },
            )

        def decide(org=decider, body=decision, pid=pid, server=index) -> tuple:
            api = cluster.client(org, server)
            response = api.post(f"/v1/proposals/{pid}/decisions", json=body)
            api.close()
            return "decision", pid, response

        def hold(case_id=case_id, pid=pid, server=index + 1) -> tuple:
            api = cluster.client(table.care_provider, server)
            response = api.patch(
                f"/v1/cases/{case_id}", json={"status": "on_hold", "status_reason": "other"}
            )
            api.close()
            return "hold", pid, response

        def withdraw(vacancy_id=vacancy_id, pid=pid, server=index) -> tuple:
            api = cluster.client(table.corporation, server)
            response = api.delete(f"/v1/vacancies/{vacancy_id}")
            api.close()
            return "withdraw", pid, response

        chosen = zip(KINDS, (decide, hold, withdraw), strict=True)
        tasks += [task for kind, task in chosen if kind in kinds]
    return at_once(tasks)


def test_decisions_racing_holds_and_withdrawals_answer_no_server_error(cluster: Cluster, receivers):
    table = new_table(cluster, "GM0034")
    chair_hook, provider_hook = receivers(), receivers()
    events = ["agenda.published", "proposal.decided"]
    chair_endpoint = subscribe(cluster, table, "chair", chair_hook, events)
    provider_endpoint = subscribe(cluster, table, "care_provider", provider_hook, events)
    published = publish(cluster, table, "GM0034", RACED_PAIRS)

    results = race(cluster, published, KINDS)

    assert cluster.journal.failures() == [], cluster.server_log()
    expected = {"decision": {200, 409}, "hold": {200}, "withdraw": {204}}
    for kind, _, response in results:
        assert response.status_code in expected[kind], (kind, response.text)
    # No case or dwelling is left in an open proposal: all of them were held or withdrawn.
    assert open_proposals_per(cluster, "case_id", table.id) == Counter()
    assert open_proposals_per(cluster, "vacancy_id", table.id) == Counter()
    # Every acknowledged decision is on its proposal, and every decision (the closures the
    # holds and withdrawals made too) notified once to each endpoint (as the publication was).
    chair = cluster.client(table.chair, 0)
    recorded = {p["id"]: chair.get(f"/v1/proposals/{p['id']}").json() for p in published.proposals}
    chair.close()
    for kind, pid, response in results:
        if kind == "decision" and response.status_code == 200:
            taken = response.json()["decisions"][-1]["decision"]
            assert taken in [d["decision"] for d in recorded[pid]["decisions"]]
    decided = sum(len(p["decisions"]) for p in recorded.values())
    for endpoint, hook in ((chair_endpoint, chair_hook), (provider_endpoint, provider_hook)):
        delivered = delivered_events(cluster, endpoint, 1 + decided)
        assert len(delivered) == 1 + decided
        accepted = hook.accepted()
        assert set(accepted) == delivered
        assert set(accepted.values()) == {1}


def test_a_hold_racing_a_withdrawal_is_never_lost(cluster: Cluster):
    """The care provider's acknowledged hold survives the corporation's withdrawal of the
    dwelling, which frees the case at the same time (today it may write the case back)."""
    lost = []
    for code in ("GM0037", "GM0047"):
        published = publish(cluster, new_table(cluster, code), code, 2 * RACED_PAIRS)
        results = race(cluster, published, ("hold", "withdraw"))
        provider = cluster.client(published.table.care_provider, 0)
        for kind, _, response in results:
            if kind == "hold" and response.status_code == 200:
                case_id = response.json()["id"]
                if provider.get(f"/v1/cases/{case_id}").json()["status"] != "on_hold":
                    lost.append(case_id)
        provider.close()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert lost == []


# --- publishing one meeting at once ----------------------------------------------------------


def test_concurrent_publishes_of_one_meeting_publish_it_once(cluster: Cluster, receivers):
    outcomes = []
    for code in ("GM0050", "GM0055", "GM0059"):
        table = new_table(cluster, code)
        hook = receivers()
        endpoint = subscribe(cluster, table, "care_provider", hook, ["agenda.published"])
        stock(cluster, table, code, 3)
        meeting_id = schedule(cluster, table)

        def publish_once(server: int, table=table, meeting_id=meeting_id) -> int:
            api = cluster.client(table.chair, server)
            response = api.post(f"/v1/meetings/{meeting_id}/publish")
            api.close()
            return response.status_code

        statuses = sorted(at_once([lambda s=s: publish_once(s) for s in range(4)]))
        cases = open_proposals_per(cluster, "case_id", table.id)
        dwellings = open_proposals_per(cluster, "vacancy_id", table.id)
        events = delivered_events(cluster, endpoint, 1)
        outcomes.append(
            (
                statuses,
                max(cases.values(), default=0),
                max(dwellings.values(), default=0),
                len(events),
                set(hook.accepted().values()),
            )
        )
    assert cluster.journal.failures() == [], cluster.server_log()
    # One publish wins; nobody is allocated twice; the members hear of it once.
    assert outcomes == [([200, 409, 409, 409], 1, 1, 1, {1})] * 3


# --- If-Match on one case --------------------------------------------------------------------


def test_if_match_races_on_one_case_let_exactly_one_writer_win(cluster: Cluster):
    table = new_table(cluster, "GM0060")
    provider = cluster.client(table.care_provider, 0)
    outcomes = []
    for _ in range(4):
        case = provider.post("/v1/cases", json=case_file(table.id)).json()
        etag = provider.get(f"/v1/cases/{case['id']}").headers["ETag"]

        def write(writer: int, case_id=case["id"], etag=etag) -> httpx.Response:
            api = cluster.client(table.care_provider, writer)
            response = api.patch(
                f"/v1/cases/{case_id}",
                json={"income": {"net_monthly": f"{1000 + writer}.00"}},
                headers={"If-Match": etag},
            )
            api.close()
            return response

        responses = at_once([lambda w=w: write(w) for w in range(4)])
        winners = [r.json()["income"]["net_monthly"] for r in responses if r.status_code == 200]
        final = provider.get(f"/v1/cases/{case['id']}").json()
        outcomes.append(
            (
                sorted(r.status_code for r in responses),
                winners == [final["income"]["net_monthly"]],
                final["version"] - case["version"],
            )
        )
        time.sleep(0)  # each round is its own race
    provider.close()
    assert cluster.journal.failures() == [], cluster.server_log()
    assert outcomes == [([200, 412, 412, 412], True, 1)] * 4


# --- scheduling one date twice ---------------------------------------------------------------


def test_a_meeting_scheduled_twice_at_once_names_the_one_that_exists(cluster: Cluster):
    """Every refused creation is a 409 `duplicate_meeting` naming the meeting that won (its id
    and `Location`), as a creation after it is: a chair's client retrying after a lost answer
    can go on with it. The one that lost the race on the unique index was a 409 without."""
    answers = []
    for code in ("GM0061", "GM0062", "GM0063"):
        table = new_table(cluster, code)

        def create(server: int, table=table) -> httpx.Response:
            api = cluster.client(table.chair, server)
            response = api.post(f"/v1/tables/{table.id}/meetings", json={"date": iso(7)})
            api.close()
            return response

        answers.append(at_once([lambda s=s: create(s % 2) for s in range(4)]))
    assert cluster.journal.failures() == [], cluster.server_log()
    for responses in answers:
        assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
        [created] = [r.json()["id"] for r in responses if r.status_code == 201]
        for refused in (r for r in responses if r.status_code == 409):
            assert refused.json()["code"] == "duplicate_meeting"
            assert refused.json()["existing_id"] == created, refused.text
            assert refused.headers["location"] == f"/v1/meetings/{created}"
