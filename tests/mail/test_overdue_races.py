"""An action closed or moved while a mail worker (another process) queues its overdue notice:
the notice is not left waiting for the old date, on PostgreSQL as on SQLite."""

import threading
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.mail import service as mail_service
from app.mail.models import MailMessage, MailStatus
from tests.clock import day, iso
from tests.locks import wait_until_a_session_waits_for_a_lock
from tests.mail.conftest import make_region, person


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

        insert_once = mail_service._insert_once
        changing = threading.Thread(target=change_it)

        def meanwhile_changed(session: Any, rows: list[dict[str, Any]]) -> int:
            # The sweep has read what is due; the owner changes the action now.
            changing.start()
            if mailroom.main.dialect.name == "postgresql":
                wait_until_a_session_waits_for_a_lock(mailroom.main, changing)
            return insert_once(session, rows)

        monkeypatch.setattr(mail_service, "_insert_once", meanwhile_changed)
        with mailroom.transaction() as session:
            mail_service.queue_due_notices(session)
        changing.join(timeout=120)
        monkeypatch.setattr(mail_service, "_insert_once", insert_once)

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
