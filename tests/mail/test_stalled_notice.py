"""A stalled proposal's notice says the proposal waits for someone: one decided before the
notice went out (a mail server that was down, say) is not sent."""

from datetime import timedelta

import time_machine
from sqlmodel import Session, select

from app.mail.models import MailMessage, MailStatus, NoticeKind
from tests.api.test_open_proposals import agenda, two_open_proposals
from tests.clock import START
from tests.mail.conftest import person


def stalled_notices(session: Session) -> list[MailMessage]:
    kind = NoticeKind.proposal_stalled.value
    return list(session.exec(select(MailMessage).where(MailMessage.kind == kind)))


def test_a_stalled_notice_is_not_sent_for_a_proposal_decided_since(client, region, session):
    person(client, region.chair)  # the chair's people hear of every stall
    _, next_week, proposals = two_open_proposals(client, region)
    decided, waiting = proposals[0]["id"], proposals[1]["id"]
    with time_machine.travel(START + timedelta(days=8), tick=True):
        agenda(client, region.chair, next_week)  # both stall: their notices are queued
        assert {m.data["proposal_id"] for m in stalled_notices(session)} == {decided, waiting}
        answer = client.post(
            f"/v1/proposals/{decided}/decisions",
            json={"decision": "nominate"},
            headers=region.chair.headers,
        )
        assert answer.status_code == 200, answer.text

    status = {m.data["proposal_id"]: m.status for m in stalled_notices(session)}
    assert status == {decided: MailStatus.expired.value, waiting: MailStatus.pending.value}
