"""A proposal's decisions and a case's status changes list in the order they were taken, also
when two servers take them one after the other within one millisecond (their ids' random bits
are otherwise unordered across processes: CI saw a decline answered with the nomination as its
last decision, the nomination's id having drawn higher bits on the other server)."""

import uuid
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import update

from app.cases.models import CaseTransition
from app.proposals.models import ProposalDecision
from tests.api.test_meetings import (  # noqa: F401  (fixture)
    DATE,
    decide,
    publish,
    published,
    schedule,
)
from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.other_server import another_server


def _as_if_another_server_drew_higher_bits(session, model, id_: str) -> None:
    """Give the row the highest id of its millisecond: what another process could have drawn."""
    old = uuid.UUID(id_)
    higher = uuid.UUID(int=old.int | 0xFFF << 64 | (1 << 62) - 1)
    session.execute(update(model).where(model.id == old).values(id=higher))
    session.flush()


def test_a_decision_after_another_servers_lists_after_it(client, region, session, published):  # noqa: F811
    _, proposal, case, _ = published
    with time_machine.travel(datetime.now(UTC), tick=False):  # all in one millisecond
        _decide_after_another_server(client, region, session, proposal, case)


def _decide_after_another_server(client, region, session, proposal, case) -> None:
    nominated = decide(client, region.chair, proposal["id"], "nominate")
    assert nominated.status_code == 200, nominated.text
    [nomination] = nominated.json()["decisions"]
    _as_if_another_server_drew_higher_bits(session, ProposalDecision, nomination["id"])
    transitions = client.get(f"/v1/cases/{case['id']}/transitions", headers=region.chair.headers)
    _as_if_another_server_drew_higher_bits(
        session, CaseTransition, transitions.json()["items"][-1]["id"]
    )

    declined = decide(client, region.care_provider, proposal["id"], "client_decline", "location")

    assert declined.status_code == 200, declined.text
    assert [d["decision"] for d in declined.json()["decisions"]] == ["nominate", "client_decline"]
    history = client.get(f"/v1/cases/{case['id']}/transitions", headers=region.chair.headers)
    assert [t["to_status"] for t in history.json()["items"]][-2:] == ["nominated", "ready"]


def test_a_decision_on_a_server_whose_clock_is_behind_lists_after_the_one_before(
    client,
    region,
    published,  # noqa: F811
):
    """The minutes and the case's timeline list by moment: a decline taken on a server whose
    clock is a second behind the one that nominated came before the nomination it declines."""
    _, proposal, case, _ = published
    ahead = datetime.now(UTC)
    with time_machine.travel(ahead, tick=False):
        assert decide(client, region.chair, proposal["id"], "nominate").status_code == 200
    with time_machine.travel(ahead - timedelta(seconds=1), tick=False):
        declined = decide(
            client, region.care_provider, proposal["id"], "client_decline", "location"
        )
    assert declined.status_code == 200, declined.text

    decisions = declined.json()["decisions"]
    assert [d["decision"] for d in decisions] == ["nominate", "client_decline"]
    assert decisions[0]["at"] < decisions[1]["at"]
    timeline = client.get(f"/v1/cases/{case['id']}/timeline", headers=region.chair.headers)
    assert timeline.status_code == 200, timeline.text
    kinds = [
        (e["kind"], e.get("decision") or e.get("to_status"))
        for e in timeline.json()["items"]
        if e["kind"] in ("decision", "status_changed")
    ]
    assert kinds.index(("decision", "nominate")) < kinds.index(("decision", "client_decline"))
    back_to_ready = len(kinds) - 1 - kinds[::-1].index(("status_changed", "ready"))
    assert kinds.index(("status_changed", "nominated")) < back_to_ready


def _kinds(client, org, path: str) -> list[tuple[str, str]]:
    timeline = client.get(path, headers=org.headers)
    assert timeline.status_code == 200, timeline.text
    items = timeline.json()["items"]
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    return [(e["kind"], e.get("decision") or e.get("to_status")) for e in items]


def test_a_publication_on_a_server_whose_clock_is_behind_lists_after_the_case_change_before(
    client, region
):
    """A case registered (ready) on a server whose clock is a second ahead, then proposed by a
    publication on the other server: the publication's status change took that server's
    moment and an id of its millisecond, with no floor at the case's last change as every
    other status change has, so the case's history and timeline listed it proposed before it
    was registered."""
    ahead = datetime.now(UTC)
    with time_machine.travel(ahead, tick=False):
        case = create_case(client, region.care_provider, region.table_id)
        create_vacancy(client, region.corporation, available_from=DATE)
        meeting = schedule(client, region)
    with time_machine.travel(ahead - timedelta(seconds=1), tick=False), another_server():
        publish(client, region, meeting)

    path = f"/v1/cases/{case['id']}"
    history = client.get(f"{path}/transitions", headers=region.chair.headers).json()["items"]
    assert [t["to_status"] for t in history] == ["ready", "proposed"]
    assert history[0]["at"] < history[1]["at"]
    kinds = _kinds(client, region.care_provider, f"{path}/timeline")
    assert kinds == [
        ("status_changed", "ready"),
        ("status_changed", "proposed"),
        ("proposed", "proposed"),
    ]


def test_a_dwelling_proposed_again_on_a_server_whose_clock_is_behind_lists_after_the_decline(
    client,
    region,
    published,  # noqa: F811
):
    """The corporation declines a proposal on a server whose clock is a second ahead; the
    next week's publication on the other server proposes the dwelling to another case: the
    dwelling's timeline listed the new proposal before the decline that freed the dwelling."""
    _, proposal, _, vacancy = published
    create_case(client, region.care_provider, region.table_id)
    ahead = datetime.now(UTC) + timedelta(seconds=2)
    with time_machine.travel(ahead, tick=False):
        declined = decide(
            client, region.corporation, proposal["id"], "corporation_decline", "other"
        )
        assert declined.status_code == 200, declined.text
    with time_machine.travel(ahead - timedelta(seconds=1), tick=False), another_server():
        publish(client, region, schedule(client, region, iso(-7)))

    kinds = _kinds(client, region.corporation, f"/v1/vacancies/{vacancy['id']}/timeline")
    assert kinds == [
        ("proposed", "proposed"),
        ("decision", "corporation_decline"),
        ("proposed", "proposed"),
    ]
