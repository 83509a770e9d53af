"""What a sweep (of a mail worker or the stall sweep, in another process) queues while it
changes: an action closed or moved, an organisation leaving the table, a stalled proposal
decided. No notice is left waiting that no longer holds, on PostgreSQL as on SQLite."""

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlmodel import Session, select

from app.agenda import open_proposals as open_proposals_module
from app.agenda.stall_sweep import StallSweep
from app.mail import service as mail_service
from app.mail.models import MailMessage, MailStatus, NoticeKind
from app.sqltypes import utcnow
from tests.api.helpers import plan_meeting
from tests.api.test_open_proposals import two_open_proposals
from tests.clock import START, day, iso
from tests.conftest import OPERATOR
from tests.locks import takes_the_next_while_it_waits, wait_until_a_session_waits_for_a_lock
from tests.mail.conftest import make_region, person

pytestmark = pytest.mark.usefixtures("no_deadlocks")


def sweep_while(mailroom, monkeypatch, change: Callable[[], None]) -> None:  # type: ignore[no-untyped-def]
    """Run the mail sweep with `change` made in another thread after the sweep read what is
    due and before it inserts the mails; on PostgreSQL the sweep goes on once `change` waits for
    one of its locks."""
    insert_once = mail_service._insert_once
    changing = threading.Thread(target=change)

    def meanwhile(session: Any, rows: list[dict[str, Any]]) -> int:
        changing.start()
        if mailroom.main.dialect.name == "postgresql":
            wait_until_a_session_waits_for_a_lock(session, changing)
        return insert_once(session, rows)

    monkeypatch.setattr(mail_service, "_insert_once", meanwhile)
    with mailroom.transaction() as session:
        mail_service.queue_due_notices(session)
    changing.join(timeout=120)
    monkeypatch.setattr(mail_service, "_insert_once", insert_once)


@pytest.mark.parametrize("change", [{"status": "done"}, {"due_date": iso(5)}])
def test_an_action_closed_or_moved_while_its_overdue_notice_is_queued_is_not_mailed_so(
    mailroom, monkeypatch, change
):
    """The owner closes the action (or gives it a later date) after the sweep read it as open
    and overdue, before the sweep queued the notice: the sweep read the action without a lock,
    so the closing expired no notice yet (none was committed) and the notice went in after it,
    waiting to tell the owner of an overdue action that is done; a moved action's notice named
    the old date and kept the key, so the new date's notice never came. The sweep now holds the
    actions it queues notices for, and the change waits for it (and expires the notice), or is
    skipped by it while the change is under way."""
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.care_provider)
        due = {"owner_organisation_id": region.care_provider.id, "due_date": iso(-2)}
        made = client.post(
            f"/v1/tables/{region.table_id}/actions",
            json={"kind": "other", **due},
            headers=region.chair.headers,
        )
        assert made.status_code == 201, made.text
        answers: list[httpx.Response] = []

        def change_it() -> None:
            answers.append(
                client.patch(
                    f"/v1/actions/{made.json()['id']}",
                    json=change,
                    headers={**region.care_provider.headers, "If-Match": made.headers["ETag"]},
                )
            )

        # The sweep has read what is due; the owner changes the action then.
        sweep_while(mailroom, monkeypatch, change_it)

    assert [answer.status_code for answer in answers] == [200], [a.text for a in answers]
    waiting = [
        m.data["due_date"]
        for m in mailroom.outbox()
        if m.kind == "action_overdue" and m.status == MailStatus.pending.value
    ]
    assert waiting == []
    if "due_date" in change:
        # Once the new date has passed, its notice comes.
        with mailroom.transaction() as session:
            assert mail_service.queue_due_notices(session, day=day(7)) == 1
        with mailroom.transaction() as session:
            rows = session.exec(
                select(MailMessage).where(
                    MailMessage.kind == "action_overdue",
                    MailMessage.status == MailStatus.pending.value,
                )
            ).all()
            assert [m.data["due_date"] for m in rows] == [iso(5)]


