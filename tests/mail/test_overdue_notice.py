"""An overdue action's notice says the action is still open: one closed or moved before the
notice went out (a mail server that was down, say) is not sent."""

import pytest
from sqlmodel import Session, select

from app.mail import service as mail_service
from app.mail.models import MailMessage, MailStatus
from tests.clock import iso
from tests.mail.conftest import person


@pytest.mark.parametrize(
    "change", [{"status": "done"}, {"status": "cancelled"}, {"due_date": iso(5)}]
)
def test_an_overdue_notice_is_not_sent_for_an_action_closed_or_moved_since(
    client, region, session: Session, change
):
    person(client, region.care_provider)
    due = {"owner_organisation_id": region.care_provider.id, "due_date": iso(-2)}
    url = f"/v1/tables/{region.table_id}/actions"
    made = client.post(url, json={"kind": "other", **due}, headers=region.chair.headers)
    assert made.status_code == 201, made.text
    action = made.json()
    assert mail_service.queue_due_notices(session) == 1

    updated = client.patch(
        f"/v1/actions/{action['id']}",
        json=change,
        headers={**region.care_provider.headers, "If-Match": made.headers["ETag"]},
    )
    assert updated.status_code == 200, updated.text

    key = f"action.overdue:{action['id']}"
    [row] = session.exec(select(MailMessage).where(MailMessage.dedupe_key == key)).all()
    assert row.status == MailStatus.expired.value
