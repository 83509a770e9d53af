"""An overdue action's notice says the action is still open: one closed or moved before the
notice went out (a mail server that was down, say) is not sent."""

import pytest
from sqlmodel import Session, select

from app.mail import service as mail_service
from app.mail.models import MailMessage, MailStatus
from tests.clock import day, iso
from tests.mail.conftest import person


def _overdue_and_mailed(client, region, session: Session):  # type: ignore[no-untyped-def]
    """The chair's action for the care provider, due two days ago, and its overdue notice
    queued for a person of the provider: the creation's answer."""
    person(client, region.care_provider)
    due = {"owner_organisation_id": region.care_provider.id, "due_date": iso(-2)}
    url = f"/v1/tables/{region.table_id}/actions"
    made = client.post(url, json={"kind": "other", **due}, headers=region.chair.headers)
    assert made.status_code == 201, made.text
    assert mail_service.queue_due_notices(session) == 1
    return made


@pytest.mark.parametrize(
    "change", [{"status": "done"}, {"status": "cancelled"}, {"due_date": iso(5)}]
)
def test_an_overdue_notice_is_not_sent_for_an_action_closed_or_moved_since(
    client, region, session: Session, change
):
    made = _overdue_and_mailed(client, region, session)
    action = made.json()

    updated = client.patch(
        f"/v1/actions/{action['id']}",
        json=change,
        headers={**region.care_provider.headers, "If-Match": made.headers["ETag"]},
    )
    assert updated.status_code == 200, updated.text

    [row] = session.exec(select(MailMessage).where(MailMessage.kind == "action_overdue")).all()
    assert row.status == MailStatus.expired.value


@pytest.mark.parametrize("first", ["sent", "still waiting"])
def test_an_action_given_a_later_date_is_mailed_overdue_again_once_that_date_passes(
    client, region, session: Session, first
):
    made = _overdue_and_mailed(client, region, session)
    action = made.json()
    if first == "sent":
        [row] = session.exec(select(MailMessage).where(MailMessage.kind == "action_overdue")).all()
        row.status = MailStatus.sent.value
        session.add(row)
        session.flush()

    moved = client.patch(
        f"/v1/actions/{action['id']}",
        json={"due_date": iso(1)},
        headers={**region.care_provider.headers, "If-Match": made.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    # Not before the new date has passed, then once.
    assert mail_service.queue_due_notices(session, day=day(1)) == 0
    assert mail_service.queue_due_notices(session, day=day(3)) == 1
    assert mail_service.queue_due_notices(session, day=day(4)) == 0

    waiting = session.exec(
        select(MailMessage).where(
            MailMessage.kind == "action_overdue", MailMessage.status == MailStatus.pending.value
        )
    ).all()
    assert [row.data["due_date"] for row in waiting] == [iso(1)]
