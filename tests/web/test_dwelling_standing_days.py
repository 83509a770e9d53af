"""A corporation's dwelling page says whether some case fits only on a meeting date.

The agenda gives a party a table's matches on its meeting dates only: asked day after day, the
answers showed when a case starts or stops fitting (a birthday, a registration period
completed, a hold lifted). The dwelling page evaluated the next meeting's date, and with none
planned today's: a corporation's dwelling for clients of 30 and over read "Geen passend
dossier" one day and "Er zijn passende dossiers" the next, the day another provider's client
turned 30.
"""

from datetime import datetime, time, timedelta

import time_machine

from app.timeutil import AMSTERDAM
from tests.clock import TODAY, iso
from tests.conftest import create_case, create_vacancy
from tests.monitor.history import ensure_limits
from tests.web.conftest import make_person, signed_in

FIT_LINES = ("Geen passend dossier", "Er zijn passende dossiers")


def test_without_a_meeting_a_corporation_reads_no_fit_of_its_dwelling_day_by_day(
    app, client, region
):
    ensure_limits(client)
    # Born in the month after this one: with only the month known, the age goes up on its last
    # day (the youngest reading, app.matching.ages).
    born_in = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
    turns_30 = (born_in + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    create_case(
        client,
        region.other_care_provider,
        region.table_id,
        birth_year=born_in.year - 30,
        birth_month=born_in.month,
        ready_since=iso(-200),
    )
    home = create_vacancy(
        client, region.corporation, min_age=30, available_from=iso(-30), respond_before=iso(90)
    )
    people = make_person(client, region.chair), make_person(client, region.corporation)
    pages = {}
    for day in (turns_30 - timedelta(days=1), turns_30):
        with time_machine.travel(datetime.combine(day, time(12), tzinfo=AMSTERDAM), tick=True):
            chair, browser = (signed_in(app, person) for person in people)
            whole = chair.get(f"/woningen/{home['id']}")
            page = browser.get(f"/woningen/{home['id']}")
        assert whole.status_code == page.status_code == 200, page.text
        assert "Nog geen vergadering" not in whole.text
        pages[day] = (whole.text, page.text)
    (chair_before, before), (chair_after, after) = pages.values()
    assert "Geen enkele dossier past" in chair_before and "1 passend dossier" in chair_after
    for text in (before, after):
        assert not any(line in text for line in FIT_LINES), text
        assert "ziet u op de datum van een vergadering" in text
