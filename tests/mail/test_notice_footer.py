"""What every notice's footer tells its reader about why it came. Every notice is on until the
person turns it off (README, E-mail notices), so most readers never chose one: the footer said
"omdat u meldingen van de uitstroomtafel hebt aangezet" (because you turned notices on), which
such a reader never did (found reading the demo's mails as a new user)."""

import pytest

from app.mail.compose import subject_and_text
from app.mail.models import NoticeKind

DATA = {
    "path": "/tafels/0193a1b2-c3d4-7e5f-8a19-90bd1990ef12",
    "table": "Regio Utrecht",
    "date": "2026-12-14",
    "action_kind": "request_beschikking",
    "action_id": "0193a1b2-c3d4-7e5f-8a19-90bd1990ef13",
    "due_date": "2026-12-20",
    "status": "nominated",
    "proposal_id": "0193a1b2-c3d4-7e5f-8a19-90bd1990ef14",
    "days_in_status": 15,
    "limit_days": 14,
    "open_actions": 2,
    "overdue_actions": 1,
    "open_proposals": 3,
    "whole_table": True,
}


@pytest.mark.parametrize("kind", [k for k in NoticeKind if k != NoticeKind.account_changed])
def test_the_footer_says_the_notice_is_on_not_that_the_reader_turned_it_on(kind):
    _, text = subject_and_text(kind, DATA, "https://tafel.example")
    footer = text.split("\n--\n", 1)[1]
    assert "aangezet" not in footer
    assert "deze melding voor u aanstaat; meldingen staan aan tot u ze uitzet" in footer
    assert footer.endswith(
        "Kies welke meldingen u krijgt op https://tafel.example/account/meldingen"
    )
