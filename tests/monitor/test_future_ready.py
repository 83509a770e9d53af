"""A case counts from its ready date once that has come: no answer counts one ready after today.

The tester's case: on 8 December a care provider's monitor by quarter (its answers run to 31
December, a calendar year) said K4 "Wachtlijst eind 39" where the chair's (its default range stops
at today) said 36: three cases ready only on 20 December were counted as new ready and waiting.
The chair asking up to 31 December got the same 39.
"""

from datetime import date, datetime, time, timedelta

import time_machine

from app.timeutil import AMSTERDAM
from tests.clock import TODAY
from tests.monitor.history import figures, ready_case

ON = date(TODAY.year, 12, 8)  # a day in Q4 with days of the quarter still to come
FUTURE = date(TODAY.year, 12, 20)


def _q4(document):
    return next(r for r in document["rows"] if (r["group"], r["period"]) == (None, f"{ON.year}-Q4"))


def test_a_case_ready_after_today_is_in_no_answer(client, region, limits):
    with time_machine.travel(datetime.combine(ON, time(10), tzinfo=AMSTERDAM), tick=True):
        table = region.table_id
        for k in range(30):  # others' cases waiting since the spring and the autumn
            ready = ON - timedelta(days=200 - 6 * k)
            ready_case(client, region.other_care_provider, table, ready.isoformat())
        for _ in range(3):
            ready_case(client, region.other_care_provider, table, FUTURE.isoformat())
        ready_case(client, region.care_provider, table, FUTURE.isoformat())
        ready_in_q4 = sum(
            ON - timedelta(days=200 - 6 * k) >= date(ON.year, 10, 1) for k in range(30)
        )

        chair = _q4(figures(client, region.chair, table, period="quarter"))
        chair_to_the_end = _q4(
            figures(client, region.chair, table, period="quarter", end=f"{ON.year}-12-31")
        )
        provider = _q4(figures(client, region.care_provider, table, period="quarter"))

    assert (chair["backlog_end"], chair["new_ready"]) == (30, ready_in_q4)
    assert (chair_to_the_end["backlog_end"], chair_to_the_end["new_ready"]) == (30, ready_in_q4)
    assert provider["backlog_end"] == 30
    assert provider["new_ready"] in (ready_in_q4, None)  # None: hidden, others' few