def test_a_digest_queued_while_the_organisation_leaves_the_table_is_not_sent_to_it(
    mailroom, monkeypatch
):
    """The operator takes a care provider off the table after the sweep read the table's
    members for the meeting's digest, before it queued the digests: the removal found no digest
    of its people to expire yet (none was committed), and the one queued after it told a
    non-member of the table's meeting and counts. The sweep now holds the membership rows it
    reads; the removal waits for it, then expires the digest."""
    with mailroom.client() as client:
        region = make_region(client)
        _, stays = person(client, region.care_provider)
        _, leaves = person(client, region.other_care_provider)
        plan_meeting(client, region, iso(1))
        table = client.get(f"/v1/tables/{region.table_id}", headers=OPERATOR).json()
        staying = [
            m for m in table["member_organisation_ids"] if m != region.other_care_provider.id
        ]
        answers: list[httpx.Response] = []

        def leave() -> None:
            answers.append(
                client.patch(
                    f"/v1/tables/{region.table_id}",
                    json={"member_organisation_ids": staying},
                    headers=OPERATOR,
                )
            )

        # The sweep has read the members and their people; the care provider leaves then.
        sweep_while(mailroom, monkeypatch, leave)

    assert [answer.status_code for answer in answers] == [200], [a.text for a in answers]
    mailroom.send_until_settled()
    assert [mail["To"] for mail in mailroom.sink.received()] == [stays]
    assert leaves not in {mail["To"] for mail in mailroom.sink.received()}


def test_a_proposal_decided_while_the_stall_sweep_records_its_stall_gets_no_stalled_notice(
    mailroom, monkeypatch
):
    """The chair nominates a stalled proposal after the stall sweep (another process) read it
    as stalled, before it recorded the stall: the decision found no stalled notice to expire
    yet, and the one queued after it told the chair's people the proposal still waited for the
    chair, with `proposal.stalled` for a status it had left. The sweep now holds the stalled
    proposals and reads their status again before it records them: a decision made meanwhile
    is seen, and one that comes later waits for the sweep and then expires the notice."""
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.chair)  # the chair's people hear of every stall
        _, _, proposals = two_open_proposals(client, region)
        decided = proposals[0]["id"]
        answers: list[httpx.Response] = []

        def nominate() -> None:
            answers.append(
                client.post(
                    f"/v1/proposals/{decided}/decisions",
                    json={"decision": "nominate"},
                    headers=region.chair.headers,
                )
            )

        read = open_proposals_module.open_proposals
        deciding = threading.Thread(target=nominate)

        def meanwhile_decided(session: Session, *args: Any) -> list[dict[str, Any]]:
            entries = read(session, *args)
            deciding.start()  # the sweep has read the open proposals; the chair decides now
            if mailroom.main.dialect.name == "postgresql":
                wait_until_a_session_waits_for_a_lock(session, deciding)
            return entries

        with time_machine.travel(START + timedelta(days=8), tick=True):
            monkeypatch.setattr(open_proposals_module, "open_proposals", meanwhile_decided)
            StallSweep(mailroom.engine(), 300).run_once()
            deciding.join(timeout=120)
            monkeypatch.setattr(open_proposals_module, "open_proposals", read)

    assert [answer.status_code for answer in answers] == [200], [a.text for a in answers]
    waiting = {
        m.data["proposal_id"]
        for m in mailroom.outbox()
        if m.kind == "proposal_stalled" and m.status == MailStatus.pending.value
    }
    assert waiting == {proposals[1]["id"]}


def test_two_sweeps_insert_their_notices_in_key_order(mailroom):
    """The mail sweep has no lease: every server process's mail worker runs it. Its rows came
    in the order its reads gave them, and the overdue actions are read in no set order: two
    sweeps queueing the notices of two actions read in opposite orders each inserted one and
    waited for the other's uncommitted row on (person, dedupe key), a deadlock PostgreSQL ends
    by aborting one (found reading the code). The rows now go in (person, key) order: a sweep
    waits for the first key holding none, and the other inserts the second at once."""
    if mailroom.main.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    with mailroom.client() as client:
        region = make_region(client)
        person_id = uuid.UUID(person(client, region.care_provider)[0])
    now = utcnow()
    first, second = sorted(f"action.overdue:{uuid.uuid4()}" for _ in range(2))

    def row(key: str) -> dict[str, Any]:
        data = {"table": "T", "kind": "other"}
        return mail_service._row(
            person_id, NoticeKind.action_overdue, key, data, now, now + timedelta(days=1)
        )

    queued: list[int] = []

    def sweep() -> None:
        with mailroom.transaction() as session:
            queued.append(mail_service._insert_once(session, [row(second), row(first)]))

    with Session(mailroom.main) as holder:
        mail_service._insert_once(holder, [row(first)])
        holder.connection().exec_driver_sql("SET LOCAL lock_timeout = '500ms'")
        took_the_second = takes_the_next_while_it_waits(
            holder,
            threading.Thread(target=sweep),
            lambda s: mail_service._insert_once(s, [row(second)]),
        )

    assert took_the_second, "the sweep held the second key while waiting for the first"
    assert queued == [2]
