"""A stalled proposal's notice says the proposal waits for someone: one decided before the
notice went out (a mail server that was down, say) is not sent."""

from datetime import timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from app.mail.compose import subject_and_text
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


@pytest.mark.parametrize(
    ("days", "limit", "said"),
    [
        (1, 0, "staat al 1 dag op 'Voorgedragen'; de tafel spreekt af dat dit binnen 0 dagen"),
        (2, 1, "staat al 2 dagen op 'Voorgedragen'; de tafel spreekt af dat dit binnen 1 dag "),
        (
            15,
            14,
            "staat al 15 dagen op 'Voorgedragen'; de tafel spreekt af dat dit binnen 14 dagen",
        ),
    ],
)
def test_a_stalled_notice_says_one_dag_and_more_dagen(days, limit, said):
    data = {
        "proposal_id": "0193a1b2-c3d4-7e5f-8a19-90bd1990ef12",
        "status": "nominated",
        "days_in_status": days,
        "limit_days": limit,
        "path": "/voorstellen/0193a1b2-c3d4-7e5f-8a19-90bd1990ef12",
        "table": "Uitstroomtafel Utrecht",
    }
    _, text = subject_and_text(NoticeKind.proposal_stalled, data, "https://tafel.example")
    assert said in text
