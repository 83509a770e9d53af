"""'Overdue' is one rule (`app.actions.models.is_overdue`): the digest before a meeting counts
an action overdue exactly when that meeting's agenda flags it, and the API says so from the
first second of the day after its due date in Europe/Amsterdam, never by a UTC date. Checked
on the clock's edges: the last second of a day and the first of the next, at a new year and on
the weekends the clocks go forward and back."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from app.mail import service as mail_service
from app.mail.compose import subject_and_text
from app.mail.models import MailMessage
from app.timeutil import AMSTERDAM
from tests.api.helpers import plan_meeting
from tests.clock import TODAY
from tests.mail.conftest import person


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _next(make) -> date:  # type: ignore[no-untyped-def]
    """The first such day more than ten days after the suite's TODAY."""
    for year in (TODAY.year, TODAY.year + 1):
        if make(year) > TODAY + timedelta(days=10):
            return make(year)  # type: ignore[no-any-return]
    raise AssertionError("unreachable")


# Meeting days: the digest goes out the day before, across the edge named.
MEETINGS = {
    "new year": _next(lambda y: date(y, 1, 1)),
    "clocks forward": _next(lambda y: _last_sunday(y, 3) + timedelta(days=1)),
    "clocks back": _next(lambda y: _last_sunday(y, 10) + timedelta(days=1)),
}


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=AMSTERDAM)


@pytest.mark.parametrize("edge", sorted(MEETINGS))
def test_the_digest_counts_an_action_overdue_when_the_meetings_agenda_does(
    client, region, session: Session, edge
):
    meeting_day = MEETINGS[edge]
    eve = meeting_day - timedelta(days=1)
    owner = region.care_provider
    person(client, owner)
    url = f"/v1/tables/{region.table_id}/actions"
    with time_machine.travel(_at(meeting_day - timedelta(days=10), 10), tick=True):
        meeting = plan_meeting(client, region, meeting_day.isoformat())
        ids = {}
        for name, due in (("due on the eve", eve), ("due on the day", meeting_day)):
            body = {"kind": "other", "owner_organisation_id": owner.id, "due_date": due.isoformat()}
            made = client.post(url, json=body, headers=region.chair.headers)
            assert made.status_code == 201, made.text
            ids[made.json()["id"]] = name

    def agenda_overdue() -> set[str]:
        agenda = client.get(
            f"/v1/tables/{region.table_id}/agenda",
            params={"date": meeting_day.isoformat()},
            headers=owner.headers,
        )
        assert agenda.status_code == 200, agenda.text
        return {ids[a["id"]] for a in agenda.json()["open_actions"] if a["overdue"]}

    def api_overdue() -> set[str]:
        listed = client.get(url, params={"overdue": "true"}, headers=owner.headers)
        assert listed.status_code == 200, listed.text
        flagged = {
            ids[i]
            for i in ids
            if client.get(f"/v1/actions/{i}", headers=owner.headers).json()["overdue"]
        }
        assert {ids[a["id"]] for a in listed.json()["items"]} == flagged
        return flagged

    # The last second of the eve: the digest is queued (today, by the Amsterdam clock); the
    # action due that day is not late yet, but will be on the meeting's agenda.
    with time_machine.travel(_at(eve, 23, 59, 59), tick=False):
        assert api_overdue() == set()
        assert mail_service.queue_due_notices(session) >= 1
        [digest] = session.exec(select(MailMessage).where(MailMessage.kind == "digest")).all()
        assert digest.data["date"] == meeting_day.isoformat()
        on_the_agenda = agenda_overdue()
        assert on_the_agenda == {"due on the eve"}
        assert (digest.data["open_actions"], digest.data["overdue_actions"]) == (2, 1)
        _, text = subject_and_text(digest.kind, digest.data, "https://tafel.example")
        assert "waarvan op de dag van de vergadering over de termijn: 1." in text
    # The first second of the meeting's day (the day before by UTC): the API says it too.
    with time_machine.travel(_at(meeting_day, 0, 0, 0), tick=False):
        assert api_overdue() == on_the_agenda
        assert agenda_overdue() == on_the_agenda
    # And a digest queued only on the meeting's day (a service stopped the day before) counts
    # the same.
    session.exec(MailMessage.__table__.delete())  # type: ignore[attr-defined]
    with time_machine.travel(_at(meeting_day, 0, 30), tick=False):
        assert mail_service.queue_due_notices(session) >= 1
        [again] = session.exec(select(MailMessage).where(MailMessage.kind == "digest")).all()
        assert again.data["overdue_actions"] == 1
    assert meeting["date"] == meeting_day.isoformat()
